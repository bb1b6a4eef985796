"""`trilink compare` on the supply replays and the cyber campaign: the same tasks, rows
and intervals as the missile cases, the supply and cyber functions doing the work;
sharing never makes a nation learn later, run by run."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from trilink.analysis.compare import (
    CompareSpec,
    jittered_campaign,
    run_comparison,
    run_seed,
    scenario_domain,
)
from trilink.cli import main
from trilink.cyber.campaign import cyber_value_of_sharing, load_campaign
from trilink.cyber.regimes import cyber_policy
from trilink.supply.replay import load_replay, run_once

REGIMES = ("national-only", "record-2024-01-01", "cyber-trilateral-2024")
SCENARIOS = ("2019-fluorine", "2023-gallium", "bybit-2025-replay")
RUNS = 3
CAMPAIGN = Path(__file__).parents[1] / "trilink" / "data" / "cyber" / "bybit-2025-replay.yaml"


@pytest.fixture(scope="module")
def compared() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    spec = CompareSpec(SCENARIOS, REGIMES, runs=RUNS, seed=1)
    return run_comparison(spec, workers=1)


def _by_unit(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str, int], dict[str, float]]:
    out: dict[tuple[str, str, str, int], dict[str, float]] = defaultdict(dict)
    for r in rows:
        v = math.inf if r["value"] is None else r["value"]
        out[(r["scenario"], r["launch"], r["nation"], r["run"])][r["regime"]] = v
    return out


def test_domains_are_recognised() -> None:
    assert scenario_domain("2019-fluorine") == "supply"
    assert scenario_domain("bybit-2025-replay") == "cyber"
    assert scenario_domain(str(CAMPAIGN)) == "cyber"
    assert scenario_domain("2023-12-17-srbm") == "missile"


def test_sharing_never_makes_a_nation_learn_later(
        compared: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    _, rows = compared
    units = _by_unit(rows)
    assert {k[0] for k in units} == {"2019-fluorine", "2023-gallium", "bybit-2025-replay"}
    gained = 0
    for values in units.values():
        assert set(values) == set(REGIMES)
        for shared in REGIMES[1:]:
            assert values[shared] <= values["national-only"]
            gained += values[shared] < values["national-only"]
    assert gained > 0  # and sharing does buy something somewhere


def test_intervals_contain_the_mean_and_count_the_runs(
        compared: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    comparison, _ = compared
    kinds = {sc["id"]: sc["kind"] for sc in comparison["scenarios"]}
    assert kinds == {"2019-fluorine": "supply", "2023-gallium": "supply",
                     "bybit-2025-replay": "cyber"}
    for r in comparison["results"]:
        assert 0 <= r["n"] <= RUNS
        if r["mean"] is not None and r["ci_low"] is not None:
            assert r["ci_low"] <= r["mean"] <= r["ci_high"]
        if r["diff_mean"] is not None and r["diff_ci_low"] is not None:
            assert r["diff_ci_low"] <= r["diff_mean"] <= r["diff_ci_high"]
        if r["regime"] == "national-only":
            assert r["diff_mean"] is None
        if kinds[r["scenario"]] == "supply":
            assert r["metric"] == "warning_day" and r["n"] == RUNS  # always warned
    # 2019: today's EWS would have warned the United States weeks earlier (assumed delays).
    usa = next(r for r in comparison["results"] if r["scenario"] == "2019-fluorine"
               and r["nation"] == "USA" and r["regime"] == "record-2024-01-01")
    assert usa["diff_ci_high"] < -7


def test_rows_are_the_supply_and_cyber_functions_own(
        compared: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    _, rows = compared
    units = _by_unit(rows)
    replay = load_replay("2023-gallium")
    for run in range(RUNS):
        got = run_once(replay, run_seed(1, run), ("alone",), {"alone": None})
        for n, day in got.warn_day["alone"].items():
            key = ("2023-gallium", "2023-gallium/chn-gallium-germanium-2023", n, run)
            assert units[key]["national-only"] == day
    spec = load_campaign(CAMPAIGN)
    direct = cyber_value_of_sharing(jittered_campaign(spec, run_seed(1, 2)),
                                    {"t": cyber_policy("cyber-trilateral-2024")})
    addr = "0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2"
    for n, row in direct["regimes"]["t"].items():
        (cell,) = [c for iid, c in row.items() if iid.startswith("indicator--8")]
        key = ("bybit-2025-replay", f"bybit-2025-replay/{addr}", n, 2)
        assert units[key]["cyber-trilateral-2024"] == cell["learned_s"]


def test_campaign_spread_keeps_record_times_and_is_common_to_regimes() -> None:
    spec = load_campaign(CAMPAIGN)
    a, b = jittered_campaign(spec, 11), jittered_campaign(spec, 12)
    for orig, x, y in zip(spec.events, a.events, b.events, strict=True):
        if orig.note.startswith("record"):
            assert x.t_s == y.t_s == orig.t_s
        else:
            assert x.t_s != y.t_s and x.t_s > 0
    assert jittered_campaign(spec, 11) == a  # seeded: every regime of a run sees the same


def test_cli_writes_the_outputs_and_bad_input_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    assert main(["compare", "2019-fluorine", "--regimes", "national-only,record",
                 "--dates", "2024-01-01", "--runs", "3", "--workers", "1", "--quiet",
                 "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "warned" in said and "earlier under record-2024-01-01" in said
    doc = json.loads((out / "comparison.json").read_text())
    assert [g["id"] for g in doc["regimes"]] == ["national-only", "record",
                                                  "record-2024-01-01"]
    assert (out / "report.html").is_file() and (out / "runs.csv").is_file()
    assert main(["compare", "2019-fluorine", "--regimes", "no-such-regime", "--runs", "2",
                 "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no-such-regime" in err
    assert not (tmp_path / "bad" / "comparison.json").exists()
