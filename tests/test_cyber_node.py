"""Three national nodes exchange a STIX bundle under two regimes, releasability checked at
both ends (the sender's book, the node's policy check, the receiver's TLP check)."""

from __future__ import annotations

import heapq
import json
from typing import Any

from cyber_helpers import EPOCH, indicator

from trilink.cyber.book import CyberBook, ObjectsStored, Refused
from trilink.cyber.plugin import CyberPlugin
from trilink.cyber.regimes import cyber_policy
from trilink.cyber.tlp import Tlp
from trilink.node import NationalNode, NodeConfig, Outgoing, partners_of
from trilink.sharing.envelope import Kind, Signer, encode, generate_keys

NATIONS = ("USA", "JPN", "KOR")
KEYS, REGISTRY = generate_keys(NATIONS, seed=b"cyber-test")


def federation(regime: str) -> tuple[dict[str, NationalNode], dict[str, CyberPlugin]]:
    policy = cyber_policy(regime)
    plugins = {n: CyberPlugin(CyberBook(n, NATIONS, policy, EPOCH)) for n in NATIONS}
    nodes = {n: NationalNode(NodeConfig(n, partners_of(n, NATIONS), NATIONS), policy,
                             KEYS[n], REGISTRY, EPOCH, plugins=[plugins[n]])
             for n in NATIONS}
    return nodes, plugins


def run(nodes: dict[str, NationalNode], until_s: float) -> tuple[list[Any], list[str]]:
    """Tick every node and carry every message at its time; returns kind events, rejections."""
    queue: list[tuple[float, int, str, str, bytes]] = []
    events: list[Any] = []
    rejected: list[str] = []
    n = 0

    def carry(sender: str, outs: list[Outgoing]) -> None:
        nonlocal n
        for o in outs:
            heapq.heappush(queue, (o.send_at_s, n, sender, o.next_hop, o.data))
            n += 1

    t = 0.0
    while t <= until_s:
        wakes = [w for w in (node.next_wakeup_s() for node in nodes.values()) if w is not None]
        nxt = min([*(w for w in wakes), *(q[0] for q in queue[:1])], default=None)
        if nxt is None:
            break
        t = max(t, nxt)
        for name, node in nodes.items():
            w = node.next_wakeup_s()
            if w is not None and w <= t:
                out = node.tick(t)
                events += out.kind_events
                carry(name, out.outgoing)
        while queue and queue[0][0] <= t:
            at, _, sender, to, data = heapq.heappop(queue)
            out = nodes[to].on_message(data, at, deliverer=sender)
            events += out.kind_events
            rejected += out.rejected
            carry(to, out.outgoing)
    return events, rejected


def held(plugin: CyberPlugin) -> set[str]:
    return {i.id for i in plugin.book.store.items if i.obj["type"] == "indicator"}


def test_three_nodes_share_a_bundle_under_two_regimes() -> None:
    green, amber = indicator(1, "KOR", Tlp.GREEN), indicator(2, "KOR", Tlp.AMBER)
    red = indicator(3, "KOR", Tlp.RED)
    results = {}
    for regime in ("cyber-bilateral-2023", "cyber-trilateral-2024"):
        nodes, plugins = federation(regime)
        plugins["KOR"].submit([green, amber, red], NATIONS, at_s=60.0)
        events, _ = run(nodes, 7200.0)
        results[regime] = {n: held(p) for n, p in plugins.items()}
        stored = [e for e in events if isinstance(e, ObjectsStored) and e.nation != "KOR"]
        assert all(e.originator == "KOR" for e in stored)
    both = {green["id"], amber["id"]}
    assert results["cyber-trilateral-2024"] == {"KOR": both | {red["id"]}, "USA": both,
                                                "JPN": both}
    # 2023: no Japan-ROK cyber channel; the USA does not pass KOR's items on
    assert results["cyber-bilateral-2023"] == {"KOR": both | {red["id"]}, "USA": both,
                                               "JPN": set()}


def _sealed(origin: str, to: str, objs: list[dict[str, Any]], t_s: float,
            via: tuple[str, ...] = ()) -> bytes:
    payload = json.dumps({"type": "bundle", "id": "bundle--5e6f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
                          "objects": objs}).encode()
    env = Signer(KEYS[origin], first_seq=1000 + int(t_s)).seal(
        kind=Kind.CYBER_INDICATOR, originator=origin, rel_to=NATIONS, recipient=to,
        payload=payload, created_ns=int(EPOCH.timestamp() * 1e9) + int(t_s * 1e9), via=via)
    return encode(env)


def test_the_receiving_end_checks_again() -> None:
    # a signed KOR envelope that the 2023 agreements do not allow: the node refuses it
    nodes, plugins = federation("cyber-bilateral-2023")
    out = nodes["JPN"].on_message(_sealed("KOR", "JPN", [indicator(1, "KOR")], 10.0), 10.0,
                                  deliverer="KOR")
    assert out.rejected and not held(plugins["JPN"])
    # allowed by the agreements, but TLP:RED and bad STIX: the plug-in refuses, audited
    nodes, plugins = federation("cyber-trilateral-2024")
    bad = {"type": "indicator", "spec_version": "2.1", "id": "indicator--x", "pattern": "["}
    out = nodes["JPN"].on_message(
        _sealed("KOR", "JPN", [indicator(2, "KOR", Tlp.RED), bad, indicator(3, "KOR")], 20.0),
        20.0, deliverer="KOR")
    refused = [e for e in out.kind_events if isinstance(e, Refused)]
    assert refused and len(refused[0].problems) == 2
    assert any("TLP:RED" in p for p in refused[0].problems)
    assert held(plugins["JPN"]) == {indicator(3, "KOR")["id"]}


def test_a_taxii_add_goes_out_on_the_next_tick() -> None:
    import datetime as dt

    nodes, plugins = federation("cyber-trilateral-2024")
    ok, failed = plugins["JPN"].book.ingest([indicator(7, "JPN")], "JPN",
                                            frozenset(NATIONS), EPOCH + dt.timedelta(seconds=5))
    assert [i for i, _ in ok] == [indicator(7, "JPN")["id"]] and not failed
    assert nodes["JPN"].next_wakeup_s() is not None
    out = nodes["JPN"].tick(5.0)
    assert {o.next_hop for o in out.outgoing} == {"KOR", "USA"}
    for o in out.outgoing:
        nodes[o.next_hop].on_message(o.data, o.send_at_s, deliverer="JPN")
    for n in ("USA", "KOR"):
        assert held(plugins[n]) == {indicator(7, "JPN")["id"]}
