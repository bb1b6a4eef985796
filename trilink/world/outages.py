"""When sensors were silent: part of the simulated world, which the sensors obey."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SensorOutage:
    """Sensor ``sensor_id`` reports nothing — no detections, no false alarms — at times
    ``from_s <= t < to_s`` (s since the truth's epoch; ``to_s`` may be +inf)."""

    sensor_id: str
    from_s: float
    to_s: float

    def covers(self, t_s: float) -> bool:
        return self.from_s <= t_s < self.to_s
