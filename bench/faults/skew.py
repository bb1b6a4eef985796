"""Fault 4: clock skew. The US node runs with its clock offset by --skew-s (default
±120 s) from JPN's: its --start-unix moves by −skew/speed wall seconds, so its scenario
clock (which is its node clock) reads JPN's time + skew.

The receiver's envelope window (trilink.node.NodeConfig.window) accepts creation times
from now − 3 h to now + 30 s. With the US clock behind (−120 s), JPN's envelopes look
120 s in the future: they must be refused as ``out_of_window``, each refusal audited, and
the node must keep running. With the US clock ahead (+120 s) they look 120 s old and are
taken. Checked for both: no crash (exit code 0 on SIGTERM), every acked envelope is
either received or audited as refused, nothing applied twice, both audits verify.

    .venv/bin/python bench/faults/skew.py [--quick] [--skew-s 120]
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from _harness import Run, Server, folder, load, parser, publish, settings

FAULT_AT_S = 100.0  # scenario seconds: tracks are being shared by then


def refused_seqs(run: Run) -> set[int]:
    if not run.usa_audit.exists():
        return set()
    with sqlite3.connect(run.usa_audit, timeout=10.0) as c:
        rows = c.execute("SELECT seq FROM audit WHERE direction='rejected' AND peer='JPN' "
                         "AND seq IS NOT NULL")
        return {int(r[0]) for r in rows}


def one(offset_s: float, speed: float, keep: Any) -> dict[str, Any]:
    where, tmp = folder(keep)
    run = Run(where, speed, usa_clock_offset_s=offset_s)
    server = Server(where / "js", log=where / "nats.log")

    async def nothing(r: Run) -> dict[str, Any]:
        return {"kind": f"US node clock offset {offset_s:+g} s (scenario/node seconds; "
                f"{-offset_s / speed:+g} s on its --start-unix)"}

    async def go() -> dict[str, Any]:
        server.start()
        try:
            return await run.go(server.url, server.url, FAULT_AT_S, nothing)
        finally:
            server.stop()

    end = asyncio.run(go())
    refused = refused_seqs(run)
    res = run.outcome(end)
    acked = res["acked_to_usa"]
    unaccounted = sorted(set(res["lost_acked"]) - refused)
    res["refused_seqs"] = len(refused)
    res["acked_neither_received_nor_refused"] = unaccounted
    # Under skew "lost" means refused: the check is that each one is accounted for.
    res["ok"] = bool(not unaccounted and not res["applied_twice"] and res["jpn_audit_ok"]
                     and res["usa_audit_ok"] and res["usa_exit_code"] == 0 and acked >= 5)
    if tmp is not None:
        tmp.cleanup()
    return res


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--skew-s", type=float, default=120.0,
                   help="size of the offset, run once behind and once ahead")
    a = p.parse_args()
    speed, _ = settings(a)
    ok = True
    for sign, name in ((-1.0, "behind"), (1.0, "ahead")):
        before = load()
        keep = a.keep / name if a.keep is not None else None
        res = one(sign * a.skew_s, speed, keep)
        res["load_before"] = before
        publish(f"skew_{name}", "quick" if a.quick else "full", res)
        ok = ok and res["ok"]
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
