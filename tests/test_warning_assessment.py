"""Warning assessment against the record: what Japan's node would have concluded."""

from __future__ import annotations

import numpy as np
import pytest

from trilink.geo import ZoneKind, zone_map
from trilink.sim.flights import fly_scenarios
from trilink.sim.scenario import load_scenario
from trilink.sim.tracking import run_tracker
from trilink.sim.truth import Truth
from trilink.tracking.tracker import EventKind, TrackEvent
from trilink.warning.assessment import WarningLevel, assess, impact_probabilities


def _jpn_updates(scenario: str) -> tuple[Truth, list[TrackEvent]]:
    truth = Truth.from_launch_flights(fly_scenarios([load_scenario(scenario)]))
    run = run_tracker(truth, "JPN", seed=1)
    return truth, [e for e in run.events if e.kind == EventKind.UPDATED]


def _sample(updates: list[TrackEvent], k: int) -> list[TrackEvent]:
    return updates[:: max(1, len(updates) // k)][:k]


def test_2022_10_04_take_shelter_for_the_aomori_overflight_then_clear() -> None:
    truth, updates = _jpn_updates("2022-10-04-irbm-overflight")
    before = [e for e in updates if 100.0 <= e.t_s <= 300.0]
    assessments = [assess(e.x, e.P, e.t_s, "JPN") for e in _sample(before, 4)]
    assert all(a.level == WarningLevel.TAKE_SHELTER for a in assessments)
    # When the missile really crossed Japanese land (truth, not the record's minutes).
    f = truth.flights.row(0)
    ts = np.arange(0.0, f.flight_time_s, 1.0)
    lat, lon, _ = f.geodetic_at(ts)
    real = [c for c in zone_map().crossings(ts, lat, lon, kinds=(ZoneKind.LAND,))
            if c.nation == "JPN"]
    assert real
    for a in assessments:
        assert a.overflight_s is not None
        enter, leave = a.overflight_s
        assert abs(enter - real[0].t_enter_s) < 30.0 and abs(leave - real[-1].t_exit_s) < 30.0
        assert a.t_s < enter  # warned before the missile got there
    after = [e for e in updates if e.t_s >= 420.0]
    late = assess(after[0].x, after[0].P, after[0].t_s, "JPN")
    assert late.level == WarningLevel.NONE  # passed over; falls far out in the Pacific


def test_2022_11_18_impact_in_japans_zone_is_informational() -> None:
    _, updates = _jpn_updates("2022-11-18-hwasong17")
    late = updates[-1]
    a = assess(late.x, late.P, late.t_s, "JPN")
    assert a.level == WarningLevel.INFORMATIONAL and a.p_eez > 0.9
    assert a.p_land == 0.0 and a.p_overflight == 0.0


def test_2017_05_14_outside_japans_zone_gets_no_warning() -> None:
    _, updates = _jpn_updates("2017-05-14-hwasong12")
    for e in _sample(updates, 3):
        assert assess(e.x, e.P, e.t_s, "JPN").level == WarningLevel.NONE


def test_probabilities_are_deterministic_and_bounded() -> None:
    _, updates = _jpn_updates("2022-11-18-hwasong17")
    a = assess(updates[-1].x, updates[-1].P, updates[-1].t_s, "JPN")
    first = impact_probabilities(a.impact, "JPN")
    assert first == impact_probabilities(a.impact, "JPN")
    assert 0.0 <= sum(first) <= 1.0 + 1e-12
    assert impact_probabilities(a.impact, "KOR") == pytest.approx((0.0, 0.0, 0.0))
    assert np.isfinite(a.impact.impact_t_s)
