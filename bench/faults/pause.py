"""Fault 1: SIGSTOP of the receiving US node process mid-stream, SIGCONT after --fault-s.

A frozen process (a GC pause, a VM stall): its TCP connection stays up, JetStream keeps
what JPN sends and redelivers what the frozen consumer did not ack. Checked: nothing
acked is lost, nothing applied twice, both audits verify; measured: seconds from
SIGCONT until the US audit holds every envelope JPN had sealed for it by then.

    .venv/bin/python bench/faults/pause.py [--quick]
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

from _harness import Run, Server, folder, load, parser, publish, settings

FAULT_AT_S = 100.0  # scenario seconds: tracks are being shared by then


def main() -> None:
    a = parser(__doc__).parse_args()
    speed, fault_s = settings(a)
    before = load()
    where, tmp = folder(a.keep)
    run = Run(where, speed)
    server = Server(where / "js", log=where / "nats.log")

    async def freeze(r: Run) -> dict[str, Any]:
        assert r.usa is not None
        at_stop = len(r.received())
        r.usa.send_signal(signal.SIGSTOP)
        t0 = time.time()
        await asyncio.sleep(fault_s)
        during = len(r.received())
        r.usa.send_signal(signal.SIGCONT)
        t1 = time.time()
        target = r.sent_to_usa()
        caught = asyncio.create_task(r.caught_up(target, t1))
        await asyncio.sleep(0)
        r.caught_task = caught  # type: ignore[attr-defined]
        return {"kind": "SIGSTOP/SIGCONT of the US node process", "stopped_wall_s":
                round(t1 - t0, 2), "received_before_stop": at_stop,
                "received_while_stopped": during - at_stop,
                "sealed_for_usa_at_resume": len(target)}

    async def go() -> dict[str, Any]:
        server.start()
        try:
            end = await run.go(server.url, server.url, FAULT_AT_S, freeze)
            end["fault"]["catch_up_after_resume_s"] = await run.caught_task  # type: ignore[attr-defined]
            return end
        finally:
            server.stop()

    res = run.outcome(asyncio.run(go()))
    res["load_before"] = before
    publish("pause", "quick" if a.quick else "full", res)
    if tmp is not None:
        tmp.cleanup()
    raise SystemExit(0 if res["ok"] else 1)


if __name__ == "__main__":
    main()
