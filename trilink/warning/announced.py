"""Announced exercise launches: a drill's own targets are warned as drills, never as
real threats.

An exercise announces its launches (a site, a radius and a time window — a NOTAM in
effect): the allies' own ballistic targets fired from Kauai in Pacific Dragon, say. A
track whose ballistic back-propagation puts its launch inside an announced window and
circle is a *drill track*: the warning centre still assesses it and issues its warnings
(they are scored), but every CAP message about it carries ``status`` Exercise and a
headline that says so — whatever the node's own status — so a public alerting system
that acts on Actual messages never acts on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trilink.physics import earth
from trilink.tracking.impact import estimate_launch

F = NDArray[np.float64]


@dataclass(frozen=True)
class AnnouncedLaunch:
    """A launch window an exercise announced (times in seconds since the node's epoch)."""

    label: str
    lat_rad: float
    lon_rad: float
    radius_m: float
    start_s: float
    end_s: float

    def __post_init__(self) -> None:
        for name in ("lat_rad", "lon_rad", "radius_m", "start_s", "end_s"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name}: expected a finite number")
        if self.radius_m <= 0 or self.end_s < self.start_s:
            raise ValueError("an announced launch needs a positive radius and end ≥ start")

    def covers(self, lat_rad: float, lon_rad: float, t_s: float, slack_s: float = 60.0
               ) -> bool:
        if not self.start_s - slack_s <= t_s <= self.end_s + slack_s:
            return False
        site = earth.geodetic_to_ecef(self.lat_rad, self.lon_rad, 0.0)
        here = earth.geodetic_to_ecef(lat_rad, lon_rad, 0.0)
        return float(np.linalg.norm(np.asarray(here) - np.asarray(site))) <= self.radius_m


def announced_match(x: F, t_s: float, first_seen_s: float | None,
                    announced: tuple[AnnouncedLaunch, ...]) -> AnnouncedLaunch | None:
    """The announced launch a track came from, or None.

    The ballistic back-propagation gives the launch point and time; while the engine
    still burns it may not reach the ground, and then the track's ground point at its
    first sighting stands in (inside twice the radius, by the first sighting's time).
    """
    if not announced:
        return None
    est = estimate_launch(x, t_s)
    if est is not None:
        for a in announced:
            if a.covers(est.lat_rad, est.lon_rad, est.t_s):
                return a
        return None
    lat, lon, _ = earth.ecef_to_geodetic(np.asarray(x, dtype=np.float64)[:3])
    when = t_s if first_seen_s is None else first_seen_s
    for a in announced:
        wide = AnnouncedLaunch(a.label, a.lat_rad, a.lon_rad, 2 * a.radius_m, a.start_s,
                               a.end_s)
        if wide.covers(float(lat), float(lon), when):
            return a
    return None
