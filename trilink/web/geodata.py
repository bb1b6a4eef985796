"""The dashboard's map layers, from the project's own offline data (no tile server).

- coastlines: GSHHS land (``trilink.geo``) of every nation in the theatre, simplified;
- 12-nm territorial seas and 200-nm zones of Japan and Korea (``ZoneMap.zone_polygon``);
- sensor sites (``trilink/data/sensors.yaml``) with their coverage: the azimuth sector
  out to the reference detection range (Pd 0.9 on a 0.1 m² target, the catalogue's R1);
- launch sites: the distinct sites of the reference launch table (``launches.csv``).

Built once and cached on disk next to the zone cache (keyed by the land data digest),
so a dashboard starts in well under a second after the first time.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np
import shapely
from shapely.geometry import box, mapping

from trilink.fileio import write_bytes_atomic

THEATRE_LON_LAT: Final = (100.0, 10.0, 180.0, 60.0)  # west, south, east, north (deg)
SIMPLIFY_DEG: Final = 0.01
ZONE_NATIONS: Final = ("JPN", "KOR")
CACHE_VERSION: Final = 1


def _feature(geom: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


def _clip(geom: Any) -> Any:
    g = shapely.intersection(geom, box(*THEATRE_LON_LAT))
    g = shapely.simplify(g, SIMPLIFY_DEG, preserve_topology=True)
    return shapely.set_precision(g, 0.001)  # ~100 m: the map needs no more


def build_layers() -> dict[str, Any]:
    """Coastlines and zones as GeoJSON FeatureCollections (lon/lat degrees)."""
    from trilink.geo import ZoneKind, zone_map

    zm = zone_map()
    land = []
    for nation in sorted(set(zm.data.nations.tolist())):
        g = _clip(zm.land(nation))
        if not g.is_empty:
            land.append(_feature(g, nation=nation))
    zones = []
    for nation in ZONE_NATIONS:
        for kind, label in ((ZoneKind.EEZ, "200 nm"), (ZoneKind.TERRITORIAL_SEA, "12 nm")):
            g = _clip(zm.zone_polygon(nation, kind))
            if not g.is_empty:
                zones.append(_feature(g, nation=nation, zone=str(kind), label=label))
    return {"land": {"type": "FeatureCollection", "features": land},
            "zones": {"type": "FeatureCollection", "features": zones}}


def _sector(lat_deg: float, lon_deg: float, az_min_deg: float, az_max_deg: float,
            range_m: float, full: bool) -> list[list[float]]:
    """A coverage sector as a [lat, lon] ring (geodesic, WGS84)."""
    from trilink.physics.earth import geodesic_direct

    width = 360.0 if full else (az_max_deg - az_min_deg) % 360.0 or 360.0
    n = max(8, int(width / 3.0))
    az = np.radians(az_min_deg + np.linspace(0.0, width, n + 1))
    lat, lon = geodesic_direct(math.radians(lat_deg), math.radians(lon_deg), az,
                               np.full(az.shape, range_m))
    ring = [[round(float(a), 4), round(float(o), 4)]
            for a, o in zip(np.degrees(lat), np.degrees(lon), strict=True)]
    return ring if full else [[lat_deg, lon_deg], *ring, [lat_deg, lon_deg]]


def sensor_sites() -> list[dict[str, Any]]:
    """Every sensor of the catalogue: position and, for radars, the coverage sector."""
    from trilink.sensors.catalogue import RadarSpec, sensor_catalogue

    out = []
    for sid, spec in sorted(sensor_catalogue().items()):
        site: dict[str, Any] = {"id": sid, "nation": spec.nation, "name": spec.name,
                                "kind": str(spec.kind)}
        if isinstance(spec, RadarSpec):
            site |= {"lat_deg": spec.lat_deg, "lon_deg": spec.lon_deg,
                     "range_km": spec.ref_range_km,
                     "coverage": _sector(spec.lat_deg, spec.lon_deg, spec.az_min_deg,
                                         spec.az_max_deg, spec.ref_range_km * 1e3,
                                         spec.full_circle)}
        out.append(site)
    return out


def launch_sites() -> list[dict[str, Any]]:
    """Distinct launch sites of the reference table, with how many launches each."""
    text = resources.files("trilink.data").joinpath("launches.csv").read_text("utf-8")
    sites: dict[str, dict[str, Any]] = {}
    for row in csv.DictReader(text.splitlines()):
        name = row["launch_site"].strip()
        s = sites.setdefault(name, {"name": name, "lat_deg": float(row["launch_lat"]),
                                    "lon_deg": float(row["launch_lon"]), "launches": 0})
        s["launches"] += 1
    return sorted(sites.values(), key=lambda s: str(s["name"]))


def _cache_file() -> Path:
    from trilink.geo.land import best_resolution, data_digest
    from trilink.geo.zones import cache_dir

    h = hashlib.sha256(f"{CACHE_VERSION}:{data_digest(best_resolution())}:"
                       f"{THEATRE_LON_LAT}:{SIMPLIFY_DEG}".encode())
    # The code that draws the zones and the sensor catalogue change the layers too.
    geo = Path(__file__).parent.parent / "geo"
    for name in ("land.py", "seeds.py", "zones.py"):
        h.update((geo / name).read_bytes())
    h.update(Path(__file__).read_bytes())
    h.update(resources.files("trilink.data").joinpath("sensors.yaml").read_bytes())
    key = h.hexdigest()[:16]
    return cache_dir() / f"dashboard-layers-{key}.json"


@functools.lru_cache(maxsize=1)
def map_layers() -> bytes:
    """All map layers as one JSON document (built once, cached on disk)."""
    path = _cache_file()
    try:
        return path.read_bytes()
    except OSError:
        pass
    doc = {**build_layers(), "sensors": sensor_sites(), "launch_sites": launch_sites(),
           "theatre": THEATRE_LON_LAT}
    data = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    with contextlib.suppress(OSError):  # a read-only cache folder costs a rebuild next time
        write_bytes_atomic(path, data)
    return data
