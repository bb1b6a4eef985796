"""A replay's report page: each series plotted (published months as filled dots,
simulated ones hollow), the control's announcement and effect and the detector's alarm
marked; per-nation warning days with intervals; the list changes in force around the
event. Self-contained, escaped, deterministic."""

from __future__ import annotations

import datetime as dt
import math
from html import escape

from trilink.supply.controls import changes_between, shipped_controls
from trilink.supply.detect import ShockDetector
from trilink.supply.replay import load_replay
from trilink.supply.series import Series, build, shipped_series

BLUE, ORANGE, VERMILION, GREY = "#0072B2", "#E69F00", "#D55E00", "#777777"


def _month_x(series: Series, month: str, x0: float, width: float) -> float:
    k = series.months.index(month) if month in series.months else 0
    return x0 + width * k / max(1, len(series.months) - 1)


def series_svg(series: Series, marks: dict[str, str]) -> str:
    w, h, x0, y0, pw, ph = 760, 260, 60, 20, 680, 200
    logs = [math.log10(max(v, 1e-3)) for v in series.values]
    lo, hi = math.floor(min(logs)), math.ceil(max(logs))
    hi = hi if hi > lo else lo + 1

    def y(v: float) -> float:
        return y0 + ph * (1 - (math.log10(max(v, 1e-3)) - lo) / (hi - lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
           f'aria-label="{escape(series.spec.id)}">']
    for e in range(lo, hi + 1):
        yy = y0 + ph * (1 - (e - lo) / (hi - lo))
        out.append(f'<line x1="{x0}" y1="{yy:.1f}" x2="{x0 + pw}" y2="{yy:.1f}" stroke="#ddd"/>'
                   f'<text x="4" y="{yy + 4:.1f}" font-size="11">1e{e} {escape(series.spec.unit)}'
                   "</text>")
    pts = [(_month_x(series, m, x0, pw), y(v)) for m, v in zip(series.months, series.values,
                                                                strict=True)]
    out.append('<polyline fill="none" stroke="' + BLUE + '" stroke-width="1.5" points="'
               + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + '"/>')
    for (a, b), pub, m, v in zip(pts, series.published, series.months, series.values,
                                 strict=True):
        fill = BLUE if pub else "white"
        tip = f"{m}: {v:g} {series.spec.unit} ({'published' if pub else 'SIMULATED'})"
        out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3.5" fill="{fill}" stroke="{BLUE}">'
                   f"<title>{escape(tip)}</title></circle>")
    for month, label in marks.items():
        if month not in series.months:
            continue
        xx = _month_x(series, month, x0, pw)
        colour = VERMILION if label.startswith("alarm") else ORANGE
        out.append(f'<line x1="{xx:.1f}" y1="{y0}" x2="{xx:.1f}" y2="{y0 + ph}" '
                   f'stroke="{colour}" stroke-dasharray="4,3"/>'
                   f'<text x="{xx + 3:.1f}" y="{y0 + 12}" font-size="11" fill="{colour}">'
                   f"{escape(label)}</text>")
    for k in range(0, len(series.months), 6):
        xx = _month_x(series, series.months[k], x0, pw)
        out.append(f'<text x="{xx - 16:.1f}" y="{y0 + ph + 16}" font-size="11">'
                   f"{series.months[k]}</text>")
    out.append("</svg>")
    return "".join(out)


def replay_html(name: str, doc: dict[str, object], seed: int = 0) -> str:
    replay = load_replay(name)
    control = next(m for m in shipped_controls().measures if m.id == replay.control)
    series = build(shipped_series()[replay.series], seed)
    det, alarm = ShockDetector(), None
    for k, v in enumerate(series.values):
        if det.update(v):
            if series.available_on(k) >= control.effective - dt.timedelta(days=31):
                alarm = series.months[k]
                break
            det.rearm()
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
</body></html>
"""
