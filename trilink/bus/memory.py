"""In-memory bus for simulation: deterministic, with per-link loss.

Runs on a :class:`SimClock` the simulation advances; a message sent at t is due at t
on its link (how long items take is the agreements' business: the policy's route
latencies, which the node applies to its sends — the one latency model), unless the
link's loss probability drops it. Draws come from a generator seeded per link, so adding
a link never changes another's draws.
"""

from __future__ import annotations

import heapq
import itertools
import zlib
from dataclasses import dataclass, field

import numpy as np

from trilink.bus.base import Delivery


@dataclass
class SimClock:
    """Simulated time, seconds since the scenario epoch."""

    now_s: float = 0.0

    def advance(self, dt_s: float) -> None:
        self.now_s += max(0.0, dt_s)


@dataclass(order=True)
class _Pending:
    due_s: float
    order: tuple[int, int]  # (−priority, sequence): hotline first, then send order
    delivery: Delivery = field(compare=False)


class InMemoryBus:
    """The :class:`trilink.bus.base.Bus` contract over in-process queues."""

    def __init__(self, clock: SimClock | None = None, seed: int = 0,
                 ack_wait_s: float = 30.0,
                 loss: dict[tuple[str, str], float] | None = None) -> None:
        """``loss[(sender, recipient)]``: the probability that the link drops a message."""
        self.clock = clock or SimClock()
        self.seed = seed
        self.loss = dict(loss or {})
        self.ack_wait_s = ack_wait_s
        self._queues: dict[str, list[_Pending]] = {}
        self._seen: set[tuple[str, str]] = set()  # (sender, msg_id) dedup
        self._unacked: dict[str, tuple[float, Delivery]] = {}
        self._acked: set[str] = set()
        self._rngs: dict[tuple[str, str], np.random.Generator] = {}
        self._seq = itertools.count()

    def _rng(self, link: tuple[str, str]) -> np.random.Generator:
        if link not in self._rngs:
            key = zlib.crc32(f"{link[0]}->{link[1]}".encode())
            self._rngs[link] = np.random.default_rng(np.random.SeedSequence([self.seed, key]))
        return self._rngs[link]

    async def send(self, sender: str, recipient: str, msg_id: str, data: bytes,
                   priority: int = 0) -> None:
        if (sender, msg_id) in self._seen:
            return
        self._seen.add((sender, msg_id))
        link = (sender, recipient)
        if self._rng(link).random() < self.loss.get(link, 0.0):
            return
        due = self.clock.now_s
        seq = next(self._seq)
        token = f"{sender}/{recipient}/{seq}"
        d = Delivery(sender, recipient, msg_id, bytes(data), priority, 1, token)
        heapq.heappush(self._queues.setdefault(recipient, []), _Pending(due, (-priority, seq), d))

    async def receive(self, recipient: str, max_messages: int = 100,
                      timeout_s: float = 0.0) -> list[Delivery]:
        """Messages due by the clock's now (the timeout does not advance simulated time)."""
        self._requeue_expired()
        queue = self._queues.setdefault(recipient, [])
        out: list[Delivery] = []
        while queue and queue[0].due_s <= self.clock.now_s and len(out) < max_messages:
            d = heapq.heappop(queue).delivery
            if d.token in self._acked:
                continue
            self._unacked[d.token] = (self.clock.now_s + self.ack_wait_s, d)
            out.append(d)
        return out

    def _requeue_expired(self) -> None:
        for token, (deadline, d) in list(self._unacked.items()):
            if deadline <= self.clock.now_s:
                del self._unacked[token]
                again = Delivery(d.sender, d.recipient, d.msg_id, d.data, d.priority,
                                 d.attempt + 1, d.token)
                heapq.heappush(self._queues.setdefault(d.recipient, []),
                               _Pending(self.clock.now_s, (-d.priority, next(self._seq)), again))

    async def ack(self, delivery: Delivery) -> None:
        self._unacked.pop(delivery.token, None)
        self._acked.add(delivery.token)

    async def close(self) -> None:
        self._queues.clear()
