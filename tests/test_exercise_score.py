"""Scoring an exercise run: each objective met, not met (and why), or never achieved;
earlier runs of the same series beside it; bad inputs in one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trilink.cli import main
from trilink.exercise.score import after_action, load_standards, score

NATIONS = ("JPN", "KOR", "USA")


def _entry(**over: float | None) -> dict[str, Any]:
    base: dict[str, Any] = {"first_detection_s": 20.0, "first_track_s": 30.0,
                            "first_partner_track_s": 40.0, "first_warning_s": 80.0,
                            "first_known_s": 30.0, "impact_error_km_at_120s": 2.0}
    base.update(over)
    return base


def _record(**per: dict[str, dict[str, float | None]]) -> dict[str, Any]:
    launches = []
    for lid, changes in per.items():
        launches.append({"id": f"drill/{lid}",
                         "nations": {n: _entry(**changes.get(n, {})) for n in NATIONS},
                         "consultation": {"id": "USA-1", "opened_s": 30.0,
                                          "all_joined_s": 200.0,
                                          "statement_released_s": 3600.0}})
    return {"schema_version": 1, "scenario": {"id": "drill", "title": "a drill"},
            "summary": {"scenario": "drill", "seed": 0, "regime": "trilateral-realtime",
                        "launches": launches}}


def _by_id(record: dict[str, Any]) -> dict[str, Any]:
    std = load_standards("standards-bmd-tracking")
    return {r.objective.id: r for r in score(record, std)}


def test_all_met() -> None:
    res = _by_id(_record(T1={}, T2={}))
    assert all(r.met for r in res.values())
    assert res["detect"].value == 20.0


def test_one_slow_nation_fails_an_all_objective_and_is_named() -> None:
    res = _by_id(_record(T1={}, T2={"KOR": {"first_detection_s": 75.0}}))
    assert res["detect"].met is False
    assert res["detect"].value == 75.0
    assert "KOR T2 75 s" in res["detect"].why
    assert res["know"].met  # others unaffected


def test_never_received_is_not_met() -> None:
    res = _by_id(_record(T1={"JPN": {"first_partner_track_s": None}}))
    assert res["share"].met is False and res["share"].value is None
    assert "never: JPN T1" in res["share"].why


def test_any_objective_needs_only_one_nation() -> None:
    none = {n: {"first_warning_s": None} for n in ("JPN", "KOR")}
    assert _by_id(_record(T1=none))["warn"].met  # USA warned at 80 s
    nobody = {n: {"first_warning_s": None} for n in NATIONS}
    res = _by_id(_record(T1=nobody))
    assert res["warn"].met is False and "T1" in res["warn"].why


def test_earlier_runs_of_the_series_are_compared(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    std = load_standards("standards-bmd-tracking")
    first = _record(T1={"KOR": {"first_detection_s": 75.0}})
    doc1 = after_action(first, std, score(first, std), [])
    second = _record(T1={})
    doc2 = after_action(second, std, score(second, std), [doc1])
    detect = next(o for o in doc2["objectives"] if o["id"] == "detect")
    assert detect["met"] and detect["earlier"] == [{"run": doc1["run"], "value": 75.0,
                                                   "met": False}]
    # Through the CLI, with files.
    run = tmp_path / "run"
    run.mkdir()
    (run / "record.json").write_text(json.dumps(second), encoding="utf-8")
    hist = tmp_path / "aar1.json"
    hist.write_text(json.dumps(doc1), encoding="utf-8")
    assert main(["exercise", "score", str(run), "--out", str(tmp_path / "aar"),
                 "--history", str(hist)]) == 0
    out = capsys.readouterr().out
    assert "7 objective(s) met, 0 not met" in out
    html = (tmp_path / "aar" / "after_action.html").read_text(encoding="utf-8")
    assert "75 (not met)" in html and "simulated exercise" in html


def test_missing_record_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                    ) -> None:
    assert main(["exercise", "score", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "record.json" in err


def test_a_live_runs_summary_is_scored_too(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "live"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps(_record(T1={})["summary"]), encoding="utf-8")
    assert main(["exercise", "score", str(run), "--out", str(tmp_path / "aar")]) == 0
    assert "7 objective(s) met" in capsys.readouterr().out
