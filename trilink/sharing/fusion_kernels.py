"""Compiled kernels of track-to-track fusion (numba): covariance intersection, exactly,
and one object's sources fused in one call.

Why compiled: a node re-fuses an object from every nation's latest track whenever one of
them changes, so fusion is most of a node's receive work (``bench/bench_growth.py``);
in NumPy each 6×6 factorisation costs more in call overhead than in arithmetic.

The weight ω of covariance intersection minimises the fused covariance's determinant.
In the frame that whitens ``P_a`` and diagonalises ``P_b`` (one Cholesky factor, one
symmetric eigen-decomposition: ``P_b v = μ P_a v``) both information matrices are
diagonal, so log det of the fused information is ``Σ log(ω + (1 − ω)/μ_i)`` plus a
constant: concave in ω, with a monotone derivative whose root safeguarded Newton steps
find to machine precision.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from trilink.tracking.kernels import N_WS_MAT, N_WS_VEC, NX, _predict_mode_ws, jit

F = NDArray[np.float64]
NF = 6  # the fused states: position and velocity


@jit
def ci_weight(mu: F) -> float:
    """The ω in [0, 1] maximising Σ log(ω + (1 − ω)/μ_i); μ are the generalised
    eigenvalues (all > 0)."""
    n = mu.shape[0]
    a = 1.0 - 1.0 / mu  # d/dω of each term's argument
    c = 1.0 / mu
    if np.max(np.abs(a)) < 1e-12:
        return 0.5  # equal covariances: every ω gives the same covariance; take the mean
    if np.sum(a / c) <= 0.0:
        return 0.0  # the slope at ω = 0 already falls: estimate b alone is best
    if np.sum(a) >= 0.0:
        return 1.0
    lo, hi, w = 0.0, 1.0, 0.5
    for _ in range(100):  # Newton inside a shrinking bracket: quadratic convergence
        slope = 0.0
        curvature = 0.0
        for i in range(n):
            t = a[i] / (c[i] + w * a[i])
            slope += t
            curvature += t * t
        if slope > 0.0:
            lo = w
        else:
            hi = w
        step = w + slope / curvature if curvature > 0.0 else 0.5 * (lo + hi)
        w_next = step if lo < step < hi else 0.5 * (lo + hi)
        if abs(w_next - w) <= 1e-13 or hi - lo <= 1e-13:
            return w_next
        w = w_next
    return w


@jit
def ci_fuse(x_a: F, P_a: F, x_b: F, P_b: F, x_out: F, P_out: F) -> float:
    """Covariance intersection of two estimates (n states): the fused state and
    covariance into ``x_out`` / ``P_out`` (which may be ``x_a`` / ``P_a``); returns ω."""
    n = x_a.shape[0]
    # Positions (m) and velocities (m/s) differ by orders of magnitude: scale each state
    # to unit size first (ω does not depend on the units) so the factorisations stay exact.
    s = np.empty(n)
    for i in range(n):
        s[i] = math.sqrt(math.sqrt(P_a[i, i] * P_b[i, i]))
    A = np.empty((n, n))
    B = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            A[i, j] = P_a[i, j] / (s[i] * s[j])
            B[i, j] = P_b[i, j] / (s[i] * s[j])
    L = np.linalg.cholesky(A)
    L_inv = np.linalg.inv(L)
    M = L_inv @ B @ L_inv.T
    mu, V = np.linalg.eigh(0.5 * (M + M.T))
    for i in range(n):
        mu[i] = max(mu[i], 1e-300)
    w = ci_weight(mu)
    T = L @ V  # scaled, whitened and rotated coordinates: x = diag(s) T y
    T_inv = V.T @ L_inv
    xs_a = x_a / s
    xs_b = x_b / s
    y_a = T_inv @ xs_a
    y_b = T_inv @ xs_b
    y = np.empty(n)
    inv_info = np.empty(n)
    for i in range(n):
        info = w + (1.0 - w) / mu[i]  # the fused information, diagonal in y
        inv_info[i] = 1.0 / info
        y[i] = (w * y_a[i] + (1.0 - w) * y_b[i] / mu[i]) * inv_info[i]
    xf = T @ y
    TD = T * inv_info  # columns scaled
    Pf = TD @ T.T
    for i in range(n):
        x_out[i] = xf[i] * s[i]
        for j in range(i, n):
            p = 0.5 * (Pf[i, j] + Pf[j, i]) * s[i] * s[j]
            P_out[i, j] = p
            P_out[j, i] = p
    return w


@jit
def widen_for_unknown_force(P: F, gap_s: float, force_m_s2: float) -> None:
    """Widen a covariance's position and velocity blocks in place for an unknown force
    up to ``force_m_s2`` (uniform) acting over ``gap_s`` of prediction."""
    if gap_s <= 0.0:
        return
    dp = (0.5 * force_m_s2 * gap_s * gap_s) ** 2 / 3.0
    dv = (force_m_s2 * gap_s) ** 2 / 3.0
    for i in range(3):
        P[i, i] += dp
        P[3 + i, 3 + i] += dv


@jit
def fuse_sources(xs: F, Ps: F, dts: F, powered: NDArray[np.int64], force_m_s2: float,
                 prm: F, x_out: F, P_out: F) -> None:
    """One object's sources (k × 9 states, k × 9 × 9 covariances, ECEF), each predicted
    ``dts[i]`` ahead with its likelier mode and widened for an unknown force up to
    ``force_m_s2`` over that gap, fused in order by covariance intersection of the
    position and velocity (the specific force is kept from the first source)."""
    wm, wv = np.empty((N_WS_MAT, NX, NX)), np.empty((N_WS_VEC, NX))
    x = np.empty(NX)
    P = np.empty((NX, NX))
    xf6 = np.empty(NF)
    Pf6 = np.empty((NF, NF))
    for k in range(xs.shape[0]):
        x[:] = xs[k]
        P[:, :] = Ps[k]
        gap = dts[k]
        if gap > 0.0:
            _predict_mode_ws(x, P, gap, powered[k], prm, wm, wv)
            widen_for_unknown_force(P, gap, force_m_s2)
        if k == 0:
            x_out[:] = x
            P_out[:, :] = P
            continue
        ci_fuse(x_out[:NF].copy(), np.ascontiguousarray(P_out[:NF, :NF]), x[:NF].copy(),
                np.ascontiguousarray(P[:NF, :NF]), xf6, Pf6)
        x_out[:NF] = xf6
        P_out[:NF, :NF] = Pf6
        P_out[:NF, NF:] = 0.0
        P_out[NF:, :NF] = 0.0
