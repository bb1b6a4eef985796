"""Territory and sea zones: nation land, 12-nm territorial seas, 200-nm zones, overflight.

Angles are radians at the API, degrees only in files and returned map polygons.
"""

from trilink.geo.zones import (
    EEZ_M,
    NAUTICAL_MILE_M,
    TERRITORIAL_SEA_M,
    ZoneCrossing,
    ZoneHit,
    ZoneKind,
    ZoneMap,
    zone_map,
)

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
