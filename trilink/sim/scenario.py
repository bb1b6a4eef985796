"""Scenario files: YAML naming launches, nations, sensors and the sharing regime.

The schema is pydantic; errors are reported as ``FILE:LINE: field: problem`` using the
line of the offending YAML node, never as a traceback. Degrees and kilometres are
the units of the file (the edge); the library converts to radians and metres.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trilink.datafile import FileInvalidError, FileProblem, parse_yaml_model
from trilink.physics.missiles import MissileProfile, get_profile

SCHEMA_VERSION = 1


@lru_cache(maxsize=1)
def known_nations() -> dict[str, str]:
    """ISO 3166-1 alpha-3 code → name, for every nation trilink knows."""
    text = resources.files("trilink.data").joinpath("nations.yaml").read_text(encoding="utf-8")
    data: dict[str, str] = yaml.safe_load(text)["nations"]
    return data


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Site(_Model):
    name: str = ""
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, le=360)
    height_m: float = Field(default=0.0, ge=-500, le=9000)


class Published(_Model):
    """What governments published about a launch, kept beside our figures."""

    apogee_km: float | None = None
    range_km: float | None = None
    flight_time_s: float | None = None
    figures_from: str = ""
    impact: str = ""
    public_warning: str = ""
    notes: str = ""


class Launch(_Model):
    id: str = Field(min_length=1)
    time_utc: dt.datetime
    site: Site
    missile: str
    apogee_km: float = Field(gt=0, le=10000)
    range_km: float = Field(gt=0, le=16000)
    azimuth_deg: float = Field(ge=0, lt=360, description="bearing from the site to the impact")
    payload_kg: float | None = Field(default=None, gt=0, description="overrides the profile's")
    apogee_assumed: bool = Field(
        default=False, description="true where the apogee is our assumption, not published"
    )
    published: Published = Published()

    @field_validator("time_utc")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("time must carry a UTC offset, e.g. 2022-10-03T22:22:00Z")
        return value.astimezone(dt.UTC)

    @field_validator("missile")
    @classmethod
    def _missile(cls, value: str) -> str:
        try:
            get_profile(value)
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from None
        return value

    def profile(self) -> MissileProfile:
        prof = get_profile(self.missile)
        if self.payload_kg is not None:
            prof = prof.model_copy(update={"payload_kg": self.payload_kg})
        return prof


class Scenario(_Model):
    schema_version: Literal[1] = 1
    id: str = Field(min_length=1)
    title: str
    description: str = ""
    nations: tuple[str, ...] = ("USA", "JPN", "KOR")
    regime: str | None = Field(default=None, description="named sharing regime (later issues)")
    date: dt.date | None = Field(default=None, description="agreements in force on this date")
    launches: tuple[Launch, ...] = Field(min_length=1)
    sensors: tuple[dict[str, Any], ...] = ()
    sources: tuple[str, ...] = ()

    @field_validator("nations")
    @classmethod
    def _nations(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = known_nations()
        for code in value:
            if code not in known:
                raise ValueError(
                    f"unknown nation code {code!r}; expected ISO 3166-1 alpha-3, one of "
                    + ", ".join(sorted(known))
                )
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> Scenario:
        seen: set[str] = set()
        for launch in self.launches:
            if launch.id in seen:
                raise ValueError(f"launch id {launch.id!r} appears twice")
            seen.add(launch.id)
        return self


ScenarioProblem = FileProblem


class ScenarioInvalidError(FileInvalidError):
    """A scenario file failed validation (see :class:`trilink.datafile.FileProblem`)."""


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """Parse and validate scenario YAML; raises :class:`ScenarioInvalidError` with every error."""
    return parse_yaml_model(text, path, Scenario, ScenarioInvalidError)[0]


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario from a file path, or a shipped scenario by its id."""
    p = Path(path)
    if not p.exists():
        shipped = shipped_scenario_path(str(path))
        if shipped is None:
            raise ScenarioInvalidError(
                [ScenarioProblem(str(path), 0, "(file)", "no such file and no shipped scenario")]
            )
        p = shipped
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioInvalidError([ScenarioProblem(str(p), 0, "(file)", str(exc))]) from None
    return parse_scenario(text, str(p))


def shipped_scenarios() -> list[str]:
    """Ids of the scenarios shipped inside the package."""
    folder = resources.files("trilink.scenarios")
    return sorted(
        f.name.removesuffix(".yaml") for f in folder.iterdir() if f.name.endswith(".yaml")
    )


def shipped_scenario_path(scenario_id: str) -> Path | None:
    candidate = resources.files("trilink.scenarios").joinpath(f"{scenario_id}.yaml")
    path = Path(str(candidate))
    return path if path.is_file() else None
