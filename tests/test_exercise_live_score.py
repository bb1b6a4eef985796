"""Scoring a `trilink live` folder: the summary has `trilink run`'s schema, but a live
replay has no simulated hotline staff, so its consultation objectives are *not measured*
(with what the nodes' records show), never "not met"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trilink.cli import main

NATIONS = ("JPN", "KOR", "USA")


def _live_folder(root: Path, opened: bool) -> Path:
    entry = {"first_detection_s": 20.0, "first_track_s": 30.0, "first_partner_track_s": 40.0,
             "first_warning_s": 80.0, "first_known_s": 30.0, "impact_error_km_at_120s": 2.0}
    summary = {"scenario": "exercise-pacific-dragon-2024", "seed": 0,
               "regime": "trilateral-realtime", "mode": "live", "speed": 20.0,
               "launches": [{"id": "exercise-pacific-dragon-2024/T1-SRBM",
                             "nations": {n: entry for n in NATIONS},
                             "consultation": {"id": None, "opened_s": None,
                                              "all_joined_s": None,
                                              "statement_released_s": None}}]}
    run = root / "live"
    (run / "nodes").mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    for n in NATIONS:
        record = {"nation": n, "epoch": "2024-08-06T20:00:00+00:00",
                  "consultations": [["USA-1", 30.63]] if opened and n == "USA" else []}
        (run / "nodes" / f"{n}.node.json").write_text(json.dumps(record), encoding="utf-8")
    (run / "nodes" / "KOR.node.json").write_text("{not json", encoding="utf-8")  # ignored
    return run


def test_a_live_run_scores_consultations_as_not_measured_with_the_nodes_evidence(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _live_folder(tmp_path, opened=True)
    assert main(["exercise", "score", str(run), "--out", str(tmp_path / "aar")]) == 0
    out = capsys.readouterr().out
    assert "5 objective(s) met, 0 not met, 2 not measured" in out
    doc = json.loads((tmp_path / "aar" / "after_action.json").read_text(encoding="utf-8"))
    by_id = {o["id"]: o for o in doc["objectives"]}
    for oid in ("consult", "joint-statement"):
        assert by_id[oid]["met"] is None and by_id[oid]["value"] is None
        assert "USA opened USA-1 at 2024-08-06T20:00:30.630Z" in by_id[oid]["why"]
    assert (doc["run"]["mode"], doc["run"]["speed"]) == ("live", 20.0)
    assert doc["run"]["title"].startswith("Exercise after Pacific Dragon 2024")
    html = (tmp_path / "aar" / "after_action.html").read_text(encoding="utf-8")
    assert "live replay" in html and "not measured" in html


def test_a_simulated_run_without_a_consultation_is_still_not_met(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _live_folder(tmp_path, opened=False)
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    del summary["mode"]  # the same figures from `trilink run`: nobody consulted
    (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    assert main(["exercise", "score", str(run), "--out", str(tmp_path / "aar")]) == 0
    assert "5 objective(s) met, 2 not met ->" in capsys.readouterr().out
