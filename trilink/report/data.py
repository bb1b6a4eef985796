"""A typed, defensive view of a run record (``record.json``, see :mod:`trilink.sim.record`).

The record is plain JSON written by another program (or edited by a person), so every
field is read with a default: a missing or null value becomes ``None`` (or an empty
collection) instead of an exception. Units are those of the record: degrees, km and
seconds since the scenario epoch unless a name says otherwise.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Assessment",
    "Ellipse",
    "Launch",
    "Message",
    "NationFigures",
    "Record",
    "Scenario",
    "Sensor",
    "parse_record",
]

def _num(value: Any) -> float | None:
    """A finite float, or None for null, missing, non-numeric or non-finite values."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def _text(value: Any) -> str:
    """A string ('' for null or missing; other scalars are converted)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _seq(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()


@dataclass(frozen=True)
class Ellipse:
    """A predicted impact point and its 95 % ellipse."""

    lat_deg: float
    lon_deg: float
    semi_major_km: float
    semi_minor_km: float
    azimuth_deg: float
    impact_t_s: float | None


def _ellipse(value: Any) -> Ellipse | None:
    d = _map(value)
    lat, lon = _num(d.get("lat_deg")), _num(d.get("lon_deg"))
    if lat is None or lon is None:
        return None
    return Ellipse(lat, lon, max(_num(d.get("semi_major_km")) or 0.0, 0.0),
                   max(_num(d.get("semi_minor_km")) or 0.0, 0.0),
                   _num(d.get("azimuth_deg")) or 0.0, _num(d.get("t_s")))


@dataclass(frozen=True)
class Scenario:
    """Scenario header of the record."""

    id: str
    title: str
    description: str
    date: str
    epoch_utc: dt.datetime | None
    regime: str
    seed: str
    nations: tuple[str, ...]
    sources: tuple[str, ...]


def _epoch(value: Any) -> dt.datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


@dataclass(frozen=True)
class NationFigures:
    """One nation's summary figures for one launch (seconds after launch)."""

    first_detection_s: float | None = None
    first_track_s: float | None = None
    first_partner_track_s: float | None = None
    first_warning_s: float | None = None
    warning_level: str = "none"
    impact_error_km_at_warning: float | None = None
    false_alarms: int | None = None


def _figures(value: Any) -> NationFigures:
    d = _map(value)
    fa = _num(d.get("false_alarms"))
    return NationFigures(first_detection_s=_num(d.get("first_detection_s")),
                         first_track_s=_num(d.get("first_track_s")),
                         first_partner_track_s=_num(d.get("first_partner_track_s")),
                         first_warning_s=_num(d.get("first_warning_s")),
                         warning_level=_text(d.get("warning_level")) or "none",
                         impact_error_km_at_warning=_num(d.get("impact_error_km_at_warning")),
                         false_alarms=None if fa is None else int(fa))


@dataclass(frozen=True)
class Launch:
    """One launch: truth, published figures and every nation's summary figures."""

    id: str
    name: str
    missile: str
    site_name: str
    site_lat_deg: float | None
    site_lon_deg: float | None
    launch_t_s: float
    impact_t_s: float | None
    apogee_km: float | None
    range_km: float | None
    impact_lat_deg: float | None
    impact_lon_deg: float | None
    published: Mapping[str, Any]
    failure_t_s: float | None
    track: NDArray[np.float64]  # (n, 4): t_s, lat_deg, lon_deg, height_km
    figures: Mapping[str, NationFigures] = field(default_factory=dict)

    @property
    def flight_time_s(self) -> float | None:
        """Launch to impact, seconds (None when the impact time is unknown)."""
        return None if self.impact_t_s is None else self.impact_t_s - self.launch_t_s


def _track(value: Any) -> NDArray[np.float64]:
    rows = []
    for row in _seq(value):
        vals = [_num(v) for v in _seq(row)[:4]]
        if len(vals) >= 3 and all(v is not None for v in vals[:3]):
            rows.append([v if v is not None else 0.0 for v in vals] + [0.0] * (4 - len(vals)))
    return np.asarray(rows, dtype=np.float64).reshape(-1, 4)


def _launch(value: Any, figures: Mapping[str, Any]) -> Launch:
    d = _map(value)
    site, impact = _map(d.get("site")), _map(d.get("impact"))
    lid = _text(d.get("id"))
    per_nation = _map(_map(figures.get(lid)).get("nations"))
    return Launch(
        id=lid, name=_text(d.get("launch")) or lid, missile=_text(d.get("missile")),
        site_name=_text(site.get("name")), site_lat_deg=_num(site.get("lat_deg")),
        site_lon_deg=_num(site.get("lon_deg")), launch_t_s=_num(d.get("launch_t_s")) or 0.0,
        impact_t_s=_num(d.get("impact_t_s")), apogee_km=_num(d.get("apogee_km")),
        range_km=_num(d.get("range_km")), impact_lat_deg=_num(impact.get("lat_deg")),
        impact_lon_deg=_num(impact.get("lon_deg")), published=_map(d.get("published")),
        failure_t_s=_num(d.get("failure_t_s")), track=_track(d.get("ground_track")),
        figures={str(n): _figures(f) for n, f in sorted(per_nation.items())},
    )


@dataclass(frozen=True)
class Sensor:
    """One radar of the record."""

    id: str
    nation: str
    kind: str
    name: str
    lat_deg: float
    lon_deg: float
    max_range_km: float | None


@dataclass(frozen=True)
class Assessment:
    """One warning-centre assessment of one track."""

    nation: str
    t_s: float
    track: str
    missile: str | None
    level: str
    impact: Ellipse | None


@dataclass(frozen=True)
class Message:
    """One CAP message issued by a warning centre."""

    nation: str
    t_s: float
    identifier: str
    msg_type: str
    level: str
    track: str
    missile: str | None
    file: str
    headline: str
    impact: Ellipse | None
    corridor: tuple[tuple[float, float], ...] | None  # (lat_deg, lon_deg)


def _corridor(value: Any) -> tuple[tuple[float, float], ...] | None:
    pts = []
    for p in _seq(value):
        q = [_num(v) for v in _seq(p)[:2]]
        if len(q) == 2 and q[0] is not None and q[1] is not None:
            pts.append((q[0], q[1]))
    return tuple(pts) if len(pts) >= 3 else None


@dataclass(frozen=True)
class Record:
    """The whole record, parsed (see :func:`parse_record`)."""

    schema_version: int | None
    scenario: Scenario
    launches: tuple[Launch, ...]
    sensors: tuple[Sensor, ...]
    assessments: tuple[Assessment, ...]
    messages: tuple[Message, ...]

    @property
    def nations(self) -> tuple[str, ...]:
        """The nations of the run, in record order (from the messages etc. if unlisted)."""
        if self.scenario.nations:
            return self.scenario.nations
        seen: dict[str, None] = {}
        for launch in self.launches:
            seen.update(dict.fromkeys(launch.figures))
        for m in self.messages:
            seen[m.nation] = None
        return tuple(seen)

    def launch_index(self, missile: str | None, t_s: float) -> int | None:
        """Index of the launch a message or assessment is about: its truth missile, else
        the last launch before ``t_s``; None when there are no launches."""
        for i, launch in enumerate(self.launches):
            if missile is not None and launch.id == missile:
                return i
        before = [i for i, lc in enumerate(self.launches) if lc.launch_t_s <= t_s]
        if before:
            return max(before, key=lambda i: self.launches[i].launch_t_s)
        return 0 if self.launches else None

    def utc(self, t_s: float) -> dt.datetime | None:
        """UTC time of ``t_s`` seconds since the epoch (None without an epoch)."""
        if self.scenario.epoch_utc is None:
            return None
        return self.scenario.epoch_utc + dt.timedelta(seconds=t_s)


def parse_record(record: Mapping[str, Any]) -> Record:
    """Read a record dict into typed, null-safe values; launches sorted by launch time."""
    sc = _map(record.get("scenario"))
    seed = sc.get("seed")
    scenario = Scenario(
        id=_text(sc.get("id")), title=_text(sc.get("title")),
        description=_text(sc.get("description")), date=_text(sc.get("date")),
        epoch_utc=_epoch(sc.get("epoch_utc")), regime=_text(sc.get("regime")),
        seed="" if seed is None else _text(seed),
        nations=tuple(_text(n) for n in _seq(sc.get("nations")) if _text(n)),
        sources=tuple(_text(s) for s in _seq(sc.get("sources")) if _text(s)),
    )
    figures = {_text(_map(x).get("id")): _map(x)
               for x in _seq(_map(record.get("summary")).get("launches"))}
    launches = sorted((_launch(x, figures) for x in _seq(record.get("launches"))),
                      key=lambda lc: (lc.launch_t_s, lc.id))
    sensors = []
    for x in _seq(record.get("sensors")):
        d = _map(x)
        lat, lon = _num(d.get("lat_deg")), _num(d.get("lon_deg"))
        if lat is not None and lon is not None:
            sensors.append(Sensor(_text(d.get("id")), _text(d.get("nation")),
                                  _text(d.get("kind")), _text(d.get("name")), lat, lon,
                                  _num(d.get("max_range_km"))))
    assessments = []
    for x in _seq(record.get("assessments")):
        d = _map(x)
        t = _num(d.get("t_s"))
        if t is not None:
            assessments.append(Assessment(
                _text(d.get("nation")), t, _text(d.get("track")),
                _text(d.get("missile")) or None, _text(d.get("level")) or "none",
                _ellipse(d.get("impact"))))
    messages = []
    for x in _seq(record.get("messages")):
        d = _map(x)
        t = _num(d.get("t_s"))
        if t is not None:
            messages.append(Message(
                _text(d.get("nation")), t, _text(d.get("identifier")),
                _text(d.get("msg_type")), _text(d.get("level")) or "none",
                _text(d.get("track")), _text(d.get("missile")) or None, _text(d.get("file")),
                _text(d.get("headline")), _ellipse(d.get("impact")),
                _corridor(d.get("corridor"))))
    messages.sort(key=lambda m: (m.t_s, m.nation, m.identifier))
    version = _num(record.get("schema_version"))
    return Record(None if version is None else int(version), scenario, tuple(launches),
                  tuple(sensors), tuple(assessments), tuple(messages))
