"""The cyber kind on the national node (contract C1, :mod:`trilink.kinds.base`).

:class:`CyberPlugin` wraps a :class:`~trilink.cyber.book.CyberBook`. Cyber envelopes the
node verified and policy-checked come in through :meth:`on_envelope` and are checked
again here, object by object (STIX validity, TLP against the path they came by); the
nation's own publications are queued with :meth:`submit` (CLI, scenario, or a TAXII add)
and go out on the node's next :meth:`tick`, as one ``cyber_indicator`` envelope per
partner and releasability. :meth:`CyberPlugin.publish` does the same at once (an operator's
submission through a live node's control API, :mod:`trilink.live.control`). Refusals are
audit notes; nothing here raises on bad input.
"""

from __future__ import annotations

import datetime as dt
import heapq
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from trilink.cyber.book import BookOutput, CyberBook
from trilink.cyber.screen import Screen, no_screen
from trilink.kinds.base import AuditNote, PluginOutput, Send
from trilink.sharing.envelope import Envelope, Kind
from trilink.sharing.policy import Policy


@dataclass(order=True)
class _Queued:
    at_s: float
    n: int
    objects: list[object] = field(compare=False)
    rel_to: tuple[str, ...] = field(compare=False)


class CyberPlugin:
    """See the module docstring."""

    kinds: tuple[Kind, ...] = (Kind.CYBER_INDICATOR,)

    def __init__(self, book: CyberBook) -> None:
        self.book = book
        self._queue: list[_Queued] = []
        self._n = 0
        # The book is also read and written by a TAXII server on another thread
        # (trilink.live.taxii): both sides hold this lock while they touch it.
        self.lock = threading.RLock()
        self._taxii_refusals: list[tuple[str, str]] = []

    def submit(self, objects: Iterable[object], rel_to: Iterable[str], at_s: float) -> None:
        """Queue the nation's own objects for publication at ``at_s``."""
        with self.lock:
            heapq.heappush(self._queue, _Queued(at_s, self._n, list(objects),
                                                tuple(sorted(set(rel_to)))))
            self._n += 1

    def publish(self, objects: Iterable[object], rel_to: Iterable[str],
                now_s: float) -> tuple[PluginOutput, BookOutput]:
        """Publish the nation's own objects now: what the node must seal and send (the
        node carries it, :meth:`trilink.node.NationalNode.carry`) and the book's account
        (stored, refused, shares, withheld) for the operator's reply."""
        with self.lock:
            done = self.book.publish(objects, tuple(sorted(set(rel_to))), now_s)
            return self._convert(done, now_s), done

    def taxii_refused(self, caller: str, reason: str) -> None:
        """A TAXII request the server refused (any thread): audited on the next tick."""
        with self.lock:
            self._taxii_refusals.append((caller, reason))

    def _convert(self, done: BookOutput, now_s: float, peer: str | None = None) -> PluginOutput:
        out = PluginOutput(events=list(done.events))
        for s in done.shares:
            out.sends.append(Send(s.to, Kind.CYBER_INDICATOR, s.rel_to, s.payload))
        for note in done.notes:
            rejected = "refused" in note
            out.notes.append(AuditNote(now_s, "rejected" if rejected else "escalated", peer,
                                       Kind.CYBER_INDICATOR.value, note[:2000]))
        return out

    def on_envelope(self, env: Envelope, now_s: float) -> PluginOutput:
        deliverer = env.via[-1] if env.via else env.sender
        with self.lock:
            done = self.book.receive(env.payload, originator=env.originator,
                                     sender=deliverer, via=tuple(env.via), rel_to=env.rel_to,
                                     now_s=now_s)
            return self._convert(done, now_s, env.originator)

    def tick(self, now_s: float) -> PluginOutput:
        out = PluginOutput()
        with self.lock:
            while self._queue and self._queue[0].at_s <= now_s:
                q = heapq.heappop(self._queue)
                out.extend(self._convert(self.book.publish(q.objects, q.rel_to, now_s),
                                         now_s))
            if self.book.pending or self.book.pending_events:  # TAXII adds since last tick
                done = BookOutput(list(self.book.pending), [], list(self.book.pending_events))
                self.book.pending.clear()
                self.book.pending_events.clear()
                out.extend(self._convert(done, now_s))
            for caller, reason in self._taxii_refusals:
                out.notes.append(AuditNote(now_s, "rejected", None, Kind.CYBER_INDICATOR.value,
                                           f"TAXII request by {caller} refused: {reason}"[:2000]))
            self._taxii_refusals.clear()
        return out

    def next_wakeup_s(self) -> float | None:
        with self.lock:
            if self.book.pending or self.book.pending_events or self._taxii_refusals:
                return 0.0  # at once: a TAXII add waits for the node's next tick
            return self._queue[0].at_s if self._queue else None


def cyber_plugin(nation: str, nations: Iterable[str], policy: Policy, epoch: dt.datetime, *,
                 screen: Screen = no_screen) -> CyberPlugin:
    """The cyber plug-in of ``nation``'s node: its book shares with every other nation of
    ``nations`` under ``policy``, on the node's ``epoch`` (the node's own, so that the
    book and the node read the agreements at the same instant)."""
    return CyberPlugin(CyberBook(nation, nations, policy, epoch, screen=screen))


def mounted(plugins: Iterable[object]) -> CyberPlugin | None:
    """The cyber plug-in among a node's ``plugins``, if it carries the cyber kind."""
    return next((p for p in plugins if isinstance(p, CyberPlugin)), None)
