"""A lost link in live mode: each node holds what it sends on a cut hop until the link
returns (the simulation's cuts, ``trilink.sim.federation.held_until``), over a real
nats-server. Three wall-clock nodes; KOR's links are lost for a few seconds while JPN
opens a consultation with the USA and KOR: the USA has it at once, KOR only when its
links return."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from test_hotline_nats import ctl, make_nodes, until

from trilink.bus.server import nats_server
from trilink.hotline.desk import DeskConfig
from trilink.live import LiveNode
from trilink.sim.federation import LinkCut

CUT_S = 3.0


async def _lists(url: str, nation: str, cid: str) -> bool:
    listed = (await ctl(url, nation, op="list"))["consultations"]
    return cid in {c["consultation"] for c in listed}


def test_a_lost_link_holds_the_messages_on_it_until_it_returns(tmp_path: Path) -> None:
    async def run(url: str) -> dict[str, LiveNode]:
        nodes = make_nodes(url, DeskConfig(ack_deadline_s=30.0))
        t0 = next(iter(nodes.values())).now_s()  # node time (the wall clock here)
        cut = LinkCut("KOR", None, t0, t0 + CUT_S)
        for n, live in list(nodes.items()):
            nodes[n] = LiveNode(live.node, url, ack_wait_s=5.0, cuts=(cut,))
        for live in nodes.values():
            await live.start()
        try:
            cid = (await ctl(url, "JPN", op="open", parties=["USA", "KOR"],
                             topic="launch"))["consultation"]
            await until(lambda: _lists(url, "USA", cid), "the opening to reach the USA")
            # While the cut lasts KOR never has it (checked up to just before its end).
            while nodes["KOR"].now_s() < cut.to_s - 0.3:
                assert not await _lists(url, "KOR", cid), "delivered over a lost link"
                await asyncio.sleep(0.1)
            await until(lambda: _lists(url, "KOR", cid), "the opening to reach KOR")
            assert nodes["KOR"].now_s() >= cut.to_s
        finally:
            for live in nodes.values():
                await live.stop()
        return nodes

    with nats_server(tmp_path / "js") as url:
        started = time.monotonic()
        nodes = asyncio.run(run(url))
    assert nodes["JPN"].held_by_cuts >= 1  # its opening to KOR waited for the link
    assert time.monotonic() - started >= CUT_S
