"""The self-contained HTML report of a regime comparison: ``DIR/report.html`` of
``trilink compare``.

It answers "what does each agreement buy each nation?": headlines generated from the data
(the largest significant difference to the baseline per nation), a table of what each
regime changes for each nation, bars of warning lead and first-known time with their
intervals, cumulative "knows about the missile" curves, and per launch and nation every
metric under every regime with its paired difference to the baseline.

Like the run report, the page needs nothing else: figures are SVG embedded as ``data:``
images (:mod:`trilink.report.svgfig`), the style is inline (the run report's
:data:`~trilink.report.page.CSS` plus a few rules), there are no scripts and no links.
The same inputs give the same bytes; all text from the inputs is escaped.

API::

    from trilink.report.comparison import render_comparison, write_comparison_report
    html = render_comparison(comparison, rows)             # the whole document, a str
    path = write_comparison_report(comparison, rows, out)  # out/report.html, atomically
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

from trilink import __version__
from trilink.report.comparison_data import (
    Comparison,
    LaunchInfo,
    Metric,
    Stat,
    headlines,
    interval_text,
    metric_info,
    parse_comparison,
    pooled,
    pooled_diff,
)
from trilink.report.comparison_domains import domain_header, domain_sections, split_domains
from trilink.report.comparison_figs import (
    bar_panels,
    draw_bars,
    draw_known_curves,
    known_curve,
    regime_colours,
    uses_sqrt_axis,
)
from trilink.report.files import write_atomic
from trilink.report.fmt import DASH, nation_colour, nation_name, tplus
from trilink.report.page import CSS, esc
from trilink.report.svgfig import figure_html, style, svg_bytes

__all__ = ["REPORT_NAME", "render_comparison", "write_comparison_report"]

REPORT_NAME = "report.html"
OPEN_LAUNCHES = 4
"""Per-launch tables start open up to this many launches (collapsed above)."""

CSS_EXTRA = """
.regimes td.id{white-space:nowrap;font-weight:600}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-1px;
margin-right:6px}
.base{display:inline-block;font-size:11px;padding:0 5px;border:1px solid var(--muted);
border-radius:3px;color:var(--muted);margin-left:6px;font-weight:400}
ul.hl{margin:6px 0 4px;padding-left:20px}
ul.hl li{margin:5px 0}
ul.hl li.ns{color:var(--muted)}
.v{font-weight:600;font-variant-numeric:tabular-nums}
.ci{color:var(--muted);font-variant-numeric:tabular-nums;white-space:nowrap}
.nn{display:block;font-size:11.5px;color:var(--muted)}
.d{display:block;font-size:12px;color:var(--muted);font-variant-numeric:tabular-nums}
.d.better{color:#1a7f37;font-weight:600}.d.worse{color:#b42318;font-weight:600}
td.best{background:#e3f1e6 !important;box-shadow:inset 3px 0 0 #1a7f37}
table.cmp{font-size:13px}
table.cmp th,table.cmp td{padding:5px 6px}
table.cmp th[scope=row]{font-weight:600}
table.cmp thead th{min-width:84px}
table.cmp .v{white-space:nowrap}
p.nn{margin:-12px 0 16px}
th .nm{display:block;font-weight:400;font-size:11.5px;color:var(--muted);
white-space:normal}
.tag{display:inline-block;font-size:11px;padding:0 5px;border-radius:3px;color:#fff;
vertical-align:1px}.tag.better{background:#1a7f37}.tag.worse{background:#b42318}
.legend-note{font-size:13px;color:var(--muted)}
"""


# ---------------------------------------------------------------------------- helpers
def _nation(code: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9]", "", code)
    return (f'<span class="nat nat-{safe}" style="color:{nation_colour(code)}">'
            f"{esc(code)}</span>")


def _swatch(colour: str) -> str:
    return f'<span class="sw" style="background:{colour}"></span>'


def _table(caption: str, head: Sequence[str], rows: Iterable[Sequence[str]],
           cls: str = "", row_headers: bool = False) -> str:
    """A table of HTML cells; a cell may bring its own attributes as ``'<td …>'``."""
    th = "".join(f'<th scope="col">{h}</th>' for h in head)
    body = []
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            if c.startswith("<td"):
                cells.append(c)
            elif i == 0 and row_headers:
                cells.append(f'<th scope="row">{c}</th>')
            else:
                cells.append(f"<td>{c}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    klass = f' class="{cls}"' if cls else ""
    return (f'<div class="scroll"><table{klass}><caption>{caption}</caption>'
            f"<thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def _ci(m: Metric, st: Stat) -> str:
    if st.low is None or st.high is None or st.low == st.high:
        return ""
    text = interval_text(m, m.scaled(st.low), m.scaled(st.high), "")
    return f' <span class="ci">[{esc(text)}]</span>'


def _verdict(m: Metric, d: Stat) -> tuple[str, str]:
    """(css class, word) of a difference: better / worse / n.s."""
    if d.mean is None or not d.has_ci:
        return ("", "")
    if not d.significant:
        return ("", "n.s.")
    if m.better == 0:
        return ("", "significant")
    better = (d.mean < 0) == (m.better < 0)
    return ("better", "better") if better else ("worse", "worse")


def _diff_line(m: Metric, d: Stat | None) -> str:
    if d is None or d.mean is None:
        return f'<span class="d">Δ {DASH}</span>'
    cls, word = _verdict(m, d)
    ci = ""
    if d.low is not None and d.high is not None and d.low == d.high:
        if d.mean == 0:
            return '<span class="d">Δ 0 in every run</span>'
        ci = " in every run"
    elif d.low is not None and d.high is not None:
        ci = " [" + interval_text(m, m.scaled(d.low), m.scaled(d.high), "") + "]"
    tail = f" · {word}" if word else ""
    klass = f"d {cls}" if cls else "d"
    return f'<span class="{klass}">Δ {esc(m.diff_text(d.mean))}{esc(ci)}{esc(tail)}</span>'


def _is_baseline(comp: Comparison, regime: str) -> bool:
    return bool(comp.baseline) and regime == comp.baseline


def _regime_head(comp: Comparison, regime: str) -> str:
    colours = regime_colours(comp.regime_ids)
    base = '<span class="base">baseline</span>' if _is_baseline(comp, regime) else ""
    name = comp.regime(regime).name
    nm = f'<span class="nm">{esc(name)}</span>' if name and name != regime else ""
    return f"{_swatch(colours[regime])}{esc(regime)}{base}{nm}"


# ---------------------------------------------------------------------------- header
def _title(comp: Comparison) -> str:
    if len(comp.scenarios) == 1:
        sc = comp.scenarios[0]
        return sc.title or sc.id or "Untitled scenario"
    return f"{len(comp.scenarios)} scenarios"


def _facts(comp: Comparison) -> str:
    baseline = comp.baseline or DASH
    facts = [
        ("Scenarios", ", ".join(s.id for s in comp.scenarios) or DASH),
        ("Launches", str(len(comp.launches))),
        ("Nations", ", ".join(comp.nations) or DASH),
        ("Regimes compared", str(len(comp.regimes))),
        ("Baseline", baseline),
        ("Monte Carlo runs", DASH if comp.runs is None else f"{comp.runs:,} per regime"),
        ("Seed", comp.seed or DASH),
        ("Confidence level", comp.conf_text),
    ]
    dl = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in facts)
    return f'<dl class="facts">{dl}</dl>'


def _regimes_table(comp: Comparison) -> str:
    if not comp.regimes:
        return '<p class="muted">No regimes in the comparison.</p>'
    colours = regime_colours(comp.regime_ids)
    rows = []
    for r in comp.regimes:
        base = '<span class="base">baseline</span>' if _is_baseline(comp, r.id) else ""
        rows.append([f'<td class="id">{_swatch(colours[r.id])}{esc(r.id)}{base}</td>',
                     esc(r.name), esc(r.description) or DASH])
    return _table("The data-sharing regimes compared (colours as in the figures)",
                  ["Regime", "Name", "What is shared"], rows, cls="regimes")


def _headlines(comp: Comparison) -> str:
    items = []
    tags = {"gain": '<span class="tag better">better</span> ',
            "loss": '<span class="tag worse">worse</span> '}
    for h in headlines(comp):
        cls = "" if h.significant else ' class="ns"'
        items.append(f"<li{cls}>{tags.get(h.kind, '')}{_nation(h.nation)}, {esc(h.text)}</li>")
    if not items:
        items.append('<li class="ns">No results to summarise.</li>')
    note = (f"Per nation, the largest gain and the largest loss against the baseline whose "
            f"{esc(comp.conf_text)} paired interval excludes 0, chosen first among warning "
            "lead, first known and first warning (all in seconds). Differences are regime "
            "minus baseline over the same runs; “launch” is one launch of the scenario.")
    return (f'<section class="outcome" id="headlines"><h2>Headlines</h2>'
            f'<ul class="hl">{"".join(items)}</ul><p class="legend-note">{note}</p></section>')


def _header(comp: Comparison) -> str:
    runs = "" if comp.runs is None else f"{comp.runs:,} Monte Carlo runs, "
    desc = (f"Data-sharing regimes compared: {runs}each run seen by every regime with the "
            "same missile flights and the same sensor measurements (common random numbers), "
            "so that differences between regimes come from what is shared alone.")
    return (f'<header><p class="kicker">trilink regime comparison</p>'
            f"<h1>{esc(_title(comp))}</h1><p class=desc>{esc(desc)}</p>{_facts(comp)}"
            f"{_headlines(comp)}{_regimes_table(comp)}</header>")


def _nav() -> str:
    items = [("glance", "1 What each regime buys"), ("lead", "2 Warning lead and first known"),
             ("known", "3 Knowing over time"), ("tables", "4 All metrics"),
             ("notes", "5 Notes")]
    lis = "".join(f'<li><a href="#{a}">{esc(t)}</a></li>' for a, t in items)
    return f'<nav aria-label="Contents"><ol>{lis}</ol></nav>'


# ---------------------------------------------------------------------------- glance
def _value_diff(comp: Comparison, nation: str, regime: str, metric: str,
                launches: Sequence[LaunchInfo]) -> tuple[Stat, Stat | None]:
    """One launch: the comparison's figures; several: pooled over the runs."""
    if len(launches) == 1:
        return comp.result(launches[0], nation, regime, metric)
    return (pooled(comp, nation, regime, metric, launches),
            pooled_diff(comp, nation, regime, metric, launches))


def _counts(comp: Comparison, nation: str, regime: str) -> tuple[int, int, int]:
    """(significantly better, significantly worse, tested) over launches and metrics."""
    better = worse = tested = 0
    for lc in comp.launches:
        for m in comp.metrics:
            d = comp.result(lc, nation, regime, m)[1]
            if d is None or not d.has_ci:
                continue
            tested += 1
            cls, _ = _verdict(metric_info(m), d)
            better += cls == "better"
            worse += cls == "worse"
    return better, worse, tested


def _glance_cell(comp: Comparison, nation: str, regime: str,
                 launches: Sequence[LaunchInfo], metrics: Sequence[str]) -> str:
    if not comp.in_regime(nation, regime):
        return '<span class="muted">not in this regime</span>'
    threatened = comp.threatened(launches, nation)
    base = _is_baseline(comp, regime)
    lines = []
    for m in metrics:
        info = metric_info(m)
        if m == "warning_lead_s" and not threatened:
            if base:
                lines.append('<span class="d">not threatened</span>')
            continue
        v, d = _value_diff(comp, nation, regime, m, launches)
        if base:
            lines.append(f'<span class="d">{esc(info.label)} '
                         f'<span class="v">{esc(info.value_text(v.mean))}</span></span>')
        elif not comp.in_regime(nation, comp.baseline):
            lines.append(f'<span class="d">{esc(info.label)} '
                         f'<span class="v">{esc(info.value_text(v.mean))}</span> '
                         "(no baseline)</span>")
        else:
            lines.append(_diff_line(info, d).replace("Δ ", f"{esc(info.label)} ", 1))
    if not base:
        better, worse, tested = _counts(comp, nation, regime)
        lines.append(f'<span class="nn">{better} better, {worse} worse of {tested} '
                     "tested</span>" if tested else '<span class="nn">none tested</span>')
    return "".join(lines) or DASH


def glance_section(comp: Comparison) -> str:
    """Section 1: regime × nation, what each regime changes against the baseline."""
    head_html = '<section id="glance"><h2>1. What each regime buys each nation</h2>'
    others = [g for g in comp.regime_ids if not _is_baseline(comp, g)]
    if not comp.baseline or not others or not comp.nations:
        return (head_html + '<p class="muted">Only one regime (or no baseline): there is '
                "nothing to compare against.</p></section>")
    launches = comp.launches
    pooled_note = ("" if len(launches) == 1 else
                   f" Over the {len(launches)} launches the runs are pooled: per run the mean "
                   "over the launches (paired launch by launch for differences), then the "
                   "mean over runs with its t interval.")
    metrics = [m for m in ("first_known_s", "warning_lead_s") if m in comp.metrics]
    rows = []
    for g in [comp.baseline, *others]:
        rows.append([_regime_head(comp, g)]
                    + [_glance_cell(comp, n, g, launches, metrics) for n in comp.nations])
    head = ["Regime"] + [f"{_nation(n)} <span class=muted>{esc(nation_name(n))}</span>"
                         for n in comp.nations]
    table = _table(f"The baseline {esc(comp.baseline)}'s means, and each regime's difference "
                   f"to it (regime minus baseline, {esc(comp.conf_text)} interval)", head, rows,
                   cls="glance cmp", row_headers=True)
    return (head_html + "<p>For each nation, how much earlier it knows about the missile "
            "and how much more warning it gets under each regime than under the baseline "
            "(first row). <span class='d better' style='display:inline'>Green</span>: "
            "significantly better; <span class='d worse' style='display:inline'>red</span>: "
            "significantly worse; grey: the interval includes 0 (n.s.). The last line of a "
            "cell counts the significant differences over every launch and metric of "
            "section 4." + esc(pooled_note) + f"</p>{table}</section>")


# ---------------------------------------------------------------------------- figures
def _bars_alt(comp: Comparison) -> str:
    return (f"Bar charts of warning lead and first-known time for {len(comp.nations)} "
            f"nation(s) under {len(comp.regimes)} regime(s), with "
            f"{comp.conf_text} confidence intervals as error bars.")


def _curves_alt(comp: Comparison) -> str:
    return (f"Cumulative curves, one panel per nation ({', '.join(comp.nations)}): the "
            "share of runs and launches in which the nation knew about the missile, by time "
            f"after launch, one curve per regime ({', '.join(comp.regime_ids)}).")


def lead_section(comp: Comparison, figure: str) -> str:
    """Section 2: the bars."""
    pooled_rows = len(comp.launches) > len(bar_panels(comp)) and comp.launches
    how = (f"With {len(comp.launches)} launches the bars are pooled over all launches (per "
           "run the mean over the launches where the metric is defined, then the mean over "
           "runs); the per-launch values are in section 4."
           if pooled_rows else "One row of panels per launch.")
    return ('<section id="lead"><h2>2. Warning lead and first known</h2>'
            "<p>Left: <b>warning lead</b>, the seconds of warning a nation had before the "
            "overflight or impact that threatened it (longer is better). It exists only "
            "where the missile threatened the nation; elsewhere the panel says "
            "<i>not threatened</i>. Right: <b>first known</b>, when the first track of any "
            "origin, its own or a partner's, reached the nation's picture (earlier is "
            "better). It is shown for every nation, threatened or not. Bars are means over "
            "the runs where the metric was defined; error bars are the "
            f"{esc(comp.conf_text)} intervals; × marks a regime under which it never "
            f"happened. {esc(how)}</p>{figure}</section>")


def _curve_table(comp: Comparison) -> str:
    rows = []
    for nation in comp.nations:
        cells = [_nation(nation)]
        for g in comp.regime_ids:
            values, total = known_curve(comp, nation, g)
            if total == 0:
                cells.append(f'<td class="muted">{DASH}</td>')
                continue
            share = len(values) / total

            def by(q: float, values: list[float] = values, total: int = total) -> str:
                k = math.ceil(q * total)
                return tplus(values[k - 1]) if 0 < k <= len(values) else "never"
            cells.append(f'<span class="v">{share * 100:.0f}\u202f%</span> known'
                         f'<span class="nn">half by {esc(by(0.5))}, 90\u202f% by '
                         f"{esc(by(0.9))}</span>")
        rows.append(cells)
    return _table("Share of runs × launches in which the nation knew about the missile at "
                  "all, and when half and 90 % of them did",
                  ["Nation"] + [_regime_head(comp, g) for g in comp.regime_ids], rows,
                  cls="cmp")


def known_section(comp: Comparison, figure: str) -> str:
    """Section 3: the cumulative curves and their summary table."""
    x_max = comp.max_time_s()
    axis = ("The time axis is square-root scaled (flights over 15 minutes), so that the "
            "first minutes stay readable." if uses_sqrt_axis(x_max) else
            "The time axis is linear.")
    end = ("the longest flight" if any(lc.flight_time_s for lc in comp.launches)
           else "the latest time any run recorded")
    has_rows = any(m == "first_known_s" for (_n, _g, m) in comp.samples)
    body = (f"{figure}{_curve_table(comp)}" if has_rows else
            '<p class="muted">No per-run rows of first_known_s were given: the curves need '
            "them.</p>")
    return ('<section id="known"><h2>3. Knowing about the missile, over time</h2>'
            "<p>For each nation, one step curve per regime: the share of all runs × launches "
            "in which the nation knew about the missile (a track of any origin in its "
            f"picture) by each time after launch, from launch to {esc(end)} "
            f"({esc(tplus(x_max))}). A curve that ends below 100 % means some runs or "
            "launches in which the nation never knew. Curves lying on top of each other are "
            f"regimes that make no difference there. {esc(axis)}</p>{body}</section>")


# ---------------------------------------------------------------------------- tables
def _cell(comp: Comparison, m: Metric, regime: str, v: Stat, d: Stat | None, best: bool,
          total_runs: int | None, present: bool) -> str:
    if not present:
        return '<td><span class="muted">not in this regime</span></td>'
    if v.mean is None:
        what = "never" if m.kind == "time" else "undefined"
        return f'<td><span class="muted">{DASH} {what}</span>' + (
            "" if _is_baseline(comp, regime) else _diff_line(m, d)) + "</td>"
    text = f'<span class="v">{esc(m.value_text(v.mean))}</span>{_ci(m, v)}'
    if total_runs and 0 < v.n < total_runs:
        text += f'<span class="nn">in {v.n:,} of {total_runs:,} runs</span>'
    if not _is_baseline(comp, regime):
        text += _diff_line(m, d)
    return f'<td class="best">{text}</td>' if best else f"<td>{text}</td>"


def _best(m: Metric, values: Mapping[str, Stat]) -> set[str]:
    """Regimes with the best mean of a row, by the value as shown; none when more than half
    of the regimes share it (no best then)."""
    if m.better == 0:
        return set()
    shown = {g: m.value_text(v.mean) for g, v in values.items() if v.mean is not None}
    if len(shown) < 2 or len(set(shown.values())) == 1:
        return set()
    pick = min if m.better < 0 else max
    best_g = pick(shown, key=lambda g: values[g].mean or 0.0)
    best = {g for g, t in shown.items() if t == shown[best_g]}
    return best if len(best) <= max(1, len(shown) // 2) else set()


def _metrics_table(comp: Comparison, nation: str, caption: str,
                   launches: Sequence[LaunchInfo], total_runs: int | None) -> str:
    """Every metric of a nation under every regime it takes part in: one launch's figures,
    or the runs pooled over several launches."""
    rows = []
    undefined = []
    regimes = [g for g in comp.regime_ids
               if any(comp.present(nation, g, m, launches) for m in comp.metrics)]
    for mid in comp.metrics:
        if not comp.has_metric(nation, mid, launches):
            continue
        m = metric_info(mid)
        present = {g: comp.present(nation, g, mid, launches) for g in regimes}
        cells = {g: _value_diff(comp, nation, g, mid, launches) for g in regimes}
        if all(v.mean is None for g, (v, _d) in cells.items() if present[g]):
            why = ("not threatened" if mid == "warning_lead_s"
                   and not comp.threatened(launches, nation) else
                   "never" if m.kind == "time" else "undefined in every run")
            undefined.append(f"{m.label} ({why})")
            continue
        best = _best(m, {g: v for g, (v, _d) in cells.items() if present[g]})
        row = [f'<span title="{esc(m.doc)}">{esc(m.label)}</span>']
        row += [_cell(comp, m, g, v, d, g in best, total_runs, present[g])
                for g, (v, d) in cells.items()]
        rows.append(row)
    note = ("" if not undefined else
            f'<p class="nn">Under no regime: {esc("; ".join(undefined))}.</p>')
    if not rows:
        return f'<p class="muted">{caption}: no metric defined.</p>{note}'
    head = ["Metric"] + [_regime_head(comp, g) for g in regimes]
    absent = [g for g in comp.regime_ids if g not in regimes]
    if absent:
        note += (f'<p class="nn">{esc(nation)} takes no part in '
                 f'{esc(", ".join(absent))}.</p>')
    return _table(caption, head, rows, cls="cmp", row_headers=True) + note


def _launch_block(comp: Comparison, k: int, lc: LaunchInfo, open_: bool) -> str:
    tables = "".join(
        _metrics_table(comp, n,
                       f"{_nation(n)} {esc(nation_name(n))} — {esc(comp.launch_label(lc))}",
                       [lc], comp.runs)
        for n in comp.nations)
    bits = [comp.launch_title(lc)]
    if lc.utc_text():
        bits.append(lc.utc_text())
    if len(comp.scenarios) > 1 or not comp.scenarios:
        bits.append(lc.scenario)
    summary = esc(bits[0]) + "".join(f" <span class=muted>· {esc(b)}</span>" for b in bits[1:])
    return (f'<details id="launch-{k + 1}"{" open" if open_ else ""}><summary>{summary}'
            f"</summary>{tables}</details>")


def _pooled_block(comp: Comparison, open_: bool) -> str:
    launches = comp.launches
    tables = "".join(
        _metrics_table(comp, n, f"{_nation(n)} {esc(nation_name(n))} — all launches pooled",
                       launches, comp.runs)
        for n in comp.nations)
    return (f'<details id="pooled"{" open" if open_ else ""}><summary>All '
            f"{len(launches)} launches pooled <span class=muted>· per run the mean over the "
            "launches, then over runs</span></summary>" + tables + "</details>")


def tables_section(comp: Comparison) -> str:
    """Section 4: per launch and nation, every metric under every regime."""
    head = '<section id="tables"><h2>4. All metrics, per launch and nation</h2>'
    if not comp.launches or not comp.nations:
        return head + '<p class="muted">No results in the comparison.</p></section>'
    many = len(comp.launches) > OPEN_LAUNCHES
    intro = (f"<p>Each cell: the mean over the runs where the metric was defined, with its "
             f"{esc(comp.conf_text)} interval in brackets (none from fewer than two runs), "
             "the number of runs when it was not defined in all of them, and Δ, the paired "
             "difference to the baseline (this regime minus the baseline over the same runs) "
             "with its interval: <span class='d better' style='display:inline'>better</span> "
             "or <span class='d worse' style='display:inline'>worse</span> when the interval "
             "excludes 0, n.s. when it does not. The highlighted cell has the best mean of "
             "its row; that alone does not make it significantly better, and means over "
             "different numbers of runs are not strictly comparable. Hover a metric for its "
             "definition (or see section 5).</p>")
    blocks = _pooled_block(comp, many) if len(comp.launches) > 1 else ""
    if many:
        intro += ("<p>With many launches the pooled tables come first and each launch's "
                  "tables are closed; open a launch for them.</p>")
    blocks += "".join(_launch_block(comp, k, lc, not many)
                      for k, lc in enumerate(comp.launches))
    return head + intro + blocks + "</section>"


# ---------------------------------------------------------------------------- notes
def notes_section(comp: Comparison) -> str:
    """Section 5: method, what an interval means, caveats and the metrics."""
    conf = comp.conf_text
    notes = [
        "Common random numbers: in Monte Carlo run k every regime flies the same missiles "
        "and sees the same radar and infrared measurements, detection draws and false "
        "alarms; only what the agreements let nations share differs. Differences are taken "
        "run by run (paired), which removes most of the run-to-run noise, so a paired "
        "difference can be significant even when the two regimes' own intervals overlap.",
        f"A {conf} interval is the range that, over repeated sets of runs, would contain "
        "the simulation's long-run mean for this set-up in "
        f"{conf} of cases. It measures the Monte Carlo noise only: it says nothing about "
        "whether the model's sensors, latencies or agreements are right.",
        f"Significant means the {conf} interval of the paired difference excludes 0. "
        "With many comparisons some will be significant by chance (about 1 in 20 at 95 %), "
        "so weigh a lone significant difference among many with care; the headlines say "
        "how many were tested.",
        "A mean covers only the runs where its metric was defined: a first warning only "
        "where there was a warning, a warning lead only where the nation was threatened. "
        "A regime that warns in more runs can show a later mean first warning; compare the "
        "run counts and the missed-warning rate as well.",
        "Pooled over several launches (section 1 and the pooled tables whenever there is "
        "more than one launch, the bars above four), trilink takes per run the mean over the "
        "launches where the "
        "metric is defined (for differences, over the launches where both regimes have it), "
        "then the mean over runs with a Student t interval; n is then a number of runs.",
        "Everything here is a simulation built on public approximations of sensor sites "
        "and performance, of the agreements and of their latencies. The Australian partner "
        "of trilateral-realtime-aus is hypothetical. The warning rules are trilink's, not "
        "J-Alert's or the ROK's. Read differences as what the modelled sharing changes, "
        "not as the real systems' performance.",
    ]
    lis = "".join(f"<li>{esc(n)}</li>" for n in notes)
    gloss = "".join(
        f"<tr><th scope=row>{esc(m.label)}</th><td><code>{esc(m.id)}</code></td>"
        f"<td>{esc(m.doc or DASH)}</td><td>{esc(_better_word(m))}</td></tr>"
        for m in (metric_info(mid) for mid in comp.metrics))
    glossary = ('<div class="scroll"><table><caption>The metrics</caption><thead><tr>'
                '<th scope="col">Metric</th><th scope="col">Field</th>'
                '<th scope="col">Definition</th><th scope="col">Better</th></tr></thead>'
                f"<tbody>{gloss}</tbody></table></div>") if gloss else ""
    return ('<section id="notes"><h2>5. Notes: method and limits</h2>'
            f'<ul class="notes">{lis}</ul>{glossary}</section>')


def _better_word(m: Metric) -> str:
    if m.better == 0:
        return DASH
    if m.kind == "time":
        return "earlier"
    return "higher" if m.better > 0 else "lower"


# ---------------------------------------------------------------------------- page
def _figures(comp: Comparison) -> tuple[str, str]:
    with style(), matplotlib.rc_context({"text.parse_math": False}):
        bars = svg_bytes(draw_bars(comp))
        curves = svg_bytes(draw_known_curves(comp))
    bars_cap = (f"Warning lead (left) and first known (right) per nation, one bar per "
                f"regime; error bars: {esc(comp.conf_text)} intervals; × never happened.")
    curves_cap = ("Share of runs × launches in which each nation knew about the missile, by "
                  "time after launch; one curve per regime.")
    return (figure_html(bars, _bars_alt(comp), bars_cap, "fig-bars"),
            figure_html(curves, _curves_alt(comp), curves_cap, "fig-known"))


def render_comparison(comparison: Mapping[str, Any], rows: Iterable[Mapping[str, Any]]
                      ) -> str:
    """The comparison report (``comparison.json`` as a dict, ``runs.csv`` as dicts) as one
    HTML document."""
    rows = list(rows)  # read twice below
    missile, missile_rows, others = split_domains(comparison, rows)
    if others:
        return _render_with_domains(missile, missile_rows, comparison, others)
    comp = parse_comparison(comparison, rows)
    bars, curves = _figures(comp)
    title = f"trilink comparison — {_title(comp)}"
    footer = (f"<footer>Made by trilink {esc(__version__)} from comparison.json (schema "
              f"{esc(comp.schema_version)}) and runs.csv. The same inputs give the same page, "
              "byte for byte; no time of making is stamped here.</footer>")
    body = (_header(comp) + _nav() + "<main>" + glance_section(comp)
            + lead_section(comp, bars) + known_section(comp, curves) + tables_section(comp)
            + notes_section(comp) + "</main>" + footer)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="generator" content="trilink compare">'
            f"<title>{esc(title)}</title><style>{CSS}{CSS_EXTRA}</style></head>"
            f'<body><div class="wrap">{body}</div></body></html>\n')


def _render_with_domains(missile: Mapping[str, Any], missile_rows: list[Mapping[str, Any]],
                         comparison: Mapping[str, Any], others: list[Mapping[str, Any]]
                         ) -> str:
    """Supply replays and cyber campaigns: their sections after the missile ones (if any)."""
    extra = domain_sections(comparison, others)
    footer = (f"<footer>Made by trilink {esc(__version__)} from comparison.json (schema "
              f"{esc(comparison.get('schema_version'))}) and runs.csv. The same inputs give "
              "the same page, byte for byte; no time of making is stamped here.</footer>")
    if missile["results"]:
        comp = parse_comparison(missile, missile_rows)
        bars, curves = _figures(comp)
        title = f"trilink comparison — {_title(comp)}"
        body = (_header(comp) + _nav() + "<main>" + glance_section(comp)
                + lead_section(comp, bars) + known_section(comp, curves)
                + tables_section(comp) + extra + notes_section(comp) + "</main>" + footer)
    else:
        title = "trilink comparison — " + "; ".join(str(sc.get("title")) for sc in others)
        body = domain_header(comparison, others) + "<main>" + extra + "</main>" + footer
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="generator" content="trilink compare">'
            f"<title>{esc(title)}</title><style>{CSS}{CSS_EXTRA}</style></head>"
            f'<body><div class="wrap">{body}</div></body></html>\n')


def write_comparison_report(comparison: Mapping[str, Any], rows: Iterable[Mapping[str, Any]],
                            out_dir: Path) -> Path:
    """Write ``out_dir/report.html`` atomically (temporary file, then rename); its path."""
    return write_atomic(out_dir, REPORT_NAME, render_comparison(comparison, rows))
