"""The supply and cyber sections of the comparison report: the series plotted with the
warnings marked, the list changes and the controls in force, and the notice of what is
simulated wherever a simulated series or script is used."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from trilink.analysis.compare import CompareSpec, run_comparison, run_seed
from trilink.report.comparison import render_comparison
from trilink.report.comparison_domains import SIMULATED_NOTICE, split_domains
from trilink.supply.series import build, shipped_series


@pytest.fixture(scope="module")
def compared() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    spec = CompareSpec(("2019-fluorine", "2023-gallium", "bybit-2025-replay"),
                       ("national-only", "record-2024-01-01"), runs=2, seed=0)
    return run_comparison(spec, workers=1)


def _section(html: str, sid: str) -> str:
    start = html.index(f'<section id="{sid}"')
    return html[start:html.index("</section>", start)]


def test_supply_section_plots_the_series_and_says_what_is_simulated(
        compared: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    comparison, rows = compared
    html = render_comparison(comparison, rows)
    assert "<script" not in html
    sec = _section(html, "supply-2019-fluorine")
    sc = next(s for s in comparison["scenarios"] if s["id"] == "2019-fluorine")
    simulated = sc["simulated"]["series_months_simulated"]
    assert simulated > 0
    # the notice names as many simulated months as the plot draws hollow dots
    assert SIMULATED_NOTICE in sec and f"{simulated} are SIMULATED" in sec
    assert sec.count('fill="white"') == simulated
    assert sec.count("(SIMULATED)</title>") == simulated
    assert "<svg" in sec and re.search(r"warned \[[0-9,]+\]", sec)
    assert "warned first under record-2024-01-01" in sec
    assert "KOR removed from Japan" in sec  # the list changes around the event
    assert "Controls in force on 2019-07-04" in sec and "individual licence" in sec
    assert "record-2024-01-01 − national-only" in sec and "earlier" in sec


def test_the_notice_follows_the_data(
        compared: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    comparison, rows = compared
    changed = copy.deepcopy(comparison)
    sc = next(s for s in changed["scenarios"] if s["id"] == "2019-fluorine")
    n = len(sc["series"]["months"])
    sc["series"]["published"] = [True] * n
    sc["simulated"]["series_months_published"] = n
    sc["simulated"]["series_months_simulated"] = 0
    sc["title"] = "<b>injected</b>"
    sec = _section(render_comparison(changed, rows), "supply-2019-fluorine")
    assert 'fill="white"' not in sec and "0 are SIMULATED" in sec
    assert "<b>injected</b>" not in sec and "&lt;b&gt;injected" in sec


def test_cyber_section_and_determinism(
        compared: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    comparison, rows = compared
    html = render_comparison(comparison, rows)
    assert html == render_comparison(comparison, rows)
    sec = _section(html, "cyber-bybit-2025-replay")
    assert SIMULATED_NOTICE in sec and "exercise script" in sec
    assert "0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2" in sec
    assert "only with sharing" in sec  # Japan learns the exploiter address only so


def test_price_series_is_sourced_shown_as_context_and_marked_simulated(
        compared: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    spec = shipped_series()["gallium-price-rotterdam"]
    assert spec.measure == "price"
    assert all(p.source.startswith("https://") for p in spec.published)
    comparison, rows = compared
    sec = _section(render_comparison(comparison, rows), "supply-2023-gallium")
    ctx = sec[sec.index("Context (price"):]
    built = build(spec, run_seed(0, 0))
    n_sim = built.published.count(False)
    assert n_sim > 0 and f"{n_sim} are SIMULATED" in ctx and SIMULATED_NOTICE in ctx
    assert ctx.count('fill="white"') == n_sim
    assert "575 USD/kg" in ctx and "republicofmining.com" in ctx


def test_missile_comparisons_are_left_alone() -> None:
    comparison = {"scenarios": [{"id": "a", "title": "t", "launches": []}],
                  "results": [{"scenario": "a"}]}
    missile, rows, others = split_domains(comparison, [{"scenario": "a"}])
    assert others == [] and missile["results"] == comparison["results"] and len(rows) == 1
