"""Sightings fused across nations: who saw an indicator, when, how often.

Each STIX ``sighting`` counts for the nation that originated it (the signed envelope's
originator, not the object's self-declared ``created_by_ref``). When a second nation's
sighting hits an indicator the index reports a :class:`Correlation`; the alert it may raise
goes only to the nations allowed to see every sighting involved (the intersection of their
REL TO lists) at the strictest TLP among them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trilink.cyber.store import parse_time
from trilink.cyber.tlp import Tlp, level_of


@dataclass(frozen=True)
class NationSightings:
    """One nation's sightings of one indicator."""

    nation: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    count: int
    sighting_ids: tuple[str, ...]


@dataclass(frozen=True)
class Correlation:
    """Two or more nations sighted ``indicator_id``; ``audience`` may be told, at ``tlp``."""

    indicator_id: str
    nations: tuple[NationSightings, ...]
    audience: frozenset[str]
    tlp: Tlp
    noticed_by: str
    t_s: float

    @property
    def who(self) -> tuple[str, ...]:
        return tuple(n.nation for n in self.nations)


@dataclass
class _Entry:
    first: dt.datetime
    last: dt.datetime
    count: int
    ids: list[str]
    rel: frozenset[str]
    tlp: Tlp


@dataclass
class SightingIndex:
    """indicator id → nation → its sightings, with the releasability of each."""

    by_indicator: dict[str, dict[str, _Entry]] = field(default_factory=dict)
    reported: dict[str, frozenset[str]] = field(default_factory=dict)

    def add(self, sighting: Mapping[str, Any], nation: str, rel_to: frozenset[str],
            observed_at: dt.datetime) -> str | None:
        """Record one sighting; returns the indicator id it hits (None if not a sighting)."""
        if sighting.get("type") != "sighting":
            return None
        target = sighting.get("sighting_of_ref")
        if not isinstance(target, str):
            return None
        try:
            first = parse_time(str(sighting.get("first_seen") or sighting.get("created")))
            last = parse_time(str(sighting.get("last_seen") or first.isoformat()))
        except ValueError:
            first = last = observed_at
        count = sighting.get("count", 1)
        n = int(count) if isinstance(count, int) and 0 <= count <= 999_999_999 else 1
        per = self.by_indicator.setdefault(target, {})
        sid = str(sighting.get("id"))
        e = per.get(nation)
        if e is None:
            per[nation] = _Entry(first, last, n, [sid], rel_to, level_of(sighting))
        elif sid not in e.ids:
            e.first, e.last = min(e.first, first), max(e.last, last)
            e.count += n
            e.ids.append(sid)
            e.rel = e.rel & rel_to
            e.tlp = max(e.tlp, level_of(sighting))
        return target

    def view(self, indicator_id: str) -> tuple[NationSightings, ...]:
        """Who saw it, first and last seen, how often — earliest first."""
        per = self.by_indicator.get(indicator_id, {})
        rows = [NationSightings(n, e.first, e.last, e.count, tuple(e.ids))
                for n, e in per.items()]
        return tuple(sorted(rows, key=lambda r: (r.first_seen, r.nation)))

    def correlation(self, indicator_id: str, noticed_by: str, t_s: float) -> Correlation | None:
        """A new correlation when a further nation joins the sightings of ``indicator_id``."""
        per = self.by_indicator.get(indicator_id, {})
        nations = frozenset(per)
        if len(nations) < 2 or self.reported.get(indicator_id) == nations:
            return None
        self.reported[indicator_id] = nations
        audience = frozenset.intersection(*(e.rel for e in per.values()))
        tlp = max(e.tlp for e in per.values())
        return Correlation(indicator_id, self.view(indicator_id), audience, tlp, noticed_by,
                           t_s)
