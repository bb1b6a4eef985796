"""Sensors: ground and ship radars and space-based infrared, observing scenario truth.

Specifications are data (``trilink/data/sensors.yaml``, one entry per site); the models
are sans-I/O and vectorised; measurements are truth plus seeded noise (docs/sensors.md).
"""

from trilink.sensors.catalogue import (
    InfraredSpec,
    RadarSpec,
    build_sensor,
    parse_sensor,
    sensor_catalogue,
    sensors_of,
)
from trilink.sensors.infrared import IrScan, LaunchReport, SpaceInfrared, los_direction
from trilink.sensors.radar import Radar, RadarScan, swerling1_pd, swerling1_snr
from trilink.sensors.scans import Measurement, SensorOutage, sensor_rng, simulate_scans

__all__ = [
    "InfraredSpec",
    "IrScan",
    "LaunchReport",
    "Measurement",
    "Radar",
    "RadarScan",
    "RadarSpec",
    "SensorOutage",
    "SpaceInfrared",
    "build_sensor",
    "los_direction",
    "parse_sensor",
    "sensor_catalogue",
    "sensor_rng",
    "sensors_of",
    "simulate_scans",
    "swerling1_pd",
    "swerling1_snr",
]
