"""Posterior Cramér–Rao lower bound for tracking one ballistic missile with one radar.

Information-filter recursion of Tichavský et al. (1998) for additive Gaussian noise,
evaluated along the true trajectory:

    J_{k+1} = (Q_k + F_k J_k⁻¹ F_kᵀ)⁻¹ + H_{k+1}ᵀ R⁻¹ H_{k+1}

with F the ballistic transition (J2, rotation) and H the polar radar Jacobian, both at
the true states, and the filter's own Q, R and prior. Only the position and velocity
(6 states, ECEF) enter: in coast the true specific force is zero.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from trilink.tracking import kernels
from trilink.tracking.imm import ImmParams, RadarGeometry

F = NDArray[np.float64]


def pcrlb(
    t_s: F,
    x_true: F,
    geo: RadarGeometry,
    sigma: F,
    prior_cov: F,
    params: ImmParams | None = None,
) -> F:
    """Bound covariances (K, 6, 6) at measurement times t_s (K,) for true states (K, ≥6).

    ``sigma`` holds the measurement standard deviations [m, rad, rad]; ``prior_cov``
    (6×6) is the covariance the filter starts from at t_s[0] (before its first update).
    """
    prm = (params or ImmParams()).vector()
    R_inv = np.diag(1.0 / np.asarray(sigma, dtype=np.float64) ** 2)
    nz = R_inv.shape[0]
    out = np.empty((t_s.shape[0], 6, 6))
    state = np.zeros(kernels.NX)
    H9 = np.empty((nz, kernels.NX))
    z = np.empty(nz)
    Q9 = np.empty((kernels.NX, kernels.NX))

    def info(x6: F) -> F:
        state[:6] = x6[:6]
        kernels.radar_h(state, geo.site_ecef_m, geo.basis, nz, z, H9)
        H = H9[:, :6]
        return np.asarray(H.T @ R_inv @ H)

    J = np.linalg.inv(prior_cov) + info(x_true[0])
    out[0] = np.linalg.inv(J)
    for k in range(1, t_s.shape[0]):
        dt = float(t_s[k] - t_s[k - 1])
        state[:6] = x_true[k - 1, :6]
        Fk = kernels.transition(state, dt, 0)[:6, :6]
        kernels._process_noise(dt, 0, prm, Q9)
        Q = Q9[:6, :6]
        P_pred = Q + Fk @ out[k - 1] @ Fk.T
        J = np.linalg.inv(P_pred) + info(x_true[k])
        out[k] = np.linalg.inv(J)
    return out
