"""Tracking: statistical honesty on a reference scenario, and multi-target robustness.

Reference scenario (filter consistency): the 2022-10-04 Hwasong-12 seen by the J/FPS-5
at Ominato, Monte Carlo over 400 flights (pitch, cut-off and heading perturbed around
the fitted ones) and radar noise. The filter is fed each flight's own detections (its
association is tested separately below), so these tests measure the estimator alone.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from scipy.stats import chi2

from trilink.analysis.consistency import RADAR, MonteCarlo, compare_with_pcrlb, monte_carlo
from trilink.physics import earth
from trilink.physics.trajectory import propagate, propagate_ballistic
from trilink.sim.flights import fly_scenarios
from trilink.sim.scenario import load_scenario
from trilink.sim.tracking import run_tracker
from trilink.sim.truth import Truth
from trilink.tracking.impact import estimate_launch
from trilink.tracking.metrics import CLUTTER, nearest_truth, tracks_per_missile
from trilink.tracking.tracker import EventKind


@pytest.fixture(scope="module")
def reference() -> MonteCarlo:
    return monte_carlo()


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
    # docs/tracking.md: inside the band at 95 % of scan times. Margin: three binomial
    # standard errors of that fraction over these scan times (~5 points at 150 scans).
    floor = 0.95 - 3.0 * np.sqrt(0.95 * 0.05 / len(inside))
    assert np.mean(inside) >= floor, (np.mean(inside), floor)


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
    tracks start after burnout.
    """
    cmp = compare_with_pcrlb(coast, RADAR)
    assert cmp.t_s.size > 50
    assert cmp.ratio_pos <= 1.3, cmp.ratio_pos
    assert cmp.ratio_vel <= 1.3, cmp.ratio_vel
    # Far below the bound would mean a broken bound (or a filter that sees truth).
    assert cmp.ratio_pos >= 0.9 and cmp.ratio_vel >= 0.9


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
