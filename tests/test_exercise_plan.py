"""The multi-year exercise plan: scheduled by CP-SAT inside its constraints, exported as
iCalendar that parses back, deterministic; an impossible plan names its conflict."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import icalendar
import pytest
import yaml

from trilink.cli import main
from trilink.exercise.calendar import to_ical
from trilink.exercise.programme import (
    blackout_periods,
    busy_periods,
    load_programme,
    occurrences,
    shipped_programmes_dir,
)
from trilink.exercise.schedule import ScheduleInfeasibleError, schedule

SHIPPED = "programme-2026-2028"


@pytest.fixture(scope="module")
def plan():  # type: ignore[no-untyped-def]
    return schedule(load_programme(SHIPPED))


def test_every_occurrence_is_scheduled_inside_its_constraints(plan) -> None:  # type: ignore[no-untyped-def]
    p = plan.programme
    assert len(plan.items) == len(occurrences(p)) == 3 * 4 + 3 + 2  # drills, FE, PD
    blackouts = blackout_periods(p)
    assert any(b.name == "Chuseok" for b in blackouts)
    for it in plan.items:
        o = it.occurrence
        assert o.first_day <= it.first_day <= it.last_day <= o.last_day
        days = [it.first_day + dt.timedelta(days=k) for k in range(o.series.duration_days)]
        assert all(d.month in o.series.months for d in days)
        for b in blackouts:
            if b.nations & set(o.series.participants):
                assert not any(b.first <= d <= b.last for d in days), (o.key, b.name)
    # Assets: at no day more in use than exist (the programme's and the other exercises').
    for asset in p.assets:
        for day in range((p.end - p.start).days + 1):
            d = p.start + dt.timedelta(days=day)
            used = sum(it.occurrence.series.uses.get(asset.id, 0) for it in plan.items
                       if it.first_day <= d <= it.last_day)
            used += sum(b.uses.get(asset.id, 0) for b, lo, hi in busy_periods(p)
                        if lo <= d <= hi)
            assert used <= asset.count, (asset.id, d)


def test_gap_between_exercises_sharing_assets(plan) -> None:  # type: ignore[no-untyped-def]
    gap = plan.programme.min_gap_days
    items = list(plan.items)
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            if set(a.occurrence.series.uses) & set(b.occurrence.series.uses):
                assert (b.first_day - a.last_day).days > gap or \
                       (a.first_day - b.last_day).days > gap


def test_ical_parses_back_and_is_deterministic(plan) -> None:  # type: ignore[no-untyped-def]
    data = to_ical(plan)
    assert data == to_ical(schedule(load_programme(SHIPPED)))
    cal = icalendar.Calendar.from_ical(data)
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert len(events) == len(plan.items)
    first = plan.items[0]
    ev = next(e for e in events if str(e["uid"]).startswith(
        f"{plan.programme.id}.{first.occurrence.key}@"))
    assert ev.decoded("dtstart") == first.first_day
    assert ev.decoded("dtend") == first.last_day + dt.timedelta(days=1)


def _edit(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    raw = yaml.safe_load((shipped_programmes_dir() / f"{SHIPPED}.yaml").read_text("utf-8"))
    change(raw)
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def test_impossible_plan_names_the_conflicting_constraints(tmp_path: Path) -> None:
    def squeeze(raw: dict) -> None:  # type: ignore[type-arg]
        pd = next(s for s in raw["series"] if s["id"] == "pacific-dragon")
        pd["months"] = [8]
        pd["preferred_month"] = 8
        pd["duration_days"] = 20  # August minus Obon has no 20-day run

    with pytest.raises(ScheduleInfeasibleError) as exc:
        schedule(load_programme(_edit(tmp_path, squeeze)))
    conflict = exc.value.conflict
    assert any("Pacific Dragon" in c and "months 8" in c for c in conflict)
    assert any("Obon" in c for c in conflict)
    assert not any("Freedom Edge" in c for c in conflict)  # irreducible: nothing extra
    assert main(["exercise", "plan", str(tmp_path / "plan.yaml"), "--out",
                 str(tmp_path / "out")]) == 2


def test_asset_conflict_is_explained(tmp_path: Path) -> None:
    def no_ddg(raw: dict) -> None:  # type: ignore[type-arg]
        for a in raw["assets"]:
            if a["id"] == "rokn-ddg":
                a["count"] = 1
        for b in raw["busy"]:
            if b["name"].startswith("RIMPAC"):
                b["month_day"] = ["06-01", "08-31"]  # holds Korea's only destroyer all summer

    with pytest.raises(ScheduleInfeasibleError) as exc:
        schedule(load_programme(_edit(tmp_path, no_ddg)))
    assert any("ROKN Aegis destroyers" in c and "RIMPAC" in c for c in exc.value.conflict)


def test_cli_writes_calendar_and_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    assert main(["exercise", "plan", SHIPPED, "--out", str(tmp_path)]) == 0
    assert "17 exercise(s) scheduled" in capsys.readouterr().out
    html = (tmp_path / "plan.html").read_text(encoding="utf-8")
    assert "Freedom Edge" in html and "notional" in html.lower()
    assert icalendar.Calendar.from_ical((tmp_path / "calendar.ics").read_bytes())


def test_bad_programme_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _edit(tmp_path, lambda raw: raw["series"][0]["uses"].update({"no-such": 1}))
    assert main(["exercise", "plan", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "no-such" in err
