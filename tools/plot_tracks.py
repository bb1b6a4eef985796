"""Draws docs/img/historical_tracks.png: every shipped launch's fitted ground track over
nations' land, territorial seas and 200-nm zones. Needs matplotlib (``.[docs]``).

    python tools/plot_tracks.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import shapely

from trilink.geo import ZoneKind, zone_map
from trilink.sim.flights import fly_scenarios
from trilink.sim.scenario import load_scenario, shipped_scenarios

ROOT = Path(__file__).resolve().parents[1]
COLOURS = {"JPN": "#d62728", "KOR": "#1f77b4", "PRK": "#7f7f7f", "CHN": "#bcbd22",
           "RUS": "#9467bd", "USA": "#2ca02c"}
WEST, EAST, SOUTH, NORTH = 118.0, 180.0, 24.0, 50.0


def _fill(ax: plt.Axes, geom: shapely.Geometry, colour: str, alpha: float) -> None:
    box = shapely.box(WEST, SOUTH, EAST, NORTH)
    geom = shapely.intersection(geom, box)
    for poly in getattr(geom, "geoms", [geom]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        x, y = poly.exterior.xy
        ax.fill(x, y, color=colour, alpha=alpha, lw=0)


def main() -> None:
    zm = zone_map()
    fig, ax = plt.subplots(figsize=(12, 6.5), dpi=110)
    for nation, colour in COLOURS.items():
        _fill(ax, zm.zone_polygon(nation, ZoneKind.EEZ), colour, 0.10)
        _fill(ax, zm.zone_polygon(nation, ZoneKind.TERRITORIAL_SEA), colour, 0.25)
        _fill(ax, zm.land(nation), colour, 0.55)
    flights = fly_scenarios([load_scenario(s) for s in shipped_scenarios()])
    seen = set()
    for lf in flights:
        if lf.scenario_id in seen:
            continue
        seen.add(lf.scenario_id)
        t = np.linspace(0.0, lf.fit.summary.flight_time_s, 600)
        lat, lon, _ = lf.fit.flight.geodetic_at(t)
        lon_deg = np.mod(np.degrees(lon), 360.0)
        ax.plot(lon_deg, np.degrees(lat), lw=1.2, color="k")
        ax.plot(lon_deg[-1], np.degrees(lat[-1]), "x", color="k", ms=6)
        ax.annotate(lf.scenario_id[:10], (lon_deg[-1], np.degrees(lat[-1])), fontsize=6,
                    xytext=(3, 3), textcoords="offset points")
    ax.set_xlim(WEST, EAST)
    ax.set_ylim(SOUTH, NORTH)
    ax.set_aspect(1.0 / np.cos(np.radians(0.5 * (SOUTH + NORTH))))
    ax.set_xlabel("longitude (deg E)")
    ax.set_ylabel("latitude (deg N)")
    ax.set_title("Fitted ground tracks of the shipped historical launches (x: impact)\n"
                 "land, 12-nm territorial sea and 200-nm equidistant zones (approximation)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.55) for c in COLOURS.values()]
    ax.legend(handles, list(COLOURS), loc="lower right", fontsize=8)
    out = ROOT / "docs/img/historical_tracks.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
