"""Warning assessment: what a track means for one nation's land and sea, and the level.

From a track's state and covariance (ECEF), at a time t:

- **impact**: the predicted impact point and its covariance
  (:func:`trilink.tracking.impact.predict_impacts`), turned into probabilities that the
  impact falls on the nation's land, in its territorial sea, in its 200-nm zone, by a
  fixed set of 512 quasi-random samples of the impact distribution (deterministic);
- **overflight**: the ground tracks of the impact prediction's sigma points (position,
  velocity, ballistic coefficient), with the times they cross the nation's land; the
  probability is the share of sigma tracks that cross, the window their median.

Levels (documented in docs/warning.md; the thresholds are data,
``trilink/data/warning_policy.yaml``, :mod:`trilink.warning.policy`):

| level | rule (shipped thresholds) |
|---|---|
| ``take_shelter`` | P(impact on land) ≥ 5 %, or P(overflight of land) ≥ 50 % |
| ``maritime_warning`` | P(impact in territorial sea) ≥ 5 % |
| ``informational`` | P(impact in the 200-nm zone) ≥ 50 % |
| ``none`` | otherwise |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy.stats import qmc

from trilink.geo import ZoneCrossing, ZoneKind, zone_map
from trilink.physics import earth
from trilink.physics.trajectory import Flight, FlightBatch
from trilink.tracking.impact import ImpactPrediction, predict_impacts_with_flights
from trilink.warning.policy import WarningPolicy, default_policy

F = NDArray[np.float64]

# The shipped thresholds (kept as names for callers; the policy file is what counts).
P_LAND_SHELTER = default_policy().levels.take_shelter.p_impact_land
P_OVERFLIGHT_SHELTER = default_policy().levels.take_shelter.p_overflight_land
P_SEA_WARNING = default_policy().levels.maritime_warning.p_impact_territorial_sea
P_EEZ_INFO = default_policy().levels.informational.p_impact_eez


class WarningLevel(StrEnum):
    NONE = "none"
    INFORMATIONAL = "informational"
    MARITIME_WARNING = "maritime_warning"
    TAKE_SHELTER = "take_shelter"

    @property
    def rank(self) -> int:
        return list(WarningLevel).index(self)


@dataclass(frozen=True)
class Assessment:
    """One nation's view of one track at ``t_s`` (seconds since the epoch)."""

    nation: str
    t_s: float
    impact: ImpactPrediction
    p_land: float
    p_territorial_sea: float
    p_eez: float
    p_overflight: float
    overflight_s: tuple[float, float] | None  # enter/exit of the mean track over land
    ground_track_deg: tuple[tuple[float, float], ...]  # (lat, lon) of the mean track
    level: WarningLevel
    reason: str


@lru_cache(maxsize=1)
def _unit_samples(n: int = 512) -> F:
    """Fixed standard-normal 2-D samples (scrambled Sobol, seeded): deterministic."""
    u = qmc.Sobol(d=2, scramble=True, seed=20231219).random(n)
    from scipy.stats import norm

    return np.asarray(norm.ppf(np.clip(u, 1e-9, 1 - 1e-9)))


def impact_probabilities(pred: ImpactPrediction, nation: str) -> tuple[float, float, float]:
    """P(land), P(territorial sea), P(200-nm zone) of the nation for an impact prediction."""
    L = np.linalg.cholesky(pred.cov_en_m2 + np.eye(2) * 1e-6)
    en = _unit_samples() @ L.T
    enu = np.column_stack([en, np.zeros(len(en))])
    r = earth.enu_to_ecef(enu, pred.lat_rad, pred.lon_rad, 0.0)
    lat, lon, _ = earth.ecef_to_geodetic(r)
    nations, kinds = zone_map().classify(lat, lon)
    mine = nations == nation
    return (
        float(np.mean(mine & (kinds == ZoneKind.LAND.value))),
        float(np.mean(mine & (kinds == ZoneKind.TERRITORIAL_SEA.value))),
        float(np.mean(mine & (kinds == ZoneKind.EEZ.value))),
    )


def land_crossings(flight: Flight, nation: str, step_s: float = 5.0
                   ) -> tuple[list[ZoneCrossing], F, F, F]:
    """The crossings of the nation's land by a flight's ground track after launch, and
    the sampled times (s since the flight's start), latitudes and longitudes (rad)."""
    ((hits, ts, lat, lon),) = land_crossings_many([flight], nation, step_s)
    return hits, ts, lat, lon


def land_crossings_many(flights: Sequence[Flight], nation: str, step_s: float = 5.0
                        ) -> list[tuple[list[ZoneCrossing], F, F, F]]:
    """:func:`land_crossings` of several flights, classified in one batch."""
    tracks = []
    for flight in flights:
        ts = np.append(np.arange(0.0, flight.flight_time_s, step_s), flight.flight_time_s)
        lat, lon, _ = flight.geodetic_at(ts)
        tracks.append((ts, lat, lon))
    found = zone_map().crossings_many(tracks, kinds=(ZoneKind.LAND,))
    return [([c for c in hits if c.nation == nation and c.t_enter_s > 0.0], ts, lat, lon)
            for hits, (ts, lat, lon) in zip(found, tracks, strict=True)]


def _overflight(flights: FlightBatch, t_s: float, nation: str, step_s: float = 5.0
                ) -> tuple[float, tuple[float, float] | None, tuple[tuple[float, float], ...]]:
    """P(ground track crosses the nation's land) over the impact prediction's sigma-point
    flights (equal weights), the median crossing window, and one representative track.

    All ground tracks are sampled and classified in one batch; only the tracks that touch
    the nation's land are refined into crossing times (most assessments have none).
    """
    t_end = flights.flight_time_s
    grid = np.append(np.arange(0.0, float(t_end.max()), step_s), float(t_end.max()))
    r, _, _ = flights.sample(grid)  # past its impact a row holds its impact point
    lat, lon, _ = earth.ecef_to_geodetic(r)
    nations, kinds = zone_map().classify(lat, lon)
    touches = ((nations == nation) & (kinds == ZoneKind.LAND.value))[:, 1:].any(axis=1)
    enters, exits = [], []
    crossed = np.zeros(flights.size, dtype=bool)
    rows = [int(i) for i in np.flatnonzero(touches)]
    found = land_crossings_many([flights.row(i) for i in rows], nation, step_s)
    for i, (hits, _, _, _) in zip(rows, found, strict=True):
        crossed[i] = bool(hits)
        if hits:
            enters.append(hits[0].t_enter_s)
            exits.append(hits[-1].t_exit_s)
    keep = grid <= t_end[0]
    step = max(1, int(keep.sum()) // 120)
    track = tuple((float(a), float(b)) for a, b in zip(
        np.degrees(lat[0, keep][::step]), np.degrees(lon[0, keep][::step]), strict=True))
    window = (t_s + float(np.median(enters)), t_s + float(np.median(exits))) if enters \
        else None
    return float(np.mean(crossed)), window, track


def assess(x: F, P: F, t_s: float, nation: str, policy: WarningPolicy | None = None
           ) -> Assessment:
    """Assess one track state (ECEF, ≥ 6 states) for one nation at t_s, with the level
    thresholds of ``policy`` (default: the shipped policy file)."""
    lv = (policy or default_policy()).levels
    preds, flights = predict_impacts_with_flights(np.atleast_2d(x), np.asarray(P)[None],
                                                  np.array([t_s]))
    pred = preds[0]
    p_land, p_sea, p_eez = impact_probabilities(pred, nation)
    p_over, window, track = _overflight(flights, t_s, nation)
    if p_land >= lv.take_shelter.p_impact_land:
        level, why = WarningLevel.TAKE_SHELTER, f"impact on {nation} land {p_land:.0%}"
    elif p_over >= lv.take_shelter.p_overflight_land:
        level, why = WarningLevel.TAKE_SHELTER, f"overflight of {nation} {p_over:.0%}"
    elif p_sea >= lv.maritime_warning.p_impact_territorial_sea:
        level, why = WarningLevel.MARITIME_WARNING, f"impact in {nation} waters {p_sea:.0%}"
    elif p_eez >= lv.informational.p_impact_eez:
        level, why = WarningLevel.INFORMATIONAL, f"impact in {nation}'s zone {p_eez:.0%}"
    else:
        level, why = WarningLevel.NONE, (
            f"land {p_land:.0%}, waters {p_sea:.0%}, zone {p_eez:.0%}, overflight {p_over:.0%}")
    return Assessment(nation, t_s, pred, p_land, p_sea, p_eez, p_over, window, track, level,
                      why)
