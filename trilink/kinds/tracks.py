"""The missile-track kind: what a shared track looks like on the wire, and its checks.

A node shares its confirmed tracks as one :class:`TrackBatch` per envelope (kind
``missile_track``). Each :class:`TrackPayload` holds a track id, the time of the state
(seconds since the run's epoch), the 9-element ECEF state (position m, velocity m/s,
specific force m/s²), the upper triangle (45 values, row-major) of its 9×9 covariance
and the sender's probability that the missile is powered.

A partner's batch is signed, but a signature says who sent it, not that it is sane.
:func:`decode_tracks` therefore checks every field before anything reaches the fused
picture (whose compiled kernels index the arrays without bounds checks):

- the bytes are at most :data:`MAX_BATCH_BYTES`, MessagePack of exactly this schema
  (the typed decoder has a fixed nesting depth of three; unknown shapes are refused);
- at most :data:`MAX_TRACKS` tracks, unique ids matching ``[A-Za-z0-9._:-]{1,64}``;
- ``x`` has exactly 9 and ``p_upper`` exactly 45 finite numbers within physical bounds;
- the covariance is symmetric (by construction) and positive definite with a condition
  number at most :data:`MAX_CONDITION` (a Cholesky factor and the eigenvalues exist);
- ``t_s`` is finite and within the receiver's window around its own time;
- ``powered_probability`` is in [0, 1].

Any failure refuses the whole batch with one line naming the track and the field; the
caller audits it. Nothing here raises on hostile input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Final, Protocol, cast

import msgspec
import numba
import numpy as np
from numpy.typing import NDArray

from trilink.tracking import kernels

F = NDArray[np.float64]

NX: Final = 9
"""State length: ECEF position (m), velocity (m/s), specific force (m/s²)."""

N_UPPER: Final = NX * (NX + 1) // 2
MAX_TRACKS: Final = 512
"""Most tracks one batch may carry (a salvo is tens)."""

MAX_BATCH_BYTES: Final = 512 * 1024
MAX_POSITION_M: Final = 1.0e8
"""|position| bound: ~15 Earth radii, far beyond any ballistic track."""

MAX_VELOCITY_M_S: Final = 1.0e5
MAX_ACCEL_M_S2: Final = 1.0e4
MAX_VARIANCE: Final = 1.0e16
"""Largest diagonal covariance element (a 10⁸ m standard deviation)."""

MAX_CONDITION: Final = 1.0e15
"""Largest covariance condition number fusion can invert without losing all digits."""

FAST_CONDITION: Final = 1.0e12
"""The screening pass of :func:`first_bad_state` passes a covariance only when an upper
bound of its condition number is at most this: a thousandth of :data:`MAX_CONDITION`,
so that the exact checks (LAPACK's Cholesky and eigenvalues, whose errors are about
1e-15 of the largest eigenvalue) cannot refuse what it passes."""

_UPPER = np.triu_indices(NX)
# Index of each (i, j) of a symmetric 9×9 matrix in its upper-triangle vector: one
# gather rebuilds the matrix (cheaper than fill-and-mirror on the receive path).
_FULL = np.zeros((NX, NX), dtype=np.intp)
_FULL[_UPPER] = np.arange(N_UPPER)
_FULL = np.maximum(_FULL, _FULL.T)
_BOUNDS = np.array([MAX_POSITION_M] * 3 + [MAX_VELOCITY_M_S] * 3 + [MAX_ACCEL_M_S2] * 3)

# Decoder-level bounds: msgspec refuses NaN and ±inf against a range constraint.
Finite = Annotated[float, msgspec.Meta(ge=-1e300, le=1e300)]
TrackId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]


class TrackPayload(msgspec.Struct, frozen=True, array_like=True):
    """A shared track: id, time (s since epoch), state (9, ECEF) and its covariance's
    upper triangle (45), and the sender's powered-mode probability."""

    track_id: TrackId
    t_s: Finite
    x: Annotated[list[Finite], msgspec.Meta(min_length=NX, max_length=NX)]
    p_upper: Annotated[list[Finite], msgspec.Meta(min_length=N_UPPER, max_length=N_UPPER)]
    powered_probability: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]

    def state(self) -> F:
        return np.asarray(self.x, dtype=np.float64)

    def covariance(self) -> F:
        return np.asarray(self.p_upper, dtype=np.float64)[_FULL]


class TrackBatch(msgspec.Struct, frozen=True, array_like=True):
    """The track updates a node shares at one time: one envelope, one signature."""

    tracks: Annotated[list[TrackPayload], msgspec.Meta(max_length=MAX_TRACKS)]


class TrackLike(Protocol):
    """What :func:`track_payload` needs of a tracker's event."""

    @property
    def track_id(self) -> str: ...
    @property
    def t_s(self) -> float: ...
    @property
    def x(self) -> F: ...
    @property
    def P(self) -> F: ...  # noqa: N802 - the estimation literature's name
    @property
    def powered_probability(self) -> float: ...


_ENC = msgspec.msgpack.Encoder()
TRACK_DECODER: Final = msgspec.msgpack.Decoder(TrackBatch)
"""The schema-only decoder (no semantic checks): use :func:`decode_tracks` on input."""


class TrackStamp(msgspec.Struct, frozen=True, array_like=True):
    """A :class:`TrackPayload`'s leading fields, its id and time; the rest is skipped."""

    track_id: str
    t_s: float


class TrackStamps(msgspec.Struct, frozen=True, array_like=True):
    """A :class:`TrackBatch` read as its tracks' stamps."""

    tracks: list[TrackStamp]


TRACK_STAMPS_DECODER: Final = msgspec.msgpack.Decoder(TrackStamps)
"""Ids and times of a batch already checked (by :func:`decode_checked`): skipping the 54
numbers of each track is most of a decode, for readers that need no more."""


def track_payload(e: TrackLike) -> TrackPayload:
    return TrackPayload(e.track_id, float(e.t_s), [float(v) for v in e.x],
                        [float(v) for v in np.asarray(e.P)[_UPPER]],
                        float(e.powered_probability))


def encode_tracks(events: Sequence[TrackLike]) -> bytes:
    """The payload bytes of a batch of shared track updates."""
    return _ENC.encode(TrackBatch([track_payload(e) for e in events]))


@dataclass(frozen=True, slots=True)
class TrackWindow:
    """Accepted track times: ``now - past_s ≤ t_s ≤ now + future_s`` (seconds)."""

    past_s: float = 3 * 3600.0 + 60.0
    future_s: float = 60.0


@dataclass(frozen=True, slots=True)
class TrackRejection:
    """Why a batch was refused: one line naming the track and the field."""

    detail: str


def _short(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def check_state(x: F, P: F) -> str | None:
    """Why a state and covariance may not enter fusion, or None if they may.

    Shapes exactly (9,) and (9, 9), float64, finite, within physical bounds, P
    symmetric positive definite and not too ill-conditioned. The fused picture calls
    this at its entry point too, so a caller that skips the decoder is still safe.
    """
    if not isinstance(x, np.ndarray) or x.shape != (NX,) or x.dtype != np.float64:
        return f"state must be a float64 array of shape ({NX},)"
    if not isinstance(P, np.ndarray) or P.shape != (NX, NX) or P.dtype != np.float64:
        return f"covariance must be a float64 array of shape ({NX}, {NX})"
    if not np.all(np.isfinite(x)):
        return "state holds a non-finite number"
    bad = np.nonzero(np.abs(x) > _BOUNDS)[0]
    if bad.size:
        i = int(bad[0])
        return f"state element {i} = {x[i]:.6g} exceeds the physical bound {_BOUNDS[i]:g}"
    if not np.all(np.isfinite(P)):
        return "covariance holds a non-finite number"
    if not np.array_equal(P, P.T):
        return "covariance is not symmetric"
    diag = np.diag(P)
    if np.any(diag <= 0.0) or np.any(diag > MAX_VARIANCE):
        return f"covariance diagonal outside (0, {MAX_VARIANCE:g}]"
    try:
        np.linalg.cholesky(P)
        eig = np.linalg.eigvalsh(P)
    except np.linalg.LinAlgError:
        return "covariance is not positive definite"
    if eig[0] <= 0.0:
        return "covariance is not positive definite"
    if eig[-1] > MAX_CONDITION * eig[0]:  # no division: eig[0] may be subnormal
        return f"covariance condition number exceeds {MAX_CONDITION:g}"
    return None


def _all_pass_py(xs: F, Ps: F, bounds: F, max_variance: float,
                 max_condition: float) -> bool:  # pragma: no cover - compiled
    """Whether every row is sure to pass :func:`check_state`: finite and bounded states,
    exactly symmetric covariances with diagonals in (0, max_variance], a Cholesky factor
    L with trace(P) · trace(P⁻¹) ≤ max_condition (trace(P⁻¹) = ‖L⁻¹‖²_F; the product
    bounds λmax/λmin from above). False says only "look closer", never "bad"."""
    n, m = xs.shape
    L = np.empty((m, m))
    inv = np.empty((m, m))
    for k in range(n):
        for i in range(m):
            v = xs[k, i]
            if not (abs(v) <= bounds[i]):  # NaN fails too
                return False
        P = Ps[k]
        trace = 0.0
        for i in range(m):
            d = P[i, i]
            if not (0.0 < d <= max_variance):
                return False
            trace += d
            for j in range(i):
                a = P[i, j]
                if not (a == P[j, i] and abs(a) <= 1e300):  # symmetric and finite
                    return False
        # Cholesky, P = L Lᵀ (lower); inf (not positive definite) or NaN (overflow): no.
        if not kernels._cholesky(P, L) < math.inf:
            return False
        # L⁻¹ (lower) by forward substitution, and its squared Frobenius norm.
        trace_inv = 0.0
        for j in range(m):
            for i in range(j, m):
                acc = 1.0 if i == j else 0.0
                for q in range(j, i):
                    acc -= L[i, q] * inv[q, j]
                inv[i, j] = acc / L[i, i]
                trace_inv += inv[i, j] * inv[i, j]
        if not (trace * trace_inv <= max_condition):  # NaN or inf fails too
            return False
    return True


# Compiled when this module loads (cached on disk, trilink._numba_cache): a partner's
# first envelope must not wait for numba.
_all_pass = cast(Callable[[F, F, F, float, float], bool], numba.njit(
    "b1(f8[:, ::1], f8[:, :, ::1], f8[::1], f8, f8)", cache=True, nogil=True)(_all_pass_py))


def first_bad_state(xs: F, Ps: F) -> int | None:
    """The index of the first ``(xs[i], Ps[i])`` that :func:`check_state` refuses, or None.

    ``xs`` (n, 9) and ``Ps`` (n, 9, 9) float64. One compiled pass screens the whole
    batch (:func:`_all_pass_py`: a partner's envelope holds tens of tracks, and LAPACK's
    per-call overhead was most of the receive path's time); a batch it does not pass
    gets the exact vectorised checks, and only when they find a problem does the
    per-track check run, so the verdict and its wording are :func:`check_state`'s.
    """
    n = len(xs)
    if n == 0:
        return None
    if (xs.shape == (n, NX) and Ps.shape == (n, NX, NX) and xs.dtype == np.float64
            and Ps.dtype == np.float64
            and _all_pass(np.ascontiguousarray(xs), np.ascontiguousarray(Ps), _BOUNDS,
                          MAX_VARIANCE, FAST_CONDITION)):
        return None
    try:
        ok = bool(np.isfinite(xs).all() and (np.abs(xs) <= _BOUNDS).all()
                  and np.isfinite(Ps).all() and np.array_equal(Ps, Ps.transpose(0, 2, 1)))
        if ok:
            diag = np.diagonal(Ps, axis1=1, axis2=2)
            ok = bool((diag > 0.0).all() and (diag <= MAX_VARIANCE).all())
        if ok:
            np.linalg.cholesky(Ps)
            eig = np.linalg.eigvalsh(Ps)
            ok = bool((eig[:, 0] > 0.0).all()
                      and (eig[:, -1] <= MAX_CONDITION * eig[:, 0]).all())
    except np.linalg.LinAlgError:
        ok = False
    if ok:
        return None
    for i in range(n):
        if check_state(xs[i], Ps[i]) is not None:
            return i
    return None


def check_payload(p: TrackPayload, now_s: float, window: TrackWindow) -> str | None:
    """Why one decoded track is refused (its id and the field), or None."""
    where = f"track {p.track_id!r}"
    if not math.isfinite(p.t_s) or not (now_s - window.past_s <= p.t_s <= now_s + window.future_s):
        return (f"{where}: t_s {p.t_s:.6g} outside the window "
                f"[{now_s - window.past_s:.6g}, {now_s + window.future_s:.6g}]")
    problem = check_state(p.state(), p.covariance())
    return None if problem is None else f"{where}: {problem}"


@dataclass(frozen=True, slots=True)
class CheckedBatch:
    """A checked batch and its tracks' states (n, 9) and covariances (n, 9, 9), built
    once for the checks and the fused picture."""

    batch: TrackBatch
    x: F
    P: F


def decode_checked(payload: bytes, now_s: float,
                   window: TrackWindow | None = None) -> CheckedBatch | TrackRejection:
    """:func:`decode_tracks` with the batch's arrays (never raises)."""
    if not isinstance(payload, bytes | bytearray | memoryview):
        return TrackRejection(f"expected bytes, got {type(payload).__name__}")
    if len(payload) > MAX_BATCH_BYTES:
        return TrackRejection(f"{len(payload)} bytes exceeds the {MAX_BATCH_BYTES}-byte limit")
    try:
        batch = TRACK_DECODER.decode(payload)
    except (msgspec.MsgspecError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        return TrackRejection(_short(f"malformed track batch: {exc}"))
    if not math.isfinite(now_s):
        return TrackRejection("receiver time is not finite")
    w = window or TrackWindow()
    ids = [p.track_id for p in batch.tracks]
    if len(set(ids)) != len(ids):
        return TrackRejection("a track id appears twice in one batch")
    tracks = batch.tracks
    xs = np.asarray([p.x for p in tracks], dtype=np.float64).reshape(len(tracks), NX)
    Ps = np.asarray([p.p_upper for p in tracks], dtype=np.float64).reshape(
        len(tracks), N_UPPER)[:, _FULL]
    lo, hi = now_s - w.past_s, now_s + w.future_s
    if not all(lo <= p.t_s <= hi for p in tracks) or first_bad_state(xs, Ps) is not None:
        # Something is wrong: the per-track checks name the first track at fault.
        for p in tracks:
            problem = check_payload(p, now_s, w)
            if problem is not None:
                return TrackRejection(problem)
    return CheckedBatch(batch, xs, Ps)


def decode_tracks(payload: bytes, now_s: float,
                  window: TrackWindow | None = None) -> TrackBatch | TrackRejection:
    """Decode and check a received batch; never raises (see the module docstring)."""
    checked = decode_checked(payload, now_s, window)
    return checked if isinstance(checked, TrackRejection) else checked.batch
