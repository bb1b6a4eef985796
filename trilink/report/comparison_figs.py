"""The comparison's figures: bars with intervals per nation and regime, and the cumulative
"knows about the missile" curves.

Regimes have fixed colours (the shipped ones by id, others from the rest of the palette in
the comparison's order) and, in the curves, line styles too, so that curves lying on top of
each other stay distinguishable. Figures are built with the object API (no pyplot) and
printed by :mod:`trilink.report.svgfig`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from trilink.report.comparison_data import Comparison, LaunchInfo, Stat, pooled
from trilink.report.fmt import nation_colour
from trilink.report.svgfig import new_figure
from trilink.report.timeline import LINEAR_MAX_S

if TYPE_CHECKING:  # a typing-only name; nothing imported at run time
    from matplotlib.typing import LineStyleType

__all__ = [
    "MAX_LAUNCH_PANELS",
    "bar_panels",
    "draw_bars",
    "draw_known_curves",
    "known_curve",
    "regime_colours",
    "uses_sqrt_axis",
]

MAX_LAUNCH_PANELS = 4
"""Up to this many launches the bars get one row of panels per launch; above, one row
pooled over all launches."""
WIDTH_IN = 10.0
_FIXED = {
    "national-only": "#8c8c8c",
    "bilateral-us": "#e69f00",
    "tisa-relay": "#cc79a7",
    "gsomia-direct": "#56b4e9",
    "trilateral-realtime": "#0b5394",
    "trilateral-realtime-aus": "#009e73",
    "historical": "#6a3d9a",
    "gsomia-terminated-2019": "#d55e00",
}
_SPARE = ("#b8860b", "#4d4d4d", "#a6cee3", "#fb9a99", "#b2df8a", "#cab2d6", "#ff7f00",
          "#1f78b4")
_STYLES: tuple[LineStyleType, ...] = (
    "-", (0, (5, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)), (0, (3, 1.5)), (0, (8, 2, 1, 2, 1, 2)))
_TICKS_S = (0, 30, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 2400, 3000,
            3600, 4800, 6000, 7200)


def regime_colours(regime_ids: Sequence[str]) -> dict[str, str]:
    """A colour per regime: fixed for the shipped regimes, the spare ones in order else."""
    used = {_FIXED[g] for g in regime_ids if g in _FIXED}
    spare = [c for c in (*_SPARE, *_FIXED.values()) if c not in used]
    out: dict[str, str] = {}
    k = 0
    for g in regime_ids:
        if g in _FIXED:
            out[g] = _FIXED[g]
        else:
            out[g] = spare[k % len(spare)] if spare else "#444444"
            k += 1
    return out


def uses_sqrt_axis(x_max: float) -> bool:
    """True when the time axis reaches beyond the report's linear limit (15 min)."""
    return x_max > LINEAR_MAX_S


def _setup_time_axis(ax: Axes, x_max: float) -> None:
    if uses_sqrt_axis(x_max):
        ax.set_xscale("function", functions=(lambda x: np.sqrt(np.maximum(x, 0.0)),
                                             lambda x: np.square(x)))
    ax.set_xlim(0.0, x_max)
    ticks = [t for t in _TICKS_S if t <= x_max]
    if len(ticks) > 9:
        ticks = ticks[:: math.ceil(len(ticks) / 9)]
    minutes = x_max > 600

    def label(t: float) -> str:
        if not minutes or t < 60:
            return f"{t:g} s"
        return f"{t / 60:g} min"

    ax.set_xticks(ticks, [label(float(t)) for t in ticks])


# ---------------------------------------------------------------------------- bars
def bar_panels(comp: Comparison) -> list[tuple[str, list[LaunchInfo]]]:
    """The rows of bar panels: one per launch up to :data:`MAX_LAUNCH_PANELS`, else one
    row pooled over all launches; (title, launches) each."""
    if len(comp.launches) <= MAX_LAUNCH_PANELS:
        return [(comp.launch_title(lc), [lc]) for lc in comp.launches]
    return [(f"All {len(comp.launches)} launches pooled", list(comp.launches))]


def _panel_stat(comp: Comparison, nation: str, regime: str, metric: str,
                launches: Sequence[LaunchInfo]) -> Stat:
    if len(launches) == 1:
        return comp.result(launches[0], nation, regime, metric)[0]
    return pooled(comp, nation, regime, metric, launches)


def _style_axes(ax: Axes, nations: Sequence[str]) -> None:
    ax.set_xlim(-0.5, max(len(nations), 1) - 0.5)
    ax.set_xticks(range(len(nations)), nations)
    for tick, nation in zip(ax.get_xticklabels(), nations, strict=True):
        tick.set_color(nation_colour(nation))
        tick.set_fontweight("bold")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _bars(ax: Axes, comp: Comparison, metric: str, launches: Sequence[LaunchInfo],
          colours: dict[str, str], lead: bool) -> None:
    regimes = comp.regime_ids
    nations = comp.nations
    _style_axes(ax, nations)
    if lead and not any(comp.threatened(launches, n) for n in nations):
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.text(0.5, 0.5, "no nation was threatened" + (" by this launch" if len(launches) == 1
                                                         else ""),
                transform=ax.transAxes, ha="center", va="center", color="#777777",
                style="italic")
        return
    width = 0.8 / max(len(regimes), 1)
    top = 0.0
    pending: list[tuple[float, str]] = []
    for i, nation in enumerate(nations):
        if lead and not comp.threatened(launches, nation):
            pending.append((float(i), "not\nthreatened"))
            continue
        if not comp.has_metric(nation, metric, launches):
            pending.append((float(i), "no data"))
            continue
        for j, g in enumerate(regimes):
            if not comp.present(nation, g, metric, launches):
                continue        # the nation takes no part in this regime
            x = i + (j - (len(regimes) - 1) / 2.0) * width
            st = _panel_stat(comp, nation, g, metric, launches)
            if st.mean is None:
                pending.append((x, "×"))
                continue
            ax.bar(x, st.mean, width * 0.92, color=colours[g], linewidth=0, zorder=2)
            top = max(top, st.mean)
            if st.low is not None and st.high is not None:
                ax.errorbar(x, st.mean, yerr=[[st.mean - st.low], [st.high - st.mean]],
                            fmt="none", ecolor="#222222", elinewidth=0.9, capsize=2.2,
                            capthick=0.9, zorder=3)
                top = max(top, st.high)
    ymax = top * 1.12 if top > 0 else 1.0
    ax.set_ylim(min(0.0, ax.get_ylim()[0]), ymax)
    for x, text in pending:
        big = "\n" in text or text == "no data"
        ax.text(x, ymax * (0.5 if big else 0.02), text, ha="center",
                va="center" if big else "bottom", fontsize=8 if big else 7.5,
                color="#777777", style="italic" if big else "normal")
    ax.grid(axis="y", color="#e3e6e8", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    ax.axhline(0.0, color="#555555", linewidth=0.6, zorder=2)


def _legend(fig: Figure, handles: Sequence[Artist], height_in: float) -> float:
    """The legend across the top; returns the figure fraction left below it."""
    longest = max((len(str(h.get_label())) for h in handles), default=0)
    if handles:
        fig.legend(handles=handles, loc="upper center", ncols=_per_row(len(handles), longest),
                   frameon=False, bbox_to_anchor=(0.5, 1.0), handlelength=2.6,
                   columnspacing=1.6)
    return 1.0 - _legend_height(len(handles), longest) / height_in


def _per_row(n_handles: int, longest: int) -> int:
    """Legend entries per row: as many as fit across the figure."""
    return max(1, min(n_handles, int(WIDTH_IN / (0.55 + 0.075 * longest))))


def _legend_height(n_handles: int, longest: int) -> float:
    """Inches above the panels: the legend's rows and the panel titles."""
    rows = math.ceil(n_handles / _per_row(n_handles, longest)) if n_handles else 0
    return 0.36 + 0.2 * rows


def draw_bars(comp: Comparison) -> Figure:
    """Per row of panels: warning lead (left; where the nation was threatened) and first
    known (right), bars per nation and regime with their confidence intervals."""
    panels = bar_panels(comp)
    rows = max(len(panels), 1)
    colours = regime_colours(comp.regime_ids)
    handles: list[Artist] = [Patch(facecolor=colours[g], label=g) for g in comp.regime_ids]
    handles.append(Line2D([], [], color="#222222", marker="|", markersize=8, linewidth=0.9,
                          label=f"{comp.conf_text} interval"))
    longest = max(len(str(h.get_label())) for h in handles)
    height = _legend_height(len(handles), longest) + 2.35 * rows + 0.1
    fig = new_figure(WIDTH_IN, height)
    axes = fig.subplots(rows, 2, squeeze=False)
    for r, (title, launches) in enumerate(panels or [("No launches", [])]):
        ax_lead, ax_known = axes[r][0], axes[r][1]
        _bars(ax_lead, comp, "warning_lead_s", launches, colours, lead=True)
        _bars(ax_known, comp, "first_known_s", launches, colours, lead=False)
        ax_lead.set_title(f"{title} — warning lead (longer is better)", loc="left")
        ax_known.set_title(f"{title} — first known (earlier is better)", loc="left")
        ax_lead.set_ylabel("s before overflight/impact")
        ax_known.set_ylabel("s after launch")
    top = _legend(fig, handles, height)
    fig.subplots_adjust(left=0.07, right=0.99, top=top, bottom=0.32 / height,
                        hspace=0.5, wspace=0.18)
    return fig


# ---------------------------------------------------------------------------- curves
def known_curve(comp: Comparison, nation: str, regime: str) -> tuple[list[float], int]:
    """The sorted first-known times of (run, launch) pairs that knew, and the number of
    pairs in all (0 when the rows have nothing for this nation and regime)."""
    per_launch = comp.samples.get((nation, regime, "first_known_s"), {})
    values = sorted(v for per_run in per_launch.values() for v in per_run.values()
                    if v is not None)
    total = max(comp.units.get((nation, regime), 0),
                sum(len(per_run) for per_run in per_launch.values()))
    return values, total


def curve_points(values: Sequence[float], total: int, x_max: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Step-curve vertices (for ``where='post'``): fraction of ``total`` known by t."""
    v = np.asarray(values, dtype=float)
    xs = np.unique(np.concatenate(([0.0, x_max], np.clip(v, 0.0, x_max))))
    ys = np.searchsorted(np.sort(v), xs, side="right") / max(total, 1)
    return xs, ys


def draw_known_curves(comp: Comparison) -> Figure:
    """One subplot per nation, one step curve per regime: the fraction of (runs × launches)
    in which the nation knew about the missile by each time after launch."""
    nations = comp.nations or ["—"]
    n = len(nations)
    ncols = 2 if n in (2, 4) else min(n, 3)
    nrows = math.ceil(n / ncols)
    longest = max((len(g) for g in comp.regime_ids), default=0)
    height = _legend_height(len(comp.regime_ids), longest) + 2.7 * nrows + 0.1
    fig = new_figure(WIDTH_IN, height)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    colours = regime_colours(comp.regime_ids)
    x_max = comp.max_time_s()
    for k in range(nrows * ncols):
        ax = axes[k // ncols][k % ncols]
        if k >= n:
            ax.set_visible(False)
            continue
        nation = nations[k]
        drawn = 0
        for j, g in enumerate(comp.regime_ids):
            values, total = known_curve(comp, nation, g)
            if total == 0:
                continue
            xs, ys = curve_points(values, total, x_max)
            ax.step(xs, ys, where="post", color=colours[g], linestyle=_STYLES[j % len(_STYLES)],
                    linewidth=max(2.4 - 0.3 * j, 1.0), zorder=3 + j)
            drawn += 1
        if not drawn:
            ax.text(0.5, 0.5, "no per-run data", transform=ax.transAxes, ha="center",
                    va="center", color="#777777", style="italic")
        _setup_time_axis(ax, x_max)
        ax.set_ylim(-0.02, 1.04)
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0], ["0", "25 %", "50 %", "75 %", "100 %"])
        ax.grid(color="#e3e6e8", linewidth=0.6, zorder=0)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_title(nation, loc="left", color=nation_colour(nation), fontweight="bold")
        ax.set_xlabel("time after launch")
        if k % ncols == 0:
            ax.set_ylabel("share of runs × launches known")
    handles: list[Artist] = [
        Line2D([], [], color=colours[g], linestyle=_STYLES[j % len(_STYLES)],
               linewidth=max(2.4 - 0.3 * j, 1.0), label=g)
        for j, g in enumerate(comp.regime_ids)]
    top = _legend(fig, handles, height)
    fig.subplots_adjust(left=0.08, right=0.99, top=top, bottom=0.5 / height,
                        hspace=0.6, wspace=0.08)
    return fig
