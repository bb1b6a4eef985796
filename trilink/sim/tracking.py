"""Run one nation's tracker over a scenario's sensor data (simulation adapter).

What a node's tracker takes from its own sensors (:func:`tracker_inputs`): radar scans
and, from the nation's space-based infrared satellites, frames of lines of sight, fused
as bearings (``docs/tracking.md``). The satellites' launch reports are not tracker input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from trilink.sensors import (
    InfraredSpec,
    IrScan,
    Measurement,
    RadarScan,
    RadarSpec,
    SensorOutage,
    build_sensor,
    sensor_catalogue,
    simulate_scans,
)
from trilink.sim.truth import Truth
from trilink.tracking.tracker import Tracker, TrackerConfig, TrackEvent

TrackerInput = RadarScan | IrScan


@dataclass(frozen=True)
class TrackingRun:
    nation: str
    sensor_ids: tuple[str, ...]
    scans: tuple[TrackerInput, ...]
    events: tuple[TrackEvent, ...]


def nation_sensors(nation: str,
                   extra: Sequence[RadarSpec] = ()) -> list[RadarSpec | InfraredSpec]:
    """Every sensor a nation's node reads itself: the catalogue's radars and infrared
    satellites of that nation, then ``extra`` (a scenario's own radars) of that nation."""
    own = list(sensor_catalogue().values())
    return [s for s in (*own, *extra) if s.nation == nation]


def nation_radars(nation: str, extra: Sequence[RadarSpec] = ()) -> list[RadarSpec]:
    """The radars among :func:`nation_sensors`, in the same order."""
    return [s for s in nation_sensors(nation, extra) if isinstance(s, RadarSpec)]


def first_detections(scans: Iterable[TrackerInput]) -> dict[str, dict[str, float]]:
    """Nation → missile id → time of its first detection by the nation's radars, over
    scans in time order (evaluation only: truth ids). Infrared frames are not counted:
    a summary's ``first_detection_s`` has always been a radar's."""
    out: dict[str, dict[str, float]] = {}
    for scan in scans:
        if not isinstance(scan, RadarScan):
            continue
        seen = out.setdefault(scan.nation, {})
        for tid in scan.truth_ids:
            if tid is not None and tid not in seen:
                seen[tid] = scan.t_s
    return out


def tracker_inputs(measurements: Iterable[Measurement]) -> list[TrackerInput]:
    """The measurements a tracker takes, in their order: radar scans and infrared frames
    (launch reports are the warning side's, not the tracker's)."""
    return [m for m in measurements if isinstance(m, RadarScan | IrScan)]


def nation_scans(nation: str, truth: Truth, seed: int, extra: Sequence[RadarSpec] = (),
                 outages: Sequence[SensorOutage] | None = None) -> list[TrackerInput]:
    """Everything a nation's own sensors give its tracker over the truth, sorted by
    ``(t_s, sensor_id)``. Each sensor draws from its own seeded generator, so the radar
    scans are the same with or without the satellites."""
    sensors = [build_sensor(s) for s in nation_sensors(nation, extra)]
    return tracker_inputs(simulate_scans(sensors, truth, seed, outages=outages))


def run_tracker(
    truth: Truth,
    nation: str,
    seed: int,
    sensor_ids: Sequence[str] | None = None,
    config: TrackerConfig | None = None,
    *,
    infrared: bool = False,
) -> TrackingRun:
    """Simulate the nation's radars (all of its catalogue radars by default) over the
    truth with the seed, and feed every scan, in time order, to one tracker.

    ``infrared``: also feed the frames of the nation's infrared satellites (with
    ``sensor_ids`` given, those of the listed sensors), as its node takes them."""
    catalogue = sensor_catalogue()
    ids = tuple(sensor_ids) if sensor_ids is not None else tuple(
        sid for sid, spec in catalogue.items() if spec.nation == nation
    )
    sensors = [build_sensor(catalogue[sid]) for sid in ids]
    scans = tuple(m for m in tracker_inputs(simulate_scans(sensors, truth, seed))
                  if infrared or isinstance(m, RadarScan))
    tracker = Tracker(nation, config)
    events: list[TrackEvent] = []
    for scan in scans:
        events += tracker.process(scan)
    return TrackingRun(nation, ids, scans, tuple(events))
