"""Benchmark: a national node's throughput and the latency it adds over raw JetStream.

Throughput: a US node takes a stream of Japan's signed track envelopes (real track
states from a tracker run of the 2022-10-04 flight, re-signed with increasing sequence
numbers) through ``NationalNode.on_message`` — decode, verify (Ed25519), the policy's
second check, fusion — on one core; the figure is track updates per second, with the
split between verification and the rest.

Latency, side by side in one run against one local nats-server: raw nats-py JetStream
(publish → pull fetch → ack) and the node path (sign → publish → fetch → ack →
``on_message``), one message in flight at a time; p50 and p99 in milliseconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from trilink.node import NationalNode, NodeConfig, encode_tracks
from trilink.sharing.envelope import Kind, Signer, encode, generate_keys
from trilink.sharing.policy import Policy
from trilink.sim.flights import fly_scenarios
from trilink.sim.scenario import load_scenario
from trilink.sim.tracking import run_tracker
from trilink.sim.truth import Truth
from trilink.tracking.tracker import EventKind

NATIONS = ("USA", "JPN", "KOR")


def _traffic(scenario: str = "2022-11-02-day") -> list[tuple[float, bytes, int]]:
    """What Japan's node would share, scan by scan: (time, payload, track updates in it).

    The updates of one scan travel in one envelope, as the node sends them."""
    truth = Truth.from_launch_flights(fly_scenarios([load_scenario(scenario)]))
    run = run_tracker(truth, "JPN", seed=1)
    by_time: dict[float, list[Any]] = {}
    for e in run.events:
        if e.kind == EventKind.UPDATED:
            by_time.setdefault(e.t_s, []).append(e)
    return [(t, encode_tracks(evs), len(evs)) for t, evs in sorted(by_time.items())]


def _node_and_signer(epoch: dt.datetime) -> tuple[NationalNode, Signer]:
    keys, registry = generate_keys(NATIONS, seed=b"bench")
    policy = Policy.for_regime("trilateral-realtime")
    node = NationalNode(NodeConfig("USA", ("JPN", "KOR"), NATIONS), policy, keys["USA"],
                        registry, epoch)
    return node, Signer(keys["JPN"])


def throughput(traffic: list[tuple[float, bytes, int]], repeats: int) -> dict[str, float]:
    """A US node takes Japan's traffic (``repeats`` times over, later copies shifted in
    time past the replay window), then its fused picture is read once."""
    epoch = dt.datetime(2022, 11, 1, 21, 51, tzinfo=dt.UTC)
    node, signer = _node_and_signer(epoch)
    epoch_ns = int(epoch.timestamp()) * 1_000_000_000
    span = traffic[-1][0] + 4 * 3600.0
    items = [(k * span + t, p, n) for k in range(repeats) for t, p, n in traffic]
    wires = [encode(signer.seal(kind=Kind.MISSILE_TRACK, originator="JPN", rel_to=NATIONS,
                                recipient="USA", payload=p,
                                created_ns=epoch_ns + round(t * 1e9)))
             for t, p, _ in items]
    updates = sum(n for _, _, n in items)
    t0 = time.perf_counter()
    for data, (t, _, _) in zip(wires, items, strict=True):
        node.on_message(data, t + 0.05)
    node.fused()  # the picture as a reader sees it
    total = time.perf_counter() - t0
    fresh, _ = _node_and_signer(epoch)
    t1 = time.perf_counter()
    for data, (t, _, _) in zip(wires, items, strict=True):
        fresh.verifier.check(data, epoch_ns + round((t + 0.05) * 1e9))
    verify = time.perf_counter() - t1
    return {"updates": updates, "envelopes": len(items),
            "updates_per_envelope": updates / len(items),
            "updates_per_s": updates / total, "us_per_update": 1e6 * total / updates,
            "verify_us_per_update": 1e6 * verify / updates}


async def _latency(url: str, n: int) -> dict[str, float]:
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="RAW", subjects=["raw.>"]))
    await js.add_stream(StreamConfig(name="OUTBOX_JPN", subjects=["trilink.JPN.>"]))
    raw_sub = await js.pull_subscribe("raw.x", durable="raw", stream="RAW",
                                      config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT))
    node_sub = await js.pull_subscribe("trilink.JPN.USA.p0", durable="usa", stream="OUTBOX_JPN",
                                       config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT))
    payloads = [(t, p) for t, p, _ in _traffic("2022-10-04-irbm-overflight")]
    epoch = dt.datetime(2022, 10, 3, 22, 22, tzinfo=dt.UTC)
    node, signer = _node_and_signer(epoch)
    epoch_ns = int(epoch.timestamp()) * 1_000_000_000

    async def one(sub: Any, subject: str, data: bytes) -> None:
        await js.publish(subject, data)
        msgs = await sub.fetch(1, timeout=5)
        await msgs[0].ack()

    raw, via_node = [], []
    for i in range(n):
        t, p = payloads[i % len(payloads)]
        t0 = time.perf_counter()
        await one(raw_sub, "raw.x", p)
        raw.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        env = signer.seal(kind=Kind.MISSILE_TRACK, originator="JPN", rel_to=NATIONS,
                          recipient="USA", payload=p, created_ns=epoch_ns + round(t * 1e9))
        data = encode(env)
        await js.publish("trilink.JPN.USA.p0", data)
        msgs = await node_sub.fetch(1, timeout=5)
        await msgs[0].ack()
        node.on_message(bytes(msgs[0].data), t + 0.05)
        via_node.append(time.perf_counter() - t0)
    await nc.close()

    def pct(xs: list[float], q: float) -> float:
        return 1e3 * float(np.percentile(xs, q))

    return {"p50_ms_raw": pct(raw, 50), "p99_ms_raw": pct(raw, 99),
            "p50_ms_node": pct(via_node, 50), "p99_ms_node": pct(via_node, 99),
            "latency_samples": n}


def run_federation_benchmark(quick: bool = False) -> dict[str, Any]:
    from trilink.bus.server import nats_server

    n_latency = 200 if quick else 2000
    result: dict[str, Any] = {
        "benchmark": "national node throughput and latency over raw JetStream",
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "targets": {"updates_per_s": 20000, "p99_node_over_raw": 2.0},
    }
    traffic = _traffic("2022-10-04-irbm-overflight" if quick else "2022-11-02-day")
    result["throughput_scenario"] = "2022-10-04-irbm-overflight" if quick else "2022-11-02-day"
    result.update(throughput(traffic, repeats=1 if quick else 5))
    with tempfile.TemporaryDirectory() as tmp, nats_server(Path(tmp) / "js") as url:
        result.update(asyncio.run(_latency(url, n_latency)))
    result["p99_node_over_raw"] = result["p99_ms_node"] / result["p99_ms_raw"]
    result["met"] = {
        "updates_per_s": result["updates_per_s"] >= 20000,
        "p99_node_over_raw": result["p99_node_over_raw"] <= 2.0,
    }
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} cpus, Python " \
                        f"{platform.python_version()}"
    return result
