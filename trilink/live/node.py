"""LiveNode: one :class:`~trilink.node.NationalNode` on the wall clock, over NATS.

A thin asyncio adapter; every decision stays in the node and its hotline desk.

- **Time.** ``now_s`` is seconds since the node's epoch; live nodes use the Unix epoch
  (:data:`UNIX_EPOCH`), so node times are absolute UTC, every node agrees on them, and
  agreements are read at the real date (unless the policy fixes a regime or a date).
- **Loop.** Receive deliveries (:class:`~trilink.bus.nats.NatsBus`) → ``on_message`` →
  ack → send every :class:`~trilink.node.Outgoing` at once, with its priority: live mode
  does not wait out the latencies the simulation models. When the desk's next wake-up
  is due, ``tick``.
- **Control.** Requests on ``trilink.ctl.<NATION>`` (NATS core request/reply, JSON) are
  answered by :func:`trilink.live.control.handle`; :meth:`LiveNode.control` answers the
  same requests in-process, connected or not.
- **Stop and start.** :meth:`stop` closes the connection and keeps the node; what the
  node emits meanwhile is queued and sent, in order, by the next :meth:`start` (and
  JetStream keeps what partners sent it). Nothing is lost across a partition.

Latency. The desk waits ``ack_deadline_s`` plus the route's round trip for a read
acknowledgement; the route latencies of the agreements (60 s for the Camp David hotline)
are modelling assumptions of the simulation. Live nodes route with
:class:`LivePolicy` — the same agreements, latencies zero — so deadlines are
``ack_deadline_s`` and messages leave at once.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from trilink.bus.nats import NatsBus
from trilink.hotline.desk import DeskConfig
from trilink.live.client import LiveError, connect, control_subject
from trilink.live.control import Reply, encode_reply, handle, post_text, utc
from trilink.node import NationalNode, NodeConfig, NodeOutput, Outgoing, partners_of
from trilink.sharing.agreements import DataKind
from trilink.sharing.audit import AuditLog
from trilink.sharing.envelope import KeyRegistry, NodeKey
from trilink.sharing.policy import Direct, Policy, Relay, Route

UNIX_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class LivePolicy(Policy):
    """``base``'s agreements and answers, with no modelled latency on any route."""

    def __init__(self, base: Policy) -> None:
        super().__init__(base.agreements, as_of=base.as_of, ignore_events=base.ignore_events,
                         relay_delay_s=base.relay_delay_s, name=base.name)

    def route(self, sender: str, recipient: str, kind: DataKind | str, t: dt.datetime,
              releasable_to: frozenset[str] | Iterable[str], originator: str) -> Route:
        r = super().route(sender, recipient, kind, t, releasable_to, originator)
        if isinstance(r, Direct):
            return dataclasses.replace(r, latency_s=0.0)
        if isinstance(r, Relay):
            return dataclasses.replace(r, latency_s=0.0, relay_delay_s=0.0)
        return r


def live_national_node(nation: str, key: NodeKey, registry: KeyRegistry, policy: Policy,
                       nations: Sequence[str] | None = None, audit: AuditLog | None = None,
                       desk_config: DeskConfig | None = None) -> NationalNode:
    """A national node for live mode: Unix epoch, :class:`LivePolicy`, every nation of the
    registry a partner (and on the release list), and envelope sequence numbers that
    start at the wall clock in microseconds — so a restarted node process is not taken
    for a replay of the previous one (nor deduplicated by JetStream)."""
    everyone = tuple(sorted(set(nations or registry.nations()) | {nation}))
    node = NationalNode(NodeConfig(nation, partners_of(nation, everyone), everyone),
                        LivePolicy(policy), key, registry, UNIX_EPOCH, audit,
                        desk_config=desk_config)
    node.signer.next_seq = max(node.signer.next_seq, time.time_ns() // 1000)
    return node


class LiveNode:
    """See the module docstring. Create, ``await start()``, …, ``await stop()``."""

    def __init__(self, node: NationalNode, url: str, *, ack_wait_s: float = 30.0,
                 poll_s: float = 0.05, connect_timeout_s: float = 5.0,
                 log: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.node = node
        self.url = url
        self.nations = tuple(sorted(node.hotline.nations))
        self.ack_wait_s = ack_wait_s
        self.poll_s = poll_s
        self.connect_timeout_s = connect_timeout_s
        self._log = log
        self._clock = clock
        self._epoch_unix = node.epoch.timestamp()
        self._outbox: collections.deque[Outgoing] = collections.deque()
        self._send_lock = asyncio.Lock()
        self._bus: NatsBus | None = None
        self._ctl_sub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.rejected: collections.deque[str] = collections.deque(maxlen=1000)
        self.received = 0
        self.sent = 0
        self.last_error: str | None = None

    # -- state ------------------------------------------------------------------------
    @property
    def nation(self) -> str:
        return self.node.nation

    @property
    def connected(self) -> bool:
        return self._bus is not None

    @property
    def queued(self) -> int:
        """Envelopes emitted and not yet handed to NATS."""
        return len(self._outbox)

    def now_s(self) -> float:
        """Node time: wall-clock seconds since the node's epoch."""
        return self._clock() - self._epoch_unix

    # -- lifecycle --------------------------------------------------------------------
    async def start(self) -> None:
        """Connect, serve the control API, send what is queued, run the loop."""
        if self._bus is not None:
            return
        nc = await connect(self.url, name=f"trilink-{self.nation}",
                           timeout_s=self.connect_timeout_s, reconnect_forever=True,
                           disconnected_cb=self._disconnected, reconnected_cb=self._reconnected)
        try:
            self._bus = NatsBus(nc, self.nations, self.ack_wait_s, duplicate_window_s=120.0)
            self._ctl_sub = await nc.subscribe(control_subject(self.nation), cb=self._on_ctl)
        except Exception:
            self._bus = None
            await nc.close()
            raise
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"live-{self.nation}")
        await self._flush()
        self._say(f"{self.nation}: connected to {self.url}; control on "
                  f"{control_subject(self.nation)}")

    async def stop(self) -> None:
        """Stop the loop and close the connection; the node (and its queue) stays."""
        self._stopping = True
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
            self._task = None
        bus, self._bus = self._bus, None
        if bus is not None:
            if self._ctl_sub is not None:
                with contextlib.suppress(Exception):
                    await self._ctl_sub.unsubscribe()
            with contextlib.suppress(Exception):
                await bus.close()
        self._ctl_sub = None

    async def wait(self) -> None:
        """Until the loop ends (:meth:`stop`)."""
        if self._task is not None:
            await self._task

    # -- control ----------------------------------------------------------------------
    async def control(self, request: object) -> Reply:
        """Answer one control request in-process (also while disconnected: what the desk
        emits is queued). Never raises: an unexpected failure is a one-line error."""
        try:
            reply, out = handle(self.node, request, self.now_s())
        except Exception as exc:  # a bug must not take the node down
            return {"ok": False, "error": f"internal error: {type(exc).__name__}: {exc}"}
        if out is not None:
            self._absorb(out)
            await self._flush()
            if self._outbox:
                reply["queued"] = len(self._outbox)
        return reply

    async def _on_ctl(self, msg: Any) -> None:
        try:
            request = json.loads(msg.data)
        except ValueError as exc:
            reply: Reply = {"ok": False, "error": f"request: not JSON: {exc}"}
        else:
            reply = await self.control(request)
        with contextlib.suppress(Exception):
            await msg.respond(encode_reply(reply))

    # -- the loop ---------------------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopping:
            bus = self._bus
            if bus is None:
                break
            got = 0
            try:
                deliveries = await bus.receive(self.nation, max_messages=100, timeout_s=0.2)
                for d in deliveries:
                    self._absorb(self.node.on_message(d.data, self.now_s()))
                    self.received += 1
                    await bus.ack(d)
                got = len(deliveries)
                wake = self.node.hotline.next_wakeup_s()
                now = self.now_s()
                if wake is not None and wake <= now:
                    self._absorb(self.node.tick(now))
                await self._flush()
            except Exception as exc:  # the connection is down: NATS reconnects, we retry
                self._note_error(exc)
                await asyncio.sleep(0.5)
                continue
            if not got:
                wake = self.node.hotline.next_wakeup_s()
                delay = self.poll_s
                if wake is not None:
                    delay = min(delay, max(0.0, wake - self.now_s()))
                await asyncio.sleep(delay)

    def _absorb(self, out: NodeOutput) -> None:
        self._outbox.extend(out.outgoing)
        for r in out.rejected:
            self.rejected.append(r)
            self._say(f"{self.nation}: rejected: {r}")
        if self._log is not None:
            for e in out.hotline.events:
                ref = "" if not e.msg_id or e.detail.startswith(e.msg_id) else f"{e.msg_id} "
                self._say(f"{utc(self.node, e.t_s)} {e.consultation} {e.nation}/"
                          f"{e.authority or '-'} {e.what}: {ref}{e.detail}".rstrip(": "))
            for post, attention in out.hotline.delivered:
                self._say(f"{utc(self.node, self.now_s())} {post.consultation} delivered "
                          f"{post.msg_id} ({post.what}) from {post.origin}/{post.authority} "
                          f"for {self.nation}/{attention}: {post_text(post.body)}"
                          .rstrip(": "))

    async def _flush(self) -> None:
        """Hand the queue to NATS in order; on failure keep the rest for later."""
        async with self._send_lock:
            while self._outbox and self._bus is not None:
                o = self._outbox[0]
                try:
                    await self._bus.send(self.nation, o.next_hop, o.msg_id, o.data, o.priority)
                except Exception as exc:
                    self._note_error(exc)
                    return
                self._outbox.popleft()
                self.sent += 1

    # -- reporting --------------------------------------------------------------------
    def _say(self, line: str) -> None:
        if self._log is not None:
            self._log(line)

    def _note_error(self, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}".rstrip(": ")
        if text != self.last_error:
            self._say(f"{self.nation}: {text} (will retry)")
        self.last_error = text

    async def _disconnected(self) -> None:
        if not self._stopping:
                self._say(f"{self.nation}: disconnected from {self.url}; reconnecting")

    async def _reconnected(self) -> None:
        self._say(f"{self.nation}: reconnected to {self.url}")
        self.last_error = None


__all__ = ["UNIX_EPOCH", "LiveError", "LiveNode", "LivePolicy", "live_national_node"]
