"""Sensor specifications: data per site, validated with pydantic.

The shipped catalogue is ``trilink/data/sensors.yaml`` (degrees, kilometres and
milliradians: the units of the file); the models expose radians and metres through
properties so the rest of trilink stays in SI units. Every entry carries its
``assumptions`` and ``sources``: most performance figures of these radars are not
published, so the values are public approximations (see docs/sensors.md).
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    from trilink.sensors.infrared import SpaceInfrared
    from trilink.sensors.radar import Radar

# Geostationary altitude above the equator (m): 42,164 km orbit radius minus WGS84 a.
GEO_ALTITUDE_KM = 35786.0


@lru_cache(maxsize=1)
def known_nations() -> frozenset[str]:
    """ISO 3166-1 alpha-3 codes trilink knows (``trilink/data/nations.yaml``).

    Read here rather than imported from ``trilink.sim`` so that scenario code can import
    the sensor catalogue without an import cycle.
    """
    text = resources.files("trilink.data").joinpath("nations.yaml").read_text(encoding="utf-8")
    return frozenset(yaml.safe_load(text)["nations"])


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]*$", description="NATION-TYPE-SITE, upper case")
    nation: str = Field(description="ISO 3166-1 alpha-3 code of the operating nation")
    name: str = Field(min_length=1, description="human-readable radar type and site")
    reference_site: str = Field(
        min_length=1, description="site_name of the row of sensors_reference.csv it models"
    )
    assumptions: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)

    @field_validator("nation")
    @classmethod
    def _nation(cls, value: str) -> str:
        if value not in known_nations():
            raise ValueError(f"unknown nation {value!r} (use ISO 3166-1 alpha-3, e.g. JPN)")
        return value


class RadarSpec(_Spec):
    """A ground-based or ship-borne radar (file units: deg, km, m, mrad, s).

    Field of regard: azimuth from ``az_min_deg`` clockwise to ``az_max_deg`` (it wraps
    through north when ``az_max_deg < az_min_deg``; 0 → 360 is all round), apparent
    elevation in [``el_min_deg``, ``el_max_deg``]. Sensitivity: the range at which a
    target of ``ref_rcs_m2`` is detected with probability ``pd_ref`` at false-alarm
    probability ``pfa`` (Swerling I), scaled with the radar equation.
    """

    kind: Literal["ground_radar", "ship_radar"]
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, le=360)
    height_m: float = Field(ge=-100, le=9000, description="antenna height above the ellipsoid")
    az_min_deg: float = Field(ge=0, lt=360)
    az_max_deg: float = Field(gt=0, le=360)
    el_min_deg: float = Field(ge=-10, le=90)
    el_max_deg: float = Field(ge=-10, le=90)
    ref_range_km: float = Field(gt=0)
    ref_rcs_m2: float = Field(gt=0)
    pd_ref: float = Field(gt=0, lt=1)
    pfa: float = Field(gt=0, lt=1)
    false_alarms_per_scan: float = Field(ge=0)
    sigma_range_m: float = Field(gt=0)
    sigma_az_mrad: float = Field(gt=0)
    sigma_el_mrad: float = Field(gt=0)
    sigma_range_rate_m_s: float | None = Field(default=None, gt=0)
    revisit_s: float = Field(gt=0)
    min_range_km: float = Field(ge=0)
    max_range_km: float | None = Field(
        default=None, gt=0, description="instrumented range (range-gate limit); none = unlimited"
    )

    @model_validator(mode="after")
    def _consistent(self) -> RadarSpec:
        if self.el_min_deg >= self.el_max_deg:
            raise ValueError("el_min_deg must be below el_max_deg")
        if self.az_min_deg == self.az_max_deg:
            raise ValueError("empty azimuth sector (use 0 → 360 for all round)")
        if self.pfa >= self.pd_ref:
            raise ValueError("pfa must be below pd_ref")
        if self.min_range_km >= self.ref_range_km:
            raise ValueError("min_range_km must be below ref_range_km")
        if self.max_range_km is not None and self.max_range_km <= self.min_range_km:
            raise ValueError("max_range_km must exceed min_range_km")
        return self

    # SI views (radians, metres) for the sensor models.
    @property
    def lat_rad(self) -> float:
        return math.radians(self.lat_deg)

    @property
    def lon_rad(self) -> float:
        return math.radians(self.lon_deg)

    @property
    def full_circle(self) -> bool:
        return self.az_min_deg == 0.0 and self.az_max_deg == 360.0

    @property
    def az_min_rad(self) -> float:
        return math.radians(self.az_min_deg)

    @property
    def az_width_rad(self) -> float:
        """Clockwise extent of the azimuth sector (rad), in (0, 2π]."""
        if self.full_circle:
            return 2.0 * math.pi
        return math.radians((self.az_max_deg - self.az_min_deg) % 360.0)

    @property
    def el_min_rad(self) -> float:
        return math.radians(self.el_min_deg)

    @property
    def el_max_rad(self) -> float:
        return math.radians(self.el_max_deg)

    @property
    def has_range_rate(self) -> bool:
        return self.sigma_range_rate_m_s is not None


class InfraredSpec(_Spec):
    """A geostationary infrared launch-detection satellite (SBIRS-like).

    It sees burning boosters above ``cloud_top_km`` once per ``revisit_s`` frame with
    probability ``pd_per_frame`` and reports their line of sight with a noise of
    ``sigma_los_urad`` per angle; after ``report_after_detections`` detections of one
    missile it issues a launch report ``report_latency_s`` later.
    """

    kind: Literal["space_ir"]
    sub_satellite_lon_deg: float = Field(ge=-180, le=360)
    altitude_km: float = Field(default=GEO_ALTITUDE_KM, gt=0)
    revisit_s: float = Field(gt=0)
    pd_per_frame: float = Field(gt=0, le=1)
    sigma_los_urad: float = Field(gt=0)
    cloud_top_km: float = Field(ge=0)
    report_after_detections: int = Field(ge=1)
    report_latency_s: float = Field(ge=0)

    @property
    def sub_satellite_lon_rad(self) -> float:
        return math.radians(self.sub_satellite_lon_deg)


SensorSpec = RadarSpec | InfraredSpec


def parse_sensor(raw: dict[str, Any]) -> RadarSpec | InfraredSpec:
    """One sensor from its file form (a mapping, e.g. inline in a scenario)."""
    kind = raw.get("kind")
    if kind == "space_ir":
        return InfraredSpec.model_validate(raw)
    if kind in ("ground_radar", "ship_radar"):
        return RadarSpec.model_validate(raw)
    raise ValueError(f"unknown sensor kind {kind!r} (ground_radar, ship_radar or space_ir)")


@lru_cache(maxsize=1)
def sensor_catalogue() -> dict[str, RadarSpec | InfraredSpec]:
    """Every shipped sensor (``trilink/data/sensors.yaml``) by id, in file order."""
    text = resources.files("trilink.data").joinpath("sensors.yaml").read_text(encoding="utf-8")
    entries: list[dict[str, Any]] = yaml.safe_load(text)["sensors"]
    out: dict[str, RadarSpec | InfraredSpec] = {}
    for raw in entries:
        spec = parse_sensor(raw)
        if spec.id in out:
            raise ValueError(f"duplicate sensor id {spec.id}")
        out[spec.id] = spec
    return out


def sensors_of(nation: str) -> list[RadarSpec | InfraredSpec]:
    """The shipped sensors operated by one nation (ISO alpha-3), in file order."""
    return [s for s in sensor_catalogue().values() if s.nation == nation]


def build_sensor(spec: RadarSpec | InfraredSpec) -> Radar | SpaceInfrared:
    """The sensor model for a specification."""
    from trilink.sensors.infrared import SpaceInfrared
    from trilink.sensors.radar import Radar

    if isinstance(spec, RadarSpec):
        return Radar(spec)
    return SpaceInfrared(spec)
