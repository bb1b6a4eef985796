"""The compiled ballistic propagator against the generic NumPy integrator."""

from __future__ import annotations

import numpy as np
import pytest

from trilink.physics import atmosphere, earth
from trilink.physics.ballistic import density_kg_m3, geodetic_height_m
from trilink.physics.trajectory import propagate_ballistic, propagate_ballistic_numpy


def _states(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random mid-course states over the Sea of Japan: 50–1500 km up, 1–7 km/s."""
    rng = np.random.default_rng(seed)
    lat = np.radians(rng.uniform(30, 45, n))
    lon = np.radians(rng.uniform(125, 145, n))
    h = rng.uniform(50e3, 1500e3, n)
    r = earth.geodetic_to_ecef(lat, lon, h)
    basis = earth.enu_basis(lat, lon)
    speed = rng.uniform(1e3, 7e3, n)
    az = rng.uniform(0, 2 * np.pi, n)
    el = rng.uniform(-0.6, 0.8, n)
    enu = np.column_stack([np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)])
    v = speed[:, None] * np.einsum("ni,nij->nj", enu, basis)
    beta = np.exp(rng.uniform(np.log(500.0), np.log(50000.0), n))
    return r, v, beta


def test_density_matches_us76_module() -> None:
    z = np.concatenate([np.linspace(-100, 90e3, 997), np.linspace(85e3, 1.4e6, 503)])
    ours = np.array([density_kg_m3(float(x)) for x in z])
    np.testing.assert_allclose(ours, atmosphere.density_kg_m3(z), rtol=1e-12)


def test_height_matches_earth_module() -> None:
    r, _, _ = _states(200, 1)
    _, _, h = earth.ecef_to_geodetic(r)
    ours = np.array([geodetic_height_m(*map(float, x)) for x in r])
    np.testing.assert_allclose(ours, h, atol=1e-6)


@pytest.mark.parametrize("seed", [2, 3])
def test_impacts_match_numpy_integrator(seed: int) -> None:
    r, v, beta = _states(40, seed)
    fast = propagate_ballistic(r, v, beta)
    ref = propagate_ballistic_numpy(r, v, beta)
    assert fast.impacted.all() and ref.impacted.all()
    idx = np.arange(fast.size)
    end_fast = fast.r_ecef_m[idx, fast.n_knots - 1]
    end_ref = ref.r_ecef_m[idx, ref.n_knots - 1]
    # Same equations and step rules; only the first step differs (the generic loop
    # stops at t = 1 s, a pitch-programme event that means nothing without thrust).
    miss_m = np.linalg.norm(end_fast - end_ref, axis=1)
    assert miss_m.max() < 5.0, miss_m.max()
    np.testing.assert_allclose(fast.flight_time_s, ref.flight_time_s, atol=0.05)
    # Dense output agrees along the way too.
    t_mid = 0.5 * fast.flight_time_s
    r_fast, _, _ = fast.sample_each(t_mid)
    r_ref, _, _ = ref.sample_each(t_mid)
    assert np.linalg.norm(r_fast - r_ref, axis=1).max() < 5.0


def test_padding_repeats_last_knot() -> None:
    r, v, beta = _states(5, 4)
    fb = propagate_ballistic(r, v, beta)
    for i in range(fb.size):
        k = fb.n_knots[i]
        assert np.all(fb.t_s[i, k - 1:] == fb.t_s[i, k - 1])
        assert np.all(fb.r_ecef_m[i, k - 1:] == fb.r_ecef_m[i, k - 1])
