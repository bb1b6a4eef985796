"""Benchmark: `trilink run` on the 2022-11-02 day against the clock (issue 5).

23 launches over ten hours, every radar of the three nations, three nodes sharing
under the real-time trilateral regime, warning centres, CAP files, audit logs, the
record and the report. The figure is simulated seconds per wall second; the peer is
the clock itself. Code: trilink/analysis/bench_run.py; notes: docs/benchmarks.md.

Usage:

    python bench/bench_run.py [--scenario ID] [--regime R] [--json] [--out PATH]

Writes the JSON object to bench/results/run.json (or --out).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from trilink.analysis.bench_run import run_benchmark

RESULTS = Path(__file__).resolve().parent / "results" / "run.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="2022-11-02-day")
    parser.add_argument("--regime", default="trilateral-realtime")
    parser.add_argument("--json", action="store_true", help="print the JSON object")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON file")
    args = parser.parse_args(argv)
    result = run_benchmark(args.scenario, args.regime)
    text = json.dumps(result, indent=2) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    if args.json:
        print(text, end="")
    else:
        print(f"{result['scenario']}: {result['simulated_s']:,.0f} s simulated in "
              f"{result['wall_s']:.1f} s = {result['realtime_factor']:,.0f}x real time "
              f"({result['in_flight_factor']:.1f}x while missiles fly); "
              f"peak RSS {result['peak_rss_mb']:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
