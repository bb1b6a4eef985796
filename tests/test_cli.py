"""The command line as users and scripts call it (a real subprocess where it matters)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from trilink._numba_cache import COLD_NOTE
from trilink.cli import main

CONTRACT_KEYS = {"flight_time_s", "apogee_km", "range_km", "burnout_time_s", "impact_lat",
                 "impact_lon"}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trilink.cli", *args], capture_output=True,
                          text=True, check=False)


# Two class names in odd case (each tries every type of its class) and two types; the
# SRBM class (seven types, 25 s) is left to tests/test_missile_envelope.py.
@pytest.mark.parametrize("missile", ["kn-23", "irbm", "Icbm", "hwasong-17"])
def test_trajectory_json_contract(missile: str) -> None:
    apogee, rng = {"kn-23": (90, 350), "irbm": (700, 3000)}.get(missile, (2500, 900))
    proc = _run("trajectory", "--launch", "39.2,125.67", "--azimuth", "80", "--apogee-km",
                str(apogee), "--range-km", str(rng), "--missile", missile, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # exactly one JSON object
    assert data.keys() >= CONTRACT_KEYS
    assert data["apogee_km"] == pytest.approx(apogee, rel=0.01)
    assert data["range_km"] == pytest.approx(rng, rel=0.01)
    assert 0 < data["burnout_time_s"] < data["flight_time_s"]
    assert 30 < data["impact_lat"] < 50 and 120 < data["impact_lon"] < 180
    assert data["track"][0]["t_s"] == 0
    assert data["track"][-1]["alt_km"] == pytest.approx(0, abs=0.01)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--launch", "north,east"], "--launch: expected LAT,LON"),
        (["--launch", "95,125"], "--launch: latitude"),
        (["--azimuth", "400"], "--azimuth: expected degrees"),
        (["--missile", "TRIDENT"], "--missile: unknown missile 'TRIDENT'"),
        (["--apogee-km", "3000", "--range-km", "12000", "--missile", "srbm"], "cannot reach"),
        (["--azimuth", "east"], "'--azimuth'"),
    ],
)
def test_bad_flags_get_one_line_and_status_2(args: list[str], needle: str) -> None:
    base = {"--launch": "39.2,125.67", "--azimuth": "90", "--apogee-km": "500",
            "--range-km": "1500", "--missile": "IRBM"}
    for k, v in zip(args[::2], args[1::2], strict=True):
        base[k] = v
    flat = [x for kv in base.items() for x in kv]
    proc = _run("trajectory", *flat)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0]
    assert "Traceback" not in proc.stderr


def test_unknown_command_is_one_line() -> None:
    proc = _run("frobnicate")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "frobnicate" in proc.stderr


def test_help_reads_well() -> None:
    proc = _run("--help")
    assert proc.returncode == 0
    for command in ("trajectory", "fly", "flights", "validate", "scenarios", "missiles"):
        assert command in proc.stdout


def test_fly_json_has_published_beside_ours(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fly", "2022-11-03-srbm-koksan", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scenario"] == "2022-11-03-srbm-koksan"
    assert [launch["id"] for launch in data["launches"]] == ["L1", "L2", "L3"]
    first = data["launches"][0]
    assert first["published"]["range_km"] == 500
    assert first["ours"]["range_km"] == pytest.approx(500, rel=0.01)


def test_flights_table_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flights", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    timed = [r for r in rows if r["published_flight_time_s"]]
    assert len(timed) == 10
    assert all(r["converged"] for r in rows)


def test_missiles_lists_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["missiles", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["class_defaults"]) >= {"SRBM", "IRBM", "ICBM"}
    assert {"liquid", "solid"} == {p["propellant"] for p in data["profiles"].values()}


def test_bench_tracking_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "tracking", "--quick", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("rmse_pos_m", "rmse_vel_m_s", "rmse_over_pcrlb", "scan_23_targets_ms"):
        assert set(data[key]) >= {"trilink", "stonesoup", "filterpy"}, key
    assert data["speedup_vs_stonesoup"] > 1 and data["speedup_vs_filterpy"] > 1


def test_audit_verify_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    from trilink.sharing.audit import AuditLog

    path = tmp_path / "JPN.sqlite"
    with AuditLog(path) as log:
        for i in range(5):
            log.append(1_000 + i, "sent", peer="USA", kind="missile_track", seq=i + 1)
    assert main(["audit", "verify", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: intact, 5 records"
    db = sqlite3.connect(path)  # a forger with write access: triggers off, one row edited
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET peer = 'KOR' WHERE id = 3")
    db.commit()
    db.close()
    assert main(["audit", "verify", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{path}: record 3:") and "\n" not in err
    assert main(["audit", "verify", str(tmp_path / "missing.sqlite")]) == 2


def test_bench_federation_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "federation", "--quick", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("updates_per_s", "p50_ms_node", "p99_ms_node", "p50_ms_raw", "p99_ms_raw"):
        assert data[key] > 0, key
    assert data["p50_ms_node"] >= data["p50_ms_raw"] * 0.5  # measured, not invented


def test_run_writes_summary_alerts_and_audit(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from trilink.sharing.audit import verify_audit_file
    from trilink.warning.cap import validate

    # Through pipes, as scripts call it, into a folder holding an old run's leftover:
    # --force lets the run in and nothing old stays mixed with the new outputs.
    out = tmp_path / "out"
    (out / "alerts").mkdir(parents=True)
    (out / "alerts" / "stale.xml").write_text("<old/>")
    proc = _run("run", "2022-11-02-srbm-south-of-nll", "--out", str(out), "--seed", "2",
                "--force")
    assert proc.returncode == 0, proc.stderr
    # No progress bar off a terminal; at most the one-line note of a first (cold) run.
    assert proc.stderr in ("", COLD_NOTE + "\n")
    line = proc.stdout.strip()
    assert line.startswith("2022-11-02-srbm-south-of-nll: 1 launch(es)") and "\n" not in line
    assert not (out / "alerts" / "stale.xml").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "2022-11-02-srbm-south-of-nll" and summary["seed"] == 2
    (launch,) = summary["launches"]
    keys = {"first_detection_s", "first_track_s", "first_partner_track_s", "first_warning_s",
            "warning_level", "impact_error_km_at_warning", "false_alarms"}
    for nation in ("USA", "JPN", "KOR"):
        assert keys <= launch["nations"][nation].keys()
    kor = launch["nations"]["KOR"]
    assert kor["first_detection_s"] is not None and kor["first_track_s"] >= \
        kor["first_detection_s"]
    # KOR is warned of this launch: there are CAP files, as many as the line says, each
    # valid, the first an Alert.
    xmls = sorted((out / "alerts").glob("*.xml"))
    assert xmls and f"; {len(xmls)} CAP message(s)," in line
    for xml in xmls:
        assert validate(xml.read_bytes()) == []
    assert b"<msgType>Alert</msgType>" in min(xmls, key=lambda p: p.name).read_bytes()
    assert summary["time_origin"].startswith("seconds after each launch")
    assert line.endswith(f"-> {out / 'report.html'}")
    for nation in ("USA", "JPN", "KOR"):
        assert verify_audit_file(out / "audit" / f"{nation}.sqlite").ok
    before = sorted(p.name for p in out.rglob("*"))
    # Into the folder of a run: refused without --force (one line), nothing touched.
    assert main(["run", "2022-11-02-srbm-south-of-nll", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"trilink: error: --out: {out} is not empty; give an empty or new "
                   "folder, or --force to replace the outputs in it\n")
    assert main(["run", "2022-11-02-srbm-south-of-nll", "--out", str(out), "--force",
                 "--regime", "nope"]) == 2
    # A rejected run loses nothing that an earlier run stored.
    assert sorted(p.name for p in out.rglob("*")) == before
    assert (out / "report.html").stat().st_size > 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--regime" in err
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me")
    assert main(["run", "2022-11-02-srbm-south-of-nll", "--out", str(a_file)]) == 2
    assert a_file.read_text() == "keep me"
    assert main(["run", "2022-11-02-srbm-south-of-nll", "--out", str(out), "--seed", "-1"]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "--seed" in err and "Traceback" not in err


def test_bench_run_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "run", "--quick", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["launches"] == 1 and data["simulated_s"] > 100
    assert data["wall_s"] > 0 and data["peak_rss_mb"] > 50
    # The factor is the measured ratio, not a separate figure.
    assert data["realtime_factor"] == pytest.approx(data["simulated_s"] / data["wall_s"],
                                                    rel=0.01)


def test_run_summary_line_counts_what_happened(tmp_path: Path) -> None:
    from trilink.cli import run_summary_line

    summary = {"scenario": "s", "regime": "r", "launches": [
        {"id": "a", "nations": {"JPN": {"first_warning_s": 80.0, "false_alarms": 1},
                                "KOR": {"first_warning_s": None, "false_alarms": 0}}},
        {"id": "b", "nations": {"JPN": {"first_warning_s": 60.0, "false_alarms": 0},
                                "KOR": {"first_warning_s": 30.0, "false_alarms": 2}}}]}
    (tmp_path / "alerts").mkdir()
    line = run_summary_line(summary, tmp_path, wall_s=2.0, simulated_s=1000.0)
    assert "2 launch(es)" in line and "JPN at T+60 s, KOR at T+30 s" in line
    assert "3 false alarm(s)" in line and "(500x real time)" in line
    assert "no consultation" in line
    summary["launches"][0]["consultation"] = {"id": "KOR-1", "opened_s": 40.0,
                                              "all_joined_s": 600.0,
                                              "statement_released_s": 5400.0}
    summary["launches"][1]["consultation"] = {"id": "KOR-1", "opened_s": -20.0,
                                              "all_joined_s": 540.0,
                                              "statement_released_s": 5340.0}
    line = run_summary_line(summary, tmp_path, wall_s=2.0, simulated_s=1000.0)
    assert "1 consultation(s), first opened at T+40 s, statement at T+90 min" in line


def test_scenarios_json_lists_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["2022-11-02-day"]["launches"] >= 20
    assert rows["2022-11-03-srbm-koksan"]["launches"] == 3
    assert any(sid.startswith("exercise-") for sid in rows)
    assert all(r["date"] for r in rows.values())


@pytest.mark.parametrize(("argv", "line"), [
    (["keys", "new", "--nations", "XYZ"],
     "trilink: error: --nations: unknown nation code 'XYZ'; expected ISO 3166-1 alpha-3, "
     "one of "),
    (["keys", "new", "--nations", "USA,PRK"],
     "trilink: error: --nations: PRK (Democratic People's Republic of Korea) is not a party "
     "to any agreement trilink ships; expected one of AUS, CAN, FRA, GBR, IND, JPN, KOR, "
     "MNG, NZL, PHL, USA, VNM\n"),
    (["hotline", "open", "--node", "JPN", "--parties", "USA,PRK", "--topic", "t"],
     "trilink: error: --parties: PRK (Democratic People's Republic of Korea) is not a party"),
    (["node", "--nation", "XYZ", "--keys", "k"], "trilink: error: --nation: unknown nation"),
])
def test_unknown_and_non_party_nations_get_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], line: str) -> None:
    if argv[0] == "keys":
        argv = [*argv, "--out", str(tmp_path / "k")]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith(line), captured.err
    assert not (tmp_path / "k").exists()
