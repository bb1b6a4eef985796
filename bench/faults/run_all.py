"""Run the four fault scripts one after another (never at once: the machine's load
shapes the recovery times), all on the per-nation deployment, then print the table of
bench/results/faults.json.

    .venv/bin/python bench/faults/run_all.py [--quick]      # all faults
    .venv/bin/python bench/faults/run_all.py --table-only   # just the table
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parents[1] / "bench" / "results" / "faults.json"
SCRIPTS = ("pause.py", "broker_kill.py", "partition.py", "skew.py")
RECOVERY = {"pause_node": "catch_up_after_resume_s", "pause_server": "catch_up_after_resume_s",
            "server_kill_JPN": "catch_up_after_restart_s",
            "server_kill_USA": "catch_up_after_restart_s",
            "partition": "catch_up_after_heal_s", "partition_proxy": "catch_up_after_heal_s"}
FAULTS = ("pause_node", "pause_server", "server_kill_JPN", "server_kill_USA", "partition",
          "partition_proxy", "skew_behind", "skew_ahead")


def table(variant: str) -> str:
    data: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    rows = ["| fault | speed | fault s | sent | acked | delivered | duplicated | lost | "
            "refused (reason) | recover s | leak | audits | ok | load before → after |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in FAULTS:
        r = data.get(name, {}).get(variant)
        if r is None:
            continue
        f, c = r["fault"], r["counts"]
        wall = next((v for k, v in f.items() if k.endswith("_wall_s")), "-")
        rec = f.get(RECOVERY.get(name, ""), "-")
        rej = ", ".join(f"{n} {k}" for k, n in r["usa_rejected"].items()) or "0"
        nak = r.get("nak_path")
        if nak and nak["deferred_seqs"]:
            rej += (f" (deferrals of {nak['deferred_seqs']} envelopes, "
                    f"{nak['deferred_then_received']} taken later)")
        audits = "ok" if r["jpn_audit_ok"] and r["usa_audit_ok"] else "FAIL"
        mode = f" ({f['mode']})" if "mode" in f else ""
        rows.append(f"| {name}{mode} | ×{r['speed']:g} | {wall} | {c['sent']} | {c['acked']} | "
                    f"{c['delivered']} | {c['duplicated']} | {c['lost']} | {rej} | {rec} | "
                    f"{'YES' if r['releasability_leak'] else 'none'} | {audits} | "
                    f"{'yes' if r['ok'] else 'NO'} | {r['load_before']} → {r['load_after']} |")
    return "\n".join(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="the smoke variants")
    p.add_argument("--table-only", action="store_true", help="run nothing, print the table")
    a = p.parse_args()
    failed = []
    if not a.table_only:
        for script in SCRIPTS:
            rc = subprocess.run([sys.executable, str(HERE / script),
                                 *(["--quick"] if a.quick else [])],
                                stdout=subprocess.DEVNULL).returncode
            if rc != 0:
                failed.append(script)
    print(table("quick" if a.quick else "full"))
    if failed:
        print(f"failed: {', '.join(failed)}")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
