"""The heading corridor: where a non-ballistic track may pass over or fall.

A glide vehicle or a manoeuvring missile does not follow its ballistic impact
prediction: the pull-up stretches the range, a skip or a turn moves it. What is known is
where the track is and where it heads. The corridor runs from the track's sub-point along
its ground heading out to the reach of such vehicles (``policy.non_ballistic``), widened
by the corridor half-width on both sides; land of a nation inside it is what that nation
is warned about ("may pass over / may fall on"), with no impact point claimed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trilink.geo import ZoneKind, zone_map
from trilink.physics import earth
from trilink.warning.policy import NonBallistic

F = NDArray[np.float64]


@dataclass(frozen=True)
class Corridor:
    """The corridor of one track state for one nation."""

    heading_rad: float
    centre_deg: tuple[tuple[float, float], ...]  # (lat, lon) along the heading
    land_share: float  # share of the corridor's lines (left, centre, right) that touch land
    first_land_m: float | None  # distance ahead to the nation's land, if any


def heading_corridor(x: F, nation: str, rules: NonBallistic) -> Corridor:
    """The corridor ahead of a track state ``x`` (ECEF position and velocity first)."""
    r = np.asarray(x[:3], dtype=np.float64)
    v = np.asarray(x[3:6], dtype=np.float64)
    lat, lon, _ = earth.ecef_to_geodetic(r)
    lat0, lon0 = float(lat), float(lon)
    e, n, _ = earth.enu_basis(lat0, lon0) @ v  # rows: east, north, up unit vectors
    heading = float(np.arctan2(e, n) % (2 * np.pi))
    dist = np.arange(0.0, rules.max_range_m + rules.step_m, rules.step_m)
    lat_c, lon_c = earth.geodesic_direct(lat0, lon0, heading, dist)
    lines = widened(lat_c, lon_c, heading, rules.corridor_half_width_m)
    touches, first = land_touches(lines, dist, nation)
    step = max(1, len(dist) // 60)
    centre = tuple((float(a), float(b)) for a, b in zip(
        np.degrees(lat_c[::step]), np.degrees(lon_c[::step]), strict=True))
    return Corridor(heading, centre, touches / len(lines), first)


def widened(lat_rad: F, lon_rad: F, heading_rad: float, half_width_m: float
            ) -> list[tuple[F, F]]:
    """A ground line on ``heading_rad`` and its two edges ``half_width_m`` to its left and
    right: the lines whose land touches make a corridor's share."""
    lines = [(lat_rad, lon_rad)]
    for side in (-0.5 * math.pi, 0.5 * math.pi):
        lines.append(earth.geodesic_direct(lat_rad, lon_rad, heading_rad + side, half_width_m))
    return lines


def land_touches(lines: Sequence[tuple[F, F]], dist_m: F, nation: str
                 ) -> tuple[int, float | None]:
    """How many ground lines (lat, lon arrays in rad, sampled at ``dist_m`` along them)
    touch ``nation``'s land, and the shortest distance along them to a touch (None: none
    does)."""
    touches = 0
    first: float | None = None
    for la, lo in lines:
        nations, kinds = zone_map().classify(la, lo)
        hit = (nations == nation) & (kinds == ZoneKind.LAND.value)
        if hit.any():
            touches += 1
            d = float(dist_m[int(np.argmax(hit))])
            first = d if first is None else min(first, d)
    return touches, first
