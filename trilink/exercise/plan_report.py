"""A schedule as a self-contained HTML page: a timeline (one lane per series) and a
table, every figure escaped; deterministic to the byte."""

from __future__ import annotations

import datetime as dt
from html import escape

from trilink.exercise.schedule import Schedule

# Okabe–Ito: distinguishable under the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")


def plan_html(s: Schedule) -> str:
    p = s.programme
    width, lane_h, left = 1100, 34, 230
    days = (p.end - p.start).days + 1
    lanes = [x.id for x in p.series]
    height = 40 + lane_h * len(lanes) + 30

    def x_of(d: dt.date) -> float:
        return left + (width - left - 20) * (d - p.start).days / days

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="exercise timeline">']
    for year in range(p.start.year, p.end.year + 2):
        d = dt.date(year, 1, 1)
        if p.start <= d <= p.end + dt.timedelta(days=1):
            x = x_of(d)
            parts.append(f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{height - 20}" '
                         'stroke="#999" stroke-dasharray="3,3"/>')
            parts.append(f'<text x="{x + 4:.1f}" y="16" font-size="13">{year}</text>')
    for i, sid in enumerate(lanes):
        y = 40 + i * lane_h
        name = next(x.name for x in p.series if x.id == sid)
        parts.append(f'<text x="8" y="{y + 20}" font-size="13">{escape(name)}</text>')
        for item in s.items:
            if item.occurrence.series.id != sid:
                continue
            x0, x1 = x_of(item.first_day), x_of(item.last_day + dt.timedelta(days=1))
            title = (f"{item.occurrence.series.name} {item.occurrence.label}: "
                     f"{item.first_day.isoformat()} to {item.last_day.isoformat()}")
            parts.append(f'<rect x="{x0:.1f}" y="{y + 6}" width="{max(x1 - x0, 3):.1f}" '
                         f'height="{lane_h - 12}" fill="{PALETTE[i % len(PALETTE)]}">'
                         f'<title>{escape(title)}</title></rect>')
    parts.append("</svg>")
    rows = "\n".join(
        f"<tr><td>{escape(it.occurrence.series.name)}</td><td>{escape(it.occurrence.label)}"
        f"</td><td>{it.first_day.isoformat()}</td><td>{it.last_day.isoformat()}</td>"
        f"<td>{escape(', '.join(it.occurrence.series.participants))}</td>"
        f"<td>{escape('; '.join(it.holidays_touched) or '-')}</td></tr>" for it in s.items)
    notes = "\n".join(f"<li><b>{escape(x.name)}</b>: {escape(x.basis)} "
                      + " ".join(f'<a href="{escape(u)}">source</a>' for u in x.sources)
                      + "</li>" for x in p.series)
    busy = "\n".join(f"<li>{escape(b.name)}: {escape(b.basis)} "
                     + " ".join(f'<a href="{escape(u)}">source</a>' for u in b.sources)
                     + "</li>" for b in p.busy)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(p.name)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;max-width:1150px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;font-size:14px}}
.note{{background:#fff4d6;padding:8px;border-left:4px solid #E69F00}}</style></head>
<body><h1>{escape(p.name)}</h1>
<p class="note">A notional plan: the series and their past dates are the public record; the
durations, months, asset counts and other exercises' windows are planning assumptions of
<code>{escape(p.id)}</code>. Scheduled by OR-Tools CP-SAT (objective {s.objective},
{'optimal' if s.optimal else 'feasible, not proven optimal'}).</p>
{''.join(parts)}
<h2>Calendar</h2>
<table><tr><th>series</th><th>period</th><th>first day</th><th>last day</th>
<th>participants</th><th>public holidays touched</th></tr>
{rows}</table>
<h2>Basis</h2><ul>{notes}</ul>
<h2>Other exercises holding the same assets</h2><ul>{busy}</ul>
</body></html>
"""
