"""Fitted flights against the public record of whose land and sea they met.

Each scenario's azimuth was set from its published impact description
(tools/make_scenarios.py); these tests check the *consequences*: overflight of the
right land at about the published times, and impact in or out of the right zones.
"""

from __future__ import annotations

import numpy as np
import pytest

from trilink.geo import ZoneKind, zone_map
from trilink.sim.flights import LaunchFlight


def _track(lf: LaunchFlight) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.arange(0.0, lf.fit.summary.flight_time_s, 1.0)
    lat, lon, _ = lf.fit.flight.geodetic_at(t)
    return t, lat, lon


def _japanese_land_seconds(lf: LaunchFlight) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, lat, lon = _track(lf)
    nation, kind = zone_map().classify(lat, lon)
    over = (nation == "JPN") & (kind == ZoneKind.LAND.value)
    return t[over], np.degrees(lat[over]), np.degrees(lon[over])


@pytest.mark.parametrize(
    ("event", "window_s"),
    [
        # launch 07:22 JST; passed over Aomori ~07:28-07:29 (±1 min for minute rounding)
        ("2022-10-04-irbm-overflight", (300.0, 480.0)),
    ],
)
def test_2022_10_04_passes_over_aomori_at_the_published_time(
    event: str, window_s: tuple[float, float], historical_flights: dict[str, LaunchFlight]
) -> None:
    t, lat, lon = _japanese_land_seconds(historical_flights[event])
    assert t.size > 0, "the track never crosses Japanese land"
    aomori = (lat > 40.2) & (lat < 41.6) & (lon > 139.8) & (lon < 141.7)
    assert aomori.any(), "no Japanese land under the track is in Aomori"
    assert window_s[0] <= t[aomori].min() and t[aomori].max() <= window_s[1]
    crossings = zone_map().crossings(*_track(historical_flights[event]))
    assert "JPN" in {c.nation for c in crossings if c.kind == ZoneKind.LAND}


@pytest.mark.parametrize(
    "event",
    # 2017-08-29: launch 05:58, over Oshima and Cape Erimo ~06:05-06:07 JST;
    # 2017-09-15: launch 06:57, over Oshima and Cape Erimo ~07:04-07:06 JST.
    ["2017-08-29-hwasong12-overflight", "2017-09-15-hwasong12-overflight"],
)
def test_2017_overflights_cross_oshima_and_cape_erimo_at_the_published_times(
    event: str, historical_flights: dict[str, LaunchFlight]
) -> None:
    t, lat, lon = _japanese_land_seconds(historical_flights[event])
    oshima = (lon > 139.9) & (lon < 141.2) & (lat > 41.3) & (lat < 42.4)
    erimo = (lon > 142.6) & (lon < 143.4) & (lat > 41.8) & (lat < 42.6)
    assert oshima.any(), "does not overfly the Oshima Peninsula"
    assert erimo.any(), "does not overfly the Cape Erimo area"
    # Published window 7-9 min after launch, widened by a minute each side (rounding).
    assert t[oshima].min() >= 6 * 60 and t[erimo].max() <= 10 * 60


@pytest.mark.parametrize(
    ("event", "inside"),
    [
        ("2022-11-18-hwasong17", True),
        ("2017-07-28-hwasong14", True),
        ("2017-11-29-hwasong15", True),
        ("2017-07-04-hwasong14", True),
        ("2023-02-18-hwasong15", True),
        ("2017-05-14-hwasong12", False),
        ("2023-12-17-srbm", False),
        ("2023-04-13-hwasong18", False),
        ("2022-10-04-irbm-overflight", False),
        ("2017-08-29-hwasong12-overflight", False),
        ("2017-09-15-hwasong12-overflight", False),
    ],
)
def test_impact_inside_or_outside_japans_zone_as_published(
    event: str, inside: bool, historical_flights: dict[str, LaunchFlight]
) -> None:
    s = historical_flights[event].fit.summary
    hit = zone_map().locate(s.impact_lat_rad, s.impact_lon_rad)
    in_japan = hit.nation == "JPN" and hit.kind in (ZoneKind.EEZ, ZoneKind.TERRITORIAL_SEA)
    assert in_japan is inside, hit


def test_2022_11_02_srbm_falls_south_of_the_nll_east_of_sokcho_outside_korean_waters(
    historical_flights: dict[str, LaunchFlight],
) -> None:
    s = historical_flights["2022-11-02-srbm-south-of-nll"].fit.summary
    lat, lon = np.degrees(s.impact_lat_rad), np.degrees(s.impact_lon_rad)
    assert lat < 38.61  # the NLL runs east from the MDL's coastal end near 38°37' N
    assert lon > 128.59  # Sokcho
    hit = zone_map().locate(s.impact_lat_rad, s.impact_lon_rad)
    assert hit.nation == "KOR" and hit.kind == ZoneKind.EEZ
    assert hit.distance_to_coast_m > 12 * 1852.0


@pytest.mark.parametrize(
    ("event", "boxes", "segments"),
    [
        # (lat_min, lat_max, lon_min, lon_max): Aomori; the Oshima Peninsula, and the
        # Hidaka coast from Urakawa to Cape Erimo (wider west than the Erimo box above,
        # which checks only that the cape's area is crossed).
        ("2022-10-04-irbm-overflight", [(40.2, 41.6, 139.8, 141.7)], 1),
        ("2017-08-29-hwasong12-overflight",
         [(41.3, 42.4, 139.9, 141.2), (41.8, 42.6, 142.3, 143.4)], 2),
        ("2017-09-15-hwasong12-overflight",
         [(41.3, 42.4, 139.9, 141.2), (41.8, 42.6, 142.3, 143.4)], 2),
    ],
)
def test_overflights_meet_japanese_land_only_inside_the_boxes_with_sea_either_side(
    event: str, boxes: list[tuple[float, float, float, float]], segments: int,
    historical_flights: dict[str, LaunchFlight],
) -> None:
    """The boxes above only say where land was crossed; this checks the other way round:
    no Japanese land is crossed outside them, and the second just before and just after
    each crossing (points just off the coast, outside the land) is Japan's territorial
    sea, so each crossing starts and ends at a real coastline."""
    t, lat, lon = _track(historical_flights[event])
    nation, kind = zone_map().classify(lat, lon)
    over = (nation == "JPN") & (kind == ZoneKind.LAND.value)
    la, lo = np.degrees(lat[over]), np.degrees(lon[over])
    inside = np.zeros(la.shape, dtype=bool)
    for s, n, w, e in boxes:
        inside |= (la > s) & (la < n) & (lo > w) & (lo < e)
    assert over.sum() >= 10 and inside.all(), "Japanese land crossed outside the boxes"
    edges = np.flatnonzero(np.diff(over.astype(np.int8)))
    assert len(edges) == 2 * segments  # each crossing enters and leaves land once
    starts, ends = edges[::2], edges[1::2] + 1  # last second before, first second after
    for i in (*starts, *ends):
        assert (nation[i], kind[i]) == ("JPN", ZoneKind.TERRITORIAL_SEA.value), t[i]
