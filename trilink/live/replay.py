"""Replays on the wall clock: a scenario's simulated measurements, published as a feed.

:class:`ScenarioClock` maps the wall clock to scenario time — scenario second 0 (the
scenario's epoch) happens at wall time ``start_unix``, and time runs ``speed`` times
faster — so live nodes read the agreements at the scenario's date and every process
(feed, nodes, launcher) agrees on what time it is.

:func:`scenario_scans` draws the same radar scans and infrared frames as ``trilink run``
(same sensors, same per-sensor seeded generators, same outages:
:func:`trilink.sim.tracking.nation_scans`); :func:`publish_feed` publishes them on
``trilink.sensor.<NATION>.<SENSOR_ID>``, each in its own schema
(:func:`trilink.live.feed.from_scan`), when the scenario clock reaches their time
(``trilink feed``, ``trilink live``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from trilink.live.feed import encode_scan, from_scan, sensor_subject
from trilink.sim.federation import NATIONS
from trilink.sim.flights import fly_scenarios
from trilink.sim.scenario import Scenario
from trilink.sim.tracking import TrackerInput, nation_scans
from trilink.sim.truth import Truth


@dataclass(frozen=True)
class ScenarioClock:
    """Scenario time (s since ``epoch``) = (wall − ``start_unix``) · ``speed``."""

    epoch: dt.datetime
    start_unix: float
    speed: float

    def scenario_s(self, wall_unix: float | None = None) -> float:
        wall = time.time() if wall_unix is None else wall_unix
        return (wall - self.start_unix) * self.speed

    def wall_at(self, t_s: float) -> float:
        return self.start_unix + t_s / self.speed

    def unix_now(self) -> float:
        """The scenario's 'now' as a Unix time: what a live node's clock returns."""
        return self.epoch.timestamp() + self.scenario_s()


def scenario_truth(scenario: Scenario) -> Truth:
    truth = Truth.from_launch_flights(fly_scenarios([scenario]))
    assert truth.epoch is not None
    return truth


def scenario_nations(scenario: Scenario) -> tuple[str, ...]:
    """The nations whose nodes run the scenario (as ``trilink run`` picks them)."""
    return tuple(n for n in NATIONS if n in scenario.nations) or NATIONS


def scenario_scans(truth: Truth, nations: Sequence[str],
                   seed: int = 0) -> list[TrackerInput]:
    """Every radar scan and infrared frame of the nations' own sensors over the truth,
    sorted by ``(t_s, sensor_id)`` — the same draws as the simulation's (each sensor's
    generator depends on seed and id only)."""
    scans = [m for n in nations for m in nation_scans(n, truth, seed, truth.sensors)]
    scans.sort(key=lambda s: (s.t_s, s.sensor_id))
    return scans


async def publish_feed(nc: object, scans: Sequence[TrackerInput], clock: ScenarioClock, *,
                       with_truth: bool = True,
                       on_publish: Callable[[TrackerInput], None] | None = None) -> int:
    """Publish each scan when the clock reaches its time (late ones at once); returns
    how many were published. ``nc`` is a connected nats-py client."""
    publish = nc.publish  # type: ignore[attr-defined]
    sent = 0
    for scan in scans:
        delay = clock.wall_at(scan.t_s) - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        msg = from_scan(scan, clock.epoch, with_truth=with_truth)
        await publish(sensor_subject(scan.nation, scan.sensor_id), encode_scan(msg))
        sent += 1
        if on_publish is not None:
            on_publish(scan)
    await nc.flush()  # type: ignore[attr-defined]
    return sent


__all__ = ["ScenarioClock", "publish_feed", "scenario_nations", "scenario_scans",
           "scenario_truth"]
