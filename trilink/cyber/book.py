"""A node's cyber holdings, sans-I/O: what it publishes, receives, stores, serves over
TAXII and correlates. Time is passed in (seconds since the node's epoch).

- :meth:`CyberBook.publish` takes STIX objects from the nation's own analysts (CLI
  import, TAXII add, a scenario), normalises TLP markings, validates every object, screens
  indicator values against the MISP warning lists, stores them and plans one bundle per
  partner holding exactly the objects that partner may receive now
  (:func:`trilink.cyber.rules.cyber_route`, per object: TLP and agreements, stricter wins).
- :meth:`CyberBook.receive` takes a bundle that arrived in a verified envelope and checks
  every object again at this end: STIX validity, then TLP against the path it came by and
  the agreements (:func:`trilink.cyber.rules.receiver_check`). Refusals become audit
  notes, never exceptions.
- Sightings feed :class:`trilink.cyber.correlate.SightingIndex`; a correlation noticed on
  publishing raises a cyber alert (a STIX ``note``) to the nations allowed to see it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from trilink.cyber.correlate import Correlation, SightingIndex
from trilink.cyber.identity import nation_identity, nation_identity_id, stable_id
from trilink.cyber.rules import cyber_route, receiver_check
from trilink.cyber.screen import Screen, benign_hits, no_screen
from trilink.cyber.store import ObjectStore, Stored, collection_id, taxii_time
from trilink.cyber.tlp import LEVEL_OF_ID, Tlp, level_of, marking_definition, normalise_markings
from trilink.cyber.validate import bundle_objects, check_object, check_objects
from trilink.sharing.policy import Denied, Direct, Policy


@dataclass(frozen=True)
class Share:
    """A bundle for one partner: the node seals it into a cyber envelope."""

    to: str
    rel_to: tuple[str, ...]
    payload: bytes
    object_ids: tuple[str, ...]
    tlp: Tlp


@dataclass(frozen=True)
class ObjectsStored:
    """Event: objects stored at ``nation`` (originated by ``originator``) at ``t_s``."""

    nation: str
    originator: str
    object_ids: tuple[str, ...]
    t_s: float


@dataclass(frozen=True)
class Refused:
    """Event: objects refused at ``nation`` (from ``origin``), with why."""

    nation: str
    origin: str
    problems: tuple[str, ...]
    t_s: float


@dataclass(frozen=True)
class Withheld:
    """Event: objects not sent to ``to`` and why (the sender's filter)."""

    nation: str
    to: str
    object_ids: tuple[str, ...]
    reason: str
    t_s: float


@dataclass(frozen=True)
class CyberAlert:
    """Event: a correlation seen at ``nation``; ``shared_with`` were sent the alert note."""

    nation: str
    correlation: Correlation
    note_id: str
    shared_with: tuple[str, ...]
    t_s: float


CyberEvent = ObjectsStored | Refused | Withheld | CyberAlert


@dataclass
class BookOutput:
    shares: list[Share] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    events: list[CyberEvent] = field(default_factory=list)

    def extend(self, other: BookOutput) -> None:
        self.shares += other.shares
        self.notes += other.notes
        self.events += other.events


def _bundle(objects: Iterable[Mapping[str, Any]], key: str) -> bytes:
    objs = list(objects)
    body = {"type": "bundle", "id": stable_id("bundle", key), "objects": objs}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


BUNDLE_BUDGET_BYTES = 768 * 1024
"""Largest bundle per envelope (the envelope's payload limit is 1 MiB less headers)."""


T = TypeVar("T")


def json_size(obj: object) -> int:
    """Bytes of ``obj`` as compact JSON in a list (its separator included)."""
    return len(json.dumps(obj, separators=(",", ":"))) + 1


def runs_under(items: Sequence[T], size_of: Callable[[T], int], budget: int) -> list[list[T]]:
    """Consecutive runs of ``items`` whose sizes sum to at most ``budget`` (an item
    larger than the budget goes alone)."""
    out: list[list[T]] = [[]]
    size = 0
    for it in items:
        n = size_of(it)
        if out[-1] and size + n > budget:
            out.append([])
            size = 0
        out[-1].append(it)
        size += n
    return [c for c in out if c]


def _chunks(items: list[Stored]) -> list[list[Stored]]:
    """Split into runs whose serialised objects stay under :data:`BUNDLE_BUDGET_BYTES`."""
    return runs_under(items, lambda it: json_size(it.obj), BUNDLE_BUDGET_BYTES)


def _with_markings(objects: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Objects plus the TLP marking definitions they reference (first)."""
    ids = {o["id"] for o in objects}
    needed: list[Mapping[str, Any]] = []
    for o in objects:
        for ref in o.get("object_marking_refs", ()):
            level = LEVEL_OF_ID.get(ref)
            md = marking_definition(level) if level is not None else None
            if md is not None and md["id"] == ref and ref not in ids:
                ids.add(ref)
                needed.append(md)
    return [*needed, *objects]


class CyberBook:
    """See the module docstring."""

    def __init__(self, nation: str, partners: Iterable[str], policy: Policy,
                 epoch: dt.datetime, *, screen: Screen = no_screen,
                 declared: Iterable[Iterable[str]] = ()) -> None:
        if epoch.tzinfo is None:
            raise ValueError("epoch must be timezone-aware")
        self.nation = nation
        self.partners = tuple(sorted(set(partners) - {nation}))
        self.policy = policy
        self.epoch = epoch
        self.screen = screen
        self.store = ObjectStore()
        self.sightings = SightingIndex()
        self.declared = [frozenset(d) | {nation} for d in declared]
        self.audit: list[str] = []
        self._visible: dict[tuple[str, Tlp, frozenset[str], str, dt.datetime | None],
                            bool] = {}
        # what TAXII adds produced, for the node's next tick to send
        self.pending: list[Share] = []
        self.pending_events: list[CyberEvent] = []

    def at(self, now_s: float) -> dt.datetime:
        return self.epoch + dt.timedelta(seconds=now_s)

    # ------------------------------------------------------------------ publishing

    def _admit(self, objects: Iterable[object]) -> tuple[list[dict[str, Any]], list[str]]:
        raw = list(objects)
        dicts = [o for o in raw if isinstance(o, Mapping)]
        norm = normalise_markings(dicts)
        checked = check_objects([*norm.objects, *(o for o in raw if not isinstance(o, Mapping))])
        problems = [str(p) for p in checked.problems]
        good: list[dict[str, Any]] = []
        for obj in checked.valid:
            hits = benign_hits(obj, self.screen)
            if hits:
                problems.append(f"{obj['id']}: benign value, not an indicator ({'; '.join(hits)})")
            else:
                good.append(obj)
        return good, [f"{self.nation}: {n}" for n in norm.notes] + problems

    def publish(self, objects: Iterable[object], rel_to: Iterable[str],
                now_s: float) -> BookOutput:
        """The nation's own objects, released ``rel_to``: validate, store, plan shares."""
        out = BookOutput()
        rel = frozenset(rel_to) | {self.nation}
        good, problems = self._admit(objects)
        if problems:
            out.events.append(Refused(self.nation, self.nation, tuple(problems), now_s))
            out.notes += [f"cyber publish refused {p}" for p in problems]
        # marking definitions travel with the objects that reference them, not alone
        good = [o for o in good if o.get("type") != "marking-definition"]
        if not good:
            return out
        stored = self.store.add(good, originator=self.nation, rel_to=rel,
                                date_added=self.at(now_s))
        if not stored:
            return out
        out.events.append(ObjectsStored(self.nation, self.nation, tuple(s.id for s in stored),
                                        now_s))
        out.extend(self._plan(stored, now_s))
        for s in stored:
            hit = self.sightings.add(s.obj, self.nation, s.rel_to, s.date_added)
            if hit is not None:
                corr = self.sightings.correlation(hit, self.nation, now_s)
                if corr is not None:
                    out.extend(self._alert(corr, now_s, share=True))
        return out

    def _plan(self, stored: list[Stored], now_s: float) -> BookOutput:
        out = BookOutput()
        t = self.at(now_s)
        for partner in self.partners:
            send: list[Stored] = []
            held: dict[str, list[str]] = {}
            for s in stored:
                route = cyber_route(self.policy, self.nation, partner, t, s.tlp, s.rel_to,
                                    s.originator)
                if isinstance(route, Denied):
                    held.setdefault(route.reason, []).append(s.id)
                else:
                    send.append(s)
            for reason, ids in held.items():
                out.events.append(Withheld(self.nation, partner, tuple(ids), reason, now_s))
            # one bundle per releasability: the envelope's REL TO covers all its objects
            by_rel: dict[frozenset[str], list[Stored]] = {}
            for s in send:
                by_rel.setdefault(s.rel_to, []).append(s)
            for rel, items in sorted(by_rel.items(), key=lambda kv: sorted(kv[0])):
                for chunk in _chunks(items):
                    objs = _with_markings([nation_identity(self.nation),
                                           *(i.obj for i in chunk)])
                    key = f"{self.nation}>{partner}|{now_s!r}|{chunk[0].seq}"
                    out.shares.append(Share(partner, tuple(sorted(rel)), _bundle(objs, key),
                                            tuple(i.id for i in chunk),
                                            max(i.tlp for i in chunk)))
        return out

    def _alert(self, corr: Correlation, now_s: float, share: bool) -> BookOutput:
        out = BookOutput()
        who = ", ".join(f"{n.nation} ({n.count}x, first {taxii_time(n.first_seen)})"
                        for n in corr.nations)
        note_id = stable_id("note", corr.indicator_id, *corr.who)
        shared: list[str] = []
        if share:
            created = taxii_time(self.at(now_s))
            note = {"type": "note", "spec_version": "2.1", "id": note_id, "created": created,
                    "modified": created, "created_by_ref": nation_identity_id(self.nation),
                    "abstract": f"Cyber alert: {len(corr.nations)} nations sighted "
                                f"{corr.indicator_id}",
                    "content": f"Correlated sightings: {who}.",
                    "object_refs": [corr.indicator_id,
                                    *(s for n in corr.nations for s in n.sighting_ids)],
                    "object_marking_refs": [marking_definition(max(corr.tlp, Tlp.CLEAR))["id"]]}
            audience = corr.audience | {self.nation}
            problem = check_object(note)  # what we send passes the validator too
            if problem is not None:
                out.notes.append(f"cyber alert note refused {problem}")
                return out
            stored = self.store.add([note], originator=self.nation, rel_to=audience,
                                    date_added=self.at(now_s))
            plan = self._plan(stored, now_s)
            shared = sorted({s.to for s in plan.shares})
            out.extend(plan)
        out.events.append(CyberAlert(self.nation, corr, note_id, tuple(shared), now_s))
        out.notes.append(f"cyber alert at {self.nation}: {corr.indicator_id} sighted by {who}")
        return out

    # ------------------------------------------------------------------ receiving

    def receive(self, payload: bytes, *, originator: str, sender: str, via: tuple[str, ...],
                rel_to: Iterable[str], now_s: float) -> BookOutput:
        """A cyber envelope's payload (already signature- and policy-checked by the node)."""
        out = BookOutput()
        rel = frozenset(rel_to) | {originator}
        try:
            data = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            return self._refuse(out, originator, [f"(payload): not JSON ({exc})"], now_s)
        objs, problem = bundle_objects(data)
        if problem is not None:
            return self._refuse(out, originator, [str(problem)], now_s)
        return self.receive_objects(objs, originator=originator, sender=sender, via=via,
                                    rel_to=rel, now_s=now_s)

    def receive_objects(self, objs: Iterable[object], *, originator: str, sender: str,
                        via: tuple[str, ...], rel_to: Iterable[str],
                        now_s: float) -> BookOutput:
        """Objects from a partner (a bundle's contents, or a pull from its TAXII server)."""
        out = BookOutput()
        rel = frozenset(rel_to) | {originator}
        good, problems = self._admit(objs)
        t = self.at(now_s)
        verdicts: dict[Tlp, str | None] = {}
        admitted: list[dict[str, Any]] = []
        for obj in good:
            level = level_of(obj)
            if level not in verdicts:
                v = receiver_check(self.policy, self.nation, sender, originator, via, t, level,
                                   rel)
                verdicts[level] = None if v.allowed else v.reason
            why = verdicts[level]
            if why is None or obj.get("type") in ("marking-definition", "identity"):
                admitted.append(obj)
            else:
                problems.append(f"{obj['id']}: {why}")
        if problems:
            self._refuse(out, originator, problems, now_s)
        payload_objs = [o for o in admitted if o.get("type") not in ("marking-definition",)]
        stored = self.store.add(payload_objs, originator=originator, rel_to=rel, date_added=t)
        if stored:
            out.events.append(ObjectsStored(self.nation, originator, tuple(s.id for s in stored),
                                      now_s))
        for s in stored:
            hit = self.sightings.add(s.obj, originator, s.rel_to, s.date_added)
            if hit is not None:
                corr = self.sightings.correlation(hit, self.nation, now_s)
                if corr is not None:
                    out.extend(self._alert(corr, now_s, share=False))
        return out

    def _refuse(self, out: BookOutput, origin: str, problems: list[str],
                now_s: float) -> BookOutput:
        out.events.append(Refused(self.nation, origin, tuple(problems), now_s))
        out.notes += [f"cyber receive from {origin} refused {p}" for p in problems]
        self.audit += out.notes[-len(problems):]
        return out

    # ------------------------------------------------------------------ TAXII backend

    def collections_for(self, reader: str) -> list[tuple[str, frozenset[str]]]:
        """Collections whose releasability includes ``reader``, in a stable order."""
        rels = set(self.declared) | set(self.store.collections().values())
        mine = sorted((r for r in rels if reader in r), key=lambda r: (len(r), sorted(r)))
        return [(collection_id(r), r) for r in mine]

    def visible(self, item: Stored, reader: str, now: dt.datetime | None = None) -> bool:
        """May ``reader`` pull ``item`` from this node at ``now`` (default: when it was
        added)? Its own nation and the item's originator always; another partner when on
        the item's REL TO list (fixed at release: a nation that joined a group later is not
        on it) and TLP and the agreements in force at ``now`` let this node hand it over
        directly (a third nation's AMBER item: no)."""
        if reader in (self.nation, item.originator):
            return True  # handing an item back to its originator discloses nothing
        if reader not in item.rel_to:
            return False
        t = now if now is not None else item.date_added
        # a regime read at a fixed instant answers the same at every time
        when = None if self.policy.as_of is not None else t
        key = (reader, item.tlp, item.rel_to, item.originator, when)
        cached = self._visible.get(key)
        if cached is None:
            route = cyber_route(self.policy, self.nation, reader, t, item.tlp, item.rel_to,
                                item.originator)
            cached = self._visible[key] = isinstance(route, Direct)
        return cached

    def ingest(self, objects: list[object], writer: str, rel_to: frozenset[str],
               now: dt.datetime) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """A TAXII add by this nation's own analysts: publish into ``rel_to``."""
        now_s = (now - self.epoch).total_seconds()
        out = self.publish(objects, rel_to, now_s)
        self.pending.extend(out.shares)
        self.pending_events.extend(out.events)
        stored = {i for e in out.events if isinstance(e, ObjectsStored) for i in e.object_ids}
        latest = {s.id: s.version for s in self.store.items if s.id in stored}
        ok = sorted(latest.items())
        failed = [(p.split(":", 1)[0], p) for e in out.events if isinstance(e, Refused)
                  for p in e.problems]
        return ok, failed

