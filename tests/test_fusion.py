"""Track-to-track fusion: consistent under unknown correlation; one missile, one object."""

from __future__ import annotations

import numpy as np
import pytest

from trilink.physics import earth
from trilink.physics.fit import FitRequest, fit_flights
from trilink.physics.missiles import get_profile
from trilink.physics.trajectory import propagate
from trilink.sharing.fusion import (
    FusedPicture,
    SourceTrack,
    covariance_intersection,
    predict_track,
)
from trilink.sim.tracking import run_tracker
from trilink.sim.truth import Truth
from trilink.tracking.metrics import nearest_truth, tracks_per_missile
from trilink.tracking.tracker import EventKind


def test_covariance_intersection_stays_consistent_when_naive_fusion_does_not() -> None:
    rng = np.random.default_rng(5)
    n, runs = 6, 4000
    A = rng.normal(size=(n, n))
    Pa = A @ A.T + n * np.eye(n)
    B = rng.normal(size=(n, n))
    Pb = B @ B.T + n * np.eye(n)
    # Errors of the two estimates are strongly correlated (common history), unknown
    # to the fuser: e_b = rho * L_b L_a^-1 e_a + sqrt(1 - rho^2) * independent part.
    La, Lb = np.linalg.cholesky(Pa), np.linalg.cholesky(Pb)
    rho = 0.9
    nees_ci, nees_naive = [], []
    for _ in range(runs):
        ua, uc = rng.normal(size=n), rng.normal(size=n)
        ea = La @ ua
        eb = Lb @ (rho * ua + np.sqrt(1 - rho**2) * uc)
        x, P, w = covariance_intersection(ea, Pa, eb, Pb)
        nees_ci.append(x @ np.linalg.solve(P, x))
        Pn = np.linalg.inv(np.linalg.inv(Pa) + np.linalg.inv(Pb))
        xn = Pn @ (np.linalg.solve(Pa, ea) + np.linalg.solve(Pb, eb))
        nees_naive.append(xn @ np.linalg.solve(Pn, xn))
        assert 0.0 <= w <= 1.0
    assert np.mean(nees_ci) <= n  # the CI bound holds whatever the correlation
    assert np.mean(nees_naive) > 1.2 * n  # pretending independence is overconfident


def test_covariance_intersection_of_an_estimate_with_itself_adds_nothing() -> None:
    x = np.arange(6.0)
    P = np.diag([4.0, 9.0, 1.0, 2.0, 3.0, 5.0])
    xf, Pf, _ = covariance_intersection(x, P, x, P)
    np.testing.assert_allclose(xf, x, atol=1e-9)
    np.testing.assert_allclose(Pf, P, rtol=1e-6)


@pytest.fixture(scope="module")
def salvo_truth() -> Truth:
    reqs = [FitRequest(np.radians(39.17), np.radians(127.48), np.radians(88 + az), 90e3,
                       420e3, get_profile("kn-23")) for az in (-4, 0, 4)]
    fits = fit_flights(reqs)
    batch = propagate([f.request.profile for f in fits], [f.controls for f in fits])
    return Truth(("A", "B", "C"), np.array([0.0, 20.0, 40.0]), batch)


def test_two_nations_tracks_fuse_into_one_object_per_missile(salvo_truth: Truth) -> None:
    runs = {nation: run_tracker(salvo_truth, nation, seed=4) for nation in ("KOR", "JPN")}
    picture = FusedPicture("USA")
    owner_of: dict[str, str] = {}
    for nation, run in runs.items():
        for missile, tracks in tracks_per_missile(nearest_truth(run.events, salvo_truth)).items():
            for tid in tracks:
                owner_of[f"{nation}/{tid}"] = missile
    # Feed both nations' updates in time order, as they would arrive.
    events = sorted(
        [(e.t_s, nation, e) for nation, run in runs.items() for e in run.events
         if e.kind == EventKind.UPDATED],
        key=lambda item: (item[0], item[1]),
    )
    for _, nation, e in events:
        picture.update([SourceTrack(nation, e.track_id, e.t_s, e.x, e.P,
                                    e.powered_probability)])
    objects = picture.objects()
    tracked = set(owner_of.values())
    assert len(objects) == len(tracked)
    for obj in objects:
        missiles = {owner_of[k] for k in obj.sources if k in owner_of}
        assert len(missiles) == 1, obj.sources.keys()  # never two missiles in one object
    # Both nations saw all three: each object has one track of each.
    assert all({k.split("/")[0] for k in obj.sources} == {"KOR", "JPN"} for obj in objects)


def test_a_fresh_boosting_track_is_not_pulled_back_by_an_older_coasting_one() -> None:
    """Near burnout one nation's older track (judged coasting, tight) and another's fresh
    one (still accelerating) describe one missile: the fused state must keep the fresh
    energy, not the energy the older track had 5 s before (the 2022-10-04 fact sheet
    once read MRBM for an IRBM this way)."""
    r = earth.WGS84_A_M + 100e3
    x_old = np.zeros(9)
    x_old[:3] = [r, 0.0, 0.0]
    x_old[3:6] = [300.0, 2_500.0, 1_000.0]
    P_old = np.diag([50.0**2] * 3 + [5.0**2] * 3 + [1.0] * 3)
    gap_s, thrust_m_s2 = 5.0, 25.0
    x_fresh, _ = predict_track(x_old, P_old, gap_s, 0.0)
    along = x_old[3:6] / np.linalg.norm(x_old[3:6])
    x_fresh[:3] += 0.5 * thrust_m_s2 * gap_s**2 * along
    x_fresh[3:6] += thrust_m_s2 * gap_s * along
    x_fresh[6:] = thrust_m_s2 * along
    P_fresh = np.diag([200.0**2] * 3 + [30.0**2] * 3 + [25.0] * 3)
    picture = FusedPicture("USA")
    picture.update([SourceTrack("KOR", "K1", 100.0, x_old, P_old, 0.2)])
    picture.update([SourceTrack("JPN", "J1", 100.0 + gap_s, x_fresh, P_fresh, 0.9)])
    (obj,) = picture.objects()
    assert set(obj.sources) == {"KOR/K1", "JPN/J1"}
    speed_error = abs(np.linalg.norm(obj.x[3:6]) - np.linalg.norm(x_fresh[3:6]))
    assert speed_error < 2 * 30.0  # within two sigma of the fresh track, not 125 m/s short
