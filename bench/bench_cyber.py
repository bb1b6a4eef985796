"""Throughput of indicator sharing, objects per second per node, and TAXII serving
measured side by side with medallion (the OASIS reference TAXII server) in one run.

1. publish: one node's book takes N STIX indicators (TLP normalisation, stix2-validator
   on every object, storage, share planning) — objects/s at the sender.
2. node to node: the sender's node seals the shares into signed cyber envelopes; the
   receiving node verifies them, re-checks the policy and its plug-in validates and stores
   every object — objects/s at the receiver (end to end, in process, no network).
3. TAXII: taxii2-client pages N objects out of our server and out of medallion (memory
   backend) on loopback, 100 per page — objects/s each, and the ratio.

Usage:

    python bench/bench_cyber.py [--n 2000] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from cyber_helpers import EPOCH, free_port, indicator, serve
from taxii2client.v21 import Collection, as_pages

from trilink.cyber.book import CyberBook
from trilink.cyber.plugin import CyberPlugin
from trilink.cyber.regimes import cyber_policy
from trilink.cyber.store import collection_id
from trilink.cyber.taxii import Credentials, taxii_app
from trilink.node import NationalNode, NodeConfig, partners_of
from trilink.sharing.envelope import generate_keys

NATIONS = ("USA", "JPN", "KOR")
TRI = frozenset(NATIONS)


def bench_publish_and_node(n: int) -> dict[str, float]:
    policy = cyber_policy("cyber-trilateral-2024")
    keys, registry = generate_keys(NATIONS, seed=b"bench-cyber")
    plugins = {x: CyberPlugin(CyberBook(x, NATIONS, policy, EPOCH)) for x in NATIONS}
    nodes = {x: NationalNode(NodeConfig(x, partners_of(x, NATIONS), NATIONS), policy,
                             keys[x], registry, EPOCH, plugins=[plugins[x]]) for x in NATIONS}
    objs = [indicator(i, "JPN") for i in range(n)]
    plugins["JPN"].submit(objs, NATIONS, at_s=1.0)
    t0 = time.perf_counter()
    out = nodes["JPN"].tick(1.0)
    t_pub = time.perf_counter() - t0
    to_kor = [o for o in out.outgoing if o.next_hop == "KOR"]
    t0 = time.perf_counter()
    stored = 0
    for o in to_kor:
        got = nodes["KOR"].on_message(o.data, o.send_at_s, deliverer="JPN")
        stored += sum(len(getattr(e, "object_ids", ())) for e in got.kind_events)
    t_recv = time.perf_counter() - t0
    held = sum(1 for i in plugins["KOR"].book.store.items if i.obj["type"] == "indicator")
    assert held == n, (held, n)
    return {"publish_objects_per_s": n / t_pub, "receive_objects_per_s": n / t_recv,
            "envelopes_to_KOR": float(len(to_kor))}


def _pull(url: str, user: str, password: str, per_request: int = 100) -> tuple[int, float]:
    coll = Collection(url, user=user, password=password)
    t0 = time.perf_counter()
    ids = [o["id"] for env in as_pages(coll.get_objects, per_request=per_request)
           for o in env.get("objects", [])]
    dt_s = time.perf_counter() - t0
    assert len(ids) == len(set(ids))
    return len(ids), dt_s


def bench_taxii(n: int) -> dict[str, float]:
    objs = [indicator(i, "JPN") for i in range(n)]
    book = CyberBook("JPN", NATIONS, cyber_policy("cyber-trilateral-2024"), EPOCH)
    book.store.add(objs, originator="JPN", rel_to=TRI, date_added=EPOCH)
    creds, handed = Credentials.issue(list(NATIONS))
    user, secret = handed["KOR"]
    with serve(taxii_app(book, creds, clock=lambda: EPOCH + dt.timedelta(hours=1))) as base:
        got, ours_s = _pull(f"{base}/api21/collections/{collection_id(TRI)}/", user, secret)
    assert got == n
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        cid = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
        data = {"/discovery": {"title": "peer", "default": f"{base}/peer/",
                               "api_roots": [f"{base}/peer/"]},
                "peer": {"information": {"title": "peer", "versions": [
                    "application/taxii+json;version=2.1"], "max_content_length": 100_000_000},
                    "status": [], "collections": [{
                        "id": cid, "title": "bench", "can_read": True, "can_write": True,
                        "media_types": ["application/stix+json;version=2.1"],
                        "objects": [], "manifest": []}]}}
        Path(tmp, "data.json").write_text(json.dumps(data), encoding="utf-8")
        Path(tmp, "config.json").write_text(json.dumps({
            "backend": {"module": "medallion.backends.memory_backend",
                        "module_class": "MemoryBackend", "filename": f"{tmp}/data.json"},
            "users": {"u": "p"}, "taxii": {"max_page_size": 100}}), encoding="utf-8")
        exe = Path(sys.executable).with_name("medallion")
        proc = subprocess.Popen([str(exe), "--host", "127.0.0.1", "--port", str(port),
                                 f"{tmp}/config.json"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            url = f"{base}/peer/collections/{cid}/"
            for _ in range(150):
                try:
                    Collection(url, user="u", password="p").refresh()
                    break
                except Exception:
                    time.sleep(0.2)
            coll = Collection(url, user="u", password="p")
            for i in range(0, n, 500):
                coll.add_objects({"objects": objs[i:i + 500]})
            got_m, med_s = _pull(url, "u", "p")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return {"taxii_trilink_objects_per_s": n / ours_s,
            "taxii_medallion_objects_per_s": got_m / med_s,
            "medallion_objects_returned": float(got_m),
            "ratio_trilink_over_medallion": (n / ours_s) / (got_m / med_s)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result: dict[str, Any] = {"n": args.n, "python": platform.python_version(),
                              "machine": platform.machine(),
                              "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    result.update(bench_publish_and_node(args.n))
    result.update(bench_taxii(args.n))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:36s} {v:,.1f}" if isinstance(v, float) else f"{k:36s} {v}")


if __name__ == "__main__":
    main()
