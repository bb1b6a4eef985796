"""The contract every transport between national nodes honours.

A bus carries opaque bytes (signed envelopes) from a sender node to a recipient node
over a named link, with an id per message. Semantics, tested identically on every bus
(`tests/test_bus_contract.py`):

- *addressing*: a recipient receives only messages addressed to it;
- *per-link order*: messages of one sender to one recipient arrive in send order
  (unless a loss model drops some; loss never reorders);
- *deduplication*: a second send with the same message id is not delivered again;
- *at-least-once with explicit acks*: a received message that is not acked within the
  ack wait is delivered again (its ``attempt`` grows); an acked one never is;
- *durability*: messages sent before the recipient first asks are kept for it;
- *priority*: ``priority=1`` traffic (hotline) is received before routine traffic that
  is due at the same time.

Time is the caller's: the in-memory bus runs on a simulated clock, NATS on the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Delivery:
    """One received message. ``token`` identifies it for :meth:`Bus.ack`."""

    sender: str
    recipient: str
    msg_id: str
    data: bytes
    priority: int
    attempt: int
    token: str


class Bus(Protocol):
    """Asynchronous transport contract (see the module docstring)."""

    async def send(self, sender: str, recipient: str, msg_id: str, data: bytes,
                   priority: int = 0) -> None: ...

    async def receive(self, recipient: str, max_messages: int = 100,
                      timeout_s: float = 0.0) -> list[Delivery]: ...

    async def ack(self, delivery: Delivery) -> None: ...

    async def close(self) -> None: ...
