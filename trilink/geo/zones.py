"""Land, 12-nm territorial sea and 200-nm zones per nation, and ground-track overflight.

Model (see docs/geo.md): a sea point belongs to the nation whose coast is nearest (an
equidistance split of overlapping zones); within 12 nautical miles of that coast it is
territorial sea, within 200 nm an EEZ-like zone, otherwise high seas. Distances come from a
KD-tree over densified coastline points in WGS84 ECEF (metres); the straight chord is turned
into a surface distance on a sphere of the mean Earth radius, which at 200 nm differs from
the WGS84 geodesic by metres. Land is a point-in-polygon test against the labelled GSHHS
polygons of :mod:`trilink.geo.land`.

Units and frames: API angles are radians (latitude geodetic, longitude east in any wrap);
distances are metres; times are seconds. Polygons returned for maps are shapely geometries in
degrees, longitude in the frame [60, 420) so that the Pacific is continuous.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree
from shapely.geometry import MultiPolygon

from trilink.fileio import atomic_file
from trilink.geo import land as _land
from trilink.geo.land import LandData, build_land, wrap_lon_deg
from trilink.physics import earth

__all__ = [
    "EEZ_M",
    "NAUTICAL_MILE_M",
    "TERRITORIAL_SEA_M",
    "ZoneCrossing",
    "ZoneHit",
    "ZoneKind",
    "ZoneMap",
    "zone_map",
]

log = logging.getLogger(__name__)

NAUTICAL_MILE_M: Final = 1852.0
TERRITORIAL_SEA_M: Final = 12.0 * NAUTICAL_MILE_M
"""Breadth of the territorial sea (UNCLOS art. 3), metres."""
EEZ_M: Final = 200.0 * NAUTICAL_MILE_M
"""Breadth of the exclusive economic zone (UNCLOS art. 57), metres."""

_CACHE_VERSION: Final = "zones-1"
_MEAN_RADIUS_M: Final = earth.MEAN_RADIUS_M
# Bisection steps for crossing times: 2**-20 of a sample interval (1 us at 1 s sampling).
_BISECT_STEPS: Final = 20


class ZoneKind(StrEnum):
    """Kind of area a point lies in."""

    LAND = "land"
    TERRITORIAL_SEA = "territorial_sea"
    EEZ = "eez"
    HIGH_SEAS = "high_seas"


@dataclass(frozen=True)
class ZoneHit:
    """Where one point lies.

    Attributes:
        nation: ISO 3166-1 alpha-3 code ("XXX" for unlabelled foreign land), None on the
            high seas.
        kind: the zone kind.
        distance_to_coast_m: surface distance to the nearest coastline point, metres
            (positive both on land and at sea).
    """

    nation: str | None
    kind: ZoneKind
    distance_to_coast_m: float


@dataclass(frozen=True)
class ZoneCrossing:
    """One continuous stay of a ground track in one nation's zone of one kind.

    Times are in the caller's time scale (seconds). A stay already in progress at the first
    sample starts at ``t_s[0]``; one still in progress at the last sample ends at ``t_s[-1]``.
    """

    nation: str
    kind: ZoneKind
    t_enter_s: float
    t_exit_s: float


def _ecef(lat_rad: NDArray[np.float64], lon_rad: NDArray[np.float64]) -> NDArray[np.float64]:
    """WGS84 ECEF (metres) of points on the ellipsoid surface, shape (..., 3)."""
    return earth.geodetic_to_ecef(lat_rad, lon_rad, 0.0)


def _chord_to_arc_m(chord_m: NDArray[np.float64]) -> NDArray[np.float64]:
    """Surface distance (metres) for a chord (metres) on a sphere of the mean radius."""
    x = np.clip(chord_m / (2.0 * _MEAN_RADIUS_M), 0.0, 1.0)
    arc = 2.0 * _MEAN_RADIUS_M * np.arcsin(x)
    return np.asarray(np.where(np.isinf(chord_m), np.inf, arc), dtype=np.float64)


# Chord of the 200-nm arc plus 1 km: the KD-tree search bound (the chord is the shorter).
_EEZ_CHORD_M: Final = 2.0 * _MEAN_RADIUS_M * np.sin(EEZ_M / (2.0 * _MEAN_RADIUS_M)) + 1000.0


def cache_dir() -> Path:
    """User cache directory: $TRILINK_CACHE_DIR, else $XDG_CACHE_HOME/trilink, else
    ~/.cache/trilink."""
    if env := os.environ.get("TRILINK_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trilink"


def _cache_key(resolution: str) -> str:
    """Version + data-file digest + the source of the code that builds and stores the data."""
    h = hashlib.sha256(_CACHE_VERSION.encode())
    h.update(_land.data_digest(resolution).encode())
    for mod in ("land.py", "seeds.py", "zones.py"):
        h.update((Path(__file__).parent / mod).read_bytes())
    return h.hexdigest()[:24]


def _save(path: Path, data: LandData) -> None:
    """Write the derived arrays atomically (temporary file + rename)."""
    _, coords, offsets = shapely.to_ragged_array(data.polygons)
    # Nation codes as indices into a small table: 2 bytes a point instead of 12.
    table, coast_idx = np.unique(data.coast_nations, return_inverse=True)
    with atomic_file(path) as f:
        np.savez(
            f, coords=coords, ring_offsets=offsets[0], poly_offsets=offsets[1],
            nations=data.nations, coast_lon=data.coast_lon_deg, coast_lat=data.coast_lat_deg,
            nation_table=table, coast_nation_idx=coast_idx.astype(np.uint16),
            resolution=np.array(data.resolution),
            warnings=np.array(data.warnings, dtype=str),
        )


def _load(path: Path) -> LandData:
    with np.load(path, allow_pickle=False) as z:
        polys = shapely.from_ragged_array(
            shapely.GeometryType.POLYGON, z["coords"], (z["ring_offsets"], z["poly_offsets"]))
        return LandData(
            polygons=np.asarray(polys, dtype=object), nations=z["nations"],
            coast_lon_deg=z["coast_lon"], coast_lat_deg=z["coast_lat"],
            coast_nations=z["nation_table"][z["coast_nation_idx"]],
            resolution=str(z["resolution"]),
            warnings=[str(w) for w in z["warnings"]],
        )


def load_land(resolution: str | None = None, use_cache: bool = True) -> LandData:
    """Land data from the disk cache, building (and caching) it when missing or stale."""
    res = resolution or _land.best_resolution()
    if not use_cache:
        return build_land(res)
    path = cache_dir() / f"land-{res}-{_cache_key(res)}.npz"
    if path.is_file():
        try:
            return _load(path)
        except (OSError, ValueError, KeyError) as exc:  # corrupt or foreign file: rebuild
            log.warning("ignoring unreadable zone cache %s: %s", path, exc)
    data = build_land(res)
    try:
        _save(path, data)
        for old in path.parent.glob(f"land-{res}-*.npz"):  # stale versions
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:  # read-only home etc.: keep working without a cache
        log.warning("cannot write zone cache %s: %s", path, exc)
    return data


_PARALLEL_QUERY_MIN = 20000


class ZoneMap:
    """Nation land / territorial sea / EEZ lookup over the modelled region (see module doc)."""

    def __init__(self, data: LandData) -> None:
        self.data = data
        self.resolution = data.resolution
        self._polys = data.polygons
        self._poly_nations = data.nations
        shapely.prepare(self._polys)  # prepared point-in-polygon is O(log n) per point
        self._poly_tree = shapely.STRtree(self._polys)
        xyz = _ecef(np.radians(data.coast_lat_deg), np.radians(data.coast_lon_deg))
        self._coast_tree = cKDTree(xyz, balanced_tree=False, compact_nodes=False)
        self._coast_nations = data.coast_nations
        self.nations: tuple[str, ...] = tuple(sorted(set(data.nations.tolist())))

    # ------------------------------------------------------------------ point queries
    def _land_nation(self, lon_deg: NDArray[np.float64], lat_deg: NDArray[np.float64]
                     ) -> NDArray[np.str_]:
        """Nation of the land polygon containing each point ('' at sea); frame degrees."""
        out = np.full(lon_deg.shape, "", dtype="<U3")
        pts = shapely.points(lon_deg, lat_deg)
        pi, gi = self._poly_tree.query(pts)  # bounding-box candidates only
        if pi.size:
            inside = shapely.contains_xy(self._polys[gi], lon_deg[pi], lat_deg[pi])
            out[pi[inside]] = self._poly_nations[gi[inside]]
        return out

    def _classify_deg(
        self, lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64], exact: bool = False,
    ) -> tuple[NDArray[np.str_], NDArray[np.str_], NDArray[np.float64]]:
        """Nation, kind and distance to coast (metres) for frame-free degree arrays.

        Unless ``exact``, the KD-tree search stops at 200 nm (distance inf beyond): ocean
        points then cost almost nothing.
        """
        lon_f = wrap_lon_deg(lon_deg)
        bound = np.inf if exact else _EEZ_CHORD_M
        chord, idx = self._coast_tree.query(
            _ecef(np.radians(lat_deg), np.radians(lon_f)), distance_upper_bound=bound,
            # Threads pay off on big batches only; small ones (bisection steps) would
            # spend more starting threads than searching.
            workers=-1 if lat_deg.size >= _PARALLEL_QUERY_MIN else 1)
        dist = _chord_to_arc_m(np.asarray(chord, dtype=np.float64))
        idx = np.minimum(idx, len(self._coast_nations) - 1)  # misses return n: never used
        land = self._land_nation(lon_f, lat_deg)
        on_land = land != ""
        sea_nat = np.where(dist <= EEZ_M, self._coast_nations[idx], "")
        nation = np.where(on_land, land, sea_nat).astype("<U3")
        kind = np.where(
            on_land, ZoneKind.LAND.value,
            np.where(dist <= TERRITORIAL_SEA_M, ZoneKind.TERRITORIAL_SEA.value,
                     np.where(dist <= EEZ_M, ZoneKind.EEZ.value, ZoneKind.HIGH_SEAS.value)))
        return nation, kind.astype("<U15"), dist

    def classify(self, lat_rad: ArrayLike, lon_rad: ArrayLike
                 ) -> tuple[NDArray[np.str_], NDArray[np.str_]]:
        """Nation code ('' on the high seas) and :class:`ZoneKind` value for each point.

        Args:
            lat_rad: geodetic latitudes, radians.
            lon_rad: longitudes east, radians, any wrap (-pi..pi or 0..2pi).

        Returns:
            Two string arrays of the broadcast input shape.
        """
        lat = np.asarray(lat_rad, dtype=np.float64)
        lon = np.asarray(lon_rad, dtype=np.float64)
        lat, lon = np.broadcast_arrays(lat, lon)
        nation, kind, _ = self._classify_deg(
            np.degrees(lat).ravel(), np.degrees(lon).ravel())
        return nation.reshape(lat.shape), kind.reshape(lat.shape)

    def distance_to_coast_m(self, lat_rad: ArrayLike, lon_rad: ArrayLike) -> NDArray[np.float64]:
        """Surface distance (metres) from each point to the nearest modelled coastline."""
        lat, lon = np.broadcast_arrays(np.asarray(lat_rad, float), np.asarray(lon_rad, float))
        xyz = _ecef(lat.ravel(), np.radians(wrap_lon_deg(np.degrees(lon.ravel()))))
        chord, _ = self._coast_tree.query(xyz)
        return _chord_to_arc_m(np.asarray(chord, dtype=np.float64)).reshape(lat.shape)

    def locate(self, lat_rad: float, lon_rad: float) -> ZoneHit:
        """Zone of a single point (radians in, see :meth:`classify`)."""
        nation, kind, dist = self._classify_deg(
            np.array([np.degrees(lat_rad)]), np.array([np.degrees(lon_rad)]), exact=True)
        return ZoneHit(str(nation[0]) or None, ZoneKind(str(kind[0])), float(dist[0]))

    # ------------------------------------------------------------------ ground tracks
    def crossings(
        self,
        t_s: ArrayLike,
        lat_rad: ArrayLike,
        lon_rad: ArrayLike,
        kinds: Iterable[ZoneKind] = (ZoneKind.LAND, ZoneKind.TERRITORIAL_SEA),
    ) -> list[ZoneCrossing]:
        """Stays of a sampled ground track in nations' zones of the given kinds.

        The track is sampled at times ``t_s`` (seconds, increasing; ~1 s spacing is plenty for
        a ballistic ground track). Between two samples in different states the boundary is
        found by bisection along the segment (linear in latitude and unwrapped longitude), so
        entry and exit times are interpolated; a zone entered and left between two samples is
        missed.

        Returns:
            Crossings in time order; the same nation may appear several times.
        """
        return self.crossings_many([(t_s, lat_rad, lon_rad)], kinds)[0]

    def crossings_many(
        self,
        tracks: Sequence[tuple[ArrayLike, ArrayLike, ArrayLike]],
        kinds: Iterable[ZoneKind] = (ZoneKind.LAND, ZoneKind.TERRITORIAL_SEA),
    ) -> list[list[ZoneCrossing]]:
        """:meth:`crossings` of several ground tracks ``(t_s, lat_rad, lon_rad)`` at once.

        The answer for each track is the one :meth:`crossings` gives it alone; the tracks
        are classified and bisected in one batch, because a classification call costs
        about as much for one point as for a few hundred (an impact prediction's sigma
        points are a dozen tracks).
        """
        wanted = {ZoneKind(k).value for k in kinds}
        ts, lats, lons, rows = [], [], [], []
        for i, (t_s, lat_rad, lon_rad) in enumerate(tracks):
            t = np.asarray(t_s, dtype=np.float64).ravel()
            lat = np.degrees(np.asarray(lat_rad, dtype=np.float64).ravel())
            lon = np.unwrap(np.degrees(np.asarray(lon_rad, dtype=np.float64).ravel()),
                            period=360.0)
            if not (t.size == lat.size == lon.size):
                raise ValueError("t_s, lat_rad and lon_rad must have the same length")
            ts.append(t)
            lats.append(lat)
            lons.append(lon)
            rows.append(np.full(t.size, i, dtype=np.int64))
        out: list[list[ZoneCrossing]] = [[] for _ in tracks]
        if not tracks or not any(t.size for t in ts):
            return out
        t, lat, lon, row = (np.concatenate(a) for a in (ts, lats, lons, rows))

        def state(la: NDArray[np.float64], lo: NDArray[np.float64]) -> NDArray[np.str_]:
            nat, kind, _ = self._classify_deg(la, lo)
            keep = np.isin(kind, sorted(wanted)) & (nat != "")
            return np.where(keep, np.char.add(np.char.add(nat, "|"), kind), "")

        s = state(lat, lon)
        # Changes within a track only (never across the seam of two tracks).
        change = np.flatnonzero((s[1:] != s[:-1]) & (row[1:] == row[:-1]))
        # Vectorised bisection on every changing segment: keep lo in the left state.
        lo_f = np.zeros(change.size)
        hi_f = np.ones(change.size)
        left = s[change]
        for _ in range(_BISECT_STEPS if change.size else 0):
            mid = 0.5 * (lo_f + hi_f)
            la = lat[change] + mid * (lat[change + 1] - lat[change])
            lo_ = lon[change] + mid * (lon[change + 1] - lon[change])
            same = state(la, lo_) == left
            lo_f = np.where(same, mid, lo_f)
            hi_f = np.where(same, hi_f, mid)
        t_cross = t[change] + 0.5 * (lo_f + hi_f) * (t[change + 1] - t[change])

        first = 0
        for i, ti in enumerate(ts):
            if ti.size == 0:
                continue
            last = first + ti.size - 1
            mine = (change >= first) & (change < last)
            bounds = np.concatenate([[t[first]], t_cross[mine], [t[last]]])
            run_states = np.concatenate([s[first:first + 1], s[change[mine] + 1]])
            for k, st in enumerate(run_states):
                if st:
                    nat, kind = str(st).split("|")
                    out[i].append(ZoneCrossing(nat, ZoneKind(kind), float(bounds[k]),
                                               float(bounds[k + 1])))
            first = last + 1
        return out

    # ------------------------------------------------------------------ polygons for maps
    def land(self, nation: str) -> MultiPolygon:
        """Land of ``nation`` as a MultiPolygon in frame lon/lat degrees (empty if none)."""
        return _land_multipolygon(self, nation)

    def zone_polygon(self, nation: str, kind: ZoneKind, grid_deg: float | None = None
                     ) -> MultiPolygon:
        """Area of one zone kind of one nation, frame lon/lat degrees.

        LAND returns :meth:`land`. The sea kinds are made by classifying the centres of a
        regular lon/lat grid (``grid_deg``; default 0.02 deg for the territorial sea, 0.1 deg
        for the EEZ) around the nation's land and merging the cells, so edges are staircases
        of one cell. ``EEZ`` is the 12-200 nm band only; add the territorial sea and land for
        the whole 200-nm area.
        """
        kind = ZoneKind(kind)
        if kind is ZoneKind.LAND:
            return self.land(nation)
        if kind is ZoneKind.HIGH_SEAS:
            raise ValueError("the high seas belong to no nation")
        step = grid_deg or (0.02 if kind is ZoneKind.TERRITORIAL_SEA else 0.1)
        return _zone_polygon(self, nation, kind, float(step))


@lru_cache(maxsize=64)
def _land_multipolygon(zm: ZoneMap, nation: str) -> MultiPolygon:
    parts = zm.data.polygons[zm.data.nations == nation]
    return MultiPolygon(list(parts))


@lru_cache(maxsize=64)
def _zone_polygon(zm: ZoneMap, nation: str, kind: ZoneKind, step: float) -> MultiPolygon:
    reach_m = TERRITORIAL_SEA_M if kind is ZoneKind.TERRITORIAL_SEA else EEZ_M
    sel = zm.data.coast_nations == nation
    if not sel.any():
        return MultiPolygon()
    lon, lat = zm.data.coast_lon_deg[sel], zm.data.coast_lat_deg[sel]
    # Candidate cells: the coast cells dilated by the reach, on a bitmap over the bounding
    # grid. The east-west reach in cells grows with latitude, so rows are dilated in bands.
    pad_lat = reach_m / 111_000.0 + step
    r_j = int(np.ceil(pad_lat / step))
    ci = np.floor(lon / step).astype(np.int64)
    cj = np.floor(lat / step).astype(np.int64)
    row_lat = np.abs(np.arange(cj.min() - r_j, cj.max() + r_j + 1) * step) + pad_lat
    coslat = np.maximum(np.cos(np.radians(np.minimum(row_lat, 89.0))), 0.02)
    r_i_row = np.ceil(pad_lat / step / coslat).astype(np.int64)
    r_i_max = int(r_i_row.max())
    i0, j0 = int(ci.min()) - r_i_max, int(cj.min()) - r_j
    mask = np.zeros((int(cj.max()) + r_j - j0 + 1, int(ci.max()) + r_i_max - i0 + 1), dtype=bool)
    mask[cj - j0, ci - i0] = True
    mask = _dilate_axis(mask, r_j, axis=0)
    for r in np.unique(r_i_row):
        rows = np.flatnonzero(r_i_row == r)
        mask[rows] = _dilate_axis(mask[rows], int(r), axis=1)
    jj, ii = np.nonzero(mask)
    lon_c = (ii + i0 + 0.5) * step
    lat_c = (jj + j0 + 0.5) * step
    ok = np.abs(lat_c) < 90.0
    nat, knd, _ = zm._classify_deg(lat_c[ok], lon_c[ok])
    hit = np.zeros(mask.shape, dtype=bool)
    good = (nat == nation) & (knd == kind.value)
    hit[jj[ok][good], ii[ok][good]] = True
    return _cells_to_polygon(hit, i0, j0, step)


def _dilate_axis(a: NDArray[np.bool_], r: int, axis: int) -> NDArray[np.bool_]:
    """Binary dilation of a 2-D mask by 2r+1 cells along one axis (cumulative sums)."""
    c = np.cumsum(a, axis=axis, dtype=np.int32)
    zero = np.zeros_like(np.take(c, [0], axis=axis))
    c = np.concatenate([zero, c], axis=axis)
    n = a.shape[axis]
    hi = np.minimum(np.arange(n) + r + 1, n)
    lo = np.maximum(np.arange(n) - r, 0)
    return np.asarray(np.take(c, hi, axis=axis) - np.take(c, lo, axis=axis) > 0)


def _cells_to_polygon(hit: NDArray[np.bool_], i0: int, j0: int, step: float) -> MultiPolygon:
    """Merge grid cells into polygons via per-row runs (rectangles) and a union."""
    pad = np.zeros((hit.shape[0], 1), dtype=bool)
    d = np.diff(np.concatenate([pad, hit, pad], axis=1).astype(np.int8), axis=1)
    rs, cs = np.nonzero(d == 1)
    re, ce = np.nonzero(d == -1)
    if rs.size == 0:
        return MultiPolygon()
    # np.nonzero is row-major, so starts and ends pair up in order.
    boxes = shapely.box((cs + i0) * step, (rs + j0) * step, (ce + i0) * step,
                        (re + j0 + 1) * step)
    merged = shapely.union_all(boxes)
    parts = [g for g in shapely.get_parts(merged) if g.geom_type == "Polygon"]
    return MultiPolygon(parts)


_LOCK = threading.Lock()
_MAP: ZoneMap | None = None


def zone_map() -> ZoneMap:
    """The shared :class:`ZoneMap`, built (or loaded from the disk cache) on first use."""
    global _MAP
    with _LOCK:
        if _MAP is None:
            _MAP = ZoneMap(load_land())
        return _MAP

