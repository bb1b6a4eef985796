"""Fault 2: one nation's nats-server killed with SIGKILL mid-stream, restarted after
--fault-s from its configuration (same store folder, same port).

``server_kill_JPN``: the sender's own server (its outbox stream, its JetStream domain;
JPN's node and its sensor feed are its clients; the leaf link to the hub goes with it).
``server_kill_USA``: the hub's server (the US node's own; every spoke's leaf link ends
there), while JPN's server, which holds JPN's outbox, stays up.

The clients must ride it out (nats-py reconnects; JPN keeps what it could not hand over
in its outbox and retries; the sensor feed keeps its scans; the spoke's server dials the
hub again). Checked: every envelope JetStream acked before the kill survives in the file
store and reaches the US, nothing is applied twice, no releasability leak, both audits
verify, JPN's node takes every scan; measured: seconds from the restart until JPN (or
the US) reconnected and until the US audit holds every envelope JPN had sealed for it.

    .venv/bin/python bench/faults/broker_kill.py [--quick] [--nation JPN|USA|both]
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from pathlib import Path
from typing import Any

from _harness import ACKED, Run, folder, jpn_lines, parser, run_cases, settings

FAULT_AT_S = 100.0  # scenario seconds: tracks are being shared by then


def usa_lines(where: Path, needle: str) -> list[str]:
    log = where / "USA.log"
    return [x for x in log.read_text(errors="replace").splitlines() if needle in x]


def one(nation: str, speed: float, fault_s: float, keep: Path | None) -> dict[str, Any]:
    where, tmp = folder(keep)
    run = Run(where, speed)

    async def kill(r: Run) -> dict[str, Any]:
        server = r.fed.servers[nation]
        acked_before = {m for _, hop, m in ACKED if hop == "USA"}
        usa_reconnects = len(usa_lines(where, "reconnected"))
        t0 = time.time()
        server.kill()
        await asyncio.sleep(fault_s)
        sealed_during = len(r.sent_to_usa())
        server.start()  # same configuration: same store folder, same port
        t1 = time.time()
        deadline = time.monotonic() + 60.0
        reconnected = None
        while time.monotonic() < deadline:
            if nation == "JPN":
                back = [ln for ln in jpn_lines(r, "reconnected") if float(ln.split()[0])
                        >= t1 - 1]
            else:
                back = usa_lines(where, "reconnected")[usa_reconnects:]
            if back:
                reconnected = round(time.time() - t1, 2)
                break
            await asyncio.sleep(0.1)
        r.caught_task = asyncio.create_task(  # type: ignore[attr-defined]
            r.caught_up(r.sent_to_usa(), t1))
        return {"kind": f"SIGKILL of {nation}'s nats-server, restart on the same store "
                        "and port", "server": nation,
                "down_wall_s": round(t1 - t0, 2),
                "acked_to_usa_before_kill": len(acked_before),
                "sealed_for_usa_by_restart": sealed_during,
                f"{nation.lower()}_node_reconnected_after_restart_s": reconnected}

    async def go() -> dict[str, Any]:
        end = await run.go(FAULT_AT_S, kill)
        end["fault"]["catch_up_after_restart_s"] = await run.caught_task  # type: ignore[attr-defined]
        return end

    res = run.outcome(asyncio.run(go()))
    res["fault"]["usa_log_connection_lines"] = usa_lines(where, "connect")[:4]
    res["fault"]["jpn_log_error_lines"] = [x.split(" ", 1)[1] for x in run.log_lines
                                           if "retry" in x or "connect" in x][:4]
    # The feed keeps scans through the outage (trilink.live.client.SensorFeed): every
    # scan of the replay must reach the JPN node, none dropped.
    res["ok"] = bool(res["ok"] and res["scans_lost"] == 0 and res["feed_scans_dropped"] == 0)
    if tmp is not None:
        tmp.cleanup()
    return res


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--nation", choices=("JPN", "USA", "both"), default="both",
                   help="whose server is killed (default: JPN's, then USA's)")
    a = p.parse_args()
    speed, fault_s = settings(a)
    nations = ("JPN", "USA") if a.nation == "both" else (a.nation,)
    run_cases(a, [(f"server_kill_{n}", n, partial(one, n, speed, fault_s)) for n in nations])


if __name__ == "__main__":
    main()
