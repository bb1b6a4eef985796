"""What opens a consultation, and the fact sheet it opens with.

A consultation opens automatically on a *significant event*, judged by each nation on
its own fused picture, from ballistic (not powered) tracks only — the same discipline
as its warning centre:

- a trajectory of **ICBM class**: the track's energy would carry it at least 5,500 km
  on a minimum-energy arc (the range that defines an ICBM), however lofted the shot;
- a **predicted overflight of, or impact in, the nation's land, territorial sea or
  200-nm zone** — whenever its warning centre's assessment reaches any warning level;
- a **scenario rule**: ``any_launch`` (every ballistic track), or ``min_range_km``
  (the energy-equivalent range at least this).

The fact sheet is plain JSON (degrees, km, seconds since the epoch): launch point and
time (back-propagated), trajectory class, predicted impact and its 95 % ellipse, and
the public warnings the nation has issued; each party adds its own warnings when it
joins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from trilink.physics import earth
from trilink.tracking.impact import estimate_launch
from trilink.warning.assessment import Assessment, WarningLevel

F = NDArray[np.float64]

ICBM_MIN_RANGE_M: Final = 5_500e3
CLASS_BOUNDS_M: Final = ((1_000e3, "SRBM"), (3_000e3, "MRBM"), (5_500e3, "IRBM"))
POWERED_LIMIT: Final = 0.5


def equivalent_range_m(x: F) -> float:
    """Ground range (m) of the minimum-energy arc with the energy of state ``x``.

    ``x``: ECEF position (m) and velocity (m/s), at least 6 elements. Energy is taken in
    the Earth-fixed frame (speed relative to the ground), brought down to the surface
    (mean radius), then the optimal-angle range of a spherical, non-rotating Earth:
    ``sin(ψ/2) = ν / (2 − ν)``, ``ν = v₀² R / μ``; ν ≥ 1 reaches half the globe.
    """
    r = float(np.linalg.norm(x[:3]))
    v2 = float(np.dot(x[3:6], x[3:6]))
    radius = earth.WGS84_A_M * (1.0 - earth.WGS84_F / 3.0)
    mu = earth.GM_M3_S2
    v0_sq = v2 + 2.0 * mu * (1.0 / radius - 1.0 / r)
    if v0_sq <= 0.0:
        return 0.0
    nu = v0_sq * radius / mu
    if nu >= 1.0:
        return math.pi * radius
    return 2.0 * math.asin(nu / (2.0 - nu)) * radius


def trajectory_class(x: F) -> str:
    """SRBM, MRBM, IRBM or ICBM by :func:`equivalent_range_m` (US DoD range bands)."""
    rng = equivalent_range_m(x)
    for bound, name in CLASS_BOUNDS_M:
        if rng < bound:
            return name
    return "ICBM"


@dataclass(frozen=True)
class TriggerRules:
    """Triggers of a scenario besides the built-in ones."""

    any_launch: bool = False
    min_range_km: float | None = None


def significance(nation: str, x: F, powered_probability: float,
                 assessment: Assessment | None, rules: TriggerRules = TriggerRules()
                 ) -> str | None:
    """Why this track should open a consultation for ``nation``, or None."""
    if powered_probability >= POWERED_LIMIT:
        return None
    cls = trajectory_class(x)
    if cls == "ICBM":
        return "ICBM-class trajectory (energy for ≥ 5,500 km)"
    if assessment is not None and assessment.level != WarningLevel.NONE:
        return f"{nation}: {assessment.reason}" if assessment.reason else (
            f"{nation}: {assessment.level}")
    rng_km = equivalent_range_m(x) / 1e3
    if rules.min_range_km is not None and rng_km >= rules.min_range_km:
        return f"{cls} trajectory, energy for {rng_km:,.0f} km (scenario rule ≥ " \
               f"{rules.min_range_km:,.0f} km)"
    if rules.any_launch:
        return f"{cls} launch (scenario rule: every launch)"
    return None


def fact_sheet(x: F, t_s: float, assessment: Assessment | None,
               warnings: Sequence[dict[str, Any]] = (),
               first_seen_t_s: float | None = None) -> dict[str, Any]:
    """The fact sheet of one fused track (see the module docstring).

    The launch time is the ballistic back-propagation of the track, which knows nothing
    of the boost and so comes out late for long burns (minutes for an ICBM); when it is
    later than ``first_seen_t_s`` (when the object entered the nation's picture) that
    time is given instead, as an upper bound (``launch_t_basis``).
    """
    sheet: dict[str, Any] = {
        "as_of_t_s": round(float(t_s), 1),
        "trajectory_class": trajectory_class(x),
        "equivalent_range_km": round(equivalent_range_m(x) / 1e3),
        "launch_t_s": None, "launch_t_basis": None,
        "launch_lat_deg": None, "launch_lon_deg": None,
        "impact_lat_deg": None, "impact_lon_deg": None, "impact_t_s": None,
        "semi_major_km": None, "semi_minor_km": None, "azimuth_deg": None,
        "warnings": [dict(w) for w in warnings],
    }
    launch = estimate_launch(x, t_s)
    if launch is not None:
        sheet.update(launch_t_s=round(launch.t_s, 1),
                     launch_t_basis="ballistic back-propagation",
                     launch_lat_deg=round(math.degrees(launch.lat_rad), 3),
                     launch_lon_deg=round(math.degrees(launch.lon_rad), 3))
    if first_seen_t_s is not None and (sheet["launch_t_s"] is None
                                       or sheet["launch_t_s"] > first_seen_t_s):
        sheet.update(launch_t_s=round(first_seen_t_s, 1),
                     launch_t_basis="no later than the first track")
    if assessment is not None:
        imp = assessment.impact
        major, minor, az = imp.ellipse_95()
        sheet.update(impact_lat_deg=round(math.degrees(imp.lat_rad), 3),
                     impact_lon_deg=round(math.degrees(imp.lon_rad), 3),
                     impact_t_s=round(imp.impact_t_s, 1),
                     semi_major_km=round(major / 1e3, 1), semi_minor_km=round(minor / 1e3, 1),
                     azimuth_deg=round(math.degrees(az), 1))
    return sheet
