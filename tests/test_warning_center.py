"""Warning centre: Alert, Update and Cancel as valid CAP 1.2, driven by real tracks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ballistic_arc import arc, covariance

from trilink.sim.flights import fly_scenarios
from trilink.sim.scenario import load_scenario
from trilink.sim.tracking import run_tracker
from trilink.sim.truth import Truth
from trilink.tracking.tracker import EventKind
from trilink.warning.assessment import WarningLevel
from trilink.warning.cap import to_xml, validate, write
from trilink.warning.center import POWERED_HOLD, WarningCenter, WarningEvent


def _run_center(scenario: str, nation: str) -> list[WarningEvent]:
    truth = Truth.from_launch_flights(fly_scenarios([load_scenario(scenario)]))
    assert truth.epoch is not None
    center = WarningCenter(nation, truth.epoch, assess_every_s=20.0)
    events: list[WarningEvent] = []
    for e in run_tracker(truth, nation, seed=1).events:
        if e.kind == EventKind.UPDATED:
            events += center.on_track(e.track_id, e.x, e.P, e.t_s)
    return events


def test_2022_10_04_japan_alerts_then_cancels_with_valid_cap(tmp_path: Path) -> None:
    events = _run_center("2022-10-04-irbm-overflight", "JPN")
    kinds = [e.message.msg_type for e in events]
    assert kinds[0] == "Alert" and kinds[-1] == "Cancel"
    alert = events[0]
    assert alert.message.urgency == "Immediate" and alert.message.severity == "Extreme"
    assert alert.t_s < 300.0  # well before the missile crossed Aomori (~375 s)
    assert alert.message.areas[0].description == "Predicted overflight corridor"
    cancel = events[-1].message
    assert alert.message.reference in cancel.references
    for e in events:
        assert validate(to_xml(e.message)) == []
        assert write(e.message, tmp_path).exists()
    assert len(list(tmp_path.glob("*.xml"))) == len(events)


def test_no_warning_when_the_missile_stays_outside_japans_zone() -> None:
    assert _run_center("2017-05-14-hwasong12", "JPN") == []


def test_warning_of_a_track_that_stops_is_cancelled_after_impact() -> None:
    """Tracks end at impact (or are lost): their warning must not stay in force."""
    truth = Truth.from_launch_flights(fly_scenarios([load_scenario(
        "2022-11-02-srbm-south-of-nll")]))
    assert truth.epoch is not None
    center = WarningCenter("KOR", truth.epoch, assess_every_s=10.0)
    events: list[WarningEvent] = []
    last_t = 0.0
    for e in run_tracker(truth, "KOR", seed=1).events:
        if e.kind == EventKind.UPDATED:
            events += center.on_track(e.track_id, e.x, e.P, e.t_s)
            last_t = e.t_s
    alerts = [e for e in events if e.message.msg_type == "Alert"]
    assert alerts, "KOR warns of this impact in its zone"
    open_ids = {e.track_id for e in alerts} - {e.track_id for e in events
                                              if e.message.msg_type == "Cancel"}
    assert open_ids, "the track ends at impact with its warning still out"
    assert center.expire(last_t + 1.0) == []  # not yet: impact time not passed
    impact_s = float(truth.launch_t_s[0] + truth.flights.flight_time_s[0])
    cancels = center.expire(impact_s + 120.0)
    assert {c.track_id for c in cancels} == open_ids
    for c in cancels:
        # Sent when the warning lapsed (impact time passed, or track silent for 60 s),
        # not when expire() happened to be called.
        assert c.message.msg_type == "Cancel" and last_t < c.t_s <= last_t + 60.0
        assert c.t_s < impact_s + 120.0
        assert validate(to_xml(c.message)) == []
    assert center.expire(impact_s + 200.0) == []  # once only


# -- the two rules docs/warning.md credits with preventing false alerts --------------
# A hand-made ballistic arc over northern Honshu (tests/ballistic_arc.py): its states
# before ~190 s assess as take_shelter for Japan, its states after the overflight as none.
def _center() -> WarningCenter:
    return WarningCenter("JPN", dt.datetime(2022, 10, 3, 22, 22, tzinfo=dt.UTC), 10.0)




def test_no_warning_change_while_the_engine_still_burns() -> None:
    """Powered probability ≥ 0.5: assessed and recorded, warning state untouched."""
    from ballistic_arc import arc, covariance


    center, P = _center(), covariance()
    for t in (20.0, 30.0, 40.0, 50.0):
        assert center.on_track("T1", arc().state(t), P, t, powered_probability=0.9) == []
    assert [a.level for _, a in center.assessments] == [WarningLevel.TAKE_SHELTER] * 4
    # Exactly at the hold still holds; held assessments do not count towards an Alert.
    assert center.on_track("T1", arc().state(60.0), P, 60.0, POWERED_HOLD) == []
    assert center.on_track("T1", arc().state(70.0), P, 70.0, 0.1) == []
    alert = center.on_track("T1", arc().state(80.0), P, 80.0, 0.1)
    assert [e.message.msg_type for e in alert] == ["Alert"]
    # With the warning out, a burning track's 'none' assessments cancel nothing either
    # (the arc's states after the overflight assess as none).
    for i, t in enumerate((250.0, 260.0, 270.0)):
        assert center.on_track("T1", arc().state(t), P, 90.0 + 10 * i, 0.7) == []
    done = center.on_track("T1", arc().state(280.0), P, 120.0, 0.0)
    done += center.on_track("T1", arc().state(290.0), P, 130.0, 0.0)
    assert [e.message.msg_type for e in done] == ["Cancel"]


def test_an_alert_needs_two_assessments_in_a_row() -> None:
    center, P = _center(), covariance()
    shelter = arc().state  # take_shelter for Japan before the overflight
    calm = arc().state(260.0)  # none for Japan
    assert center.on_track("T1", shelter(20.0), P, 20.0) == []  # one: not yet
    assert center.on_track("T1", calm, P, 30.0) == []  # broken: the count restarts
    assert center.on_track("T1", shelter(40.0), P, 40.0) == []
    # Within assess_every_s of the last assessment: not assessed, so it cannot count.
    assert center.on_track("T1", shelter(45.0), P, 45.0) == []
    assert len(center.assessments) == 3
    events = center.on_track("T1", shelter(50.0), P, 50.0)
    assert [e.message.msg_type for e in events] == ["Alert"]
    assert events[0].t_s == 50.0
    # Another track is counted on its own.
    assert center.on_track("T2", shelter(50.0), P, 50.0) == []
