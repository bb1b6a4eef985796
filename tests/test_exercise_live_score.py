"""Scoring a `trilink live` folder: the summary has `trilink run`'s schema, and its
consultation blocks are filled from what the live nodes' desks recorded, so it is
scored like a simulated run. *Not measured* (never "not met") is kept for what a live
run could not measure: a folder from before the nodes recorded their hotline, and joins
and statements of a replay run without simulated authorities in which nobody acted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trilink.cli import main

NATIONS = ("JPN", "KOR", "USA")
EMPTY = {"id": None, "opened_s": None, "all_joined_s": None, "statement_released_s": None}


def _live_folder(root: Path, opened: bool, injected: bool = False,
                 sim_authorities: bool | None = None,
                 block: dict[str, Any] | None = None) -> Path:
    """A live folder; ``sim_authorities`` None: one from before the hotline records."""
    entry = {"first_detection_s": 20.0, "first_track_s": 30.0, "first_partner_track_s": 40.0,
             "first_warning_s": 80.0, "first_known_s": 30.0, "impact_error_km_at_120s": 2.0}
    summary: dict[str, Any] = {
        "scenario": "exercise-pacific-dragon-2024", "seed": 0,
        "regime": "trilateral-realtime", "mode": "live", "speed": 20.0,
        "launches": [{"id": "exercise-pacific-dragon-2024/T1-SRBM",
                      "nations": {n: entry for n in NATIONS},
                      "consultation": block or EMPTY}]}
    if sim_authorities is not None:
        summary["sim_authorities"] = sim_authorities
    run = root / "live"
    (run / "nodes").mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    for n in NATIONS:
        record = {"nation": n, "epoch": "2024-08-06T20:00:00+00:00",
                  "consultations": [["USA-1", 30.63]] if opened and n == "USA" else []}
        (run / "nodes" / f"{n}.node.json").write_text(json.dumps(record), encoding="utf-8")
    (run / "nodes" / "KOR.node.json").write_text("{not json", encoding="utf-8")  # ignored
    if injected:  # the launcher's record of a controller's hotline request
        (run / "nodes" / "injects.json").write_text(json.dumps([
            {"inject": 0, "kind": "hotline_request", "nation": "KOR", "due_s": 45.0,
             "sent_s": 45.07, "reply": {"ok": True, "consultation": "KOR-1"}},
            {"inject": 1, "kind": "lost_link", "problem": "not applied live"}]),
            encoding="utf-8")
    return run


def _score(tmp_path: Path, run: Path, capsys: pytest.CaptureFixture[str]
           ) -> tuple[str, dict[str, Any]]:
    assert main(["exercise", "score", str(run), "--out", str(tmp_path / "aar")]) == 0
    doc = json.loads((tmp_path / "aar" / "after_action.json").read_text(encoding="utf-8"))
    return capsys.readouterr().out, {o["id"]: o for o in doc["objectives"]}


def test_a_live_run_is_scored_from_its_summary_like_a_simulated_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    block = {"id": "USA-1", "opened_s": 30.6, "all_joined_s": 700.2,
             "statement_released_s": 8100.5}
    run = _live_folder(tmp_path, opened=True, sim_authorities=True, block=block)
    out, by_id = _score(tmp_path, run, capsys)
    assert "7 objective(s) met, 0 not met ->" in out
    assert by_id["consult"]["value"] == pytest.approx(30.6)
    assert by_id["joint-statement"]["value"] == pytest.approx(8100.5)
    assert by_id["joint-statement"]["why"] == "met; worst 8100.5 s (T1-SRBM)"
    doc = json.loads((tmp_path / "aar" / "after_action.json").read_text(encoding="utf-8"))
    assert (doc["run"]["mode"], doc["run"]["speed"]) == ("live", 20.0)
    assert doc["run"]["title"].startswith("Exercise after Pacific Dragon 2024")
    html = (tmp_path / "aar" / "after_action.html").read_text(encoding="utf-8")
    assert "live replay" in html


def test_a_live_run_from_before_the_hotline_records_is_not_measured(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Its node records hold the consultations opened, not what they were about: they are
    # named, not placed on launches by guesswork.
    run = _live_folder(tmp_path, opened=True, injected=True)
    out, by_id = _score(tmp_path, run, capsys)
    assert "5 objective(s) met, 0 not met, 2 not measured" in out
    for oid in ("consult", "joint-statement"):
        assert by_id[oid]["met"] is None and by_id[oid]["value"] is None
        assert "predates the nodes' hotline records" in by_id[oid]["why"]
    why = by_id["consult"]["why"]
    assert "USA opened USA-1 at 2024-08-06T20:00:30.630Z" in why
    assert "KOR opened KOR-1 at 2024-08-06T20:00:45.070Z (on a control request)" in why


def test_without_simulated_authorities_only_joins_and_statements_are_not_measured(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    block = {**EMPTY, "id": "USA-1", "opened_s": 30.6}
    run = _live_folder(tmp_path, opened=True, sim_authorities=False, block=block)
    out, by_id = _score(tmp_path, run, capsys)
    assert "6 objective(s) met, 0 not met, 1 not measured" in out
    assert by_id["consult"]["met"] is True
    statement = by_id["joint-statement"]
    assert statement["met"] is None and "--no-sim-authorities" in statement["why"]


def test_a_live_run_with_authorities_and_no_statement_is_not_met(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    block = {**EMPTY, "id": "USA-1", "opened_s": 30.6, "all_joined_s": 700.0}
    run = _live_folder(tmp_path, opened=True, sim_authorities=True, block=block)
    out, by_id = _score(tmp_path, run, capsys)
    assert "6 objective(s) met, 1 not met ->" in out
    assert by_id["joint-statement"]["met"] is False
    assert by_id["joint-statement"]["why"] == "never: T1-SRBM"


def test_a_simulated_run_without_a_consultation_is_still_not_met(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _live_folder(tmp_path, opened=False)
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    del summary["mode"]  # the same figures from `trilink run`: nobody consulted
    (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    assert main(["exercise", "score", str(run), "--out", str(tmp_path / "aar")]) == 0
    assert "5 objective(s) met, 2 not met ->" in capsys.readouterr().out
