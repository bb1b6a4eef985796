"""Run one nation's tracker over a scenario's sensor data (simulation adapter)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trilink.sensors import RadarScan, build_sensor, sensor_catalogue, simulate_scans
from trilink.sim.truth import Truth
from trilink.tracking.tracker import Tracker, TrackerConfig, TrackEvent


@dataclass(frozen=True)
class TrackingRun:
    nation: str
    sensor_ids: tuple[str, ...]
    scans: tuple[RadarScan, ...]
    events: tuple[TrackEvent, ...]


def run_tracker(
    truth: Truth,
    nation: str,
    seed: int,
    sensor_ids: Sequence[str] | None = None,
    config: TrackerConfig | None = None,
) -> TrackingRun:
    """Simulate the nation's radars (all of its catalogue radars by default) over the
    truth with the seed, and feed every scan, in time order, to one tracker."""
    catalogue = sensor_catalogue()
    ids = tuple(sensor_ids) if sensor_ids is not None else tuple(
        sid for sid, spec in catalogue.items() if spec.nation == nation
    )
    sensors = [build_sensor(catalogue[sid]) for sid in ids]
    scans = tuple(m for m in simulate_scans(sensors, truth, seed) if isinstance(m, RadarScan))
    tracker = Tracker(nation, config)
    events: list[TrackEvent] = []
    for scan in scans:
        events += tracker.process(scan)
    return TrackingRun(nation, ids, scans, tuple(events))
