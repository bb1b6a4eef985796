"""Frames and gravity, cross-checked against pyproj and pymap3d (independent code)."""

from __future__ import annotations

import numpy as np
import pymap3d
import pytest
from pyproj import Transformer

from trilink.physics import earth

RNG = np.random.default_rng(20231219)
N = 2000
LAT = np.radians(RNG.uniform(-89.9, 89.9, N))
LON = np.radians(RNG.uniform(-180, 180, N))
H = RNG.uniform(-1e3, 4e7, N)


def test_geodetic_to_ecef_matches_pyproj() -> None:
    tr = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    x, y, z = tr.transform(np.degrees(LON), np.degrees(LAT), H)
    ours = earth.geodetic_to_ecef(LAT, LON, H)
    np.testing.assert_allclose(ours, np.stack([x, y, z], axis=-1), atol=1e-4)


def test_ecef_to_geodetic_matches_pyproj_and_round_trips() -> None:
    r = earth.geodetic_to_ecef(LAT, LON, H)
    lat, lon, h = earth.ecef_to_geodetic(r)
    np.testing.assert_allclose(lat, LAT, atol=1e-11)
    np.testing.assert_allclose(np.cos(lon - LON), 1.0, atol=1e-15)
    np.testing.assert_allclose(h, H, atol=1e-4)
    tr = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)
    _, plat, ph = tr.transform(r[:, 0], r[:, 1], r[:, 2])
    np.testing.assert_allclose(np.degrees(lat), plat, atol=1e-9)
    np.testing.assert_allclose(h, ph, atol=1e-3)


def test_enu_and_aer_match_pymap3d() -> None:
    lat0, lon0, h0 = 40.888, 140.338, 50.0  # Shariki, degrees at the edge
    tgt = earth.geodetic_to_ecef(LAT[:200], LON[:200], H[:200] % 2e6)
    enu = earth.ecef_to_enu(tgt, np.radians(lat0), np.radians(lon0), h0)
    e, n, u = pymap3d.ecef2enu(tgt[:, 0], tgt[:, 1], tgt[:, 2], lat0, lon0, h0)
    np.testing.assert_allclose(enu, np.stack([e, n, u], axis=-1), atol=1e-5)
    az, el, rng = earth.ecef_to_aer(tgt, np.radians(lat0), np.radians(lon0), h0)
    paz, pel, prng = pymap3d.ecef2aer(tgt[:, 0], tgt[:, 1], tgt[:, 2], lat0, lon0, h0)
    np.testing.assert_allclose(np.degrees(az), paz, atol=1e-8)
    np.testing.assert_allclose(np.degrees(el), pel, atol=1e-8)
    np.testing.assert_allclose(rng, prng, rtol=1e-12, atol=1e-5)
    back = earth.enu_to_ecef(earth.aer_to_enu(az, el, rng), np.radians(lat0),
                             np.radians(lon0), h0)
    np.testing.assert_allclose(back, tgt, atol=1e-5)


def test_effective_gravity_matches_wgs84_normal_gravity() -> None:
    # WGS84 normal gravity on the ellipsoid: 9.7803253359 (equator), 9.8321849378 (pole).
    for lat_deg, expected in ((0.0, 9.7803253359), (90.0, 9.8321849378)):
        r = earth.geodetic_to_ecef(np.radians(lat_deg), 0.0, 0.0)
        g = earth.gravity_j2_ecef(r) + earth.rotating_frame_acceleration(r, np.zeros(3))
        assert np.linalg.norm(g) == pytest.approx(expected, rel=2e-4)


def test_j2_gravity_is_the_gradient_of_the_j2_potential() -> None:
    def potential(r: np.ndarray) -> np.ndarray:
        rn = np.linalg.norm(r, axis=-1)
        sin_phi = r[..., 2] / rn
        p2 = 0.5 * (3 * sin_phi**2 - 1)
        return -earth.GM_M3_S2 / rn * (1 - earth.J2 * (earth.WGS84_A_M / rn) ** 2 * p2)

    r = earth.geodetic_to_ecef(LAT[:50], LON[:50], np.abs(H[:50]) % 3e6 + 1e5)
    step = 1.0
    grad = np.zeros_like(r)
    for k in range(3):
        d = np.zeros(3)
        d[k] = step
        grad[:, k] = (potential(r + d) - potential(r - d)) / (2 * step)
    np.testing.assert_allclose(earth.gravity_j2_ecef(r), -grad, rtol=1e-6, atol=1e-8)


def test_geodesic_matches_known_distance() -> None:
    # Sunan (Pyongyang) to Cape Erimo: cross-check direct and inverse problems.
    az, dist = earth.geodesic_inverse(np.radians(39.2), np.radians(125.67), np.radians(41.93),
                                      np.radians(143.25))
    lat, lon = earth.geodesic_direct(np.radians(39.2), np.radians(125.67), az, dist)
    assert np.degrees(lat) == pytest.approx(41.93, abs=1e-9)
    assert np.degrees(lon) == pytest.approx(143.25, abs=1e-9)
    assert 1400e3 < dist < 1600e3
