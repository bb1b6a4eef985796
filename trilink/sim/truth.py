"""Scenario truth for simulated runs: the world (:mod:`trilink.world`) built from a
scenario's fitted flights.

:class:`Truth` is :class:`trilink.world.truth.Truth` with the constructor that needs the
scenario machinery (fits, scenario files), which the world itself must not import:
sensors, trackers and metrics take the world's type, runs build this one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trilink.physics.missiles import MissileProfile
from trilink.physics.trajectory import propagate
from trilink.physics.vehicle import LaunchControls
from trilink.sensors.catalogue import RadarSpec, sensor_catalogue
from trilink.sim.flights import LaunchFlight
from trilink.sim.scenario import Scenario
from trilink.world.outages import SensorOutage
from trilink.world.truth import BOOST_RCS_M2, RV_RCS_M2, TruthState, with_breakups
from trilink.world.truth import Truth as WorldTruth

__all__ = ["BOOST_RCS_M2", "RV_RCS_M2", "Truth", "TruthState", "scenario_outages",
           "with_breakups"]


@dataclass(frozen=True)
class Truth(WorldTruth):
    """The world's truth, built from scenario launches (see the module docstring)."""

    @classmethod
    def from_launch_flights(cls, flights: Sequence[LaunchFlight]) -> Truth:
        """Truth for fitted scenario launches; the epoch is the earliest launch.

        Failed launches are spliced with their debris paths (module docstring); the
        scenarios' own sensors and outages (of the flights' scenarios) come along.
        """
        epoch = min(f.launch.time_utc for f in flights)
        profiles: list[MissileProfile] = [f.fit.request.profile for f in flights]
        controls: list[LaunchControls] = [f.fit.controls for f in flights]
        batch = propagate(profiles, controls)
        launch_t = np.array([(f.launch.time_utc - epoch).total_seconds() for f in flights])
        failure_t = None
        fails = [f.launch.failure for f in flights]
        if any(x is not None for x in fails):
            local = np.array([np.nan if x is None else x.t_s for x in fails])
            beta = np.array([
                (p.rv_ballistic_coefficient_kg_m2 if x is None
                 or x.debris_ballistic_coefficient_kg_m2 is None
                 else x.debris_ballistic_coefficient_kg_m2)
                for p, x in zip(profiles, fails, strict=True)])
            batch = with_breakups(batch, local, beta)
            failure_t = launch_t + local
        scenarios: dict[str, Scenario] = {}
        for f in flights:
            if f.scenario is not None:
                scenarios.setdefault(f.scenario.id, f.scenario)
        sensors = tuple(s for sc in scenarios.values() for s in sc.sensors)
        return cls(
            ids=tuple(f"{f.scenario_id}/{f.launch.id}" for f in flights),
            launch_t_s=launch_t,
            flights=batch,
            epoch=epoch,
            failure_t_s=failure_t,
            sensors=sensors,
            outages=tuple(o for sc in scenarios.values() for o in scenario_outages(sc, epoch)),
        )


def scenario_outages(scenario: Scenario, epoch: dt.datetime) -> list[SensorOutage]:
    """The scenario's outages per sensor, in seconds since ``epoch``.

    A ``nation`` outage covers every radar of that nation: the catalogue's and the
    scenario's own.
    """
    radars = [s for s in sensor_catalogue().values() if isinstance(s, RadarSpec)]
    radars += scenario.sensors
    out: list[SensorOutage] = []
    for outage in scenario.outages:
        start, end = outage.window_s(epoch, scenario.launches)
        ids = (outage.sensors if outage.nation is None
               else tuple(dict.fromkeys(s.id for s in radars if s.nation == outage.nation)))
        out += [SensorOutage(sid, start, end) for sid in ids]
    return out
