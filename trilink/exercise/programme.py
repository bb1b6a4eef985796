"""A multi-year exercise programme as data: series with cadence, duration, months,
participants, assets and objectives; assets with counts; other exercises that hold the
same assets; blackout periods; with FILE:LINE errors for bad files."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import holidays as holidays_lib
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trilink.datafile import FileInvalidError, FileProblem, check_id, line_of, parse_yaml_model
from trilink.sharing.releasability import check_nation

_MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
Cadence = Literal["yearly", "biennial_even", "biennial_odd", "quarterly"]


class ProgrammeInvalidError(FileInvalidError):
    """A programme file failed validation."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_id = check_id


def _month_days(value: tuple[str, str]) -> tuple[str, str]:
    for md in value:
        if not _MONTH_DAY.match(md):
            raise ValueError(f"expected MM-DD, got {md!r}")
    return value


class Blackout(_Model):
    """A period no exercise of a participating nation may touch."""

    name: str = Field(min_length=1)
    nation: str
    holiday: str | None = Field(default=None, description="a public holiday's name, "
                                "as the `holidays` package spells it")
    pad_days: int = Field(default=0, ge=0, le=7)
    month_day: tuple[str, str] | None = None

    @field_validator("nation")
    @classmethod
    def _nation(cls, value: str) -> str:
        if value != "ALL":
            check_nation(value)
        return value

    @field_validator("month_day")
    @classmethod
    def _md(cls, value: tuple[str, str] | None) -> tuple[str, str] | None:
        return None if value is None else _month_days(value)

    @model_validator(mode="after")
    def _one(self) -> Blackout:
        if (self.holiday is None) == (self.month_day is None):
            raise ValueError("give exactly one of `holiday` and `month_day`")
        return self


class Asset(_Model):
    id: str
    name: str = Field(min_length=1)
    nation: str
    count: int = Field(ge=1, le=100)

    @field_validator("id")
    @classmethod
    def _v_id(cls, value: str) -> str:
        return _id(value)

    @field_validator("nation")
    @classmethod
    def _nation(cls, value: str) -> str:
        check_nation(value)
        return value


class Series(_Model):
    id: str
    name: str = Field(min_length=1)
    cadence: Cadence
    duration_days: int = Field(ge=1, le=60)
    months: tuple[int, ...] = Field(min_length=1)
    preferred_month: int | None = Field(default=None, ge=1, le=12)
    participants: tuple[str, ...] = Field(min_length=2)
    uses: dict[str, int]
    objectives: tuple[str, ...] = ()
    basis: str = ""
    sources: tuple[str, ...] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _v_id(cls, value: str) -> str:
        return _id(value)

    @field_validator("months")
    @classmethod
    def _months(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= m <= 12 for m in value):
            raise ValueError("months are 1–12")
        return tuple(sorted(set(value)))

    @field_validator("participants")
    @classmethod
    def _parts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for n in value:
            check_nation(n)
        return value


class Busy(_Model):
    """Another exercise holding some assets over a window, in the given years."""

    name: str = Field(min_length=1)
    years: tuple[int, ...] = Field(min_length=1)
    month_day: tuple[str, str]
    uses: dict[str, int]
    basis: str = ""
    sources: tuple[str, ...] = Field(min_length=1)

    @field_validator("month_day")
    @classmethod
    def _v_md(cls, value: tuple[str, str]) -> tuple[str, str]:
        return _month_days(value)


class Programme(_Model):
    id: str
    name: str = Field(min_length=1)
    start: dt.date
    end: dt.date
    issued: dt.date
    nations: tuple[str, ...] = Field(min_length=2)
    min_gap_days: int = Field(default=0, ge=0, le=120)
    blackouts: tuple[Blackout, ...] = ()
    assets: tuple[Asset, ...] = Field(min_length=1)
    series: tuple[Series, ...] = Field(min_length=1)
    busy: tuple[Busy, ...] = ()

    @field_validator("id")
    @classmethod
    def _v_id(cls, value: str) -> str:
        return _id(value)

    @model_validator(mode="after")
    def _refs(self) -> Programme:
        if self.end <= self.start:
            raise ValueError("`end` must come after `start`")
        if (self.end - self.start).days > 366 * 6:
            raise ValueError("a programme spans at most six years")
        known = {a.id for a in self.assets}
        for s in self.series:
            for a, n in s.uses.items():
                if a not in known:
                    raise ValueError(f"series {s.id} uses unknown asset {a!r}")
                if n < 1:
                    raise ValueError(f"series {s.id} uses {n} of {a}: expected ≥ 1")
            if s.preferred_month is not None and s.preferred_month not in s.months:
                raise ValueError(f"series {s.id}: preferred_month not among its months")
        for b in self.busy:
            for a in b.uses:
                if a not in known:
                    raise ValueError(f"busy {b.name!r} uses unknown asset {a!r}")
        return self


@dataclass(frozen=True)
class Occurrence:
    """One exercise to schedule: the k-th of a series, within [first_day, last_day]."""

    series: Series
    index: int
    label: str  # "2026", "2026-Q3"
    first_day: dt.date
    last_day: dt.date

    @property
    def key(self) -> str:
        return f"{self.series.id}-{self.label}"


def occurrences(p: Programme) -> list[Occurrence]:
    """Every exercise the programme asks for, by its cadence, inside the horizon."""
    out = []
    for s in p.series:
        for k, (label, lo, hi) in enumerate(_periods(s.cadence, p.start, p.end)):
            out.append(Occurrence(s, k, label, max(lo, p.start), min(hi, p.end)))
    return out


def _periods(cadence: Cadence, start: dt.date,
             end: dt.date) -> Iterator[tuple[str, dt.date, dt.date]]:
    for year in range(start.year, end.year + 1):
        if cadence == "quarterly":
            for q in range(4):
                lo = dt.date(year, 3 * q + 1, 1)
                hi = (dt.date(year + 1, 1, 1) if q == 3 else dt.date(year, 3 * q + 4, 1)
                      ) - dt.timedelta(days=1)
                if hi >= start and lo <= end:
                    yield f"{year}-Q{q + 1}", lo, hi
        elif (cadence == "yearly" or (cadence == "biennial_even" and year % 2 == 0)
              or (cadence == "biennial_odd" and year % 2 == 1)):
            yield str(year), dt.date(year, 1, 1), dt.date(year, 12, 31)


@dataclass(frozen=True)
class Period:
    """A blackout or busy window resolved to dates."""

    name: str
    nations: frozenset[str]
    first: dt.date
    last: dt.date


def _md_window(year: int, md: tuple[str, str]) -> tuple[dt.date, dt.date]:
    a = dt.date.fromisoformat(f"{year}-{md[0]}")
    b = dt.date.fromisoformat(f"{year}-{md[1]}")
    return (a, b) if b >= a else (a, dt.date.fromisoformat(f"{year + 1}-{md[1]}"))


@functools.cache
def _calendar(nation: str, years: tuple[int, ...]) -> dict[dt.date, str]:
    # ISO alpha-3 → the package's alpha-2 codes for the nations that run nodes.
    alpha2 = {"USA": "US", "JPN": "JP", "KOR": "KR", "AUS": "AU", "PHL": "PH", "GBR": "GB",
              "CAN": "CA", "NZL": "NZ"}
    code = alpha2.get(nation)
    if code is None:
        return {}
    return {d: str(n) for d, n in holidays_lib.country_holidays(code, years=years).items()}


def public_holidays(nation: str, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """The nation's public holidays between the dates (from the `holidays` package)."""
    years = tuple(range(start.year - 1, end.year + 2))
    return {d: n for d, n in _calendar(nation, years).items() if start <= d <= end}


def blackout_periods(p: Programme) -> list[Period]:
    out = []
    for b in p.blackouts:
        nations = frozenset(p.nations) if b.nation == "ALL" else frozenset({b.nation})
        for year in range(p.start.year - 1, p.end.year + 1):
            if b.month_day is not None:
                lo, hi = _md_window(year, b.month_day)
                out.append(Period(b.name, nations, lo, hi))
                continue
            assert b.holiday is not None
            days = sorted(d for d, n in public_holidays(b.nation, dt.date(year, 1, 1),
                                                        dt.date(year, 12, 31)).items()
                          if b.holiday.lower() in n.lower())
            if days:
                pad = dt.timedelta(days=b.pad_days)
                out.append(Period(b.name, nations, days[0] - pad, days[-1] + pad))
    return [q for q in out if q.last >= p.start and q.first <= p.end]


def busy_periods(p: Programme) -> list[tuple[Busy, dt.date, dt.date]]:
    out = []
    for b in p.busy:
        for year in b.years:
            lo, hi = _md_window(year, b.month_day)
            if hi >= p.start and lo <= p.end:
                out.append((b, lo, hi))
    return out


def shipped_programmes_dir() -> Path:
    return Path(str(resources.files("trilink") / "data" / "exercise"))


def load_programme(path: str | Path) -> Programme:
    """Load a programme file, or a shipped one by id; FILE:LINE errors on problems."""
    p = Path(path)
    if not p.is_file():
        shipped = shipped_programmes_dir() / f"{path}.yaml"
        if not shipped.is_file():
            names = ", ".join(sorted(q.stem for q in shipped_programmes_dir().glob("*.yaml")))
            raise ProgrammeInvalidError([FileProblem(str(path), 0, "(file)",
                                                     f"no such file; shipped: {names}")])
        p = shipped
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProgrammeInvalidError([FileProblem(str(p), 0, "(file)", f"unreadable: {exc}")]
                                    ) from None
    programme, lines = parse_yaml_model(text, str(p), Programme, ProgrammeInvalidError)
    seen: set[str] = set()
    for i, s in enumerate(programme.series):
        if s.id in seen:
            raise ProgrammeInvalidError([FileProblem(
                str(p), line_of(lines, ("series", i, "id")), f"series.{i}.id",
                f"series id {s.id!r} is used twice")])
        seen.add(s.id)
    return programme
