"""Space-based infrared: boost phase only, above the cloud tops, honest launch reports."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2

from trilink.physics.earth import ecef_to_geodetic, geodesic_inverse, geodetic_to_ecef
from trilink.sensors import (
    InfraredSpec,
    IrScan,
    LaunchReport,
    SpaceInfrared,
    los_direction,
    sensor_catalogue,
    simulate_scans,
)
from trilink.sim.flights import LaunchFlight
from trilink.sim.truth import Truth, TruthState

EVENTS = ("2022-10-04-irbm-overflight", "2022-11-18-hwasong17", "2023-12-17-srbm")


@pytest.fixture(scope="module")
def truths(historical_flights: dict[str, LaunchFlight]) -> dict[str, tuple[LaunchFlight, Truth]]:
    """Hwasong-12 (90 s burn), Hwasong-17 (390 s, lofted) and a depressed KN-23 (30 s)."""
    return {e: (historical_flights[e], Truth.from_launch_flights([historical_flights[e]]))
            for e in EVENTS}


@pytest.fixture(scope="module")
def sbirs() -> SpaceInfrared:
    spec = sensor_catalogue()["USA-SBIRS-GEO"]
    assert isinstance(spec, InfraredSpec)
    return SpaceInfrared(spec)


def test_boost_phase_only_and_above_cloud_tops(
        truths: dict[str, tuple[LaunchFlight, Truth]], sbirs: SpaceInfrared) -> None:
    for event in EVENTS[:2]:
        _, truth = truths[event]
        burnout = float(truth.flights.burnout_s[0])
        out = simulate_scans([sbirs], truth, seed=4)
        frames = [m for m in out if isinstance(m, IrScan)]
        assert frames[-1].t_s > burnout + 300  # frames continue long after burnout...
        seen = [f for f in frames if len(f.z)]
        assert seen and all(f.t_s <= burnout for f in seen)  # ...but report nothing
        for f in seen:
            st = truth.at(f.t_s)
            _, _, h = ecef_to_geodetic(st.r_ecef_m[0])
            assert st.boosting[0] and float(h) >= sbirs.cloud_top_m
        # Frames between the cloud tops and burnout are detected at about pd_per_frame.
        t = np.array([f.t_s for f in frames])
        _, _, h_all = ecef_to_geodetic(np.array([truth.at(x).r_ecef_m[0] for x in t]))
        eligible = (h_all >= sbirs.cloud_top_m) & (t < burnout)
        rate = len(seen) / int(eligible.sum())
        p = sbirs.spec.pd_per_frame
        assert abs(rate - p) < 4 * math.sqrt(p * (1 - p) / eligible.sum()) + 0.01
        assert not np.any(~eligible & np.array([len(f.z) > 0 for f in frames]))


def test_line_of_sight_angles(sbirs: SpaceInfrared) -> None:
    rng = np.random.default_rng(2)
    r = geodetic_to_ecef(np.radians(rng.uniform(20, 50, 300)),
                         np.radians(rng.uniform(115, 150, 300)), rng.uniform(1e4, 3e5, 300))
    u = los_direction(sbirs.frame_ecef, sbirs.los_angles(r))
    d = r - sbirs.sat_ecef_m
    np.testing.assert_allclose(u, d / np.linalg.norm(d, axis=1, keepdims=True), atol=1e-12)
    # Noise: chi-square consistent normalised angle errors over many boosting targets.
    n = len(r)
    st = TruthState(0.0, tuple(f"T{i}" for i in range(n)), r, np.zeros_like(r),
                    np.ones(n, bool), np.ones(n, bool), np.full(n, 2.0))
    nu_all = []
    for _ in range(10):
        scan = sbirs.observe(st, rng)
        idx = [int(i[1:]) for i in scan.truth_ids if i is not None]
        nu_all.append((scan.z - sbirs.los_angles(r[idx])) / scan.sigma)
    nu = np.concatenate(nu_all)
    assert chi2.ppf(0.005, nu.size) < float(np.sum(nu**2)) < chi2.ppf(0.995, nu.size)
    # A target on the far side of the Earth is hidden.
    far = geodetic_to_ecef(0.0, sbirs.spec.sub_satellite_lon_rad + math.pi, 50e3)[None]
    st_far = TruthState(0.0, ("F",), far, np.zeros((1, 3)), np.ones(1, bool), np.ones(1, bool),
                        np.ones(1))
    assert not sbirs.visible(st_far).any()
    # Not boosting (a re-entry vehicle) or not yet launched: hidden as well.
    for alive, boosting in ((True, False), (False, True)):
        st_rv = TruthState(0.0, ("R",), r[:1], np.zeros((1, 3)), np.array([alive]),
                           np.array([boosting]), np.ones(1))
        assert not sbirs.visible(st_rv).any()


def test_launch_report_errors_within_stated_sigma(
        truths: dict[str, tuple[LaunchFlight, Truth]], sbirs: SpaceInfrared) -> None:
    """Monte Carlo over 100 seeds × 3 missile types: errors inside the stated bounds."""
    pos_ratio, time_ratio = [], []
    for event in EVENTS:
        lf, truth = truths[event]
        lat0, lon0 = math.radians(lf.launch.site.lat_deg), math.radians(lf.launch.site.lon_deg)
        for seed in range(100):
            out = simulate_scans([sbirs], truth, seed, 0.0, 100.0)
            reports = [m for m in out if isinstance(m, LaunchReport)]
            assert len(reports) == 1
            rep = reports[0]
            hits = [f for f in out if isinstance(f, IrScan) and len(f.z)]
            k = sbirs.spec.report_after_detections
            assert rep.t_report_s == pytest.approx(hits[k - 1].t_s + sbirs.spec.report_latency_s)
            assert rep.truth_id == truth.ids[0]
            _, dist = geodesic_inverse(lat0, lon0, rep.launch_lat_rad, rep.launch_lon_rad)
            pos_ratio.append(float(dist) / rep.sigma_position_m)
            time_ratio.append(abs(rep.launch_t_s - float(truth.launch_t_s[0])) / rep.sigma_time_s)
            assert rep.sigma_position_m < 10e3 and rep.sigma_time_s < 20.0
    pos, tim = np.array(pos_ratio), np.array(time_ratio)
    # Radial error vs per-axis σ: a circular Gaussian stays inside 3σ 98.9 % of the time.
    assert np.mean(pos <= 3.0) >= 0.97, np.max(pos)
    assert np.mean(tim <= 3.0) >= 0.97, np.max(tim)
    assert np.sqrt(np.mean(pos**2)) < 2.0  # and on average within ~1.4σ (2D rms)


def test_short_burn_below_clouds_gives_no_report(
        historical_flights: dict[str, LaunchFlight], sbirs: SpaceInfrared) -> None:
    """The 2022-11-02 KN-23 burns out 3 s after clearing 10 km: too few frames to report."""
    truth = Truth.from_launch_flights([historical_flights["2022-11-02-srbm-south-of-nll"]])
    out = simulate_scans([sbirs], truth, seed=0)
    assert not [m for m in out if isinstance(m, LaunchReport)]
    assert sum(len(m.z) for m in out if isinstance(m, IrScan)) < sbirs.spec.report_after_detections
