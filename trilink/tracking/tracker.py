"""Multi-target tracker of one nation's node: a sans-I/O state machine.

Scans in (any of the node's radars and space-based infrared sensors, in time order),
track events out. Per radar scan:
predict every track to the scan time (IMM-EKF, :mod:`trilink.tracking.imm`), gate with
the chi-square bound, associate by global nearest neighbour (minimum total negative
log-likelihood, :func:`scipy.optimize.linear_sum_assignment`), update, start tentative
tracks from unassigned detections, confirm tentative tracks after M hits in the first N
scans of the radar that started them, and delete tracks left without updates.

An infrared frame (lines of sight from a satellite, no range) is fused as bearings: its
plots are gated and assigned to the confirmed tracks the same way and update them with
the line-of-sight measurement model (:func:`trilink.tracking.kernels.los_h`); a bearing
alone cannot start a track, so plots no track takes are left unused.

The tracker never sees truth: scans' ``truth_ids`` are ignored here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Protocol, cast

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2

from trilink.physics import earth
from trilink.tracking import kernels
from trilink.tracking.imm import ImmParams, RadarGeometry, TrackBank, polar_to_ecef

F = NDArray[np.float64]


class RadarScanLike(Protocol):
    """What the tracker reads from a radar scan (see trilink.sensors.RadarScan)."""

    @property
    def sensor_id(self) -> str: ...
    @property
    def t_s(self) -> float: ...
    @property
    def site_lat_rad(self) -> float: ...
    @property
    def site_lon_rad(self) -> float: ...
    @property
    def site_h_m(self) -> float: ...
    @property
    def z(self) -> F: ...
    @property
    def sigma(self) -> F: ...


class LosScanLike(Protocol):
    """What the tracker reads from an infrared frame (see trilink.sensors.IrScan): plots
    ``z`` (M, 2) of line-of-sight angles from ``sat_ecef_m`` in ``frame_ecef`` (rows
    east, north, nadir)."""

    @property
    def sensor_id(self) -> str: ...
    @property
    def t_s(self) -> float: ...
    @property
    def sat_ecef_m(self) -> F: ...
    @property
    def frame_ecef(self) -> F: ...
    @property
    def z(self) -> F: ...
    @property
    def sigma(self) -> F: ...


ScanLike = RadarScanLike | LosScanLike


# A track this far above the equatorial radius is above the ground whatever rounding:
# below it, the exact height test runs.
_NEAR_GROUND_M = 1000.0


class TrackStatus(StrEnum):
    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    DELETED = "deleted"


class EventKind(StrEnum):
    CONFIRMED = "confirmed"
    UPDATED = "updated"
    DELETED = "deleted"


@dataclass(frozen=True)
class TrackerConfig:
    """Track management settings.

    Initiation is two-point: an unassigned detection is a *seed*; on the next scan of the
    same radar every detection whose implied speed is plausible for a missile starts a
    candidate track (position from the detection, velocity from the difference).
    Candidates compete for detections like tracks do; one that collects
    ``confirm_hits`` detections (seed included) within ``confirm_window`` scans is
    confirmed, the others die. Several candidates per seed are what keeps a salvo of
    closely spaced missiles from being paired wrongly.
    """

    gate_probability: float = 0.9999
    confirm_hits: int = 4
    confirm_window: int = 5
    delete_after_s: float = 60.0
    tentative_penalty: float = 2.0  # added cost: confirmed tracks win close contests
    min_speed_m_s: float = 300.0
    max_speed_m_s: float = 8000.0
    max_force_m_s2: float = 300.0  # thrust (30 g: late single-stage burns) between its two points
    duplicate_distance: float = 3.0  # Mahalanobis distance under which tracks are one
    duplicate_separation_m: float = 2000.0  # ... and the largest distance apart
    max_position_sigma_m: float = 20e3  # a track vaguer than this is lost, not kept
    confirm_nis_probability: float = 0.99
    imm: ImmParams = field(default_factory=ImmParams)


@dataclass(frozen=True)
class TrackEvent:
    """A track's news: confirmation, an update (state after it) or deletion.

    State x (9: position m, velocity m/s, specific force m/s²) and covariance P are
    ECEF; ``powered_probability`` is the IMM's weight of the powered mode.
    """

    kind: EventKind
    track_id: str
    t_s: float
    x: F
    P: F
    powered_probability: float
    sensor_id: str
    reason: str = ""


# Tracker.process builds its update events by filling the instance's dict: all of these.
_EVENT_FIELDS = ("kind", "track_id", "t_s", "x", "P", "powered_probability", "sensor_id",
                 "reason")
if tuple(f.name for f in fields(TrackEvent)) != _EVENT_FIELDS:
    raise RuntimeError("TrackEvent's fields changed: update Tracker.process's events")


@dataclass(frozen=True)
class _Seed:
    sensor_id: str
    t_s: float
    pos: F
    cov: F


@dataclass
class _Meta:
    track_id: str
    status: TrackStatus
    origin_sensor: str
    scans_seen: int = 1
    hits: int = 1
    sensors: set[str] = field(default_factory=set)
    nis_sum: float = 0.0  # normalised innovations squared of the updates so far
    nis_dof: int = 0


class Tracker:
    """One node's tracker; feed it scans in time order with :meth:`process`."""

    def __init__(self, nation: str, config: TrackerConfig | None = None) -> None:
        self.nation = nation
        self.config = config or TrackerConfig()
        self.bank = TrackBank(self.config.imm)
        self.meta: list[_Meta] = []
        # Per bank row, as arrays so that a scan's book-keeping is vectorised: meta[i] is
        # tentative; the time of its last update (s).
        self._tentative = np.zeros(0, dtype=bool)
        self._last_s = np.zeros(0)
        self._counter = 0
        self._gates: dict[int, float] = {}
        self._geometry: dict[str, RadarGeometry] = {}
        self._seeds: dict[str, list[_Seed]] = {}
        self._noise: dict[bytes, F] = {}  # measurement covariance by the sigmas' bytes
        self._prm = self.bank.params.vector()  # the filter's parameters, as the bank's

    def _gate(self, nz: int) -> float:
        if nz not in self._gates:
            self._gates[nz] = float(chi2.ppf(self.config.gate_probability, nz))
        return self._gates[nz]

    def _geo(self, scan: ScanLike) -> tuple[RadarGeometry, int]:
        """The sensor's site and basis, and its measurement kind (kernels.RADAR / LOS)."""
        geo = self._geometry.get(scan.sensor_id)
        los = hasattr(scan, "frame_ecef")
        if geo is None:
            if los:
                ir = cast(LosScanLike, scan)
                geo = RadarGeometry(np.ascontiguousarray(ir.sat_ecef_m, dtype=np.float64),
                                    np.ascontiguousarray(ir.frame_ecef, dtype=np.float64))
            else:
                rs = cast(RadarScanLike, scan)
                geo = RadarGeometry.at(rs.site_lat_rad, rs.site_lon_rad, rs.site_h_m)
            self._geometry[scan.sensor_id] = geo
        return geo, kernels.LOS if los else kernels.RADAR

    def _new_id(self) -> str:
        self._counter += 1
        return f"{self.nation}-T{self._counter:04d}"

    def process(self, scan: ScanLike) -> list[TrackEvent]:
        """Take one scan; return the events it caused, in a deterministic order."""
        t = float(scan.t_s)
        z = np.ascontiguousarray(scan.z, dtype=np.float64)
        sigma = np.asarray(scan.sigma, dtype=np.float64)
        geo, kind = self._geo(scan)
        key = sigma.tobytes()
        R = self._noise.get(key)
        if R is None:
            R = self._noise[key] = np.diag(sigma**2)
        cfg, bank, sid = self.config, self.bank, scan.sensor_id
        los = kind == kernels.LOS
        # Prediction (bearings refine confirmed tracks only), gating, the tentative tracks'
        # penalty and the split of the assignment: one compiled call.
        rows, cost, nis, pr, pc, rr, rc, top = kernels.scan_predict_gate(
            bank.xm, bank.Pm, bank.mu, bank.t_s, self._tentative, t, self._prm, los, z, R,
            geo.site_ecef_m, geo.basis, self._gate(z.shape[1]), kind, cfg.tentative_penalty)
        if cost.size:
            pick, assigned_dets = _solve_split(cost, pr, pc, rr, rc, top)
            tentative = self._tentative[rows]
            # Only candidates need their innovations (the confirmation test).
            cand = tentative[pick]
            if cand.any():
                for a, b in zip(pick[cand].tolist(), assigned_dets[cand].tolist(), strict=True):
                    self.meta[rows[a]].nis_sum += float(nis[a, b])
                    self.meta[rows[a]].nis_dof += z.shape[1]
            # rows ascend and pick does (_gnn): the assigned tracks are in row order.
            assigned_tracks = rows[pick]
        else:
            assigned_tracks = assigned_dets = np.zeros(0, dtype=np.int64)
        # The updates and every track's estimate, in one compiled call.
        x_all, P_all = kernels.scan_update(bank.xm, bank.Pm, bank.mu, assigned_tracks, z,
                                           assigned_dets, R, geo.site_ecef_m, geo.basis, kind)

        # Book-keeping for tracks of this scan's radar and tracks that were updated.
        updated = assigned_tracks.tolist()
        self._last_s[assigned_tracks] = t
        meta = self.meta
        if not los:
            for i in rows[self._tentative[rows]].tolist():
                m = meta[i]
                if m.origin_sensor == sid:
                    m.scans_seen += 1
        powered = bank.mu[:, 1].tolist()
        # The loop below runs once per updated track on every scan: names bound locally,
        # and the events built by filling the instance's dict (what the frozen
        # dataclass's __init__ does, one setattr per field, in half the time).
        events: list[TrackEvent] = []
        add, new, updated_kind = events.append, object.__new__, EventKind.UPDATED
        confirmed = TrackStatus.CONFIRMED
        for j in updated:
            m = meta[j]
            m.sensors.add(sid)
            if not los:
                m.hits += 1
                if m.status is not confirmed:
                    if not (m.hits >= cfg.confirm_hits and self._consistent(m)
                            and self._plausible(x_all[j])):
                        continue
                    m.status = confirmed
                    self._tentative[j] = False
                    add(self._event(EventKind.CONFIRMED, j, t, x_all, P_all, scan))
            ev = new(TrackEvent)
            ev.__dict__.update(kind=updated_kind, track_id=m.track_id, t_s=t, x=x_all[j],
                               P=P_all[j], powered_probability=powered[j], sensor_id=sid,
                               reason="")
            add(ev)

        if not los:
            # Detections no track took: candidates with last scan's seeds, and new seeds.
            if assigned_dets.size == z.shape[0]:  # every detection taken (most scans)
                self._seeds[sid] = []
            else:
                taken = np.zeros(z.shape[0], dtype=bool)
                taken[assigned_dets] = True
                free = np.flatnonzero(~taken)
                pos, cov = polar_to_ecef(z[free], geo, sigma)
                if self._start_candidates(sid, t, pos, cov):
                    x_all, P_all = bank.estimates()
                self._seeds[sid] = [_Seed(sid, t, pos[j], cov[j]) for j in range(pos.shape[0])]

        events += self._prune(t, x_all, P_all, scan)
        return events

    def _consistent(self, m: _Meta) -> bool:
        """A candidate's innovations must look like one missile's: their summed NIS within
        the chi-square bound of its degrees of freedom (a candidate that hops between two
        missiles of a salvo fails this)."""
        bound = chi2.ppf(self.config.confirm_nis_probability, max(m.nis_dof, 1))
        return m.nis_sum <= float(bound)

    def _plausible(self, x: F) -> bool:
        """Below the highest apogees, a missile is never slow: a candidate that 'hovers'
        is a chain of salvo members passing one point in turn, not a missile."""
        speed = float(np.linalg.norm(x[3:6]))
        return speed >= self.config.min_speed_m_s or kernels.height_m(x[:3]) > 2000e3

    def _start_candidates(self, sensor_id: str, t: float, pos: F, cov: F) -> bool:
        """Pair last scan's seeds with this scan's free detections into candidates."""
        seeds = [s for s in self._seeds.get(sensor_id, []) if s.t_s < t]
        if not seeds or pos.shape[0] == 0:
            return False
        cfg = self.config
        p0 = np.stack([s.pos for s in seeds])
        t0 = np.array([s.t_s for s in seeds])
        dt = t - t0  # (S,)
        disp = pos[None, :, :] - p0[:, None, :]  # (S, D, 3)
        speed = np.linalg.norm(disp, axis=2) / dt[:, None]
        ok = (speed >= cfg.min_speed_m_s) & (speed <= cfg.max_speed_m_s)
        si, di = np.nonzero(ok)
        if si.size == 0:
            return False
        c0 = np.stack([s.cov for s in seeds])
        rows = self.bank.add_two_point(p0[si], c0[si], t0[si], pos[di], cov[di], t,
                                       cfg.max_force_m_s2)
        self._tentative = np.concatenate([self._tentative, np.ones(rows.size, dtype=bool)])
        self._last_s = np.concatenate([self._last_s, np.full(rows.size, t)])
        for _ in rows:
            self.meta.append(_Meta(self._new_id(), TrackStatus.TENTATIVE, sensor_id, hits=2,
                                   sensors={sensor_id}))
        return True

    def _prune(self, t: float, x_all: F, P_all: F, scan: ScanLike) -> list[TrackEvent]:
        cfg = self.config
        events: list[TrackEvent] = []
        # Position variance, silence and a coarse "near the ground" test of every track,
        # the rows worth a look and the confirmed tracks metres apart, in one compiled
        # pass; the height itself only when some track is near the ground.
        vague, stale, low, look, near_a, near_b = kernels.scan_prune(
            x_all, P_all, self._last_s, self._tentative, t, cfg.delete_after_s,
            cfg.max_position_sigma_m**2, _NEAR_GROUND_M, cfg.duplicate_separation_m)
        if not (look.size or low or near_a.size):
            return events  # nothing to delete (most scans)
        keep = np.ones(len(self.meta), dtype=bool)
        if low:  # kernels.height_m's formula, for every track at once
            r = x_all[:, :3]
            rn = np.linalg.norm(r, axis=1)
            e2 = earth.WGS84_E2
            s2 = (r[:, 2] / np.maximum(rn, 1.0)) ** 2
            below = rn - kernels.AE * np.sqrt((1.0 - e2) / (1.0 - e2 * (1.0 - s2))) < 0.0
            look = np.flatnonzero(self._tentative | below | vague | stale)
        else:
            below = np.zeros(len(self.meta), dtype=bool)
        # Only candidates and tracks with a reason to go need a look, in row order.
        for i in look.tolist():
            m = self.meta[i]
            reason = ""
            if m.status is TrackStatus.TENTATIVE:
                failed = m.scans_seen >= cfg.confirm_window and m.hits < cfg.confirm_hits
                if failed or stale[i]:
                    keep[i] = False
                continue
            if below[i]:
                reason = "impact"
            elif vague[i]:
                reason = "diverged"
            elif stale[i]:
                reason = "no update"
            if reason:
                keep[i] = False
                events.append(self._event(EventKind.DELETED, i, t, x_all, P_all, scan, reason))
        events += self._drop_duplicates(keep, near_a, near_b, x_all, P_all, t, scan)
        if not keep.all():
            self.bank.keep(keep)
            self.meta = [m for m, k in zip(self.meta, keep, strict=True) if k]
            self._tentative = self._tentative[keep]
            self._last_s = self._last_s[keep]
        return events

    def _drop_duplicates(self, keep: NDArray[np.bool_], near_a: NDArray[np.int64],
                         near_b: NDArray[np.int64], x_all: F, P_all: F, t: float,
                         scan: ScanLike) -> list[TrackEvent]:
        """Two confirmed tracks of one missile: keep the older, delete the younger.
        ``near_a``, ``near_b``: the pairs of confirmed tracks metres apart (only those can
        be one missile), in row-major order."""
        events: list[TrackEvent] = []
        for a, b in zip(near_a.tolist(), near_b.tolist(), strict=True):
            if not (keep[a] and keep[b]):
                continue
            d = x_all[a, :6] - x_all[b, :6]
            S = P_all[a, :6, :6] + P_all[b, :6, :6]
            if float(d @ np.linalg.solve(S, d)) < self.config.duplicate_distance**2:
                keep[b] = False
                events.append(self._event(EventKind.DELETED, b, t, x_all, P_all, scan,
                                          f"duplicate of {self.meta[a].track_id}"))
        return events

    def _event(self, kind: EventKind, i: int, t: float, x_all: F, P_all: F, scan: ScanLike,
               reason: str = "") -> TrackEvent:
        return TrackEvent(
            kind=kind,
            track_id=self.meta[i].track_id,
            t_s=t,
            x=x_all[i].copy(),
            P=P_all[i].copy(),
            powered_probability=float(self.bank.mu[i, 1]),
            sensor_id=scan.sensor_id,
            reason=reason,
        )

    def confirmed(self) -> list[tuple[str, F, F, float]]:
        """(track id, x, P, time of last prediction) of every confirmed track."""
        x_all, P_all = self.bank.estimates()
        return [
            (m.track_id, x_all[i], P_all[i], float(self.bank.t_s[i]))
            for i, m in enumerate(self.meta)
            if m.status == TrackStatus.CONFIRMED
        ]


def _gnn(cost: F) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Global nearest neighbour: min-cost assignment where gated (finite) costs exist.

    Uncontested pairs are taken directly (:func:`kernels.split_assignment`); only the
    contested rows and columns go to the solver, with the same non-assignment cost as
    the whole problem, so the result is the whole problem's optimum.
    """
    return _solve_split(cost, *kernels.split_assignment(np.ascontiguousarray(cost)))


def _solve_split(cost: F, pr: NDArray[np.int64], pc: NDArray[np.int64], rr: NDArray[np.int64],
                 rc: NDArray[np.int64], top: float) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """:func:`_gnn` given the split of its problem; rows come out ascending."""
    if rr.size == 0:
        return pr, pc
    sub = cost[np.ix_(rr, rc)]
    finite = np.isfinite(sub)
    # Non-assignment is allowed: a dummy column per track at a cost above any gated pair.
    big = top + 1.0
    n_t, n_z = sub.shape
    padded = np.full((n_t, n_z + n_t), 1e12)
    padded[:, :n_z] = np.where(finite, sub, 1e12)
    padded[np.arange(n_t), n_z + np.arange(n_t)] = big
    r, c = linear_sum_assignment(padded)
    ok = (c < n_z) & finite[r, np.minimum(c, n_z - 1)]
    rows = np.concatenate([pr, rr[r[ok]]])
    cols = np.concatenate([pc, rc[c[ok]]])
    order = np.argsort(rows, kind="stable")
    return rows[order], cols[order]
