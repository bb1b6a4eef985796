"""Benchmark: `trilink compare` sweeps inline, in 2 local processes and on Dask (2 workers).

Runs per second of a Monte Carlo comparison of one scenario under several sharing
regimes (default: the 2022-10-04 overflight, 100 runs, 5 regimes), measured three ways
in one process, with the same tasks (`trilink.analysis.compare.make_tasks`) through the
same executor (`trilink.analysis.executors.map_tasks`):

(a) inline, 1 worker, on the first ``--subset`` runs only (a full inline sweep would take
    as long as the other two together);
(b) a local pool of 2 spawned worker processes on all ``--runs`` runs;
(c) a Dask `LocalCluster` on 127.0.0.1 (2 worker processes x 1 thread) on all runs,
    reached by its scheduler address as `trilink compare --dask` would.

A "run" is one Monte Carlo run of every regime (one task); regime-simulations are runs x
regimes. Scaling efficiency = rate(2 workers) / (2 x rate(inline)). Wall times are end
to end: they include starting the worker processes and each worker's warm-up (loading
the compiled kernels and the zone map, fitting the scenario: its first task). The Dask
figure includes connecting the client but not starting the cluster (timed apart). Each
task's own duration and worker pid are recorded too, so the warm-up, the slowdown of
a task when both cores are busy, and how busy the workers were are reported apart.
Every configuration must return exactly the same rows (same seeds): checked and
reported.

Usage:

    python bench/bench_compare.py [--runs N] [--subset K] [--workers W] [--quick]
                                  [--json] [--out PATH]

Writes the JSON object to bench/results/compare.json (or --out). Notes and figures:
docs/benchmarks.md, "Comparison sweeps: local processes and Dask".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from trilink.analysis.compare import CompareSpec, CompareTask, make_tasks, run_task
from trilink.analysis.executors import map_tasks

RESULTS = Path(__file__).resolve().parent / "results" / "compare.json"
SCENARIO = "2022-10-04-irbm-overflight"
REGIMES = ("national-only", "bilateral-us", "tisa-relay", "gsomia-direct",
           "trilateral-realtime")

Rows = list[dict[str, Any]]
Timed = tuple[Rows, int, float, float]  # rows, worker pid, start (epoch s), task seconds


def timed_run_task(task: CompareTask) -> Timed:
    """`run_task` with the worker's pid, start time and the task's own duration (module
    level, so that spawned workers can import it)."""
    started_epoch, started = time.time(), time.perf_counter()
    rows = run_task(task)
    return rows, os.getpid(), started_epoch, time.perf_counter() - started


def _log(msg: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def _progress(label: str, every: int) -> Callable[[int, int], None]:
    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        if done % every == 0 or done == total:
            _log(f"{label}: {done}/{total} runs, {time.perf_counter() - started:.0f} s")
    return report


def _canonical(rows: Sequence[Rows]) -> str:
    """Rows as canonical JSON: exact float reprs, and NaN equal to itself."""
    return json.dumps(rows, sort_keys=True)


def _measure(label: str, tasks: Sequence[CompareTask], n_regimes: int, n_workers: int,
             **kwargs: Any) -> tuple[dict[str, Any], list[Rows]]:
    """Run ``tasks`` through `map_tasks`; figures of that configuration and its rows."""
    _log(f"{label}: {len(tasks)} runs on {n_workers} worker(s)")
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    out = map_tasks(timed_run_task, tasks, progress=_progress(label, max(1, len(tasks) // 10)),
                    **kwargs)
    wall = time.perf_counter() - started
    rows = [r for r, _, _, _ in out]
    seen: set[int] = set()
    first: list[float] = []
    steady: list[float] = []
    for _, pid, _, seconds in sorted(out, key=lambda o: o[2]):  # in the order they started
        (steady if pid in seen else first).append(seconds)
        seen.add(pid)
    busy = sum(o[3] for o in out)
    n = len(tasks)
    figures = {
        "workers": n_workers,
        "runs": n,
        "regime_simulations": n * n_regimes,
        "wall_s": round(wall, 2),
        "runs_per_s": n / wall,
        "regime_simulations_per_s": n * n_regimes / wall,
        "worker_pids": len(seen),
        "task_s_first_per_worker": [round(s, 2) for s in first],
        "task_s_median_after_first": round(statistics.median(steady), 2) if steady else None,
        "task_s_mean_after_first": round(statistics.fmean(steady), 2) if steady else None,
        "warmup_extra_s": (round(statistics.fmean(first) - statistics.median(steady), 2)
                           if steady else None),
        # Share of the workers' wall time spent inside tasks (the rest: start-up,
        # imports, pickling, scheduling, the tail where one worker waits for the other).
        "utilisation": busy / (n_workers * wall),
        "loadavg_1min_before": round(load_before, 2),
        "loadavg_1min_after": round(os.getloadavg()[0], 2),
    }
    _log(f"{label}: {wall:.1f} s, {n / wall:.4f} runs/s")
    return figures, rows


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("numpy", "numba", "dask", "distributed"):
        try:
            out[name] = __import__(name).__version__
        except ImportError:
            out[name] = "absent"
    return out


def _git() -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, text=True, capture_output=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+modified" if dirty else "")


def run_benchmark(runs: int = 100, subset: int = 10, workers: int = 2, seed: int = 0,
                  scenario: str = SCENARIO,
                  regimes: tuple[str, ...] = REGIMES) -> dict[str, Any]:
    """Measure (a) inline on ``subset`` runs, (b) ``workers`` local processes and (c) a
    Dask LocalCluster of ``workers`` processes on ``runs`` runs; see the module docstring."""
    import distributed

    spec = CompareSpec(scenarios=(scenario,), regimes=regimes, runs=runs, seed=seed)
    tasks = make_tasks(spec)
    subset = min(subset, runs)
    started_utc = dt.datetime.now(dt.UTC)

    inline, inline_rows = _measure("inline", tasks[:subset], len(regimes), 1, workers=1)
    local, local_rows = _measure(f"local x{workers}", tasks, len(regimes), workers,
                                 workers=workers)

    _log(f"starting a Dask LocalCluster: {workers} processes x 1 thread")
    t0 = time.perf_counter()
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                  ) as cluster:
        cluster_start_s = time.perf_counter() - t0
        dask, dask_rows = _measure(f"dask x{workers}", tasks, len(regimes), workers,
                                   dask_address=cluster.scheduler_address)
    dask["cluster_start_s"] = round(cluster_start_s, 2)

    for figures, base in ((local, inline), (dask, inline)):
        figures["scaling_efficiency"] = figures["runs_per_s"] / (workers * base["runs_per_s"])
        if figures["task_s_mean_after_first"] and base["task_s_mean_after_first"]:
            # How much longer a warm task takes when all workers run at once.
            figures["task_slowdown_vs_inline"] = (figures["task_s_mean_after_first"]
                                                  / base["task_s_mean_after_first"])
    result = {
        "benchmark": "compare sweep: inline vs local processes vs Dask LocalCluster",
        "scenario": scenario,
        "regimes": list(regimes),
        "runs": runs,
        "inline_subset": subset,
        "seed": seed,
        "warmup": "included in every wall time (first task of each worker); "
                  "reported apart as task_s_first_per_worker and warmup_extra_s",
        "inline": inline,
        "local": local,
        "dask": dask,
        "dask_over_local_wall": dask["wall_s"] / local["wall_s"],
        "dask_rows_equal_local": _canonical(dask_rows) == _canonical(local_rows),
        "inline_rows_equal_local": _canonical(inline_rows) == _canonical(local_rows[:subset]),
        "started_utc": started_utc.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "git": _git(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), **_versions()},
    }
    for key in ("inline", "local", "dask"):  # rounded once every ratio is taken
        fig = result[key]
        for name in ("runs_per_s", "regime_simulations_per_s"):
            fig[name] = round(fig[name], 4)
        for name in ("utilisation", "scaling_efficiency", "task_slowdown_vs_inline"):
            if name in fig:
                fig[name] = round(fig[name], 3)
    result["dask_over_local_wall"] = round(result["dask_over_local_wall"], 3)
    return result


def format_summary(r: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    lines = [f"{r['scenario']}, {len(r['regimes'])} regimes, seed {r['seed']}:"]
    for key, what in (("inline", f"inline, first {r['inline_subset']} runs"),
                      ("local", f"local x{r['local']['workers']}, {r['runs']} runs"),
                      ("dask", f"dask x{r['dask']['workers']}, {r['runs']} runs")):
        f = r[key]
        eff = f.get("scaling_efficiency")
        lines.append(f"  {what:28s} {f['wall_s']:8.1f} s  {f['runs_per_s']:.4f} runs/s  "
                     f"{f['regime_simulations_per_s']:.3f} sims/s"
                     + (f"  efficiency {eff:.2f}" if eff is not None else ""))
    lines.append(f"  dask wall / local wall {r['dask_over_local_wall']:.3f}; Dask rows equal "
                 f"local: {r['dask_rows_equal_local']}; inline rows equal local: "
                 f"{r['inline_rows_equal_local']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="runs for (b) and (c)")
    parser.add_argument("--subset", type=int, default=10, help="runs for (a), inline")
    parser.add_argument("--workers", type=int, default=2, help="workers for (b) and (c)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenario", default=SCENARIO)
    parser.add_argument("--regimes", default=",".join(REGIMES), help="comma-separated")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: --runs 4 --subset 2 (a couple of minutes)")
    parser.add_argument("--json", action="store_true", help="print the JSON object")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON file")
    args = parser.parse_args(argv)
    runs, subset = (4, 2) if args.quick else (args.runs, args.subset)
    if runs < 1 or subset < 1 or args.workers < 2:
        parser.error("--runs and --subset must be >= 1 and --workers >= 2")
    result = run_benchmark(runs, subset, args.workers, args.seed, args.scenario,
                           tuple(r for r in args.regimes.split(",") if r))
    text = json.dumps(result, indent=2) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text if args.json else format_summary(result), end="" if args.json else "\n")
    return 0 if result["dask_rows_equal_local"] and result["inline_rows_equal_local"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
