"""Fault 3: a network partition between two nations' servers, JPN's and the US hub's,
for --fault-s: the leaf link over which the US node reads JPN's outbox (through JPN's
JetStream domain) is cut; each node keeps its own server.

Two ways to cut it, chosen by --mode (auto: netns if this machine lets us); see
tests/fault_federation.py:

- ``netns`` (real): JPN's nats-server runs in its own network namespace, its leaf link
  to the hub on one veth pair, its clients (JPN's node, the sensor feed) on another; the
  cut sets the namespace's end of the leaf veth down (packets dropped both ways, no RST,
  the sockets stay open), the heal sets it up again. Needs root (CAP_NET_ADMIN).
- ``proxy`` (emulated): JPN's server dials the hub through a TCP proxy in this script;
  the cut stops forwarding both ways (bytes held, not dropped).

Checked: nothing acked lost, nothing applied twice, no releasability leak, both audits
verify; JPN keeps sealing and getting PubAcks from its own server during the cut (the
partitioned side keeps working); measured: seconds from the heal until the US audit
holds every envelope JPN had sealed for it (the partitioned nation's catch-up).

    .venv/bin/python bench/faults/partition.py [--quick] [--mode auto|netns|proxy]
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from _harness import (
    ACKED,
    Federation,
    Run,
    folder,
    load,
    netns_works,
    parser,
    publish,
    settings,
    variant,
)

FAULT_AT_S = 100.0  # scenario seconds: tracks are being shared by then


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--mode", choices=("auto", "netns", "proxy"), default="auto")
    a = p.parse_args()
    speed, fault_s = settings(a)
    mode = a.mode if a.mode != "auto" else ("netns" if netns_works() else "proxy")
    before = load()
    where, tmp = folder(a.keep)
    run = Run(where, speed, Federation(where / "fed", cut=mode, cut_nation="JPN"))

    async def cut(r: Run) -> dict[str, Any]:
        at_cut, acked_at_cut = len(r.received()), len(ACKED)
        t0 = time.time()
        r.fed.cut_link(True)
        await asyncio.sleep(fault_s)
        during, acked_during = len(r.received()) - at_cut, len(ACKED) - acked_at_cut
        r.fed.cut_link(False)
        t1 = time.time()
        r.caught_task = asyncio.create_task(  # type: ignore[attr-defined]
            r.caught_up(r.sent_to_usa(), t1))
        return {"kind": f"partition JPN's server <-> the US hub's server ({mode})",
                "mode": mode, "cut_wall_s": round(t1 - t0, 2), "received_before_cut": at_cut,
                "received_while_cut": during, "jpn_pubacks_while_cut": acked_during,
                "sealed_for_usa_at_heal": len(r.sent_to_usa())}

    async def go() -> dict[str, Any]:
        end = await run.go(FAULT_AT_S, cut)
        end["fault"]["catch_up_after_heal_s"] = await run.caught_task  # type: ignore[attr-defined]
        return end

    res = run.outcome(asyncio.run(go()))
    usa_log = (where / "USA.log").read_text(errors="replace").splitlines()
    res["fault"]["usa_log_lines"] = [x for x in usa_log if "connect" in x or "rror" in x][:4]
    res["load_before"] = before
    publish("partition" if mode == "netns" else "partition_proxy",
            variant(a), res)
    if tmp is not None:
        tmp.cleanup()
    raise SystemExit(0 if res["ok"] else 1)


if __name__ == "__main__":
    main()
