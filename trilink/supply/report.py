"""A replay's report page: each series plotted (published months as filled dots,
simulated ones hollow), the control's announcement and effect and the detector's alarm
marked; per-nation warning days with intervals; the list changes in force around the
event. Self-contained, escaped, deterministic."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from html import escape

from trilink.supply.controls import changes_between, shipped_controls
from trilink.supply.replay import load_replay, public_alarm
from trilink.supply.series import Series, build, shipped_series

BLUE, ORANGE, VERMILION, GREY = "#0072B2", "#E69F00", "#D55E00", "#777777"


def _month_x(months: Sequence[str], month: str, x0: float, width: float) -> float:
    k = months.index(month) if month in months else 0
    return x0 + width * k / max(1, len(months) - 1)


def series_svg(series: Series, marks: dict[str, str]) -> str:
    return plain_series_svg(series.spec.id, series.spec.unit, series.months, series.values,
                            series.published, marks)


def plain_series_svg(sid: str, unit: str, months: Sequence[str], values: Sequence[float],
                     published: Sequence[bool], marks: Mapping[str, str]) -> str:
    """A monthly series on a log axis: published months filled, simulated ones hollow
    (each dot's tooltip says which); ``marks`` (month → label) drawn as dashed lines,
    vermilion for labels starting "alarm" or "warned", orange otherwise."""
    w, h, x0, y0, pw, ph = 760, 260, 60, 20, 680, 200
    logs = [math.log10(max(v, 1e-3)) for v in values]
    lo, hi = math.floor(min(logs)), math.ceil(max(logs))
    hi = hi if hi > lo else lo + 1

    def y(v: float) -> float:
        return y0 + ph * (1 - (math.log10(max(v, 1e-3)) - lo) / (hi - lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
           f'aria-label="{escape(sid)}">']
    for e in range(lo, hi + 1):
        yy = y0 + ph * (1 - (e - lo) / (hi - lo))
        out.append(f'<line x1="{x0}" y1="{yy:.1f}" x2="{x0 + pw}" y2="{yy:.1f}" stroke="#ddd"/>'
                   f'<text x="4" y="{yy + 4:.1f}" font-size="11">1e{e} {escape(unit)}'
                   "</text>")
    pts = [(_month_x(months, m, x0, pw), y(v)) for m, v in zip(months, values,
                                                                strict=True)]
    out.append('<polyline fill="none" stroke="' + BLUE + '" stroke-width="1.5" points="'
               + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + '"/>')
    for (a, b), pub, m, v in zip(pts, published, months, values, strict=True):
        fill = BLUE if pub else "white"
        tip = f"{m}: {v:g} {unit} ({'published' if pub else 'SIMULATED'})"
        out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3.5" fill="{fill}" stroke="{BLUE}">'
                   f"<title>{escape(tip)}</title></circle>")
    shown = [(m, label) for m, label in marks.items() if m in months]
    for j, (month, label) in enumerate(shown):
        xx = _month_x(months, month, x0, pw)
        colour = VERMILION if label.startswith(("alarm", "warned")) else ORANGE
        ty = y0 + 12 + 13 * (j % 4)  # staggered: marks in adjacent months stay legible
        out.append(f'<line x1="{xx:.1f}" y1="{y0}" x2="{xx:.1f}" y2="{y0 + ph}" '
                   f'stroke="{colour}" stroke-dasharray="4,3"/>'
                   f'<text x="{xx + 3:.1f}" y="{ty}" font-size="11" fill="{colour}">'
                   f"{escape(label)}</text>")
    for k in range(0, len(months), 6):
        xx = _month_x(months, months[k], x0, pw)
        out.append(f'<text x="{xx - 16:.1f}" y="{y0 + ph + 16}" font-size="11">'
                   f"{months[k]}</text>")
    out.append("</svg>")
    return "".join(out)


def context_html(ids: Sequence[str], seed: int, marks: Mapping[str, str]) -> str:
    """Series shown beside a replay as context (prices, inventories), not watched."""
    out = []
    for sid in ids:
        c = build(shipped_series()[sid], seed)
        n_sim = c.published.count(False)
        note = (f'<p class="sim"><b>SIMULATED in part.</b> {n_sim} of the {len(c.months)} '
                "months are simulated (hollow dots), interpolated between the reported "
                "figures with noise.</p>") if n_sim else ""
        items = "".join(f"<li>{p.month}: {p.value:g} {escape(c.spec.unit)} — "
                        f"<a href=\"{escape(p.source)}\">source</a></li>"
                        for p in c.spec.published)
        out.append(f"<h2>Context ({escape(c.spec.measure)}, not watched): "
                   f"{escape(c.spec.good)}</h2>{note}"
                   f"{series_svg(c, dict(marks))}<ul>{items}</ul>")
    return "".join(out)


def replay_html(name: str, doc: dict[str, object], seed: int = 0) -> str:
    replay = load_replay(name)
    control = next(m for m in shipped_controls().measures if m.id == replay.control)
    series = build(shipped_series()[replay.series], seed)
    k_alarm = public_alarm(series, control)
    alarm = None if k_alarm is None else series.months[k_alarm]
    marks = {control.announced.strftime("%Y-%m"): "announced",
             control.effective.strftime("%Y-%m"): "in force"}
    if alarm:
        published_on = series.available_on(series.months.index(alarm))
        marks[alarm] = f"alarm ({alarm}, published {published_on})"
    rows = []
    regimes = [str(r) for r in doc["regimes"]]  # type: ignore[attr-defined]
    base = regimes[0]
    nations = doc["nations"]
    assert isinstance(nations, dict)
    for n, v in nations.items():
        def cell(c: dict[str, float | None]) -> str:
            if c["mean"] is None:
                return f"never in {c['never']} run(s)"
            return f"{c['mean']:+.1f} [{c['ci_low']:+.1f}, {c['ci_high']:+.1f}]"
        cells = "".join(f"<td>{cell(v[r])}</td>" for r in regimes)
        diffs = "".join(f"<td>{cell(v[f'{r}_minus_{base}'])}</td>" for r in regimes[1:])
        rows.append(f"<tr><td>{escape(n)}</td><td>{v['watch_day']:+.0f}</td>{cells}{diffs}"
                    "</tr>")
    start = control.announced - dt.timedelta(days=365)
    end = control.effective + dt.timedelta(days=365 * 4)
    changes = "".join(f"<tr><td>{c.day.isoformat()}</td><td>{escape(c.imposed_by)}</td>"
                      f"<td>{escape(c.what)}</td><td><a href=\"{escape(c.sources[0])}\">"
                      "source</a></td></tr>" for c in changes_between(start, end))
    published = [f"<li>{p.month}: {p.value:g} {escape(series.spec.unit)} — "
                 f"<a href=\"{escape(p.source)}\">source</a>"
                 + (f" ({escape(p.derived)})" if p.derived else "") + "</li>"
                 for p in series.spec.published]
    sim = doc["simulated"]
    assert isinstance(sim, dict)
    signals = escape("; ".join(str(x) for x in sim["private_signals"]))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(replay.title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;max-width:1000px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;font-size:14px}}
.sim{{background:#fff4d6;border-left:4px solid {ORANGE};padding:8px}}</style></head>
<body><h1>{escape(replay.title)}</h1>
<p class="sim"><b>Partly simulated.</b> {sim['series_months_published']} months of
<code>{escape(replay.series)}</code> are published figures (filled dots),
{sim['series_months_simulated']} are simulated (hollow dots); the private signals and their
delays are assumptions of the replay file: {signals}.</p>
<h2>{escape(series.spec.good)}: {escape(series.spec.reporter)} {escape(series.spec.flow)}s
to {escape(series.spec.partner)} (seed {seed})</h2>
{series_svg(series, marks)}
<h2>When each nation is warned (days after {control.effective.isoformat()}, {doc['runs']} runs)</h2>
<p>Regimes: <code>alone</code> — nobody shares; <code>record</code> — the agreements as
they stood (the EWS from 2023-08-18); a date — the agreements in force that day, applied
throughout (a what-if). Means with 95 % confidence intervals.</p>
<table><tr><th>nation</th><th>watch (announcement)</th>{''.join(f"<th>{escape(r)}</th>"
for r in regimes)}{''.join(f"<th>{escape(r)} − {escape(base)}</th>" for r in regimes[1:])}
</tr>{''.join(rows)}</table>
<h2>Control-list changes around the event</h2>
<table><tr><th>in force</th><th>by</th><th>what</th><th></th></tr>{changes}</table>
<h2>Published figures</h2><ul>{''.join(published)}</ul>
{context_html(replay.context, seed, marks)}
</body></html>
"""
