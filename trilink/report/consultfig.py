"""The consultation timeline: one figure per hotline consultation, on an axis of time after
the launch it is about, so that it reads beside the "who knew what when" timeline.

Rows, top to bottom: the consultation's milestones (opened, all joined, statement released,
concluded or lapsed), drawn as labelled marks with a vertical line through every row; the
public warnings listed on its fact sheet (▼ coloured by level, as in the warning timeline);
then one lane per party (and any other nation that acted) with its events: join, say/read,
draft/amend, approve, decline/reject, release, conclude/lapse, and escalations (purple ▲,
labelled with the authority it went to). A pale bar in the nation's colour shows while the
party took part; a grey band behind the rows, the missile in flight.

A warning comes minutes after launch while a consultation may run for hours, so beyond 15
minutes the axis is square-root scaled (as the warning timeline's): the first minutes keep
room and the hours still fit. Ticks are in minutes and hours; the caption says which scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from trilink.report.consult_data import Consultation
from trilink.report.data import Launch, Record
from trilink.report.fmt import level_colour, level_name, nation_colour
from trilink.report.svgfig import new_figure

__all__ = [
    "EVENT_STYLES",
    "LINEAR_MAX_S",
    "MILESTONES",
    "Reference",
    "draw_consultation",
    "milestones",
    "reference",
    "uses_sqrt_axis",
]

LINEAR_MAX_S = 900.0
WIDTH_IN = 10.0
ESCALATE_COLOUR = "#7d3c98"
LABEL_DY = 0.28
"""Labels sit this far (in rows) above or below their row's line, clear of its marks."""

_TICKS_S = (0, 60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400,
            21600, 28800, 43200, 64800, 86400, 129600, 172800)


@dataclass(frozen=True)
class EventStyle:
    """How one kind of event is drawn: matplotlib marker, colour, size, legend label."""

    marker: str
    colour: str
    size: float
    label: str
    hollow: bool = False


EVENT_STYLES: dict[str, EventStyle] = {
    "open": EventStyle("s", "#1d2327", 6.5, "open"),
    "join": EventStyle("o", "#2c7bb6", 6.5, "join"),
    "say": EventStyle("o", "#8c8c8c", 3.5, "say / read"),
    "read": EventStyle("o", "#8c8c8c", 3.5, "say / read"),
    "draft": EventStyle("D", "#b9770e", 5.5, "draft"),
    "amend": EventStyle("D", "#b9770e", 5.5, "amend", hollow=True),
    "approve": EventStyle("P", "#1a9850", 7.0, "approve"),
    "decline": EventStyle("X", "#d7191c", 7.0, "decline / reject"),
    "reject": EventStyle("X", "#d7191c", 7.0, "decline / reject"),
    "release": EventStyle("*", "#1a9850", 10.0, "release"),
    "conclude": EventStyle("s", "#1d2327", 6.0, "conclude", hollow=True),
    "lapse": EventStyle("s", "#d7191c", 6.0, "lapse", hollow=True),
    "escalate": EventStyle("^", ESCALATE_COLOUR, 7.5, "escalate (to authority named)"),
}
_OTHER = EventStyle("o", "#5b6770", 4.5, "other", hollow=True)

MILESTONES: tuple[tuple[str, str, str, tuple[float, tuple[float, ...]] | str], ...] = (
    ("opened_t_s", "opened", "#1d2327", "-"),
    ("all_joined_t_s", "all joined", "#2c7bb6", (0, (4.0, 2.0))),
    ("statement_released_t_s", "statement released", "#1a9850", "-"),
    ("concluded_t_s", "concluded", "#1d2327", "-"),
    ("lapsed_t_s", "lapsed", "#d7191c", (0, (3.0, 2.0))),
)
"""(field, label, colour, line style) of each milestone drawn."""


@dataclass(frozen=True)
class Reference:
    """The zero of a consultation's time axis: the launch it is about, else its opening."""

    t_s: float
    what: str  # e.g. "the launch of L1"
    zero_label: str  # tick label at zero: "launch" or "opened"
    launch: Launch | None


def reference(rec: Record, c: Consultation) -> Reference:
    """Zero of the axis: the earliest launch of the record the consultation names, else
    the fact sheet's launch time, else the opening (else the epoch)."""
    linked = [lc for lc in rec.launches if lc.id in c.launches]
    if linked:
        first = min(linked, key=lambda lc: lc.launch_t_s)
        return Reference(first.launch_t_s, f"the launch of {first.name}", "launch", first)
    if c.fact_sheet.launch_t_s is not None:
        return Reference(c.fact_sheet.launch_t_s, "the launch (as on the fact sheet)",
                         "launch", None)
    if c.opened_t_s is not None:
        return Reference(c.opened_t_s, "the opening of the consultation", "opened", None)
    return Reference(0.0, "the scenario epoch", "epoch", None)


def milestones(c: Consultation) -> list[tuple[str, float, str, tuple[float, tuple[float, ...]]
                                              | str]]:
    """(label, time since epoch, colour, line style) of the milestones the consultation
    reached, in time order."""
    out = []
    for fld, label, colour, ls in MILESTONES:
        t = getattr(c, fld)
        if isinstance(t, float):
            out.append((label, t, colour, ls))
    return sorted(out, key=lambda m: m[1])


def _flight(ref: Reference, c: Consultation) -> tuple[float, float] | None:
    """Launch and impact, relative to the axis zero: the truth when the launch is in the
    record, else the fact sheet's estimate."""
    if ref.launch is not None and ref.launch.impact_t_s is not None:
        return 0.0, ref.launch.impact_t_s - ref.t_s
    fs = c.fact_sheet
    if fs.launch_t_s is not None and fs.impact_t_s is not None:
        return fs.launch_t_s - ref.t_s, fs.impact_t_s - ref.t_s
    return None


def _span(ref: Reference, c: Consultation) -> tuple[float, float]:
    """Earliest and latest time shown, relative to the zero."""
    rel = [t - ref.t_s for t in c.times()]
    flight = _flight(ref, c)
    if flight is not None:
        rel += list(flight)
    return min([0.0, *rel]), max([60.0, *rel])


def uses_sqrt_axis(rec: Record, c: Consultation) -> bool:
    """True when the consultation's axis reaches beyond :data:`LINEAR_MAX_S`."""
    return _span(reference(rec, c), c)[1] > LINEAR_MAX_S


def _ssqrt(x: float) -> float:
    return math.copysign(math.sqrt(abs(x)), x)


def _tick_label(t: float, zero: str) -> str:
    if t == 0:
        return zero
    if abs(t) < 3600:
        return f"{t / 60:g} min"
    return f"{t / 3600:g} h"


def _setup_x(ax: Axes, lo: float, hi: float, sqrt: bool, zero: str) -> tuple[float, float]:
    """Scale, limits, ticks; the limits chosen."""
    if sqrt:
        ax.set_xscale("function", functions=(
            lambda x: np.sign(x) * np.sqrt(np.abs(x)), lambda y: np.sign(y) * np.square(y)))
        a, b = _ssqrt(lo), _ssqrt(hi)
        pad = 0.025 * (b - a)
        a, b = a - pad, b + pad
        x0, x1 = math.copysign(a * a, a), b * b
        ticks: list[float] = []
        for t in _TICKS_S:
            if t > x1:
                break
            if not ticks or (_ssqrt(t) - _ssqrt(ticks[-1])) >= 0.05 * (b - a):
                ticks.append(float(t))
        ax.set_xlabel(f"time after {zero} (square-root scale: minutes, then hours)")
    else:
        pad = 0.025 * (hi - lo)
        x0, x1 = lo - pad, hi + pad
        step = next(s for s in (30, 60, 120, 300) if x1 / s <= 12)
        ticks = [float(t) for t in np.arange(0.0, x1 + 1e-9, step)]
        ax.set_xlabel(f"time after {zero} (minutes, linear)")
    ax.set_xticks(ticks, [_tick_label(t, zero) for t in ticks])
    ax.set_xlim(x0, x1)
    ax.grid(True, axis="x", color="#cccccc", lw=0.5, zorder=0)
    ax.tick_params(axis="x", top=True, labeltop=True, length=2.5)
    return x0, x1


def plain(text: str) -> str:
    """Text safe from matplotlib's mathtext ('$' taken literally)."""
    return text.replace("$", r"\$")


class _Placer:
    """Places labels beside marks without overlapping each other or leaving the axes."""

    def __init__(self, ax: Axes, fontsize: float) -> None:
        self.ax, self.fontsize = ax, fontsize
        self.placed: dict[float, list[tuple[float, float]]] = {}

    def put(self, x: float, levels: Sequence[float], text: str, colour: str = "#222222",
            prefer_left: bool = False) -> bool:
        ax = self.ax
        px = float(ax.transData.transform((x, levels[0]))[0])
        width = len(text) * 0.56 * self.fontsize * ax.figure.dpi / 72.0 + 10.0
        box = ax.bbox
        for y in levels:
            taken = self.placed.setdefault(y, [])
            for left in ((True, False) if prefer_left else (False, True)):
                lo, hi = (px - width, px) if left else (px, px + width)
                if lo < box.x0 or hi > box.x1 or any(lo < b and a < hi for a, b in taken):
                    continue
                taken.append((lo, hi))
                ax.annotate(plain(text), (x, y), xytext=(-5 if left else 5, 0),
                            textcoords="offset points", ha="right" if left else "left",
                            va="center", fontsize=self.fontsize, color=colour, zorder=8,
                            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                                  "alpha": 0.85})
                return True
        return False


def _when(t: float) -> str:
    s = round(abs(t))
    sign = "+" if t >= 0 else "−"
    if s < 600:
        return f"T{sign}{s} s"
    if s < 3600:
        return f"T{sign}{s // 60} min"
    return f"T{sign}{s // 3600} h {s % 3600 // 60:02d} min"


def _markers(ax: Axes, xs: Sequence[float], y: float, st: EventStyle) -> None:
    """Marks of one style on one row (one artist for all of them)."""
    ys = [y] * len(xs)
    if st.hollow:
        ax.plot(xs, ys, st.marker, ms=st.size, mfc="white", mec=st.colour, mew=1.3,
                zorder=6, clip_on=False)
    else:
        ax.plot(xs, ys, st.marker, ms=st.size, color=st.colour, mec="white", mew=0.4,
                zorder=6, clip_on=False)


def _lane(ax: Axes, y: float, c: Consultation, nation: str, t0: float, x1: float,
          placer: _Placer) -> None:
    ax.axhline(y, color="#e6e6e6", lw=0.5, zorder=0.5)
    events = [e for e in c.events if e.nation == nation]
    joined = [e.t_s for e in events if e.what in ("open", "join")]
    if nation == c.opener and c.opened_t_s is not None:
        joined.append(c.opened_t_s)
    end = c.end_t_s
    if joined:
        start = min(joined) - t0
        stop = x1 if end is None else end - t0
        ax.plot([start, stop], [y, y], color=nation_colour(nation), lw=6, alpha=0.22,
                solid_capstyle="butt", zorder=1)
    elif nation in c.parties:
        placer.put(x1, [y - LABEL_DY], "never joined", colour="#d7191c", prefer_left=True)
    by_style: dict[EventStyle, list[float]] = {}
    for e in events:
        by_style.setdefault(EVENT_STYLES.get(e.what, _OTHER), []).append(e.t_s - t0)
    for st, xs in by_style.items():  # small grey marks first, so they never hide others
        if st.size < 5:
            _markers(ax, xs, y, st)
    for st, xs in by_style.items():
        if st.size >= 5:
            _markers(ax, xs, y, st)
    for e in events:
        if e.what == "escalate":
            to = e.authority.replace("_", " ") or "higher authority"
            placer.put(e.t_s - t0, [y - LABEL_DY, y + LABEL_DY], f"↑ {to}",
                       colour=ESCALATE_COLOUR)


def _legend(fig: Figure, c: Consultation, flight: bool) -> int:
    """The legend of what the figure shows; the number of its entries."""
    seen: dict[str, EventStyle] = {}
    for e in c.events:
        st = EVENT_STYLES.get(e.what, _OTHER)
        seen.setdefault(st.label, st)
    h: list[Line2D | Patch] = [
        Line2D([], [], marker="v", ms=7, color=level_colour("take_shelter"), mec="black",
               mew=0.5, ls="none", label="public warning (fact sheet)")]
    for label, st in seen.items():
        kw = ({"mfc": "white", "mec": st.colour, "mew": 1.3} if st.hollow
              else {"color": st.colour})
        h.append(Line2D([], [], marker=st.marker, ms=st.size, ls="none", label=label, **kw))
    h.append(Line2D([], [], color="#999999", lw=6, alpha=0.4, label="party taking part"))
    if flight:
        h.append(Patch(facecolor="#ececec", edgecolor="#555555", lw=0.8,
                       label="missile in flight"))
    fig.legend(handles=h, loc="upper center", ncol=5, frameon=False, bbox_to_anchor=(0.5, 1.0),
               fontsize=7.5, handlelength=1.6, columnspacing=1.2, borderaxespad=0.2)
    return len(h)


def _status(c: Consultation) -> tuple[str, str]:
    """The figure's headline and its colour."""
    red, ink = "#b3141a", "#1d2327"
    if c.state == "lapsed" or (c.lapsed_t_s is not None and c.concluded_t_s is None):
        return f"{c.id}: LAPSED — no joint statement released", red
    if c.released:
        return (f"{c.id}: {c.state or 'state unknown'} — joint statement released", ink)
    if c.end_t_s is None:
        return f"{c.id}: still open at the end of the run — no statement released", red
    return f"{c.id}: {c.state or 'ended'} — no joint statement released", red


def draw_consultation(rec: Record, c: Consultation) -> Figure:
    """The figure of one consultation (see the module docstring)."""
    ref = reference(rec, c)
    t0 = ref.t_s
    lanes = c.lanes
    flight = _flight(ref, c)
    n_rows = 2 + len(lanes)
    row_in = 0.4
    n_legend = 3 + len({EVENT_STYLES.get(e.what, _OTHER).label for e in c.events})
    legend_in = 0.17 * math.ceil((n_legend + (flight is not None)) / 5) + 0.1
    title_in = 0.24
    top, bottom, left, right = legend_in + title_in + 0.25, 0.5, 1.2, 0.25
    body = n_rows * row_in
    height = body + top + bottom
    fig = new_figure(WIDTH_IN, height)
    ax = fig.add_axes((left / WIDTH_IN, bottom / height, (WIDTH_IN - left - right) / WIDTH_IN,
                       body / height))
    lo, hi = _span(ref, c)
    sqrt = hi > LINEAR_MAX_S
    x0, x1 = _setup_x(ax, lo, hi, sqrt, ref.zero_label)
    ax.set_ylim(n_rows - 0.5, -0.5)
    if flight is not None:
        ax.fill_between([max(flight[0], x0), min(flight[1], x1)], 0.5, n_rows - 0.5,
                        color="#ececec", lw=0, zorder=0.2)
    # milestones: a labelled mark in the top row and a line through every row
    placer = _Placer(ax, 7.0)
    ax.axhline(0.5, color="#999999", lw=0.6, zorder=0.5)
    for label, t, colour, ls in milestones(c):
        x = t - t0
        ax.plot([x, x], [-0.5, n_rows - 0.5], color=colour, lw=1.1, ls=ls, zorder=3)
        ax.plot(x, 0.0, "o", ms=5, color=colour, zorder=6, clip_on=False)
        placer.put(x, [-LABEL_DY, LABEL_DY], f"{label} {_when(x)}", colour=colour)
    # the public warnings of the fact sheet
    ax.axhline(1.0, color="#e6e6e6", lw=0.5, zorder=0.5)
    for w in c.fact_sheet.warnings:
        if w.t_s is None:
            continue
        x = w.t_s - t0
        ax.plot(x, 1.0, "v", ms=7.5, color=level_colour(w.level), mec="black", mew=0.5,
                zorder=6, clip_on=False)
        placer.put(x, [1.0 - LABEL_DY, 1.0 + LABEL_DY],
                   f"{w.nation} {level_name(w.level)} {_when(x)}")
    if not c.fact_sheet.warnings:
        placer.put(x1, [1.0 - LABEL_DY], "no public warning on the fact sheet", colour="#5b6770",
                   prefer_left=True)
    for k, nation in enumerate(lanes):
        _lane(ax, 2.0 + k, c, nation, t0, x1, placer)
    labels = ["milestones", "public warnings"] + [
        f"{n} (opener)" if n == c.opener else (n if n in c.parties else f"{n} (not party)")
        for n in lanes]
    ax.set_yticks(list(range(n_rows)), [plain(s) for s in labels])
    for tick, n in zip(ax.get_yticklabels()[2:], lanes, strict=True):
        tick.set_color(nation_colour(n))
        tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0, pad=4)
    for side in ("left", "right"):
        ax.spines[side].set_visible(False)
    _legend(fig, c, flight is not None)
    headline, colour = _status(c)
    fig.text(left / WIDTH_IN, 1.0 - (legend_in + 0.05) / height, plain(headline),
             ha="left", va="top", fontsize=9, fontweight="bold", color=colour)
    return fig
