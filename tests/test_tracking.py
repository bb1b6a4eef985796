"""Tracking: statistical honesty on a reference scenario, and multi-target robustness.

Reference scenario (filter consistency): the 2022-10-04 Hwasong-12 seen by the J/FPS-5
at Ominato, Monte Carlo over 400 flights (pitch, cut-off and heading perturbed around
the fitted ones) and radar noise. The filter is fed each flight's own detections (its
association is tested separately below), so these tests measure the estimator alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import numpy as np
import pytest
from scipy.stats import chi2

from trilink.physics import earth
from trilink.physics.trajectory import propagate, propagate_ballistic
from trilink.sensors import RadarScan, build_sensor, sensor_catalogue, simulate_scans
from trilink.sim.flights import LaunchFlight, fly_scenarios
from trilink.sim.scenario import load_scenario
from trilink.sim.tracking import run_tracker
from trilink.sim.truth import Truth
from trilink.tracking.imm import RadarGeometry, TrackBank, polar_to_ecef
from trilink.tracking.impact import estimate_launch, predict_impacts
from trilink.tracking.metrics import CLUTTER, nearest_truth, tracks_per_missile
from trilink.tracking.pcrlb import pcrlb
from trilink.tracking.tracker import EventKind, TrackerConfig

RUNS = 400
RADAR = "JPN-FPS5-OMINATO"
SETTLE_UPDATES = 5  # NEES is scored once the track has this many updates


@dataclass
class MonteCarlo:
    truth: Truth
    t_s: np.ndarray  # (K,) scan times with at least one detection
    nees: list[np.ndarray]  # per scan: NEES of the runs updated then
    err2_pos: list[np.ndarray]
    err2_vel: list[np.ndarray]
    scored_runs: list[np.ndarray]  # per scan: which runs the errors above belong to
    run_nees: list[list[float]]  # per run: its NEES at each scored update
    run_times: list[list[float]]  # per run: times of all its detections (seed first)
    coverage: np.ndarray  # (RUNS,) 95 % impact ellipse contains the true impact
    impact_err_m: np.ndarray
    first_t: np.ndarray


@pytest.fixture(scope="module")
def reference() -> MonteCarlo:
    return monte_carlo()


def monte_carlo(t_start_s: float = 0.0) -> MonteCarlo:
    lf: LaunchFlight = fly_scenarios([load_scenario("2022-10-04-irbm-overflight")])[0]
    rng = np.random.default_rng(20221004)
    c = lf.fit.controls
    controls = [
        replace(
            c,
            pitch_final_rad=c.pitch_final_rad + np.radians(rng.normal(0, 1.0)),
            energy_fraction=min(1.0, c.energy_fraction - abs(rng.normal(0, 0.01))),
            heading_rad=c.heading_rad + np.radians(rng.normal(0, 1.0)),
        )
        for _ in range(RUNS)
    ]
    flights = propagate([lf.fit.request.profile] * RUNS, controls)
    truth = Truth(tuple(f"run{i:03d}" for i in range(RUNS)), np.zeros(RUNS), flights)
    spec = sensor_catalogue()[RADAR]
    scans = [m for m in simulate_scans([build_sensor(spec)], truth, seed=7, t0_s=t_start_s)
             if isinstance(m, RadarScan)]
    row_of = {tid: i for i, tid in enumerate(truth.ids)}
    bank = TrackBank()
    track_row = np.full(RUNS, -1)
    n_updates = np.zeros(RUNS, dtype=int)
    first_t = np.full(RUNS, np.nan)
    seed_t = np.full(RUNS, np.nan)
    seed_pos = np.zeros((RUNS, 3))
    seed_cov = np.zeros((RUNS, 3, 3))
    out = MonteCarlo(truth, np.zeros(0), [], [], [], [], [[] for _ in range(RUNS)],
                     [[] for _ in range(RUNS)], np.zeros(RUNS, bool), np.zeros(RUNS), first_t)
    times = []
    geo: RadarGeometry | None = None
    predicted = np.zeros(RUNS, dtype=bool)
    for scan in scans:
        geo = geo or RadarGeometry.at(scan.site_lat_rad, scan.site_lon_rad, scan.site_h_m)
        runs = np.array([row_of[t] for t in scan.truth_ids if t is not None], dtype=int)
        dets = np.array([k for k, t in enumerate(scan.truth_ids) if t is not None], dtype=int)
        if runs.size == 0:
            continue
        R = np.diag(scan.sigma**2)
        for run in runs:
            out.run_times[int(run)].append(float(scan.t_s))
        pos, cov = polar_to_ecef(scan.z[dets], geo, scan.sigma)
        # Tracks start as the tracker starts them: from two detections (seed + pair).
        seedless = np.isnan(seed_t[runs])
        paired = (track_row[runs] < 0) & ~seedless
        if paired.any():
            sel = runs[paired]
            track_row[sel] = bank.add_two_point(seed_pos[sel], seed_cov[sel], seed_t[sel],
                                                pos[paired], cov[paired], scan.t_s,
                                                TrackerConfig().max_force_m_s2)
            first_t[sel] = scan.t_s
        seed_pos[runs[seedless]], seed_cov[runs[seedless]] = pos[seedless], cov[seedless]
        seed_t[runs[seedless]] = scan.t_s
        new = seedless | paired
        old = ~new
        rows = track_row[runs[old]].astype(np.int64)
        bank.predict(rows, scan.t_s)
        bank.update(rows, scan.z[dets[old]], R, geo)
        n_updates[runs[old]] += 1
        state = truth.at(scan.t_s)
        x, P = bank.estimates()
        scored = runs[old][n_updates[runs[old]] >= SETTLE_UPDATES]
        if scored.size:
            tr = track_row[scored]
            e = np.concatenate([x[tr, :3] - state.r_ecef_m[scored],
                                x[tr, 3:6] - state.v_ecef_m_s[scored]], axis=1)
            nees = np.einsum("ni,nij,nj->n", e, np.linalg.inv(P[tr, :6, :6]), e)
            out.nees.append(nees)
            for run, value in zip(scored, nees, strict=True):
                out.run_nees[int(run)].append(float(value))
            out.err2_pos.append(np.sum(e[:, :3] ** 2, axis=1))
            out.err2_vel.append(np.sum(e[:, 3:] ** 2, axis=1))
            out.scored_runs.append(scored)
            times.append(scan.t_s)
        # Impact prediction 60 s after each run's first detection (first scan past it).
        due = runs[old][(scan.t_s - first_t[runs[old]] >= 60.0) & ~predicted[runs[old]]]
        if due.size:
            preds = predict_impacts(x[track_row[due]], P[track_row[due]],
                                    np.full(due.size, scan.t_s))
            for run, pred in zip(due, preds, strict=True):
                f = flights.row(int(run))
                lat, lon, _ = earth.ecef_to_geodetic(f.r_ecef_m[-1])
                out.coverage[run] = pred.contains(float(lat), float(lon))
                enu = earth.ecef_to_enu(f.r_ecef_m[-1], pred.lat_rad, pred.lon_rad, 0.0)
                out.impact_err_m[run] = float(np.hypot(enu[0], enu[1]))
            predicted[due] = True
    out.t_s = np.array(times)
    assert predicted.all(), "every run must reach 60 s of track"
    return out


def test_nees_lies_in_the_chi_square_band(reference: MonteCarlo) -> None:
    """Average NEES (6 states: position, velocity) against its chi-square band.

    Errors of one run are strongly correlated in time (the coast is nearly
    deterministic), so the runs, not the scans, are the independent samples: the mean
    over runs of each run's time-averaged NEES must match 6 within its 99 % interval.
    The run-averaged NEES at each scan time is also compared with the 95 % band for
    independent samples at that time.
    """
    per_run = np.array([np.mean(v) for v in reference.run_nees if len(v) >= 20])
    assert per_run.size > 300
    half_width = 2.576 * per_run.std(ddof=1) / np.sqrt(per_run.size)
    assert abs(per_run.mean() - 6.0) <= half_width + 0.05 * 6.0, (per_run.mean(), half_width)
    inside = []
    for nees in reference.nees:
        n = nees.size
        if n < 50:
            continue
        lo, hi = chi2.ppf(0.025, 6 * n) / n, chi2.ppf(0.975, 6 * n) / n
        inside.append(lo <= nees.mean() <= hi)
    assert len(inside) > 100
    assert np.mean(inside) >= 0.75, np.mean(inside)


def test_impact_ellipse_holds_the_true_impact_95_percent_of_the_time(
    reference: MonteCarlo,
) -> None:
    coverage = reference.coverage.mean()
    assert 0.92 <= coverage <= 0.98, coverage
    assert np.median(reference.impact_err_m) < 30e3


@pytest.fixture(scope="module")
def coast() -> MonteCarlo:
    """The reference flights tracked from their first detection after burnout (90 s)."""
    return monte_carlo(t_start_s=100.0)


def test_rmse_is_within_1_3_of_the_pcrlb(coast: MonteCarlo) -> None:
    """RMSE over the runs against the PCRLB along each run's own detections.

    The bound holds for the ballistic coast, where the motion model is exact, so the
    tracks start after burnout. The bound for a run uses exactly the detections its
    filter had (seed and updates) and a prior with no position information and a
    3 km/s velocity spread.
    """
    reference = coast
    spec = sensor_catalogue()[RADAR]
    geo = RadarGeometry.at(np.radians(spec.lat_deg), np.radians(spec.lon_deg), spec.height_m)
    sigma = np.array([spec.sigma_range_m, spec.sigma_az_mrad * 1e-3,
                      spec.sigma_el_mrad * 1e-3, spec.sigma_range_rate_m_s or 0.0])
    sigma = sigma[sigma > 0]
    prior = np.diag([1e12] * 3 + [3000.0**2] * 3)
    bound_pos: dict[tuple[int, float], float] = {}
    bound_vel: dict[tuple[int, float], float] = {}
    for run in range(0, RUNS, 8):
        ts = np.array(reference.run_times[run])
        r, v = reference.truth.flights.row(run).state_at(ts)
        bound = pcrlb(ts, np.concatenate([r, v], axis=1), geo, sigma, prior)
        for t, b in zip(ts, bound, strict=True):
            bound_pos[(run, float(t))] = float(np.trace(b[:3, :3]))
            bound_vel[(run, float(t))] = float(np.trace(b[3:, 3:]))
    mse_p, mse_v, b_p, b_v = [], [], [], []
    for k, t in enumerate(reference.t_s):
        for i, run in enumerate(reference.scored_runs[k]):
            key = (int(run), float(t))
            if key in bound_pos:
                mse_p.append(reference.err2_pos[k][i])
                mse_v.append(reference.err2_vel[k][i])
                b_p.append(bound_pos[key])
                b_v.append(bound_vel[key])
    assert len(mse_p) > 1000
    ratio_pos = float(np.sqrt(np.mean(mse_p) / np.mean(b_p)))
    ratio_vel = float(np.sqrt(np.mean(mse_v) / np.mean(b_v)))
    assert ratio_pos <= 1.3, ratio_pos
    assert ratio_vel <= 1.3, ratio_vel
    assert ratio_pos >= 0.9 and ratio_vel >= 0.9  # far below the bound: a broken bound


def _one_missile_each(matches: dict[str, Counter[str]]) -> None:
    """Every track followed one missile; updates from clutter stay rare."""
    for track_id, counts in matches.items():
        missiles = [k for k in counts if k != CLUTTER]
        assert len(missiles) <= 1, (track_id, counts)
        assert counts[CLUTTER] <= 0.05 * sum(counts.values()), (track_id, counts)


@pytest.fixture(scope="module")
def salvo() -> Truth:
    """Six KN-23 from one site, 4 s apart, toward the same sea area (azimuth ±3°)."""
    from trilink.physics.fit import FitRequest, fit_flights
    from trilink.physics.missiles import get_profile

    reqs = [FitRequest(np.radians(39.17), np.radians(127.48), np.radians(88 + az), 90e3, 420e3,
                       get_profile("kn-23")) for az in (-3, -2, -1, 0, 1, 2)]
    fits = fit_flights(reqs)
    assert all(f.converged for f in fits)
    batch = propagate([f.request.profile for f in fits], [f.controls for f in fits])
    return Truth(tuple(f"S{i}" for i in range(6)), np.arange(6) * 4.0, batch)


@pytest.mark.parametrize("nation", ["KOR", "JPN"])
def test_salvo_is_tracked_without_swaps_or_lost_tracks(salvo: Truth, nation: str) -> None:
    run = run_tracker(salvo, nation, seed=11)
    matches = nearest_truth(run.events, salvo)
    _one_missile_each(matches)  # no swaps, no merges
    owners = tracks_per_missile(matches)
    detections = {tid: 0 for tid in salvo.ids}
    for scan in run.scans:
        for tid in scan.truth_ids:
            if tid is not None:
                detections[tid] += 1
    for missile, n in detections.items():
        if n >= 12:  # seen often enough to be tracked
            assert len(owners.get(missile, ())) == 1, (missile, n, owners.get(missile))


def test_the_2022_11_02_day_is_tracked_one_track_per_missile() -> None:
    truth = Truth.from_launch_flights(fly_scenarios([load_scenario("2022-11-02-day")]))
    assert truth.size == 23
    run = run_tracker(truth, "KOR", seed=3)
    matches = nearest_truth(run.events, truth)
    _one_missile_each(matches)
    owners = tracks_per_missile(matches)
    assert set(owners) == set(truth.ids)  # every missile tracked ...
    assert all(len(t) == 1 for t in owners.values()), owners  # ... by exactly one track


def test_a_track_survives_burnout() -> None:
    """Japan's radars pick up the 2022-10-04 Hwasong-12 in its boost; the track that
    follows it then is the one that follows it through burnout and the coast."""
    truth = Truth.from_launch_flights(fly_scenarios([load_scenario("2022-10-04-irbm-overflight")]))
    run = run_tracker(truth, "JPN", seed=5)
    burnout = float(truth.flights.burnout_s[0])
    updates = [e for e in run.events if e.kind == EventKind.UPDATED]
    before = {e.track_id for e in updates if e.t_s < burnout}
    after = {e.track_id for e in updates if e.t_s > burnout + 120}
    assert before and before <= after, (before, after)
    assert len(tracks_per_missile(nearest_truth(run.events, truth))[truth.ids[0]]) == 1
    powered_then = [e.powered_probability for e in updates if e.t_s < burnout]
    ballistic_later = [e.powered_probability for e in updates if e.t_s > burnout + 60]
    assert np.mean(powered_then) > 0.5 > np.mean(ballistic_later)


def test_tracking_is_deterministic(salvo: Truth) -> None:
    a = run_tracker(salvo, "KOR", seed=2)
    b = run_tracker(salvo, "KOR", seed=2)
    assert len(a.events) == len(b.events)
    for x, y in zip(a.events, b.events, strict=True):
        assert x.track_id == y.track_id and x.t_s == y.t_s
        assert x.x.tobytes() == y.x.tobytes()


def test_launch_back_propagation_recovers_a_ballistic_origin() -> None:
    start = earth.geodetic_to_ecef(np.radians(39.2), np.radians(125.7), 0.0)
    up = earth.geodetic_up(np.radians(39.2), np.radians(125.7))
    east = earth.enu_basis(np.radians(39.2), np.radians(125.7))[0]
    v0 = 4000.0 * (0.6 * up + 0.8 * east)
    # A drag-free arc: an enormous ballistic coefficient.
    f = propagate_ballistic(start[None], v0[None], 1e15).row(0)
    r, v = f.state_at(300.0)
    est = estimate_launch(np.concatenate([r, v]), 1000.0)
    assert est is not None
    back = earth.geodetic_to_ecef(est.lat_rad, est.lon_rad, 0.0)
    assert np.linalg.norm(back - start) < 200.0
    assert est.t_s == pytest.approx(700.0, abs=0.5)
