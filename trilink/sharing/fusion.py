"""Track-to-track fusion: partners' tracks joined with one's own, without over-confidence.

Partners share tracks, not plots, and their estimates are correlated with ours in ways
nobody knows (common process noise, shared earlier data, relays). Fusion therefore uses
**covariance intersection** (Julier & Uhlmann): for any cross-correlation the fused
covariance bounds the true error. The weight ω minimises the fused covariance's
determinant (golden-section search on [0, 1]).

Association: a partner's track and a local track describe one missile when their
time-aligned states are statistically close (chi-square gate on the position and
velocity difference with the summed covariances); assignment is global nearest
neighbour, and the pairing is remembered (``FusedPicture``), so that the different
track numbers nations give one missile map to one fused object.

Frames: ECEF; state 9 = position (m), velocity (m/s), specific force (m/s²); only the
first six states are fused (the specific force is kept from the more powered source).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2

from trilink.kinds.tracks import NX, check_state, first_bad_state
from trilink.tracking import kernels
from trilink.tracking.imm import ImmParams

F = NDArray[np.float64]
_PRM = ImmParams().vector()
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
# Time-aligning two tracks predicts one across the gap with its likelier mode; near
# burnout that mode can be wrong. Allow an unknown force up to this (uniform) over the gap,
# or one missile's tracks in boost split into two objects (bench/bench_crowded.py).
_ALIGN_FORCE_M_S2 = 30.0


def covariance_intersection(x_a: F, P_a: F, x_b: F, P_b: F) -> tuple[F, F, float]:
    """Fuse two estimates of one state with unknown cross-correlation.

    Returns the fused state, covariance and the weight ω of estimate a.
    """
    Ia, Ib = np.linalg.inv(P_a), np.linalg.inv(P_b)

    def logdet(w: float) -> float:
        sign, value = np.linalg.slogdet(w * Ia + (1.0 - w) * Ib)
        return -float(value) if sign > 0 else math.inf

    lo, hi = 0.0, 1.0
    c = hi - _GOLDEN * (hi - lo)
    d = lo + _GOLDEN * (hi - lo)
    fc, fd = logdet(c), logdet(d)
    for _ in range(40):
        if fc < fd:
            hi, d, fd = d, c, fc
            c = hi - _GOLDEN * (hi - lo)
            fc = logdet(c)
        else:
            lo, c, fc = c, d, fd
            d = lo + _GOLDEN * (hi - lo)
            fd = logdet(d)
    candidates = [(logdet(0.0), 0.0), (logdet(1.0), 1.0), (fc, c), (fd, d)]
    w = min(candidates)[1]
    info = w * Ia + (1.0 - w) * Ib
    P = np.linalg.inv(info)
    x = P @ (w * Ia @ x_a + (1.0 - w) * Ib @ x_b)
    return x, 0.5 * (P + P.T), w


def _with_unknown_force(P6: F, gap_s: float) -> F:
    """A 6-state covariance widened for an unknown force (up to ``_ALIGN_FORCE_M_S2``,
    uniform) acting over ``gap_s`` of prediction."""
    out = np.array(P6, dtype=np.float64, copy=True)
    if gap_s > 0.0:
        out[:3, :3] += np.eye(3) * (0.5 * _ALIGN_FORCE_M_S2 * gap_s**2) ** 2 / 3.0
        out[3:, 3:] += np.eye(3) * (_ALIGN_FORCE_M_S2 * gap_s) ** 2 / 3.0
    return out


MAX_PREDICT_S = 4 * 3600.0
"""Longest prediction fusion makes (the kernel's work grows with the interval)."""


def predict_track(x: F, P: F, dt_s: float, powered_probability: float) -> tuple[F, F]:
    """A shared track (9 states, ECEF) predicted dt_s ahead with the tracker's model
    (the powered mode if the sender judged it more likely).

    The compiled kernel indexes without bounds checks: shapes, dtype and the interval
    are checked here first (ValueError), whatever the caller did before.
    """
    if not (isinstance(x, np.ndarray) and x.shape == (NX,) and x.dtype == np.float64
            and isinstance(P, np.ndarray) and P.shape == (NX, NX) and P.dtype == np.float64):
        raise ValueError(f"predict_track needs float64 x ({NX},) and P ({NX}, {NX})")
    if not (math.isfinite(dt_s) and dt_s <= MAX_PREDICT_S):
        raise ValueError(f"prediction interval {dt_s!r} s outside [0, {MAX_PREDICT_S:g}]")
    xp = np.array(x, dtype=np.float64, copy=True)
    Pp = np.array(P, dtype=np.float64, copy=True)
    if dt_s > 0:
        kernels.predict_mode(xp, Pp, float(dt_s), 1 if powered_probability > 0.5 else 0, _PRM)
    return xp, Pp


def _all_sane(tracks: list[SourceTrack]) -> bool:
    """Whether every track passes :meth:`FusedPicture.update`'s checks, in one vectorised
    pass (:func:`~trilink.kinds.tracks.first_bad_state`); False sends the caller to the
    per-track checks, which name each problem."""
    if not tracks:
        return False
    for tr in tracks:
        if not (isinstance(tr.x, np.ndarray) and tr.x.shape == (NX,)
                and tr.x.dtype == np.float64 and isinstance(tr.P, np.ndarray)
                and tr.P.shape == (NX, NX) and tr.P.dtype == np.float64
                and math.isfinite(tr.t_s) and 0.0 <= tr.powered_probability <= 1.0):
            return False
    return first_bad_state(np.stack([tr.x for tr in tracks]),
                           np.stack([tr.P for tr in tracks])) is None


@dataclass(frozen=True)
class SourceTrack:
    """One nation's track as shared (or the local one): state at time t_s."""

    nation: str
    track_id: str
    t_s: float
    x: F
    P: F
    powered_probability: float


@dataclass
class FusedObject:
    """One missile in the picture: its source tracks (latest state of each, keyed
    ``nation/track_id``, kept after they end) and the fused state of the fresh ones."""

    fused_id: str
    sources: dict[str, SourceTrack] = field(default_factory=dict)
    t_s: float = 0.0
    x: F = field(default_factory=lambda: np.zeros(9))
    P: F = field(default_factory=lambda: np.eye(9))
    powered_probability: float = 0.0


class FusedPicture:
    """A node's fused picture: every missile once, whoever tracks it.

    Feed it tracks (local or verified partner tracks) with :meth:`update`; read the
    fused objects with :meth:`objects` at a time of your choice.
    """

    def __init__(self, nation: str, gate_probability: float = 0.999,
                 stale_after_s: float = 60.0, live_within_s: float = 15.0) -> None:
        self.nation = nation
        self.stale_after_s = stale_after_s
        # A source updated this recently is a live track: one nation cannot have two
        # live tracks on one missile (shares come every few seconds).
        self.live_within_s = live_within_s
        self.merge_every_s = 10.0
        self.max_separation_m = 10e3
        self._last_merge_s = -np.inf
        self._gate = float(chi2.ppf(gate_probability, 6))
        self._objects: dict[str, FusedObject] = {}
        self._owner: dict[str, str] = {}  # source key → fused id
        self._counter = 0
        # Fusion is lazy: updates only store the sources; objects are fused when read
        # (or when association needs them), so a node keeps up with its partners' rate.
        self._dirty: set[str] = set()
        # Bumped on every change; each object keeps the revision of its last change, so a
        # reader (the picture publisher) looks only at what changed since it last looked.
        self.revision = 0
        self._rev: dict[str, int] = {}

    def update(self, tracks: list[SourceTrack], *, checked: bool = False) -> list[str]:
        """Take the latest state of some tracks; associate new ones, refresh known ones.

        Every track is checked first (:func:`trilink.kinds.tracks.check_state`: shapes,
        finite, positive definite); one that fails is left out, and the reasons are
        returned — the picture itself never holds a state fusion cannot use.
        ``checked``: the caller built these rows from a batch that
        :func:`~trilink.kinds.tracks.decode_checked` passed (the same checks on the same
        arrays), so they are not checked twice.
        """
        new: list[SourceTrack] = []
        touched: set[str] = set()
        refused: list[str] = []
        ok: list[SourceTrack] = []
        if (checked and tracks) or _all_sane(tracks):
            ok = list(tracks)
        for tr in [] if ok else tracks:
            problem = check_state(tr.x, tr.P)
            if problem is None and not (math.isfinite(tr.t_s)
                                        and 0.0 <= tr.powered_probability <= 1.0):
                problem = "time or powered probability out of range"
            if problem is not None:
                refused.append(f"{tr.nation}/{tr.track_id}: {problem}")
            else:
                ok.append(tr)
        tracks = ok
        for tr in tracks:
            key = f"{tr.nation}/{tr.track_id}"
            if key in self._owner:
                obj = self._objects[self._owner[key]]
                obj.sources[key] = tr
                touched.add(obj.fused_id)
            else:
                new.append(tr)
        if new:
            touched |= self._associate(new)
        self._dirty |= touched
        self._bump(touched)
        # Pairs that could not merge earlier (two live tracks of one nation) may later:
        # look again now and then, not at every update (it is quadratic).
        t_now = max(tr.t_s for tr in tracks) if tracks else self._last_merge_s
        if new or t_now - self._last_merge_s >= self.merge_every_s:
            self._last_merge_s = t_now
            self._merge_duplicates()
        return refused

    def _associate(self, new: list[SourceTrack]) -> set[str]:
        """Join new tracks to objects or start objects; returns the ids touched."""
        self._refresh()
        t_new = max(tr.t_s for tr in new)
        # Only objects still being tracked can take a new track: an old object's
        # prediction is too vague to tell missiles apart.
        objs = [o for o in self._objects.values() if t_new - o.t_s <= self.stale_after_s]
        touched: set[str] = set()
        cost = np.full((len(new), len(objs)), np.inf)
        for i, tr in enumerate(new):
            for j, obj in enumerate(objs):
                # A nation does not track one missile under two live ids at once (a new
                # id after its old track ended is fine: lost and re-acquired).
                if self._conflict([tr], obj):
                    continue
                d2 = self._distance2(tr.t_s, tr.x, tr.P, tr.powered_probability, obj)
                if d2 <= self._gate:
                    cost[i, j] = d2
        paired: set[int] = set()
        if objs:
            big = 1e12
            rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, big))
            for i, j in zip(rows, cols, strict=True):
                if np.isfinite(cost[i, j]):
                    tr = new[i]
                    key = f"{tr.nation}/{tr.track_id}"
                    objs[j].sources[key] = tr
                    self._owner[key] = objs[j].fused_id
                    touched.add(objs[j].fused_id)
                    paired.add(int(i))
        for i, tr in enumerate(new):
            if i in paired:
                continue
            self._counter += 1
            fid = f"{self.nation}-F{self._counter:04d}"
            key = f"{tr.nation}/{tr.track_id}"
            self._objects[fid] = FusedObject(fid, {key: tr})
            self._owner[key] = fid
            touched.add(fid)
        return touched

    def _conflict(self, tracks: list[SourceTrack], obj: FusedObject) -> bool:
        """Would joining these tracks give one nation two live tracks in ``obj``?"""
        return any(s.nation == tr.nation and abs(tr.t_s - s.t_s) < self.live_within_s
                   for tr in tracks for s in obj.sources.values())

    def _distance2(self, t_s: float, x: F, P: F, powered: float, obj: FusedObject) -> float:
        """Squared statistical distance of a state to an object, time-aligned (6 states)."""
        if abs(t_s - obj.t_s) > MAX_PREDICT_S:
            return math.inf  # beyond what fusion predicts (a delayed share is hours at most)
        t = max(t_s, obj.t_s)
        xa, Pa = predict_track(x, P, t - t_s, powered)
        xb, Pb = predict_track(obj.x, obj.P, t - obj.t_s, obj.powered_probability)
        d = (xa - xb)[:6]
        # Boost-phase covariances are wide: two missiles of a salvo can look close
        # statistically while kilometres apart. One missile's tracks agree to a few km.
        if float(np.linalg.norm(d[:3])) > self.max_separation_m:
            return math.inf
        S = _with_unknown_force((Pa + Pb)[:6, :6], abs(t_s - obj.t_s))
        return float(d @ np.linalg.solve(S, d))

    def _merge_duplicates(self) -> None:
        """Objects that turn out to be one missile (e.g. one was seen only before, the
        other only after a gap) become one, under the older id."""
        self._refresh()
        objs = list(self._objects.values())
        for a_pos, a in enumerate(objs):
            for b in objs[a_pos + 1:]:
                if a.fused_id not in self._objects or b.fused_id not in self._objects:
                    continue
                if abs(a.t_s - b.t_s) > self.stale_after_s:
                    continue  # not tracked at the same time: cannot be told apart safely
                if self._conflict(list(b.sources.values()), a):
                    continue
                if self._distance2(b.t_s, b.x, b.P, b.powered_probability, a) <= self._gate:
                    for key, src in b.sources.items():
                        a.sources[key] = src
                        self._owner[key] = a.fused_id
                    del self._objects[b.fused_id]
                    self._fuse(a)
                    self._bump((a.fused_id,))

    def _fuse(self, obj: FusedObject) -> None:
        newest = max(s.t_s for s in obj.sources.values())
        # Only fresh sources count; an ended track keeps its place in the history.
        sources = sorted((s for s in obj.sources.values()
                          if newest - s.t_s <= self.stale_after_s),
                         key=lambda s: (s.nation, s.track_id))
        t = newest
        obj.powered_probability = max(s.powered_probability for s in sources
                                      if s.t_s == newest)
        x = P = None
        for s in sources:
            xs, Ps = predict_track(s.x, s.P, t - s.t_s, s.powered_probability)
            # The same allowance as association: an older source predicted with the
            # wrong mode must not outweigh a fresh one (it would pull a boosting missile's
            # fused state back to the energy it had at the older time).
            Ps[:6, :6] = _with_unknown_force(Ps[:6, :6], t - s.t_s)
            if x is None or P is None:
                x, P = xs, Ps
                continue
            xf, Pf, _ = covariance_intersection(x[:6], P[:6, :6], xs[:6], Ps[:6, :6])
            x = np.concatenate([xf, x[6:]])
            P9 = np.array(P, copy=True)
            P9[:6, :6] = Pf
            P9[:6, 6:] = 0.0
            P9[6:, :6] = 0.0
            P = P9
        assert x is not None and P is not None
        obj.t_s, obj.x, obj.P = t, x, P

    def _refresh(self) -> None:
        for fid in sorted(self._dirty):
            if fid in self._objects:
                self._fuse(self._objects[fid])
        self._dirty.clear()

    def _bump(self, fused_ids: Iterable[str]) -> None:
        self.revision += 1
        for fid in fused_ids:
            self._rev[fid] = self.revision

    def owner(self, source_key: str) -> str | None:
        """The fused id holding source ``nation/track_id``, if any."""
        return self._owner.get(source_key)

    def changed_since(self, revision: int, also: Collection[str] = ()) -> list[FusedObject]:
        """The objects changed after ``revision`` (see :attr:`revision`) or named in
        ``also``, in creation order, fused up to their latest sources (only those:
        fusion stays lazy for the rest)."""
        out = [o for fid, o in self._objects.items()
               if self._rev.get(fid, 0) > revision or fid in also]
        for obj in out:
            if obj.fused_id in self._dirty:
                self._dirty.discard(obj.fused_id)
                self._fuse(obj)
        return out

    def objects(self) -> list[FusedObject]:
        """Every fused object, in creation order (fused up to the latest sources)."""
        self._refresh()
        return list(self._objects.values())
