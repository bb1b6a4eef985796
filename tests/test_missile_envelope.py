"""Envelopes from the vehicle model, limits inside which the fit chooses, class choice."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from trilink.physics.envelope import envelopes
from trilink.physics.fit import FitRequest
from trilink.physics.missiles import get_profile
from trilink.physics.solve import fit_class, fit_within_limits

SUNAN = (np.radians(39.2), np.radians(125.67))
EAST = np.radians(88.0)
# 2024-10-31 Hwasong-19 (KCNA via Chosun Ilbo): not in the reference table.
HS19_APOGEE_M, HS19_RANGE_M = 7687.5e3, 1001.2e3


def _req(key: str, apogee_m: float, range_m: float) -> FitRequest:
    return FitRequest(SUNAN[0], SUNAN[1], EAST, apogee_m, range_m, get_profile(key))


def test_envelope_comes_from_the_vehicle_not_the_table() -> None:
    hs14, hs19 = envelopes([get_profile("hwasong-14"), get_profile("hwasong-19")],
                           SUNAN[0], SUNAN[1], EAST)
    assert hs19.contains(HS19_APOGEE_M, HS19_RANGE_M)
    assert not hs14.contains(HS19_APOGEE_M, HS19_RANGE_M)
    # Each ICBM's lofted limit lies beyond its highest published test (a physical limit,
    # not the table's maximum): Hwasong-14 3,725 km, Hwasong-19 7,688 km.
    assert hs14.lofted_apogee_m > 3725e3 * 1.05
    assert hs19.lofted_apogee_m > HS19_APOGEE_M * 1.05
    a, r = hs14.nearest(HS19_APOGEE_M, HS19_RANGE_M)
    assert math.isfinite(a) and math.isfinite(r) and a < HS19_APOGEE_M
    assert hs14.distance(HS19_APOGEE_M, HS19_RANGE_M) > 0.3
    assert hs19.distance(HS19_APOGEE_M, HS19_RANGE_M) == 0.0


def test_fit_lightens_the_payload_only_when_the_nominal_cannot_reach() -> None:
    # 4,200 km loft: beyond Hwasong-14 with its nominal 500 kg, within reach with 300 kg.
    light, nominal = fit_within_limits([_req("hwasong-14", 4200e3, 950e3),
                                        _req("hwasong-14", 2802e3, 933e3)])
    assert light.converged, light.message
    assert light.payload_kg == pytest.approx(300.0)
    assert nominal.converged and nominal.payload_kg == pytest.approx(500.0)
    assert light.summary.apogee_m == pytest.approx(4200e3, rel=6e-4)


def test_no_type_of_the_class_can_reach_it_says_why_with_the_nearest_point() -> None:
    choice = fit_class(_req("hwasong-14", HS19_APOGEE_M, HS19_RANGE_M), "ICBM",
                       profiles=[get_profile("hwasong-14")])
    assert not choice.converged
    assert "cannot reach apogee 7688 km" in choice.reason
    assert "nearest feasible: hwasong-14 at apogee" in choice.reason
    assert choice.chosen.nearest_feasible_m is not None
    assert all(math.isfinite(x) for x in choice.chosen.nearest_feasible_m)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trilink.cli", *args], capture_output=True,
                          text=True, check=False)


def test_class_name_flies_a_loft_only_the_biggest_type_reaches() -> None:
    # 12,000 km apogee at 1,000 km: beyond Hwasong-15/-17/-18's lofted limits at this site,
    # inside Hwasong-19's; given only the class name.
    proc = _cli("trajectory", "--launch", "39.2,125.67", "--azimuth", "88", "--apogee-km",
                "12000", "--range-km", "1000", "--missile", "ICBM", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["missile"] == "hwasong-19"
    assert data["chosen_for_class"] == "ICBM" and "hwasong-19" in data["choice"]
    assert data["apogee_km"] == pytest.approx(12000, rel=6e-4)
    assert {c["missile"] for c in data["candidates"]} >= {"hwasong-15", "hwasong-19"}


def test_unreachable_class_request_is_one_line_exit_2() -> None:
    proc = _cli("trajectory", "--launch", "39.2,125.67", "--azimuth", "85", "--apogee-km",
                "4000", "--range-km", "300", "--missile", "IRBM")
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "nearest feasible: hwasong-12 at apogee" in lines[0]
    assert "nan" not in lines[0].lower()
