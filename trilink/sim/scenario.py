"""Scenario files: YAML naming launches, nations, sensors and the sharing regime.

The schema is pydantic; errors are reported as ``FILE:LINE: field: problem`` using the
line of the offending YAML node, never as a traceback. Degrees and kilometres are
the units of the file (the edge); the library converts to radians and metres.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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


@dataclass(frozen=True)
class ScenarioProblem:
    path: str
    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.problem}"


class ScenarioInvalidError(Exception):
    def __init__(self, errors: list[ScenarioProblem]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def _node_lines(
    node: yaml.Node, prefix: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], int]]:
    yield prefix, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield (*prefix, key.value), key.start_mark.line + 1
            yield from _node_lines(value, (*prefix, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _node_lines(item, (*prefix, i))


def _line_of(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    for cut in range(len(loc), -1, -1):
        key = tuple(str(p) if not isinstance(p, int) else p for p in loc[:cut])
        if key in lines:
            return lines[key]
    return 1


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """Parse and validate scenario YAML; raises :class:`ScenarioInvalidError` with every error."""
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioInvalidError([ScenarioProblem(path, line, "yaml", str(problem))]) from None
    if node is None or not isinstance(raw, dict):
        raise ScenarioInvalidError([ScenarioProblem(path, 1, "(file)", "expected a YAML mapping")])
    lines = {tuple(k): v for k, v in _node_lines(node)}
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        errors = []
        details = exc.errors(include_url=False)
        locs = [tuple(e["loc"]) for e in details]
        for err in details:
            loc = tuple(err["loc"])
            # A list whose items failed also reports itself "too short": noise.
            if err["type"] == "too_short" and any(
                o[: len(loc)] == loc and len(o) > len(loc) for o in locs
            ):
                continue
            field = ".".join(str(p) for p in loc) or "(file)"
            msg = err["msg"].removeprefix("Value error, ")
            errors.append(ScenarioProblem(path, _line_of(lines, loc), field, msg))
        raise ScenarioInvalidError(errors) from None


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
