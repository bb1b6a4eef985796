"""`trilink flights --cross-validate --json`: leave-one-out predictions of flight time."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from importlib import resources
from typing import Any

import pytest

ROWS = list(csv.DictReader(
    resources.files("trilink.data").joinpath("launches.csv").open(encoding="utf-8")))
TIMED = [r["event_id"] for r in ROWS if r["apogee_km"] and r["range_km"] and r["flight_time_s"]]

# Outside the 3 % target when held out (measured 2026-12-02), both Hwasong-12 and both
# published in whole minutes only (docs/physics.md, "Cross-validation").
KNOWN_MISSES = {
    "2017-08-29-hwasong12-overflight": "840 s is the difference of two minute-rounded clock "
                                       "times; the other Hwasong-12 flights pull the burn "
                                       "longer, the opposite of what this one needs",
    "2017-05-14-hwasong12": "published as ~30 min (whole minutes: +-30 s is 1.7 %); held "
                            "out it is calibrated on the standard-trajectory flights, whose "
                            "minute-rounded times disagree with each other",
}


# One xdist worker runs this module (tests/conftest.py, ONE_WORKER_GROUPS): built once.
@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "trilink.cli", "flights", "--cross-validate",
                           "--json"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def _row(report: dict[str, Any], event: str) -> dict[str, Any]:
    rows: list[dict[str, Any]] = [r for r in report["launches"] if r["event"] == event]
    assert len(rows) == 1
    return rows[0]


def test_every_timed_launch_is_held_out_once(report: dict[str, Any]) -> None:
    assert sorted(r["event"] for r in report["launches"]) == sorted(TIMED)
    assert report["count"] == len(TIMED)
    for r in report["launches"]:
        assert r["event"] not in r["trained_on"]  # never calibrated on itself
        same_type = {x["event"] for x in report["launches"] if x["missile"] == r["missile"]}
        assert set(r["trained_on"]) == same_type - {r["event"]}


def test_worst_is_the_largest_error(report: dict[str, Any]) -> None:
    worst = max(abs(r["flight_time_error_pct"]) for r in report["launches"])
    assert abs(report["worst"]["flight_time_error_pct"]) == worst


@pytest.mark.parametrize("event", TIMED)
def test_held_out_apogee_and_range_within_one_percent(report: dict[str, Any],
                                                      event: str) -> None:
    r = _row(report, event)
    assert r["converged"]
    assert abs(r["apogee_error_pct"]) <= 1.0 and abs(r["range_error_pct"]) <= 1.0


@pytest.mark.parametrize(
    "event",
    [pytest.param(e, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[e]))
     if e in KNOWN_MISSES else e for e in TIMED])
def test_held_out_flight_time_within_three_percent(report: dict[str, Any], event: str) -> None:
    assert abs(_row(report, event)["flight_time_error_pct"]) <= 3.0
