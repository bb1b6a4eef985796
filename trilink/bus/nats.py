"""NATS JetStream bus for live mode (the same contract as the in-memory bus).

Layout: one stream per sending nation's outbox, ``OUTBOX_<SENDER>``, subjects
``trilink.<sender>.<recipient>.p<priority>``; one durable pull consumer per
(sender, recipient, priority) with explicit acks and an ack wait, so a recipient that
was away gets everything on return and an unacked message comes back. Duplicates are
dropped by JetStream's message-id window (header ``Nats-Msg-Id``).

One server per nation (``trilink live``'s default;
:func:`trilink.live.natsconf.nation_server_config`): each nation's server is its own
JetStream domain, named by the nation's code, joined to the others by leaf nodes. A bus
then publishes to its own outbox on its own server and reads a partner's outbox through
that partner's domain (API prefix ``$JS.<PARTNER>.API``, what NATS documents for
JetStream across leaf nodes); it looks partners' streams up and never creates them. The
bus learns the mode from the server it is connected to: a server that names a JetStream
domain in its INFO is one nation's server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import nats
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import NotFoundError, ServiceUnavailableError

from trilink.bus.base import Delivery
from trilink.errors import TrilinkError

PRIORITIES = (1, 0)  # hotline first
DUPLICATE_WINDOW_S = 120.0
LINK_WAIT_S = 15.0  # how long a partner's server may take to answer through the links


class BusError(TrilinkError, RuntimeError):
    """The bus cannot work on this server (one line: which stream and why)."""


def outbox_config(sender: str, duplicate_window_s: float = DUPLICATE_WINDOW_S
                  ) -> StreamConfig:
    return StreamConfig(name=f"OUTBOX_{sender}", subjects=[f"trilink.{sender}.>"],
                        duplicate_window=duplicate_window_s)


async def provision_outbox(js: Any, sender: str,
                           duplicate_window_s: float = DUPLICATE_WINDOW_S) -> None:
    """Create ``OUTBOX_<SENDER>`` (or keep it), as its nation's admin does before the
    nodes start."""
    try:
        await js.stream_info(f"OUTBOX_{sender}")
    except NotFoundError:
        await js.add_stream(outbox_config(sender, duplicate_window_s))


def server_domain(nc: Any) -> str | None:
    """The JetStream domain the connected server announces in its INFO (``None``: none,
    one shared server)."""
    info = getattr(nc, "_server_info", None)  # nats-py keeps the server's INFO here
    domain = info.get("domain") if isinstance(info, dict) else None
    return str(domain) if domain else None


class NatsBus:
    """:class:`trilink.bus.base.Bus` over NATS JetStream; create with :meth:`connect`."""

    def __init__(self, nc: Any, nations: Sequence[str], ack_wait_s: float,
                 duplicate_window_s: float, api_timeout_s: float = 5.0, *,
                 home_domain: str | bool | None = True,
                 link_wait_s: float = LINK_WAIT_S) -> None:
        """``home_domain``: the JetStream domain of the server ``nc`` is connected to
        (``True``: as that server says; ``None``/``False``: one shared server, every
        outbox local). With a domain, a partner's outbox is read through the partner's
        domain; ``link_wait_s`` bounds the wait for it to answer (links still coming up)."""
        self._nc = nc
        # api_timeout_s: how long a JetStream API request may go unanswered (a refused
        # one is never answered).
        self._api_timeout_s = api_timeout_s
        self._js = nc.jetstream(timeout=api_timeout_s)
        self.home_domain = (server_domain(nc) if home_domain is True
                            else home_domain or None)
        self.link_wait_s = link_wait_s
        self._remote: dict[str, Any] = {}
        self.nations = tuple(nations)
        self.ack_wait_s = ack_wait_s
        self.duplicate_window_s = duplicate_window_s
        self._streams: set[str] = set()
        self._subs: dict[tuple[str, str, int], Any] = {}
        self._pending: dict[str, Any] = {}
        self._counter = 0
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    async def connect(cls, url: str, nations: Sequence[str], ack_wait_s: float = 30.0,
                      duplicate_window_s: float = DUPLICATE_WINDOW_S,
                      **options: Any) -> NatsBus:
        """``options`` go to ``nats.connect`` (e.g. ``nkeys_seed``, ``inbox_prefix``)."""
        nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=3, **options)
        bus = cls(nc, nations, ack_wait_s, duplicate_window_s)
        for sender in bus.nations:
            await bus._ensure_stream(sender)
        return bus

    def is_remote(self, sender: str) -> bool:
        """Is ``sender``'s outbox on another nation's server (read through its domain)?"""
        return self.home_domain is not None and sender != self.home_domain

    def _js_for(self, sender: str) -> Any:
        if not self.is_remote(sender):
            return self._js
        if sender not in self._remote:
            self._remote[sender] = self._nc.jetstream(domain=sender,
                                                      timeout=self._api_timeout_s)
        return self._remote[sender]

    async def _ensure_stream(self, sender: str) -> None:
        name = f"OUTBOX_{sender}"
        if name in self._streams:
            return
        if self.is_remote(sender):
            await self._find_remote(sender)
            self._streams.add(name)
            return
        try:
            await self._js.stream_info(name)
        except NotFoundError:
            # A development server lets anyone create it; with per-nation users only the
            # sender's admin may, and the refused request goes unanswered.
            try:
                await self._js.add_stream(outbox_config(sender, self.duplicate_window_s))
            except (TimeoutError, NatsTimeoutError, NoRespondersError):
                raise BusError(f"{name}: no such stream on the server, and this client may "
                               f"not create it (its admin provisions it: see "
                               "docs/deployment.md)") from None
        self._streams.add(name)

    async def _find_remote(self, sender: str) -> None:
        """Look ``sender``'s outbox up on its own server, through the leaf links (which
        may still be connecting: retried until ``link_wait_s``)."""
        name = f"OUTBOX_{sender}"
        js = self._js_for(sender)
        end = asyncio.get_running_loop().time() + self.link_wait_s
        while True:
            try:
                await js.stream_info(name)
                return
            except NotFoundError:
                raise BusError(f"{name}: no such stream on {sender}'s server (its admin "
                               "provisions it: see docs/deployment.md)") from None
            except (TimeoutError, NatsTimeoutError, NoRespondersError, ServiceUnavailableError):
                if asyncio.get_running_loop().time() >= end:
                    raise BusError(f"{name}: {sender}'s server (JetStream domain {sender}) "
                                   f"does not answer through the links within "
                                   f"{self.link_wait_s:g} s") from None
                await asyncio.sleep(0.1)

    async def send(self, sender: str, recipient: str, msg_id: str, data: bytes,
                   priority: int = 0) -> None:
        await self._ensure_stream(sender)
        await self._js_for(sender).publish(
            f"trilink.{sender}.{recipient}.p{1 if priority else 0}", data,
            stream=f"OUTBOX_{sender}", headers={"Nats-Msg-Id": msg_id})

    async def _sub(self, sender: str, recipient: str, priority: int) -> Any:
        key = (sender, recipient, priority)
        if key not in self._subs:
            await self._ensure_stream(sender)
            durable = f"{recipient}_from_{sender}_p{priority}"
            self._subs[key] = await self._js_for(sender).pull_subscribe(
                f"trilink.{sender}.{recipient}.p{priority}", durable=durable,
                stream=f"OUTBOX_{sender}",
                config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=self.ack_wait_s,
                                      deliver_policy=DeliverPolicy.ALL))
        return self._subs[key]

    async def receive(self, recipient: str, max_messages: int = 100,
                      timeout_s: float = 0.0) -> list[Delivery]:
        out: list[Delivery] = []
        # Short per-consumer waits: the overall timeout is shared by all consumers.
        per_fetch = max(timeout_s / max(1, 2 * len(self.nations)), 0.02)
        for priority in PRIORITIES:
            for sender in self.nations:
                if sender == recipient or len(out) >= max_messages:
                    continue
                sub = await self._sub(sender, recipient, priority)
                # A fetch on an empty consumer waits out its timeout: ask first (one
                # round trip) and skip consumers with nothing pending or due again.
                info = await sub.consumer_info()
                if not (info.num_pending or info.num_ack_pending):
                    continue
                try:
                    msgs = await sub.fetch(max_messages - len(out), timeout=per_fetch)
                except (TimeoutError, NatsTimeoutError):
                    continue
                out += [self._delivery(msg, sender, recipient, priority) for msg in msgs]
        return out

    async def listen(self, recipient: str, deliver: Callable[[Delivery], None],
                     batch: int = 256, wait_s: float = 1.0) -> list[asyncio.Task[None]]:
        """Long-poll every consumer of ``recipient`` at once (one task each) and hand each
        delivery to ``deliver`` as it arrives — no polling delay, no idle round trips.
        Ack as with :meth:`receive`; cancel the tasks (or :meth:`close`) to stop."""
        tasks = []
        for priority in PRIORITIES:
            for sender in self.nations:
                if sender != recipient:
                    sub = await self._sub(sender, recipient, priority)
                    tasks.append(asyncio.create_task(
                        self._pull(sub, sender, recipient, priority, deliver, batch, wait_s),
                        name=f"pull-{sender}-{recipient}-p{priority}"))
        self._tasks += tasks
        return tasks

    async def _pull(self, sub: Any, sender: str, recipient: str, priority: int,
                    deliver: Callable[[Delivery], None], batch: int, wait_s: float) -> None:
        while True:
            try:
                msgs = await sub.fetch(batch, timeout=wait_s)
            except (TimeoutError, NatsTimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception:  # connection down: the client reconnects; try again soon
                await asyncio.sleep(0.2)
                continue
            for msg in msgs:
                deliver(self._delivery(msg, sender, recipient, priority))

    def _delivery(self, msg: Any, sender: str, recipient: str, priority: int) -> Delivery:
        self._counter += 1
        token = f"{sender}/{recipient}/{self._counter}"
        self._pending[token] = msg
        headers = msg.headers or {}
        return Delivery(sender, recipient, headers.get("Nats-Msg-Id", ""), bytes(msg.data),
                        priority, int(msg.metadata.num_delivered), token)

    async def ack(self, delivery: Delivery) -> None:
        msg = self._pending.pop(delivery.token, None)
        if msg is not None:
            await msg.ack()

    async def nak(self, delivery: Delivery, delay_s: float) -> None:
        """Hand a delivery back unacknowledged: JetStream delivers it again after
        ``delay_s`` (the node said it wants it later, e.g. from a clock ahead of its own)."""
        msg = self._pending.pop(delivery.token, None)
        if msg is not None:
            await msg.nak(delay=delay_s)

    async def close(self) -> None:
        # Pull subscriptions do not drain (the client waits out its drain timeout):
        # unsubscribe them, then close. Unacked messages stay on the server for later.
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for sub in self._subs.values():
            await sub.unsubscribe()
        self._subs.clear()
        await self._nc.close()
