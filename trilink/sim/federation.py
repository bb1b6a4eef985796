"""Run the national nodes of a scenario together over a bus (discrete-event driver).

Logical time is the driver's: scans happen at their scan times; a message a node asks to
send at ``send_at_s`` is delivered then (the node puts the agreements' route latency in
``send_at_s``: the one latency model; the bus adds none). The bus is used as
a real transport: every message is sent on it and received from it before the recipient
processes it, in a deterministic order (time, then a sequence number). So the same
scenario and seed give the same fused outcome over the in-memory bus and over NATS
JetStream — the transport can change when bytes move, not what the nodes decide.

Each nation's node gets the sensors of that nation (:func:`trilink.sim.tracking.nation_scans`):
the catalogue's radars and space-based infrared satellites (``trilink/data/sensors.yaml``)
and the scenario's own radars (``Truth.sensors``: ships at stated positions), each with
its own seeded generator; radar scans and infrared frames (lines of sight, fused by the
tracker as bearings) both go to the node's ``on_scan``. Sensors report nothing inside
their outage windows (``Truth.outages``). ``FederationRun.first_detection_s`` counts
radar detections only (what the summary's ``first_detection_s`` has always meant).

Lost links (``cuts``, :class:`LinkCut`) are the transport's: a message due on a cut hop
is still put on the bus at once (JetStream keeps it, as over a real outage) and is
delivered when the link returns; the nodes decide nothing about it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trilink.bus.base import Bus, Delivery
from trilink.hotline.desk import DeskConfig
from trilink.hotline.simulated import Scheduled, SimAuthorities, plans_for
from trilink.node import NationalNode, NodeConfig, NodeOutput, Outgoing, partners_of
from trilink.sensors import IrScan, RadarScan, RadarSpec, SensorOutage
from trilink.sharing.audit import AuditLog
from trilink.sharing.envelope import generate_keys
from trilink.sharing.policy import Policy
from trilink.sim.tracking import first_detections, nation_scans
from trilink.sim.tracking import nation_radars as nation_radars
from trilink.sim.truth import Truth
from trilink.tracking.tracker import TrackEvent
from trilink.warning.center import WarningEvent
from trilink.watch import WatchConfig

NATIONS = ("USA", "JPN", "KOR")
_TICK = object()  # queue item: the node's desk has a deadline due


@dataclass(frozen=True)
class LinkCut:
    """A lost link over [from_s, to_s): between ``a`` and ``b`` both ways, or between
    ``a`` and every partner (``b`` None)."""

    a: str
    b: str | None
    from_s: float
    to_s: float

    def cuts(self, sender: str, recipient: str, t_s: float) -> bool:
        ends = {sender, recipient}
        on_link = self.a in ends and (self.b is None or self.b in ends)
        return on_link and self.from_s <= t_s < self.to_s


def held_until(cuts: Sequence[LinkCut], sender: str, recipient: str, t_s: float) -> float:
    """When a message due at ``t_s`` on the hop sender → recipient gets through: ``t_s``,
    or the end of the cut(s) it falls in (back-to-back cuts chain)."""
    moved = True
    while moved:
        moved = False
        for c in cuts:
            if c.cuts(sender, recipient, t_s):
                t_s, moved = c.to_s, True
    return t_s


# A message held by a lost link: (sender, recipient, msg_id, due (s), delivered (s)).
Held = tuple[str, str, str, float, float]


# repr=False: asyncio formats a coroutine's result in some paths; a repr of every
# track event and array took seconds on a day's run.
@dataclass(repr=False)
class FederationRun:
    nodes: dict[str, NationalNode]
    sent: int = 0
    delivered: int = 0
    rejected: dict[str, list[str]] = field(default_factory=dict)
    received_from: dict[str, set[str]] = field(default_factory=dict)  # node → originators
    # Evaluation only (truth): first detection of each missile by each nation's radars
    # (infrared frames are not counted: the summary's first_detection_s is a radar's).
    first_detection_s: dict[str, dict[str, float]] = field(default_factory=dict)
    track_events: dict[str, list[TrackEvent]] = field(default_factory=dict)
    # Each node's CAP messages, in the order issued (the last lapse at the run's end).
    warnings: dict[str, list[WarningEvent]] = field(default_factory=dict)
    held: list[Held] = field(default_factory=list)  # what lost links held, in send order


async def run_federation_async(
    truth: Truth,
    policy: Policy,
    bus: Bus,
    seed: int,
    nations: Sequence[str] = NATIONS,
    rel_to: Mapping[str, Sequence[str]] | None = None,
    audit_dir: Path | None = None,
    on_step: Callable[[str, NationalNode, float], NodeOutput | None] | None = None,
    *,
    sensors: Sequence[RadarSpec] | None = None,
    outages: Sequence[SensorOutage] | None = None,
    authorities: Mapping[str, SimAuthorities] | None = None,
    desk_config: DeskConfig | None = None,
    watch: Mapping[str, WatchConfig] | None = None,
    on_output: Callable[[str, NationalNode, NodeOutput, float], None] | None = None,
    cuts: Sequence[LinkCut] = (),
) -> FederationRun:
    """Simulate every nation's sensors, node and sharing over ``bus``; see the module doc.

    ``sensors`` are radars besides the catalogue's (default: the truth's, i.e. the
    scenario's own); ``outages`` silence radars over windows (default: the truth's).
    ``watch`` sets each node's assessment schedule and automatic consultations;
    ``on_output(nation, node, output, now)`` sees every output a node produced (for
    evaluation and faces: it decides nothing); ``on_step`` runs after each event a node
    handled, and what it returns is sent. ``authorities`` act on what the hotline desks
    deliver; the run goes on, past the last impact, until no desk or authority has
    anything left to do; then every node closes its watch (warnings lapse). ``cuts``:
    lost links; what they held is listed in ``FederationRun.held``.
    """
    assert truth.epoch is not None, "federation runs need a truth with an epoch"
    extra = truth.sensors if sensors is None else tuple(sensors)
    keys, registry = generate_keys(nations, seed=f"trilink-{seed}".encode())
    nodes: dict[str, NationalNode] = {}
    for n in nations:
        # A simulation's audit need not survive an OS crash mid-run (see AuditLog).
        audit = (AuditLog(audit_dir / f"{n}.sqlite", durable=False)
                 if audit_dir is not None else None)
        release = tuple(rel_to[n]) if rel_to and n in rel_to else tuple(nations)
        nodes[n] = NationalNode(NodeConfig(n, partners_of(n, nations), release), policy,
                                keys[n], registry, truth.epoch, audit,
                                desk_config=desk_config,
                                watch_config=watch.get(n) if watch is not None else None)
        if authorities is not None and n in authorities:
            authorities[n].facts = nodes[n].join_facts  # what they add when they join
    run = FederationRun(nodes, rejected={n: [] for n in nations},
                        received_from={n: set() for n in nations},
                        first_detection_s={n: {} for n in nations},
                        track_events={n: [] for n in nations},
                        warnings={n: [] for n in nations})
    order = itertools.count()
    queue: list[tuple[float, int, str, object]] = []
    tick_at: dict[str, float] = {}
    for n in nations:
        scans = nation_scans(n, truth, seed, extra, outages)
        run.first_detection_s[n] = first_detections(scans).get(n, {})
        for m in scans:
            heapq.heappush(queue, (m.t_s, next(order), n, m))
    inbox: dict[str, dict[str, Delivery]] = {n: {} for n in nations}

    async def send(o: Outgoing, sender: str) -> None:
        # The transport sender is the node that emits the message (a relay forwards the
        # originator's signed bytes under its own outbox).
        await bus.send(sender, o.next_hop, o.msg_id, o.data, o.priority)
        run.sent += 1
        due = max(o.send_at_s, now)
        if cuts:
            back = held_until(cuts, sender, o.next_hop, due)
            if back > due:
                run.held.append((sender, o.next_hop, o.msg_id, due, back))
                due = back
        # Hotline traffic (priority 1) is handled before routine traffic due at the
        # same moment, as the bus contract promises.
        heapq.heappush(queue, (due,
                               next(order) - (o.priority << 62), o.next_hop, o.msg_id))

    async def fetch(recipient: str, msg_id: str) -> Delivery:
        box = inbox[recipient]
        for _ in range(200):
            if msg_id in box:
                d = box.pop(msg_id)
                await bus.ack(d)
                return d
            for d in await bus.receive(recipient, max_messages=500, timeout_s=0.2):
                box.setdefault(d.msg_id, d)
        raise TimeoutError(f"{recipient} never received {msg_id} from the bus")

    async def after(who: str, out: NodeOutput) -> None:
        node = nodes[who]
        run.warnings[who] += out.warnings
        if on_output is not None:
            on_output(who, node, out, now)
        for o in out.outgoing:
            await send(o, who)
        auth = authorities.get(who) if authorities else None
        if auth is not None:  # the rule a live node's Agenda follows too
            for plan in plans_for(auth, node.hotline, out.hotline, now):
                heapq.heappush(queue, (plan.t_s, next(order), who, plan))
        wake = _timer_wake(node)
        if wake is not None and wake < tick_at.get(who, math.inf):
            tick_at[who] = wake
            heapq.heappush(queue, (max(wake, now), next(order), who, _TICK))

    now = 0.0
    while queue:
        now, _, who, item = heapq.heappop(queue)
        node = nodes[who]
        if item is _TICK:
            if tick_at.get(who) != now:
                continue  # superseded by an earlier wake-up
            del tick_at[who]
            out = node.tick(now)
        elif isinstance(item, Scheduled):
            out = node.emit(item.act(node.hotline, now), now)
        elif isinstance(item, RadarScan | IrScan):
            out = node.on_scan(item)
            run.track_events[who] += out.track_events
        else:
            msg_id = str(item)
            d = await fetch(who, msg_id)
            run.delivered += 1
            # The bus's sender is the deliverer (contract C4): the hop that carried it.
            out = node.on_message(d.data, now, deliverer=d.sender)
            run.rejected[who] += out.rejected
            for env in out.accepted:
                if env.recipient == who:
                    run.received_from[who].add(env.originator)
        await after(who, out)
        wake = node.next_wakeup_s()
        if item is not _TICK and wake is not None and wake <= now:
            await after(who, node.tick(now))  # an assessment round due by now
        if on_step is not None:
            more = on_step(who, node, now)
            if more is not None:
                await after(who, more)
    for who, node in nodes.items():
        await after(who, node.close(now))
        if node.audit is not None:
            node.audit.close()
    return run


def _timer_wake(node: NationalNode) -> float | None:
    """When the node's timed deadlines (desk, plug-ins) fall. Assessment rounds are
    served at the node's next input at or after they fall due: the simulated radars
    scan every few seconds, so an input always comes soon."""
    times = [t for t in (node.hotline.next_wakeup_s(),
                         *(p.next_wakeup_s() for p in node.plugins)) if t is not None]
    return min(times) if times else None


def run_federation(truth: Truth, policy: Policy, bus: Bus, seed: int,
                   nations: Sequence[str] = NATIONS,
                   rel_to: Mapping[str, Sequence[str]] | None = None,
                   audit_dir: Path | None = None,
                   on_step: Callable[[str, NationalNode, float], NodeOutput | None]
                   | None = None,
                   *,
                   sensors: Sequence[RadarSpec] | None = None,
                   outages: Sequence[SensorOutage] | None = None,
                   authorities: Mapping[str, SimAuthorities] | None = None,
                   desk_config: DeskConfig | None = None,
                   watch: Mapping[str, WatchConfig] | None = None,
                   on_output: Callable[[str, NationalNode, NodeOutput, float], None]
                   | None = None,
                   cuts: Sequence[LinkCut] = (),
                   ) -> FederationRun:
    """Synchronous wrapper of :func:`run_federation_async`."""
    return asyncio.run(run_federation_async(truth, policy, bus, seed, nations, rel_to,
                                            audit_dir, on_step=on_step, sensors=sensors,
                                            outages=outages, authorities=authorities,
                                            desk_config=desk_config, watch=watch,
                                            on_output=on_output, cuts=cuts))

