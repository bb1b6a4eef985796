"""A deterministic in-process network of national nodes for hotline tests.

Messages a node emits are delivered at their ``send_at_s`` (plus ``link_s``) unless the
``cut`` predicate drops them; desks are ticked at their wake-up times; simulated
authorities' plans run at theirs. Real nodes, real envelopes, real policy: only the
transport is a heap.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trilink.hotline.desk import DeskConfig, DeskOutput, HotlineDesk
from trilink.hotline.simulated import Act, ResponseModel, SimAuthorities
from trilink.node import NationalNode, NodeConfig, NodeOutput, partners_of
from trilink.sharing.audit import AuditLog
from trilink.sharing.envelope import generate_keys
from trilink.sharing.policy import Policy, policy_for

EPOCH = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
NATIONS = ("USA", "JPN", "KOR")


@dataclass
class Net:
    nodes: dict[str, NationalNode]
    authorities: dict[str, SimAuthorities] = field(default_factory=dict)
    cut: Callable[[str, str, float], bool] = lambda a, b, t: False
    link_s: float = 0.0
    now: float = 0.0
    dropped: int = 0
    delivered: int = 0
    rejected: dict[str, list[str]] = field(default_factory=dict)
    _queue: list[tuple[float, int, str, object]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)
    _tick_at: dict[str, float] = field(default_factory=dict)

    def desk(self, nation: str) -> HotlineDesk:
        return self.nodes[nation].hotline

    def do(self, nation: str, desk_out: DeskOutput) -> None:
        """Emit what an authority just did at ``now``."""
        self._handle(nation, self.nodes[nation].emit(desk_out, self.now))

    def open(self, opener: str, others: Sequence[str], topic: str = "launch") -> str:
        """``opener`` opens a consultation with ``others`` now; returns its id."""
        cid, out = self.desk(opener).open(self.now, others, topic)
        self.do(opener, out)
        return cid

    def open_and_join(self, opener: str, others: Sequence[str], topic: str = "launch",
                      step_s: float = 600.0) -> str:
        """Open, then let each of ``others`` join in turn, ``step_s`` of traffic apart."""
        cid = self.open(opener, others, topic)
        for n in others:
            self.run(until_s=self.now + step_s)
            self.do(n, self.desk(n).join(self.now, cid))
        self.run(until_s=self.now + step_s)
        return cid

    def at(self, t_s: float, nation: str, act: Act) -> None:
        heapq.heappush(self._queue, (t_s, next(self._order), nation, act))

    def _handle(self, nation: str, out: NodeOutput) -> None:
        for o in out.outgoing:
            if self.cut(nation, o.next_hop, self.now):
                self.dropped += 1
                continue
            heapq.heappush(self._queue, (max(o.send_at_s, self.now) + self.link_s,
                                         next(self._order), o.next_hop, o.data))
        auth = self.authorities.get(nation)
        if auth is not None:
            for plan in auth.react(self.desk(nation), out.hotline, self.now):
                self.at(plan.t_s, nation, plan.act)
        wake = self.desk(nation).next_wakeup_s()
        if wake is not None and wake < self._tick_at.get(nation, float("inf")):
            self._tick_at[nation] = wake
            heapq.heappush(self._queue, (max(wake, self.now), next(self._order), nation,
                                         "tick"))

    def run(self, until_s: float = float("inf")) -> None:
        while self._queue and self._queue[0][0] <= until_s:
            self.now, _, who, item = heapq.heappop(self._queue)
            node = self.nodes[who]
            if isinstance(item, bytes):
                self.delivered += 1
                out = node.on_message(item, self.now)
                self.rejected.setdefault(who, []).extend(out.rejected)
            elif item == "tick":
                if self._tick_at.get(who) != self.now:
                    continue
                del self._tick_at[who]
                out = node.tick(self.now)
            else:
                assert callable(item)
                out = node.emit(item(node.hotline, self.now), self.now)
            self._handle(who, out)
        self.now = max(self.now, until_s) if until_s != float("inf") else self.now


def make_net(policy: Policy | None = None, nations: Sequence[str] = NATIONS,
             audit_dir: Path | None = None, config: DeskConfig | None = None,
             models: dict[str, ResponseModel] | None = None, seed: int = 0,
             epoch: dt.datetime = EPOCH) -> Net:
    policy = policy or policy_for("trilateral-realtime")
    keys, registry = generate_keys(nations, seed=b"hotline-test")
    nodes = {}
    for n in nations:
        audit = AuditLog(audit_dir / f"{n}.sqlite", durable=False) if audit_dir else None
        nodes[n] = NationalNode(NodeConfig(n, partners_of(n, nations), tuple(nations)),
                                policy, keys[n], registry, epoch, audit, desk_config=config)
    net = Net(nodes)
    for n, model in (models or {}).items():
        net.authorities[n] = SimAuthorities(n, model, seed)
    return net
