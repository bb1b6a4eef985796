"""Every sensor over a scenario's truth: the measurement stream, deterministic per seed."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from trilink.sensors.catalogue import InfraredSpec, RadarSpec, build_sensor
from trilink.sensors.infrared import IrScan, LaunchReport, SpaceInfrared
from trilink.sensors.radar import Radar, RadarScan
from trilink.world.outages import SensorOutage

if TYPE_CHECKING:
    from trilink.world.truth import Truth, TruthState

Measurement = RadarScan | IrScan | LaunchReport
__all__ = ["Measurement", "SensorOutage", "sensor_rng", "simulate_scans"]


def sensor_rng(seed: int, sensor_id: str) -> np.random.Generator:
    """The generator of one sensor: adding a sensor never changes another's draws."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(sensor_id.encode())]))


def simulate_scans(
    sensors: Sequence[Radar | SpaceInfrared | RadarSpec | InfraredSpec],
    truth: Truth,
    seed: int,
    t0_s: float = 0.0,
    t1_s: float | None = None,
    outages: Sequence[SensorOutage] | None = None,
) -> list[Measurement]:
    """All scans, frames and launch reports of the sensors over [t0_s, t1_s].

    Times are seconds since the truth's epoch; t1_s defaults to the last impact. The
    result is sorted by (t_s, sensor_id) (stable: a sensor's frame comes before a report
    issued at the same time). Same inputs and seed, same output, bit for bit.

    ``outages`` (default: the truth's) silence sensors over windows of time: their scans
    there are dropped. They are still drawn, so an outage changes nothing outside its
    window.
    """
    end = truth.end_t_s if t1_s is None else t1_s
    models = [s if isinstance(s, Radar | SpaceInfrared) else build_sensor(s) for s in sensors]
    ids = [m.id for m in models]
    if len(set(ids)) != len(ids):
        raise ValueError("sensor ids must be unique")
    cache: dict[float, TruthState] = {}

    def state_at(t: float) -> TruthState:
        # Sensors with equal revisit phases share truth samples.
        if t not in cache:
            cache[t] = truth.at(t)
        return cache[t]

    windows = truth.outages if outages is None else outages

    def heard(m: Measurement) -> bool:
        return not any(w.sensor_id == m.sensor_id and w.covers(m.t_s) for w in windows)

    out: list[Measurement] = []
    for model in models:
        rng = sensor_rng(seed, model.id)
        times = model.scan_times(t0_s, end)
        if isinstance(model, Radar):
            scans = [model.observe(state_at(float(t)), rng) for t in times]
            out.extend(filter(heard, scans))
        else:
            frames = [f for f in (model.observe(state_at(float(t)), rng) for t in times)
                      if heard(f)]
            out.extend(frames)
            out.extend(model.launch_reports(frames))
    out.sort(key=lambda m: (m.t_s, m.sensor_id))
    return out
