"""Benchmark: a national node's throughput and its latency over raw JetStream (issue 4),
and the same node path on the three deployments side by side (issue 15).

Method of the first part in trilink/analysis/bench_federation.py (in-process throughput;
raw JetStream and node-path latency on one anonymous local server). The second part runs
JPN → USA through a real ``NatsBus`` on each side, one message in flight at a time
(sign → publish, PubAck → fetch → ack → ``on_message``), on:

- ``single_anonymous``: one nats-server, no authentication (development, the old set-up);
- ``single_auth``: one nats-server holding every nation's nkey users with the permissions
  of :mod:`trilink.live.natsconf` (``trilink live --single-server``);
- ``per_nation``: one nats-server per nation (JetStream domain each, leaf nodes to USA's
  server: :func:`trilink.live.launch.nation_servers`, what ``trilink live`` runs). JPN's
  node publishes into its outbox on JPN's server; USA's node reads it from USA's server
  through domain JPN (``$JS.JPN.API``), the bytes crossing the leaf link.

Each is measured for latency (p50/p99) and for drain throughput: JPN's whole traffic
(the 2022-11-02 day, as the first part) published first, then USA's node fetches it in
batches of 256 and takes every envelope (``on_message``, then ack) — track updates per
second through the transport. Ratios are taken against ``single_anonymous`` in the same
run. Usage:

    python bench/bench_federation.py [--quick]

Prints the JSON object and writes bench/results/federation.json (full runs only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from trilink.analysis.bench_federation import (
    NATIONS,
    _node_and_signer,
    _traffic,
    run_federation_benchmark,
)

RESULTS = Path(__file__).resolve().parent / "results" / "federation.json"
MODES = ("single_anonymous", "single_auth", "per_nation")


@contextlib.contextmanager
def deployment(mode: str, root: Path) -> Iterator[tuple[dict[str, str], Path | None]]:
    """Each nation's server URL for ``mode`` and the credentials folder (None: anonymous);
    streams provisioned by each nation's admin, links up."""
    from trilink.bus.server import free_port, nats_server
    from trilink.live import natsconf
    from trilink.live.launch import nation_servers, provision_streams, wait_links

    if mode == "single_anonymous":
        with nats_server(root / "js") as url:
            yield dict.fromkeys(NATIONS, url), None
        return
    creds = root / "nats"
    natsconf.write_credentials(creds, NATIONS, roles=natsconf.ROLES)
    if mode == "single_auth":
        port = free_port()
        conf = natsconf.write_server_config(root / "server.conf", creds / natsconf.USERS_FILE,
                                            store_dir=root / "js", port=port)
        with nats_server(root / "js", port=port, config=conf, log=root / "nats.log") as url:
            asyncio.run(provision_streams(url, NATIONS, creds))
            yield dict.fromkeys(NATIONS, url), creds
        return
    with nation_servers(root, creds, NATIONS, root) as urls:
        for n in NATIONS:
            asyncio.run(provision_streams(urls[n], [n], creds))
        asyncio.run(wait_links(urls, NATIONS, creds))
        yield urls, creds


async def _path(urls: dict[str, str], creds: Path | None, n_latency: int,
                traffic: list[tuple[float, bytes, int]], epoch: dt.datetime
                ) -> dict[str, Any]:
    from trilink.bus.nats import NatsBus
    from trilink.live.natsconf import ROLE_NODE, creds_options
    from trilink.sharing.envelope import Kind, encode

    def opts(n: str) -> dict[str, Any]:
        return {} if creds is None else creds_options(creds, n, ROLE_NODE)

    jpn = await NatsBus.connect(urls["JPN"], NATIONS, **opts("JPN"))
    usa = await NatsBus.connect(urls["USA"], NATIONS, **opts("USA"))
    sub = await usa._sub("JPN", "USA", 0)  # the bus's own durable, USA_from_JPN_p0
    node, signer = _node_and_signer(epoch)
    epoch_ns = int(epoch.timestamp()) * 1_000_000_000
    count = 0

    def seal(t: float, payload: bytes) -> bytes:
        return encode(signer.seal(kind=Kind.MISSILE_TRACK, originator="JPN", rel_to=NATIONS,
                                  recipient="USA", payload=payload,
                                  created_ns=epoch_ns + round(t * 1e9)))

    lat: list[float] = []
    for i in range(n_latency):
        t, payload, _ = traffic[i % len(traffic)]  # a new seq each time: no replay
        t0 = time.perf_counter()
        count += 1
        await jpn.send("JPN", "USA", f"JPN:lat{count}", seal(t, payload))
        msgs = await sub.fetch(1, timeout=5)
        await msgs[0].ack()
        node.on_message(bytes(msgs[0].data), t + 0.05, deliverer="JPN")
        lat.append(time.perf_counter() - t0)
    # Drain: the whole traffic published first, then taken in batches by a fresh US node.
    node = _node_and_signer(epoch)[0]
    wires = [(t, seal(t, p), n) for t, p, n in traffic]
    for _, data, _n in wires:
        count += 1
        await jpn.send("JPN", "USA", f"JPN:drain{count}", data)
    taken = updates = 0
    t0 = time.perf_counter()
    while taken < len(wires):
        msgs = await sub.fetch(256, timeout=5)
        for m in msgs:
            out = node.on_message(bytes(m.data), wires[taken][0] + 0.05, deliverer="JPN")
            await m.ack()
            updates += wires[taken][2] if out.accepted else 0
            taken += 1
    node.fused()
    drain_s = time.perf_counter() - t0
    await jpn.close()
    await usa.close()

    def pct(q: float) -> float:
        return 1e3 * float(np.percentile(lat, q))

    return {"p50_ms_node": pct(50), "p99_ms_node": pct(99), "latency_samples": n_latency,
            "drain_envelopes": len(wires), "drain_updates": updates,
            "drain_updates_per_s": updates / drain_s,
            "drain_envelopes_per_s": len(wires) / drain_s}


def deployments(quick: bool) -> dict[str, Any]:
    n_latency = 200 if quick else 2000
    traffic = _traffic("2022-10-04-irbm-overflight" if quick else "2022-11-02-day")
    epoch = (dt.datetime(2022, 10, 3, 22, 22, tzinfo=dt.UTC) if quick
             else dt.datetime(2022, 11, 1, 21, 51, tzinfo=dt.UTC))
    out: dict[str, Any] = {}
    for mode in MODES:
        with tempfile.TemporaryDirectory(prefix="trilink-fed-") as tmp, \
                deployment(mode, Path(tmp)) as (urls, creds):
            out[mode] = asyncio.run(_path(urls, creds, n_latency, traffic, epoch))
    base = out["single_anonymous"]
    for mode in MODES:
        out[mode]["vs_single_anonymous"] = {
            k: out[mode][k] / base[k] for k in ("p50_ms_node", "p99_ms_node",
                                                "drain_updates_per_s")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    result = run_federation_benchmark(quick=args.quick)
    result["deployments"] = deployments(args.quick)
    result["load_before"] = load_before
    result["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = json.dumps(result, indent=2)
    print(text)
    if not args.quick:
        RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()
