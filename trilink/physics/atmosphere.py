"""Standard atmosphere: density and pressure versus geometric height.

Below 86 km: the seven layers of the U.S. Standard Atmosphere 1976 (hydrostatic,
linear temperature in geopotential height). Above: log-linear interpolation of the
1976 tabulated densities up to 1000 km, exponential decay beyond. Vectorised.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

R_EARTH_US76_M = 6356766.0
G0 = 9.80665
R_AIR_J_KG_K = 287.05287
SEA_LEVEL_PRESSURE_PA = 101325.0
SEA_LEVEL_DENSITY_KG_M3 = 1.225

# Layer bases: geopotential height (m), temperature (K), lapse rate (K/m), pressure (Pa).
_H_BASE = np.array([0.0, 11000.0, 20000.0, 32000.0, 47000.0, 51000.0, 71000.0])
_T_BASE = np.array([288.15, 216.65, 216.65, 228.65, 270.65, 270.65, 214.65])
_LAPSE = np.array([-0.0065, 0.0, 0.001, 0.0028, 0.0, -0.0028, -0.002])
_P_BASE = np.array([101325.0, 22632.06, 5474.889, 868.0187, 110.9063, 66.93887, 3.956420])

# U.S. Standard Atmosphere 1976, Table 1 (geometric height km, density kg/m³).
_UPPER_Z_M = np.array([86, 100, 120, 150, 200, 250, 300, 400, 500, 600, 700, 800, 900, 1000]) * 1e3
_UPPER_LOG_RHO = np.log(
    np.array(
        [6.958e-6, 5.604e-7, 2.222e-8, 2.076e-9, 2.541e-10, 6.073e-11, 1.916e-11, 2.803e-12,
         5.215e-13, 1.137e-13, 3.070e-14, 1.136e-14, 5.759e-15, 3.561e-15]
    )
)
_TOP_SCALE_HEIGHT_M = 1.0e5


def _lower(z_m: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    h = R_EARTH_US76_M * z_m / (R_EARTH_US76_M + z_m)  # geopotential height
    i = np.clip(np.searchsorted(_H_BASE, h, side="right") - 1, 0, len(_H_BASE) - 1)
    tb, lapse, pb, hb = _T_BASE[i], _LAPSE[i], _P_BASE[i], _H_BASE[i]
    t = tb + lapse * (h - hb)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_grad = pb * (tb / t) ** (G0 / (R_AIR_J_KG_K * lapse))
    p_iso = pb * np.exp(-G0 * (h - hb) / (R_AIR_J_KG_K * tb))
    p = np.where(lapse == 0.0, p_iso, p_grad)
    return p, p / (R_AIR_J_KG_K * t)


def density_kg_m3(height_m: ArrayLike) -> NDArray[np.float64]:
    """Air density (kg/m³) at geometric height above the ellipsoid (m); heights below 0 clamp."""
    z = np.maximum(np.asarray(height_m, dtype=np.float64), 0.0)
    _, rho_low = _lower(np.minimum(z, _UPPER_Z_M[0]))
    log_rho_up = np.interp(z, _UPPER_Z_M, _UPPER_LOG_RHO)
    beyond = np.maximum(z - _UPPER_Z_M[-1], 0.0) / _TOP_SCALE_HEIGHT_M
    rho_up = np.exp(log_rho_up - beyond)
    return np.where(z <= _UPPER_Z_M[0], rho_low, rho_up)


def density_and_pressure(height_m: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Density (kg/m³) and pressure (Pa) together, sharing the layer look-up."""
    z = np.maximum(np.asarray(height_m, dtype=np.float64), 0.0)
    p_low, rho_low = _lower(np.minimum(z, _UPPER_Z_M[0]))
    upper = z > _UPPER_Z_M[0]
    if not upper.any():
        return rho_low, p_low
    log_rho_up = np.interp(z, _UPPER_Z_M, _UPPER_LOG_RHO)
    beyond = np.maximum(z - _UPPER_Z_M[-1], 0.0) / _TOP_SCALE_HEIGHT_M
    rho = np.where(upper, np.exp(log_rho_up - beyond), rho_low)
    return rho, np.where(upper, 0.0, p_low)


def pressure_pa(height_m: ArrayLike) -> NDArray[np.float64]:
    """Static pressure (Pa) at geometric height (m); taken as zero above 86 km."""
    z = np.maximum(np.asarray(height_m, dtype=np.float64), 0.0)
    p, _ = _lower(np.minimum(z, _UPPER_Z_M[0]))
    return np.where(z <= _UPPER_Z_M[0], p, 0.0)
