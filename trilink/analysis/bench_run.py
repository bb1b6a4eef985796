"""Benchmark: `trilink run` against the clock.

Runs a scenario end to end (fit, truth, every sensor of the three nations, the nodes
sharing over the in-memory bus, the warning centres, CAP files, audit logs, the
record) and reports simulated seconds per wall second — the *real-time factor* — with
the process's peak resident memory. The simulated span runs from the first launch to
the last impact; the time with at least one missile in flight is reported beside it,
since a day of launches is mostly quiet sky (the radars still scan it and still make
false alarms, so quiet time is not free).

A short warm-up run first loads the zone map and the compiled kernels (both cached on
disk after the first use), so the figure is that of a warm process.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from trilink.sim.run import run_scenario
from trilink.sim.scenario import load_scenario

WARMUP_SCENARIO = "2022-11-02-srbm-south-of-nll"


def _in_flight_s(summary_launch_spans: list[tuple[float, float]]) -> float:
    """Length of the union of [launch, impact] intervals (s)."""
    total, end = 0.0, -np.inf
    for lo, hi in sorted(summary_launch_spans):
        if hi <= end:
            continue
        total += hi - max(lo, end)
        end = hi
    return total


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / 1024.0 if sys.platform != "darwin" else peak / 2**20


def run_benchmark(scenario: str = "2022-11-02-day", regime: str = "trilateral-realtime",
                  seed: int = 0, warmup: bool = True) -> dict[str, Any]:
    """Run ``scenario`` once (after a warm-up) and measure it; see the module docstring."""
    sc = load_scenario(scenario)
    with tempfile.TemporaryDirectory(prefix="trilink-bench-run-") as tmp:
        if warmup:
            run_scenario(load_scenario(WARMUP_SCENARIO), Path(tmp) / "warmup", seed=seed,
                         regime=regime)
        started = time.perf_counter()
        summary = run_scenario(sc, Path(tmp) / "run", seed=seed, regime=regime)
        wall_s = time.perf_counter() - started
        record = json.loads((Path(tmp) / "run" / "record.json").read_text())
        spans = [(float(x["launch_t_s"]), float(x["impact_t_s"])) for x in record["launches"]]
    simulated_s = max(hi for _, hi in spans)
    in_flight = _in_flight_s(spans)
    return {
        "scenario": sc.id,
        "regime": summary["regime"],
        "seed": seed,
        "launches": len(summary["launches"]),
        "simulated_s": round(simulated_s, 1),
        "in_flight_s": round(in_flight, 1),
        "wall_s": round(wall_s, 2),
        "realtime_factor": round(simulated_s / wall_s, 1),
        "in_flight_factor": round(in_flight / wall_s, 2),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
    }
