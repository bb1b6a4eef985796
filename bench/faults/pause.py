"""Fault 1: SIGSTOP mid-stream, SIGCONT after --fault-s, of the receiving US node's
process (``pause_node``) or of JPN's nats-server (``pause_server``, the sender's own
server: its outbox stream and JetStream domain).

A frozen process (a GC pause, a VM stall): its TCP connections stay up. A frozen node:
JetStream keeps what JPN sends and redelivers what it did not ack. A frozen server: JPN's
publishes get no PubAck (JPN keeps them in its outbox and retries), the US node's reads
through JPN's domain time out, the sensor feed's scans sit in the socket. Checked:
nothing acked is lost, nothing applied twice, no releasability leak, both audits verify;
measured: seconds from SIGCONT until the US audit holds every envelope JPN had sealed
for it by then.

    .venv/bin/python bench/faults/pause.py [--quick] [--target node|server|both]
"""

from __future__ import annotations

import asyncio
import signal
import time
from functools import partial
from typing import Any

from _harness import Run, folder, parser, run_cases, settings

FAULT_AT_S = 100.0  # scenario seconds: tracks are being shared by then


def one(target: str, speed: float, fault_s: float, keep: Any) -> dict[str, Any]:
    where, tmp = folder(keep)
    run = Run(where, speed)

    async def freeze(r: Run) -> dict[str, Any]:
        proc = r.usa if target == "node" else r.fed.servers["JPN"].proc
        assert proc is not None
        at_stop = len(r.received())
        proc.send_signal(signal.SIGSTOP)
        t0 = time.time()
        await asyncio.sleep(fault_s)
        during = len(r.received())
        sealed = len(r.sent_to_usa())
        proc.send_signal(signal.SIGCONT)
        t1 = time.time()
        # What JPN had sealed by then, and what it seals from what waited in its outbox.
        r.caught_task = asyncio.create_task(  # type: ignore[attr-defined]
            r.caught_up(r.sent_to_usa(), t1))
        what = ("the US node process" if target == "node" else "JPN's nats-server")
        return {"kind": f"SIGSTOP/SIGCONT of {what}", "stopped_wall_s": round(t1 - t0, 2),
                "received_before_stop": at_stop, "received_while_stopped": during - at_stop,
                "sealed_for_usa_at_resume": sealed}

    async def go() -> dict[str, Any]:
        end = await run.go(FAULT_AT_S, freeze)
        end["fault"]["catch_up_after_resume_s"] = await run.caught_task  # type: ignore[attr-defined]
        return end

    res = run.outcome(asyncio.run(go()))
    if tmp is not None:
        tmp.cleanup()
    return res


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--target", choices=("node", "server", "both"), default="both")
    a = p.parse_args()
    speed, fault_s = settings(a)
    targets = ("node", "server") if a.target == "both" else (a.target,)
    run_cases(a, [(f"pause_{t}", t, partial(one, t, speed, fault_s)) for t in targets])


if __name__ == "__main__":
    main()
