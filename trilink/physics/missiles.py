"""Missile profiles: staged boost, re-entry or glide vehicle, and their physical limits.

Profiles are data (``trilink/data/missiles.yaml``), each with the public figures it rests
on (value, source URL, date), its assumptions, and the limits inside which a fit may
choose burn time and payload. A profile is chosen by a named type (``hwasong-17``), by
one of its aliases (``KN-23``), or by a class (``ICBM``), case-insensitively; a class
stands for every type of that class (:func:`types_of_class`), its ``class_defaults``
entry being only the type shown first.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trilink.datafile import parse_yaml_model

MissileClass = Literal["SRBM", "MRBM", "IRBM", "ICBM"]
FlightProfile = Literal["ballistic", "quasi-ballistic", "glide"]
CLASSES: tuple[MissileClass, ...] = ("SRBM", "MRBM", "IRBM", "ICBM")


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


class Glide(BaseModel):
    """A glide vehicle after burnout: lift from its lift-to-drag ratio, steered in the
    flight plane to hold a level path once it has fallen below ``pull_up_height_m``,
    until it has slowed to ``end_speed_m_s`` (then it dives ballistically)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lift_to_drag: float = Field(gt=0, le=6)
    ballistic_coefficient_kg_m2: float = Field(gt=0, description="m / (Cd A) of the glider")
    pull_up_height_m: float = Field(gt=10e3, le=150e3)
    end_speed_m_s: float = Field(gt=0)


class Figure(BaseModel):
    """A public figure a profile rests on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    what: str = Field(min_length=3)
    source: str = Field(pattern=r"^(https?://|docs/)")
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="of the source, UTC")


class MissileProfile(BaseModel):
    """A missile type: stages, payload, guidance timing, limits and provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    name: str
    aliases: tuple[str, ...] = ()
    missile_class: MissileClass
    basing: Literal["road-mobile", "rail", "tracked", "submarine", "silo"] = "road-mobile"
    flight_profile: FlightProfile = "ballistic"
    propellant: Literal["liquid", "solid"]
    stages: tuple[Stage, ...] = Field(min_length=1)
    payload_kg: float = Field(gt=0, description="re-entry vehicle (and bus) mass after burnout")
    payload_min_kg: float | None = Field(
        default=None, gt=0, description="lightest payload the fit may choose (test shots)")
    burn_time_scale_bounds: tuple[float, float] = Field(
        default=(0.85, 1.15),
        description="limits on scaling every stage's burn time at fixed propellant "
                    "(thrust scales inversely), from the thrust figures")
    rv_ballistic_coefficient_kg_m2: float = Field(gt=0, description="m / (Cd A) of the RV")
    boost_drag_coefficient: float = Field(gt=0)
    vertical_rise_s: float = Field(ge=0)
    pitch_end_s: float = Field(gt=0, description="time the pitch-over reaches its final angle")
    glide: Glide | None = None
    in_service: bool = True
    figures: tuple[Figure, ...] = ()
    assumptions: str
    sources: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> MissileProfile:
        if self.pitch_end_s <= self.vertical_rise_s:
            raise ValueError("pitch_end_s must come after vertical_rise_s")
        for s in self.stages:
            if s.isp_vac_s < s.isp_sl_s:
                raise ValueError(f"{s.name}: vacuum Isp below sea-level Isp")
        lo, hi = self.burn_time_scale_bounds
        if not 0.3 <= lo <= 1.0 <= hi <= 3.0:
            raise ValueError("burn_time_scale_bounds must bracket 1 within [0.3, 3]")
        if self.payload_min_kg is not None and self.payload_min_kg > self.payload_kg:
            raise ValueError("payload_min_kg must not exceed payload_kg")
        if (self.flight_profile == "glide") != (self.glide is not None):
            raise ValueError("a glide block goes with flight_profile: glide, and only with it")
        return self

    @property
    def total_burn_time_s(self) -> float:
        return sum(s.burn_time_s for s in self.stages)

    @property
    def launch_mass_kg(self) -> float:
        return self.payload_kg + sum(s.propellant_kg + s.dry_kg for s in self.stages)

    @property
    def lightest_payload_kg(self) -> float:
        return self.payload_min_kg if self.payload_min_kg is not None else self.payload_kg

    def with_burn_time_scale(self, scale: float) -> MissileProfile:
        """The same missile with every stage's burn time times ``scale`` (propellant kept,
        so thrust is divided by it) and its pitch programme stretched alike."""
        if scale == 1.0:
            return self
        stages = tuple(s.model_copy(update={"burn_time_s": s.burn_time_s * scale})
                       for s in self.stages)
        return self.model_copy(update={
            "stages": stages, "vertical_rise_s": self.vertical_rise_s * scale,
            "pitch_end_s": self.pitch_end_s * scale})

    def with_payload(self, payload_kg: float) -> MissileProfile:
        return self if payload_kg == self.payload_kg else self.model_copy(
            update={"payload_kg": payload_kg})


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    class_defaults: dict[MissileClass, str]
    profiles: dict[str, MissileProfile]

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("profiles"), dict):
            for key, prof in data["profiles"].items():
                if isinstance(prof, dict):
                    prof.setdefault("key", key)
        return data

    @model_validator(mode="after")
    def _check(self) -> Catalogue:
        for cls_name, key in self.class_defaults.items():
            if key not in self.profiles:
                raise ValueError(f"class_defaults.{cls_name}: no profile {key!r}")
            if self.profiles[key].missile_class != cls_name:
                raise ValueError(f"class_defaults.{cls_name}: {key!r} is not of that class")
        seen: dict[str, str] = {}
        for key, p in self.profiles.items():
            for name in (key, *p.aliases):
                norm = _norm(name)
                if norm in seen and seen[norm] != key:
                    raise ValueError(f"profiles.{key}: name {name!r} also names {seen[norm]!r}")
                seen[norm] = key
        return self


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def load_catalogue(text: str, path: str) -> Catalogue:
    """Parse a missile file; :class:`~trilink.datafile.FileInvalidError` with
    ``FILE:LINE: field: problem`` lines on any mistake."""
    cat, _ = parse_yaml_model(text, path, Catalogue)
    return cat


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    res = resources.files("trilink.data").joinpath("missiles.yaml")
    return load_catalogue(res.read_text(encoding="utf-8"), "trilink/data/missiles.yaml")


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    out: dict[str, str] = {}
    for key, p in catalogue().profiles.items():
        for name in (key, *p.aliases):
            out[_norm(name)] = key
    return out


def profile_names() -> list[str]:
    """Every name a profile may be asked for: class names and named types."""
    cat = catalogue()
    return sorted(cat.class_defaults) + sorted(cat.profiles)


def is_class(name: str) -> bool:
    return name.strip().upper() in CLASSES


def types_of_class(name: str, flight_profiles: tuple[FlightProfile, ...] = (
        "ballistic", "quasi-ballistic")) -> list[MissileProfile]:
    """Every in-service type of a class flying one of ``flight_profiles``, default first."""
    cat = catalogue()
    cls_name = name.strip().upper()
    default = cat.class_defaults.get(cls_name)  # type: ignore[call-overload]
    found = [p for p in cat.profiles.values()
             if p.missile_class == cls_name and p.in_service
             and p.flight_profile in flight_profiles]
    found.sort(key=lambda p: (p.key != default, p.key))
    return found


def get_profile(name: str) -> MissileProfile:
    """The profile for a named type, an alias or a class (its default type).

    Raises KeyError with the accepted names when ``name`` is unknown.
    """
    cat = catalogue()
    key = _names().get(_norm(name))
    if key is not None:
        return cat.profiles[key]
    upper = name.strip().upper()
    if upper in cat.class_defaults:
        return cat.profiles[cat.class_defaults[upper]]
    raise KeyError(f"unknown missile {name!r}; expected one of: {', '.join(profile_names())}")
