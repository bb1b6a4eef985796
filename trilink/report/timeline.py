"""The "who knew what when" timeline: per launch, one row per nation on a common axis of
time after launch.

Upper half of a nation's row: its first detection (open circle), its first own track (filled
circle), the first track it received from a partner (diamond). Lower half: its CAP messages
(Alert, Update, Cancel) coloured by warning level, with a bar while a warning was in force.
Behind the rows, the missile's flight from launch to impact, and a red line at a failure.
A last row per launch shows the times stated in the published public-warning text (stars).

Flights differ by a factor of ten in duration (an SRBM ~7 min, an ICBM ~70 min) while the
decisions happen in the first minutes, so beyond 15 minutes the time axis is square-root
scaled (the caption says so).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from trilink.report.data import Launch, Message, Record
from trilink.report.fmt import level_colour, missile_name, nation_colour, tplus
from trilink.report.published import Anchor, anchors
from trilink.report.svgfig import new_figure

__all__ = ["LINEAR_MAX_S", "LaunchRows", "draw_timeline", "launch_rows", "uses_sqrt_axis"]

LINEAR_MAX_S = 900.0
WIDTH_IN = 10.0
_TICKS_S = (0, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 2400, 3000, 3600, 4800, 6000,
            7200, 9000, 10800)
_MSG_MARKERS = {"Alert": "v", "Update": "d", "Cancel": "x"}


@dataclass
class LaunchRows:
    """What one launch's group of rows shows (times in seconds after launch)."""

    launch: Launch
    nations: tuple[str, ...]
    messages: dict[str, list[Message]] = field(default_factory=dict)
    anchors: list[Anchor] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Number of rows: one per nation, plus one for published times if any."""
        return len(self.nations) + (1 if self.anchors else 0)

    def last_s(self) -> float:
        """The latest time this group shows, seconds after launch."""
        t = [self.launch.flight_time_s or 0.0]
        t += [m.t_s - self.launch.launch_t_s for ms in self.messages.values() for m in ms]
        t += [a.t_after_launch_s for a in self.anchors]
        for f in self.launch.figures.values():
            t += [x for x in (f.first_detection_s, f.first_track_s, f.first_partner_track_s,
                              f.first_warning_s) if x is not None]
        if self.launch.failure_t_s is not None:
            t.append(self.launch.failure_t_s - self.launch.launch_t_s)
        return max(t)


def launch_rows(rec: Record) -> list[LaunchRows]:
    """The groups of rows, one per launch, with each message attached to its launch."""
    groups = []
    for launch in rec.launches:
        utc = rec.utc(launch.launch_t_s)
        text = str(launch.published.get("public_warning") or "")
        groups.append(LaunchRows(launch, rec.nations, {n: [] for n in rec.nations},
                                 anchors(text, utc)))
    for m in rec.messages:
        i = rec.launch_index(m.missile, m.t_s)
        if i is not None:
            groups[i].messages.setdefault(m.nation, []).append(m)
    return groups


def uses_sqrt_axis(groups: Sequence[LaunchRows]) -> bool:
    """True when the time axis must reach beyond :data:`LINEAR_MAX_S`."""
    return _x_max(groups) > LINEAR_MAX_S


def _x_max(groups: Sequence[LaunchRows]) -> float:
    return max((g.last_s() for g in groups), default=600.0) * 1.04 + 5.0


def _tick_label(t: float, minutes: bool) -> str:
    if t == 0:
        return "launch"
    return f"{t / 60:g} min" if minutes and t >= 60 else f"{t:g} s"


def _setup_x(ax: Axes, x_max: float, sqrt: bool) -> None:
    if sqrt:
        ax.set_xscale("function", functions=(lambda x: np.sqrt(np.maximum(x, 0.0)),
                                             lambda y: np.square(y)))
        ticks = [t for t in _TICKS_S if t <= x_max]
        ax.set_xlabel("time after launch (square-root scale)")
    else:
        step = next(s for s in (30, 60, 120, 300) if x_max / s <= 12)
        ticks = list(np.arange(0, x_max + 1e-9, step))
        ax.set_xlabel("time after launch (seconds)")
    ax.set_xticks(ticks, [_tick_label(float(t), sqrt) for t in ticks])
    ax.set_xlim(0.0, x_max)
    ax.grid(True, axis="x", color="#cccccc", lw=0.5, zorder=0)
    ax.tick_params(axis="x", top=True, labeltop=True, length=2.5)


def _warning_bars(ax: Axes, y: float, msgs: Sequence[Message], t0: float, x_max: float
                  ) -> None:
    """A bar while each track's warning was in force, coloured by its level."""
    by_track: dict[str, list[Message]] = {}
    for m in msgs:
        by_track.setdefault(m.track, []).append(m)
    for track_msgs in by_track.values():
        ordered = sorted(track_msgs, key=lambda m: m.t_s)
        for cur, nxt in zip(ordered, [*ordered[1:], None], strict=True):
            if cur.msg_type == "Cancel":
                continue
            end = x_max if nxt is None else nxt.t_s - t0
            ax.plot([cur.t_s - t0, end], [y, y], color=level_colour(cur.level), lw=4.5,
                    alpha=0.3, solid_capstyle="butt", zorder=2)


def _label(ax: Axes, placed: list[tuple[float, float]], x: float, y: float, text: str,
           prefer_left: bool) -> None:
    """Annotate (x, y) with ``text`` beside the mark, on the preferred side if the label
    fits inside the axes there, and only if it overlaps no label already placed."""
    fontsize = 7.0
    px = float(ax.transData.transform((x, y))[0])
    width = len(text) * 0.56 * fontsize * ax.figure.dpi / 72.0 + 10.0
    box = ax.bbox
    sides = (True, False) if prefer_left else (False, True)
    for left in sides:
        lo, hi = (px - width, px) if left else (px, px + width)
        if lo < box.x0 or hi > box.x1 or any(lo < b and a < hi for a, b in placed):
            continue
        placed.append((lo, hi))
        ax.annotate(text, (x, y), xytext=(-6 if left else 6, 0), textcoords="offset points",
                    ha="right" if left else "left", va="center", fontsize=fontsize,
                    color="#222222", zorder=8,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.8})
        return


def _nation_row(ax: Axes, y: float, g: LaunchRows, nation: str, x_max: float,
                labels: bool) -> None:
    f = g.launch.figures.get(nation)
    c = nation_colour(nation)
    ax.axhline(y, color="#e6e6e6", lw=0.5, zorder=0.5)
    up, down = y - 0.2, y + 0.2
    if f is not None:
        if f.first_detection_s is not None:
            ax.plot(f.first_detection_s, up, "o", ms=5.5, mfc="white", mec=c, mew=1.2,
                    zorder=4)
        if f.first_track_s is not None:
            ax.plot(f.first_track_s, up, "o", ms=5, color=c, zorder=5)
        if f.first_partner_track_s is not None:
            ax.plot(f.first_partner_track_s, up, "D", ms=4.2, color=c, mec="white", mew=0.5,
                    zorder=5)
    t0 = g.launch.launch_t_s
    msgs = g.messages.get(nation, [])
    _warning_bars(ax, down, msgs, t0, x_max)
    placed: list[tuple[float, float]] = []
    for k, m in enumerate(msgs):
        x = m.t_s - t0
        marker = _MSG_MARKERS.get(m.msg_type, "s")
        col = level_colour(m.level)
        if marker == "x":
            ax.plot(x, down, marker, ms=6, mew=1.6, color=col, zorder=6)
        else:
            ax.plot(x, down, marker, ms=7, color=col, mec="black", mew=0.5, zorder=6)
        if labels and k in (0, len(msgs) - 1):
            _label(ax, placed, x, down, f"{m.msg_type} {tplus(x)}", prefer_left=k == 0)


def _anchor_row(ax: Axes, y: float, g: LaunchRows, labels: bool) -> None:
    ax.axhline(y, color="#e6e6e6", lw=0.5, zorder=0.5)
    placed: list[tuple[float, float]] = []
    for a in g.anchors:
        ax.plot(a.t_after_launch_s, y, "*", ms=9, color="#222222", mec="white", mew=0.4,
                zorder=6)
        if labels:
            _label(ax, placed, a.t_after_launch_s, y, a.quoted, prefer_left=False)


def _group(ax: Axes, y0: float, g: LaunchRows, x_max: float, labels: bool) -> None:
    """Draw one launch's rows starting at row y0 (rows go downwards)."""
    top, bottom = y0 - 0.5, y0 + g.rows - 0.5
    flight = g.launch.flight_time_s
    if flight is not None:
        ax.fill_between([0.0, min(flight, x_max)], top, bottom, color="#ececec", lw=0,
                        zorder=0.2)
        ax.plot([flight, flight], [top, bottom], color="#555555", lw=1.0, zorder=1)
    if g.launch.failure_t_s is not None:
        tf = g.launch.failure_t_s - g.launch.launch_t_s
        ax.plot([tf, tf], [top, bottom], color="#d7191c", lw=1.2, ls=(0, (3, 2)), zorder=3)
    for k, nation in enumerate(g.nations):
        _nation_row(ax, y0 + k, g, nation, x_max, labels)
    if g.anchors:
        _anchor_row(ax, y0 + len(g.nations), g, labels)


def _group_label(launch: Launch, rec: Record) -> str:
    utc = rec.utc(launch.launch_t_s)
    when = utc.strftime("%H:%M:%S UTC") if utc is not None else f"t={launch.launch_t_s:g} s"
    first = launch.name if len(launch.name) <= 18 else launch.name[:17] + "…"
    name = missile_name(launch.missile)
    missile = name if len(name) <= 18 else name[:17] + "…"
    return f"{first}\n{missile}\n{when}" if missile else f"{first}\n{when}"


def _legend(fig: Figure, failure: bool) -> None:
    grey = "#555555"
    h: list[Line2D | Patch] = [
        Line2D([], [], marker="o", ms=5.5, mfc="white", mec=grey, ls="none",
               label="first detection"),
        Line2D([], [], marker="o", ms=5, color=grey, ls="none", label="first own track"),
        Line2D([], [], marker="D", ms=4.2, color=grey, ls="none",
               label="first partner track received"),
        Line2D([], [], marker="v", ms=7, color="white", mec="black", ls="none",
               label="CAP Alert"),
        Line2D([], [], marker="d", ms=7, color="white", mec="black", ls="none",
               label="CAP Update"),
        Line2D([], [], marker="x", ms=6, mew=1.6, color="black", ls="none",
               label="CAP Cancel"),
        Line2D([], [], color=level_colour("take_shelter"), lw=4.5, alpha=0.6,
               label="take shelter (in force)"),
        Line2D([], [], color=level_colour("maritime_warning"), lw=4.5, alpha=0.6,
               label="maritime warning"),
        Line2D([], [], color=level_colour("informational"), lw=4.5, alpha=0.6,
               label="informational"),
        Patch(facecolor="#ececec", edgecolor="#555555", lw=0.8,
              label="missile in flight (launch → impact)"),
        Line2D([], [], marker="*", ms=9, color="#222222", ls="none",
               label="time stated in published warning"),
    ]
    if failure:
        h.append(Line2D([], [], color="#d7191c", lw=1.2, ls=(0, (3, 2)), label="failure"))
    fig.legend(handles=h, loc="upper center", ncol=4, frameon=False,
               bbox_to_anchor=(0.5, 1.0), fontsize=7.5, handlelength=1.8,
               columnspacing=1.2, borderaxespad=0.2)


def draw_timeline(rec: Record) -> Figure:
    """The timeline figure (see the module docstring); a short note if nothing flew."""
    groups = launch_rows(rec)
    n_rows = sum(g.rows for g in groups)
    gap = 0.6
    row_in = 0.3 if len(groups) <= 4 else 0.2
    labels = len(groups) <= 4
    failure = any(g.launch.failure_t_s is not None for g in groups)
    legend_in = 0.17 * math.ceil((11 + failure) / 4) + 0.1
    top, bottom, left, right = legend_in + 0.22, 0.5, 1.55, 0.25
    body = max(n_rows + gap * max(len(groups) - 1, 0), 1) * row_in
    height = body + top + bottom
    fig = new_figure(WIDTH_IN, height)
    ax = fig.add_axes((left / WIDTH_IN, bottom / height, (WIDTH_IN - left - right) / WIDTH_IN,
                       body / height))
    x_max = _x_max(groups)
    sqrt = x_max > LINEAR_MAX_S
    _setup_x(ax, x_max, sqrt)
    yticks: list[float] = []
    ylabels: list[str] = []
    to_axes = blended_transform_factory(fig.transFigure, ax.transData)
    y = 0.0
    for g in groups:
        _group(ax, y, g, x_max, labels)
        yticks += [y + k for k in range(g.rows)]
        ylabels += list(g.nations) + (["published"] if g.anchors else [])
        mid = y + 0.5 * (g.rows - 1)
        ax.text(0.012, mid, _group_label(g.launch, rec), transform=to_axes, ha="left",
                va="center", fontsize=7 if len(groups) > 4 else 7.5, linespacing=1.15)
        if g is not groups[-1]:
            ax.axhline(y + g.rows - 0.5 + gap / 2, color="#999999", lw=0.6, zorder=0.5)
        y += g.rows + gap
    if not groups:
        ax.text(0.5, 0.5, "no launches in this record", transform=ax.transAxes,
                ha="center", va="center", color="#555555")
    ax.set_yticks(yticks, ylabels)
    ax.tick_params(axis="y", length=0, pad=4)
    ax.set_ylim(max(y - gap, 1.0) - 0.5, -0.5)
    for side in ("left", "right"):
        ax.spines[side].set_visible(False)
    _legend(fig, failure)
    return fig
