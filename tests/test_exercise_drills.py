"""Exercise traffic is marked as such end to end: a track from an announced exercise
launch is warned and scored as a drill, and no message about it is ever Actual — even
on a node whose own messages are Actual."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

from ballistic_arc import arc, covariance
from hypothesis import given, settings
from hypothesis import strategies as st

from trilink.tracking.impact import estimate_launch
from trilink.warning.announced import AnnouncedLaunch, announced_match
from trilink.warning.center import WarningCenter

EPOCH = dt.datetime(2024, 8, 6, 20, 0, tzinfo=dt.UTC)


def _launch_of_arc() -> tuple[float, float, float]:
    est = estimate_launch(arc().state(0.0), 0.0)
    assert est is not None
    return est.lat_rad, est.lon_rad, est.t_s


def _announce(dlat_deg: float = 0.0, dt_s: float = 0.0, radius_m: float = 30e3
              ) -> AnnouncedLaunch:
    lat, lon, t = _launch_of_arc()
    return AnnouncedLaunch("drill", lat + math.radians(dlat_deg), lon, radius_m,
                           t + dt_s - 120.0, t + dt_s + 120.0)


def test_a_track_from_the_announced_site_and_window_is_a_drill() -> None:
    x = arc().state(60.0)
    assert announced_match(x, 60.0, 60.0, (_announce(),)) is not None
    assert announced_match(x, 60.0, 60.0, (_announce(dlat_deg=2.0),)) is None  # elsewhere
    assert announced_match(x, 60.0, 60.0, (_announce(dt_s=3600.0),)) is None  # another hour
    assert announced_match(x, 60.0, 60.0, ()) is None


def _feed(center: WarningCenter, tracks: dict[str, float], steps: int = 30) -> None:
    for k in range(steps):
        t = 10.0 * k
        for tid, offset in tracks.items():
            center.on_track(tid, arc().state(t + offset), covariance(), t, 0.0)
    center.expire(math.inf)


# 14 drill patterns of up to three tracks; five drawn (each one is a 300 s watch).
@settings(max_examples=5, deadline=None)
@given(drills=st.lists(st.booleans(), min_size=1, max_size=3))
def test_no_message_about_a_drill_is_ever_actual(drills: list[bool]) -> None:
    center = WarningCenter("JPN", EPOCH, status="Actual")
    tracks = {f"T{i}": 3.0 * i for i in range(len(drills))}
    for (tid, _), is_drill in zip(tracks.items(), drills, strict=True):
        if is_drill:
            center.drill[tid] = "drill"
    _feed(center, tracks)
    assert center.history, "the arc overflies Honshu: Japan must warn"
    for ev in center.history:
        tid = dict(ev.message.parameters)["trilink_track"]
        if tid in center.drill:
            assert ev.message.status == "Exercise"
            assert ev.message.headline.startswith("EXERCISE")
        else:
            assert ev.message.status == "Actual"


def test_the_pacific_dragon_replay_marks_every_message_exercise(tmp_path: Path) -> None:
    from trilink.cli import main

    assert main(["run", "exercise-pacific-dragon-2024", "--out", str(tmp_path), "--quiet"]) == 0
    files = sorted((tmp_path / "alerts").glob("*.xml"))
    assert files  # the drill's warnings are still issued (and scored)
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert "<status>Exercise</status>" in text and "<status>Actual</status>" not in text
        assert "trilink_exercise" in text and "EXERCISE" in text
    # What the nodes tell each other of those warnings on the hotline says so too.
    record = (tmp_path / "record.json").read_text(encoding="utf-8")
    posts = re.findall(r'"([^"]*public warning: [a-z_]+ at t=[0-9.]+ s)"',
                       record.encode().decode("unicode_escape"))
    assert posts and all(p.startswith("EXERCISE (") for p in posts), posts
