"""Fitted flights against the published record (trilink/data/launches.csv)."""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
import pytest

from trilink.physics.fit import FitRequest, fit_flight, fit_flights
from trilink.physics.missiles import get_profile
from trilink.sim.flights import LaunchFlight

ROWS = list(
    csv.DictReader(
        resources.files("trilink.data").joinpath("launches.csv").open(encoding="utf-8")
    )
)
TIMED = [r for r in ROWS if r["apogee_km"] and r["range_km"] and r["flight_time_s"]]

# docs/physics.md: apogee and range within 0.05 %, bearing within 0.02 deg (the fit's
# tolerances); the tests allow a stated margin of 0.01 % and 0.005 deg on top.
SHAPE_REL = 5e-4 + 1e-4
AZIMUTH_DEG = 0.02 + 0.005

# The one row outside 3 %; see docs/physics.md for the figures and the reason.
KNOWN_MISSES = {
    "2017-08-29-hwasong12-overflight": (
        "published 840 s is the difference of minute-rounded clock times (launch 05:58, "
        "impact 'about 06:12' JST); trilink's overflight of Oshima/Erimo matches the "
        "published 06:05-06:07 window (see test_territory), impact at 06:12:42"
    ),
}


def test_reference_table_has_the_timed_events() -> None:
    assert len(TIMED) == 10


@pytest.mark.parametrize("row", ROWS, ids=[r["event_id"] for r in ROWS])
def test_fit_reproduces_apogee_and_range_within_the_documented_tolerance(
    row: dict[str, str], historical_flights: dict[str, LaunchFlight]
) -> None:
    lf = historical_flights[row["event_id"]]
    assert lf.fit.converged, lf.fit.message
    s = lf.fit.summary
    assert s.apogee_m / 1e3 == pytest.approx(lf.launch.apogee_km, rel=SHAPE_REL)
    assert s.range_m / 1e3 == pytest.approx(float(row["range_km"]), rel=SHAPE_REL)
    if row["apogee_km"]:
        assert lf.launch.apogee_km == float(row["apogee_km"])
    assert np.degrees(s.impact_azimuth_rad) == pytest.approx(lf.launch.azimuth_deg,
                                                             abs=AZIMUTH_DEG)


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(
            r,
            id=r["event_id"],
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[r["event_id"]])]
            if r["event_id"] in KNOWN_MISSES
            else [],
        )
        for r in TIMED
    ],
)
def test_flight_time_within_three_percent_of_published(
    row: dict[str, str], historical_flights: dict[str, LaunchFlight]
) -> None:
    lf = historical_flights[row["event_id"]]
    published = float(row["flight_time_s"])
    assert lf.launch.published.flight_time_s == published
    assert lf.fit.summary.flight_time_s == pytest.approx(published, rel=0.03)


def test_known_miss_is_within_the_rounding_of_its_published_clock_times(
    historical_flights: dict[str, LaunchFlight],
) -> None:
    # Launch 05:58 and impact 'about 06:12' JST, each to the minute: 14 min ± 1 min.
    t = historical_flights["2017-08-29-hwasong12-overflight"].fit.summary.flight_time_s
    assert 13 * 60 <= t <= 15 * 60


def test_burnout_is_reported_and_plausible(historical_flights: dict[str, LaunchFlight]) -> None:
    for lf in historical_flights.values():
        s = lf.fit.summary
        assert 0 < s.burnout_time_s <= lf.fit.request.profile.total_burn_time_s + 1e-9
        assert 5e3 < s.burnout_height_m < 1.5e6
        assert 1000 < s.burnout_speed_m_s < 7900  # sub-orbital
        assert s.apogee_time_s < s.flight_time_s


def test_unreachable_request_is_reported_not_faked() -> None:
    req = FitRequest(np.radians(39.2), np.radians(125.7), np.radians(90), 3000e3, 12000e3,
                     get_profile("kn-23"))
    res = fit_flight(req)
    assert not res.converged
    assert "cannot reach" in res.message


def test_fit_beyond_the_reference_table() -> None:
    """Launches the table does not have: a minimum-energy ICBM shot and a Scud."""
    reqs = [
        FitRequest(np.radians(40.0), np.radians(127.0), np.radians(45.0), 1300e3, 9000e3,
                   get_profile("ICBM")),
        FitRequest(np.radians(38.9), np.radians(126.0), np.radians(100.0), 90e3, 300e3,
                   get_profile("scud-b")),
    ]
    for res, req in zip(fit_flights(reqs), reqs, strict=True):
        assert res.converged, res.message
        assert res.summary.apogee_m == pytest.approx(req.apogee_m, rel=SHAPE_REL)
        assert res.summary.range_m == pytest.approx(req.range_m, rel=SHAPE_REL)
