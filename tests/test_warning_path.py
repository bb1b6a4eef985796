"""Non-ballistic flight told from the path: a glide's pull-up marks its track, a
ballistic arc never does, and the warning centre then warns from the heading corridor.

The glide is the physics model's own Hwasong-16B type flown 1,000 km (the KCNA claim
for 2024-04-02) toward Honshu — a what-if, not an event; the ballistic cases are a
hand-made arc and a fitted lofted Hwasong-12."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from functools import cache

import numpy as np
import pytest
from ballistic_arc import arc, covariance

from trilink.physics.fit import FitRequest, fit_flight
from trilink.physics.missiles import get_profile
from trilink.physics.trajectory import Flight
from trilink.warning.center import WarningCenter
from trilink.warning.path import PathWatch, flight_path_angle_rad
from trilink.warning.policy import default_policy

EPOCH = dt.datetime(2024, 4, 2, 2, 53, tzinfo=dt.UTC)
HOLD = default_policy().powered_hold


@cache
def _flight(missile: str, apogee_km: float, range_km: float, az_deg: float) -> Flight:
    fit = fit_flight(FitRequest(math.radians(39.03), math.radians(125.75), math.radians(az_deg),
                                apogee_km * 1e3, range_km * 1e3, get_profile(missile)))
    return fit.flight


def _states(flight: Flight, step_s: float = 10.0) -> list[tuple[float, np.ndarray]]:
    """Unpowered 9-states every ``step_s`` from burnout to impact."""
    t = np.arange(math.ceil(flight.burnout_s) + 1.0, flight.flight_time_s - 1.0, step_s)
    r, v = flight.state_at(t)
    return [(float(ti), np.concatenate([r[i], v[i], np.zeros(3)])) for i, ti in enumerate(t)]


def glider() -> Flight:
    return _flight("hwasong-16b", 101.0, 1000.0, 105.0)


def test_a_ballistic_arc_never_shows_a_pull_up() -> None:
    watch = PathWatch(default_policy().non_ballistic.detect)
    a = arc()
    gammas = []
    for t in np.arange(0.0, float(a.t_s[-1]), 10.0):
        x = a.state(float(t))
        gammas.append(flight_path_angle_rad(x))
        assert not watch.observe("B", float(t), x, covariance(), 0.0, HOLD)
    assert gammas[0] > 0 > gammas[-1]  # the arc did pass apogee: the rule was armed
    assert all(b < a_ for a_, b in itertools.pairwise(gammas))  # only steepens


@pytest.mark.parametrize(("missile", "apogee_km", "range_km"),
                         [("hwasong-12", 970.0, 1000.0), ("kn-23", 50.0, 400.0)])
def test_fitted_ballistic_flights_lofted_or_depressed_are_never_marked(
        missile: str, apogee_km: float, range_km: float) -> None:
    watch = PathWatch(default_policy().non_ballistic.detect)
    states = _states(_flight(missile, apogee_km, range_km, 90.0))
    assert len(states) > 5
    assert not any(watch.observe("B", t, x, covariance(), 0.0, HOLD) for t, x in states)


def test_a_glide_is_marked_after_its_pull_up_and_not_before() -> None:
    watch = PathWatch(default_policy().non_ballistic.detect)
    states = _states(glider())
    marked = [t for t, x in states if watch.observe("G", t, x, covariance(), 0.0, HOLD)]
    assert marked, "the glider levels off: its path must show it"
    gammas = [(t, flight_path_angle_rad(x)) for t, x in states]
    t_lowest = min((g, t) for t, g in gammas if t < marked[0])[1]
    assert marked[0] > t_lowest  # after the path has turned up, never before apogee
    assert marked == [t for t, _ in states if t >= marked[0]]  # and for good
    # The same rise inside the angle's own noise (a track near impact, its velocity
    # known to 300 m/s) is no evidence.
    noisy = PathWatch(default_policy().non_ballistic.detect)
    assert not any(noisy.observe("G", t, x, covariance(vel_sigma_m_s=300.0), 0.0, HOLD)
                   for t, x in states)
    # A state given three times is one piece of evidence, not three: the first rising
    # state repeated does not mark the track; the next state does.
    k = [t for t, _ in states].index(marked[0])
    once = PathWatch(default_policy().non_ballistic.detect)
    for t, x in states[:k - 1]:
        assert not once.observe("G", t, x, covariance(), 0.0, HOLD)
    t_a, x_a = states[k - 1]
    assert not any([once.observe("G", t_a, x_a, covariance(), 0.0, HOLD) for _ in range(3)])
    assert once.observe("G", *states[k], covariance(), 0.0, HOLD)
    # A powered track gives no evidence: the same states with the engine judged burning.
    burning = PathWatch(default_policy().non_ballistic.detect)
    assert not any(burning.observe("G", t, x, covariance(), 0.9, HOLD) for t, x in states)


def test_the_centre_warns_a_glider_from_its_heading_not_its_ballistic_impact() -> None:
    center = WarningCenter("JPN", EPOCH, status="Actual")
    for t, x in _states(glider()):
        center.on_track("G", x, covariance(), t, 0.0)
    assert center.path.non_ballistic("G")
    last = [ev for ev in center.history if ev.message.msg_type != "Cancel"][-1]
    assert "non-ballistic" in last.message.description
    assert "no impact point is predicted" in last.message.description
    assert [a.description for a in last.message.areas] == [
        "Heading corridor (non-ballistic flight)"]
    # The ballistic arc over Honshu keeps its impact prediction.
    arc_center = WarningCenter("JPN", EPOCH, status="Actual")
    for t in np.arange(0.0, 300.0, 10.0):
        arc_center.on_track("B", arc().state(float(t)), covariance(), float(t), 0.0)
    assert arc_center.history and not arc_center.path.non_ballistic("B")
    assert all("non-ballistic" not in ev.message.description for ev in arc_center.history)


def test_a_track_taken_up_in_a_steep_descent_with_a_noisy_first_angle_is_not_marked(
        ) -> None:
    """A lofted shot's re-entry picked up late (2023-02-18 on Japan's radars): the first
    state's angle is known to a degree and comes out 3° too steep; once the track firms
    up, its angle is 2.5–3° "above its lowest" — inside the noise of that lowest, so no
    pull-up. The same first angle stated as precise would mark the track (the rule still
    looks)."""
    from trilink.physics import earth

    states = [(t, x) for t, x in _states(_flight("hwasong-12", 970.0, 1000.0, 90.0), 2.0)
              if float(earth.ecef_to_geodetic(x[:3])[2]) < 90e3]
    assert len(states) > 4
    t0, x0 = states[0]
    r, v = x0[:3], x0[3:6]
    up = r / np.linalg.norm(r)
    horizontal = v - (v @ up) * up
    gamma = flight_path_angle_rad(x0) - math.radians(3.0)
    steeper = np.linalg.norm(v) * (math.cos(gamma) * horizontal / np.linalg.norm(horizontal)
                                   + math.sin(gamma) * up)
    first = np.concatenate([r, steeper, np.zeros(3)])
    vel_sigma = np.linalg.norm(v) * math.radians(1.0)  # the angle known to 1 degree

    def watch_with(first_sigma_m_s: float) -> bool:
        watch = PathWatch(default_policy().non_ballistic.detect)
        marked = watch.observe("R", t0, first, covariance(vel_sigma_m_s=first_sigma_m_s),
                               0.0, HOLD)
        for t, x in states[1:]:
            marked = watch.observe("R", t, x, covariance(vel_sigma_m_s=1.0), 0.0, HOLD)
        return marked

    assert not watch_with(vel_sigma)
    assert watch_with(1.0)
