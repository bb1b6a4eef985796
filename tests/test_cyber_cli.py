"""`trilink cyber import|export|sightings|value`: real files, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyber_helpers import indicator

from trilink.cli import main
from trilink.cyber.tlp import Tlp, marking_definition
from trilink.cyber.validate import check_objects

REPLAY = Path(__file__).parents[1] / "trilink" / "data" / "cyber" / "bybit-2025-replay.yaml"


def _bundle(tmp_path: Path, objs: list[object]) -> Path:
    p = tmp_path / "in.json"
    p.write_text(json.dumps({"type": "bundle", "id": "bundle--5e6f1a2b-3c4d-4e5f-8a9b-"
                             "0c1d2e3f4a5b", "objects": objs}), encoding="utf-8")
    return p


def test_import_a_bundle_then_export_what_a_partner_may_receive(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = {"type": "indicator", "spec_version": "2.1", "id": "indicator--bad", "pattern": "["}
    src = _bundle(tmp_path, [marking_definition(Tlp.AMBER), indicator(1, tlp=Tlp.AMBER),
                             indicator(2, tlp=Tlp.RED), bad])
    store = tmp_path / "jpn.json"
    assert main(["cyber", "import", str(src), "--nation", "JPN", "--store", str(store),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "stix" and len(report["refused"]) == 1
    assert "indicator--bad" in report["refused"][0]
    assert report["shares"] == {"KOR": 1, "USA": 1}  # the RED one goes nowhere
    assert main(["cyber", "export", "--store", str(store), "--nation", "JPN", "--for", "KOR"]
                ) == 0
    out = json.loads(capsys.readouterr().out)
    names = {o.get("name") for o in out["objects"]}
    assert "test indicator 1" in names and "test indicator 2" not in names


def test_import_a_misp_event(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    event = {"Event": {"uuid": "5e5a4a3b-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "info": "Harmony BTC",
                       "date": "2023-01-23", "timestamp": "1674432000", "published": True,
                       "threat_level_id": "1", "analysis": "2", "distribution": "1",
                       "Orgc": {"name": "JPCERT", "uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f"},
                       "Tag": [{"name": "tlp:green"}], "Attribute": [
                           {"uuid": "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d", "type": "btc",
                            "category": "Financial fraud", "to_ids": True,
                            "value": "1BK769SseNefb6fe9QuFEi8W4KGbtP8gi3",
                            "timestamp": "1674432000", "comment": "FBI 2023-01-23"}]}}
    p = tmp_path / "event.json"
    p.write_text(json.dumps(event), encoding="utf-8")
    assert main(["cyber", "import", str(p), "--nation", "JPN", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "misp" and not report["refused"]
    assert any(i.startswith("indicator--") for i in report["accepted"])


def test_a_bad_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "x.json"
    p.write_text("{not json", encoding="utf-8")
    assert main(["cyber", "import", str(p)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(p) in err[0] and "not JSON" in err[0]
    assert main(["cyber", "import", str(tmp_path / "missing.json")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_export_the_corpus_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "corpus.json"
    assert main(["cyber", "export", "--out", str(out)]) == 0
    objs = json.loads(out.read_text(encoding="utf-8"))["objects"]
    assert len(objs) > 30 and not check_objects(objs).problems


def test_sightings_and_value_of_the_bybit_replay(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cyber", "sightings", str(REPLAY), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert "exercise script" in s["simulated"]
    kor_view = next(iter(s["sightings"]["KOR"].values()))
    assert [(r["nation"], r["count"]) for r in kor_view] == [("JPN", 3), ("KOR", 2)]
    assert any(a["at"] == "KOR" and a["shared_with"] for a in s["alerts"])
    assert main(["cyber", "value", str(REPLAY), "--json"]) == 0
    v = json.loads(capsys.readouterr().out)
    bybit = next(i for i in v["indicators"])
    tri, bil = v["regimes"]["cyber-trilateral-2024"], v["regimes"]["cyber-bilateral-2023"]
    flagged = [i for i in v["indicators"]
               if tri["KOR"][i]["learned_s"] == 5400.0]
    assert flagged, v["indicators"]
    k = flagged[0]
    assert tri["JPN"][k]["only_by_sharing"] and tri["JPN"][k]["learned_s"] == 5400.0 + 3600.0
    assert bil["JPN"][k]["learned_s"] is None
    assert bybit in v["indicators"]
