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


def jit(fn: _Fn) -> _Fn:
    """numba.njit with an on-disk cache, keeping the function's type for mypy."""
    return cast(_Fn, numba.njit(cache=True, nogil=True)(fn))


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
    n, m, p = a.shape[0], a.shape[1], b.shape[1]
    for i in range(n):
        for j in range(p):
            s = 0.0
            for k in range(m):
                s += a[i, k] * b[k, j]
            out[i, j] = s


@jit
def _substep(x: FloatArray, h: float, powered: bool, phi: FloatArray) -> None:
    """Advance x (9) by h seconds with RK4 and multiply phi by this step's transition."""
    r = x[0:3].copy()
    v = x[3:6].copy()
    a = x[6:9].copy() if powered else np.zeros(3)
    k1 = np.empty(3)
    k2 = np.empty(3)
    k3 = np.empty(3)
    k4 = np.empty(3)
    accel(r, v, a, k1)
    r2 = r + 0.5 * h * v
    v2 = v + 0.5 * h * k1
    accel(r2, v2, a, k2)
    r3 = r + 0.5 * h * v2
    v3 = v + 0.5 * h * k2
    accel(r3, v3, a, k3)
    r4 = r + h * v3
    v4 = v + h * k3
    accel(r4, v4, a, k4)
    # Transition of this sub-step: I + A h + (A h)²/2 + (A h)³/6, A at the mid-point.
    A = np.empty((NX, NX))
    _jacobian_a(r2, A)
    Ah = A * h
    Ah2 = np.empty((NX, NX))
    _matmul(Ah, Ah, Ah2)
    Ah3 = np.empty((NX, NX))
    _matmul(Ah2, Ah, Ah3)
    step = np.eye(NX) + Ah + 0.5 * Ah2 + Ah3 / 6.0
    if not powered:
        step[:, 6:9] = 0.0
        step[6:9, :] = 0.0
    new_phi = np.empty((NX, NX))
    _matmul(step, phi, new_phi)
    phi[:, :] = new_phi
    for i in range(3):
        x[i] = r[i] + h / 6.0 * (v[i] + 2.0 * v2[i] + 2.0 * v3[i] + v4[i])
        x[3 + i] = v[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
        x[6 + i] = a[i]


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


@jit
def predict_mode(x: FloatArray, P: FloatArray, dt: float, mode: int, prm: FloatArray) -> None:
    """Predict one mode's mean x (9) and covariance P (9×9) in place over dt seconds."""
    if dt <= 0.0:
        return
    n = max(1, math.ceil(abs(dt) / MAX_SUBSTEP_S))
    h = dt / n
    phi = np.eye(NX)
    for _ in range(n):
        _substep(x, h, mode == 1, phi)
    tmp = np.empty((NX, NX))
    _matmul(phi, P, tmp)
    Q = np.empty((NX, NX))
    _process_noise(dt, mode, prm, Q)
    for i in range(NX):
        for j in range(NX):
            s = 0.0
            for k in range(NX):
                s += tmp[i, k] * phi[j, k]
            P[i, j] = s + Q[i, j]
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
    in_air = height_m(xm[0]) < prm[P_AIR_TOP_M]
    pi = transition_matrix(dt, prm, in_air)
    c = np.zeros(2)
    for j in range(2):
        for i in range(2):
            c[j] += pi[i, j] * mu[i]
    # Burnout happens at an unknown moment inside the interval: a powered hypothesis that
    # turns ballistic now still thrusts for a uniform fraction u of dt. Relative to a
    # ballistic prediction that displaces it by e_r = a dt² (u − u²/2), e_v = a dt u:
    # means (dt²/3, dt/2)·a, second moments (2/15 dt⁴, 5/24 dt³, 1/3 dt²)·E[a aᵀ].
    # Mode 1's contribution to mode 0's mixture is shifted and widened accordingly.
    sw_x = xm[1].copy()
    sw_P = Pm[1].copy()
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
    x0 = np.zeros((2, NX))
    P0 = np.zeros((2, NX, NX))
    for j in range(2):
        for i in range(2):
            w = pi[i, j] * mu[i] / c[j] if c[j] > 0 else 0.5
            xi = sw_x if (j == 0 and i == 1) else xm[i]
            for k in range(NX):
                x0[j, k] += w * xi[k]
        for i in range(2):
            w = pi[i, j] * mu[i] / c[j] if c[j] > 0 else 0.5
            xi = sw_x if (j == 0 and i == 1) else xm[i]
            Pi = sw_P if (j == 0 and i == 1) else Pm[i]
            for k in range(NX):
                dk = xi[k] - x0[j, k]
                for m in range(NX):
                    P0[j, k, m] += w * (Pi[k, m] + dk * (xi[m] - x0[j, m]))
    for j in range(2):
        xm[j, :] = x0[j]
        Pm[j, :, :] = P0[j]
        predict_mode(xm[j], Pm[j], dt, j, prm)
        mu[j] = c[j]


@jit
def combine(xm: FloatArray, Pm: FloatArray, mu: FloatArray, x: FloatArray, P: FloatArray) -> None:
    """Moment-matched single estimate of the mode mixture."""
    x[:] = 0.0
    P[:, :] = 0.0
    for j in range(xm.shape[0]):
        for k in range(NX):
            x[k] += mu[j] * xm[j, k]
    for j in range(xm.shape[0]):
        for k in range(NX):
            dk = xm[j, k] - x[k]
            for m in range(NX):
                P[k, m] += mu[j] * (Pm[j, k, m] + dk * (xm[j, m] - x[m]))


@jit
def radar_h(x: FloatArray, site: FloatArray, basis: FloatArray, nz: int,
            z: FloatArray, H: FloatArray) -> None:
    """Polar radar measurement [range, az, el(, range rate)] of x and its Jacobian H (nz×9).

    ``basis`` rows are the site's east, north, up unit vectors in ECEF.
    """
    d = np.empty(3)
    for i in range(3):
        d[i] = (basis[i, 0] * (x[0] - site[0]) + basis[i, 1] * (x[1] - site[1])
                + basis[i, 2] * (x[2] - site[2]))
    e, n, u = d[0], d[1], d[2]
    h2 = e * e + n * n
    hz = math.sqrt(h2)
    rg2 = h2 + u * u
    rg = math.sqrt(rg2)
    z[0] = rg
    z[1] = math.atan2(e, n) % (2.0 * math.pi)
    z[2] = math.atan2(u, hz)
    J = np.empty((3, 3))
    J[0, 0], J[0, 1], J[0, 2] = e / rg, n / rg, u / rg
    J[1, 0], J[1, 1], J[1, 2] = n / h2, -e / h2, 0.0
    J[2, 0], J[2, 1], J[2, 2] = -e * u / (rg2 * hz), -n * u / (rg2 * hz), hz / rg2
    H[:, :] = 0.0
    for i in range(3):
        for j in range(3):
            s = 0.0
            for k in range(3):
                s += J[i, k] * basis[k, j]
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


@jit
def innovation(x: FloatArray, P: FloatArray, zm: FloatArray, R: FloatArray,
               site: FloatArray, basis: FloatArray, nu: FloatArray, S: FloatArray,
               H: FloatArray, PH: FloatArray) -> float:
    """Innovation nu, its covariance S, P Hᵀ and the Mahalanobis distance² of a plot."""
    nz = zm.shape[0]
    zh = np.empty(nz)
    radar_h(x, site, basis, nz, zh, H)
    for i in range(nz):
        nu[i] = zm[i] - zh[i]
    nu[1] = (nu[1] + math.pi) % (2.0 * math.pi) - math.pi
    for i in range(NX):
        for j in range(nz):
            s = 0.0
            for k in range(NX):
                s += P[i, k] * H[j, k]
            PH[i, j] = s
    for i in range(nz):
        for j in range(nz):
            s = R[i, j]
            for k in range(NX):
                s += H[i, k] * PH[k, j]
            S[i, j] = s
    _symmetrise(S)
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
               site: FloatArray, basis: FloatArray) -> float:
    """EKF update (Joseph form) in place; returns the log-likelihood of the measurement."""
    nz = zm.shape[0]
    nu = np.empty(nz)
    S = np.empty((nz, nz))
    H = np.empty((nz, NX))
    PH = np.empty((NX, nz))
    d2 = innovation(x, P, zm, R, site, basis, nu, S, H, PH)
    if not math.isfinite(d2):
        return -math.inf
    # K = P Hᵀ S⁻¹, via S Kᵀ = H P = (P Hᵀ)ᵀ (P symmetric).
    Kt = PH.T.copy()
    logdet = _cholesky_solve_logdet(S, Kt)
    for i in range(NX):
        s = 0.0
        for k in range(nz):
            s += Kt[k, i] * nu[k]
        x[i] += s
    # Joseph form: (I − K H) P (I − K H)ᵀ + K R Kᵀ.
    IKH = np.eye(NX)
    for i in range(NX):
        for j in range(NX):
            s = 0.0
            for k in range(nz):
                s += Kt[k, i] * H[k, j]
            IKH[i, j] -= s
    tmp = np.empty((NX, NX))
    _matmul(IKH, P, tmp)
    for i in range(NX):
        for j in range(NX):
            s = 0.0
            for k in range(NX):
                s += tmp[i, k] * IKH[j, k]
            for k in range(nz):
                for m in range(nz):
                    s += Kt[k, i] * R[k, m] * Kt[m, j]
            P[i, j] = s
    _symmetrise(P)
    return float(-0.5 * (d2 + logdet + nz * LOG_2PI))


@jit
def imm_update(xm: FloatArray, Pm: FloatArray, mu: FloatArray, zm: FloatArray,
               R: FloatArray, site: FloatArray, basis: FloatArray) -> None:
    """Update every mode with one measurement and the mode probabilities, in place."""
    loglik = np.empty(2)
    for j in range(2):
        loglik[j] = ekf_update(xm[j], Pm[j], zm, R, site, basis)
    top = max(loglik[0], loglik[1])
    total = 0.0
    for j in range(2):
        mu[j] = mu[j] * math.exp(loglik[j] - top) if math.isfinite(loglik[j]) else 0.0
        total += mu[j]
    if total <= 0.0 or not math.isfinite(total):
        mu[0] = mu[1] = 0.5
    else:
        for j in range(2):
            mu[j] = max(mu[j] / total, 1e-12)


@jit
def batch_predict(xm: FloatArray, Pm: FloatArray, mu: FloatArray, t_last: FloatArray,
                  rows: NDArray[np.int64], t_s: float, prm: FloatArray) -> None:
    """Predict the selected tracks (rows) to t_s in place."""
    for idx in range(rows.shape[0]):
        i = rows[idx]
        dt = t_s - t_last[i]
        if dt > 0.0:
            imm_predict(xm[i], Pm[i], mu[i], dt, prm)
            t_last[i] = t_s


@jit
def batch_gate(xm: FloatArray, Pm: FloatArray, mu: FloatArray, rows: NDArray[np.int64],
               z: FloatArray, R: FloatArray, site: FloatArray, basis: FloatArray,
               gate: float) -> tuple[FloatArray, FloatArray]:
    """Cost (−log likelihood) of assigning each detection to each track; inf outside the gate.

    Uses each track's moment-matched prediction. Returns the cost and the normalised
    innovation squared, both (len(rows), len(z)).
    """
    n_t = rows.shape[0]
    n_z, nz = z.shape[0], z.shape[1]
    cost = np.full((n_t, n_z), np.inf)
    nis = np.full((n_t, n_z), np.inf)
    x = np.empty(NX)
    P = np.empty((NX, NX))
    nu = np.empty(nz)
    S = np.empty((nz, nz))
    H = np.empty((nz, NX))
    PH = np.empty((NX, nz))
    for a in range(n_t):
        i = rows[a]
        combine(xm[i], Pm[i], mu[i], x, P)
        for b in range(n_z):
            d2 = innovation(x, P, z[b], R, site, basis, nu, S, H, PH)
            if d2 <= gate:
                logdet = _cholesky_solve_logdet(S.copy(), nu.reshape(nz, 1).copy())
                cost[a, b] = 0.5 * (d2 + logdet)
                nis[a, b] = d2
    return cost, nis


@jit
def batch_update(xm: FloatArray, Pm: FloatArray, mu: FloatArray, rows: NDArray[np.int64],
                 z: FloatArray, R: FloatArray, site: FloatArray, basis: FloatArray) -> None:
    """Update track rows[k] with detection z[k] for every k."""
    for k in range(rows.shape[0]):
        imm_update(xm[rows[k]], Pm[rows[k]], mu[rows[k]], z[k], R, site, basis)


@jit
def batch_combine(xm: FloatArray, Pm: FloatArray, mu: FloatArray,
                  x: FloatArray, P: FloatArray) -> None:
    """Moment-matched estimates of all tracks: x (T, 9), P (T, 9, 9)."""
    for i in range(xm.shape[0]):
        combine(xm[i], Pm[i], mu[i], x[i], P[i])


@jit
def transition(x: FloatArray, dt: float, mode: int) -> FloatArray:
    """State transition matrix (9×9) of one mode over dt from state x (x is not changed)."""
    s = x.copy()
    phi = np.eye(NX)
    if dt > 0.0:
        n = max(1, math.ceil(dt / MAX_SUBSTEP_S))
        for _ in range(n):
            _substep(s, dt / n, mode == 1, phi)
    return phi
