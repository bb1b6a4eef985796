"""The Earth: WGS84 ellipsoid, frame conversions, J2 gravity and rotation.

Frames:
- geodetic: latitude/longitude (radians) and height above the WGS84 ellipsoid (m);
- ECEF: Earth-centred, Earth-fixed Cartesian (m), the internal frame of trilink;
- ENU: local east/north/up at a geodetic reference point (m);
- AER: azimuth (from north, clockwise), elevation (above the local horizontal),
  slant range (m), seen from a geodetic reference point.

Every function is vectorised: scalars or NumPy arrays broadcast together; vector
arguments carry their three components in the last axis.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

# WGS84 defining constants (NIMA TR8350.2).
WGS84_A_M = 6378137.0
WGS84_F = 1.0 / 298.257223563
WGS84_B_M = WGS84_A_M * (1.0 - WGS84_F)
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
WGS84_EP2 = WGS84_E2 / (1.0 - WGS84_E2)
GM_M3_S2 = 3.986004418e14
OMEGA_EARTH_RAD_S = 7.292115e-5
# EGM96 unnormalised second zonal harmonic.
J2 = 1.08262982e-3
G0_M_S2 = 9.80665
MEAN_RADIUS_M = 6371008.8

OMEGA_VEC = np.array([0.0, 0.0, OMEGA_EARTH_RAD_S])

FloatArray = NDArray[np.float64]


def _f(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def geodetic_to_ecef(lat_rad: ArrayLike, lon_rad: ArrayLike, h_m: ArrayLike = 0.0) -> FloatArray:
    """Geodetic (WGS84) to ECEF position (m), shape (..., 3)."""
    lat, lon, h = _f(lat_rad), _f(lon_rad), _f(h_m)
    sin_lat = np.sin(lat)
    n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)
    x = (n + h) * np.cos(lat) * np.cos(lon)
    y = (n + h) * np.cos(lat) * np.sin(lon)
    z = (n * (1.0 - WGS84_E2) + h) * sin_lat
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def ecef_to_geodetic(r_ecef_m: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """ECEF position (m) to geodetic latitude, longitude (rad) and height (m).

    Bowring's closed form followed by two Newton refinements of the latitude:
    sub-millimetre from the Earth's centre region out to geostationary distances.
    """
    r = _f(r_ecef_m)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    p = np.hypot(x, y)
    lon = np.arctan2(y, x)
    theta = np.arctan2(z * WGS84_A_M, p * WGS84_B_M)
    lat = np.arctan2(
        z + WGS84_EP2 * WGS84_B_M * np.sin(theta) ** 3,
        p - WGS84_E2 * WGS84_A_M * np.cos(theta) ** 3,
    )
    for _ in range(2):
        sin_lat = np.sin(lat)
        n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)
        lat = np.arctan2(z + WGS84_E2 * n * sin_lat, p)
    sin_lat, cos_lat = np.sin(lat), np.cos(lat)
    n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)
    # This form of the height is well conditioned at every latitude, poles included.
    h = p * cos_lat + z * sin_lat - WGS84_A_M**2 / n
    return lat, lon, h


def enu_basis(lat_rad: ArrayLike, lon_rad: ArrayLike) -> FloatArray:
    """Rows are the east, north and up unit vectors in ECEF: shape (..., 3, 3)."""
    lat, lon = _f(lat_rad), _f(lon_rad)
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    zero = np.zeros_like(sl * so)
    east = np.stack(np.broadcast_arrays(-so, co, zero), axis=-1)
    north = np.stack(np.broadcast_arrays(-sl * co, -sl * so, cl), axis=-1)
    up = np.stack(np.broadcast_arrays(cl * co, cl * so, sl), axis=-1)
    return np.stack([east, north, up], axis=-2)


def ecef_to_enu(
    r_ecef_m: ArrayLike, lat0_rad: ArrayLike, lon0_rad: ArrayLike, h0_m: ArrayLike = 0.0
) -> FloatArray:
    """ECEF position (m) to ENU (m) relative to a geodetic reference point."""
    d = _f(r_ecef_m) - geodetic_to_ecef(lat0_rad, lon0_rad, h0_m)
    basis = enu_basis(lat0_rad, lon0_rad)
    enu: FloatArray = np.einsum("...ij,...j->...i", basis, d)
    return enu


def enu_to_ecef(
    enu_m: ArrayLike, lat0_rad: ArrayLike, lon0_rad: ArrayLike, h0_m: ArrayLike = 0.0
) -> FloatArray:
    """ENU (m) relative to a geodetic reference point to ECEF position (m)."""
    basis = enu_basis(lat0_rad, lon0_rad)
    d: FloatArray = np.einsum("...ji,...j->...i", basis, _f(enu_m))
    return d + geodetic_to_ecef(lat0_rad, lon0_rad, h0_m)


def enu_to_aer(enu_m: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """ENU (m) to azimuth (rad, clockwise from north, in [0, 2π)), elevation (rad), range (m)."""
    e = _f(enu_m)
    east, north, up = e[..., 0], e[..., 1], e[..., 2]
    horizontal = np.hypot(east, north)
    az = np.mod(np.arctan2(east, north), 2.0 * np.pi)
    el = np.arctan2(up, horizontal)
    return az, el, np.hypot(horizontal, up)


def aer_to_enu(az_rad: ArrayLike, el_rad: ArrayLike, range_m: ArrayLike) -> FloatArray:
    """Azimuth, elevation (rad) and slant range (m) to ENU (m)."""
    az, el, rng = _f(az_rad), _f(el_rad), _f(range_m)
    horizontal = rng * np.cos(el)
    return np.stack(
        np.broadcast_arrays(horizontal * np.sin(az), horizontal * np.cos(az), rng * np.sin(el)),
        axis=-1,
    )


def ecef_to_aer(
    r_ecef_m: ArrayLike, lat0_rad: ArrayLike, lon0_rad: ArrayLike, h0_m: ArrayLike = 0.0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """ECEF target position (m) to AER seen from a geodetic observer."""
    return enu_to_aer(ecef_to_enu(r_ecef_m, lat0_rad, lon0_rad, h0_m))


def gravity_j2_ecef(r_ecef_m: ArrayLike) -> FloatArray:
    """Gravitational acceleration (m/s²) with the J2 term, in ECEF, shape (..., 3).

    This is attraction only; the centrifugal and Coriolis terms of the rotating
    frame are added by :func:`rotating_frame_acceleration`.
    """
    r = _f(r_ecef_m)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    r2 = x * x + y * y + z * z
    rn = np.sqrt(r2)
    mu_r3 = GM_M3_S2 / (r2 * rn)
    k = 1.5 * J2 * WGS84_A_M**2 / r2
    z2r2 = z * z / r2
    fxy = -mu_r3 * (1.0 + k * (1.0 - 5.0 * z2r2))
    fz = -mu_r3 * (1.0 + k * (3.0 - 5.0 * z2r2))
    return np.stack([fxy * x, fxy * y, fz * z], axis=-1)


def rotating_frame_acceleration(r_ecef_m: ArrayLike, v_ecef_m_s: ArrayLike) -> FloatArray:
    """Centrifugal plus Coriolis acceleration (m/s²) of the Earth-fixed frame."""
    r, v = _f(r_ecef_m), _f(v_ecef_m_s)
    w = OMEGA_EARTH_RAD_S
    # -ω×(ω×r) - 2ω×v with ω along +z, written out to stay cheap on large batches.
    ax = w * w * r[..., 0] + 2.0 * w * v[..., 1]
    ay = w * w * r[..., 1] - 2.0 * w * v[..., 0]
    az = np.zeros_like(ax)
    return np.stack([ax, ay, az], axis=-1)


def geodetic_up(lat_rad: ArrayLike, lon_rad: ArrayLike) -> FloatArray:
    """Unit normal to the ellipsoid (local 'up') in ECEF."""
    return enu_basis(lat_rad, lon_rad)[..., 2, :]


@lru_cache(maxsize=1)
def _geod() -> Any:
    from pyproj import Geod

    return Geod(ellps="WGS84")


def geodesic_inverse(
    lat1_rad: ArrayLike, lon1_rad: ArrayLike, lat2_rad: ArrayLike, lon2_rad: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Forward azimuth (rad, [0, 2π)) and distance (m) along the WGS84 geodesic."""
    az, _, dist = _geod().inv(
        np.degrees(_f(lon1_rad)),
        np.degrees(_f(lat1_rad)),
        np.degrees(_f(lon2_rad)),
        np.degrees(_f(lat2_rad)),
    )
    return np.mod(np.radians(np.asarray(az, dtype=np.float64)), 2 * np.pi), np.asarray(
        dist, dtype=np.float64
    )


def geodesic_direct(
    lat_rad: ArrayLike, lon_rad: ArrayLike, az_rad: ArrayLike, dist_m: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """End point (lat, lon in rad) of the WGS84 geodesic from a point along an azimuth."""
    lat_a, lon_a, az_a, d = np.broadcast_arrays(_f(lat_rad), _f(lon_rad), _f(az_rad), _f(dist_m))
    lon2, lat2, _ = _geod().fwd(
        np.degrees(lon_a), np.degrees(lat_a), np.degrees(az_a), d
    )
    return np.radians(np.asarray(lat2, dtype=np.float64)), np.radians(
        np.asarray(lon2, dtype=np.float64)
    )
