"""The regime-comparison report (`trilink.report.comparison`), from synthetic comparisons:
sections, every regime and nation, embedded figures, no external resources, escaping,
determinism, nulls, and headlines that pick a significant difference or say there is none.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import math
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from trilink.report.comparison import render_comparison, write_comparison_report
from trilink.report.comparison_data import (
    Stat,
    describe_ci,
    describe_diff,
    headlines,
    metric_info,
    parse_comparison,
    pooled,
    pooled_diff,
    t_interval,
)
from trilink.report.comparison_figs import MAX_LAUNCH_PANELS, curve_points, known_curve

SECTIONS = ("headlines", "glance", "lead", "known", "tables", "notes")
REGIMES = [
    ("national-only", "National only", "No sharing at all."),
    ("bilateral-us", "Bilateral with the US", "Japan and the ROK each share with the US."),
    ("tisa-relay", "TISA relay through the US", "Japan <-> ROK only through the US."),
    ("gsomia-direct", "GSOMIA direct", "Japan <-> ROK directly, not in real time."),
    ("trilateral-realtime", "Real-time trilateral (2023-12-19)", "Every agreement."),
    ("trilateral-realtime-aus", "Real-time trilateral plus a partner", "Hypothetical AUS."),
]
# Delay (s) after which a nation gets a partner's track, per regime: (to JPN/KOR from the US,
# between JPN and KOR); None = never.
_DELAYS: dict[str, tuple[float | None, float | None]] = {
    "national-only": (None, None), "bilateral-us": (6.0, None),
    "tisa-relay": (6.0, 3600.0), "gsomia-direct": (6.0, 240.0),
    "trilateral-realtime": (2.0, 2.0), "trilateral-realtime-aus": (2.0, 2.0),
}
_REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


def _summary(values: list[float | None], confidence: float) -> tuple[int, float | None,
                                                                     float | None, float | None]:
    v = np.array([x for x in values if x is not None], dtype=float)
    if len(v) == 0:
        return 0, None, None, None
    if len(v) == 1:
        return 1, float(v[0]), None, None
    half = float(stats.t.ppf(0.5 + confidence / 2, len(v) - 1)) * float(
        v.std(ddof=1)) / math.sqrt(len(v))
    return len(v), float(v.mean()), float(v.mean()) - half, float(v.mean()) + half


def synthetic(runs: int = 40, launches: int = 2, regimes: int = 6, seed: int = 1,
              confidence: float = 0.95, baseline: str = "tisa-relay"
              ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A plausible comparison: the US sees first, Japan and Korea get partner tracks with
    each regime's delay; Japan is threatened (overflight) by odd launches. Common random
    numbers: the same draws for every regime of a run."""
    rng = np.random.default_rng(seed)
    chosen = REGIMES[:regimes]
    if baseline not in [r[0] for r in chosen]:
        baseline = chosen[0][0]
    nations = ["USA", "JPN", "KOR"]
    rows: list[dict[str, Any]] = []
    lts = []
    for k in range(launches):
        lid = f"L{k + 1}"
        flight = 1300.0 if k % 2 == 0 else 420.0
        lts.append({"id": lid, "missile": "hwasong-12" if k % 2 == 0 else "kn-23",
                    "launch_utc": f"2022-10-04T{22 + k // 60:02d}:{k % 60:02d}:00Z",
                    "flight_time_s": flight})
        for run in range(runs):
            own = {"USA": 35 + rng.normal(0, 4), "JPN": 95 + rng.normal(0, 15),
                   "KOR": 52 + rng.normal(0, 6)}
            if rng.random() < 0.1:
                own["JPN"] = math.inf  # Japan's radars never see it in this run
            overflight = 420.0 + rng.normal(0, 5)
            error_km = 80 + rng.normal(0, 5)      # the same draw for every regime
            for rid, _name, _desc in chosen:
                us_d, jk_d = _DELAYS[rid]
                if us_d is not None:   # each regime's own link latency in this run
                    us_d += rng.exponential(3.0)
                if jk_d is not None:
                    jk_d += rng.exponential(2.0)
                for n in nations + (["AUS"] if rid.endswith("-aus") else []):
                    t_own = own.get(n, 140 + rng.normal(0, 1))
                    cands = [t_own]
                    if n in ("JPN", "KOR") and us_d is not None:
                        cands.append(own["USA"] + us_d)
                    if n in ("JPN", "KOR") and jk_d is not None:
                        cands.append(own["KOR" if n == "JPN" else "JPN"] + jk_d)
                    if n == "USA" and us_d is not None:
                        cands += [own["JPN"] + us_d, own["KOR"] + us_d]
                    known = min(cands)
                    known_v = known if math.isfinite(known) and known < flight else None
                    threatened = n == "JPN" and k % 2 == 0
                    warn = None if known_v is None else known_v + 25.0
                    vals: dict[str, float | None] = {
                        "first_detection_s": t_own if math.isfinite(t_own) else None,
                        "first_known_s": known_v,
                        "first_warning_s": warn if threatened else None,
                        "warning_lead_s": (overflight - warn if threatened and warn is not None
                                           and warn < overflight else None),
                        "track_continuity": 0.9 if known_v is not None else 0.0,
                        "false_alarms": 0.0,
                        "impact_error_km_at_120s": (
                            None if known_v is None or known_v > 120
                            else error_km - (6.0 if known_v < t_own - 1 else 0.0)),
                    }
                    for m, v in vals.items():
                        rows.append({"scenario": "sc-1", "launch": lid, "nation": n,
                                     "regime": rid, "run": run, "metric": m, "value": v})
    results = _results(rows, baseline, confidence)
    comparison = {
        "schema_version": 1,
        "scenarios": [{"id": "sc-1", "title": "Synthetic overflight study", "launches": lts}],
        "regimes": [{"id": r, "name": nm, "description": d} for r, nm, d in chosen],
        "baseline": baseline, "runs": runs, "seed": seed, "confidence": confidence,
        "results": results,
    }
    return comparison, rows


def _results(rows: list[dict[str, Any]], baseline: str, confidence: float
             ) -> list[dict[str, Any]]:
    """Summary statistics and paired differences, as comparison.json holds them."""
    table: dict[tuple[str, str, str, str, str], dict[int, float | None]] = {}
    for r in rows:
        key = (r["scenario"], r["launch"], r["nation"], r["regime"], r["metric"])
        table.setdefault(key, {})[r["run"]] = r["value"]
    out = []
    for key, per_run in table.items():
        n, mean, lo, hi = _summary(list(per_run.values()), confidence)
        res: dict[str, Any] = dict(zip(("scenario", "launch", "nation", "regime", "metric"),
                                       key, strict=True))
        res.update(n=n, mean=mean, ci_low=lo, ci_high=hi, diff_mean=None, diff_ci_low=None,
                   diff_ci_high=None, diff_n=0)
        base = table.get((*key[:3], baseline, key[4]))
        if key[3] != baseline and base is not None:
            diffs: list[float | None] = [
                v - b for run, v in per_run.items()
                if v is not None and (b := base.get(run)) is not None]
            dn, dm, dlo, dhi = _summary(diffs, confidence)
            res.update(diff_mean=dm, diff_ci_low=dlo, diff_ci_high=dhi, diff_n=dn)
        out.append(res)
    return out


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.style = ""
        self.text: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
        else:
            self.text.append(data)


def _parse(page: str) -> _Tags:
    p = _Tags()
    p.feed(page)
    return p


def _external(page: str) -> list[str]:
    p = _parse(page)
    found = []
    for tag, attrs in p.tags:
        for name in ("src", "srcset", "data", "poster", "background", "href"):
            if name in attrs and (_REMOTE.match(attrs[name]) or
                                  (name == "href" and not attrs[name].startswith("#"))):
                found.append(f"{tag} {name}={attrs[name]}")
        if tag in ("link", "script", "iframe", "object", "embed", "base"):
            found.append(tag)
        if "url(" in attrs.get("style", ""):
            found.append(f"{tag} style")
    if "url(" in p.style or "@import" in p.style:
        found.append("style url/import")
    return found


def _svgs(page: str) -> list[str]:
    return [base64.b64decode(m).decode("utf-8")
            for m in re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page)]


@pytest.fixture(scope="module")
def sample() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return synthetic()


@pytest.fixture(scope="module")
def page(sample: tuple[dict[str, Any], list[dict[str, Any]]]) -> str:
    return render_comparison(*sample)


# ---------------------------------------------------------------------------- the page
def test_sections_regimes_nations_and_figures(page: str) -> None:
    for sec in SECTIONS:
        assert f'id="{sec}"' in page, sec
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<figure") == 2 and 'id="fig-bars"' in page and 'id="fig-known"' in page
    svgs = _svgs(page)
    assert len(svgs) == 2 and all(s.lstrip().startswith("<svg") for s in svgs)
    text = " ".join(_parse(page).text)
    for rid, name, _desc in REGIMES:
        assert rid in text and name in text, rid
    for n in ("USA", "JPN", "KOR", "AUS"):
        assert n in text, n
    assert "Runs" in text or "runs" in text
    assert "95\u202f%" in text and "tisa-relay" in text
    # one table per launch and nation, plus the pooled ones (two launches)
    assert page.count("<details") == 3
    assert "Warning lead" in text and "First known" in text and "not threatened" in text


def test_no_external_resources(page: str) -> None:
    assert _external(page) == []
    for svg in _svgs(page):
        assert not re.search(r'href="(?!#)', svg), "SVG links outside itself"
        assert "<image" not in svg and "@import" not in svg and "url(http" not in svg


def test_headline_picks_a_significant_difference(
        sample: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    comp = parse_comparison(*sample)
    lines = [h for h in headlines(comp) if h.nation == "JPN"]
    assert [h.kind for h in lines] == ["gain", "loss"]
    gain, loss = lines
    # the largest significant gain in seconds, cross-checked against the results
    sig = [r for r in sample[0]["results"]
           if r["nation"] == "JPN" and r["diff_ci_low"] is not None
           and r["metric"] in ("first_known_s", "warning_lead_s", "first_warning_s")
           and (r["diff_ci_low"] > 0 or r["diff_ci_high"] < 0)]
    better = [r for r in sig if (r["diff_mean"] > 0) == (r["metric"] == "warning_lead_s")]
    top = max(better, key=lambda r: abs(r["diff_mean"]))
    m = re.fullmatch(r"launch L\d: (first known|warning lead|first warning) ([\d.]+)\u202fs "
                     r"(earlier|longer) under ([\w-]+) than under tisa-relay "
                     r"\[95\u202f% CI ([\d.]+)–([\d.]+)\u202fs\]\. \(\d+ of \d+ "
                     r"comparisons with the baseline significant: \d+ better, \d+ worse\.\)",
                     gain.text)
    assert m, gain.text
    assert m.group(4) == top["regime"]
    assert float(m.group(2)) == pytest.approx(abs(top["diff_mean"]), abs=0.51)
    assert float(m.group(5)) <= float(m.group(2)) <= float(m.group(6))
    # losing the US (national-only) costs Japan warning time
    assert "under national-only than under tisa-relay" in loss.text
    assert "shorter" in loss.text or "later" in loss.text


def test_headline_says_no_significant_difference() -> None:
    comp, rows = synthetic(runs=12, launches=1, regimes=3, baseline="bilateral-us")
    # only the US row matters here: make every US difference straddle 0
    for r in comp["results"]:
        if r["nation"] == "USA" and r["diff_mean"] is not None:
            r["diff_mean"], r["diff_ci_low"], r["diff_ci_high"] = 0.5, -2.0, 3.0
    by_nation = {h.nation: h for h in headlines(parse_comparison(comp, rows))}
    assert not by_nation["USA"].significant
    assert "no significant difference" in by_nation["USA"].text
    page = render_comparison(comp, rows)
    assert "no significant difference from the baseline bilateral-us" in page


def test_describe_diff_wording() -> None:
    m = metric_info("first_known_s")
    d = Stat(30, -48.2, -55.4, -40.1)
    assert describe_diff(m, d) == "first known 48\u202fs earlier"
    assert describe_ci(m, d, "95\u202f%") == "[95\u202f% CI 40–55\u202fs]"
    lead = Stat(30, 31.0, 20.0, 42.0)
    assert describe_diff(metric_info("warning_lead_s"), lead) == "warning lead 31\u202fs longer"
    rate = Stat(30, -0.12, -0.2, -0.04)
    assert describe_diff(metric_info("missed_warnings"), rate) == (
        "missed-warning rate 12\u202fpercentage points lower")
    assert describe_ci(metric_info("missed_warnings"), rate, "95 %") == "[95 % CI 4–20\u202fpp]"
    fa = describe_diff(metric_info("false_alarms"), Stat(30, 0.25, 0.1, 0.4))
    assert fa == "0.25 more false alarms per run"
    assert describe_ci(m, Stat(1, 3.0), "95 %") == ""


def test_deterministic_across_processes(
        sample: tuple[dict[str, Any], list[dict[str, Any]]], page: str, tmp_path: Path) -> None:
    assert render_comparison(*copy.deepcopy(sample)) == page
    path = write_comparison_report(*sample, tmp_path)
    assert path == tmp_path / "report.html" and path.read_text(encoding="utf-8") == page
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    code = ("import sys, hashlib; sys.path.insert(0, sys.argv[1]);"
            "from test_report_comparison import synthetic;"
            "from trilink.report.comparison import render_comparison;"
            "print(hashlib.sha256(render_comparison(*synthetic()).encode()).hexdigest())")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)],
                         capture_output=True, text=True, env=env, check=True).stdout.strip()
    assert out == hashlib.sha256(page.encode()).hexdigest()


def test_hostile_text_is_escaped() -> None:
    comp, rows = synthetic(runs=5, launches=1, regimes=2)
    evil = '<script>alert("x")</script> & $\\frac{1}{0}$ --> <img src=//evil.example/x>'
    comp["scenarios"][0]["title"] = evil
    comp["regimes"][0]["name"] = evil
    comp["regimes"][1]["description"] = evil
    old = comp["regimes"][0]["id"]
    new = 'r<b>"1"</b>$x$'
    comp["regimes"][0]["id"] = new
    if comp["baseline"] == old:
        comp["baseline"] = new
    for r in comp["results"]:
        if r["regime"] == old:
            r["regime"] = new
    for r in rows:
        if r["regime"] == old:
            r["regime"] = new
    comp["scenarios"][0]["launches"][0]["missile"] = "<i>kn</i>"
    page = render_comparison(comp, rows)
    assert "<script" not in page and "<b>&quot;" not in page and '<b>"1"' not in page
    assert "<i>kn" not in page and "<img src=//evil" not in page
    assert "&lt;script&gt;" in page and "r&lt;b&gt;&quot;1&quot;&lt;/b&gt;$x$" in page
    assert _external(page) == []
    assert len(_svgs(page)) == 2


# ---------------------------------------------------------------------------- robustness
def test_nulls_zero_n_one_regime_one_run() -> None:
    comp, rows = synthetic(runs=1, launches=1, regimes=1)
    comp["results"].append({"scenario": "sc-1", "launch": "L1", "nation": "JPN",
                            "regime": "national-only", "metric": "first_partner_track_s",
                            "n": 0, "mean": None, "ci_low": None, "ci_high": None,
                            "diff_mean": None, "diff_ci_low": None, "diff_ci_high": None,
                            "diff_n": None})
    comp["results"].append({"nation": None, "regime": None})     # junk: ignored
    comp["results"].append("not a dict")
    rows.append({"scenario": "sc-1", "launch": "L1", "nation": "JPN", "regime":
                 "national-only", "run": "0", "metric": "first_known_s", "value": ""})
    page = render_comparison(comp, rows)
    assert "only one regime was run" in page and "nothing to compare against" in page
    assert "never" in page          # n == 0
    for sec in SECTIONS:
        assert f'id="{sec}"' in page


def test_empty_and_malformed_inputs() -> None:
    for comparison in ({}, {"results": None, "regimes": "x", "scenarios": [None],
                            "confidence": "high", "runs": -3, "baseline": None}):
        page = render_comparison(comparison, [])
        assert page.startswith("<!DOCTYPE html>") and len(_svgs(page)) == 1
        assert "No results in the comparison" in page


def test_results_without_rows_still_draw_bars() -> None:
    comp, _rows = synthetic(runs=10, launches=1, regimes=3)
    page = render_comparison(comp, [])
    assert "need them" in page            # no curves without per-run rows
    assert page.count("<figure") == 1 and len(_svgs(page)) == 1
    assert "first known" in page


def test_many_launches_pool_and_collapse() -> None:
    comp, rows = synthetic(runs=6, launches=23, regimes=3, baseline="national-only")
    page = render_comparison(comp, rows)
    assert MAX_LAUNCH_PANELS < 23 and "All 23 launches pooled" in page
    assert page.count("<details") == 24 and "<details id=\"launch-1\">" in page
    assert '<details id="pooled" open>' in page
    assert len(page) < 3_000_000


def test_pooling_pairs_runs_and_launches() -> None:
    comp, rows = synthetic(runs=20, launches=3, regimes=3, baseline="national-only")
    c = parse_comparison(comp, rows)
    v = pooled(c, "KOR", "tisa-relay", "first_known_s", c.launches)
    d = pooled_diff(c, "KOR", "tisa-relay", "first_known_s", c.launches)
    assert v.n == 20 and v.has_ci and d is not None and d.mean is not None
    # hand computation: per run the mean over launches of (regime - baseline)
    per_run = []
    for run in range(20):
        diffs = []
        for lc in ("L1", "L2", "L3"):
            a = next(r["value"] for r in rows if r["run"] == run and r["launch"] == lc
                     and r["nation"] == "KOR" and r["regime"] == "tisa-relay"
                     and r["metric"] == "first_known_s")
            b = next(r["value"] for r in rows if r["run"] == run and r["launch"] == lc
                     and r["nation"] == "KOR" and r["regime"] == "national-only"
                     and r["metric"] == "first_known_s")
            if a is not None and b is not None:
                diffs.append(a - b)
        per_run.append(sum(diffs) / len(diffs))
    assert d.mean == pytest.approx(float(np.mean(per_run)))
    assert d.significant and d.mean < 0       # the US relay makes Korea know earlier
    assert pooled_diff(c, "KOR", "national-only", "first_known_s", c.launches) is None


def test_t_interval_and_curve_points() -> None:
    assert t_interval([], 0.95) == Stat(0)
    assert t_interval([3.0], 0.95) == Stat(1, 3.0)
    s = t_interval([1.0, 2.0, 3.0, 4.0], 0.95)
    assert s.mean == 2.5 and s.low == pytest.approx(2.5 - 3.182446 * 1.290994 / 2, rel=1e-5)
    xs, ys = curve_points([10.0, 20.0, 20.0], 4, 100.0)
    assert list(xs) == [0.0, 10.0, 20.0, 100.0]
    assert list(ys) == [0.0, 0.25, 0.75, 0.75]       # a never-known run keeps it below 1


def test_curves_stay_below_one_when_never_known(
        sample: tuple[dict[str, Any], list[dict[str, Any]]], page: str) -> None:
    comp = parse_comparison(*sample)
    values, total = known_curve(comp, "JPN", "national-only")
    assert 0 < len(values) < total          # Japan's radars miss it in some runs
    assert re.search(r"\d+\u202f%</span> known", page)


def test_one_run_many_regimes_and_nan() -> None:
    comp, rows = synthetic(runs=1, launches=1, regimes=4)
    comp["results"][0]["mean"] = float("nan")
    comp["results"][1]["ci_low"] = float("inf")
    rows[0]["value"] = float("nan")
    c = parse_comparison(comp, rows)
    assert all(not h.significant for h in headlines(c))
    assert any("could be estimated" in h.text for h in headlines(c))
    page = render_comparison(comp, rows)
    assert not re.search(r"\b(nan|inf)\b", page, re.IGNORECASE)
    assert len(_svgs(page)) == 2


def test_rows_as_read_from_csv_give_the_same_page(
        sample: tuple[dict[str, Any], list[dict[str, Any]]], page: str) -> None:
    comparison, rows = sample
    as_csv = [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]
    assert render_comparison(comparison, as_csv) == page
