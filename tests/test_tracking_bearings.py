"""Space-based infrared lines of sight fused into tracks as bearings (issue 14 item 4).

The satellite measures two angles and no range: an update must pull the track towards the
line of sight (across it) and leave its uncertainty along it alone, and a tracker fed
infrared frames beside its radars must use them on the tracks it has, never start one.
"""

from __future__ import annotations

import numpy as np
import pytest

from trilink.sensors import IrScan, RadarScan, build_sensor, sensor_catalogue, simulate_scans
from trilink.sensors.infrared import SpaceInfrared
from trilink.sim.flights import fly_scenarios
from trilink.sim.scenario import load_scenario
from trilink.sim.truth import Truth
from trilink.tracking import kernels
from trilink.tracking.imm import ImmParams, RadarGeometry, TrackBank
from trilink.tracking.metrics import nearest_truth
from trilink.tracking.tracker import EventKind, Tracker

SBIRS = "USA-SBIRS-GEO"


@pytest.fixture(scope="module")
def sat() -> SpaceInfrared:
    spec = sensor_catalogue()[SBIRS]
    sensor = build_sensor(spec)
    assert isinstance(sensor, SpaceInfrared)
    return sensor


def _point() -> np.ndarray:
    """A booster 60 km above the Sea of Japan (ECEF, m)."""
    from trilink.physics import earth

    return np.asarray(earth.geodetic_to_ecef(np.radians(40.0), np.radians(131.0), 60e3))


def test_line_of_sight_model_is_the_sensors_and_its_jacobian_is_right(
        sat: SpaceInfrared) -> None:
    x = np.zeros(kernels.NX)
    x[:3] = _point()
    z = np.empty(2)
    H = np.empty((2, kernels.NX))
    kernels.los_h(x, sat.sat_ecef_m, sat.frame_ecef, z, H)
    np.testing.assert_allclose(z, sat.los_angles(x[:3]), rtol=0, atol=1e-12)
    assert np.all(H[:, 3:] == 0.0)
    for i in range(3):  # central differences, 1 m steps
        dx = np.zeros(kernels.NX)
        dx[i] = 1.0
        zp, zm = np.empty(2), np.empty(2)
        kernels.los_h(x + dx, sat.sat_ecef_m, sat.frame_ecef, zp, np.empty((2, kernels.NX)))
        kernels.los_h(x - dx, sat.sat_ecef_m, sat.frame_ecef, zm, np.empty((2, kernels.NX)))
        np.testing.assert_allclose(H[:, i], (zp - zm) / 2.0, rtol=1e-6, atol=1e-15)


def test_a_bearing_shrinks_the_uncertainty_across_the_line_of_sight_only(
        sat: SpaceInfrared) -> None:
    r = _point()
    sigma_prior_m = 3000.0
    bank = TrackBank(ImmParams())
    bank.add(0.0, r[None], (np.eye(3) * sigma_prior_m**2)[None])
    geo = RadarGeometry(sat.sat_ecef_m, sat.frame_ecef)
    z = sat.los_angles(r)[None]  # the true line of sight: a noiseless plot
    R = np.diag(sat.sigma**2)
    bank.update(np.array([0], dtype=np.int64), z, R, geo, kernels.LOS)
    _, P = bank.estimates()
    Pp = P[0, :3, :3]
    u = (r - sat.sat_ecef_m) / np.linalg.norm(r - sat.sat_ecef_m)
    along = float(u @ Pp @ u)
    # Across the line of sight: the prior and the plot combine as two independent
    # estimates; the plot's σ there is its angle σ times the range.
    sigma_plot_m = float(sat.sigma[0]) * float(np.linalg.norm(r - sat.sat_ecef_m))
    expected = 1.0 / (1.0 / sigma_prior_m**2 + 1.0 / sigma_plot_m**2)
    basis = np.linalg.svd(np.eye(3) - np.outer(u, u))[0][:, :2]
    across = np.linalg.eigvalsh(basis.T @ Pp @ basis)
    assert along == pytest.approx(sigma_prior_m**2, rel=0.01)
    np.testing.assert_allclose(across, expected, rtol=0.05)
    assert across.max() < 0.25 * sigma_prior_m**2


def test_infrared_frames_update_the_radar_track_in_boost_and_start_none() -> None:
    """Japan's radars on the 2022-10-04 Hwasong-12 with the US satellite's frames (as an
    agreement sharing them would deliver): the frames update Japan's track of the missile
    during the boost; tracks and identities are those of the radars alone."""
    truth = Truth.from_launch_flights(fly_scenarios([load_scenario("2022-10-04-irbm-overflight")]))
    cat = sensor_catalogue()
    ids = [sid for sid, spec in cat.items() if spec.nation == "JPN"] + [SBIRS]
    scans = [m for m in simulate_scans([build_sensor(cat[i]) for i in ids], truth, seed=11)
             if isinstance(m, RadarScan | IrScan)]
    frames = [s for s in scans if isinstance(s, IrScan) and len(s.z)]
    assert frames
    runs = {}
    for with_ir in (False, True):
        tracker = Tracker("JPN")
        events = []
        for s in scans:
            if with_ir or not isinstance(s, IrScan):
                events += tracker.process(s)
        runs[with_ir] = events
    bearing = [e for e in runs[True] if e.sensor_id == SBIRS and e.kind == EventKind.UPDATED]
    assert bearing
    assert not [e for e in runs[True] if e.sensor_id == SBIRS and e.kind == EventKind.CONFIRMED]
    burnout = float(truth.launch_t_s[0] + truth.flights.burnout_s[0])
    assert all(e.t_s <= burnout + 2.0 for e in bearing)  # the plume is seen in boost only
    confirmed = {w: {e.track_id for e in ev if e.kind == EventKind.CONFIRMED}
                 for w, ev in runs.items()}
    assert confirmed[True] == confirmed[False]  # bearings started no track
    matches = nearest_truth(runs[True], truth)
    assert all(len(c) == 1 for c in matches.values()), matches  # no swap, no clutter
    # Each bearing update lands near the missile (km, against ~1.2 km plot σ across).
    for e in bearing:
        r_true = truth.at(e.t_s).r_ecef_m[0]
        assert np.linalg.norm(e.x[:3] - r_true) < 5e3
