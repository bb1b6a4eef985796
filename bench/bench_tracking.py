"""Benchmark: trilink's IMM-EKF tracker against Stone Soup and FilterPy (issue 3).

Same truth, same measurements, same ballistic motion model for every tracker; the method
and the notes are in docs/benchmarks.md, the code in trilink/analysis/bench_tracking.py.
Needs the peers: pip install 'trilink[bench]'.

Usage:

    python bench/bench_tracking.py [--seed 1] [--quick] [--json] [--out PATH]

Prints the table (or the JSON object with --json) and writes the JSON to
bench/results/tracking.json (a --quick run writes only where --out says).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rich.console import Console

from trilink.analysis.bench_tracking import (
    PeersMissingError,
    format_table,
    run_tracking_benchmark,
)

RESULTS = Path(__file__).resolve().parent / "results" / "tracking.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="measurement noise seed")
    parser.add_argument("--quick", action="store_true", help="smoke-test size (seconds)")
    parser.add_argument("--json", action="store_true", help="print the JSON object")
    parser.add_argument("--out", type=Path, default=None, help=f"JSON file (default {RESULTS})")
    args = parser.parse_args(argv)
    # The machine is shared: the load beside the figures says how far to trust one run.
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    try:
        result = run_tracking_benchmark(seed=args.seed, quick=args.quick)
    except PeersMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    given = sys.argv[1:] if argv is None else argv
    result["command"] = " ".join(["python bench/bench_tracking.py", *given])
    result["load_before"] = load_before
    result["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = json.dumps(result, indent=2)
    out = args.out or (None if args.quick else RESULTS)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    if args.json:
        print(text)
    else:
        Console(width=max(Console().width, 160)).print(format_table(result))
        if out is not None:
            print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
