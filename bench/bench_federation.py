"""Benchmark: a national node's throughput and its latency over raw JetStream (issue 4).

Method in trilink/analysis/bench_federation.py. Usage:

    python bench/bench_federation.py [--quick]

Prints the JSON object and writes bench/results/federation.json (full runs only).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from trilink.analysis.bench_federation import run_federation_benchmark

RESULTS = Path(__file__).resolve().parent / "results" / "federation.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    result = run_federation_benchmark(quick=args.quick)
    text = json.dumps(result, indent=2)
    print(text)
    if not args.quick:
        RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()
