"""Fault 2: nats-server killed with SIGKILL mid-stream, restarted after --fault-s on the
same store folder and port.

Both nodes are connected to that server: they must ride it out (nats-py reconnects;
JPN keeps what it could not hand over in its outbox and retries). Checked: every
envelope JetStream acked before the kill survives in the file store and reaches the US,
nothing is applied twice, both audits verify; measured: seconds from the restart until
JPN reconnected and until the US audit holds every envelope JPN had sealed for it.
The sensor feed rides the outage out too: the scans published while the server is down
are kept and sent once JPN's node listens again; checked: JPN's node takes every scan.

    .venv/bin/python bench/faults/broker_kill.py [--quick]
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from _harness import ACKED, Run, Server, folder, jpn_lines, load, parser, publish, settings

FAULT_AT_S = 100.0  # scenario seconds: tracks are being shared by then


def main() -> None:
    a = parser(__doc__).parse_args()
    speed, fault_s = settings(a)
    before = load()
    where, tmp = folder(a.keep)
    run = Run(where, speed)
    server = Server(where / "js", log=where / "nats.log")

    async def kill(r: Run) -> dict[str, Any]:
        acked_before = {m for _, hop, m in ACKED if hop == "USA"}
        t0 = time.time()
        server.kill()  # no goodbye: whatever was not fsynced by JetStream is at risk
        await asyncio.sleep(fault_s)
        sealed_during = len(r.sent_to_usa())
        server.start()  # same store folder, same port
        t1 = time.time()
        deadline = time.monotonic() + 60.0
        reconnected = None
        while time.monotonic() < deadline:
            if [ln for ln in jpn_lines(r, "reconnected") if float(ln.split()[0]) >= t1 - 1]:
                reconnected = round(time.time() - t1, 2)
                break
            await asyncio.sleep(0.1)
        r.caught_task = asyncio.create_task(  # type: ignore[attr-defined]
            r.caught_up(r.sent_to_usa(), t1))
        return {"kind": "SIGKILL of nats-server, restart on the same store and port",
                "down_wall_s": round(t1 - t0, 2), "acked_to_usa_before_kill":
                len(acked_before), "sealed_for_usa_by_restart": sealed_during,
                "jpn_reconnected_after_restart_s": reconnected}

    async def go() -> dict[str, Any]:
        server.start()
        try:
            end = await run.go(server.url, server.url, FAULT_AT_S, kill)
            end["fault"]["catch_up_after_restart_s"] = await run.caught_task  # type: ignore[attr-defined]
            return end
        finally:
            server.stop()

    res = run.outcome(asyncio.run(go()))
    usa_log = (where / "USA.log").read_text(errors="replace").splitlines()
    res["fault"]["usa_log_reconnect_lines"] = [x for x in usa_log if "connect" in x][:4]
    res["fault"]["jpn_log_error_lines"] = [x.split(" ", 1)[1] for x in run.log_lines
                                           if "retry" in x or "connect" in x][:4]
    # The feed keeps scans through the outage (trilink.live.client.SensorFeed): every
    # scan of the replay must reach the JPN node, none dropped.
    res["ok"] = bool(res["ok"] and res["scans_lost"] == 0 and res["feed_scans_dropped"] == 0)
    res["load_before"] = before
    publish("broker_kill", "quick" if a.quick else "full", res)
    if tmp is not None:
        tmp.cleanup()
    raise SystemExit(0 if res["ok"] else 1)


if __name__ == "__main__":
    main()
