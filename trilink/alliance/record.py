"""The public record of US–Japan–ROK cooperation, as a dated and sourced registry.

Two kinds of entry, one source of truth each:

- **agreements** — read from ``trilink/data/agreements/*.yaml``, the same files every
  sharing policy (``trilink run``, ``trilink compare``, live nodes) is built from; the
  registry never keeps a second copy, so "what was in force" here and what the nodes
  enforce cannot disagree;
- **events** — summits, ministerials, national security advisers' meetings, frameworks
  (the TSCF memorandum, the Trilateral Secretariat) and exercises, in
  ``trilink/data/record/events.yaml``; and **commitments** on a cadence ("leaders at
  least annually", Camp David 2023) in ``commitments.yaml``.

:func:`in_force_at` answers "what was in force on date D", with the sources of every
line; :func:`check_commitments` says which cadence commitments were kept, which lapsed,
and when. Both are pure functions of the loaded registry and the date.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trilink.datafile import FileInvalidError, check_id, line_of, parse_yaml_model
from trilink.datafile import FileProblem as RecordProblem
from trilink.errors import TrilinkError
from trilink.sharing.agreements import Agreement, as_of_instant, fmt_time, load_agreements

EventKindName = Literal["summit", "ministerial", "nsa_meeting", "vice_ministerial", "framework",
                        "exercise"]
Level = Literal["leaders", "foreign_ministers", "defence_ministers", "nsas",
                "vice_foreign_ministers"]
FIRST_DAY = dt.date(2014, 1, 1)  # the registry's span starts here (the issue: "from 2014 on")


class RecordInvalidError(FileInvalidError):
    """A record file failed validation (``FILE:LINE: field: problem`` lines)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_sources(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        raise ValueError("every entry needs at least one source")
    for url in value:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"a source is a web address, got {url!r}")
    return value


class RecordEvent(_Model):
    """One dated event of the public record."""

    id: str
    date: dt.date
    end: dt.date | None = None
    kind: EventKindName
    level: Level | None = None
    series: str | None = None
    title: str = Field(min_length=1)
    place: str = ""
    notes: str = ""
    sources: tuple[str, ...]

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return check_id(value)

    @field_validator("sources")
    @classmethod
    def _sources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_sources(value)

    @model_validator(mode="after")
    def _shape(self) -> RecordEvent:
        if self.date < FIRST_DAY:
            raise ValueError(f"the record starts {FIRST_DAY.isoformat()}")
        if self.end is not None and self.end < self.date:
            raise ValueError("`end` comes before `date`")
        meeting = self.kind in ("summit", "ministerial", "nsa_meeting", "vice_ministerial")
        if meeting and self.level is None:
            raise ValueError(f"a {self.kind} names its `level`")
        if self.kind == "exercise" and self.series is None:
            raise ValueError("an exercise names its `series`")
        return self


class Match(_Model):
    """Which events fulfil a commitment."""

    kind: EventKindName
    level: Level | None = None
    series: str | None = None

    def __call__(self, ev: RecordEvent) -> bool:
        return (ev.kind == self.kind and (self.level is None or ev.level == self.level)
                and (self.series is None or ev.series == self.series))


class Commitment(_Model):
    """A cadence commitment: at least one matching event per period."""

    id: str
    made_by: str
    what: str = Field(min_length=1)
    match: Match
    period: Literal["calendar_year"]
    first_period: int = Field(ge=FIRST_DAY.year, le=2100)
    sources: tuple[str, ...]

    @field_validator("sources")
    @classmethod
    def _sources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_sources(value)


class _EventsFile(_Model):
    events: tuple[RecordEvent, ...]
    covered_until: dt.date


class _CommitmentsFile(_Model):
    commitments: tuple[Commitment, ...]


@dataclass(frozen=True)
class Registry:
    """The whole record: agreements (from the agreement files), events, commitments."""

    agreements: tuple[Agreement, ...]
    events: tuple[RecordEvent, ...]  # by date, then id
    commitments: tuple[Commitment, ...]
    covered_until: dt.date

    def event(self, event_id: str) -> RecordEvent:
        for ev in self.events:
            if ev.id == event_id:
                return ev
        raise KeyError(event_id)


def shipped_record_dir() -> Path:
    return Path(str(resources.files("trilink") / "data" / "record"))


def load_registry(record_dir: str | Path | None = None,
                  agreements_dir: str | Path | None = None) -> Registry:
    """Load the registry; raises :class:`RecordInvalidError` with every problem found
    (duplicate ids, commitments made by unknown events, bad fields)."""
    folder = Path(record_dir) if record_dir is not None else shipped_record_dir()
    ev_path, cm_path = folder / "events.yaml", folder / "commitments.yaml"
    events_file, ev_lines = parse_yaml_model(_read(ev_path), str(ev_path), _EventsFile,
                                             RecordInvalidError)
    commits_file, cm_lines = parse_yaml_model(_read(cm_path), str(cm_path), _CommitmentsFile,
                                              RecordInvalidError)
    problems: list[RecordProblem] = []
    seen: set[str] = set()
    for i, ev in enumerate(events_file.events):
        if ev.id in seen:
            problems.append(RecordProblem(str(ev_path), line_of(ev_lines, ("events", i, "id")),
                                          f"events.{i}.id", f"id {ev.id!r} is used twice"))
        seen.add(ev.id)
    for i, c in enumerate(commits_file.commitments):
        if c.made_by not in seen:
            problems.append(RecordProblem(
                str(cm_path), line_of(cm_lines, ("commitments", i, "made_by")),
                f"commitments.{i}.made_by", f"no event {c.made_by!r} in {ev_path.name}"))
    if problems:
        raise RecordInvalidError(problems)
    agreements = (load_agreements(agreements_dir) if agreements_dir is not None
                  else load_agreements())
    events = tuple(sorted(events_file.events, key=lambda e: (e.date, e.id)))
    return Registry(agreements, events, commits_file.commitments, events_file.covered_until)


@functools.cache
def shipped_registry() -> Registry:
    return load_registry()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecordInvalidError(
            [RecordProblem(str(path), 0, "(file)", f"cannot read: {exc.strerror or exc}")]
        ) from None


# --------------------------------------------------------------------- questions


@dataclass(frozen=True)
class Line:
    """One answer line, with its sources."""

    what: str
    status: str
    since: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class InForce:
    """What was in force on a date (see :func:`in_force_at`)."""

    day: dt.date
    instant: dt.datetime
    agreements: tuple[Line, ...]
    not_in_force: tuple[Line, ...]
    frameworks: tuple[Line, ...]
    commitments: tuple[Line, ...]
    last_meetings: tuple[Line, ...]
    beyond_coverage: bool


def check_day(day: dt.date, registry: Registry) -> None:
    """Refuse dates outside the span the registry speaks for, in one line."""
    if not FIRST_DAY <= day <= dt.date(2100, 12, 31):
        raise RecordDateError(
            f"{day.isoformat()}: the record covers {FIRST_DAY.isoformat()} on "
            f"(its events to {registry.covered_until.isoformat()})")


class RecordDateError(TrilinkError):
    """A date outside the registry's span."""


def in_force_at(day: dt.date, registry: Registry | None = None) -> InForce:
    """The agreements, frameworks and commitments in force on ``day`` (read at 12:00
    UTC, the same calendar date in Washington, Tokyo and Seoul — as sharing policies read
    a date), and the last meeting of each level before it."""
    reg = registry or shipped_registry()
    check_day(day, reg)
    t = as_of_instant(day)
    in_force, not_in_force = [], []
    for a in reg.agreements:
        if a.hypothetical:
            continue
        status = a.status_at(t)
        first = a.events[0].at
        line = Line(a.name, status.explanation, fmt_time(first), a.sources)
        if status.in_force:
            in_force.append(line)
        elif first <= t:
            not_in_force.append(line)
    past = [ev for ev in reg.events if ev.date <= day]
    frameworks = [Line(ev.title, "in effect", ev.date.isoformat(), ev.sources)
                  for ev in past if ev.kind == "framework"]
    commitments = []
    for c in reg.commitments:
        made = reg.event(c.made_by)
        if made.date <= day:
            commitments.append(Line(c.what, f"committed at {made.title.split(':')[0]}",
                                    made.date.isoformat(), c.sources))
    last: dict[str, RecordEvent] = {}
    for ev in past:
        if ev.level is not None:
            last[ev.level] = ev
        elif ev.kind == "exercise" and ev.series is not None:
            last[f"exercise:{ev.series}"] = ev
    meetings = [Line(ev.title, f"last {key.replace('_', ' ')} before the date",
                     ev.date.isoformat(), ev.sources) for key, ev in sorted(last.items())]
    return InForce(day, t, tuple(in_force), tuple(not_in_force), tuple(frameworks),
                   tuple(commitments), tuple(meetings), day > reg.covered_until)


@dataclass(frozen=True)
class PeriodVerdict:
    period: str  # "2024"
    status: Literal["kept", "lapsed", "open"]
    events: tuple[str, ...]  # ids of the matching events
    detail: str


@dataclass(frozen=True)
class CommitmentCheck:
    commitment: Commitment
    periods: tuple[PeriodVerdict, ...]

    @property
    def kept(self) -> bool:
        return all(p.status != "lapsed" for p in self.periods)

    @property
    def lapsed_since(self) -> str | None:
        """The first period that lapsed (None if none did)."""
        return next((p.period for p in self.periods if p.status == "lapsed"), None)


def check_commitments(as_of: dt.date | None = None,
                      registry: Registry | None = None) -> list[CommitmentCheck]:
    """Each commitment, period by period up to ``as_of`` (default: the registry's
    coverage): kept (a matching event), lapsed (the period ended with none) or open (the
    period has not ended and has no matching event yet).

    A period that ends after the registry's coverage and has no match is "open": the
    registry cannot tell a lapse from an event it does not hold yet.
    """
    reg = registry or shipped_registry()
    day = as_of or reg.covered_until
    check_day(day, reg)
    out = []
    for c in reg.commitments:
        verdicts = []
        for year in range(c.first_period, day.year + 1):
            start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
            hits = tuple(ev.id for ev in reg.events
                         if c.match(ev) and start <= ev.date <= min(end, day))
            if hits:
                first = reg.event(hits[0]).date.isoformat()
                verdicts.append(PeriodVerdict(str(year), "kept", hits,
                                              f"{len(hits)} matching, first {first}"))
            elif end < day and end <= reg.covered_until:
                verdicts.append(PeriodVerdict(
                    str(year), "lapsed", (),
                    f"no matching event from {start.isoformat()} to {end.isoformat()}"))
            else:
                why = ("the year has not ended" if end >= day
                       else f"the registry covers events only to "
                            f"{reg.covered_until.isoformat()}")
                verdicts.append(PeriodVerdict(str(year), "open", (),
                                              f"none yet; {why}"))
        out.append(CommitmentCheck(c, tuple(verdicts)))
    return out
