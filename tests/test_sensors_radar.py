"""Radar model: geometry, 4/3-Earth horizon, field of regard, Swerling I, noise, clutter."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pymap3d
import pytest
from scipy.optimize import brentq
from scipy.stats import chi2

from trilink.physics.earth import WGS84_A_M, enu_to_ecef, geodesic_direct, geodetic_to_ecef
from trilink.sensors import Radar, RadarSpec, parse_sensor, sensor_catalogue, swerling1_pd
from trilink.sim.truth import TruthState

K = 4.0 / 3.0


def radar(**changes: Any) -> Radar:
    """A test radar: the Busan Green Pine entry with some fields replaced."""
    raw = sensor_catalogue()["KOR-GREENPINE-C-BUSAN"].model_dump()
    raw.update(changes)
    spec = parse_sensor(raw)
    assert isinstance(spec, RadarSpec)
    return Radar(spec)


def cat_radar(sensor_id: str) -> Radar:
    spec = sensor_catalogue()[sensor_id]
    assert isinstance(spec, RadarSpec)
    return Radar(spec)


def state(r_ecef_m: np.ndarray, rcs_m2: float | np.ndarray = 1.0,
          v_ecef_m_s: np.ndarray | None = None, alive: bool = True) -> TruthState:
    r = np.atleast_2d(r_ecef_m)
    n = len(r)
    v = np.zeros_like(r) if v_ecef_m_s is None else np.atleast_2d(v_ecef_m_s)
    return TruthState(0.0, tuple(f"T{i}" for i in range(n)), r, v, np.full(n, alive),
                      np.zeros(n, bool), np.broadcast_to(np.asarray(rcs_m2, float), (n,)).copy())


def test_geometry_matches_pymap3d() -> None:
    rad = cat_radar("JPN-FPS5-SADO")  # 1,042 m up a mountain
    rng = np.random.default_rng(3)
    lat = np.radians(rng.uniform(25, 50, 500))
    lon = np.radians(rng.uniform(120, 150, 500))
    h = rng.uniform(0, 2e6, 500)
    r = geodetic_to_ecef(lat, lon, h)
    got_r, got_az, got_el = rad.geometry(r)
    az, el, srange = pymap3d.ecef2aer(r[:, 0], r[:, 1], r[:, 2], rad.lat_rad, rad.lon_rad,
                                      rad.h_m, deg=False)
    np.testing.assert_allclose(got_r, srange, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(got_el, el, atol=1e-9)
    daz = np.angle(np.exp(1j * (got_az - np.asarray(az))))
    assert np.max(np.abs(daz)) < 1e-9
    assert np.all((got_az >= 0) & (got_az < 2 * np.pi))


def _targets_at(rad: Radar, az_deg: float, dist_m: np.ndarray, h_m: float) -> np.ndarray:
    lat, lon = geodesic_direct(rad.lat_rad, rad.lon_rad, math.radians(az_deg), dist_m)
    return geodetic_to_ecef(lat, lon, h_m)


@pytest.mark.parametrize(("h_radar", "el_min"), [(0.0, 0.0), (1000.0, -2.0)])
def test_horizon_four_thirds_earth(h_radar: float, el_min: float) -> None:
    """A 100 km target is seen just inside, never just beyond, the 4/3-Earth horizon."""
    rad = radar(height_m=h_radar, el_min_deg=el_min, az_min_deg=0.0, az_max_deg=360.0,
                ref_range_km=50000.0, max_range_km=None)
    h_t = 100e3
    d = math.sqrt(2 * K * WGS84_A_M * h_t) + math.sqrt(2 * K * WGS84_A_M * h_radar)
    assert 1250e3 < d < 1450e3
    for az in (0.0, 90.0, 200.0, 330.0):
        tgt = _targets_at(rad, az, np.array([0.5, 0.97, 1.03, 1.5]) * d, h_t)
        mask, _ = rad.visible(tgt, 1.0)
        assert mask.tolist() == [True, True, False, False], az
    # Without refraction the horizon would be 13 % closer: 0.95 d is beyond it.
    tgt = _targets_at(rad, 45.0, np.array([0.95 * d]), h_t)
    assert rad.visible(tgt, 1.0)[0].all()
    assert math.sqrt(2 * WGS84_A_M * h_t) + math.sqrt(2 * WGS84_A_M * h_radar) < 0.9 * d


def _at_aer(rad: Radar, az_deg: float, el_deg: float, range_m: float) -> np.ndarray:
    enu = np.array([range_m * math.cos(math.radians(el_deg)) * math.sin(math.radians(az_deg)),
                    range_m * math.cos(math.radians(el_deg)) * math.cos(math.radians(az_deg)),
                    range_m * math.sin(math.radians(el_deg))])
    return enu_to_ecef(enu, rad.lat_rad, rad.lon_rad, rad.h_m)


def test_azimuth_sector_wrapping_through_north() -> None:
    rad = radar(az_min_deg=300.0, az_max_deg=60.0, el_min_deg=1.0, el_max_deg=80.0)
    inside = [301.0, 330.0, 0.0, 0.5, 30.0, 59.0]
    outside = [61.0, 90.0, 180.0, 270.0, 299.0]
    pts = np.array([_at_aer(rad, a, 20.0, 300e3) for a in inside + outside])
    mask, _ = rad.visible(pts, 1.0)
    assert mask.tolist() == [True] * len(inside) + [False] * len(outside)
    # The plain sector of the Shariki TPY-2 (230 → 350, KeepTrack model values).
    tpy = cat_radar("USA-TPY2-SHARIKI")
    pts = np.array([_at_aer(tpy, a, 20.0, 300e3) for a in (229.0, 231.0, 290.0, 349.0, 351.0,
                                                            10.0)])
    assert tpy.visible(pts, 1.0)[0].tolist() == [False, True, True, True, False, False]


def test_elevation_and_range_limits() -> None:
    rad = radar(az_min_deg=0.0, az_max_deg=360.0, el_min_deg=5.0, el_max_deg=60.0,
                min_range_km=30.0)
    # At 200 km refraction lifts the apparent elevation by only 0.22°.
    els = [3.0, 4.5, 5.5, 30.0, 59.5, 61.0, 75.0]
    pts = np.array([_at_aer(rad, 45.0, e, 200e3) for e in els])
    assert rad.visible(pts, 1.0)[0].tolist() == [False, False, True, True, True, False, False]
    pts = np.array([_at_aer(rad, 45.0, 30.0, r) for r in (20e3, 40e3, 1500e3, 1700e3)])
    # Instrumented range of this entry: 1,600 km.
    assert rad.visible(pts, 1.0)[0].tolist() == [False, True, True, False]


def test_range_scaling_with_rcs() -> None:
    rad = cat_radar("USA-TPY2-SHARIKI")
    spec = rad.spec

    def pd_range(rcs: float) -> float:
        def f(r: float) -> float:
            return float(rad.detection_probability(rad.snr(r, rcs))) - spec.pd_ref
        return float(brentq(f, 1e3, 1e8, xtol=1e-6))

    r_ref = pd_range(spec.ref_rcs_m2)
    assert r_ref == pytest.approx(spec.ref_range_km * 1e3, rel=1e-9)
    assert pd_range(2 * spec.ref_rcs_m2) / r_ref == pytest.approx(2 ** 0.25, rel=1e-9)
    assert pd_range(spec.ref_rcs_m2 / 16) / r_ref == pytest.approx(0.5, rel=1e-9)
    # Pd falls with range, rises with SNR, equals Pfa with no signal.
    assert float(swerling1_pd(0.0, spec.pfa)) == pytest.approx(spec.pfa)


def test_empirical_pd_matches_swerling_one() -> None:
    rad = radar(az_min_deg=0.0, az_max_deg=360.0, el_min_deg=0.0, false_alarms_per_scan=0.0)
    ranges = np.array([400e3, 800e3, 1000e3, 1200e3, 1500e3])
    n = 4000
    pts = np.concatenate([np.repeat(_at_aer(rad, 10.0, 30.0, r)[None], n, 0) for r in ranges])
    st = state(pts, rcs_m2=rad.spec.ref_rcs_m2)
    scan = rad.observe(st, np.random.default_rng(11))
    hit = np.zeros(len(pts), bool)
    hit[[int(i[1:]) for i in scan.truth_ids if i is not None]] = True
    pd_model = rad.detection_probability(rad.snr(ranges, rad.spec.ref_rcs_m2))
    assert pd_model[1] == pytest.approx(rad.spec.pd_ref)  # 800 km is the reference range
    for j, p in enumerate(pd_model):
        frac = hit[j * n:(j + 1) * n].mean()
        assert abs(frac - p) < 4 * math.sqrt(p * (1 - p) / n) + 1e-9, (ranges[j], frac, p)


def test_measurement_noise_is_chi_square_consistent() -> None:
    rad = radar(az_min_deg=0.0, az_max_deg=360.0, false_alarms_per_scan=0.0)
    rng = np.random.default_rng(5)
    n = 3000
    az = rng.uniform(0, 360, n)
    pts = np.array([_at_aer(rad, a, 25.0, 300e3) for a in az])
    vel = rng.normal(0, 2000.0, (n, 3))
    st = state(pts, rcs_m2=10.0, v_ecef_m_s=vel)
    scan = rad.observe(st, np.random.default_rng(6))
    assert len(scan.z) == n  # Pd ≈ 1 at this SNR
    idx = np.array([int(str(i)[1:]) for i in scan.truth_ids])
    r, a, e = rad.geometry(pts[idx])
    # Range rate computed independently: range change over ±1 ms of straight motion.
    dt = 1e-3
    rr = (rad.geometry(pts[idx] + vel[idx] * dt)[0] - rad.geometry(pts[idx] - vel[idx] * dt)[0])
    truth = np.stack([r, a, e, rr / (2 * dt)], axis=1)
    err = scan.z - truth
    err[:, 1] = np.angle(np.exp(1j * err[:, 1]))  # azimuth wraps
    nu = err / scan.sigma
    stat = float(np.sum(nu**2))
    dof = nu.size
    assert chi2.ppf(0.005, dof) < stat < chi2.ppf(0.995, dof)
    for col in range(4):
        assert abs(nu[:, col].mean()) < 4 / math.sqrt(n)
        assert 0.9 < nu[:, col].std() < 1.1
    assert np.all((scan.z[:, 1] >= 0) & (scan.z[:, 1] < 2 * np.pi))


def test_false_alarms_poisson_in_field_of_regard() -> None:
    rad = cat_radar("USA-TPY2-SEONGJU")  # sector wraps through north
    lam = rad.spec.false_alarms_per_scan
    gen = np.random.default_rng(9)
    empty = state(np.array([[0.0, 0.0, 0.0]]), alive=False)
    scans = [rad.observe(empty, gen) for _ in range(4000)]
    counts = np.array([len(s.z) for s in scans])
    assert abs(counts.mean() - lam) < 4 * math.sqrt(lam / len(counts))
    assert counts.var() == pytest.approx(lam, rel=0.15)  # Poisson: variance = mean
    z = np.concatenate([s.z for s in scans])
    assert all(i is None for s in scans for i in s.truth_ids)
    assert np.all(rad.in_sector(z[:, 1]))
    assert np.all((z[:, 0] >= rad.min_range_m) & (z[:, 0] <= rad.ref_range_m))
    assert np.all((z[:, 2] >= rad.spec.el_min_rad) & (z[:, 2] <= rad.spec.el_max_rad))
    # Uniform azimuth over the 120° sector: both halves equally filled.
    off = np.mod(z[:, 1] - rad.spec.az_min_rad, 2 * np.pi) / rad.spec.az_width_rad
    assert abs(np.mean(off < 0.5) - 0.5) < 4 * 0.5 / math.sqrt(len(off))


def test_dead_or_hidden_targets_are_never_detected() -> None:
    rad = radar(az_min_deg=0.0, az_max_deg=360.0, false_alarms_per_scan=0.0)
    pt = _at_aer(rad, 0.0, 30.0, 300e3)
    gen = np.random.default_rng(1)
    assert len(rad.observe(state(pt, rcs_m2=10.0, alive=False), gen).z) == 0
    below = _at_aer(rad, 0.0, -5.0, 300e3)
    assert len(rad.observe(state(below, rcs_m2=10.0), gen).z) == 0
    assert len(rad.observe(state(pt, rcs_m2=10.0), gen).z) == 1


def test_scan_times_are_a_fixed_grid() -> None:
    rad = cat_radar("JPN-FPS5-SADO")
    t = rad.scan_times(0.0, 100.0)
    assert np.allclose(np.diff(t), rad.spec.revisit_s)
    assert 0.0 <= t[0] < rad.spec.revisit_s
    later = rad.scan_times(37.0, 100.0)
    assert np.all(np.isin(later, t)) and later[0] >= 37.0
    other = cat_radar("JPN-FPS5-OMINATO").scan_times(0.0, 100.0)
    assert t[0] != other[0]  # phases differ by sensor id
