"""A node's STIX object store with TAXII 2.1 semantics: collections per releasability,
``added_after`` and ``next`` pagination that never loses or repeats an object, manifests,
versions.

Pure: the caller passes ``date_added`` (time is an input) and decides who may see what
(``visible``); the store keeps order and answers queries.

Pagination. Every stored version gets a sequence number; ``date_added`` never decreases
along it (a clock stepping back is clamped), so the sequence is the TAXII sort order.
``next`` is the sequence of the last item of the page: the following page starts strictly
after it whatever the timestamps, so 2,500 objects sharing one ``date_added`` page through
whole (OpenCTI issue 4537 paged on ``X-TAXII-Date-Added-Last`` alone and lost them).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from trilink.cyber.tlp import Tlp, level_of
from trilink.sharing.releasability import canonical_order

MAX_PAGE: Final = 1000
DEFAULT_PAGE: Final = 100
_NS = uuid.UUID("3f0d7a9e-2b1c-5e7f-9a4d-6c8b1e2f3a40")


def taxii_time(t: dt.datetime) -> str:
    """TAXII/STIX timestamp with microseconds, UTC, ``Z``."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime:
    """A STIX/TAXII timestamp (``…Z`` or with offset) → aware datetime; ValueError if not."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return value.astimezone(dt.UTC)


@lru_cache(maxsize=65536)
def _order_key(version: str) -> str:
    """Versions compare as instants; a malformed one sorts as its text."""
    try:
        return taxii_time(parse_time(version))
    except ValueError:
        return version


def collection_id(rel_to: Iterable[str]) -> str:
    """The collection of one releasability: a UUID derived from the sorted REL TO list."""
    return _collection_id(frozenset(rel_to))


@lru_cache(maxsize=4096)
def _collection_id(rel_to: frozenset[str]) -> str:
    return str(uuid.uuid5(_NS, ",".join(sorted(rel_to))))


def rel_marking(rel_to: Iterable[str]) -> str:
    return "REL TO " + ", ".join(canonical_order(rel_to))


@dataclass(frozen=True)
class Stored:
    """One stored object version."""

    seq: int
    date_added: dt.datetime
    obj: Mapping[str, Any]
    originator: str
    rel_to: frozenset[str]
    tlp: Tlp

    @property
    def id(self) -> str:
        return str(self.obj["id"])

    @property
    def version(self) -> str:
        return str(self.obj.get("modified") or self.obj.get("created") or taxii_time(
            self.date_added))

    @property
    def collection(self) -> str:
        return collection_id(self.rel_to)


@dataclass(frozen=True)
class Page:
    """One page of a query, and the header values TAXII returns with it."""

    items: list[Stored]
    more: bool
    next: str | None

    @property
    def first_added(self) -> dt.datetime | None:
        return self.items[0].date_added if self.items else None

    @property
    def last_added(self) -> dt.datetime | None:
        return self.items[-1].date_added if self.items else None


@dataclass(frozen=True)
class Query:
    """TAXII filters: ``added_after``, ``match[id|type|version|spec_version]``, ``limit``,
    ``next``."""

    added_after: dt.datetime | None = None
    ids: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    versions: tuple[str, ...] = ("last",)
    spec_versions: frozenset[str] = frozenset()
    limit: int = DEFAULT_PAGE
    after_seq: int = -1


Visible = Callable[[Stored, str], bool]


@dataclass
class ObjectStore:
    """Stored object versions of one node, in TAXII order."""

    items: list[Stored] = field(default_factory=list)
    _keys: dict[tuple[str, str, str], int] = field(default_factory=dict)
    _last_added: dt.datetime | None = None

    def add(self, objects: Iterable[Mapping[str, Any]], *, originator: str,
            rel_to: Iterable[str], date_added: dt.datetime) -> list[Stored]:
        """Store each object version once per collection; returns those newly stored."""
        if date_added.tzinfo is None:
            raise ValueError("date_added must be timezone-aware")
        rel = frozenset(rel_to) | {originator}
        when = date_added if self._last_added is None else max(date_added, self._last_added)
        self._last_added = when
        new: list[Stored] = []
        coll = collection_id(rel)
        for obj in objects:
            item = Stored(len(self.items), when, dict(obj), originator, rel, level_of(obj))
            key = (coll, item.id, item.version)
            if key in self._keys:
                continue
            self._keys[key] = item.seq
            self.items.append(item)
            new.append(item)
        return new

    def collections(self) -> dict[str, frozenset[str]]:
        """Every collection id and its releasability."""
        return {i.collection: i.rel_to for i in self.items}

    @staticmethod
    def _versions(pool: list[Stored], versions: tuple[str, ...]) -> list[Stored]:
        """Keep the requested versions (``last``, ``first``, ``all`` or timestamps) of each id."""
        if "all" in versions:
            return pool
        by_id: dict[str, list[Stored]] = {}
        for p in pool:
            by_id.setdefault(p.id, []).append(p)
        keep: set[int] = set()
        for same in by_id.values():
            same.sort(key=lambda p: (_order_key(p.version), p.seq))
            for v in versions:
                if v == "last":
                    keep.add(same[-1].seq)
                elif v == "first":
                    keep.add(same[0].seq)
                else:
                    keep.update(p.seq for p in same if _order_key(p.version) == _order_key(v))
        return [p for p in pool if p.seq in keep]

    def query(self, collection: str, reader: str, q: Query, visible: Visible) -> Page:
        """One page of ``collection`` as ``reader`` may see it."""
        pool = [i for i in self.items if i.collection == collection and visible(i, reader)]
        if q.ids:
            pool = [i for i in pool if i.id in q.ids]
        if q.types:
            pool = [i for i in pool if str(i.obj.get("type")) in q.types]
        if q.spec_versions:
            pool = [i for i in pool if str(i.obj.get("spec_version", "2.1")) in q.spec_versions]
        pool = self._versions(pool, q.versions)
        if q.added_after is not None:
            after = q.added_after
            pool = [i for i in pool if i.date_added > after]
        pool = [i for i in pool if i.seq > q.after_seq]
        limit = max(1, min(q.limit, MAX_PAGE))
        page = pool[:limit]
        more = len(pool) > limit
        return Page(page, more, str(page[-1].seq) if more and page else None)
