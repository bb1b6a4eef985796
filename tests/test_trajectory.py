"""Propagation: convergence, rotation handled correctly, batches, dense output."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from trilink.physics import earth
from trilink.physics.missiles import get_profile
from trilink.physics.trajectory import StepSizes, propagate
from trilink.physics.vehicle import LaunchControls

SUNAN = (np.radians(39.2), np.radians(125.67))


def _controls(pitch_deg: float, energy: float = 1.0, heading_deg: float = 80.0) -> LaunchControls:
    return LaunchControls(SUNAN[0], SUNAN[1], np.radians(heading_deg), np.radians(pitch_deg),
                          energy)


CASES = [("hwasong-15", 45.0, 1.0), ("hwasong-17", 83.0, 0.99), ("hwasong-12", 25.0, 0.95),
         ("kn-23", 30.0, 0.9), ("hwasong-18", 60.0, 0.8), ("hwasong-14", 80.0, 1.0)]


def test_step_refinement_converges() -> None:
    profiles = [get_profile(k) for k, _, _ in CASES]
    controls = [_controls(p, e) for _, p, e in CASES]
    coarse = propagate(profiles, controls)
    fine = propagate(profiles, controls, StepSizes(boost_s=0.125, vacuum_s=2.5,
                                                   atmosphere_s=0.0625))
    for i in range(len(CASES)):
        a, b = coarse.row(i), fine.row(i)
        assert a.impacted and b.impacted
        # docs/physics.md states <= 4 m and 1.4 ms (measured 2026-12-02: 3.97 m, 1.41 ms);
        # the bounds add a stated margin of 1.5x on distance and 2x on time.
        assert a.flight_time_s == pytest.approx(b.flight_time_s, abs=0.003)
        assert np.linalg.norm(a.r_ecef_m[-1] - b.r_ecef_m[-1]) < 6.0


def test_coast_matches_independent_inertial_integration() -> None:
    """Integrate the same coast in an inertial frame (J2 only) and rotate back."""
    fb = propagate([get_profile("hwasong-15")], [_controls(50.0)])
    flight = fb.row(0)
    t0 = flight.burnout_s + 1.0
    t1 = t0 + 1500.0
    r0, v0 = flight.state_at(t0)
    w = earth.OMEGA_EARTH_RAD_S

    def rot(t: float) -> np.ndarray:  # ECEF → ECI (frames aligned at t0)
        c, s = np.cos(w * (t - t0)), np.sin(w * (t - t0))
        return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])

    v0_eci = v0 + np.cross([0.0, 0.0, w], r0)

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        r_ecef = rot(t).T @ y[:3]
        return np.concatenate([y[3:], rot(t) @ earth.gravity_j2_ecef(r_ecef)])

    sol = solve_ivp(rhs, (t0, t1), np.concatenate([r0, v0_eci]), method="DOP853",
                    rtol=1e-12, atol=1e-6)
    r_expected = rot(t1).T @ sol.y[:3, -1]
    r_ours, _ = flight.state_at(t1)
    _, _, h = earth.ecef_to_geodetic(r_ours)
    assert h > 150e3  # still above the atmosphere: a pure-gravity comparison
    assert np.linalg.norm(r_ours - r_expected) < 5.0


def _jacobi(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Jacobi integral of the rotating frame with the J2 potential (J/kg)."""
    rn = np.linalg.norm(r, axis=1)
    sin_phi = r[:, 2] / rn
    u = -earth.GM_M3_S2 / rn * (
        1 - earth.J2 * (earth.WGS84_A_M / rn) ** 2 * 0.5 * (3 * sin_phi**2 - 1)
    )
    spin = 0.5 * earth.OMEGA_EARTH_RAD_S**2 * (r[:, 0] ** 2 + r[:, 1] ** 2)
    return np.asarray(0.5 * np.sum(v * v, axis=1) + u - spin)


def test_jacobi_integral_is_conserved_in_vacuum_coast() -> None:
    """Conserved only if gravity, centrifugal and Coriolis terms are mutually right."""
    f = propagate([get_profile("hwasong-17")], [_controls(83.0, 0.99)]).row(0)
    _, _, h = earth.ecef_to_geodetic(f.r_ecef_m)
    # Above 1,000 km the residual air is too thin to change the energy measurably.
    coast = (h > 1000e3) & (f.t_s > f.burnout_s)
    assert coast.sum() > 100
    jacobi = _jacobi(f.r_ecef_m[coast], f.v_ecef_m_s[coast])
    assert np.ptp(jacobi) / abs(jacobi.mean()) < 2e-8
    # Between knots the cubic Hermite velocity is good to millimetres per second.
    t = np.linspace(f.t_s[coast][0], f.t_s[coast][-1], 500)
    r, v = f.state_at(t)
    between = _jacobi(r, v)
    assert np.max(np.abs(between - jacobi.mean())) / abs(jacobi.mean()) < 2e-6


def test_batch_rows_equal_single_propagation() -> None:
    profiles = [get_profile(k) for k, _, _ in CASES]
    controls = [_controls(p, e) for _, p, e in CASES]
    batch = propagate(profiles, controls)
    for i in (0, 3, 5):
        single = propagate([profiles[i]], [controls[i]]).row(0)
        together = batch.row(i)
        np.testing.assert_allclose(together.r_ecef_m, single.r_ecef_m, rtol=0, atol=1e-6)
        assert together.flight_time_s == single.flight_time_s


def test_dense_output_agrees_between_batch_and_flight() -> None:
    profiles = [get_profile(k) for k, _, _ in CASES]
    controls = [_controls(p, e) for _, p, e in CASES]
    batch = propagate(profiles, controls)
    t = np.arange(-5.0, 5000.0, 7.0)
    r, v, valid = batch.sample(t)
    for i in range(batch.size):
        f = batch.row(i)
        inside = (t >= 0) & (t <= f.flight_time_s)
        np.testing.assert_array_equal(valid[i], inside)
        rf, vf = f.state_at(t[inside])
        np.testing.assert_allclose(r[i, inside], rf, atol=1e-6)
        np.testing.assert_allclose(v[i, inside], vf, atol=1e-6)
    # Knots are reproduced exactly by the interpolant.
    f0 = batch.row(0)
    rk, _ = f0.state_at(f0.t_s)
    np.testing.assert_allclose(rk, f0.r_ecef_m, atol=1e-6)


def test_staging_and_burnout_behave_physically() -> None:
    p = get_profile("hwasong-15")
    fb = propagate([p], [_controls(45.0)])
    f = fb.row(0)
    assert f.burnout_s == pytest.approx(p.total_burn_time_s)
    _, v = f.state_at(np.array([10.0, 100.0, p.stages[0].burn_time_s, f.burnout_s]))
    speed = np.linalg.norm(v, axis=1)
    assert np.all(np.diff(speed) > 0)  # accelerating throughout the boost
    _, _, h = earth.ecef_to_geodetic(f.r_ecef_m)
    assert h.min() >= -1e-3 and abs(h[-1]) < 1e-3  # ends on the ellipsoid


def test_same_inputs_give_identical_bytes() -> None:
    profiles = [get_profile("kn-23"), get_profile("hwasong-12")]
    controls = [_controls(35.0, 0.9), _controls(30.0, 1.0)]
    a = propagate(profiles, controls)
    b = propagate(profiles, controls)
    assert a.r_ecef_m.tobytes() == b.r_ecef_m.tobytes()
    assert a.t_s.tobytes() == b.t_s.tobytes()
