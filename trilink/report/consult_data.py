"""A typed, defensive view of the crisis-hotline consultations of a run record.

The record's top-level ``"consultations"`` list (written by the hotline engine; records made
before it have no such key) holds one entry per consultation::

    {"id", "opener", "parties", "authority", "topic", "trigger", "launches", "state",
     "opened_t_s", "all_joined_t_s", "statement_released_t_s", "concluded_t_s", "lapsed_t_s",
     "fact_sheet": {"launch_t_s", "launch_lat_deg", "launch_lon_deg", "trajectory_class",
                    "impact_lat_deg", "impact_lon_deg", "impact_t_s", "semi_major_km",
                    "semi_minor_km", "azimuth_deg",
                    "warnings": [{"nation", "t_s", "level"}]},
     "statement": {"id", "version", "text", "signers", "declined"} | null,
     "events": [{"t_s", "nation", "authority", "what", "detail"}]}

As in :mod:`trilink.report.data`, every field is read with a default: a missing, null or
malformed value becomes ``None`` or empty instead of an exception. Times are seconds since
the scenario epoch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trilink.report.data import _map, _num, _seq, _text

__all__ = [
    "ConsultEvent",
    "Consultation",
    "FactSheet",
    "FactWarning",
    "Statement",
    "parse_consultations",
]

ENDED_STATES = ("concluded", "lapsed")


@dataclass(frozen=True)
class ConsultEvent:
    """One step of a consultation: a nation opened, joined, said, drafted, approved..."""

    t_s: float
    nation: str
    authority: str
    what: str
    detail: str


@dataclass(frozen=True)
class FactWarning:
    """A public warning listed on a consultation's fact sheet."""

    nation: str
    t_s: float | None
    level: str


@dataclass(frozen=True)
class FactSheet:
    """What the consultation was told about the launch (estimates, not the truth)."""

    launch_t_s: float | None = None
    launch_t_basis: str = ""  # how the launch time was estimated
    launch_lat_deg: float | None = None
    launch_lon_deg: float | None = None
    trajectory_class: str = ""
    impact_lat_deg: float | None = None
    impact_lon_deg: float | None = None
    impact_t_s: float | None = None
    semi_major_km: float | None = None
    semi_minor_km: float | None = None
    azimuth_deg: float | None = None
    warnings: tuple[FactWarning, ...] = ()

    @property
    def empty(self) -> bool:
        """True when the sheet holds nothing at all."""
        return self == FactSheet()


@dataclass(frozen=True)
class Statement:
    """The joint statement (the last version drafted, released or not)."""

    id: str
    version: int | None
    text: str
    signers: tuple[str, ...]
    declined: tuple[str, ...]


@dataclass(frozen=True)
class Consultation:
    """One consultation on the hotline, parsed."""

    id: str
    opener: str
    parties: tuple[str, ...]
    authority: str
    topic: str
    trigger: str
    launches: tuple[str, ...]
    state: str
    opened_t_s: float | None
    all_joined_t_s: float | None
    statement_released_t_s: float | None
    concluded_t_s: float | None
    lapsed_t_s: float | None
    fact_sheet: FactSheet
    statement: Statement | None
    events: tuple[ConsultEvent, ...]

    @property
    def lanes(self) -> tuple[str, ...]:
        """The nations with a lane: the parties, then any other nation that took part."""
        seen = dict.fromkeys(self.parties)
        if self.opener:
            seen.setdefault(self.opener, None)
        for e in self.events:
            if e.nation:
                seen.setdefault(e.nation, None)
        return tuple(seen)

    @property
    def released(self) -> bool:
        """True when a statement was released."""
        return self.statement_released_t_s is not None

    @property
    def end_t_s(self) -> float | None:
        """When it ended (concluded or lapsed), or None while still open."""
        return self.concluded_t_s if self.concluded_t_s is not None else self.lapsed_t_s

    def times(self) -> list[float]:
        """Every time the consultation shows (milestones, events, fact-sheet times)."""
        fs = self.fact_sheet
        t = [self.opened_t_s, self.all_joined_t_s, self.statement_released_t_s,
             self.concluded_t_s, self.lapsed_t_s, fs.launch_t_s, fs.impact_t_s]
        t += [w.t_s for w in fs.warnings]
        out = [x for x in t if x is not None]
        return out + [e.t_s for e in self.events]


def _names(value: Any) -> tuple[str, ...]:
    return tuple(_text(v) for v in _seq(value) if _text(v))


def _fact_sheet(value: Any) -> FactSheet:
    d = _map(value)
    warnings = []
    for x in _seq(d.get("warnings")):
        w = _map(x)
        if w:
            warnings.append(FactWarning(_text(w.get("nation")), _num(w.get("t_s")),
                                        _text(w.get("level")) or "none"))
    warnings.sort(key=lambda w: (w.t_s is None, w.t_s or 0.0, w.nation))
    return FactSheet(
        launch_t_s=_num(d.get("launch_t_s")), launch_t_basis=_text(d.get("launch_t_basis")),
        launch_lat_deg=_num(d.get("launch_lat_deg")),
        launch_lon_deg=_num(d.get("launch_lon_deg")),
        trajectory_class=_text(d.get("trajectory_class")),
        impact_lat_deg=_num(d.get("impact_lat_deg")),
        impact_lon_deg=_num(d.get("impact_lon_deg")), impact_t_s=_num(d.get("impact_t_s")),
        semi_major_km=_num(d.get("semi_major_km")), semi_minor_km=_num(d.get("semi_minor_km")),
        azimuth_deg=_num(d.get("azimuth_deg")), warnings=tuple(warnings))


def _statement(value: Any) -> Statement | None:
    d = _map(value)
    if not d:
        return None
    version = _num(d.get("version"))
    return Statement(_text(d.get("id")), None if version is None else int(version),
                     _text(d.get("text")), _names(d.get("signers")), _names(d.get("declined")))


def _consultation(value: Any, k: int) -> Consultation:
    d = _map(value)
    events = []
    for x in _seq(d.get("events")):
        e = _map(x)
        t = _num(e.get("t_s"))
        if t is not None:
            events.append(ConsultEvent(t, _text(e.get("nation")), _text(e.get("authority")),
                                       _text(e.get("what")).lower(), _text(e.get("detail"))))
    events.sort(key=lambda e: e.t_s)  # stable: the record's order among equal times
    return Consultation(
        id=_text(d.get("id")) or f"#{k + 1}", opener=_text(d.get("opener")),
        parties=_names(d.get("parties")), authority=_text(d.get("authority")),
        topic=_text(d.get("topic")), trigger=_text(d.get("trigger")),
        launches=_names(d.get("launches")), state=_text(d.get("state")).lower(),
        opened_t_s=_num(d.get("opened_t_s")), all_joined_t_s=_num(d.get("all_joined_t_s")),
        statement_released_t_s=_num(d.get("statement_released_t_s")),
        concluded_t_s=_num(d.get("concluded_t_s")), lapsed_t_s=_num(d.get("lapsed_t_s")),
        fact_sheet=_fact_sheet(d.get("fact_sheet")), statement=_statement(d.get("statement")),
        events=tuple(events))


def parse_consultations(record: Mapping[str, Any]) -> tuple[Consultation, ...] | None:
    """The consultations of a record dict, by opening time; None when the record has no
    ``"consultations"`` list at all (a record made before the hotline existed)."""
    raw = record.get("consultations")
    if not isinstance(raw, list | tuple):
        return None
    out = [_consultation(x, k) for k, x in enumerate(raw) if isinstance(x, Mapping)]
    out.sort(key=lambda c: (c.opened_t_s is None, c.opened_t_s or 0.0, c.id))
    return tuple(out)
