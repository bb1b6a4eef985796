"""The map: land, Japan's and Korea's zones, radars, ground tracks, predicted impacts, CAP
corridors.

Projection: plate carrée with the aspect of the map's middle latitude (1 degree of latitude
drawn 1/cos(lat) as long as one of longitude), which at the latitudes of this region keeps
shapes within a few per cent. Longitudes are in trilink's frame [60, 420) so that a track
across the dateline stays continuous; tick labels give them as east/west degrees.
Geodesic circles and ellipses are computed on the WGS84 ellipsoid (pyproj).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from numpy.typing import NDArray
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from trilink.geo import ZoneKind, zone_map
from trilink.geo.land import wrap_lon_deg
from trilink.report.data import Assessment, Ellipse, Launch, Message, Record
from trilink.report.fmt import nation_colour
from trilink.report.svgfig import new_figure

__all__ = ["MapExtent", "draw_map", "key_messages", "map_extent", "thin_assessments"]

F = NDArray[np.float64]
_GEOD = Geod(ellps="WGS84")
MAX_ELLIPSES = 240
"""Upper bound on thin-line ellipses drawn from the assessments."""
MAX_WARNING_SHAPES = 60
"""Above this many warning ellipses (or corridors), only each track's first and last and
its changes of level are drawn."""
WIDTH_IN = 10.0
_LAND = "#efe9dc"
_COAST = "#8a8578"
_SEA = "#f4f8fb"
_ZONE_NATIONS = ("JPN", "KOR")
_DEFAULT = (118.0, 150.0, 28.0, 46.0)  # frame lon west/east, lat south/north
_MIN_SPAN_DEG = (16.0, 9.0)
_NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0)
_LABELS = (("CHINA", 41.2, 122.0), ("RUSSIA", 45.3, 134.5), ("DPRK", 40.3, 127.0),
           ("ROK", 36.4, 127.9), ("JAPAN", 36.9, 138.4), ("HOKKAIDO", 43.6, 142.9))


@dataclass(frozen=True)
class MapExtent:
    """Map bounds in frame degrees."""

    west: float
    east: float
    south: float
    north: float

    @property
    def aspect(self) -> float:
        """Drawn height over width (equirectangular at the middle latitude)."""
        mid = math.radians(0.5 * (self.south + self.north))
        return (self.north - self.south) / ((self.east - self.west) * math.cos(mid))


def _lon(lon_deg: F | float) -> F:
    return wrap_lon_deg(lon_deg)


def _content_points(rec: Record) -> tuple[F, F]:
    """Longitudes (frame) and latitudes of what the map must show."""
    lons: list[float] = []
    lats: list[float] = []
    for launch in rec.launches:
        if launch.track.size:
            lats.extend(launch.track[:, 1].tolist())
            lons.extend(_lon(launch.track[:, 2]).tolist())
        for la, lo in ((launch.site_lat_deg, launch.site_lon_deg),
                       (launch.impact_lat_deg, launch.impact_lon_deg)):
            if la is not None and lo is not None:
                lats.append(la)
                lons.append(float(_lon(lo)))
    for m in rec.messages:
        if m.corridor:
            lats.extend(p[0] for p in m.corridor)
            lons.extend(_lon(np.array([p[1] for p in m.corridor])).tolist())
        if m.impact is not None and m.msg_type != "Cancel":
            lats.append(m.impact.lat_deg)
            lons.append(float(_lon(m.impact.lon_deg)))
    if not lats:  # nothing flew: show the radars
        lats = [s.lat_deg for s in rec.sensors]
        lons = _lon(np.array([s.lon_deg for s in rec.sensors])).tolist()
    return np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)


def map_extent(rec: Record, min_aspect: float = 0.45, max_aspect: float = 0.75) -> MapExtent:
    """Bounds that hold the tracks, warnings and corridors with a margin, at least
    :data:`_MIN_SPAN_DEG`, widened so the drawn aspect stays within the given range."""
    lons, lats = _content_points(rec)
    if lons.size == 0:
        w, e, s, n = _DEFAULT
    else:
        w, e = float(lons.min()), float(lons.max())
        s, n = float(lats.min()), float(lats.max())
        pad_x, pad_y = 0.08 * (e - w) + 1.0, 0.08 * (n - s) + 1.0
        w, e, s, n = w - pad_x, e + pad_x, s - pad_y, n + pad_y
    cx, cy = 0.5 * (w + e), 0.5 * (s + n)
    half_x = max(0.5 * (e - w), 0.5 * _MIN_SPAN_DEG[0])
    half_y = max(0.5 * (n - s), 0.5 * _MIN_SPAN_DEG[1])
    ext = MapExtent(cx - half_x, cx + half_x, max(cy - half_y, -80.0), min(cy + half_y, 80.0))
    if ext.aspect < min_aspect:  # too flat: add latitude
        grow = 0.5 * (min_aspect / ext.aspect - 1.0) * (ext.north - ext.south)
        ext = MapExtent(ext.west, ext.east, max(ext.south - grow, -80.0),
                        min(ext.north + grow, 80.0))
    elif ext.aspect > max_aspect:  # too tall: add longitude
        grow = 0.5 * (ext.aspect / max_aspect - 1.0) * (ext.east - ext.west)
        ext = MapExtent(ext.west - grow, ext.east + grow, ext.south, ext.north)
    return ext


# ---------------------------------------------------------------------------- geometry
def _geometry_path(geom: BaseGeometry) -> MplPath | None:
    """One compound path (exteriors and holes) for a (multi)polygon, or None if empty."""
    verts: list[F] = []
    codes: list[NDArray[np.uint8]] = []
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords, dtype=np.float64)
            if len(xy) < 3:
                continue
            c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
            verts.append(xy)
            codes.append(c)
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes))


@lru_cache(maxsize=1)
def _land_bounds() -> F:
    return np.asarray(shapely.bounds(zone_map().data.polygons), dtype=np.float64)


def _clip(geoms: Sequence[BaseGeometry] | NDArray[np.object_], ext: MapExtent,
          tol_deg: float) -> BaseGeometry:
    """Union-free clip + simplify of polygons to the (padded) map box."""
    pad = 2.0 * tol_deg + 0.5
    box = (ext.west - pad, ext.south - pad, ext.east + pad, ext.north + pad)
    arr = np.asarray(geoms, dtype=object)
    if arr.size == 0:
        return shapely.GeometryCollection()
    clipped = shapely.clip_by_rect(arr, *box)
    simple = shapely.simplify(clipped, tol_deg, preserve_topology=True)
    keep = shapely.area(simple) > (1.5 * tol_deg) ** 2
    return shapely.GeometryCollection(
        [p for g in simple[keep] for p in shapely.get_parts(g) if p.geom_type == "Polygon"])


def _land(ext: MapExtent, tol_deg: float) -> BaseGeometry:
    zm = zone_map()
    b = _land_bounds()
    pad = 1.0
    sel = ((b[:, 2] >= ext.west - pad) & (b[:, 0] <= ext.east + pad)
           & (b[:, 3] >= ext.south - pad) & (b[:, 1] <= ext.north + pad))
    return _clip(zm.data.polygons[sel], ext, tol_deg)


def _zone(nation: str, kind: ZoneKind, ext: MapExtent, tol_deg: float) -> BaseGeometry:
    fine = ext.east - ext.west < 25.0  # staircase edges would show on a close map
    grids = (0.05, 0.1) if kind is ZoneKind.EEZ else (0.02, 0.05)
    grid = grids[0] if fine else grids[1]
    poly = zone_map().zone_polygon(nation, kind, grid)
    return _clip(list(shapely.get_parts(poly)), ext, tol_deg)


def geodesic_circle(lat_deg: float, lon_deg: float, radius_km: float, n: int = 181) -> F:
    """(n, 2) frame lon/lat of a geodesic circle, continuous in longitude."""
    az = np.linspace(0.0, 360.0, n)
    lon, lat, _ = _GEOD.fwd(np.full(n, lon_deg), np.full(n, lat_deg), az,
                            np.full(n, radius_km * 1e3))
    return np.column_stack([_continuous_lon(np.asarray(lon, float), lon_deg),
                            np.asarray(lat, float)])


def _continuous_lon(lon: F, ref_deg: float) -> F:
    """Longitudes unwrapped around the frame position of ``ref_deg``."""
    ref = float(_lon(ref_deg))
    return np.asarray(ref + (np.mod(lon - ref + 180.0, 360.0) - 180.0), dtype=np.float64)


def ellipse_outlines(ellipses: Sequence[Ellipse], n: int = 37) -> F:
    """(k, n, 2) frame lon/lat outlines of 95 % ellipses, on the ellipsoid."""
    if not ellipses:
        return np.zeros((0, n, 2))
    th = np.linspace(0.0, 2.0 * np.pi, n)
    a = np.array([max(e.semi_major_km, 0.05) for e in ellipses])[:, None]
    b = np.array([max(e.semi_minor_km, 0.05) for e in ellipses])[:, None]
    az0 = np.array([e.azimuth_deg for e in ellipses])[:, None]
    along, across = a * np.cos(th), b * np.sin(th)
    dist_m = np.hypot(along, across) * 1e3
    az = az0 + np.degrees(np.arctan2(across, along))
    lat0 = np.repeat([[e.lat_deg] for e in ellipses], n, axis=1)
    lon0 = np.repeat([[e.lon_deg] for e in ellipses], n, axis=1)
    lon, lat, _ = _GEOD.fwd(lon0.ravel(), lat0.ravel(), az.ravel(), dist_m.ravel())
    lon = np.asarray(lon, float).reshape(lon0.shape)
    ref = _lon(np.array([e.lon_deg for e in ellipses]))[:, None]
    lon = ref + (np.mod(lon - ref + 180.0, 360.0) - 180.0)
    return np.stack([lon, np.asarray(lat, float).reshape(lat0.shape)], axis=-1)


def thin_assessments(assessments: Sequence[Assessment], budget: int = MAX_ELLIPSES
                     ) -> list[Assessment]:
    """At most ``budget`` assessments with an impact: per nation and track the first, the
    last and evenly spaced ones between, the same share for every track. When there are
    more than ``budget // 2`` tracks, the tracks of real missiles with the most assessments
    are kept (clutter and short tracks go first)."""
    groups: dict[tuple[str, str], list[Assessment]] = {}
    for a in assessments:
        if a.impact is not None:
            groups.setdefault((a.nation, a.track), []).append(a)
    if not groups:
        return []
    keys = sorted(groups)
    if len(keys) > budget // 2:
        ranked = sorted(keys, key=lambda k: (groups[k][0].missile is None, -len(groups[k]), k))
        keys = sorted(ranked[:max(budget // 2, 1)])
    per = max(2, budget // len(keys))
    out: list[Assessment] = []
    for key in keys:
        g = sorted(groups[key], key=lambda a: a.t_s)
        if len(g) <= per:
            out.extend(g)
        else:
            idx = np.unique(np.round(np.linspace(0, len(g) - 1, per)).astype(int))
            out.extend(g[i] for i in idx)
    return out


# ---------------------------------------------------------------------------- layers
def _draw_base(ax: Axes, ext: MapExtent, nations: Iterable[str], tol_deg: float) -> None:
    ax.set_facecolor(_SEA)
    for nation in nations:
        if nation not in _ZONE_NATIONS:
            continue
        colour = nation_colour(nation)
        for kind, alpha in ((ZoneKind.EEZ, 0.10), (ZoneKind.TERRITORIAL_SEA, 0.3)):
            path = _geometry_path(_zone(nation, kind, ext, tol_deg))
            if path is not None:
                ax.add_patch(PathPatch(path, facecolor=colour, alpha=alpha, lw=0, zorder=1))
    land = _geometry_path(_land(ext, tol_deg))
    if land is not None:
        ax.add_patch(PathPatch(land, facecolor=_LAND, edgecolor=_COAST, lw=0.35, zorder=2))
    for text, la, lo in _LABELS:
        if ext.west + 1 < lo < ext.east - 1 and ext.south + 0.5 < la < ext.north - 0.5:
            ax.text(lo, la, text, fontsize=7, color="#8a8578", ha="center", va="center",
                    style="italic", zorder=2.5)


def _draw_sensors(ax: Axes, rec: Record) -> None:
    lines = []
    colours = []
    for s in rec.sensors:
        if s.max_range_km:
            lines.append(geodesic_circle(s.lat_deg, s.lon_deg, s.max_range_km))
            colours.append(nation_colour(s.nation))
    if lines:
        ax.add_collection(LineCollection(lines, colors=colours, linewidths=0.55, alpha=0.45,
                                         linestyles=(0, (1.5, 2.0)), zorder=3))
    for s in rec.sensors:
        marker = "D" if "ship" in s.kind else "^"
        ax.plot(float(_lon(s.lon_deg)), s.lat_deg, marker=marker, ms=6 if marker == "^" else 5,
                color=nation_colour(s.nation), mec="white", mew=0.7, zorder=8, ls="none")


def _position_at(launch: Launch, t_s: float) -> tuple[float, float] | None:
    tr = launch.track
    if tr.shape[0] < 2:
        return None
    lon = np.unwrap(np.radians(tr[:, 2]))
    la = float(np.interp(t_s, tr[:, 0], tr[:, 1]))
    lo = math.degrees(float(np.interp(t_s, tr[:, 0], lon)))
    return float(_lon(lo)), la


def _draw_launches(ax: Axes, rec: Record, label_minutes: bool) -> None:
    for launch in rec.launches:
        tr = launch.track
        if tr.shape[0] >= 2:
            lon = np.degrees(np.unwrap(np.radians(tr[:, 2])))
            lon = lon - lon[0] + float(_lon(lon[0]))
            ax.plot(lon, tr[:, 1], color="#1a1a1a", lw=1.3, zorder=6, solid_capstyle="round")
            if label_minutes:
                _minute_ticks(ax, launch)
        if launch.site_lat_deg is not None and launch.site_lon_deg is not None:
            ax.plot(float(_lon(launch.site_lon_deg)), launch.site_lat_deg, marker="*", ms=11,
                    color="#1a1a1a", mec="white", mew=0.6, zorder=9, ls="none")
        if launch.impact_lat_deg is not None and launch.impact_lon_deg is not None:
            ax.plot(float(_lon(launch.impact_lon_deg)), launch.impact_lat_deg, marker="X",
                    ms=8, color="#1a1a1a", mec="white", mew=0.6, zorder=9, ls="none")
        if launch.failure_t_s is not None:
            pos = _position_at(launch, launch.failure_t_s)
            if pos is not None:
                ax.plot(*pos, marker="X", ms=10, color="#d7191c", mec="white", mew=0.7,
                        zorder=10, ls="none")


def _minute_ticks(ax: Axes, launch: Launch) -> None:
    """Dots on the ground track every minute, labelled at a few round minutes."""
    flight = launch.flight_time_s
    if flight is None or flight < 120.0:
        return
    minutes = np.arange(1, int(flight // 60) + 1)
    step = next(s for s in (1, 2, 5, 10, 15, 20, 30, 60) if minutes.size / s <= 6)
    for m in minutes:
        pos = _position_at(launch, launch.launch_t_s + 60.0 * float(m))
        if pos is None:
            continue
        ax.plot(*pos, marker="o", ms=2.2, color="#1a1a1a", zorder=7, ls="none")
        if m % step == 0:
            ax.annotate(f"{m} min", pos, xytext=(0, -9), textcoords="offset points",
                        fontsize=7, ha="center", va="top", color="#1a1a1a", zorder=11,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                              "alpha": 0.75})


def _draw_assessments(ax: Axes, rec: Record) -> None:
    chosen = thin_assessments(rec.assessments)
    for nation in sorted({a.nation for a in chosen}):
        mine = [a for a in chosen if a.nation == nation]
        outlines = ellipse_outlines([a.impact for a in mine if a.impact is not None])
        ax.add_collection(LineCollection(list(outlines), colors=nation_colour(nation),
                                         linewidths=0.45, alpha=0.5, zorder=4))
        centres = np.array([[float(_lon(a.impact.lon_deg)), a.impact.lat_deg]
                            for a in mine if a.impact is not None])
        ax.scatter(centres[:, 0], centres[:, 1], s=2.5, color=nation_colour(nation),
                   alpha=0.6, lw=0, zorder=4)


def key_messages(messages: Sequence[Message]) -> list[Message]:
    """Per nation and track the first and last message and those that change the level."""
    by_track: dict[tuple[str, str], list[Message]] = {}
    for m in messages:
        by_track.setdefault((m.nation, m.track), []).append(m)
    keep: set[int] = set()
    for msgs in by_track.values():
        prev = None
        for k, m in enumerate(msgs):
            if k in (0, len(msgs) - 1) or m.level != prev:
                keep.add(id(m))
            prev = m.level
    return [m for m in messages if id(m) in keep]


def _warning_messages(rec: Record) -> list[tuple[Message, Ellipse]]:
    """Alerts and updates with their predicted impact (cancels only repeat the truth),
    reduced to :func:`key_messages` when there are many."""
    warn = [m for m in rec.messages if m.msg_type != "Cancel" and m.impact]
    if len(warn) > MAX_WARNING_SHAPES:
        warn = key_messages(warn)
    return [(m, m.impact) for m in warn if m.impact]


def _draw_corridors(ax: Axes, rec: Record) -> None:
    """CAP overflight corridors: hatched when few, plain outlines when many overlap."""
    corridors = [m for m in rec.messages if m.corridor]
    busy = len(corridors) > 8
    if len(corridors) > MAX_WARNING_SHAPES:
        corridors = key_messages(corridors)
    for m in corridors:
        assert m.corridor is not None
        xy = np.array([[float(_lon(lo)), la] for la, lo in m.corridor])
        c = nation_colour(m.nation)
        if busy:
            ax.fill(xy[:, 0], xy[:, 1], facecolor="none", edgecolor=c, lw=0.6,
                    ls=(0, (4, 2)), alpha=0.5, zorder=5)
            continue
        ax.fill(xy[:, 0], xy[:, 1], facecolor=c, alpha=0.08, edgecolor="none", zorder=5)
        ax.fill(xy[:, 0], xy[:, 1], facecolor="none", edgecolor=c, hatch="////",
                lw=0.8, ls=(0, (4, 2)), alpha=0.55, zorder=5)


def _labelled(warn: Sequence[tuple[Message, Ellipse]]) -> list[tuple[Message, Ellipse]]:
    """The warnings whose ellipse gets a label: all of up to three, else each nation's
    first, and none at all on a busy map (the CAP table lists them)."""
    if len(warn) <= 3:
        return list(warn)
    firsts: dict[str, tuple[Message, Ellipse]] = {}
    for m, e in warn:
        firsts.setdefault(m.nation, (m, e))
    return list(firsts.values()) if len(warn) <= 30 else []


def _draw_messages(ax: Axes, rec: Record) -> None:
    _draw_corridors(ax, rec)
    warn = _warning_messages(rec)
    few = len(warn) <= 12
    outlines = ellipse_outlines([e for _, e in warn])
    for nation in sorted({m.nation for m, _ in warn}):
        mine = [k for k, (m, _) in enumerate(warn) if m.nation == nation]
        c = nation_colour(nation)
        ax.add_collection(LineCollection([outlines[k] for k in mine], colors=c,
                                         linewidths=1.5 if few else 0.8,
                                         alpha=1.0 if few else 0.7, zorder=7))
        centres = np.array([[float(_lon(warn[k][1].lon_deg)), warn[k][1].lat_deg]
                            for k in mine])
        ax.plot(centres[:, 0], centres[:, 1], marker="+", ms=7, mew=1.3, color=c, zorder=7,
                ls="none")
    for m, e in _labelled(warn):
        ax.annotate(f"{m.identifier} ({m.msg_type})", (float(_lon(e.lon_deg)), e.lat_deg),
                    xytext=(6, 5), textcoords="offset points", fontsize=7.5,
                    color=nation_colour(m.nation), zorder=11,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                          "alpha": 0.8})


# ---------------------------------------------------------------------------- axes
def nice_step(span_deg: float, target: int = 6) -> float:
    """A round gridline step giving about ``target`` lines over ``span_deg``."""
    return next((s for s in _NICE_STEPS if span_deg / s <= target), 45.0)


def lon_label(lon_deg: float) -> str:
    """Frame longitude as '130°E', '170°W', '180°'."""
    x = ((lon_deg + 180.0) % 360.0) - 180.0
    if abs(abs(x) - 180.0) < 1e-9:
        return "180°"
    if abs(x) < 1e-9:
        return "0°"
    return f"{abs(x):g}°{'E' if x > 0 else 'W'}"


def lat_label(lat_deg: float) -> str:
    """Latitude as '40°N', '10°S', '0°'."""
    if abs(lat_deg) < 1e-9:
        return "0°"
    return f"{abs(lat_deg):g}°{'N' if lat_deg > 0 else 'S'}"


def _grid(ax: Axes, ext: MapExtent) -> None:
    step_x = nice_step(ext.east - ext.west, 8)
    step_y = nice_step(ext.north - ext.south, 6)
    xs = np.arange(math.ceil(ext.west / step_x) * step_x, ext.east + 1e-9, step_x)
    ys = np.arange(math.ceil(ext.south / step_y) * step_y, ext.north + 1e-9, step_y)
    ax.set_xticks(xs, [lon_label(float(x)) for x in xs])
    ax.set_yticks(ys, [lat_label(float(y)) for y in ys])
    ax.grid(True, color="#9aa5b1", lw=0.4, alpha=0.6, zorder=2.6)
    ax.set_axisbelow(False)
    ax.tick_params(length=2.5, top=True, right=True, labeltop=False, labelright=False)
    ax.set_xlim(ext.west, ext.east)
    ax.set_ylim(ext.south, ext.north)
    mid = math.radians(0.5 * (ext.south + ext.north))
    ax.set_aspect(1.0 / math.cos(mid), adjustable="box")


def _legend_handles(rec: Record) -> list[Line2D | Patch | PathCollection]:
    grey = "#555555"
    handles: list[Line2D | Patch | PathCollection] = [
        Line2D([], [], color="#1a1a1a", lw=1.3, label="ground track (truth; dots each minute)"),
        Line2D([], [], marker="*", ms=10, color="#1a1a1a", ls="none", label="launch site"),
        Line2D([], [], marker="X", ms=8, color="#1a1a1a", ls="none", label="impact (truth)"),
    ]
    if any(lc.failure_t_s is not None for lc in rec.launches):
        handles.append(Line2D([], [], marker="X", ms=9, color="#d7191c", ls="none",
                              label="failure point"))
    handles += [
        Line2D([], [], marker="^", ms=6, color=grey, ls="none", label="ground radar"),
        Line2D([], [], marker="D", ms=5, color=grey, ls="none", label="ship radar"),
        Line2D([], [], color=grey, lw=0.8, ls=(0, (1.5, 2.0)), label="radar maximum range"),
        Line2D([], [], color=grey, lw=0.6, alpha=0.7,
               label="predicted impact, 95 % ellipse (thinned)"),
        Line2D([], [], color=grey, lw=1.5, marker="+", ms=7,
               label="predicted impact at a CAP warning"),
        Patch(facecolor="#dddddd", edgecolor=grey, hatch="////", ls="--",
              label="CAP overflight corridor"),
    ]
    for n in rec.nations:
        c = nation_colour(n)
        handles.append(Patch(facecolor=c, edgecolor=c, label=f"{n} (radars, predictions)"))
        if n in _ZONE_NATIONS:
            handles.append(Patch(facecolor=c, alpha=0.3, lw=0, label=f"{n} territorial sea"))
            handles.append(Patch(facecolor=c, alpha=0.12, lw=0, label=f"{n} 200-nm zone"))
    return handles


def draw_map(rec: Record) -> Figure:
    """The map figure of the record (see the module docstring)."""
    ext = map_extent(rec)
    handles = _legend_handles(rec)
    ncol = 4
    legend_rows = math.ceil(len(handles) / ncol)
    left, right, top = 0.62, 0.2, 0.15
    bottom = 0.45 + 0.19 * legend_rows
    ax_w = WIDTH_IN - left - right
    ax_h = ax_w * ext.aspect
    height = ax_h + top + bottom
    fig = new_figure(WIDTH_IN, height)
    ax = fig.add_axes((left / WIDTH_IN, bottom / height, ax_w / WIDTH_IN, ax_h / height))
    tol = (ext.east - ext.west) / 1800.0
    _draw_base(ax, ext, rec.nations or _ZONE_NATIONS, tol)
    _draw_sensors(ax, rec)
    _draw_assessments(ax, rec)
    _draw_messages(ax, rec)
    _draw_launches(ax, rec, label_minutes=len(rec.launches) <= 3)
    _grid(ax, ext)
    fig.legend(handles=handles, loc="lower center", ncol=ncol, frameon=False,
               bbox_to_anchor=(0.5, 0.0), handlelength=2.2, columnspacing=1.4,
               borderaxespad=0.3)
    return fig
