"""What a missile can fly: the apogee-range pairs inside its physical limits.

A type's envelope is traced by its vehicle model, not read off its past tests: full burn
(at the shortest burn time its thrust bounds allow, the most efficient case) with its
lightest payload, over final pitch angles from nearly flat to nearly vertical. Every
shot with less energy (earlier cut-off, heavier payload) lies inside that curve, so the
region between the curve and the origin is what the fit can reach. A request outside it
is explained with the nearest point on the curve (relative distance in apogee and range).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trilink.physics import earth
from trilink.physics.missiles import MissileProfile
from trilink.physics.trajectory import StepSizes, propagate
from trilink.physics.vehicle import LaunchControls

F = NDArray[np.float64]

# Denser toward vertical: lofted test shots live between 75 and 89 degrees.
PITCH_GRID_DEG = np.concatenate([np.linspace(3.0, 60.0, 12), np.linspace(64.0, 89.5, 14)])


@dataclass(frozen=True)
class Envelope:
    """Boundary of what one profile can fly from one site along one bearing."""

    profile: MissileProfile
    pitch_rad: F
    apogee_m: F
    range_m: F

    @property
    def max_apogee_m(self) -> float:
        return float(self.apogee_m.max())

    @property
    def lofted_apogee_m(self) -> float:
        """Apogee of the steepest shot: the limit of lofted tests (range near zero)."""
        return float(self.apogee_m[-1])

    @property
    def max_range_m(self) -> float:
        return float(self.range_m.max())

    def _polygon(self) -> tuple[F, F]:
        x = np.concatenate([[0.0], self.range_m, [0.0]])
        y = np.concatenate([[0.0], self.apogee_m, [self.apogee_m[-1]]])
        return x, y

    def contains(self, apogee_m: float, range_m: float) -> bool:
        """Inside the full-burn curve closed through the origin: a ray cast upward (toward
        higher apogee) at the request's range crosses the boundary an odd number of times.
        Upward, because the closing edges lie at range 0 and flat near-orbital shots
        (high apogee, very long range) then never count for a short-range loft."""
        x, y = self._polygon()
        inside = False
        n = len(x)
        for i in range(n):
            x0, y0, x1, y1 = x[i], y[i], x[(i + 1) % n], y[(i + 1) % n]
            if (x0 > range_m) != (x1 > range_m):
                cross = y0 + (range_m - x0) * (y1 - y0) / (x1 - x0)
                if apogee_m < cross:
                    inside = not inside
        return inside

    def nearest(self, apogee_m: float, range_m: float) -> tuple[float, float]:
        """The point of the curve nearest to (apogee, range), relative to the request."""
        s = np.linspace(0.0, 1.0, 40)[None, :]
        a = (self.apogee_m[:-1, None] * (1 - s) + self.apogee_m[1:, None] * s).ravel()
        r = (self.range_m[:-1, None] * (1 - s) + self.range_m[1:, None] * s).ravel()
        d = ((a - apogee_m) / apogee_m) ** 2 + ((r - range_m) / range_m) ** 2
        k = int(np.argmin(d))
        return float(a[k]), float(r[k])

    def distance(self, apogee_m: float, range_m: float) -> float:
        """Relative distance to the nearest boundary point (0 inside)."""
        if self.contains(apogee_m, range_m):
            return 0.0
        a, r = self.nearest(apogee_m, range_m)
        return float(np.hypot((a - apogee_m) / apogee_m, (r - range_m) / range_m))


def limit_profile(profile: MissileProfile) -> MissileProfile:
    """The profile at its most energetic physical limit: shortest burn, lightest payload."""
    return profile.with_burn_time_scale(profile.burn_time_scale_bounds[0]).with_payload(
        profile.lightest_payload_kg)


def envelopes(
    profiles: Sequence[MissileProfile],
    lat_rad: float,
    lon_rad: float,
    azimuth_rad: float,
    height_m: float = 0.0,
    steps: StepSizes | None = None,
    at_limit: bool = True,
) -> list[Envelope]:
    """The envelope of each profile, all flights in one batch.

    With ``at_limit`` the profile is first taken to its limits (:func:`limit_profile`);
    otherwise it is flown as given (e.g. a chosen payload and burn time)."""
    flown = [limit_profile(p) if at_limit else p for p in profiles]
    pitches = np.radians(PITCH_GRID_DEG)
    rows: list[MissileProfile] = []
    ctl: list[LaunchControls] = []
    for p in flown:
        for pitch in pitches:
            rows.append(p)
            ctl.append(LaunchControls(lat_rad, lon_rad, azimuth_rad, float(pitch), 1.0,
                                      height_m))
    batch = propagate(rows, ctl, steps)
    out: list[Envelope] = []
    m = len(pitches)
    for i, p in enumerate(flown):
        keep: list[int] = []
        apo: list[float] = []
        rng: list[float] = []
        for j in range(m):
            f = batch.row(i * m + j)
            if not f.impacted:
                continue  # flat full-burn ICBM shots go into orbit: no impact, no range
            lat, lon, h = earth.ecef_to_geodetic(f.r_ecef_m)
            keep.append(j)
            apo.append(float(h.max()))
            rng.append(float(earth.geodesic_inverse(lat[0], lon[0], lat[-1], lon[-1])[1]))
        out.append(Envelope(p, pitches[keep], np.array(apo), np.array(rng)))
    return out
