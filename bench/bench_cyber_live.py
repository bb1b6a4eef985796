"""Indicator sharing through live nodes over a real nats-server: objects per second per
node, in one run (under a minute with the defaults).

Three live nodes (USA, JPN, KOR; ``cyber-trilateral-2024``) in one process, one asyncio
loop, on a nats-server on 127.0.0.1. KOR's operator publishes N STIX indicators
(TLP:GREEN) through KOR's control API (``cyber_submit``, as ``trilink cyber publish``
sends them: batches under the 64 KiB request limit).

1. *sender*: only KOR's node is connected. From the first request to the last reply
   (each reply comes after the node has validated with stix2-validator, stored,
   planned, signed and handed every envelope to JetStream): objects/s at the sender.
2. *receiver*: then the USA's node alone connects and drains its JetStream backlog
   (fetch, verify, policy, plug-in check with stix2-validator, store, ack) until it
   holds all N: objects/s at one receiver. Then JPN's, the same.
3. *end to end*: all three connected, KOR publishes M more; from the first request
   until both partners hold all M: objects/s delivered to each partner while the
   three nodes share one process (and one core: the GIL).

    python bench/bench_cyber_live.py [--n 1000] [--m 500] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from cyber_helpers import indicator

from trilink.bus.server import nats_server
from trilink.cli.cyber import request_batches
from trilink.cyber.plugin import mounted
from trilink.cyber.regimes import cyber_policy
from trilink.live.client import request
from trilink.live.node import LiveNode, live_cyber_node
from trilink.sharing.envelope import generate_keys

NATIONS = ("USA", "JPN", "KOR")
REGIME = "cyber-trilateral-2024"


def held(live: LiveNode) -> int:
    p = mounted(live.node.plugins)
    assert p is not None
    return sum(1 for i in p.book.store.items
               if i.originator == "KOR" and i.obj["type"] == "indicator")


async def until(cond: Callable[[], bool], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError("benchmark stalled")
        await asyncio.sleep(0.005)


async def publish(url: str, objs: list[dict[str, Any]]) -> tuple[float, int]:
    """KOR's operator publishes ``objs``; wall seconds and control requests used."""
    batches = request_batches(list(objs))
    t0 = time.perf_counter()
    for b in batches:
        reply = await request(url, "KOR", {"op": "cyber_submit", "objects": b},
                              timeout_s=60.0)
        if not reply["ok"] or len(reply["stored"]) != len(b):
            raise RuntimeError(f"KOR refused the batch: {reply}")
    return time.perf_counter() - t0, len(batches)


async def run(url: str, n: int, m: int) -> dict[str, Any]:
    keys, registry = generate_keys(NATIONS, seed=b"bench-cyber-live")
    policy = cyber_policy(REGIME)
    nodes = {x: LiveNode(live_cyber_node(x, keys[x], registry, policy, NATIONS), url,
                         ack_wait_s=60.0) for x in NATIONS}
    kor, usa, jpn = nodes["KOR"], nodes["USA"], nodes["JPN"]
    out: dict[str, Any] = {}
    # warm up stix2-validator (its first object builds the schemas) outside the timing
    await kor.control({"op": "cyber_submit", "objects": [indicator(10**6, "KOR")],
                       "rel_to": ["KOR"]})
    await kor.start()
    first = [indicator(i, "KOR") for i in range(n)]
    t_send, requests = await publish(url, first)
    out["sender_objects_per_s"] = n / t_send
    out["sender_requests"] = requests
    out["sender_envelopes"] = kor.sent
    for name, live in (("USA", usa), ("JPN", jpn)):
        t0 = time.perf_counter()
        await live.start()
        await until(lambda: held(live) >= n)  # noqa: B023 (awaited in this iteration)
        out[f"receiver_{name}_objects_per_s"] = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    more = [indicator(n + i, "KOR") for i in range(m)]
    t_pub, _ = await publish(url, more)
    done: dict[str, float] = {}

    def both() -> bool:
        for name, live in (("USA", usa), ("JPN", jpn)):
            if name not in done and held(live) >= n + m:
                done[name] = time.perf_counter() - t0
        return len(done) == 2

    await until(both)
    out["end_to_end_publish_objects_per_s"] = m / t_pub
    for name, t in sorted(done.items()):
        out[f"end_to_end_{name}_objects_per_s"] = m / t
    for live in nodes.values():
        await live.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="indicators for phases 1 and 2")
    ap.add_argument("--m", type=int, default=500, help="indicators for phase 3")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result: dict[str, Any] = {"n": args.n, "m": args.m, "regime": REGIME,
                              "python": platform.python_version(),
                              "machine": platform.machine(),
                              "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, nats_server(Path(tmp) / "js") as url:
        result.update(asyncio.run(run(url, args.n, args.m)))
    result["wall_s"] = time.perf_counter() - t0
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:36s} {v:,.1f}" if isinstance(v, float) else f"{k:36s} {v}")


if __name__ == "__main__":
    main()
