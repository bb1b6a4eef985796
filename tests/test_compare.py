"""trilink compare: common random numbers, sanity of sharing, the CLI (Dask = local: in
tests/test_executors.py, on its cluster)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from trilink.analysis.compare import CompareSpec, aggregate, make_tasks, run_task
from trilink.cli import main

# Sunan, on the west side of the peninsula, into the Sea of Japan: Japan's radars see
# it late (horizon), Korea's early.
WEST_COAST = "2023-12-17-srbm"
REGIMES = ("national-only", "bilateral-us", "trilateral-realtime")


# One xdist worker runs this module (tests/conftest.py, ONE_WORKER_GROUPS): built once.
@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    spec = CompareSpec((WEST_COAST,), REGIMES, runs=3, seed=7)
    return [row for task in make_tasks(spec) for row in run_task(task)]


def _table(rows: list[dict[str, Any]], metric: str) -> dict[tuple[str, str, int], float]:
    out: dict[tuple[str, str, int], float] = {}
    for r in rows:
        if r["metric"] == metric:
            out[(r["nation"], r["regime"], r["run"])] = (
                math.inf if r["value"] is None else r["value"])
    return out


def test_same_measurements_under_every_regime(rows: list[dict[str, Any]]) -> None:
    det = _table(rows, "first_detection_s")
    own = _table(rows, "first_track_s")
    for nation in ("USA", "JPN", "KOR"):
        for run in range(3):
            assert len({det[(nation, r, run)] for r in REGIMES}) == 1
            assert len({own[(nation, r, run)] for r in REGIMES}) == 1
    # ... while runs differ from each other (the Monte Carlo is not degenerate).
    assert len({det[("JPN", "national-only", run)] for run in range(3)}) > 1


def test_more_sharing_never_makes_knowledge_later(rows: list[dict[str, Any]]) -> None:
    known = _table(rows, "first_known_s")
    for nation in ("USA", "JPN", "KOR"):
        for run in range(3):
            a, b, c = (known[(nation, r, run)] for r in REGIMES)
            assert c <= b <= a, (nation, run, a, b, c)


def test_japan_knows_earlier_with_korean_data(rows: list[dict[str, Any]]) -> None:
    """Without ROK data (US only) against with it (real-time trilateral)."""
    known = _table(rows, "first_known_s")
    gains = [known[("JPN", "bilateral-us", run)] - known[("JPN", "trilateral-realtime", run)]
             for run in range(3)]
    assert all(g > 0 for g in gains), gains
    spec = CompareSpec((WEST_COAST,), REGIMES, runs=3, seed=7, baseline="bilateral-us")
    result = next(r for r in aggregate(spec, rows)["results"]
                  if r["nation"] == "JPN" and r["regime"] == "trilateral-realtime"
                  and r["metric"] == "first_known_s")
    # The gain is reported in seconds, paired over runs, with its interval.
    assert result["diff_mean"] == pytest.approx(-sum(gains) / 3, abs=1e-3)
    assert result["diff_n"] == 3 and result["diff_ci_high"] is not None


def test_aggregate_statistics_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    """Means, Student-t intervals and paired differences over the runs where defined."""
    spec = CompareSpec((WEST_COAST,), ("a", "b"), runs=3)
    launch = f"{WEST_COAST}/L1"
    rows = [{"scenario": WEST_COAST, "launch": launch, "nation": "JPN", "regime": reg,
             "run": run, "metric": "first_known_s", "value": v}
            for reg, vals in (("a", (10.0, 12.0, None)), ("b", (7.0, 8.0, 9.0)))
            for run, v in enumerate(vals)]
    from trilink.analysis import compare as cmp

    # "a" and "b" are not shipped regimes: give them a policy and a description.
    national = cmp.resolve_policy("national-only")
    monkeypatch.setattr(cmp, "resolve_policy", lambda label, relay=None: national)
    monkeypatch.setattr(cmp, "_describe", lambda label: label)
    monkeypatch.setattr(cmp, "_name", lambda label: label)
    by_regime = {r["regime"]: r for r in cmp.aggregate(spec, rows)["results"]}
    a, b = by_regime["a"], by_regime["b"]
    assert a["n"] == 2 and a["mean"] == pytest.approx(11.0)
    # t(0.975, 1) = 12.7062; sd = sqrt(2); half-width = 12.7062 * sqrt(2) / sqrt(2)
    assert a["ci_high"] == pytest.approx(11.0 + 12.7062, abs=1e-3)
    assert b["n"] == 3 and b["mean"] == pytest.approx(8.0)
    # Paired over runs 0 and 1 only (run 2 is undefined under the baseline).
    assert b["diff_n"] == 2 and b["diff_mean"] == pytest.approx(-3.5)
    assert a["diff_mean"] is None  # the baseline itself


def test_cli_writes_outputs_and_rejects_bad_input(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    assert main(["compare", WEST_COAST, "--regimes", "national-only",
                 "--dates", "2023-12-20", "--runs", "2", "--workers", "1", "--out",
                 str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith("compared 2 regime(s)")
    data = json.loads((out / "comparison.json").read_text())
    assert [r["id"] for r in data["regimes"]] == ["national-only", "record-2023-12-20"]
    assert data["runs"] == 2 and data["baseline"] == "national-only"
    keys = {"scenario", "launch", "nation", "regime", "metric", "mean", "ci_low", "ci_high"}
    assert all(keys <= r.keys() for r in data["results"])
    assert (out / "comparison.csv").read_text().startswith("scenario,launch,nation,regime")
    assert (out / "runs.csv").exists() and (out / "report.html").exists()
    for argv, field in (
        (["--regimes", "no-such-regime"], "--regimes"),
        (["--dates", "2023-13-40"], "--dates"),
        (["--regimes", "national-only", "--baseline", "tisa-relay"], "--baseline"),
        (["--regimes", "national-only", "--runs", "0"], "--runs"),
    ):
        assert main(["compare", WEST_COAST, "--out", str(tmp_path / "x"), *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and field in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()  # nothing written for a rejected comparison
