"""The record, exercises and launches on one time axis (a self-contained SVG page).

Lanes, top to bottom: agreements (each dated event of every agreement file), leaders'
and ministers' meetings and frameworks, exercises (the record's, and a schedule's
planned ones, hatched as notional), DPRK launches of the reference table. Every mark
carries its title and source as a tooltip; colours are Okabe–Ito.

The marks are data (:func:`timeline_marks`, :func:`mark_json`): ``trilink record
timeline`` draws them as a page, and the dashboard (``GET /api/timeline``, the
``/timeline`` page) puts its node's picture — launches and warnings — on the same axis.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from dataclasses import dataclass
from html import escape
from importlib import resources
from typing import Any

from trilink.alliance.record import Registry, shipped_registry

LANES = ("agreements", "meetings", "frameworks", "exercises", "launches")
COLOURS = {"agreements": "#0072B2", "meetings": "#009E73", "frameworks": "#CC79A7",
           "exercises": "#E69F00", "launches": "#D55E00", "planned": "#56B4E9"}


@dataclass(frozen=True)
class Mark:
    lane: str
    first: dt.date
    last: dt.date
    title: str
    source: str
    planned: bool = False


def launch_marks() -> list[Mark]:
    """The reference table's launches (trilink/data/launches.csv)."""
    path = resources.files("trilink") / "data" / "launches.csv"
    out = []
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            day = dt.date.fromisoformat(row["launch_time_utc"][:10])
            src = (row.get("sources") or "").split(" ")[0]
            out.append(Mark("launches", day, day, f"{row['missile']} ({row['event_id']})",
                            src))
    return out


def record_marks(reg: Registry) -> list[Mark]:
    out = []
    for a in reg.agreements:
        if a.hypothetical:
            continue
        for ev in a.events:
            day = ev.at.date()
            if day >= dt.date(2014, 1, 1):
                out.append(Mark("agreements", day, day, f"{a.name}: {ev.event.value}",
                                a.sources[0] if a.sources else ""))
    for e in reg.events:
        lane = ("exercises" if e.kind == "exercise" else
                "frameworks" if e.kind == "framework" else "meetings")
        out.append(Mark(lane, e.date, e.end or e.date, e.title, e.sources[0]))
    return out


def planned_marks(programme: str) -> list[Mark]:
    """The scheduled exercises of a programme (a file or a shipped id), as notional
    marks: the CP-SAT schedule of ``trilink exercise plan``."""
    from trilink.exercise.programme import load_programme
    from trilink.exercise.schedule import schedule

    return [Mark("exercises", it.first_day, it.last_day,
                 f"{it.occurrence.series.name} {it.occurrence.label}",
                 it.occurrence.series.sources[0], planned=True)
            for it in schedule(load_programme(programme)).items]


@functools.cache
def _shipped_planned(programme: str) -> tuple[Mark, ...]:
    return tuple(planned_marks(programme))  # the solve takes a second or two: once


def timeline_marks(registry: Registry | None = None, planned: list[Mark] | None = None,
                   programme: str | None = None) -> list[Mark]:
    """Every mark of the record's time axis: the registry's agreements and events, the
    reference table's launches, and planned exercises (``planned``, or the schedule of
    ``programme``, solved once per process)."""
    reg = registry or shipped_registry()
    extra = list(planned or [])
    if programme is not None:
        extra += _shipped_planned(programme)
    return record_marks(reg) + launch_marks() + extra


def mark_json(m: Mark) -> dict[str, Any]:
    """A mark for the dashboard: its lane and its span as UTC instants (a day mark
    covers its whole days)."""
    return {"lane": m.lane, "title": m.title, "source": m.source, "planned": m.planned,
            "start_utc": f"{m.first.isoformat()}T00:00:00Z",
            "end_utc": f"{(m.last + dt.timedelta(days=1)).isoformat()}T00:00:00Z"}


def timeline_html(marks: list[Mark], title: str, start: dt.date | None = None,
                  end: dt.date | None = None) -> str:
    if not marks:
        raise ValueError("nothing to draw")
    lo = start or min(m.first for m in marks)
    hi = end or max(m.last for m in marks)
    lo, hi = dt.date(lo.year, 1, 1), dt.date(hi.year, 12, 31)
    width, left, lane_h = 1400, 110, 46
    span = (hi - lo).days + 1

    def x(d: dt.date) -> float:
        return left + (width - left - 10) * (d - lo).days / span

    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{40 + lane_h * len(LANES) + 10}" role="img" aria-label="{escape(title)}">']
    for year in range(lo.year, hi.year + 1):
        xx = x(dt.date(year, 1, 1))
        svg.append(f'<line x1="{xx:.1f}" y1="22" x2="{xx:.1f}" y2="{40 + lane_h * len(LANES)}"'
                   ' stroke="#bbb" stroke-dasharray="2,3"/>'
                   f'<text x="{xx + 3:.1f}" y="16" font-size="12">{year}</text>')
    for i, lane in enumerate(LANES):
        y = 40 + i * lane_h
        svg.append(f'<text x="6" y="{y + 27}" font-size="13">{lane}</text>')
        for m in (m for m in marks if m.lane == lane and m.last >= lo and m.first <= hi):
            colour = COLOURS["planned" if m.planned else lane]
            tip = escape(f"{m.first.isoformat()}"
                         + (f"..{m.last.isoformat()}" if m.last != m.first else "")
                         + f": {m.title}" + (" (planned, notional)" if m.planned else "")
                         + (f" — {m.source}" if m.source else ""))
            x0, x1 = x(m.first), x(m.last + dt.timedelta(days=1))
            dash = ' stroke="#000" stroke-dasharray="2,2"' if m.planned else ""
            if lane == "launches":
                svg.append(f'<path d="M{x0:.1f},{y + 8} l5,9 l-10,0 z" fill="{colour}">'
                           f'<title>{tip}</title></path>')
            else:
                svg.append(f'<rect x="{x0:.1f}" y="{y + 8}" width="{max(x1 - x0, 3):.1f}" '
                           f'height="{lane_h - 18}" fill="{colour}" opacity="0.85"{dash}>'
                           f'<title>{tip}</title></rect>')
    svg.append("</svg>")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>'
            f'{escape(title)}</title><style>body{{font-family:system-ui,sans-serif;'
            f'margin:20px}}</style></head><body><h1>{escape(title)}</h1>'
            "<p>Hover a mark for its date, what happened and its source. Planned exercises "
            "(dashed) are a notional schedule, not announced dates.</p>"
            + "".join(svg) + "</body></html>\n")


def record_timeline(registry: Registry | None = None,
                    planned: list[Mark] | None = None) -> str:
    marks = timeline_marks(registry, planned)
    return timeline_html(marks, "US–Japan–ROK cooperation: the record, exercises and "
                         "launches", start=dt.date(2014, 1, 1))
