"""Scenario launches → fitted flights (truth trajectories for the rest of trilink)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trilink.physics.fit import FitRequest, FitResult, fit_flights
from trilink.sim.scenario import Launch, Scenario


@dataclass(frozen=True)
class LaunchFlight:
    """A scenario launch and its fitted flight."""

    scenario_id: str
    launch: Launch
    fit: FitResult

    @property
    def flight_time_error(self) -> float | None:
        """Relative difference of our flight time to the published one, if any."""
        published = self.launch.published.flight_time_s
        if published is None:
            return None
        return self.fit.summary.flight_time_s / published - 1.0


def fit_request(launch: Launch) -> FitRequest:
    return FitRequest(
        lat_rad=float(np.radians(launch.site.lat_deg)),
        lon_rad=float(np.radians(launch.site.lon_deg)),
        azimuth_rad=float(np.radians(launch.azimuth_deg)),
        apogee_m=launch.apogee_km * 1e3,
        range_m=launch.range_km * 1e3,
        profile=launch.profile(),
        height_m=launch.site.height_m,
    )


def fly_scenarios(scenarios: Sequence[Scenario]) -> list[LaunchFlight]:
    """Fit every launch of every scenario, all in one batch."""
    pairs = [(s.id, launch) for s in scenarios for launch in s.launches]
    # Identical launches (salvos from one site) are fitted once.
    unique: dict[FitRequest, int] = {}
    requests: list[FitRequest] = []
    for _, launch in pairs:
        req = fit_request(launch)
        if req not in unique:
            unique[req] = len(requests)
            requests.append(req)
    fits = fit_flights(requests)
    return [
        LaunchFlight(sid, launch, fits[unique[fit_request(launch)]]) for sid, launch in pairs
    ]
