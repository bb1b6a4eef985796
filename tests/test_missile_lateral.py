"""A glide vehicle's lateral manoeuvre: a banked glide turns off the launch plane, and the
fit flies a published lateral movement (KCNA, 2022-01-05: "120 km lateral movement")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scenario_variant import variant_of_shipped

from trilink.physics import earth
from trilink.physics.fit import FitRequest, cross_range_m, summarise
from trilink.physics.missiles import get_profile
from trilink.physics.solve import fit_within_limits
from trilink.physics.trajectory import propagate
from trilink.physics.vehicle import LaunchControls

SITE = (np.radians(39.0), np.radians(125.7))
HEADING = np.radians(90.0)
GLIDER = "whatif-glide-toward-honshu"  # banked in these tests by cross_range_km


def _controls(bank_deg: float) -> LaunchControls:
    return LaunchControls(SITE[0], SITE[1], HEADING, np.radians(20.0), 0.8,
                          glide_bank_rad=float(np.radians(bank_deg)))


def _sideways_m(bank_deg: float) -> float:
    s = summarise(propagate([get_profile("hwasong-16b")], [_controls(bank_deg)]).row(0))
    return cross_range_m(s.range_m, s.impact_azimuth_rad, HEADING)


def test_a_zero_bank_is_exactly_the_flight_in_its_plane() -> None:
    p = get_profile("hwasong-16b")
    plain = LaunchControls(SITE[0], SITE[1], HEADING, np.radians(20.0), 0.8)
    a, b = propagate([p], [plain]).row(0), propagate([p], [_controls(0.0)]).row(0)
    np.testing.assert_array_equal(a.t_s, b.t_s)
    np.testing.assert_array_equal(a.r_ecef_m, b.r_ecef_m)


def test_banking_right_turns_right_and_left_turns_left_more_with_more_bank() -> None:
    level = _sideways_m(0.0)
    right = [_sideways_m(b) for b in (15.0, 30.0, 45.0)]
    left = [_sideways_m(-b) for b in (15.0, 30.0, 45.0)]
    assert level < right[0] < right[1] < right[2]
    assert level > left[0] > left[1] > left[2]
    assert right[2] - level > 50e3 and level - left[2] > 50e3  # tens of km, not metres


def test_the_banked_glider_stays_a_glider_and_a_ballistic_row_never_banks() -> None:
    with pytest.raises(ValueError, match="glide vehicle"):
        propagate([get_profile("hwasong-12")], [_controls(20.0)])
    with pytest.raises(ValueError, match="glide vehicle"):
        FitRequest(SITE[0], SITE[1], HEADING, 500e3, 1000e3, get_profile("hwasong-12"),
                   cross_range_m=50e3)
    with pytest.raises(ValueError, match="90 degrees"):
        propagate([get_profile("hwasong-16b")], [_controls(95.0)])


def test_the_fit_flies_a_published_lateral_movement_on_the_published_arc() -> None:
    # KCNA's 2024-04-02 Hwasong-16B arc (first peak 101.1 km, 1,000 km) with the 120 km
    # lateral movement KCNA claimed for the 2022-01-05 glider (the Hwasong-8 cannot fly
    # its own arc, docs/physics.md).
    q = FitRequest(SITE[0], SITE[1], HEADING, 101.1e3, 1000e3, get_profile("hwasong-16b"),
                   cross_range_m=120e3)
    f = fit_within_limits([q])[0]
    assert f.converged, f.message
    assert f.summary.apogee_m == pytest.approx(101.1e3, rel=6e-4)
    assert f.summary.range_m == pytest.approx(1000e3, rel=6e-4)
    assert abs(np.degrees(earth.geodesic_inverse(
        SITE[0], SITE[1], f.summary.impact_lat_rad, f.summary.impact_lon_rad)[0]
        - HEADING)) < 0.03  # still lands on the requested bearing
    assert f.cross_range_m == pytest.approx(120e3, abs=0.6e3)
    assert np.radians(5.0) < f.controls.glide_bank_rad < np.radians(75.0)
    assert f.controls.heading_rad < HEADING  # it leaves to the left and turns right


def test_a_ballistic_type_asked_for_a_lateral_movement_gets_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "trilink.cli", "trajectory", "--launch", "39.0,125.7",
         "--azimuth", "90", "--apogee-km", "500", "--range-km", "1000", "--missile",
         "hwasong-12", "--cross-range-km", "120"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "trilink: error: --cross-range-km: hwasong-12 is not a glide vehicle; a lateral "
        "movement needs lift"]


def test_a_scenario_launch_carries_a_lateral_movement_and_flies_it(tmp_path: Path) -> None:
    from trilink.sim.flights import fly_scenarios
    from trilink.sim.scenario import load_scenario

    sc = load_scenario(variant_of_shipped(GLIDER, tmp_path, cross_range_km=120.0))
    (flight,) = fly_scenarios([sc])
    assert flight.fit.converged, flight.fit.message
    assert flight.fit.cross_range_m == pytest.approx(120e3, abs=0.6e3)
    assert flight.fit.summary.range_m == pytest.approx(1000e3, rel=6e-4)


def test_a_lateral_movement_for_a_ballistic_launch_is_one_line(tmp_path: Path) -> None:
    path = variant_of_shipped(GLIDER, tmp_path, cross_range_km=120.0, missile="hwasong-12")
    proc = subprocess.run([sys.executable, "-m", "trilink.cli", "run", str(path), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{path}:")
    assert lines[0].endswith("launches.0: cross_range_km: hwasong-12 is not a glide vehicle; "
                             "a lateral movement needs lift")
    assert not (tmp_path / "out").exists()
