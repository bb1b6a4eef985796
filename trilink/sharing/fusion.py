"""Track-to-track fusion: partners' tracks joined with one's own, without over-confidence.

Partners share tracks, not plots, and their estimates are correlated with ours in ways
nobody knows (common process noise, shared earlier data, relays). Fusion therefore uses
**covariance intersection** (Julier & Uhlmann): for any cross-correlation the fused
covariance bounds the true error. The weight ω minimises the fused covariance's
determinant (found exactly, :func:`covariance_intersection`).

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
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from scipy.stats import chi2

from trilink.kinds.tracks import NX, check_state, first_bad_state
from trilink.sharing import fusion_kernels
from trilink.tracking import kernels
from trilink.tracking.imm import ImmParams

F = NDArray[np.float64]
_PRM = ImmParams().vector()
# Time-aligning two tracks predicts one across the gap with its likelier mode; near
# burnout that mode can be wrong. Allow an unknown force up to this (uniform) over the gap,
# or one missile's tracks in boost split into two objects (bench/bench_crowded.py).
_ALIGN_FORCE_M_S2 = 30.0


def covariance_intersection(x_a: F, P_a: F, x_b: F, P_b: F) -> tuple[F, F, float]:
    """Fuse two estimates of one state with unknown cross-correlation.

    Returns the fused state, covariance and the weight ω of estimate a: the ω in [0, 1]
    that minimises the fused covariance's determinant, found exactly
    (:func:`trilink.sharing.fusion_kernels.ci_fuse`).
    """
    x = np.empty(len(x_a))
    P = np.empty((len(x_a), len(x_a)))
    w = fusion_kernels.ci_fuse(np.ascontiguousarray(x_a, dtype=np.float64),
                               np.ascontiguousarray(P_a, dtype=np.float64),
                               np.ascontiguousarray(x_b, dtype=np.float64),
                               np.ascontiguousarray(P_b, dtype=np.float64), x, P)
    return x, P, float(w)


def _with_unknown_force(P6: F, gap_s: float) -> F:
    """A 6-state covariance widened for an unknown force (up to ``_ALIGN_FORCE_M_S2``,
    uniform) acting over ``gap_s`` of prediction."""
    out = np.array(P6, dtype=np.float64, copy=True)
    fusion_kernels.widen_for_unknown_force(out, float(gap_s), _ALIGN_FORCE_M_S2)
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
        kernels.predict_mode(xp, Pp, float(dt_s), _likelier_mode(powered_probability), _PRM)
    return xp, Pp


def _likelier_mode(powered_probability: float) -> int:
    """The filter mode a shared track is predicted with: powered (1) if the sender judged
    it more likely, else ballistic (0)."""
    return 1 if powered_probability > 0.5 else 0


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


# Above this many pairs a k-d tree finds the candidates; below it a dense pass is cheaper.
_DENSE_PAIRS = 4096


def near_pairs(t_a: F, x_a: F, t_b: F, x_b: F, max_separation_m: float,
               same: bool = False) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The pairs (i, j) of states ``x_a[i]`` at ``t_a[i]`` and ``x_b[j]`` at ``t_b[j]``
    (ECEF, 9 states each) that could lie within ``max_separation_m`` once time-aligned
    by fusion's prediction; ``same``: a and b are one set, give each pair once (i < j).

    Why: association and merging compare every new track with every object, each
    comparison a prediction and a solve. This gate is conservative (it never drops a
    pair that the exact test would keep): the earlier state moved on in a straight line
    misses the prediction by at most ½·A·gap², A bounding gravity, the Coriolis term and
    the state's own force. Candidates come from a k-d tree, so the work grows with the
    pairs that are near, not with all pairs.
    """
    n, m = len(t_a), len(t_b)
    empty = np.zeros(0, dtype=np.intp)
    if n == 0 or m == 0:
        return empty, empty
    gap_max_s = float(max(np.max(t_a) - np.min(t_b), np.max(t_b) - np.min(t_a), 0.0))

    def accel_bound(x: F) -> F:
        """A bound on the acceleration fusion's prediction applies to each state over
        up to ``gap_max_s``: gravity at the nearest the state can come to Earth's centre
        (2 % for J2, 0.1 m/s² for the centrifugal term), the Coriolis term at the fastest
        it can go, and a powered state's own force."""
        radius = np.linalg.norm(x[:, :3], axis=1)
        speed = np.linalg.norm(x[:, 3:6], axis=1)
        force = np.linalg.norm(x[:, 6:9], axis=1)
        nearest_m = np.maximum(radius - speed * gap_max_s - 0.5 * (50.0 + force) * gap_max_s**2,
                               3.0e6)
        gravity = 1.02 * kernels.MU / nearest_m**2 + 0.1
        bound: F = gravity + force + 2.0 * kernels.W * (speed + (gravity + force) * gap_max_s)
        return bound

    acc_a, acc_b = accel_bound(x_a), accel_bound(x_b)
    if n * m <= _DENSE_PAIRS:
        ii, jj = np.indices((n, m)).reshape(2, -1)
    else:
        speed_max = float(max(np.max(np.linalg.norm(x_a[:, 3:6], axis=1)),
                              np.max(np.linalg.norm(x_b[:, 3:6], axis=1))))
        acc_max = float(max(np.max(acc_a), np.max(acc_b)))
        radius_m = (max_separation_m + speed_max * gap_max_s
                    + 0.625 * acc_max * gap_max_s**2 + 1.0)
        tree_b = cKDTree(x_b[:, :3])
        if same:
            found = tree_b.query_pairs(radius_m, output_type="ndarray")
            ii, jj = found[:, 0].astype(np.intp), found[:, 1].astype(np.intp)
        else:
            hits = cKDTree(x_a[:, :3]).sparse_distance_matrix(tree_b, radius_m,
                                                              output_type="ndarray")
            ii, jj = hits["i"].astype(np.intp), hits["j"].astype(np.intp)
    if same:
        keep = ii < jj
        ii, jj = ii[keep], jj[keep]
    gap = t_a[ii] - t_b[jj]  # > 0: b is the earlier state, moved on to a's time
    a_later = gap >= 0.0
    early_x = np.where(a_later[:, None], x_b[jj], x_a[ii])
    late_x = np.where(a_later[:, None], x_a[ii], x_b[jj])
    early_acc = np.where(a_later, acc_b[jj], acc_a[ii])
    dt = np.abs(gap)
    moved = early_x[:, :3] + early_x[:, 3:6] * dt[:, None]
    miss_m = np.linalg.norm(late_x[:, :3] - moved, axis=1)
    # 1.25: room for the RK4 steps and J2 beyond the bound; 1 m for rounding.
    near = miss_m <= max_separation_m + 0.625 * early_acc * dt**2 + 1.0
    order = np.lexsort((jj[near], ii[near]))
    return ii[near][order], jj[near][order]


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


def _assignment(cost: F) -> list[tuple[int, int]]:
    """Global nearest neighbour on a cost matrix whose infinite entries forbid a pair:
    solved per connected group of allowed pairs (independent problems), so a large
    picture costs the sum of its small groups, not one cubic solve."""
    rows, cols = np.nonzero(np.isfinite(cost))
    if rows.size == 0:
        return []
    n, m = cost.shape
    graph = coo_matrix((np.ones(rows.size), (rows, n + cols)), shape=(n + m, n + m))
    _, label = connected_components(graph, directed=False)
    out: list[tuple[int, int]] = []
    for group in np.unique(label[rows]):
        r = np.flatnonzero(label[:n] == group)
        c = np.flatnonzero(label[n:] == group)
        sub = cost[np.ix_(r, c)]
        big = 1e12
        rr, cc = linear_sum_assignment(np.where(np.isfinite(sub), sub, big))
        out += [(int(r[i]), int(c[j])) for i, j in zip(rr, cc, strict=True)
                if np.isfinite(sub[i, j])]
    return sorted(out)


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
        self._merged_revision = -1  # the revision the last merge pass saw
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
        rows, cols = near_pairs(
            np.array([tr.t_s for tr in new]), np.stack([tr.x for tr in new]),
            np.array([o.t_s for o in objs]),
            np.stack([o.x for o in objs]) if objs else np.zeros((0, NX)),
            self.max_separation_m)
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            tr, obj = new[i], objs[j]
            # A nation does not track one missile under two live ids at once (a new
            # id after its old track ended is fine: lost and re-acquired).
            if self._conflict([tr], obj):
                continue
            d2 = self._distance2(tr.t_s, tr.x, tr.P, tr.powered_probability, obj)
            if d2 <= self._gate:
                cost[i, j] = d2
        paired: set[int] = set()
        for i, j in _assignment(cost):
            tr = new[i]
            key = f"{tr.nation}/{tr.track_id}"
            objs[j].sources[key] = tr
            self._owner[key] = objs[j].fused_id
            touched.add(objs[j].fused_id)
            paired.add(i)
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
        other only after a gap) become one, under the older id.

        Only pairs near enough to pass :func:`near_pairs` are tested, and only those of
        which one object changed since the last pass: an unchanged pair was tested then,
        on the same states, and would fail the same way.
        """
        self._refresh()
        objs = list(self._objects.values())
        since = self._merged_revision
        self._merged_revision = self.revision
        if len(objs) < 2:
            return
        t_s, x = np.array([o.t_s for o in objs]), np.stack([o.x for o in objs])
        rows, cols = near_pairs(t_s, x, t_s, x, self.max_separation_m, same=True)
        for a_pos, b_pos in zip(rows.tolist(), cols.tolist(), strict=True):
            a, b = objs[a_pos], objs[b_pos]
            if a.fused_id not in self._objects or b.fused_id not in self._objects:
                continue
            if max(self._rev.get(a.fused_id, 0), self._rev.get(b.fused_id, 0)) <= since:
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
        obj.powered_probability = max(s.powered_probability for s in sources
                                      if s.t_s == newest)
        x, P = np.empty(NX), np.empty((NX, NX))
        # Each source predicted to the newest time, with the same allowance as
        # association: an older source predicted with the wrong mode must not outweigh a
        # fresh one (it would pull a boosting missile's fused state back to the energy it
        # had at the older time); then intersected in turn (one compiled call).
        fusion_kernels.fuse_sources(
            np.stack([s.x for s in sources]), np.stack([s.P for s in sources]),
            np.array([newest - s.t_s for s in sources]),
            np.array([_likelier_mode(s.powered_probability) for s in sources], dtype=np.int64),
            _ALIGN_FORCE_M_S2, _PRM, x, P)
        obj.t_s, obj.x, obj.P = newest, x, P

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
