"""Missile profiles: staged boost and re-entry vehicle data, loaded from YAML.

Profiles are data (``trilink/data/missiles.yaml``), each documented there with its
assumptions and sources. A profile is chosen by a named type (``hwasong-17``) or by a
class (``ICBM``), case-insensitively.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

MissileClass = Literal["SRBM", "MRBM", "IRBM", "ICBM"]


class Stage(BaseModel):
    """One rocket stage: constant mass flow over its burn."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    propellant_kg: float = Field(gt=0)
    dry_kg: float = Field(gt=0)
    burn_time_s: float = Field(gt=0)
    isp_sl_s: float = Field(gt=0, description="specific impulse at sea level")
    isp_vac_s: float = Field(gt=0, description="specific impulse in vacuum")
    diameter_m: float = Field(gt=0)

    @property
    def mass_flow_kg_s(self) -> float:
        return self.propellant_kg / self.burn_time_s


class MissileProfile(BaseModel):
    """A missile type: its stages, payload and guidance programme parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    name: str
    missile_class: MissileClass
    propellant: Literal["liquid", "solid"]
    stages: tuple[Stage, ...] = Field(min_length=1)
    payload_kg: float = Field(gt=0, description="re-entry vehicle (and bus) mass after burnout")
    rv_ballistic_coefficient_kg_m2: float = Field(gt=0, description="m / (Cd A) of the RV")
    boost_drag_coefficient: float = Field(gt=0)
    vertical_rise_s: float = Field(ge=0)
    pitch_end_s: float = Field(gt=0, description="time the pitch-over reaches its final angle")
    assumptions: str
    sources: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> MissileProfile:
        if self.pitch_end_s <= self.vertical_rise_s:
            raise ValueError("pitch_end_s must come after vertical_rise_s")
        for s in self.stages:
            if s.isp_vac_s < s.isp_sl_s:
                raise ValueError(f"{s.name}: vacuum Isp below sea-level Isp")
        return self

    @property
    def total_burn_time_s(self) -> float:
        return sum(s.burn_time_s for s in self.stages)

    @property
    def launch_mass_kg(self) -> float:
        return self.payload_kg + sum(s.propellant_kg + s.dry_kg for s in self.stages)


class _Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    class_defaults: dict[MissileClass, str]
    profiles: dict[str, MissileProfile]


@lru_cache(maxsize=1)
def catalogue() -> _Catalogue:
    text = resources.files("trilink.data").joinpath("missiles.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    for key, prof in raw.get("profiles", {}).items():
        prof.setdefault("key", key)
    return _Catalogue.model_validate(raw)


def profile_names() -> list[str]:
    """Every name a profile may be asked for: class names and named types."""
    cat = catalogue()
    return sorted(cat.class_defaults) + sorted(cat.profiles)


def get_profile(name: str) -> MissileProfile:
    """The profile for a named type or a class (case-insensitive).

    Raises KeyError with the accepted names when ``name`` is unknown.
    """
    cat = catalogue()
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    if key in cat.profiles:
        return cat.profiles[key]
    upper = name.strip().upper()
    if upper in cat.class_defaults:
        return cat.profiles[cat.class_defaults[upper]]
    raise KeyError(f"unknown missile {name!r}; expected one of: {', '.join(profile_names())}")
