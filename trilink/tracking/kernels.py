"""Compiled kernels of the tracking filter (numba): ballistic IMM-EKF in ECEF.

State (9): position r (m), velocity v (m/s) and non-gravitational specific force a (m/s²:
thrust and drag), all in ECEF (rotating frame). Motion: ṙ = v, v̇ = g_J2(r) − 2ω×v −
ω×(ω×r) + a. Two modes:

- mode 0, *ballistic*: a ≡ 0 (reset to zero by the prediction), small velocity noise;
- mode 1, *powered*: a is a random walk (thrust, staging, re-entry drag).

Everything works on plain float64 arrays so that the kernels compile once (cached on
disk) and run without Python overhead: a single-track predict + update costs a few
microseconds, a scan over dozens of tracks a few tens.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numpy.typing import NDArray

from trilink.physics import earth

FloatArray = NDArray[np.float64]
_Fn = TypeVar("_Fn", bound=Callable[..., Any])

NX = 9
N_MODES = 2
MU = earth.GM_M3_S2
J2 = earth.J2
AE = earth.WGS84_A_M
W = earth.OMEGA_EARTH_RAD_S
MAX_SUBSTEP_S = 5.0
LOG_2PI = math.log(2.0 * math.pi)
TWO_PI = 2.0 * math.pi


def jit(fn: _Fn) -> _Fn:
    """numba.njit with an on-disk cache, keeping the function's type for mypy."""
    return cast(_Fn, numba.njit(cache=True, nogil=True)(fn))


def jit_inline(fn: _Fn) -> _Fn:
    """:func:`jit`, inlined into its callers by numba (a shared step of hot kernels:
    as fast as writing it out in each)."""
    return cast(_Fn, numba.njit(cache=True, nogil=True, inline="always")(fn))


# Parameter vector layout (float64 array), so kernels take one argument for tuning.
P_QV0 = 0  # mode 0 velocity noise density, m²/s³
P_QV1 = 1  # mode 1 velocity noise density, m²/s³
P_QA1 = 2  # mode 1 specific-force noise density, (m/s²)²/s
P_QA0 = 3  # mode 0 residual specific-force variance, (m/s²)²
P_TAU01 = 4  # mean sojourn before ballistic → powered above the atmosphere, s
P_TAU10 = 5  # mean sojourn before powered → ballistic, s
P_TAU01_AIR = 6  # the same inside the atmosphere (drag on re-entry), s
P_AIR_TOP_M = 7  # height below which the atmosphere counts, m
N_PARAMS = 8

# Measurement kinds (the ``kind`` argument of the update and gate kernels).
RADAR = 0  # [range, az, el(, range rate)] from a site; basis rows east, north, up
LOS = 1  # line-of-sight angles [x, y] from a satellite; basis rows east, north, nadir


@jit
def accel(r: FloatArray, v: FloatArray, a: FloatArray, out: FloatArray) -> None:
    """Acceleration in the rotating ECEF frame (J2, centrifugal, Coriolis, plus a)."""
    x, y, z = r[0], r[1], r[2]
    r2 = x * x + y * y + z * z
    rn = math.sqrt(r2)
    mu_r3 = MU / (r2 * rn)
    k = 1.5 * J2 * AE * AE / r2
    z2r2 = z * z / r2
    fxy = -mu_r3 * (1.0 + k * (1.0 - 5.0 * z2r2))
    fz = -mu_r3 * (1.0 + k * (3.0 - 5.0 * z2r2))
    out[0] = fxy * x + W * W * x + 2.0 * W * v[1] + a[0]
    out[1] = fxy * y + W * W * y - 2.0 * W * v[0] + a[1]
    out[2] = fz * z + a[2]


@jit
def _jacobian_a(r: FloatArray, A: FloatArray) -> None:
    """Continuous-time Jacobian (9×9) of the powered model at r (point-mass gradient)."""
    A[:, :] = 0.0
    x, y, z = r[0], r[1], r[2]
    r2 = x * x + y * y + z * z
    rn = math.sqrt(r2)
    c = MU / (r2 * rn)
    for i in range(3):
        A[i, 3 + i] = 1.0
        A[3 + i, 6 + i] = 1.0
    rr = (x, y, z)
    for i in range(3):
        for j in range(3):
            A[3 + i, j] = c * 3.0 * rr[i] * rr[j] / r2
        A[3 + i, i] -= c
    A[3, 0] += W * W
    A[4, 1] += W * W
    A[3, 4] = 2.0 * W
    A[4, 3] = -2.0 * W


@jit
def _matmul(a: FloatArray, b: FloatArray, out: FloatArray) -> None:
    """out = a b (9×9; out must not be a or b). The transitions are mostly zeros: zero
    terms of a are skipped (the sums keep their order, so for finite inputs the result
    is the dense product's exactly). A row of out is summed in nine scalars (registers),
    not in memory."""
    for i in range(NX):
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = s8 = 0.0
        for k in range(NX):
            aik = a[i, k]
            if aik != 0.0:
                s0 += aik * b[k, 0]
                s1 += aik * b[k, 1]
                s2 += aik * b[k, 2]
                s3 += aik * b[k, 3]
                s4 += aik * b[k, 4]
                s5 += aik * b[k, 5]
                s6 += aik * b[k, 6]
                s7 += aik * b[k, 7]
                s8 += aik * b[k, 8]
        out[i, 0], out[i, 1], out[i, 2] = s0, s1, s2
        out[i, 3], out[i, 4], out[i, 5] = s3, s4, s5
        out[i, 6], out[i, 7], out[i, 8] = s6, s7, s8


@jit
def _matmul_bt(a: FloatArray, b: FloatArray, out: FloatArray) -> None:
    """out = a bᵀ (9×9; out must not be a or b), skipping zero terms of b (sums in the
    dense product's order); a column of out is summed in nine scalars."""
    for j in range(NX):
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = s8 = 0.0
        for k in range(NX):
            bjk = b[j, k]
            if bjk != 0.0:
                s0 += a[0, k] * bjk
                s1 += a[1, k] * bjk
                s2 += a[2, k] * bjk
                s3 += a[3, k] * bjk
                s4 += a[4, k] * bjk
                s5 += a[5, k] * bjk
                s6 += a[6, k] * bjk
                s7 += a[7, k] * bjk
                s8 += a[8, k] * bjk
        out[0, j], out[1, j], out[2, j] = s0, s1, s2
        out[3, j], out[4, j], out[5, j] = s3, s4, s5
        out[6, j], out[7, j], out[8, j] = s6, s7, s8


@jit
def _accel3(rx: float, ry: float, rz: float, vx: float, vy: float, vz: float, ax: float,
            ay: float, az: float) -> tuple[float, float, float]:
    """:func:`accel` on scalars (the sub-step's RK4 stages allocate nothing)."""
    r2 = rx * rx + ry * ry + rz * rz
    rn = math.sqrt(r2)
    mu_r3 = MU / (r2 * rn)
    k = 1.5 * J2 * AE * AE / r2
    z2r2 = rz * rz / r2
    fxy = -mu_r3 * (1.0 + k * (1.0 - 5.0 * z2r2))
    fz = -mu_r3 * (1.0 + k * (3.0 - 5.0 * z2r2))
    return (fxy * rx + W * W * rx + 2.0 * W * vy + ax,
            fxy * ry + W * W * ry - 2.0 * W * vx + ay,
            fz * rz + az)


@jit
def _substep(x: FloatArray, h: float, powered: bool, phi: FloatArray,
             first: bool = False) -> None:
    """Advance x (9) by h seconds with RK4 and multiply phi by this step's transition
    (``first``: phi is the identity, so it becomes the step's transition)."""
    _substep_ws(x, h, powered, phi, first, np.empty((4, NX, NX)), np.empty(3))


@jit
def _substep_ws(x: FloatArray, h: float, powered: bool, phi: FloatArray, first: bool,
                work: FloatArray, mid: FloatArray) -> None:
    """:func:`_substep` with its scratch given: ``work`` (4, 9, 9), ``mid`` (3)."""
    rx, ry, rz, vx, vy, vz = x[0], x[1], x[2], x[3], x[4], x[5]
    ax, ay, az = (x[6], x[7], x[8]) if powered else (0.0, 0.0, 0.0)
    k1x, k1y, k1z = _accel3(rx, ry, rz, vx, vy, vz, ax, ay, az)
    r2x, r2y, r2z = rx + 0.5 * h * vx, ry + 0.5 * h * vy, rz + 0.5 * h * vz
    v2x, v2y, v2z = vx + 0.5 * h * k1x, vy + 0.5 * h * k1y, vz + 0.5 * h * k1z
    k2x, k2y, k2z = _accel3(r2x, r2y, r2z, v2x, v2y, v2z, ax, ay, az)
    r3x, r3y, r3z = rx + 0.5 * h * v2x, ry + 0.5 * h * v2y, rz + 0.5 * h * v2z
    v3x, v3y, v3z = vx + 0.5 * h * k2x, vy + 0.5 * h * k2y, vz + 0.5 * h * k2z
    k3x, k3y, k3z = _accel3(r3x, r3y, r3z, v3x, v3y, v3z, ax, ay, az)
    r4x, r4y, r4z = rx + h * v3x, ry + h * v3y, rz + h * v3z
    v4x, v4y, v4z = vx + h * k3x, vy + h * k3y, vz + h * k3z
    k4x, k4y, k4z = _accel3(r4x, r4y, r4z, v4x, v4y, v4z, ax, ay, az)
    # Transition of this sub-step: I + A h + (A h)²/2 + (A h)³/6, A at the mid-point.
    A, Ah2, Ah3, step = work[0], work[1], work[2], work[3]
    mid[0], mid[1], mid[2] = r2x, r2y, r2z
    _jacobian_a(mid, A)
    for i in range(NX):
        for j in range(NX):
            A[i, j] *= h
    _matmul(A, A, Ah2)
    _matmul(Ah2, A, Ah3)
    for i in range(NX):
        for j in range(NX):
            step[i, j] = A[i, j] + 0.5 * Ah2[i, j] + Ah3[i, j] / 6.0
        step[i, i] += 1.0
    if not powered:
        step[:, 6:9] = 0.0
        step[6:9, :] = 0.0
    if first:
        phi[:, :] = step
    else:
        _matmul(step, phi, A)  # A is free again: it holds the product
        phi[:, :] = A
    x[0] = rx + h / 6.0 * (vx + 2.0 * v2x + 2.0 * v3x + v4x)
    x[1] = ry + h / 6.0 * (vy + 2.0 * v2y + 2.0 * v3y + v4y)
    x[2] = rz + h / 6.0 * (vz + 2.0 * v2z + 2.0 * v3z + v4z)
    x[3] = vx + h / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
    x[4] = vy + h / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
    x[5] = vz + h / 6.0 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)
    x[6], x[7], x[8] = ax, ay, az


@jit
def _process_noise(dt: float, mode: int, prm: FloatArray, Q: FloatArray) -> None:
    """Discrete process noise for the r–v–a chain per axis (white noise on v̇ and ȧ)."""
    Q[:, :] = 0.0
    if mode == 0:
        qv = prm[P_QV0]
        for i in range(3):
            Q[i, i] = qv * dt**3 / 3.0
            Q[i, 3 + i] = Q[3 + i, i] = qv * dt**2 / 2.0
            Q[3 + i, 3 + i] = qv * dt
            Q[6 + i, 6 + i] = prm[P_QA0]
    else:
        qv = prm[P_QV1]
        qa = prm[P_QA1]
        for i in range(3):
            Q[i, i] = qv * dt**3 / 3.0 + qa * dt**5 / 20.0
            Q[i, 3 + i] = Q[3 + i, i] = qv * dt**2 / 2.0 + qa * dt**4 / 8.0
            Q[i, 6 + i] = Q[6 + i, i] = qa * dt**3 / 6.0
            Q[3 + i, 3 + i] = qv * dt + qa * dt**3 / 3.0
            Q[3 + i, 6 + i] = Q[6 + i, 3 + i] = qa * dt**2 / 2.0
            Q[6 + i, 6 + i] = qa * dt


# Scratch of one track's prediction (:func:`_imm_predict_ws`): 9×9 matrices ...
WS_WORK = 0  # 4: the sub-step's A, (Ah)², (Ah)³ and step transition
WS_PHI = 4
WS_TMP = 5
WS_Q = 6
WS_SWP = 7  # the powered mode's covariance shifted for burnout inside the interval
WS_P0 = 8  # 2: the mixed covariances
N_WS_MAT = 10
# ... and 9-vectors.
WS_SWX = 0
WS_X0 = 1  # 2: the mixed means
WS_MID = 3  # the sub-step's mid-point (3)
WS_C = 4  # mode probabilities after the transition (2)
N_WS_VEC = 5


def predict_workspace() -> tuple[FloatArray, FloatArray]:
    """Scratch arrays for :func:`_imm_predict_ws` (contents need no initialisation)."""
    return np.empty((N_WS_MAT, NX, NX)), np.empty((N_WS_VEC, NX))


@jit
def predict_mode(x: FloatArray, P: FloatArray, dt: float, mode: int, prm: FloatArray) -> None:
    """Predict one mode's mean x (9) and covariance P (9×9) in place over dt seconds."""
    _predict_mode_ws(x, P, dt, mode, prm, np.empty((N_WS_MAT, NX, NX)), np.empty((N_WS_VEC, NX)))


@jit
def _predict_mode_ws(x: FloatArray, P: FloatArray, dt: float, mode: int, prm: FloatArray,
                     wm: FloatArray, wv: FloatArray) -> None:
    """:func:`predict_mode` with its scratch given (see :func:`predict_workspace`)."""
    if dt <= 0.0:
        return
    n = max(1, math.ceil(abs(dt) / MAX_SUBSTEP_S))
    h = dt / n
    # phi needs no identity: the first sub-step overwrites it (n >= 1).
    phi = wm[WS_PHI]
    work = wm[WS_WORK:WS_WORK + 4]
    mid = wv[WS_MID, :3]
    for step in range(n):
        _substep_ws(x, h, mode == 1, phi, step == 0, work, mid)
    tmp = wm[WS_TMP]
    _matmul(phi, P, tmp)
    Q = wm[WS_Q]
    _process_noise(dt, mode, prm, Q)
    _matmul_bt(tmp, phi, P)
    for i in range(NX):
        for j in range(NX):
            P[i, j] += Q[i, j]
    _symmetrise(P)


@jit
def _symmetrise(P: FloatArray) -> None:
    n = P.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            m = 0.5 * (P[i, j] + P[j, i])
            P[i, j] = m
            P[j, i] = m


@jit
def height_m(r: FloatArray) -> float:
    """Height above the ellipsoid surface point under r (within metres of geodetic)."""
    rn = math.sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2])
    s2 = (r[2] / rn) ** 2
    e2 = earth.WGS84_E2
    return rn - AE * math.sqrt((1.0 - e2) / (1.0 - e2 * (1.0 - s2)))


@jit
def transition_matrix(dt: float, prm: FloatArray, in_air: bool) -> FloatArray:
    """Mode transition probabilities over dt: row i → column j.

    Above the atmosphere a ballistic object stays ballistic (engines do not relight
    after burnout; the long sojourn only keeps staging gaps recoverable); inside it,
    drag switches re-entry vehicles to the powered (non-gravitational force) mode.
    """
    tau01 = prm[P_TAU01_AIR] if in_air else prm[P_TAU01]
    p01 = 1.0 - math.exp(-max(dt, 0.0) / tau01)
    p10 = 1.0 - math.exp(-max(dt, 0.0) / prm[P_TAU10])
    pi = np.empty((2, 2))
    pi[0, 0], pi[0, 1] = 1.0 - p01, p01
    pi[1, 0], pi[1, 1] = p10, 1.0 - p10
    return pi


@jit
def imm_predict(
    xm: FloatArray, Pm: FloatArray, mu: FloatArray, dt: float, prm: FloatArray
) -> None:
    """IMM mixing and mode-matched prediction of one track, in place.

    xm (2, 9), Pm (2, 9, 9), mu (2,) → predicted per-mode states and mode probabilities.
    """
    wm, wv = np.empty((N_WS_MAT, NX, NX)), np.empty((N_WS_VEC, NX))
    _imm_predict_ws(xm, Pm, mu, dt, prm, wm, wv)


@jit
def _transition_into(dt: float, prm: FloatArray, in_air: bool, pi: FloatArray) -> None:
    """:func:`transition_matrix` written into pi (2×2)."""
    tau01 = prm[P_TAU01_AIR] if in_air else prm[P_TAU01]
    p01 = 1.0 - math.exp(-max(dt, 0.0) / tau01)
    p10 = 1.0 - math.exp(-max(dt, 0.0) / prm[P_TAU10])
    pi[0, 0], pi[0, 1] = 1.0 - p01, p01
    pi[1, 0], pi[1, 1] = p10, 1.0 - p10


@jit
def _imm_predict_ws(xm: FloatArray, Pm: FloatArray, mu: FloatArray, dt: float,
                    prm: FloatArray, wm: FloatArray, wv: FloatArray) -> None:
    """:func:`imm_predict` with its scratch given (see :func:`predict_workspace`): the
    same arithmetic in the same order, without allocating."""
    in_air = height_m(xm[0]) < prm[P_AIR_TOP_M]
    pi = wm[WS_TMP, :2, :2]  # free until the modes' predictions
    _transition_into(dt, prm, in_air, pi)
    c = wv[WS_C, :2]
    c[:] = 0.0
    for j in range(2):
        for i in range(2):
            c[j] += pi[i, j] * mu[i]
    # Burnout happens at an unknown moment inside the interval: a powered hypothesis that
    # turns ballistic now still thrusts for a uniform fraction u of dt. Relative to a
    # ballistic prediction that displaces it by e_r = a dt² (u − u²/2), e_v = a dt u:
    # means (dt²/3, dt/2)·a, second moments (2/15 dt⁴, 5/24 dt³, 1/3 dt²)·E[a aᵀ].
    # Mode 1's contribution to mode 0's mixture is shifted and widened accordingly.
    sw_x = wv[WS_SWX]
    sw_x[:] = xm[1]
    sw_P = wm[WS_SWP]
    sw_P[:, :] = Pm[1]
    for k in range(3):
        sw_x[k] += dt**2 / 3.0 * xm[1, 6 + k]
        sw_x[3 + k] += dt / 2.0 * xm[1, 6 + k]
        for m in range(3):
            aa = xm[1, 6 + k] * xm[1, 6 + m]
            second = aa + Pm[1, 6 + k, 6 + m]
            sw_P[k, m] += (2.0 / 15.0) * dt**4 * second - dt**4 / 9.0 * aa
            cross = (5.0 / 24.0) * dt**3 * second - dt**3 / 6.0 * aa
            sw_P[k, 3 + m] += cross
            sw_P[3 + k, m] += cross
            sw_P[3 + k, 3 + m] += dt**2 / 3.0 * second - dt**2 / 4.0 * aa
    x0 = wv[WS_X0:WS_X0 + 2]
    x0[:, :] = 0.0
    P0 = wm[WS_P0:WS_P0 + 2]
    for j in range(2):
        for i in range(2):
            w = pi[i, j] * mu[i] / c[j] if c[j] > 0 else 0.5
            xi = sw_x if (j == 0 and i == 1) else xm[i]
            for k in range(NX):
                x0[j, k] += w * xi[k]
        w0 = pi[0, j] * mu[0] / c[j] if c[j] > 0 else 0.5
        w1 = pi[1, j] * mu[1] / c[j] if c[j] > 0 else 0.5
        _mix9(P0[j], w0, xm[0], Pm[0], w1, sw_x if j == 0 else xm[1],
              sw_P if j == 0 else Pm[1], x0[j])
    for j in range(2):
        xm[j, :] = x0[j]
        Pm[j, :, :] = P0[j]
        _predict_mode_ws(xm[j], Pm[j], dt, j, prm, wm, wv)
        mu[j] = c[j]


@jit
def _mix9(P: FloatArray, wa: float, xa: FloatArray, Pa: FloatArray, wb: float,
          xb: FloatArray, Pb: FloatArray, x: FloatArray) -> None:
    """P (9×9) = Σ w (Pi + (xi − x)(xi − x)ᵀ) over two modes a, b: each entry from 0,
    adding ``w * (Pi[k, m] + dk * (xi[m] - x[m]))`` (dk = xi[k] − x[k]) for a, then b,
    a row in scalars (the moment matching of the IMM's mixing and estimate)."""
    a0, a1, a2 = xa[0] - x[0], xa[1] - x[1], xa[2] - x[2]
    a3, a4, a5 = xa[3] - x[3], xa[4] - x[4], xa[5] - x[5]
    a6, a7, a8 = xa[6] - x[6], xa[7] - x[7], xa[8] - x[8]
    b0, b1, b2 = xb[0] - x[0], xb[1] - x[1], xb[2] - x[2]
    b3, b4, b5 = xb[3] - x[3], xb[4] - x[4], xb[5] - x[5]
    b6, b7, b8 = xb[6] - x[6], xb[7] - x[7], xb[8] - x[8]
    for k in range(NX):
        da = xa[k] - x[k]
        db = xb[k] - x[k]
        P[k, 0] = 0.0 + wa * (Pa[k, 0] + da * a0) + wb * (Pb[k, 0] + db * b0)
        P[k, 1] = 0.0 + wa * (Pa[k, 1] + da * a1) + wb * (Pb[k, 1] + db * b1)
        P[k, 2] = 0.0 + wa * (Pa[k, 2] + da * a2) + wb * (Pb[k, 2] + db * b2)
        P[k, 3] = 0.0 + wa * (Pa[k, 3] + da * a3) + wb * (Pb[k, 3] + db * b3)
        P[k, 4] = 0.0 + wa * (Pa[k, 4] + da * a4) + wb * (Pb[k, 4] + db * b4)
        P[k, 5] = 0.0 + wa * (Pa[k, 5] + da * a5) + wb * (Pb[k, 5] + db * b5)
        P[k, 6] = 0.0 + wa * (Pa[k, 6] + da * a6) + wb * (Pb[k, 6] + db * b6)
        P[k, 7] = 0.0 + wa * (Pa[k, 7] + da * a7) + wb * (Pb[k, 7] + db * b7)
        P[k, 8] = 0.0 + wa * (Pa[k, 8] + da * a8) + wb * (Pb[k, 8] + db * b8)


@jit
def combine(xm: FloatArray, Pm: FloatArray, mu: FloatArray, x: FloatArray, P: FloatArray) -> None:
    """Moment-matched single estimate of the mode mixture."""
    x[:] = 0.0
    for j in range(xm.shape[0]):
        for k in range(NX):
            x[k] += mu[j] * xm[j, k]
    if xm.shape[0] == 2:
        _mix9(P, mu[0], xm[0], Pm[0], mu[1], xm[1], Pm[1], x)
        return
    P[:, :] = 0.0
    for j in range(xm.shape[0]):
        for k in range(NX):
            dk = xm[j, k] - x[k]
            for m in range(NX):
                P[k, m] += mu[j] * (Pm[j, k, m] + dk * (xm[j, m] - x[m]))


@jit_inline
def _mod_2pi(y: float) -> float:
    """y % 2π (Python's float modulo, to the bit), without the libm fmod call for
    y in (−2π, 2π): there fmod(y, 2π) is y itself, and a negative y gets 2π added."""
    if 0.0 < y < TWO_PI:
        return y
    if -TWO_PI < y < 0.0:
        return y + TWO_PI
    return y % TWO_PI


@jit
def radar_h(x: FloatArray, site: FloatArray, basis: FloatArray, nz: int,
            z: FloatArray, H: FloatArray) -> None:
    """Polar radar measurement [range, az, el(, range rate)] of x and its Jacobian H (nz×9).

    ``basis`` rows are the site's east, north, up unit vectors in ECEF.
    """
    dx, dy, dz = x[0] - site[0], x[1] - site[1], x[2] - site[2]
    e = basis[0, 0] * dx + basis[0, 1] * dy + basis[0, 2] * dz
    n = basis[1, 0] * dx + basis[1, 1] * dy + basis[1, 2] * dz
    u = basis[2, 0] * dx + basis[2, 1] * dy + basis[2, 2] * dz
    h2 = e * e + n * n
    hz = math.sqrt(h2)
    rg2 = h2 + u * u
    rg = math.sqrt(rg2)
    z[0] = rg
    z[1] = _mod_2pi(math.atan2(e, n))
    z[2] = math.atan2(u, hz)
    H[:, :] = 0.0
    # H = J basis, J the Jacobian of (range, az, el) in ENU (rows written out: no scratch).
    for i in range(3):
        if i == 0:
            j0, j1, j2 = e / rg, n / rg, u / rg
        elif i == 1:
            j0, j1, j2 = n / h2, -e / h2, 0.0
        else:
            j0, j1, j2 = -e * u / (rg2 * hz), -n * u / (rg2 * hz), hz / rg2
        for j in range(3):
            s = 0.0
            s += j0 * basis[0, j]
            s += j1 * basis[1, j]
            s += j2 * basis[2, j]
            H[i, j] = s
    if nz == 4:
        # Range rate: d/dt |r − s| = (r − s)·v / |r − s| (site fixed in ECEF).
        dv = 0.0
        for i in range(3):
            dv += (x[i] - site[i]) * x[3 + i]
        z[3] = dv / rg
        for i in range(3):
            H[3, i] = x[3 + i] / rg - dv * (x[i] - site[i]) / (rg * rg2)
            H[3, 3 + i] = (x[i] - site[i]) / rg


@jit
def los_h(x: FloatArray, site: FloatArray, frame: FloatArray, z: FloatArray,
          H: FloatArray) -> None:
    """Line-of-sight angles of x seen from a satellite and their Jacobian H (2×9).

    ``frame`` rows are the satellite's east, north and nadir unit vectors in ECEF;
    x = atan2(c·east, c·nadir), y = atan2(c·north, c·nadir) for c = r − site
    (:mod:`trilink.sensors.infrared`). Range is not observed: a bearings-only plot.
    """
    dx, dy, dz = x[0] - site[0], x[1] - site[1], x[2] - site[2]
    ce = frame[0, 0] * dx + frame[0, 1] * dy + frame[0, 2] * dz
    cn = frame[1, 0] * dx + frame[1, 1] * dy + frame[1, 2] * dz
    cd = frame[2, 0] * dx + frame[2, 1] * dy + frame[2, 2] * dz
    a2 = ce * ce + cd * cd
    b2 = cn * cn + cd * cd
    z[0] = math.atan2(ce, cd)
    z[1] = math.atan2(cn, cd)
    H[:, :] = 0.0
    for j in range(3):
        H[0, j] = (cd * frame[0, j] - ce * frame[2, j]) / a2
        H[1, j] = (cd * frame[1, j] - cn * frame[2, j]) / b2


@jit
def measure_h(x: FloatArray, site: FloatArray, basis: FloatArray, kind: int, nz: int,
              z: FloatArray, H: FloatArray) -> None:
    """Predicted measurement of x and its Jacobian for a sensor of ``kind``."""
    if kind == LOS:
        los_h(x, site, basis, z, H)
    else:
        radar_h(x, site, basis, nz, z, H)


@jit
def _cholesky_solve_logdet(S: FloatArray, B: FloatArray) -> float:
    """Solve S X = B in place (B: n×k) with Cholesky; return log det S (inf if not PD)."""
    n = S.shape[0]
    L = np.zeros((n, n))
    logdet = 0.0
    for i in range(n):
        for j in range(i + 1):
            s = S[i, j]
            for k in range(j):
                s -= L[i, k] * L[j, k]
            if i == j:
                if s <= 0.0:
                    return math.inf
                L[i, i] = math.sqrt(s)
                logdet += 2.0 * math.log(L[i, i])
            else:
                L[i, j] = s / L[j, j]
    for c in range(B.shape[1]):
        for i in range(n):
            s = B[i, c]
            for k in range(i):
                s -= L[i, k] * B[k, c]
            B[i, c] = s / L[i, i]
        for i in range(n - 1, -1, -1):
            s = B[i, c]
            for k in range(i + 1, n):
                s -= L[k, i] * B[k, c]
            B[i, c] = s / L[i, i]
    return logdet


@jit_inline
def _project(P: FloatArray, H: FloatArray, R: FloatArray, nh: int, PHt: FloatArray,
             S: FloatArray) -> None:
    """(P Hᵀ)ᵀ into PHt (nz×9) and S = H P Hᵀ + R, summing over H's first ``nh``
    columns (the others are zero: :func:`_h_columns`; :func:`innovation` sums all nine)."""
    nz = S.shape[0]
    for i in range(NX):
        for j in range(nz):
            s = 0.0
            for k in range(nh):
                s += P[i, k] * H[j, k]
            PHt[j, i] = s
    for i in range(nz):
        for j in range(nz):
            s = R[i, j]
            for k in range(nh):
                s += H[i, k] * PHt[j, k]
            S[i, j] = s
    _symmetrise(S)


@jit
def _h_columns(kind: int, nz: int) -> int:
    """How many leading columns of H can be non-zero (the rest are exactly 0: positions
    only, or positions and velocities for range rate). Sums over k skip H's zero columns:
    adding the products P·0 = ±0 to a sum started at +0 never changes it (finite P), so
    the results are the full sums' to the bit."""
    return 6 if (kind == RADAR and nz == 4) else 3


@jit
def _residual(zm: FloatArray, zh: FloatArray, kind: int, nu: FloatArray) -> None:
    for i in range(zm.shape[0]):
        nu[i] = zm[i] - zh[i]
    if kind == RADAR:
        nu[1] = _mod_2pi(nu[1] + math.pi) - math.pi


@jit
def innovation(x: FloatArray, P: FloatArray, zm: FloatArray, R: FloatArray,
               site: FloatArray, basis: FloatArray, nu: FloatArray, S: FloatArray,
               H: FloatArray, PH: FloatArray, kind: int = RADAR) -> float:
    """Innovation nu, its covariance S, P Hᵀ and the Mahalanobis distance² of a plot."""
    nz = zm.shape[0]
    zh = np.empty(nz)
    PHt = np.empty((nz, NX))
    measure_h(x, site, basis, kind, nz, zh, H)
    _residual(zm, zh, kind, nu)
    _project(P, H, R, NX, PHt, S)
    for i in range(NX):
        for j in range(nz):
            PH[i, j] = PHt[j, i]
    sol = nu.reshape(nz, 1).copy()
    logdet = _cholesky_solve_logdet(S.copy(), sol)
    if not math.isfinite(logdet):
        return math.inf
    d2 = 0.0
    for i in range(nz):
        d2 += nu[i] * sol[i, 0]
    return d2


@jit
def ekf_update(x: FloatArray, P: FloatArray, zm: FloatArray, R: FloatArray,
               site: FloatArray, basis: FloatArray, kind: int = RADAR) -> float:
    """EKF update (Joseph form) in place; returns the log-likelihood of the measurement."""
    return _ekf_update_ws(x, P, zm, R, site, basis, kind, update_workspace(zm.shape[0]))


UpdateWorkspace = tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray,
                        FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]


@jit
def update_workspace(nz: int) -> UpdateWorkspace:
    """Scratch arrays for :func:`_ekf_update_ws` with nz-dimensional plots: ν, ẑ, S⁻¹ν
    (nz); S, its Cholesky factor (nz×nz); H, Kᵀ, R Kᵀ, (P Hᵀ)ᵀ (nz×9); I − K H and a
    product (9×9). Separate contiguous arrays: views of one block compiled slower."""
    return (np.empty(nz), np.empty(nz), np.empty(nz), np.empty((nz, nz)), np.empty((nz, nz)),
            np.empty((nz, NX)), np.empty((nz, NX)), np.empty((nz, NX)), np.empty((nz, NX)),
            np.empty((NX, NX)), np.empty((NX, NX)))


@jit
def _chol_solve(L: FloatArray, B: FloatArray) -> None:
    """Solve L Lᵀ X = B in place (B: n×k), L from :func:`_cholesky` (the substitutions of
    :func:`_cholesky_solve_logdet`, term for term)."""
    n = L.shape[0]
    for c in range(B.shape[1]):
        for i in range(n):
            s = B[i, c]
            for k in range(i):
                s -= L[i, k] * B[k, c]
            B[i, c] = s / L[i, i]
        for i in range(n - 1, -1, -1):
            s = B[i, c]
            for k in range(i + 1, n):
                s -= L[k, i] * B[k, c]
            B[i, c] = s / L[i, i]


@jit
def _chol_solve9(L: FloatArray, B: FloatArray) -> None:
    """:func:`_chol_solve` for B of nine columns (n×9): each column's substitutions term
    for term, the nine columns side by side in scalars (vectorisable)."""
    n = L.shape[0]
    for i in range(n):
        s0, s1, s2, s3, s4 = B[i, 0], B[i, 1], B[i, 2], B[i, 3], B[i, 4]
        s5, s6, s7, s8 = B[i, 5], B[i, 6], B[i, 7], B[i, 8]
        for k in range(i):
            lik = L[i, k]
            s0 -= lik * B[k, 0]
            s1 -= lik * B[k, 1]
            s2 -= lik * B[k, 2]
            s3 -= lik * B[k, 3]
            s4 -= lik * B[k, 4]
            s5 -= lik * B[k, 5]
            s6 -= lik * B[k, 6]
            s7 -= lik * B[k, 7]
            s8 -= lik * B[k, 8]
        d = L[i, i]
        B[i, 0], B[i, 1], B[i, 2] = s0 / d, s1 / d, s2 / d
        B[i, 3], B[i, 4], B[i, 5] = s3 / d, s4 / d, s5 / d
        B[i, 6], B[i, 7], B[i, 8] = s6 / d, s7 / d, s8 / d
    for i in range(n - 1, -1, -1):
        s0, s1, s2, s3, s4 = B[i, 0], B[i, 1], B[i, 2], B[i, 3], B[i, 4]
        s5, s6, s7, s8 = B[i, 5], B[i, 6], B[i, 7], B[i, 8]
        for k in range(i + 1, n):
            lki = L[k, i]
            s0 -= lki * B[k, 0]
            s1 -= lki * B[k, 1]
            s2 -= lki * B[k, 2]
            s3 -= lki * B[k, 3]
            s4 -= lki * B[k, 4]
            s5 -= lki * B[k, 5]
            s6 -= lki * B[k, 6]
            s7 -= lki * B[k, 7]
            s8 -= lki * B[k, 8]
        d = L[i, i]
        B[i, 0], B[i, 1], B[i, 2] = s0 / d, s1 / d, s2 / d
        B[i, 3], B[i, 4], B[i, 5] = s3 / d, s4 / d, s5 / d
        B[i, 6], B[i, 7], B[i, 8] = s6 / d, s7 / d, s8 / d


@jit
def _rows_times9(A: FloatArray, B: FloatArray, out: FloatArray, transpose_a: bool) -> None:
    """out (r×9) = A B (A r×q) or Aᵀ B (A q×r), B q×9: each entry summed from 0 over q
    in order, a row of out in nine scalars."""
    q = B.shape[0]
    for i in range(out.shape[0]):
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = s8 = 0.0
        for k in range(q):
            a = A[k, i] if transpose_a else A[i, k]
            s0 += a * B[k, 0]
            s1 += a * B[k, 1]
            s2 += a * B[k, 2]
            s3 += a * B[k, 3]
            s4 += a * B[k, 4]
            s5 += a * B[k, 5]
            s6 += a * B[k, 6]
            s7 += a * B[k, 7]
            s8 += a * B[k, 8]
        out[i, 0], out[i, 1], out[i, 2] = s0, s1, s2
        out[i, 3], out[i, 4], out[i, 5] = s3, s4, s5
        out[i, 6], out[i, 7], out[i, 8] = s6, s7, s8


@jit
def _joseph9(IKH: FloatArray, P: FloatArray, tmp: FloatArray, nh: int) -> None:
    """P ← (I − K H) P (I − K H)ᵀ for IKH = I − K H whose columns from ``nh`` on are the
    identity's: :func:`_matmul` then :func:`_matmul_bt` term for term (zero terms skipped,
    the diagonal's 1·x added in its place in the sum, last), without visiting the
    identity's zeros."""
    for i in range(NX):
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = s8 = 0.0
        for k in range(nh):
            a = IKH[i, k]
            if a != 0.0:
                s0 += a * P[k, 0]
                s1 += a * P[k, 1]
                s2 += a * P[k, 2]
                s3 += a * P[k, 3]
                s4 += a * P[k, 4]
                s5 += a * P[k, 5]
                s6 += a * P[k, 6]
                s7 += a * P[k, 7]
                s8 += a * P[k, 8]
        if i >= nh:
            s0 += P[i, 0]
            s1 += P[i, 1]
            s2 += P[i, 2]
            s3 += P[i, 3]
            s4 += P[i, 4]
            s5 += P[i, 5]
            s6 += P[i, 6]
            s7 += P[i, 7]
            s8 += P[i, 8]
        tmp[i, 0], tmp[i, 1], tmp[i, 2] = s0, s1, s2
        tmp[i, 3], tmp[i, 4], tmp[i, 5] = s3, s4, s5
        tmp[i, 6], tmp[i, 7], tmp[i, 8] = s6, s7, s8
    for j in range(NX):
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = s8 = 0.0
        for k in range(nh):
            b = IKH[j, k]
            if b != 0.0:
                s0 += tmp[0, k] * b
                s1 += tmp[1, k] * b
                s2 += tmp[2, k] * b
                s3 += tmp[3, k] * b
                s4 += tmp[4, k] * b
                s5 += tmp[5, k] * b
                s6 += tmp[6, k] * b
                s7 += tmp[7, k] * b
                s8 += tmp[8, k] * b
        if j >= nh:
            s0 += tmp[0, j]
            s1 += tmp[1, j]
            s2 += tmp[2, j]
            s3 += tmp[3, j]
            s4 += tmp[4, j]
            s5 += tmp[5, j]
            s6 += tmp[6, j]
            s7 += tmp[7, j]
            s8 += tmp[8, j]
        P[0, j], P[1, j], P[2, j] = s0, s1, s2
        P[3, j], P[4, j], P[5, j] = s3, s4, s5
        P[6, j], P[7, j], P[8, j] = s6, s7, s8


@jit
def _ekf_update_ws(x: FloatArray, P: FloatArray, zm: FloatArray, R: FloatArray,
                   site: FloatArray, basis: FloatArray, kind: int,
                   ws: UpdateWorkspace) -> float:
    """:func:`ekf_update` with its scratch given (:func:`update_workspace`): the same
    arithmetic, without allocating, and S factorised once (the original factorised the
    same S twice, to the same bits)."""
    nz = zm.shape[0]
    nu, zh, sol, S, L, H, Kt, RK, PHt, IKH, tmp = ws
    # The innovation (:func:`innovation`).
    measure_h(x, site, basis, kind, nz, zh, H)
    nh = _h_columns(kind, nz)
    _residual(zm, zh, kind, nu)
    _project(P, H, R, nh, PHt, S)
    logdet = _cholesky(S, L)
    if not math.isfinite(logdet):
        return -math.inf
    for i in range(nz):
        sol[i] = nu[i]
    _chol_solve(L, sol.reshape(nz, 1))
    d2 = 0.0
    for i in range(nz):
        d2 += nu[i] * sol[i]
    if not math.isfinite(d2):
        return -math.inf
    # K = P Hᵀ S⁻¹, via S Kᵀ = H P = (P Hᵀ)ᵀ (P symmetric).
    Kt[:, :] = PHt
    _chol_solve9(L, Kt)
    for i in range(NX):
        s = 0.0
        for k in range(nz):
            s += Kt[k, i] * nu[k]
        x[i] += s
    # Joseph form: (I − K H) P (I − K H)ᵀ + K R Kᵀ.
    for i in range(NX):
        for j in range(NX):
            if j >= nh:  # K H is exactly 0 there (H's zero columns)
                IKH[i, j] = 1.0 if i == j else 0.0
                continue
            s = 0.0
            for k in range(nz):
                s += Kt[k, i] * H[k, j]
            IKH[i, j] = (1.0 if i == j else 0.0) - s
    _joseph9(IKH, P, tmp, nh)
    _rows_times9(R, Kt, RK, False)  # R Kᵀ
    _rows_times9(Kt, RK, tmp, True)  # K R Kᵀ
    for i in range(NX):
        for j in range(NX):
            P[i, j] += tmp[i, j]
    _symmetrise(P)
    return float(-0.5 * (d2 + logdet + nz * LOG_2PI))


@jit
def imm_update(xm: FloatArray, Pm: FloatArray, mu: FloatArray, zm: FloatArray,
               R: FloatArray, site: FloatArray, basis: FloatArray, kind: int = RADAR) -> None:
    """Update every mode with one measurement and the mode probabilities, in place."""
    _imm_update_ws(xm, Pm, mu, zm, R, site, basis, kind, update_workspace(zm.shape[0]))


@jit
def _imm_update_ws(xm: FloatArray, Pm: FloatArray, mu: FloatArray, zm: FloatArray,
                   R: FloatArray, site: FloatArray, basis: FloatArray, kind: int,
                   ws: UpdateWorkspace) -> None:
    """:func:`imm_update` with its scratch given (:func:`update_workspace`)."""
    l0 = _ekf_update_ws(xm[0], Pm[0], zm, R, site, basis, kind, ws)
    l1 = _ekf_update_ws(xm[1], Pm[1], zm, R, site, basis, kind, ws)
    top = max(l0, l1)
    m0 = mu[0] * math.exp(l0 - top) if math.isfinite(l0) else 0.0
    m1 = mu[1] * math.exp(l1 - top) if math.isfinite(l1) else 0.0
    total = 0.0 + m0
    total += m1
    if total <= 0.0 or not math.isfinite(total):
        mu[0] = mu[1] = 0.5
    else:
        mu[0] = max(m0 / total, 1e-12)
        mu[1] = max(m1 / total, 1e-12)


@jit
def batch_predict(xm: FloatArray, Pm: FloatArray, mu: FloatArray, t_last: FloatArray,
                  rows: NDArray[np.int64], t_s: float, prm: FloatArray) -> None:
    """Predict the selected tracks (rows) to t_s in place."""
    wm, wv = np.empty((N_WS_MAT, NX, NX)), np.empty((N_WS_VEC, NX))
    for idx in range(rows.shape[0]):
        i = rows[idx]
        dt = t_s - t_last[i]
        if dt > 0.0:
            _imm_predict_ws(xm[i], Pm[i], mu[i], dt, prm, wm, wv)
            t_last[i] = t_s


@jit
def _cholesky(S: FloatArray, L: FloatArray) -> float:
    """Lower Cholesky factor L of S; returns log det S (inf if S is not PD)."""
    n = S.shape[0]
    L[:, :] = 0.0
    logdet = 0.0
    for i in range(n):
        for j in range(i + 1):
            s = S[i, j]
            for k in range(j):
                s -= L[i, k] * L[j, k]
            if i == j:
                if s <= 0.0:
                    return math.inf
                L[i, i] = math.sqrt(s)
                logdet += 2.0 * math.log(L[i, i])
            else:
                L[i, j] = s / L[j, j]
    return logdet


@jit
def batch_gate(xm: FloatArray, Pm: FloatArray, mu: FloatArray, rows: NDArray[np.int64],
               z: FloatArray, R: FloatArray, site: FloatArray, basis: FloatArray,
               gate: float, kind: int = RADAR) -> tuple[FloatArray, FloatArray]:
    """Cost (−log likelihood) of assigning each detection to each track; inf outside the gate.

    Uses each track's moment-matched prediction. The EKF linearises at the prediction,
    so the predicted plot, S and its Cholesky factor are computed once per track; each
    detection then costs one triangular solve. Returns the cost and the normalised
    innovation squared, both (len(rows), len(z)).
    """
    n_t = rows.shape[0]
    n_z, nz = z.shape[0], z.shape[1]
    cost = np.full((n_t, n_z), np.inf)
    nis = np.full((n_t, n_z), np.inf)
    x = np.empty(NX)
    P = np.empty((NX, NX))
    zh = np.empty(nz)
    nu = np.empty(nz)
    y = np.empty(nz)
    S = np.empty((nz, nz))
    L = np.empty((nz, nz))
    H = np.empty((nz, NX))
    PHt = np.empty((nz, NX))
    nh = _h_columns(kind, nz)
    for a in range(n_t):
        i = rows[a]
        combine(xm[i], Pm[i], mu[i], x, P)
        measure_h(x, site, basis, kind, nz, zh, H)  # the predicted plot, S = H P Hᵀ + R
        _project(P, H, R, nh, PHt, S)
        logdet = _cholesky(S, L)
        if not math.isfinite(logdet):
            continue
        for b in range(n_z):
            # d² only grows from (ν₀/L₀₀)²: a plot outside the gate on its first
            # coordinate alone (range, or the first angle) is outside it, exactly.
            y0 = (z[b, 0] - zh[0]) / L[0, 0]
            if y0 * y0 > gate:
                continue
            _residual(z[b], zh, kind, nu)
            d2 = 0.0
            for r in range(nz):  # forward solve L y = nu: d² = |y|²
                s = nu[r]
                for c in range(r):
                    s -= L[r, c] * y[c]
                y[r] = s / L[r, r]
                d2 += y[r] * y[r]
            if d2 <= gate:
                cost[a, b] = 0.5 * (d2 + logdet)
                nis[a, b] = d2
    return cost, nis


@jit
def batch_update(xm: FloatArray, Pm: FloatArray, mu: FloatArray, rows: NDArray[np.int64],
                 z: FloatArray, R: FloatArray, site: FloatArray, basis: FloatArray,
                 kind: int = RADAR) -> None:
    """Update track rows[k] with detection z[k] for every k."""
    ws = update_workspace(z.shape[1])
    for k in range(rows.shape[0]):
        _imm_update_ws(xm[rows[k]], Pm[rows[k]], mu[rows[k]], z[k], R, site, basis, kind, ws)


@jit
def batch_combine(xm: FloatArray, Pm: FloatArray, mu: FloatArray,
                  x: FloatArray, P: FloatArray) -> None:
    """Moment-matched estimates of all tracks: x (T, 9), P (T, 9, 9)."""
    for i in range(xm.shape[0]):
        combine(xm[i], Pm[i], mu[i], x[i], P[i])


@jit
def split_assignment(cost: FloatArray) -> tuple[NDArray[np.int64], NDArray[np.int64],
                                                NDArray[np.int64], NDArray[np.int64], float]:
    """Split an assignment problem (inf = not gated) into its uncontested part and the rest.

    A track with one gated detection that no other track gates is an isolated pair: the
    optimal assignment takes it. Returns those pairs (rows, cols), the rows and columns
    left in contest (every gated entry of these rows lies in these columns), and the
    largest finite cost (nan if none).
    """
    n_t, n_z = cost.shape
    row_n = np.zeros(n_t, dtype=np.int64)
    row_c = np.full(n_t, -1, dtype=np.int64)
    col_n = np.zeros(n_z, dtype=np.int64)
    top = -math.inf
    for a in range(n_t):
        for b in range(n_z):
            c = cost[a, b]
            if math.isfinite(c):
                row_n[a] += 1
                row_c[a] = b
                col_n[b] += 1
                top = max(top, c)
    pr = np.empty(n_t, dtype=np.int64)
    pc = np.empty(n_t, dtype=np.int64)
    paired_col = np.zeros(n_z, dtype=np.bool_)
    rest_r = np.empty(n_t, dtype=np.int64)
    n_p = 0
    n_r = 0
    for a in range(n_t):
        if row_n[a] == 1 and col_n[row_c[a]] == 1:
            pr[n_p] = a
            pc[n_p] = row_c[a]
            paired_col[row_c[a]] = True
            n_p += 1
        elif row_n[a] >= 1:
            rest_r[n_r] = a
            n_r += 1
    rest_c = np.empty(n_z, dtype=np.int64)
    n_c = 0
    for b in range(n_z):
        if col_n[b] >= 1 and not paired_col[b]:
            rest_c[n_c] = b
            n_c += 1
    return pr[:n_p], pc[:n_p], rest_r[:n_r], rest_c[:n_c], top if n_p + n_r else math.nan


@jit
def prune_flags(x: FloatArray, P: FloatArray, last_s: FloatArray, t_s: float,
                max_silence_s: float, max_position_var_m2: float,
                near_m: float) -> tuple[NDArray[np.bool_], NDArray[np.bool_], bool]:
    """Per track (x (T, 9), P (T, 9, 9), last update times (T,)): position variance above
    the limit, silent for longer than allowed (the same sums and comparisons as the
    NumPy expressions they replace), and whether any track is within ``near_m`` of the
    equatorial radius or below it (the ellipsoid lies inside that radius: a track farther
    out is above the ground)."""
    n = x.shape[0]
    vague = np.empty(n, dtype=np.bool_)
    stale = np.empty(n, dtype=np.bool_)
    low = False
    lim = (AE + near_m) * (AE + near_m)
    for i in range(n):
        vague[i] = P[i, 0, 0] + P[i, 1, 1] + P[i, 2, 2] > max_position_var_m2
        stale[i] = t_s - last_s[i] > max_silence_s
        if not x[i, 0] * x[i, 0] + x[i, 1] * x[i, 1] + x[i, 2] * x[i, 2] > lim:
            low = True  # (NaN included)
    return vague, stale, low


@jit
def close_pairs(pos: FloatArray, max_m: float) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Index pairs (a < b) of positions (N, 3) closer than max_m, in row-major order."""
    n = pos.shape[0]
    lim = max_m * max_m
    a_out = np.empty(n * (n - 1) // 2, dtype=np.int64)
    b_out = np.empty(n * (n - 1) // 2, dtype=np.int64)
    m = 0
    for a in range(n):
        for b in range(a + 1, n):
            d2 = 0.0
            for c in range(3):
                d = pos[a, c] - pos[b, c]
                d2 += d * d
            if d2 < lim:
                a_out[m] = a
                b_out[m] = b
                m += 1
    return a_out[:m], b_out[:m]


@jit
def transition(x: FloatArray, dt: float, mode: int) -> FloatArray:
    """State transition matrix (9×9) of one mode over dt from state x (x is not changed)."""
    s = x.copy()
    phi = np.eye(NX)
    if dt > 0.0:
        n = max(1, math.ceil(dt / MAX_SUBSTEP_S))
        for step in range(n):
            _substep(s, dt / n, mode == 1, phi, step == 0)
    return phi


# --- One radar or infrared scan in few compiled calls (trilink.tracking.tracker) -------------
# Each call from Python costs a microsecond or so of argument checking: the tracker's scan
# makes three, each the same arithmetic as the separate kernels above.


@jit
def scan_predict_gate(xm: FloatArray, Pm: FloatArray, mu: FloatArray, t_last: FloatArray,
                      tentative: NDArray[np.bool_], t_s: float, prm: FloatArray,
                      confirmed_only: bool, z: FloatArray, R: FloatArray, site: FloatArray,
                      basis: FloatArray, gate: float, kind: int, penalty: float
                      ) -> tuple[NDArray[np.int64], FloatArray, FloatArray, NDArray[np.int64],
                                 NDArray[np.int64], NDArray[np.int64], NDArray[np.int64],
                                 float]:
    """Predict the tracks not ahead of t_s (``confirmed_only``: the confirmed ones) to t_s,
    gate the plots z with them (:func:`batch_gate`), add ``penalty`` to the cost of
    tentative tracks and split the assignment (:func:`split_assignment`).

    Returns the rows predicted, the cost and NIS (rows × plots) and the split: isolated
    pairs (row positions, plots), contested row positions and plots, and the largest
    finite cost.
    """
    n = t_last.shape[0]
    rows = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if t_last[i] <= t_s and not (confirmed_only and tentative[i]):
            rows[m] = i
            m += 1
    rows = rows[:m]
    batch_predict(xm, Pm, mu, t_last, rows, t_s, prm)
    cost, nis = batch_gate(xm, Pm, mu, rows, z, R, site, basis, gate, kind)
    n_z = z.shape[0]
    any_tentative = False
    for a in range(m):
        any_tentative = any_tentative or tentative[rows[a]]
    if any_tentative and n_z:
        for a in range(m):  # + 0.0 on confirmed rows, as the NumPy broadcast did
            pen = penalty if tentative[rows[a]] else 0.0
            for b in range(n_z):
                cost[a, b] += pen
    pr, pc, rr, rc, top = split_assignment(cost)
    return rows, cost, nis, pr, pc, rr, rc, top


@jit
def scan_update(xm: FloatArray, Pm: FloatArray, mu: FloatArray, rows: NDArray[np.int64],
                z: FloatArray, dets: NDArray[np.int64], R: FloatArray, site: FloatArray,
                basis: FloatArray, kind: int) -> tuple[FloatArray, FloatArray]:
    """Update track rows[k] with plot z[dets[k]] for every k (:func:`batch_update`), then
    the moment-matched estimates of all tracks (:func:`batch_combine`): x (T, 9),
    P (T, 9, 9)."""
    ws = update_workspace(z.shape[1])
    for k in range(rows.shape[0]):
        i = rows[k]
        _imm_update_ws(xm[i], Pm[i], mu[i], z[dets[k]], R, site, basis, kind, ws)
    n = xm.shape[0]
    x = np.empty((n, NX))
    P = np.empty((n, NX, NX))
    batch_combine(xm, Pm, mu, x, P)
    return x, P


@jit
def scan_prune(x: FloatArray, P: FloatArray, last_s: FloatArray, tentative: NDArray[np.bool_],
               t_s: float, max_silence_s: float, max_position_var_m2: float, near_m: float,
               max_separation_m: float
               ) -> tuple[NDArray[np.bool_], NDArray[np.bool_], bool, NDArray[np.int64],
                          NDArray[np.int64], NDArray[np.int64]]:
    """:func:`prune_flags`, the rows that are tentative, vague or stale (ascending), and
    :func:`close_pairs` among the non-tentative rows (row numbers, row-major order)."""
    vague, stale, low = prune_flags(x, P, last_s, t_s, max_silence_s, max_position_var_m2,
                                    near_m)
    n = x.shape[0]
    look = np.empty(n, dtype=np.int64)
    m = 0
    conf = np.empty(n, dtype=np.int64)
    n_c = 0
    for i in range(n):
        if tentative[i] or vague[i] or stale[i]:
            look[m] = i
            m += 1
        if not tentative[i]:
            conf[n_c] = i
            n_c += 1
    pos = np.empty((n_c, 3))
    for a in range(n_c):
        for c in range(3):
            pos[a, c] = x[conf[a], c]
    pa, pb = close_pairs(pos, max_separation_m)
    for k in range(pa.shape[0]):
        pa[k] = conf[pa[k]]
        pb[k] = conf[pb[k]]
    return vague, stale, low, look[:m], pa, pb
