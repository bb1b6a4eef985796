"""Export controls as dated data: "what applied to an export of item X from A to B on
date D", with citations; and the changes between two dates (each change is something
the early-warning system tells the partners the agreements allow)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trilink.datafile import FileInvalidError, parse_yaml_model
from trilink.errors import TrilinkError
from trilink.sharing.releasability import check_nation


class ControlsInvalidError(FileInvalidError):
    """A controls file failed validation."""


class ControlsQueryError(TrilinkError):
    """A question the controls data cannot answer (unknown item or nation)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _hs6(value: str) -> str:
    if not (len(value) == 6 and value.isdigit()):
        raise ValueError(f"expected an HS six-digit code, got {value!r}")
    return value


class Measure(_Model):
    id: str
    imposed_by: str
    applies_to: tuple[str, ...] = Field(min_length=1)
    items: tuple[str, ...] = Field(min_length=1)
    effect: str = Field(min_length=1)
    announced: dt.date
    effective: dt.date
    ended: dt.date | None = None
    notes: str = ""
    sources: tuple[str, ...] = Field(min_length=1)

    @field_validator("items")
    @classmethod
    def _items(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_hs6(v) for v in value)

    @field_validator("imposed_by")
    @classmethod
    def _by(cls, value: str) -> str:
        check_nation(value)
        return value

    @model_validator(mode="after")
    def _dates(self) -> Measure:
        if self.effective < self.announced:
            raise ValueError("`effective` comes before `announced`")
        if self.ended is not None and self.ended <= self.effective:
            raise ValueError("`ended` must come after `effective`")
        return self

    def applies(self, origin: str, destination: str, item: str, day: dt.date) -> bool:
        return (self.imposed_by == origin and item in self.items
                and ("ALL" in self.applies_to or destination in self.applies_to)
                and self.effective <= day and (self.ended is None or day < self.ended))


class GroupChange(_Model):
    at: dt.date
    add: str | None = None
    remove: str | None = None
    note: str = ""
    sources: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one(self) -> GroupChange:
        if (self.add is None) == (self.remove is None):
            raise ValueError("a change adds or removes exactly one nation")
        return self


class Group(_Model):
    id: str
    name: str
    kept_by: str
    effect_of_membership: str
    changes: tuple[GroupChange, ...]
    members_before_changes: tuple[str, ...] = ()

    def members_on(self, day: dt.date) -> set[str]:
        members = set(self.members_before_changes)
        for c in sorted(self.changes, key=lambda c: c.at):
            if c.at > day:
                break
            if c.add:
                members.add(c.add)
            if c.remove:
                members.discard(c.remove)
        return members


class Controls(_Model):
    items: dict[str, str]
    measures: tuple[Measure, ...]
    groups: tuple[Group, ...]

    @field_validator("items")
    @classmethod
    def _items(cls, value: dict[str, str]) -> dict[str, str]:
        for k in value:
            _hs6(k)
        return value


@functools.cache
def shipped_controls() -> Controls:
    path = Path(str(resources.files("trilink") / "data" / "controls" / "controls.yaml"))
    return load_controls(path)


def load_controls(path: Path) -> Controls:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TrilinkError(f"{path}: cannot read: {exc.strerror or exc}") from None
    controls, _ = parse_yaml_model(text, str(path), Controls, ControlsInvalidError)
    return controls


@dataclass(frozen=True)
class Applies:
    what: str
    since: dt.date
    until: dt.date | None
    sources: tuple[str, ...]


def what_applied(origin: str, destination: str, item: str, day: dt.date,
                 controls: Controls | None = None) -> list[Applies]:
    """Every measure and group status that governed the export on ``day``."""
    c = controls or shipped_controls()
    for n in (origin, destination):
        try:
            check_nation(n)
        except ValueError as exc:
            raise ControlsQueryError(str(exc)) from None
    if item not in c.items:
        raise ControlsQueryError(f"item {item!r}: not in the controls data; known HS codes: "
                                 + ", ".join(sorted(c.items)))
    out = []
    for m in c.measures:
        if m.applies(origin, destination, item, day):
            out.append(Applies(f"{m.id}: {m.effect} ({c.items[item]})", m.effective, m.ended,
                               m.sources))
    for g in c.groups:
        if g.kept_by != origin:
            continue
        tracked = set(g.members_before_changes) | {x.add or x.remove for x in g.changes}
        if destination not in tracked:
            continue
        member = destination in g.members_on(day)
        last = max((x for x in g.changes if x.at <= day and destination in (x.add, x.remove)),
                   key=lambda x: x.at, default=None)
        nxt = min((x for x in g.changes if x.at > day and destination in (x.add, x.remove)),
                  key=lambda x: x.at, default=None)
        status = (f"{destination} is in {g.name}: {g.effect_of_membership}" if member else
                  f"{destination} is NOT in {g.name} (no {g.effect_of_membership})")
        out.append(Applies(status, last.at if last else dt.date.min,
                           nxt.at if nxt else None, last.sources if last else ()))
    return out


@dataclass(frozen=True)
class ListChange:
    """A change of controls between two dates: an alert for the partners."""

    day: dt.date
    imposed_by: str
    what: str
    affects: tuple[str, ...]
    sources: tuple[str, ...]


def changes_between(start: dt.date, end: dt.date,
                    controls: Controls | None = None) -> list[ListChange]:
    c = controls or shipped_controls()
    out = []
    for m in c.measures:
        for day, verb in ((m.effective, "in force"), (m.ended, "lifted")):
            if day is not None and start <= day <= end:
                items = ", ".join(f"{i} {c.items.get(i, '')}" for i in m.items)
                out.append(ListChange(day, m.imposed_by, f"{m.id} {verb}: {m.effect}; {items}",
                                      m.applies_to, m.sources))
    for g in c.groups:
        for x in g.changes:
            if start <= x.at <= end:
                verb = f"{x.add} added to" if x.add else f"{x.remove} removed from"
                out.append(ListChange(x.at, g.kept_by, f"{verb} {g.name}",
                                      (x.add or x.remove or "",), x.sources))
    return sorted(out, key=lambda ch: (ch.day, ch.imposed_by, ch.what))
