"""Monthly supply-chain series: published figures, and simulated months between them.

A :class:`SeriesSpec` is data (``trilink/data/supply/series.yaml``); :func:`build` turns
it into a :class:`Series` for one seeded run: published months exactly as published,
the other months simulated (log-linear between the nearest published figures, times
lognormal noise of the spec's ``simulated_noise``), each month flagged as one or the
other so that every report can say which is which.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from trilink.datafile import FileInvalidError, parse_yaml_model

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
FLOOR = 1e-3  # a published zero is kept; logs use this floor (a month of no trade)


class SeriesInvalidError(FileInvalidError):
    """A series file failed validation."""


def _month(value: str) -> str:
    if not _MONTH.match(value):
        raise ValueError(f"expected YYYY-MM, got {value!r}")
    return value


class Published(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    month: str
    value: float = Field(ge=0)
    source: str = Field(min_length=8)
    derived: str = ""
    note: str = ""

    @field_validator("month", mode="before")
    @classmethod
    def _m(cls, v: object) -> str:
        return _month(v.strftime("%Y-%m") if isinstance(v, dt.date) else str(v))


class SeriesSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    measure: Literal["trade", "price", "inventory"] = "trade"
    good: str
    hs6: str
    reporter: str
    flow: str
    partner: str
    unit: str
    start: str
    end: str
    publication_lag_days: int = Field(ge=0, le=120)
    simulated_noise: float = Field(ge=0, le=2)
    published: tuple[Published, ...] = Field(min_length=2)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _m(cls, v: object) -> str:
        return _month(v.strftime("%Y-%m") if isinstance(v, dt.date) else str(v))


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    series: tuple[SeriesSpec, ...]


@dataclass(frozen=True)
class Series:
    spec: SeriesSpec
    months: tuple[str, ...]
    values: tuple[float, ...]
    published: tuple[bool, ...]

    def available_on(self, k: int) -> dt.date:
        """The day month k's figure is published (the month's end plus the lag)."""
        y, m = map(int, self.months[k].split("-"))
        first_next = dt.date(y + (m == 12), m % 12 + 1, 1)
        return first_next + dt.timedelta(days=self.spec.publication_lag_days - 1)


def month_range(start: str, end: str) -> list[str]:
    y, m = map(int, start.split("-"))
    ye, me = map(int, end.split("-"))
    out = []
    while (y, m) <= (ye, me):
        out.append(f"{y:04d}-{m:02d}")
        y, m = y + (m == 12), m % 12 + 1
    return out


def build(spec: SeriesSpec, seed: int) -> Series:
    months = month_range(spec.start, spec.end)
    known = {p.month: p.value for p in spec.published}
    idx = [i for i, mo in enumerate(months) if mo in known]
    logs = [math.log(max(known[months[i]], FLOOR)) for i in idx]
    rng = np.random.default_rng([seed, sum(map(ord, spec.id))])
    values, flags = [], []
    for i, mo in enumerate(months):
        if mo in known:
            values.append(known[mo])
            flags.append(True)
            continue
        base = float(np.interp(i, idx, logs))  # flat beyond the ends
        noise = float(rng.normal(0.0, spec.simulated_noise))
        values.append(round(math.exp(base + noise), 3))
        flags.append(False)
    return Series(spec, tuple(months), tuple(values), tuple(flags))


@functools.cache
def shipped_series() -> dict[str, SeriesSpec]:
    path = resources.files("trilink") / "data" / "supply" / "series.yaml"
    f, _ = parse_yaml_model(path.read_text(encoding="utf-8"), "series.yaml", _File,
                            SeriesInvalidError)
    return {s.id: s for s in f.series}
