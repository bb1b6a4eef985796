"""Territorial seas, 200-nm zones and ground-track crossings on the real data."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
import shapely
from pyproj import Geod

from trilink.geo import (
    EEZ_M,
    TERRITORIAL_SEA_M,
    ZoneCrossing,
    ZoneHit,
    ZoneKind,
    ZoneMap,
    zone_map,
)

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def zm() -> ZoneMap:
    return zone_map()


def locate_deg(zm: ZoneMap, lat: float, lon: float) -> ZoneHit:
    return zm.locate(math.radians(lat), math.radians(lon))


def geod_min_distance_m(lat: float, lon: float, land: shapely.MultiPolygon,
                        box: tuple[float, float, float, float]) -> float:
    """Independent check: shortest WGS84 geodesic to any coastline vertex inside box."""
    c = shapely.get_coordinates(shapely.boundary(land.intersection(shapely.box(*box))))
    _, _, d = GEOD.inv(np.full(len(c), lon), np.full(len(c), lat), c[:, 0], c[:, 1])
    return float(np.min(d))


def test_sea_east_of_sokcho_is_korean_eez(zm: ZoneMap) -> None:
    """About 57 km east of Sokcho (38.21 N 128.59 E): Korean EEZ, not territorial sea."""
    _, _, d = GEOD.inv(128.59, 38.21, 129.25, 38.2)
    assert 55e3 < d < 60e3
    hit = locate_deg(zm, 38.2, 129.25)
    assert hit.nation == "KOR"
    assert hit.kind is ZoneKind.EEZ
    assert TERRITORIAL_SEA_M < hit.distance_to_coast_m < 57e3


def test_five_km_off_japan_is_territorial_sea(zm: ZoneMap) -> None:
    """East of Cape Inubo (Choshi), about 5 km offshore."""
    hit = locate_deg(zm, 35.70, 140.93)
    assert hit.nation == "JPN"
    assert hit.kind is ZoneKind.TERRITORIAL_SEA
    assert 3e3 < hit.distance_to_coast_m < 8e3


def test_distance_to_coast_matches_pyproj(zm: ZoneMap) -> None:
    box = (139.5, 34.5, 142.0, 36.5)
    for lat, lon in [(35.70, 140.93), (35.0, 141.2), (35.5, 141.6), (34.7, 140.3)]:
        ours = locate_deg(zm, lat, lon).distance_to_coast_m
        ref = geod_min_distance_m(lat, lon, zm.land("JPN"), box)
        # Our coast is simplified by 100 m and densified to 1 km; vertices only in ref.
        assert ours == pytest.approx(ref, abs=300.0), (lat, lon)


def test_sea_of_japan_split_by_equidistance(zm: ZoneMap) -> None:
    """Points between Ulleungdo (KOR) and the Oki islands (JPN) go to the nearer coast."""
    box = (129.0, 34.5, 135.0, 39.0)
    lon0, lat0, lon1, lat1 = 130.90, 37.48, 133.20, 36.20  # Ulleungdo -> Oki
    seen = set()
    for f in np.linspace(0.15, 0.85, 15):
        lat, lon = lat0 + f * (lat1 - lat0), lon0 + f * (lon1 - lon0)
        d_kor = geod_min_distance_m(lat, lon, zm.land("KOR"), box)
        d_jpn = geod_min_distance_m(lat, lon, zm.land("JPN"), box)
        hit = locate_deg(zm, lat, lon)
        assert hit.kind is ZoneKind.EEZ
        if abs(d_kor - d_jpn) > 2e3:  # away from the line itself
            assert hit.nation == ("KOR" if d_kor < d_jpn else "JPN"), (lat, lon)
            seen.add(hit.nation)
    assert seen == {"KOR", "JPN"}


def test_far_pacific_is_high_seas(zm: ZoneMap) -> None:
    hit = locate_deg(zm, 40.0, 170.0)
    assert hit.nation is None
    assert hit.kind is ZoneKind.HIGH_SEAS
    assert hit.distance_to_coast_m > EEZ_M
    nat, kind = zm.classify(np.radians([40.0]), np.radians([170.0]))
    assert nat[0] == "" and kind[0] == "high_seas"


def test_near_guam_is_american(zm: ZoneMap) -> None:
    hit = locate_deg(zm, 13.30, 144.50)  # ~15 km off the SW coast of Guam
    assert (hit.nation, hit.kind) == ("USA", ZoneKind.TERRITORIAL_SEA)
    hit = locate_deg(zm, 12.5, 145.0)  # ~100 km south of Guam
    assert (hit.nation, hit.kind) == ("USA", ZoneKind.EEZ)


def test_honolulu_and_hawaiian_eez(zm: ZoneMap) -> None:
    assert locate_deg(zm, 21.31, -157.86) == ZoneHit(
        "USA", ZoneKind.LAND, locate_deg(zm, 21.31, -157.86).distance_to_coast_m)
    assert locate_deg(zm, 23.0, -155.0).nation == "USA"  # ~200 km NE of Maui: EEZ


def test_aleutian_eez_across_dateline(zm: ZoneMap) -> None:
    east = locate_deg(zm, 51.0, 179.5)
    west = locate_deg(zm, 51.0, -179.5)
    assert east.nation == west.nation == "USA"
    assert east.kind is west.kind is ZoneKind.EEZ


def test_northern_territories_sea_is_russian(zm: ZoneMap) -> None:
    """Between Kunashir and Iturup (de facto Russian), far from Hokkaido."""
    hit = locate_deg(zm, 44.8, 147.2)
    assert hit.nation == "RUS"


def test_classify_shapes_and_kinds(zm: ZoneMap) -> None:
    lat = np.radians([[37.57, 38.2], [40.0, 35.70]])
    lon = np.radians([[126.98, 129.25], [170.0, 140.93]])
    nat, kind = zm.classify(lat, lon)
    assert nat.shape == kind.shape == (2, 2)
    assert nat.tolist() == [["KOR", "KOR"], ["", "JPN"]]
    assert kind.tolist() == [["land", "eez"], ["high_seas", "territorial_sea"]]
    # Scalars broadcast too.
    n1, k1 = zm.classify(math.radians(37.57), math.radians(126.98))
    assert n1.shape == () and str(n1) == "KOR" and str(k1) == "land"


def test_classification_speed(zm: ZoneMap) -> None:
    rng = np.random.default_rng(1)
    lat = np.radians(rng.uniform(25.0, 50.0, 100_000))
    lon = np.radians(rng.uniform(120.0, 150.0, 100_000))
    zm.classify(lat[:10], lon[:10])
    t0 = time.perf_counter()
    nat, _ = zm.classify(lat, lon)
    elapsed = time.perf_counter() - t0
    assert elapsed < 2.0  # measured ~0.25 s; generous for slow CI machines
    assert {"JPN", "KOR", "CHN", "RUS", "PRK"} <= set(nat.tolist())


def great_circle_track(lat0: float, lon0: float, lat1: float, lon1: float, speed_m_s: float
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground track sampled at 1 s: times (s) and lat/lon (degrees)."""
    az, _, dist = GEOD.inv(lon0, lat0, lon1, lat1)
    t = np.arange(0.0, dist / speed_m_s, 1.0)
    lon, lat, _ = GEOD.fwd(np.full(t.size, lon0), np.full(t.size, lat0), np.full(t.size, az),
                           speed_m_s * t)
    return t, np.asarray(lat), np.asarray(lon)


def test_crossing_northern_honshu(zm: ZoneMap) -> None:
    speed = 2000.0
    t, lat, lon = great_circle_track(40.5, 139.5, 40.5, 142.5, speed)
    xs = zm.crossings(t, np.radians(lat), np.radians(lon))
    kinds = [(c.nation, c.kind) for c in xs]
    assert kinds == [("JPN", ZoneKind.TERRITORIAL_SEA), ("JPN", ZoneKind.LAND),
                     ("JPN", ZoneKind.TERRITORIAL_SEA)]
    ts_in, land, ts_out = xs
    assert ts_in.t_exit_s == pytest.approx(land.t_enter_s)
    assert land.t_exit_s == pytest.approx(ts_out.t_enter_s)
    assert ts_in.t_enter_s > t[0] and ts_out.t_exit_s < t[-1]

    # Independent: where does the sampled track (a lon/lat polyline) cut Japan's land?
    track = shapely.LineString(np.column_stack([lon, lat]))
    cut = track.intersection(zm.land("JPN"))
    pieces = shapely.get_parts(cut)
    lon_in = min(p.bounds[0] for p in pieces)
    lon_out = max(p.bounds[2] for p in pieces)
    assert 139.8 < lon_in < 140.2  # the Sea of Japan coast near Fukaura / Hachimori
    assert 141.3 < lon_out < 141.8  # the Pacific coast near Hachinohe
    t_in = float(np.interp(lon_in, lon, t))
    t_out = float(np.interp(lon_out, lon, t))
    assert land.t_enter_s == pytest.approx(t_in, abs=0.05)
    assert land.t_exit_s == pytest.approx(t_out, abs=0.05)
    # 12 nm of territorial sea at 2 km/s: about 11 s or more (coast not perpendicular).
    assert land.t_enter_s - ts_in.t_enter_s > TERRITORIAL_SEA_M / speed - 1.0
    assert ts_out.t_exit_s - land.t_exit_s > TERRITORIAL_SEA_M / speed - 1.0


def test_crossings_with_eez_and_partial_runs(zm: ZoneMap) -> None:
    """Starting on land: the first run starts at t[0]; EEZ runs are reported when asked."""
    t, lat, lon = great_circle_track(38.5, 127.0, 38.2, 131.0, 3000.0)  # DPRK/ROK -> sea
    xs = zm.crossings(t, np.radians(lat), np.radians(lon),
                      kinds=(ZoneKind.LAND, ZoneKind.TERRITORIAL_SEA, ZoneKind.EEZ))
    assert xs[0].t_enter_s == t[0]
    assert xs[0].kind is ZoneKind.LAND
    assert ZoneKind.EEZ in {c.kind for c in xs}
    assert all(isinstance(c, ZoneCrossing) and c.t_exit_s >= c.t_enter_s for c in xs)
    assert all(a.t_exit_s == pytest.approx(b.t_enter_s) for a, b in itertools.pairwise(xs))
    assert xs[-1].t_exit_s == t[-1]
    # Filtering to land only keeps just the land runs.
    land = zm.crossings(t, np.radians(lat), np.radians(lon), kinds=(ZoneKind.LAND,))
    assert [c for c in xs if c.kind is ZoneKind.LAND] == land


def test_crossings_across_dateline(zm: ZoneMap) -> None:
    """A track over the western Aleutians keeps working when longitude wraps."""
    t, lat, lon = great_circle_track(52.5, 176.0, 50.5, -176.0, 3000.0)
    wrapped = np.where(lon > 180.0, lon - 360.0, lon)
    xs = zm.crossings(t, np.radians(lat), np.radians(wrapped),
                      kinds=(ZoneKind.EEZ, ZoneKind.TERRITORIAL_SEA, ZoneKind.LAND))
    assert xs and {c.nation for c in xs} == {"USA"}


def test_crossings_of_many_tracks_are_each_tracks_own(zm: ZoneMap) -> None:
    """Batched, every track gets what it gets alone: nothing leaks across the seam where
    one track's samples end and the next one's begin (here land, then open sea)."""
    honshu = great_circle_track(40.5, 139.5, 40.5, 142.5, 2000.0)
    korea = great_circle_track(38.5, 127.0, 38.2, 131.0, 3000.0)
    at_sea = great_circle_track(30.0, 150.0, 30.5, 152.0, 3000.0)
    empty = (np.array([]), np.array([]), np.array([]))
    one_point = tuple(a[:1] for a in honshu)  # in Japan's zone off Akita
    tracks = [(t, np.radians(la), np.radians(lo)) for t, la, lo in
              (honshu, korea, empty, at_sea, one_point)]
    kinds = (ZoneKind.LAND, ZoneKind.TERRITORIAL_SEA, ZoneKind.EEZ)
    batched = zm.crossings_many(tracks, kinds)
    alone = [zm.crossings(t, la, lo, kinds) for t, la, lo in tracks]
    assert batched == alone
    assert batched[0] and batched[1] and batched[2] == [] and batched[3] == []
    assert len(batched[4]) == 1 and batched[4][0].t_enter_s == batched[4][0].t_exit_s


def test_zone_polygons(zm: ZoneMap) -> None:
    ts = zm.zone_polygon("KOR", ZoneKind.TERRITORIAL_SEA)
    eez = zm.zone_polygon("KOR", ZoneKind.EEZ)
    land = zm.zone_polygon("KOR", ZoneKind.LAND)
    assert land.contains(shapely.Point(126.98, 37.57))
    assert eez.contains(shapely.Point(129.25, 38.2))
    assert not ts.contains(shapely.Point(129.25, 38.2))
    assert not eez.contains(shapely.Point(133.2, 36.5))  # off Oki: Japanese
    hit = locate_deg(zm, 35.0, 129.2)  # off Busan
    assert hit.kind is ZoneKind.TERRITORIAL_SEA
    assert ts.buffer(0.03).contains(shapely.Point(129.2, 35.0))  # one grid cell of slack
    with pytest.raises(ValueError):
        zm.zone_polygon("KOR", ZoneKind.HIGH_SEAS)
