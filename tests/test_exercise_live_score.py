"""Scoring a `trilink live` folder: the summary has `trilink run`'s schema, but its
consultation blocks are empty. Time to consult is scored from the consultations the
nodes' records show (placed on the scenario's launches by time); joins and joint
statements, which the live nodes do not record, are *not measured*, never "not met"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trilink.cli import main

NATIONS = ("JPN", "KOR", "USA")


def _live_folder(root: Path, opened: bool, injected: bool = False) -> Path:
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
    if injected:  # the launcher's record of a controller's hotline request
        (run / "nodes" / "injects.json").write_text(json.dumps([
            {"inject": 0, "kind": "hotline_request", "nation": "KOR", "due_s": 45.0,
             "sent_s": 45.07, "reply": {"ok": True, "consultation": "KOR-1"}},
            {"inject": 1, "kind": "lost_link", "problem": "not applied live"}]),
            encoding="utf-8")
    return run


def test_a_live_run_scores_time_to_consult_from_the_nodes_records(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _live_folder(tmp_path, opened=True)
    assert main(["exercise", "score", str(run), "--out", str(tmp_path / "aar")]) == 0
    out = capsys.readouterr().out
    assert "6 objective(s) met, 0 not met, 1 not measured" in out
    doc = json.loads((tmp_path / "aar" / "after_action.json").read_text(encoding="utf-8"))
    by_id = {o["id"]: o for o in doc["objectives"]}
    consult = by_id["consult"]
    assert consult["met"] is True and consult["value"] == pytest.approx(30.6)
    assert "from the nodes' records: T1-SRBM USA-1 opened 30.6 s after it" in consult["why"]
    statement = by_id["joint-statement"]
    assert statement["met"] is None and statement["value"] is None
    assert "hold no joins or statements" in statement["why"]
    assert "USA opened USA-1 at 2024-08-06T20:00:30.630Z" in statement["why"]
    assert (doc["run"]["mode"], doc["run"]["speed"]) == ("live", 20.0)
    assert doc["run"]["title"].startswith("Exercise after Pacific Dragon 2024")
    html = (tmp_path / "aar" / "after_action.html").read_text(encoding="utf-8")
    assert "live replay" in html and "not measured" in html


def test_a_live_run_where_no_node_opened_one_is_not_measured(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A controller's request (an inject) is named, but it is not the federation's own
    # consultation: as in `trilink run`, it does not count.
    run = _live_folder(tmp_path, opened=False, injected=True)
    assert main(["exercise", "score", str(run), "--out", str(tmp_path / "aar")]) == 0
    assert "5 objective(s) met, 0 not met, 2 not measured" in capsys.readouterr().out
    doc = json.loads((tmp_path / "aar" / "after_action.json").read_text(encoding="utf-8"))
    consult = next(o for o in doc["objectives"] if o["id"] == "consult")
    assert consult["met"] is None
    assert "KOR opened KOR-1 at 2024-08-06T20:00:45.070Z (on a control request)" \
        in consult["why"]


def test_consultations_are_placed_on_launches_by_time() -> None:
    from trilink.exercise.score import live_consultation_measures

    launches = [("T2", 600.0), ("T1", 0.0), ("T3", 720.0), ("T4", 30000.0)]
    got = live_consultation_measures(launches, [("USA-1", 30.4), ("JPN-1", 650.0),
                                                ("KOR-1", 660.0)], lapse_after_s=21600.0)
    assert (got["T1"]["id"], got["T1"]["opened_s"]) == ("USA-1", 30.4)
    assert (got["T2"]["id"], got["T2"]["opened_s"]) == ("JPN-1", 50.0)  # the first of its own
    assert (got["T3"]["id"], got["T3"]["opened_s"]) == ("KOR-1", -60.0)  # the last one open
    assert "already open" in got["T3"]["basis"]
    assert got["T4"]["opened_s"] is None  # every earlier one has lapsed (6 h)
    assert all(g["statement_released_s"] is None for g in got.values())


def test_a_launch_no_consultation_covers_is_not_met(tmp_path: Path) -> None:
    from trilink.exercise.score import live_consultation_measures, load_standards, score

    launch = {"nations": {"USA": {"first_detection_s": 20.0}},
              "consultation": {"id": None, "opened_s": None,
                                              "all_joined_s": None,
                                              "statement_released_s": None}}
    record = {"summary": {"mode": "live", "launches": [
        {**launch, "id": "x/T1"}, {**launch, "id": "x/T2"}]},
        "live_consultation_measures": live_consultation_measures(
            [("T1", 0.0), ("T2", 600.0)], [("USA-1", 1300.0)], 21600.0)}
    results = {r.objective.id: r for r in score(record, load_standards(
        "standards-bmd-tracking"))}
    consult = results["consult"]
    assert consult.met is False and consult.value is None
    assert consult.why.startswith("never: T1")
    assert "T2 USA-1 opened 700.0 s after it" in consult.why
    assert results["joint-statement"].met is None


def test_a_simulated_run_without_a_consultation_is_still_not_met(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _live_folder(tmp_path, opened=False)
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    del summary["mode"]  # the same figures from `trilink run`: nobody consulted
    (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    assert main(["exercise", "score", str(run), "--out", str(tmp_path / "aar")]) == 0
    assert "5 objective(s) met, 2 not met ->" in capsys.readouterr().out
