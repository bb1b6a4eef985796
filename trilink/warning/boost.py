"""The boost-phase warning: "may pass over / may fall on" from an early track's heading.

While a missile's engines burn, its ballistic impact point only says where it would fall
if they stopped now: it runs downrange at kilometres per second and is no basis for a
warning (the warning centre's powered hold). What an early track does know — space-based
infrared sees the booster within seconds, and its bearings and the first radar plots
give the track a heading soon after — is where the missile is and where it heads. A
missile climbing at a shallow flight-path angle on a heading that crosses the nation's
land may pass over it or fall on it; a steeply lofted one (the ICBM tests flown into the
Sea of Japan) cannot carry far along its heading, and a descending one is not boosting.

The rule (every threshold is the policy's data, ``boost`` in
``trilink/data/warning_policy.yaml``): a state is *eligible* when it climbs at a
flight-path angle in ``[min_flight_path_rad, max_flight_path_rad]``, between
``min_altitude_m`` (the shipped short-range boosters burn out below it: a booster still
burning above it carries at least medium range) and ``max_altitude_m``, slower than
``max_speed_m_s``, and its ground heading is known to
``max_heading_sigma_rad``. Its corridor is a fan from the sub-point: ground lines at
the heading and at ±``heading_sigmas`` of its uncertainty (from the velocity covariance),
each widened by ``corridor_half_width_m``, out to ``max_range_m``. The share of those
lines that touch the nation's land is the warning's weight; at ``min_land_share`` or
more the level is ``take_shelter``. The fan narrows as the track firms up (its heading
sigma shrinks with every plot and bearing); after burnout the ballistic assessment takes
over and its overflight corridor replaces the fan (:mod:`trilink.warning.center`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trilink.physics import earth
from trilink.warning.corridor import land_touches, widened
from trilink.warning.policy import BoostWarning

F = NDArray[np.float64]
# Fractions of the heading spread at which fan lines run (−1 … 1 × heading_sigmas).
_FAN = (-1.0, -0.5, 0.0, 0.5, 1.0)


@dataclass(frozen=True)
class BoostView:
    """What a boosting track's state says for one nation (see the module docstring)."""

    flight_path_rad: float
    heading_rad: float
    heading_sigma_rad: float
    altitude_m: float
    speed_m_s: float
    eligible: bool
    why: str  # why not eligible, or what the fan found
    land_share: float  # share of the fan's lines that touch the nation's land
    first_land_m: float | None  # distance to the nation's land along the fan, if any
    centre_deg: tuple[tuple[float, float], ...]  # (lat, lon) along the heading
    polygon_deg: tuple[tuple[float, float], ...]  # the fan's outline (closed), or ()

    @property
    def warns(self) -> bool:
        return self.eligible and self.first_land_m is not None


def heading_and_sigma(x: F, P: F) -> tuple[float, float, float, float, float, float, float]:
    """(lat, lon, height, flight-path angle, heading, heading sigma, speed) of a state;
    angles in rad, the heading clockwise from north, its sigma from the velocity
    covariance to first order."""
    r = np.asarray(x[:3], dtype=np.float64)
    v = np.asarray(x[3:6], dtype=np.float64)
    lat, lon, h = earth.ecef_to_geodetic(r)
    basis = earth.enu_basis(float(lat), float(lon))  # rows: east, north, up
    e, n, u = basis @ v
    horizontal = math.hypot(e, n)
    gamma = math.atan2(u, horizontal)
    heading = math.atan2(e, n) % (2 * math.pi)
    if horizontal <= 0.0:
        return float(lat), float(lon), float(h), gamma, heading, math.inf, float(
            np.linalg.norm(v))
    cov_en = basis[:2] @ np.asarray(P, dtype=np.float64)[3:6, 3:6] @ basis[:2].T
    jac = np.array([n, -e]) / horizontal**2
    sigma = math.sqrt(max(float(jac @ cov_en @ jac), 0.0))
    return float(lat), float(lon), float(h), gamma, heading, sigma, float(np.linalg.norm(v))


def boost_corridor(x: F, P: F, nation: str, rules: BoostWarning) -> BoostView:
    """The boost-phase view of one track state (ECEF ``x``, ``P``) for ``nation``."""
    lat, lon, h, gamma, heading, sigma, speed = heading_and_sigma(x, P)

    def out(why: str) -> BoostView:
        return BoostView(gamma, heading, sigma, h, speed, False, why, 0.0, None, (), ())

    if gamma < rules.min_flight_path_rad:
        return out(f"flight-path angle {math.degrees(gamma):.0f} deg: not a climbing "
                   f"boost")
    if gamma > rules.max_flight_path_rad:
        return out(f"flight-path angle {math.degrees(gamma):.0f} deg: lofted, cannot "
                   f"carry far along its heading")
    if h < rules.min_altitude_m:
        return out(f"{h / 1e3:.0f} km up: below {rules.min_altitude_m / 1e3:.0f} km, where "
                   f"short-range boosters burn out")
    if h > rules.max_altitude_m or speed > rules.max_speed_m_s:
        return out(f"{h / 1e3:.0f} km up at {speed:.0f} m/s: outside the boost envelope")
    if sigma > rules.max_heading_sigma_rad:
        return out(f"heading known to {math.degrees(sigma):.0f} deg only")
    dist = np.arange(rules.step_m, rules.max_range_m + rules.step_m, rules.step_m)
    spread = rules.heading_sigmas * sigma
    fan = []
    for k in _FAN:
        la, lo = earth.geodesic_direct(lat, lon, heading + k * spread, dist)
        fan.append((k, la, lo))
    lines = [line for k, la, lo in fan
             for line in widened(la, lo, heading + k * spread, rules.corridor_half_width_m)]
    touches, first = land_touches(lines, dist, nation)
    share = touches / len(lines)
    step = max(1, len(dist) // 60)
    centre_la, centre_lo = fan[len(_FAN) // 2][1:]
    centre = ((math.degrees(lat), math.degrees(lon)),
              *((float(a), float(b)) for a, b in zip(np.degrees(centre_la[::step]),
                                                     np.degrees(centre_lo[::step]),
                                                     strict=True)))
    left = earth.geodesic_direct(fan[0][1], fan[0][2], heading - spread - 0.5 * math.pi,
                                 rules.corridor_half_width_m)
    right = earth.geodesic_direct(fan[-1][1], fan[-1][2], heading + spread + 0.5 * math.pi,
                                  rules.corridor_half_width_m)
    start = (math.degrees(lat), math.degrees(lon))
    ring = [start,
            *zip(np.degrees(left[0][::step]).tolist(), np.degrees(left[1][::step]).tolist(),
                 strict=True),
            *zip(np.degrees(right[0][::-step]).tolist(),
                 np.degrees(right[1][::-step]).tolist(), strict=True),
            start]
    polygon = tuple((float(a), (float(b) + 180.0) % 360.0 - 180.0) for a, b in ring)
    if share < rules.min_land_share or first is None:
        why = (f"boost phase: {share:.0%} of the heading fan touches {nation} land "
               f"(needs {rules.min_land_share:.0%})")
        return BoostView(gamma, heading, sigma, h, speed, True, why, share, None, centre,
                         polygon)
    why = (f"boost phase: may pass over or fall on {nation} land {first / 1e3:.0f} km "
           f"ahead (heading {math.degrees(heading):.0f} ± {math.degrees(spread):.0f} deg, "
           f"climbing at {math.degrees(gamma):.0f} deg)")
    return BoostView(gamma, heading, sigma, h, speed, True, why, share, first, centre,
                     polygon)
