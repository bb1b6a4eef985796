"""Fault 4: clock skew, on the per-nation deployment (tests/fault_federation.py). The US
node runs with its clock offset by --skew-s (default
±120 s) from JPN's: its --start-unix moves by −skew/speed wall seconds, so its scenario
clock (which is its node clock) reads JPN's time + skew.

The receiver's envelope window (trilink.node.NodeConfig.window) accepts creation times
from now − 3 h to now + 30 s. With the US clock behind (−120 s), JPN's envelopes look
120 s in the future. An envelope refused only for that (``out_of_window``, at most
``NodeConfig.retry_future_s`` = 1 h beyond the limit) is not final: the node audits the
refusal with "to be delivered again in N s", the live node hands the delivery back with
``NatsBus.nak(delay)`` (N ≤ ``retry_every_s`` = 10 node seconds), JetStream delivers it
again, and once its time is inside the window the node takes it (a ``received`` row).
With the US clock ahead (+120 s) they look 120 s old and are taken at once. Checked for
both: no crash (exit code 0 on SIGTERM), every acked envelope received (a deferred one
too), nothing applied twice, no releasability leak, both audits verify; for "behind", at
least one envelope deferred and every deferred one taken later.

    .venv/bin/python bench/faults/skew.py [--quick] [--skew-s 120]
"""

from __future__ import annotations

import asyncio
import sqlite3
from functools import partial
from typing import Any

from _harness import Run, folder, parser, run_cases, settings

FAULT_AT_S = 100.0  # scenario seconds: tracks are being shared by then


def refused_seqs(run: Run) -> set[int]:
    if not run.usa_audit.exists():
        return set()
    with sqlite3.connect(run.usa_audit, timeout=10.0) as c:
        rows = c.execute("SELECT seq FROM audit WHERE direction='rejected' AND peer='JPN' "
                         "AND seq IS NOT NULL")
        return {int(r[0]) for r in rows}


DEFERRED = "to be delivered again"


def nak_path(run: Run) -> dict[str, Any]:
    """The deferrals in the US audit: refusals that said "to be delivered again", the
    envelopes they were for, which were taken later and how long after the first
    deferral (node seconds, from the audit's times)."""
    if not run.usa_audit.exists():
        return {"deferrals": 0, "deferred_seqs": 0, "deferred_then_received": 0,
                "final_refusals": 0}
    with sqlite3.connect(run.usa_audit, timeout=10.0) as c:
        rej = c.execute("SELECT seq, t_ns, detail FROM audit WHERE direction='rejected' "
                        "AND peer='JPN' AND seq IS NOT NULL").fetchall()
        got = dict(c.execute("SELECT seq, MIN(t_ns) FROM audit WHERE direction='received' "
                             "AND peer='JPN' AND kind='missile_track' GROUP BY seq"))
    first: dict[int, int] = {}
    tries: dict[int, int] = {}
    final = 0
    sample = ""
    for seq, t_ns, detail in rej:
        if DEFERRED in detail:
            first[int(seq)] = min(first.get(int(seq), t_ns), t_ns)
            tries[int(seq)] = tries.get(int(seq), 0) + 1
            sample = sample or str(detail)
        else:
            final += 1
    waited = sorted((got[s] - t) / 1e9 for s, t in first.items() if s in got)
    return {"deferrals": sum(tries.values()), "deferred_seqs": len(first),
            "deferred_then_received": len(waited),
            "deferred_never_received": sorted(s for s in first if s not in got),
            "deferrals_per_envelope_max": max(tries.values(), default=0),
            "deferred_to_received_node_s_min": round(waited[0], 1) if waited else None,
            "deferred_to_received_node_s_max": round(waited[-1], 1) if waited else None,
            "final_refusals": final, "deferral_sample": sample}


def one(offset_s: float, speed: float, keep: Any) -> dict[str, Any]:
    where, tmp = folder(keep)
    run = Run(where, speed, usa_clock_offset_s=offset_s)

    async def nothing(r: Run) -> dict[str, Any]:
        return {"kind": f"US node clock offset {offset_s:+g} s (scenario/node seconds; "
                f"{-offset_s / speed:+g} s on its --start-unix)"}

    end = asyncio.run(run.go(FAULT_AT_S, nothing))
    refused = refused_seqs(run)
    res = run.outcome(end)
    acked = res["acked_to_usa"]
    unaccounted = sorted(set(res["lost_acked"]) - refused)
    res["refused_seqs"] = len(refused)
    res["acked_neither_received_nor_refused"] = unaccounted
    res["nak_path"] = nak = nak_path(run)
    # A deferral is not a loss: every acked envelope must be received in the end.
    deferred_ok = (nak["deferred_seqs"] > 0 and not nak["deferred_never_received"]
                   if offset_s < 0 else nak["deferred_seqs"] == 0)
    res["ok"] = bool(not res["lost_acked"] and not res["applied_twice"] and deferred_ok
                     and not res["releasability_leak"] and res["unexpected_violations"] == 0
                     and res["jpn_audit_ok"] and res["usa_audit_ok"]
                     and res["usa_exit_code"] == 0 and acked >= 5)
    if tmp is not None:
        tmp.cleanup()
    return res


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--skew-s", type=float, default=120.0,
                   help="size of the offset, run once behind and once ahead")
    a = p.parse_args()
    speed, _ = settings(a)
    run_cases(a, [(f"skew_{name}", name, partial(one, sign * a.skew_s, speed))
                  for sign, name in ((-1.0, "behind"), (1.0, "ahead"))])


if __name__ == "__main__":
    main()
