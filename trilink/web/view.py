"""The dashboard's view of one node's picture: a sans-I/O reducer over the picture stream.

Feed it ``(sequence, bytes)`` pairs in stream order (:meth:`PictureView.apply`); ask it
what a viewer of a given nation may see (:meth:`snapshot`, :meth:`items`) and what
changed after a sequence number (:meth:`changes_after`) — the SSE stream and the REST
API are thin adapters over these three calls.

Who sees what: a viewer of nation V sees an event only if V is in its ``rel_to``. When an
item that V saw becomes unreleasable to V (a fused object gains a source not released to
V), V is sent a ``withdraw`` naming only the item id, so the item leaves V's map; a
viewer that never saw the item is sent nothing at all.

Resuming: every change keeps its stream sequence. A client that saw up to sequence S
gets exactly the changes after S, in order — no gap, no duplicate — as long as the
view still holds them (``max_entries``); otherwise it is told to ``reset`` (reload the
snapshot) rather than silently miss changes.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import msgspec

from trilink.web.publish import (
    AgreementItem,
    FusedItem,
    PictureEvent,
    TrackItem,
    WarningItem,
    decode_event,
)

_JSON = msgspec.json.Encoder()


@dataclass(frozen=True)
class Entry:
    """One change of the picture as received: its stream sequence and event."""

    seq: int
    event: PictureEvent
    data: bytes  # the event's JSON, as published
    withdrawn_from: frozenset[str] = frozenset()  # nations that saw the item and no longer may


@dataclass(frozen=True)
class Change:
    """What one viewer is sent for one entry: its sequence and the JSON to send."""

    seq: int
    kind: str  # an event kind, "withdraw" or "reset"
    data: bytes


@dataclass
class PictureView:
    """See the module docstring."""

    nation: str  # whose node's picture this is
    max_entries: int = 500_000
    entries: list[Entry] = field(default_factory=list)
    latest: dict[str, Entry] = field(default_factory=dict)  # item id → its latest entry
    rejected: int = 0
    last_seq: int = 0
    _seqs: list[int] = field(default_factory=list)

    def apply(self, seq: int, data: bytes) -> Entry | None:
        """Take one stream message. Out-of-order or repeated sequences and events that do
        not decode (or are not this node's) are counted in ``rejected`` and dropped."""
        if seq <= self.last_seq:
            self.rejected += 1
            return None
        try:
            ev = decode_event(data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            self.rejected += 1
            self.last_seq = seq
            return None
        if ev.node != self.nation:
            self.rejected += 1
            self.last_seq = seq
            return None
        prev = self.latest.get(ev.id)
        gone = frozenset(set(prev.event.rel_to) - set(ev.rel_to)) if prev else frozenset()
        entry = Entry(seq, ev, data, gone)
        self.entries.append(entry)
        self._seqs.append(seq)
        self.latest[ev.id] = entry
        self.last_seq = seq
        if len(self.entries) > self.max_entries:
            cut = len(self.entries) - self.max_entries
            del self.entries[:cut]
            del self._seqs[:cut]
        return entry

    # -- what a viewer sees -----------------------------------------------------------
    @staticmethod
    def visible(entry: Entry, viewer: str) -> bool:
        return viewer in entry.event.rel_to

    def change_for(self, entry: Entry, viewer: str) -> Change | None:
        """What ``viewer`` is sent for ``entry`` (None: nothing)."""
        if self.visible(entry, viewer):
            return Change(entry.seq, entry.event.kind, entry.data)
        if viewer in entry.withdrawn_from:
            return Change(entry.seq, "withdraw",
                          _JSON.encode({"kind": "withdraw", "id": entry.event.id}))
        return None

    def changes_after(self, seq: int, viewer: str, limit: int | None = None
                      ) -> Iterator[Change]:
        """The changes ``viewer`` is sent after stream sequence ``seq``, in order."""
        first = self._seqs[0] if self._seqs else self.last_seq + 1
        if seq < first - 1 and seq < self.last_seq:
            # Entries after seq were dropped: the client cannot catch up change by change.
            yield Change(self.last_seq, "reset",
                         _JSON.encode({"kind": "reset", "last_seq": self.last_seq}))
            return
        i = bisect.bisect_right(self._seqs, seq)
        sent = 0
        for entry in self.entries[i:]:
            ch = self.change_for(entry, viewer)
            if ch is not None:
                yield ch
                sent += 1
                if limit is not None and sent >= limit:
                    return

    def items(self, viewer: str, kind: str) -> list[PictureEvent]:
        """The latest version of every item of ``kind`` that ``viewer`` may see (warnings:
        every message, in order)."""
        return [e.event for e in self.latest.values()
                if e.event.kind == kind and self.visible(e, viewer)]

    def warning(self, viewer: str, identifier: str) -> WarningItem | None:
        e = self.latest.get(f"warning:{identifier}")
        if e is None or not self.visible(e, viewer) or not isinstance(e.event.item,
                                                                        WarningItem):
            return None
        return e.event.item

    def trails(self, viewer: str, max_points: int = 400) -> dict[str, list[list[float]]]:
        """Past positions of each fused object ``viewer`` may see now, oldest first
        (only versions it was released to; an object withdrawn from it has none)."""
        out: dict[str, list[list[float]]] = {}
        for e in self.entries:
            item = e.event.item
            if isinstance(item, FusedItem) and self.visible(e, viewer) and \
                    self.visible(self.latest[e.event.id], viewer):
                out.setdefault(e.event.id, []).append([item.lat_deg, item.lon_deg])
        return {k: v[-max_points:] for k, v in out.items()}

    def snapshot(self, viewer: str) -> dict[str, object]:
        """Everything ``viewer`` may see now, by kind, the fused objects' trails, and the
        stream sequence it is as of."""
        kinds: dict[str, list[PictureEvent]] = {}
        for e in self.latest.values():
            if self.visible(e, viewer):
                kinds.setdefault(e.event.kind, []).append(e.event)
        return {"node": self.nation, "viewer": viewer, "last_seq": self.last_seq,
                "items": kinds, "trails": self.trails(viewer),
                "exercise": self.exercise(viewer)}

    def exercise(self, viewer: str) -> dict[str, object]:
        """Whether what ``viewer`` sees is exercise traffic, and which items are.

        Active when the node runs an exercise (announced launches), holds drill tracks
        (objects from an announced launch) or issued CAP messages of status Exercise. The
        page shows its banner from the same rule (``app.js``, ``exerciseState``)."""
        announced: set[str] = set()
        drill_items: list[str] = []
        exercise_warnings: list[str] = []
        actual_warnings: list[str] = []
        for e in self.latest.values():
            if not self.visible(e, viewer):
                continue
            item = e.event.item
            if isinstance(item, AgreementItem):
                announced.update(item.exercise)
            elif isinstance(item, (FusedItem, TrackItem)) and item.exercise:
                drill_items.append(e.event.id)
                announced.add(item.exercise)
            elif isinstance(item, WarningItem):
                if item.exercise or item.status == "Exercise":
                    exercise_warnings.append(item.identifier)
                elif item.status == "Actual":
                    actual_warnings.append(item.identifier)
        drill_items.sort()
        reasons = []
        if announced:
            reasons.append("announced exercise launches: " + "; ".join(sorted(announced)))
        if drill_items:
            reasons.append(f"{len(drill_items)} drill track(s) and object(s)")
        if exercise_warnings:
            reasons.append(f"{len(exercise_warnings)} CAP message(s) of status Exercise")
        active = bool(announced or drill_items or exercise_warnings)
        return {"active": active, "announced": sorted(announced),
                "drill_items": drill_items, "exercise_warnings": exercise_warnings,
                "actual_warnings": actual_warnings,
                "banner": ("EXERCISE — " + "; ".join(reasons)) if active else ""}


def _utc_at(ev: PictureEvent, t_s: float) -> str:
    """Node time ``t_s`` in UTC: every event carries its node time and UTC both."""
    at = dt.datetime.fromisoformat(ev.utc.replace("Z", "+00:00"))
    at += dt.timedelta(seconds=t_s - ev.t_s)
    return at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def picture_timeline(view: PictureView, viewer: str) -> list[dict[str, object]]:
    """The picture's launches (each fused object, from when it entered the picture to
    its latest update) and warnings (each CAP message at its issue), as marks of the
    record's time axis (:func:`trilink.alliance.timeline.mark_json`'s shape), only what
    ``viewer`` may see."""
    out: list[dict[str, object]] = []
    for e in view.latest.values():
        if not view.visible(e, viewer):
            continue
        ev, item = e.event, e.event.item
        if isinstance(item, FusedItem):
            title = f"object {item.fused_id} in {view.nation}'s picture" + (
                f" (EXERCISE: {item.exercise})" if item.exercise else "")
            out.append({"lane": "picture", "kind": "launch", "id": ev.id, "title": title,
                        "exercise": bool(item.exercise), "planned": False, "source": "",
                        "start_utc": _utc_at(ev, item.first_t_s), "end_utc": ev.utc})
        elif isinstance(item, WarningItem):
            drill = bool(item.exercise) or item.status == "Exercise"
            title = (f"{item.msg_type} {item.identifier} ({item.level}"
                     + (f", {item.status}" if item.status else "") + f"): {item.headline}")
            out.append({"lane": "picture", "kind": "warning", "id": ev.id, "title": title,
                        "exercise": drill, "planned": False, "source": "",
                        "start_utc": ev.utc, "end_utc": ev.utc})
    out.sort(key=lambda m: (str(m["start_utc"]), str(m["id"])))
    return out
