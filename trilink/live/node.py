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
- **Sensors.** With ``sensors=True`` the node subscribes to its own nation's feed,
  ``trilink.sensor.<NATION>.*`` (:mod:`trilink.live.feed`), checks each message and hands
  the scan to ``on_scan``; partners' data reach it only as shared tracks.
- **Warnings.** Each CAP message the node issues (``NodeOutput.warnings``) is written to
  ``alerts_dir`` and published on ``trilink.cap.<NATION>``; fused-picture events go on
  ``trilink.picture.<NATION>`` when the web module is installed (contract C3).
- **Replays.** A :class:`~trilink.live.replay.ScenarioClock` as ``clock`` and ``speed``
  run the node on scenario time; with ``hold_sends`` each message leaves when the node
  said it may (``send_at_s``: the agreements' modelled latencies), as in the simulation.
- **Simulated authorities.** With ``authorities`` (a replay's, as in ``trilink run``:
  :class:`~trilink.hotline.simulated.SimAuthorities`) the people behind the node's own
  desk are simulated: they read, join, draft, approve and conclude through the desk's
  public methods, each when their response delay falls due on the node clock
  (:class:`~trilink.hotline.simulated.Agenda`, the scheduler the simulation uses too).
  Without, people act through the control API.
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
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import heapq
import inspect
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Final

from trilink.bus.base import Delivery
from trilink.bus.nats import NatsBus
from trilink.hotline.desk import DeskConfig
from trilink.hotline.simulated import Agenda, SimAuthorities
from trilink.kinds.base import KindPlugin
from trilink.live.auth import ROLE_OPS, ControlGuard
from trilink.live.client import LiveError, connect, control_subject
from trilink.live.control import Reply, encode_reply, handle, post_text, utc
from trilink.live.feed import FeedError, decode_scan, nation_sensors_subject, to_scan
from trilink.live.natsconf import CAP_PREFIX as CAP_PREFIX
from trilink.live.natsconf import cap_subject as cap_subject
from trilink.live.natsconf import picture_subject
from trilink.live.record import NodeRecorder
from trilink.node import NationalNode, NodeConfig, NodeOutput, Outgoing, RoundJob, partners_of
from trilink.sharing.agreements import DataKind
from trilink.sharing.audit import AuditLog, Direction
from trilink.sharing.envelope import KeyRegistry, NodeKey
from trilink.sharing.fusion import FusedObject
from trilink.sharing.policy import Direct, Policy, Relay, Route
from trilink.sim.federation import LinkCut, held_until
from trilink.warning.cap import to_xml
from trilink.warning.cap import write as write_cap
from trilink.watch import WatchConfig

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
                       desk_config: DeskConfig | None = None, *,
                       epoch: dt.datetime = UNIX_EPOCH,
                       modelled_latency: bool = False,
                       watch_config: WatchConfig | None = None,
                       plugins: Sequence[KindPlugin] = ()) -> NationalNode:
    """A national node for live mode: Unix epoch, :class:`LivePolicy`, every nation of the
    registry a partner (and on the release list), and envelope sequence numbers that
    start at the wall clock in microseconds — so a restarted node process is not taken
    for a replay of the previous one (nor deduplicated by JetStream).

    Replays pass the scenario's ``epoch`` and ``modelled_latency=True`` (the policy's
    route latencies kept, as ``trilink run`` models them)."""
    everyone = tuple(sorted(set(nations or registry.nations()) | {nation}))
    node = NationalNode(NodeConfig(nation, partners_of(nation, everyone), everyone),
                        policy if modelled_latency else LivePolicy(policy), key, registry,
                        epoch, audit, desk_config=desk_config, watch_config=watch_config,
                        plugins=plugins)
    node.signer.next_seq = max(node.signer.next_seq, time.time_ns() // 1000)
    return node


def live_cyber_node(nation: str, key: NodeKey, registry: KeyRegistry, policy: Policy,
                    nations: Sequence[str] | None = None, audit: AuditLog | None = None,
                    desk_config: DeskConfig | None = None, *,
                    epoch: dt.datetime = UNIX_EPOCH, modelled_latency: bool = False,
                    watch_config: WatchConfig | None = None) -> NationalNode:
    """:func:`live_national_node` with the cyber kind mounted
    (:class:`~trilink.cyber.plugin.CyberPlugin`): its ``cyber_indicator`` envelopes are
    sealed, sent, verified and policy-checked as track envelopes are, and its nation's
    operators publish STIX through the control API (``cyber_submit``). The book reads
    ``policy`` (the regime's agreements) on the node's epoch."""
    from trilink.cyber.plugin import cyber_plugin  # stix2-validator: only when asked for

    everyone = tuple(sorted(set(nations or registry.nations()) | {nation}))
    return live_national_node(nation, key, registry, policy, everyone, audit, desk_config,
                              epoch=epoch, modelled_latency=modelled_latency,
                              watch_config=watch_config,
                              plugins=[cyber_plugin(nation, everyone, policy, epoch)])


MAX_CONTROL_BYTES: Final = 64 * 1024
BATCH: Final = 32  # inputs of a burst whose outputs are carried out together
REPLAY_QUIET_S: Final = 0.5  # wall seconds without input after which a replay is caught up
ROUND_SWITCH_INTERVAL_S: Final = 0.001  # the GIL's switch interval once rounds run on a thread


class LiveNode:
    """See the module docstring. Create, ``await start()``, …, ``await stop()``."""

    def __init__(self, node: NationalNode, url: str, *, ack_wait_s: float = 30.0,
                 poll_s: float = 0.05, connect_timeout_s: float = 5.0,
                 log: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.time, speed: float = 1.0,
                 sensors: bool = False, alerts_dir: Path | None = None,
                 hold_sends: bool = False, recorder: NodeRecorder | None = None,
                 control_guard: ControlGuard | None = None,
                 nats_options: dict[str, Any] | None = None,
                 authorities: SimAuthorities | None = None,
                 cuts: Sequence[LinkCut] = ()) -> None:
        self.node = node
        self.url = url
        # The node's NATS user (nkeys_seed, inbox_prefix: natsconf.creds_options).
        self.nats_options = dict(nats_options or {})
        self.nations = tuple(sorted(node.hotline.nations))
        self.ack_wait_s = ack_wait_s
        self.poll_s = poll_s
        self.connect_timeout_s = connect_timeout_s
        self.speed = speed
        self.sensors = sensors
        self.alerts_dir = alerts_dir
        self.hold_sends = hold_sends
        self.recorder = recorder
        self.control_guard = control_guard
        self.control_refused = 0
        # Lost links of an exercise (node time): what this node sends on a cut hop leaves
        # when the link returns, as the simulation's transport holds it (held_until).
        self.cuts = tuple(cuts)
        self.held_by_cuts = 0
        self.staff: Agenda | None = None  # the simulated authorities' plans, if any
        if authorities is not None:
            authorities.facts = node.join_facts  # what they add when they join
            self.staff = Agenda(authorities)
        self._log = log
        self._clock = clock
        self._epoch_unix = node.epoch.timestamp()
        self._outbox: collections.deque[Outgoing] = collections.deque()
        self._later: list[tuple[float, int, Outgoing]] = []  # held until send_at_s
        self._order = itertools.count()
        self._send_lock = asyncio.Lock()
        self._bus: NatsBus | None = None
        self._nc: Any = None
        self._subs: list[Any] = []
        self._task: asyncio.Task[None] | None = None
        self._inbox: collections.deque[Delivery | tuple[str, bytes]] = collections.deque()
        self._wake = asyncio.Event()
        self._stopping = False
        self._inputs = 0  # scans, deliveries and acting control requests handled
        self._event_t = -math.inf  # node time of the latest input
        self._input_wall = -math.inf  # monotonic wall time of the latest input
        self._picture: Any = _picture_hook()
        self._batch: NodeOutput | None = None  # outputs merged while a burst is handled
        self._batched = 0
        # A live node's assessment round in flight on its own thread (begin_round).
        self._round: tuple[RoundJob, asyncio.Future[None]] | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.rejected: collections.deque[str] = collections.deque(maxlen=1000)
        self.received = 0
        self.sent = 0
        self.scans = 0
        self.feed_rejected = 0
        self.warnings_issued = 0
        self.hotline_seen = 0  # desk events and deliveries carried out
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
        return len(self._outbox) + len(self._later)

    def now_s(self) -> float:
        """Node time: seconds since the node's epoch on the node's clock."""
        return self._clock() - self._epoch_unix

    def now_ns(self) -> int:
        """The node's clock as UTC nanoseconds since the Unix epoch (a replay's: the
        scenario's), what its freshness checks and audit times read — never the
        system clock behind it."""
        return self.node._ns(self.now_s())

    # -- lifecycle --------------------------------------------------------------------
    async def start(self) -> None:
        """Connect, serve the control API and the feed, send what is queued, run."""
        if self._bus is not None:
            return
        nc = await connect(self.url, name=f"trilink-{self.nation}",
                           timeout_s=self.connect_timeout_s, reconnect_forever=True,
                           disconnected_cb=self._disconnected, reconnected_cb=self._reconnected,
                           **self.nats_options)
        try:
            bus = NatsBus(nc, self.nations, self.ack_wait_s, duplicate_window_s=120.0)
            self._subs = [await nc.subscribe(control_subject(self.nation), cb=self._on_ctl)]
            if self.sensors:
                self._subs.append(await nc.subscribe(nation_sensors_subject(self.nation),
                                                     cb=self._on_sensor))
            await bus.listen(self.nation, self._on_delivery)
            if self._picture is not None:
                with contextlib.suppress(Exception):
                    made = self._picture[1](nc.jetstream(), self.nation)
                    if inspect.isawaitable(made):
                        await made
        except Exception:
            self._stopping = True  # closing is not a disconnection to report
            await nc.close()
            raise
        self._bus, self._nc = bus, nc
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"live-{self.nation}")
        await self._flush()
        self._say(f"{self.nation}: connected to {self.url}; control on "
                  f"{control_subject(self.nation)}")

    async def stop(self, *, close_watch: bool = False) -> None:
        """Stop the loop and close the connection; the node (and its queue) stays.

        ``close_watch`` (the end of a replay): the node stops watching first, so every
        warning still out lapses at its own time, and those Cancels are written and
        published before the connection closes."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
            self._task = None
        if self._round is not None:  # its warnings are the node's: carry them out
            with contextlib.suppress(Exception):
                await self._round[1]
            with contextlib.suppress(Exception):
                await self._end_round()
            self._round = None
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        if close_watch:
            await self._absorb(self.node.close(self.now_s()))
            await self._flush()
        bus, self._bus = self._bus, None
        if bus is not None:
            for sub in self._subs:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
            with contextlib.suppress(Exception):
                await bus.close()
        self._subs = []
        self._nc = None
        self._inbox.clear()  # unacked deliveries come back from JetStream

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
            self._input_at(self.now_s())
            self._wake.set()  # the desk may now have a deadline
            await self._absorb(out)
            await self._flush()
            if self.queued:
                reply["queued"] = self.queued
        elif (self.staff is not None and isinstance(request, dict)
              and request.get("op") == "status" and reply.get("ok")):
            # What a replay's launcher reads to tell when the hotline has gone quiet.
            held = sum(1 for o in (*self._outbox, *(x[2] for x in self._later))
                       if o.priority > 0)
            reply["sim_authorities"] = {"planned": len(self.staff),
                                        "next_s": self.staff.next_due_s(),
                                        "hotline_queued": held,
                                        "hotline_seen": self.hotline_seen}
        return reply

    async def _on_ctl(self, msg: Any) -> None:
        """A request from the network: every refusal is answered (never silence) and,
        with a guard, audited."""
        reply: Reply
        try:
            request = json.loads(msg.data) if len(msg.data) <= MAX_CONTROL_BYTES else None
        except (ValueError, RecursionError) as exc:
            bad = "nested too deep" if isinstance(exc, RecursionError) else str(exc)
            reply = {"ok": False, "error": f"request: not JSON: {bad}"}
            self._refused(None, reply["error"])
        else:
            if request is None:
                reply = {"ok": False, "error": f"request: more than {MAX_CONTROL_BYTES} bytes"}
                self._refused(None, reply["error"])
            elif self.control_guard is not None:
                op, refusal = self.control_guard.check(request, self.now_ns())
                if refusal is not None or op is None:
                    reply = {"ok": False, "error": f"refused: {refusal}"}
                    self._refused(op.operator_id if op else None, str(refusal))
                else:
                    body = {k: v for k, v in request.items() if k != "auth"}
                    if body.get("op") not in ROLE_OPS["read"]:
                        body.setdefault("authority", op.authority)  # acts as itself only
                    reply = await self.control(body)
            else:
                reply = await self.control(request)
        with contextlib.suppress(Exception):
            await msg.respond(encode_reply(reply))

    def _refused(self, operator: str | None, why: str) -> None:
        self.control_refused += 1
        if self.node.audit is not None:
            self.node.audit.append(self.now_ns(), Direction.REJECTED,
                                   peer=f"operator:{operator}" if operator else "anonymous",
                                   kind="control", reason="auth", detail=why[:500])
        self._say(f"{self.nation}: control request refused: {why}")

    # -- inputs: arrive on callbacks, handled in order by the loop ----------------------
    async def _on_sensor(self, msg: Any) -> None:
        self._inbox.append((str(msg.subject), bytes(msg.data)))
        self._wake.set()

    def _on_delivery(self, d: Delivery) -> None:
        self._inbox.append(d)
        self._wake.set()

    # -- the loop ---------------------------------------------------------------------
    def _next_wakeup_s(self) -> float | None:
        # As the simulation's driver: the node's clock starts with its first input, so
        # assessment rounds keep the same phase (and a replay's waiting time none).
        wakes = [self._timer_wake()]
        if self._later:
            wakes.append(self._later[0][0])
        return min((w for w in wakes if w is not None), default=None)

    async def _run(self) -> None:
        while not self._stopping:
            wake = self._next_wakeup_s()
            delay = self.poll_s * 20
            if wake is not None:
                delay = min(delay, max(0.0, (wake - self.now_s()) / self.speed))
                if self.hold_sends and wake > self._horizon_s():
                    delay = max(delay, self.poll_s)  # held back by the horizon: no spin
            if not self._inbox:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()
            if self._stopping:
                break
            try:
                await self._step()
            except Exception as exc:  # the connection is down: NATS reconnects, we retry
                self._note_error(exc)
                await asyncio.sleep(0.5)

    async def _step(self) -> None:
        bus = self._bus
        await self._end_round()
        handled = 0
        acks: list[tuple[Delivery, float | None]] = []  # (delivery, retry after node s)
        # A burst is carried out in batches: the outputs of up to BATCH inputs are merged
        # (one picture update for the faces, one pass of acks), so a backlog drains at
        # the node's pace rather than at one publish per envelope.
        self._batch = NodeOutput()
        try:
            while self._inbox and bus is not None:
                item = self._inbox.popleft()
                if isinstance(item, Delivery):
                    now = self.now_s()
                    if _TRACE:
                        self._say(f"got {item.msg_id} from {item.sender} at {now:.2f}")
                    await self._ticks_until(now)
                    self._input_at(now)
                    out = self.node.on_message(item.data, now, deliverer=item.sender)
                    self.received += 1
                    await self._absorb(out)
                    await self._after_input(now)
                    acks.append((item, out.retry_after_s))
                else:
                    await self._scan(*item)
                handled += 1
                if handled % BATCH == 0 or not self._inbox:
                    await self._release()
                    await self._settle(bus, acks)  # once its outputs are carried out
                    acks.clear()
                    await self._end_round()
                if handled % 64 == 0:  # a long burst: let what is due leave meanwhile
                    await self._flush()
        finally:
            await self._release()
            self._batch = None
        if bus is not None:
            await self._settle(bus, acks)
        await self._ticks_until(self._horizon_s())
        await self._flush()

    async def _settle(self, bus: NatsBus, done: list[tuple[Delivery, float | None]]) -> None:
        """Ack what the node is done with; hand back what it wants again later (a
        negative ack with that delay: JetStream delivers it again then)."""
        for d, retry_s in done:
            if retry_s is None:
                await bus.ack(d)
                continue
            await bus.nak(d, max(retry_s / self.speed, 0.05))

    async def _release(self) -> None:
        """Carry out the batch's merged outputs (see :meth:`_step`)."""
        batch = self._batch
        if batch is not None and self._batched:
            self._batch, self._batched = NodeOutput(), 0
            await self._carry_out(batch)

    def _input_at(self, t_s: float) -> None:
        self._inputs += 1
        self._event_t = max(self._event_t, t_s)
        self._input_wall = time.monotonic()

    def _horizon_s(self) -> float:
        """How far timed ticks may run now. A replay whose inputs still stream in runs
        them only up to its latest input's time — when the node lags behind the feed,
        a deadline must not fire ahead of the scans queued before it (as in the
        simulation, where every earlier scan comes first); once inputs pause, now."""
        now = self.now_s()
        if self.hold_sends and time.monotonic() - self._input_wall < REPLAY_QUIET_S:
            return min(now, self._event_t)
        return now

    def _timer_wake(self) -> float | None:
        """When the node next wants ``tick`` without an input. Replays follow the
        simulation's driver: timed deadlines (desk, plug-ins) at their time, assessment
        rounds at the first input at or after they fall due (:meth:`_after_input`)."""
        staff = None if self.staff is None else self.staff.next_due_s()
        if not self._inputs:
            return staff
        if not self.hold_sends and self._round is None:
            wake = self.node.next_wakeup_s()
        else:
            times = [t for t in (self.node.hotline.next_wakeup_s(),
                                 *(p.next_wakeup_s() for p in self.node.plugins))
                     if t is not None]
            wake = min(times) if times else None
        return min((t for t in (wake, staff) if t is not None), default=None)

    async def _after_input(self, t_s: float) -> None:
        wake = self.node.next_wakeup_s()
        if self.hold_sends and wake is not None and wake <= t_s:
            await self._absorb(self.node.tick(t_s))

    async def _ticks_until(self, t_s: float) -> None:
        """Run the timed ticks due by ``t_s``: a replay's at their due time (never before
        the last input's), a live node's now."""
        last = None
        while (wake := self._timer_wake()) is not None and wake <= t_s:
            if self.staff is not None and (due := self.staff.next_due_s()) is not None \
                    and due <= wake:
                await self._act(t_s)
                last = None
                continue
            if wake == last:
                return  # the node did not move its wake-up: try again later
            last = wake
            if not self.hold_sends:
                await self._live_tick(t_s)
                return
            await self._absorb(self.node.tick(max(wake, self._event_t)))

    async def _act(self, t_s: float) -> None:
        """The simulated authorities' next plan due by ``t_s``, through the desk: in a
        replay at its own time (never before the node's latest input), live now."""
        assert self.staff is not None
        plan = self.staff.pop_due(t_s)
        if plan is None:
            return
        at = max(plan.t_s, self._event_t) if self.hold_sends else self.now_s()
        if _TRACE:
            self._say(f"{self.nation}: {plan.label} at {at:.2f} (due {plan.t_s:.2f})")
        await self._absorb(self.node.emit(plan.act(self.node.hotline, at), at))

    async def _live_tick(self, t_s: float) -> None:
        """A live node's timed tick. Its assessment round, when the node lets it run
        alone (:meth:`NationalNode.begin_round`), goes to a thread of its own on a copy
        of the picture: what arrives meanwhile is fused and published without waiting
        for the warning centre; the round's output is carried out when it is done."""
        await self._end_round()
        busy = self._round is not None
        await self._absorb(self.node.tick(t_s, assess=False))
        job = None if busy else self.node.begin_round(t_s)
        if job is None:
            return
        if not job.alone:
            self.node.run_round(job)
            await self._absorb(self.node.finish_round(job))
            return
        if self._pool is None:
            # The round's thread holds the GIL through its Python stretches: the loop,
            # which gives it up at every socket wait, would wait up to the interpreter's
            # switch interval (5 ms) to get it back each time — tens of ms per input
            # while a round runs. A shorter interval hands it back sooner.
            if sys.getswitchinterval() > ROUND_SWITCH_INTERVAL_S:
                sys.setswitchinterval(ROUND_SWITCH_INTERVAL_S)
            self._pool = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix=f"round-{self.nation}")
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self._pool, self.node.run_round, job)
        fut.add_done_callback(lambda _: self._wake.set())
        self._round = (job, fut)

    async def _end_round(self) -> None:
        """Carry out the round in flight once its thread is done (else nothing)."""
        if self._round is None or not self._round[1].done():
            return
        job, fut = self._round
        self._round = None
        fut.result()  # a round that failed fails as it would have on the loop
        if self._batch is not None:
            await self._release()
        await self._carry_out(self.node.finish_round(job), _RoundView(self.node, job.picture))

    async def _scan(self, subject: str, data: bytes) -> None:
        try:
            scan = to_scan(decode_scan(data, subject), self.node.epoch)
        except FeedError as exc:
            self.feed_rejected += 1
            if self.node.audit is not None:
                self.node.audit.append(self.node._ns(self.now_s()), Direction.REJECTED,
                                       peer=self.nation, kind="sensor", reason="feed",
                                       detail=f"{subject}: {exc}"[:500])
            self._say(f"{self.nation}: feed message refused: {exc}")
            return
        if scan.nation != self.nation:  # the subscription is our own: belt and braces
            return
        # A replay's scan happens at its measurement time; a live one on arrival.
        await self._ticks_until(scan.t_s if self.hold_sends else self.now_s())
        self._input_at(scan.t_s)
        self.scans += 1
        out = self.node.on_scan(scan)
        if self.recorder is not None:
            self.recorder.on_scan(scan, out.track_events)
        await self._absorb(out)
        await self._after_input(scan.t_s)

    async def _absorb(self, out: NodeOutput) -> None:
        if self._batch is not None:
            if out.assessed_s is None:
                self._batch.extend(out)
                self._batched += 1
                return
            await self._release()  # a round's output stays whole (the recorder's ticks)
        await self._carry_out(out)

    async def _carry_out(self, out: NodeOutput, view: Any = None) -> None:
        now = self.now_s()
        for o in out.outgoing:
            due = max(o.send_at_s, now) if self.hold_sends else now
            if self.cuts:
                back = held_until(self.cuts, self.nation, o.next_hop, due)
                if back > due:
                    self.held_by_cuts += 1
                    due = back
            if due > now:
                heapq.heappush(self._later, (due, next(self._order), o))
            else:
                self._outbox.append(o)
        for r in out.rejected:
            self.rejected.append(r)
            self._say(f"{self.nation}: rejected: {r}")
        warnings = out.warnings
        self.hotline_seen += len(out.hotline.events) + len(out.hotline.delivered)
        if self.staff is not None:
            self.staff.observe(self.node.hotline, out.hotline, now)
        if self.recorder is not None:
            # A round taken apart is recorded with the picture it assessed.
            self.recorder.on_output(view or self.node, out, warnings, now)
        for ev in warnings:
            await self._warn(ev)
        if self._picture is not None:
            await self._publish_picture(out, now)
        if self._log is not None:
            for e in out.hotline.events:
                ref = "" if not e.msg_id or e.detail.startswith(e.msg_id) else f"{e.msg_id} "
                self._say(f"{utc(self.node, e.t_s)} {e.consultation} {e.nation}/"
                          f"{e.authority or '-'} {e.what}: {ref}{e.detail}".rstrip(": "))
            for post, attention in out.hotline.delivered:
                self._say(f"{utc(self.node, now)} {post.consultation} delivered "
                          f"{post.msg_id} ({post.what}) from {post.origin}/{post.authority} "
                          f"for {self.nation}/{attention}: {post_text(post.body)}"
                          .rstrip(": "))

    async def _warn(self, ev: Any) -> None:
        """One CAP message: on disk (atomic, validated) and on trilink.cap.<NATION>."""
        self.warnings_issued += 1
        data = to_xml(ev.message)
        if self.alerts_dir is not None:
            path = write_cap(ev.message, self.alerts_dir)
            if self.recorder is not None:
                self.recorder.on_cap_file(path, self.now_s())
        self._say(f"{self.nation}: CAP {ev.message.msg_type} {ev.message.identifier} "
                  f"({dict(ev.message.parameters).get('trilink_level', '?')})")
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.publish(cap_subject(self.nation), data)

    async def _publish_picture(self, out: NodeOutput, now: float) -> None:
        if self._nc is None or self._picture is None:
            return
        try:
            # A plain publish: the PICTURE stream stores it all the same, and the node
            # does not wait a round trip per event for a face's sake.
            for ev in self._picture[0](self.node, out, now):
                await self._nc.publish(picture_subject(self.nation), ev)
        except Exception as exc:  # the picture is a face: it must not stop the node
            self._note_error(exc)

    async def _flush(self) -> None:
        """Hand what is due to NATS in order; on failure keep the rest for later."""
        async with self._send_lock:
            now = self.now_s()
            while self._later and self._later[0][0] <= now:
                self._outbox.append(heapq.heappop(self._later)[2])
            while self._outbox and self._bus is not None:
                o = self._outbox[0]
                try:
                    await self._bus.send(self.nation, o.next_hop, o.msg_id, o.data, o.priority)
                except Exception as exc:
                    self._note_error(exc)
                    return
                self._outbox.popleft()
                self.sent += 1
                if _TRACE:
                    self._say(f"sent {o.msg_id} to {o.next_hop} at {self.now_s():.2f} "
                              f"(due {o.send_at_s:.2f})")

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


class _RoundView:
    """The node as a round taken apart saw it (for the recorder): the picture then."""

    def __init__(self, node: NationalNode, picture: list[FusedObject]) -> None:
        self._node = node
        self._picture = picture

    def __getattr__(self, name: str) -> Any:
        return getattr(self._node, name)

    def fused(self) -> list[FusedObject]:
        return list(self._picture)


def _picture_hook() -> Any:
    """H7's ``(picture_events, ensure_picture_stream)`` (contract C3), or None when the
    web module is missing or incomplete: the node runs without a picture stream."""
    try:
        from trilink.web import publish  # type: ignore[attr-defined, unused-ignore]
    except Exception:
        return None
    events = getattr(publish, "picture_events", None)
    ensure = getattr(publish, "ensure_picture_stream", None)
    return (events, ensure) if callable(events) and callable(ensure) else None


_TRACE: Final = bool(os.environ.get("TRILINK_LIVE_TRACE"))


__all__ = ["CAP_PREFIX", "UNIX_EPOCH", "LiveError", "LiveNode", "LivePolicy", "cap_subject",
           "live_cyber_node", "live_national_node"]
