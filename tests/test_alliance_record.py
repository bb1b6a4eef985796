"""The public record: what was in force on a date (with sources), cadence commitments
kept or lapsed, one source of truth for agreements, bad files in one line."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from trilink.alliance.record import (
    RecordInvalidError,
    check_commitments,
    in_force_at,
    load_registry,
    shipped_record_dir,
    shipped_registry,
)
from trilink.cli import main
from trilink.sharing.agreements import DataKind, as_of_instant
from trilink.sharing.policy import Direct, policy_for


def _names(lines: tuple) -> set[str]:  # type: ignore[type-arg]
    return {x.what for x in lines}


def test_gsomia_on_the_day_its_termination_was_suspended(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    answer = in_force_at(dt.date(2019, 11, 22))
    gsomia = next(x for x in answer.agreements if "GSOMIA" in x.what)
    assert "suspended 2019-11-22" in gsomia.status
    assert gsomia.sources and all(s for s in gsomia.sources)
    assert not any("Real-time" in x.what for x in answer.agreements)
    assert main(["record", "at", "2019-11-22"]) == 0
    out = capsys.readouterr().out
    assert "GSOMIA" in out and "suspended 2019-11-22" in out and "http" in out


def test_real_time_mechanism_from_2023_12_19(capsys: pytest.CaptureFixture[str]) -> None:
    before = in_force_at(dt.date(2023, 12, 18))
    on = in_force_at(dt.date(2023, 12, 19))
    assert not any("Real-time" in x.what for x in before.agreements)
    assert any("Real-time" in x.what for x in on.agreements)
    assert any("Camp David" in x.what for x in on.agreements)
    assert any("Multi-year trilateral exercise plan" in x.what for x in on.frameworks)
    assert main(["record", "at", "2023-12-19", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    real = [x for x in doc["in_force"] if "Real-time" in x["what"]]
    assert real and real[0]["sources"][0].startswith("https://")


@pytest.mark.parametrize("day", ["2015-06-01", "2017-08-29", "2019-11-22", "2022-10-04",
                                 "2023-12-19", "2024-08-01"])
def test_registry_and_sharing_policy_agree(day: str) -> None:
    """One source of truth: the registry's GSOMIA verdict is the policy's JPN→KOR route."""
    d = dt.date.fromisoformat(day)
    gsomia_in_force = any("GSOMIA" in x.what for x in in_force_at(d).agreements)
    policy = policy_for(None, d)
    route = policy.route("JPN", "KOR", DataKind.LAUNCH_REPORT, as_of_instant(d),
                         frozenset({"JPN", "KOR"}), "JPN")
    assert isinstance(route, Direct) == gsomia_in_force


def test_no_agreement_is_written_twice() -> None:
    reg = shipped_registry()
    agreement_ids = {a.id for a in reg.agreements}
    assert agreement_ids >= {"gsomia", "tisa", "camp-david-2023", "trilateral-realtime-2023"}
    assert not agreement_ids & {e.id for e in reg.events}
    text = (shipped_record_dir() / "events.yaml").read_text(encoding="utf-8")
    assert "notice_of_termination" not in text  # agreement histories live elsewhere


def test_every_event_has_a_source_and_the_span_starts_2014() -> None:
    reg = shipped_registry()
    assert len(reg.events) >= 30
    assert min(e.date for e in reg.events) >= dt.date(2014, 1, 1)
    assert all(s.startswith(("http://", "https://")) for e in reg.events for s in e.sources)
    kinds = {e.kind for e in reg.events}
    assert kinds >= {"summit", "ministerial", "nsa_meeting", "framework", "exercise"}


def test_commitments_kept_and_open_on_the_shipped_record() -> None:
    checks = {c.commitment.id: c for c in check_commitments(dt.date(2025, 9, 30))}
    assert checks["leaders-annual"].periods[0].status == "kept"  # Lima 2024
    assert "lima-2024" in checks["leaders-annual"].periods[0].events
    assert checks["multi-domain-exercise-annual"].kept
    # 2025 had not ended on 2025-09-30: no verdict yet.
    assert checks["leaders-annual"].periods[1].status == "open"


def _copy_record(tmp_path: Path) -> Path:
    folder = tmp_path / "record"
    shutil.copytree(shipped_record_dir(), folder)
    return folder


def test_a_lapse_is_found_and_dated(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                    ) -> None:
    folder = _copy_record(tmp_path)
    path = folder / "events.yaml"
    text = path.read_text(encoding="utf-8")
    # Remove Lima 2024, the only leaders' meeting of 2024.
    start = text.index("  - id: lima-2024")
    end = text.index("  - id: trilateral-secretariat-2024")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    reg = load_registry(folder)
    leaders = next(c for c in check_commitments(dt.date(2025, 9, 30), reg)
                   if c.commitment.id == "leaders-annual")
    assert not leaders.kept
    assert leaders.lapsed_since == "2024"
    assert "2024-01-01 to 2024-12-31" in leaders.periods[0].detail


def test_bad_record_file_one_line_with_file_and_line(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    folder = _copy_record(tmp_path)
    path = folder / "events.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("      - https://www.mofa.go.jp/a_o/na/kr/page3e_000758.html\n",
                                 "      - mofa page\n", 1), encoding="utf-8")
    with pytest.raises(RecordInvalidError) as exc:
        load_registry(folder)
    (line,) = exc.value.lines()
    assert line.startswith(f"{path}:") and "sources" in line and "web address" in line


def test_date_outside_the_span_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "at", "1999-01-01"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "2014-01-01" in err
    assert main(["record", "at", "not-a-date"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_timeline_puts_record_exercises_and_launches_on_one_axis(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from trilink.alliance.timeline import launch_marks, record_marks

    marks = record_marks(shipped_registry())
    lanes = {m.lane for m in marks}
    assert lanes == {"agreements", "meetings", "frameworks", "exercises"}
    assert len(launch_marks()) >= 15
    out = tmp_path / "timeline.html"
    assert main(["record", "timeline", "--out", str(out), "--plan",
                 "programme-2026-2028"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Camp David" in html and "Hwasong-15" in html
    assert html.count("(planned, notional)") == 17
    assert "<script" not in html
