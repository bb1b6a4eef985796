"""Scenario files: the shipped library validates; bad files get FILE:LINE errors."""

from __future__ import annotations

import csv
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from trilink.cli import main
from trilink.sim.scenario import (
    ScenarioInvalidError,
    load_scenario,
    parse_scenario,
    shipped_scenarios,
)

GOOD = """\
schema_version: 1
id: test-salvo
title: A test salvo
nations: [USA, JPN, KOR]
launches:
  - id: A
    time_utc: 2024-01-01T00:00:00Z
    site: {name: Sunan, lat_deg: 39.2, lon_deg: 125.67}
    missile: SRBM
    apogee_km: 100
    range_km: 250
    azimuth_deg: 95
"""


def test_every_event_of_the_reference_table_is_shipped() -> None:
    table = resources.files("trilink.data").joinpath("launches.csv")
    events = {r["event_id"] for r in csv.DictReader(table.open(encoding="utf-8"))}
    assert events <= set(shipped_scenarios())
    for event in events:
        sc = load_scenario(event)
        assert sc.id == event
        assert sc.sources, f"{event} lists no sources"
        assert sc.launches[0].published.impact


def test_every_shipped_scenario_names_its_sources() -> None:
    for sid in shipped_scenarios():
        assert load_scenario(sid).sources, sid


def test_good_file_parses(tmp_path: Path) -> None:
    sc = parse_scenario(GOOD, "good.yaml")
    assert sc.launches[0].profile().key == "kn-23"
    assert sc.launches[0].time_utc.utcoffset() is not None


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [
        ("missile: SRBM", "missile: Nodong-9", 9, "launches.0.missile", "unknown missile"),
        ("lat_deg: 39.2", "lat_deg: 139.2", 8, "launches.0.site.lat_deg", "less than or equal"),
        ("[USA, JPN, KOR]", "[USA, JPX]", 4, "nations", "unknown nation code 'JPX'"),
        ("apogee_km: 100", "apogee_km: -5", 10, "launches.0.apogee_km", "greater than 0"),
        ("time_utc: 2024-01-01T00:00:00Z", "time_utc: 2024-01-01T00:00:00", 7,
         "launches.0.time_utc", "UTC offset"),
        ("    azimuth_deg: 95\n", "    azimuth_deg: 95\n    colour: red\n", 13,
         "launches.0.colour", "Extra inputs"),
        # Known (its land is in the tables) but a party to nothing: it runs no node.
        ("[USA, JPN, KOR]", "[USA, JPN, PRK]", 4, "nations",
         "PRK (Democratic People's Republic of Korea) is not a party"),
        ("[USA, JPN, KOR]", "[USA, JPN, JPN]", 4, "nations", "listed twice"),
        ("apogee_km: 100", "apogee_km: .nan", 10, "launches.0.apogee_km", "finite number"),
        ("apogee_km: 100", "apogee_km: .inf", 10, "launches.0.apogee_km", "finite number"),
        ("range_km: 250", "range_km: -.inf", 11, "launches.0.range_km", "finite number"),
        ("time_utc: 2024-01-01T00:00:00Z", "time_utc: 9999-12-31T00:00:00Z", 7,
         "launches.0.time_utc",
         "9999-12-31 is outside the supported span, 1970-01-01 to 2261-12-31 UTC"),
        ("time_utc: 2024-01-01T00:00:00Z", "time_utc: 1969-12-31T23:59:00Z", 7,
         "launches.0.time_utc", "outside the supported span"),
        ("nations: [USA, JPN, KOR]", "nations: [USA, JPN, KOR]\ndate: 9999-12-31", 5,
         "date", "9999-12-31 is outside the supported span"),
    ],
)
def test_bad_fields_name_line_field_and_problem(
    old: str, new: str, line: int, field: str, words: str
) -> None:
    text = GOOD.replace(old, new)
    assert text != GOOD
    with pytest.raises(ScenarioInvalidError) as info:
        parse_scenario(text, "bad.yaml")
    messages = [str(e) for e in info.value.errors]
    assert any(
        m.startswith(f"bad.yaml:{line}: {field}: ") and words in m for m in messages
    ), messages


def test_broken_yaml_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ScenarioInvalidError) as info:
        parse_scenario("id: [unclosed\n", "broken.yaml")
    (error,) = info.value.errors
    assert error.path == "broken.yaml" and error.field == "yaml"


def test_validate_cli_good_bad_and_unreachable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    assert main(["validate", str(good)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"{good}: ok (test-salvo, 1 launch)"

    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("lat_deg: 39.2", "lat_deg: 95").replace("SRBM", "XRBM"))
    assert main(["validate", str(bad)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert f"{bad}:8: launches.0.site.lat_deg:" in lines[1] or f"{bad}:8:" in lines[0]
    assert all(line.startswith(f"{bad}:") for line in lines)

    far = tmp_path / "far.yaml"
    far.write_text(GOOD.replace("range_km: 250", "range_km: 9000"))
    assert main(["validate", str(far)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{far}:6: launches.A: ") and "9000 km" in err


def test_validate_takes_a_shipped_scenarios_id_as_run_does(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "2023-12-17-srbm", "--no-reachability"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.endswith("2023-12-17-srbm.yaml: ok (2023-12-17-srbm, 1 launch)"), out
    assert main(["validate", "no-such-scenario", "--no-reachability"]) == 2
    assert capsys.readouterr().err.strip() == (
        "no-such-scenario:0: (file): no such file and no shipped scenario")


def test_validate_every_shipped_scenario_via_the_installed_command() -> None:
    folder = Path(str(resources.files("trilink.scenarios")))
    files = sorted(str(p) for p in folder.glob("*.yaml"))
    proc = subprocess.run(
        [sys.executable, "-m", "trilink.cli", "validate", *files],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.strip().splitlines()) == len(files)


def test_missing_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "/nonexistent/x.yaml"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no such file" in err


def _billion_laughs(levels: int) -> str:
    lines = ["lol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 9) + "]"
              for i in range(1, levels)]
    return GOOD + "\n".join(lines) + f"\nsources: *lol{levels - 1}\n"


def test_alias_bomb_is_refused_in_one_line_before_it_expands(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 9 levels of 9 aliases: 9**9 (387 million) strings once expanded, 600 bytes on disk.
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_billion_laughs(9))
    assert len(bomb.read_bytes()) < 1000
    assert main(["validate", str(bomb)]) == 2
    err = capsys.readouterr().err
    assert err == f"{bomb}:1: (file): expands to more than 200,000 values (through its " \
                  "aliases); refused\n"


@pytest.mark.parametrize(("text", "words"), [
    (GOOD + "sources: &s [a, *s]\n", "a recursive file"),
    (GOOD + "sources: " + "[" * 65 + "]" * 65 + "\n", "nested more than 64 levels deep"),
    (GOOD + "sources: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 64 levels deep"),
    (GOOD + "".join(f"a{i}: &a{i} x\n" for i in range(101))
     + "sources: [" + ", ".join(f"*a{i}" for i in range(101)) + "]\n", "101 aliases"),
    (GOOD + "description: '" + "x" * (4 * 1024 * 1024) + "'\n", "a data file may have at most"),
])
def test_hostile_yaml_shapes_are_refused_in_one_line(text: str, words: str) -> None:
    with pytest.raises(ScenarioInvalidError) as info:
        parse_scenario(text, "hostile.yaml")
    (error,) = info.value.errors
    assert str(error).startswith("hostile.yaml:1: (file): ") and words in str(error)


def test_a_few_aliases_still_work() -> None:
    text = GOOD.replace("    site: {name: Sunan, lat_deg: 39.2, lon_deg: 125.67}",
                        "    site: &sunan {name: Sunan, lat_deg: 39.2, lon_deg: 125.67}")
    text += """  - id: B
    time_utc: 2024-01-01T00:05:00Z
    site: *sunan
    missile: SRBM
    apogee_km: 100
    range_km: 250
    azimuth_deg: 95
"""
    sc = parse_scenario(text, "aliases.yaml")
    assert [x.site.name for x in sc.launches] == ["Sunan", "Sunan"]


def test_load_yaml_applies_the_same_limits_to_files_without_a_model() -> None:
    from trilink.datafile import FileInvalidError, load_yaml

    assert load_yaml("a: [1, 2]\n", "ok.yaml") == {"a": [1, 2]}
    with pytest.raises(FileInvalidError) as info:
        load_yaml(_billion_laughs(9), "bomb.yaml")
    assert [str(e) for e in info.value.errors] == [
        "bomb.yaml:1: (file): expands to more than 200,000 values (through its aliases); refused"]
