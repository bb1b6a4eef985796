"""Agreements are data: the registry of information-sharing agreements and named regimes.

Each agreement is one YAML file (``trilink/data/agreements/*.yaml``): its parties (ISO
3166-1 alpha-3), the kinds of data it covers, its dated status history (in force, notice
of termination and its effective instant, suspension of the notice, suspension and
restoration of the agreement, termination), its route (direct, or relayed through a named
party with a relay delay in seconds) and its latency per hop in seconds, with sources.

A regime (``trilink/data/regimes/*.yaml``) names a set of agreements and options: a fixed
instant at which their status is evaluated (``as_of``), events to ignore (counterfactuals
such as "had the 2019 GSOMIA termination notice not been suspended") and an override of
the relay delay.

Bad files raise :class:`AgreementInvalidError` whose lines read ``FILE:LINE: field:
problem`` (the line of the offending YAML node), like scenario files do.

Times: event instants are timezone-aware; a plain date in a file means 00:00 UTC of that
date. A regime's ``as_of`` date means 12:00 UTC of that date, which falls on the same
calendar date in Washington, Tokyo and Seoul.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trilink.datafile import (
    FileInvalidError,
    FileProblem,
    Lines,
    check_id,
    line_of,
    parse_yaml_model,
)
from trilink.sharing.releasability import check_nation


class DataKind(StrEnum):
    """Kinds of shared data an agreement may cover."""

    MISSILE_TRACK = "missile_track"
    MISSILE_WARNING = "missile_warning"
    LAUNCH_REPORT = "launch_report"
    HOTLINE = "hotline"
    CYBER_INDICATOR = "cyber_indicator"
    STATEMENT = "statement"
    SUPPLY_INDICATOR = "supply_indicator"  # early-warning series and shortage alarms
    CONTROL_LIST = "control_list"  # export-control measures and country-group changes


class EventKind(StrEnum):
    """Events of an agreement's status history."""

    SIGNED = "signed"  # informational: does not by itself put the agreement in force
    IN_FORCE = "in_force"  # takes effect (again)
    NOTICE_OF_TERMINATION = "notice_of_termination"  # needs `effective`
    NOTICE_SUSPENDED = "notice_suspended"  # the pending notice no longer takes effect
    NOTICE_WITHDRAWN = "notice_withdrawn"  # normalised: the notice is withdrawn
    SUSPENDED = "suspended"  # the agreement itself is suspended
    RESTORED = "restored"  # a suspended agreement applies again
    TERMINATED = "terminated"


def _utc_date(value: dt.date) -> dt.datetime:
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


def _aware(value: Any) -> Any:
    """Dates become 00:00 UTC; naive datetimes are refused."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = (
                dt.date.fromisoformat(text)
                if len(text) == 10
                else dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            )
        except ValueError:
            return text  # pydantic reports the bad format
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("time must carry a UTC offset, e.g. 2019-11-23T00:00:00+09:00")
        return value
    if isinstance(value, dt.date):
        return _utc_date(value)
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StatusEvent(_Model):
    """One dated event of an agreement's history."""

    at: dt.datetime = Field(description="instant of the event (timezone-aware)")
    event: EventKind
    effective: dt.datetime | None = Field(
        default=None, description="notice_of_termination only: when termination takes effect"
    )
    note: str = ""
    source_row: str = Field(
        default="", description="`date` cell of the row in data/sharing_reference.csv"
    )

    @field_validator("at", "effective", mode="before")
    @classmethod
    def _aware_times(cls, value: Any) -> Any:
        return _aware(value)

    @field_validator("source_row", "note", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.date) else value

    @model_validator(mode="after")
    def _effective(self) -> StatusEvent:
        if self.event is EventKind.NOTICE_OF_TERMINATION:
            if self.effective is None:
                raise ValueError("a notice_of_termination needs `effective`")
            if self.effective <= self.at:
                raise ValueError("`effective` must come after the notice")
        elif self.effective is not None:
            raise ValueError("only a notice_of_termination has `effective`")
        return self


class RouteSpec(_Model):
    """How data flows between the parties: directly, or relayed through ``via``."""

    mode: Literal["direct", "relay"]
    via: str | None = Field(default=None, description="relay: the hub party")
    relay_delay_s: float = Field(
        default=0.0, ge=0, description="relay: time the hub takes to pass an item on, s"
    )

    @model_validator(mode="after")
    def _relay(self) -> RouteSpec:
        if self.mode == "relay":
            if self.via is None:
                raise ValueError("a relay route needs `via`")
            check_nation(self.via)
        else:
            if self.via is not None:
                raise ValueError("a direct route has no `via`")
            if self.relay_delay_s != 0.0:
                raise ValueError("a direct route has no `relay_delay_s`")
        return self


@dataclass(frozen=True)
class AgreementStatus:
    """Whether an agreement applies at an instant, and the events that decided."""

    in_force: bool
    explanation: str


def fmt_time(t: dt.datetime) -> str:
    """``2019-11-23 00:00 UTC+09:00``, ``2019-12-01 03:00 UTC``, or ``2016-11-23`` for 00:00 UTC."""
    off = t.utcoffset() or dt.timedelta(0)
    if off == dt.timedelta(0) and (t.hour, t.minute, t.second) == (0, 0, 0):
        return t.strftime("%Y-%m-%d")
    if off == dt.timedelta(0):
        return t.strftime("%Y-%m-%d %H:%M UTC")
    mins = int(off.total_seconds() // 60)
    sign = "+" if mins >= 0 else "-"
    return t.strftime("%Y-%m-%d %H:%M") + f" UTC{sign}{abs(mins) // 60:02d}:{abs(mins) % 60:02d}"


class Agreement(_Model):
    """One information-sharing agreement."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    parties: tuple[str, ...] = Field(min_length=2)
    kinds: tuple[DataKind, ...] = Field(min_length=1)
    route: RouteSpec
    latency_s: float = Field(ge=0, description="time for one hop under this agreement, s")
    latency_assumption: str = ""
    events: tuple[StatusEvent, ...] = Field(min_length=1)
    hypothetical: bool = Field(default=False, description="an example, not the record")
    notes: str = ""
    sources: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return check_id(value)

    @field_validator("parties")
    @classmethod
    def _parties(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            check_nation(code)
        if len(set(value)) != len(value):
            raise ValueError("a party appears twice")
        return value

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: tuple[DataKind, ...]) -> tuple[DataKind, ...]:
        if len(set(value)) != len(value):
            raise ValueError("a kind appears twice")
        return value

    @field_validator("events")
    @classmethod
    def _ordered(cls, value: tuple[StatusEvent, ...]) -> tuple[StatusEvent, ...]:
        for a, b in itertools.pairwise(value):
            if b.at < a.at:
                raise ValueError("events must be in chronological order")
        return value

    @model_validator(mode="after")
    def _route_party(self) -> Agreement:
        if self.route.mode == "relay":
            if self.route.via not in self.parties:
                raise ValueError(f"route.via {self.route.via} is not one of the parties")
            if len(self.parties) < 3:
                raise ValueError("a relay route needs at least three parties")
        return self

    def covers(self, kind: DataKind | str) -> bool:
        """True when the agreement covers this kind of data."""
        return DataKind(kind) in self.kinds

    def status_at(
        self, t: dt.datetime, ignore: frozenset[tuple[str, EventKind]] = frozenset()
    ) -> AgreementStatus:
        """Replay the history up to ``t`` (inclusive); events in ``ignore`` are skipped.

        ``ignore`` holds ``(agreement_id, event_kind)`` pairs: the counterfactual "had
        this event not happened". A notice of termination takes effect at its
        ``effective`` instant unless suspended or withdrawn before.
        """
        if t.tzinfo is None:
            raise ValueError("t must be timezone-aware")
        active = False
        pending: StatusEvent | None = None
        text = f"not yet in force (its record starts {fmt_time(self.events[0].at)})"

        def lapse(before: dt.datetime, inclusive: bool) -> None:
            nonlocal active, pending, text
            if pending is None or pending.effective is None:
                return
            if pending.effective < before or (inclusive and pending.effective == before):
                active = False
                text = (
                    f"terminated {fmt_time(pending.effective)} by the notice of "
                    f"{fmt_time(pending.at)}"
                )
                pending = None

        for ev in self.events:
            if ev.at > t:
                break
            if (self.id, ev.event) in ignore:
                continue
            lapse(ev.at, inclusive=True)
            when = fmt_time(ev.at)
            match ev.event:
                case EventKind.SIGNED:
                    if not active:
                        text = f"signed {when} but not in force"
                case EventKind.IN_FORCE:
                    active, pending = True, None
                    text = f"in force since {when}"
                case EventKind.NOTICE_OF_TERMINATION:
                    if active and ev.effective is not None:
                        pending = ev
                        text = (
                            f"in force; notice of termination given {when} to take effect "
                            f"{fmt_time(ev.effective)}"
                        )
                case EventKind.NOTICE_SUSPENDED:
                    if pending is not None:
                        text = (
                            f"in force; the termination notice of {fmt_time(pending.at)} "
                            f"was suspended {when}, before it took effect"
                        )
                        pending = None
                case EventKind.NOTICE_WITHDRAWN:
                    if active:
                        text = f"in force; termination notices withdrawn (normalised) {when}"
                        pending = None
                case EventKind.SUSPENDED:
                    if active:
                        active = False
                        text = f"suspended since {when}"
                case EventKind.RESTORED:
                    if not active and text.startswith("suspended"):
                        active = True
                        text = f"restored {when}"
                case EventKind.TERMINATED:
                    active, pending = False, None
                    text = f"terminated {when}"
        lapse(t, inclusive=True)
        skipped = sorted(e.value for (i, e) in ignore if i == self.id)
        if skipped:
            text += f" [counterfactual: ignoring its {', '.join(skipped)} events]"
        return AgreementStatus(active, text)


class IgnoredEvent(_Model):
    """A counterfactual: skip every event of this kind in this agreement's history."""

    agreement: str
    event: EventKind


class Regime(_Model):
    """A named sharing regime: which agreements, and how their status is evaluated."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str = ""
    agreements: tuple[str, ...] | None = Field(
        default=None, description="agreement ids; omitted = every shipped agreement"
    )
    include: tuple[str, ...] = Field(
        default=(), description="extra agreement files, relative to the agreements folder"
    )
    as_of: dt.datetime | None = Field(
        default=None, description="evaluate status at this instant, not at the event time"
    )
    ignore_events: tuple[IgnoredEvent, ...] = ()
    relay_delay_s: float | None = Field(
        default=None, ge=0, description="overrides every relay agreement's relay delay, s"
    )
    sources: tuple[str, ...] = ()

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, value: Any) -> Any:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return as_of_instant(value)
        return _aware(value)

    def ignored(self) -> frozenset[tuple[str, EventKind]]:
        """The ignored events as ``(agreement_id, event_kind)`` pairs."""
        return frozenset((e.agreement, e.event) for e in self.ignore_events)


def as_of_instant(day: dt.date | dt.datetime) -> dt.datetime:
    """A date → 12:00 UTC of that date (same calendar date in Washington, Tokyo, Seoul)."""
    if isinstance(day, dt.datetime):
        if day.tzinfo is None:
            raise ValueError("as_of must carry a UTC offset")
        return day
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


# --------------------------------------------------------------------------- errors


AgreementProblem = FileProblem


class AgreementInvalidError(FileInvalidError):
    """Raised for bad agreement or regime files; ``errors`` lists every problem."""


_M = TypeVar("_M", bound=BaseModel)


def _parse(text: str, path: str, model: type[_M]) -> tuple[_M, Lines]:
    return parse_yaml_model(text, path, model, AgreementInvalidError)


def parse_agreement(text: str, path: str = "<agreement>") -> Agreement:
    """Parse and validate one agreement file's text."""
    return _parse(text, path, Agreement)[0]


def parse_regime(text: str, path: str = "<regime>") -> Regime:
    """Parse and validate one regime file's text."""
    return _parse(text, path, Regime)[0]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AgreementInvalidError([AgreementProblem(str(path), 0, "(file)", str(exc))]) from None


def shipped_agreements_dir() -> Path:
    """The folder of shipped agreement files (``trilink/data/agreements``)."""
    return Path(str(resources.files("trilink.data").joinpath("agreements")))


def shipped_regimes_dir() -> Path:
    """The folder of shipped regime files (``trilink/data/regimes``)."""
    return Path(str(resources.files("trilink.data").joinpath("regimes")))


def shipped_whatif_dir() -> Path:
    """The folder of shipped what-if regime files (``trilink/data/whatif``): hypothetical
    extensions of the record, such as ``growth-partners.yaml`` (real-time sharing with
    nine more partners). They are not named regimes (:func:`shipped_regimes` leaves them
    out); load one by its path with :func:`load_regime`."""
    return Path(str(resources.files("trilink.data").joinpath("whatif")))


def _files(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml")))
        else:
            out.append(p)
    return out


def load_agreements(
    paths: str | Path | Iterable[str | Path] | None = None,
) -> tuple[Agreement, ...]:
    """Load agreements from files and folders (a folder: its ``*.yaml``, not subfolders).

    ``None`` loads the shipped record (``trilink/data/agreements/*.yaml``; the
    ``examples/`` subfolder is not part of it). Returns the agreements sorted by id;
    raises :class:`AgreementInvalidError` listing every problem, including an id used
    by two files.
    """
    if paths is None:
        paths = [shipped_agreements_dir()]
    elif isinstance(paths, str | Path):
        paths = [paths]
    errors: list[AgreementProblem] = []
    seen: dict[str, str] = {}
    out: list[Agreement] = []
    for path in _files(paths):
        try:
            agreement, lines = _parse(_read(path), str(path), Agreement)
        except AgreementInvalidError as exc:
            errors.extend(exc.errors)
            continue
        if agreement.id in seen:
            errors.append(
                AgreementProblem(
                    str(path),
                    line_of(lines, ("id",)),
                    "id",
                    f"agreement id {agreement.id!r} is also used by {seen[agreement.id]}",
                )
            )
            continue
        seen[agreement.id] = str(path)
        out.append(agreement)
    if errors:
        raise AgreementInvalidError(errors)
    return tuple(sorted(out, key=lambda a: a.id))


def shipped_regimes() -> list[str]:
    """Ids of the shipped named regimes."""
    return sorted(p.stem for p in shipped_regimes_dir().glob("*.yaml"))


def load_regime(name_or_path: str | Path) -> Regime:
    """Load a regime from a file, or a shipped regime by its id (e.g. ``"tisa-relay"``)."""
    p = Path(name_or_path)
    if not p.is_file():
        shipped = shipped_regimes_dir() / f"{name_or_path}.yaml"
        if not shipped.is_file():
            raise AgreementInvalidError(
                [
                    AgreementProblem(
                        str(name_or_path),
                        0,
                        "(file)",
                        "no such file and no shipped regime; shipped: "
                        + ", ".join(shipped_regimes()),
                    )
                ]
            )
        p = shipped
    regime, lines = _parse(_read(p), str(p), Regime)
    if regime.id != p.stem and p.parent == shipped_regimes_dir():
        raise AgreementInvalidError(
            [AgreementProblem(str(p), line_of(lines, ("id",)), "id", "must match the file name")]
        )
    return regime


def regime_agreements(
    regime: Regime, agreements_dir: str | Path | None = None
) -> tuple[Agreement, ...]:
    """The agreements a regime uses: its ``agreements`` ids from the folder (shipped by
    default) plus its ``include`` files; unknown ids raise :class:`AgreementInvalidError`."""
    folder = Path(agreements_dir) if agreements_dir is not None else shipped_agreements_dir()
    base = load_agreements([folder])
    extra = load_agreements([folder / rel for rel in regime.include]) if regime.include else ()
    if regime.agreements is None:
        chosen = list(base)
    else:
        by_id = {a.id: a for a in base}
        missing = [i for i in regime.agreements if i not in by_id]
        if missing:
            raise AgreementInvalidError(
                [
                    AgreementProblem(
                        f"<regime {regime.id}>", 0, "agreements", f"unknown agreement {i!r}"
                    )
                    for i in missing
                ]
            )
        chosen = [by_id[i] for i in regime.agreements]
    ids = {a.id for a in chosen}
    for a in extra:
        if a.id in ids:
            raise AgreementInvalidError(
                [AgreementProblem(f"<regime {regime.id}>", 0, "include", f"{a.id!r} twice")]
            )
        chosen.append(a)
    return tuple(sorted(chosen, key=lambda a: a.id))
