"""Ground truth of a scenario: every missile's flight, queried at any time.

Times are seconds since the scenario epoch (the first launch, unless the scenario says
otherwise); positions are ECEF metres. This is what sensors observe; trackers never see
it (tests and metrics compare against it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trilink.physics.missiles import MissileProfile
from trilink.physics.trajectory import FlightBatch, propagate
from trilink.physics.vehicle import LaunchControls
from trilink.sim.flights import LaunchFlight

F = NDArray[np.float64]

# Radar cross-sections (m², X/S band, nose-on order of magnitude) when no profile gives
# them: the burning booster with its plume-free body, and the re-entry vehicle alone.
BOOST_RCS_M2 = 2.0
RV_RCS_M2 = 0.05


@dataclass(frozen=True)
class TruthState:
    """All objects at one time: positions and velocities (ECEF), flags and RCS."""

    t_s: float
    ids: tuple[str, ...]
    r_ecef_m: F  # (K, 3)
    v_ecef_m_s: F  # (K, 3)
    alive: NDArray[np.bool_]  # launched and not yet impacted
    boosting: NDArray[np.bool_]  # engines burning (visible to space-based infrared)
    rcs_m2: F  # (K,)


@dataclass(frozen=True)
class Truth:
    """K missiles: ids, launch times since the epoch (s) and their propagated flights."""

    ids: tuple[str, ...]
    launch_t_s: F
    flights: FlightBatch
    epoch: dt.datetime | None = None

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def end_t_s(self) -> float:
        """Time (since the epoch) of the last impact."""
        return float(np.max(self.launch_t_s + self.flights.flight_time_s))

    def at(self, t_s: float) -> TruthState:
        """State of every object at time t_s since the epoch."""
        local = np.atleast_1d(t_s - self.launch_t_s)
        r, v, _ = self.flights.sample_each(local)
        alive = (local >= 0.0) & (local <= self.flights.flight_time_s)
        boosting = alive & (local < self.flights.burnout_s)
        rcs = np.where(boosting, BOOST_RCS_M2, RV_RCS_M2)
        return TruthState(float(t_s), self.ids, r, v, alive, boosting, rcs)

    @classmethod
    def from_launch_flights(cls, flights: Sequence[LaunchFlight]) -> Truth:
        """Truth for fitted scenario launches; the epoch is the earliest launch."""
        epoch = min(f.launch.time_utc for f in flights)
        profiles: list[MissileProfile] = [f.fit.request.profile for f in flights]
        controls: list[LaunchControls] = [f.fit.controls for f in flights]
        batch = propagate(profiles, controls)
        return cls(
            ids=tuple(f"{f.scenario_id}/{f.launch.id}" for f in flights),
            launch_t_s=np.array([(f.launch.time_utc - epoch).total_seconds() for f in flights]),
            flights=batch,
            epoch=epoch,
        )
