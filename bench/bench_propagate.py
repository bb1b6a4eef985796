"""Benchmark: propagate 1,000 ICBM trajectories and sample them at 1 s.

Side by side in one run:
- trilink: every flight in one vectorised batch (per-row RK4 steps), then
  ``FlightBatch.sample`` on a common 1 s grid;
- peer: SciPy's ``solve_ivp`` (DOP853, rtol 1e-9) flight by flight, with the *same*
  equations of motion, integrated piecewise between thrust events and sampled at 1 s
  through its dense output — what one would write without trilink.

The peer runs on a subset (``--peer-runs``), at two tolerances, and its per-flight cost
is scaled to the full count; the positions of both are compared at every common sample.
Usage:

    python bench/bench_propagate.py [--runs 1000] [--peer-runs 40] [--seed 7]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

from trilink.physics import earth
from trilink.physics.missiles import get_profile
from trilink.physics.trajectory import propagate
from trilink.physics.vehicle import LaunchControls, VehicleBatch


def monte_carlo_controls(n: int, seed: int) -> list[LaunchControls]:
    rng = np.random.default_rng(seed)
    return [
        LaunchControls(
            lat_rad=float(np.radians(39.2 + rng.normal(0, 0.05))),
            lon_rad=float(np.radians(125.67 + rng.normal(0, 0.05))),
            heading_rad=float(np.radians(75 + rng.normal(0, 2))),
            pitch_final_rad=float(np.radians(rng.uniform(30, 85))),
            energy_fraction=float(rng.uniform(0.85, 1.0)),
        )
        for _ in range(n)
    ]


def peer_one(vb: VehicleBatch, i: int, rtol: float, atol: float) -> tuple[np.ndarray, float]:
    """One flight with solve_ivp; returns samples at 1 s and the flight time."""
    rows = np.array([i])
    events = np.unique(np.clip(vb.event_times_s()[i], 0, None))
    bounds = [0.0, *[e for e in events if e > 0]]

    def rhs(phase: float):
        def f(t: float, y: np.ndarray) -> np.ndarray:
            a = vb.acceleration(np.array([t]), y[None, :3], y[None, 3:], rows,
                                np.array([phase]))
            return np.concatenate([y[3:], a[0]])
        return f

    def ground(t: float, y: np.ndarray) -> float:
        return float(earth.ecef_to_geodetic(y[:3])[2])

    ground.terminal = True  # type: ignore[attr-defined]
    ground.direction = -1  # type: ignore[attr-defined]
    y = np.concatenate([vb.r0_ecef_m[i], np.zeros(3)])
    pieces = []
    for a, b in itertools.pairwise(bounds):
        sol = solve_ivp(rhs(0.5 * (a + b)), (a, b), y, method="DOP853", rtol=rtol,
                        atol=atol, dense_output=True)
        pieces.append(sol)
        y = sol.y[:, -1]
    sol = solve_ivp(rhs(bounds[-1] + 1.0), (bounds[-1], 20000.0), y, method="DOP853",
                    rtol=rtol, atol=atol, dense_output=True, events=ground)
    pieces.append(sol)
    t_end = float(sol.t_events[0][0])
    grid = np.arange(0.0, t_end, 1.0)
    out = np.empty((grid.size, 3))
    for p in pieces:
        m = (grid >= p.t[0]) & (grid <= p.t[-1])
        out[m] = p.sol(grid[m])[:3].T
    return out, t_end


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--peer-runs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results/propagate.json")
    args = ap.parse_args()

    profile = get_profile("hwasong-15")
    controls = monte_carlo_controls(args.runs, args.seed)
    profiles = [profile] * args.runs

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    batch = propagate(profiles, controls)
    t1 = time.perf_counter()
    grid = np.arange(0.0, float(batch.flight_time_s.max()) + 1.0, 1.0)
    r, _, valid = batch.sample(grid)
    t2 = time.perf_counter()
    # Peak resident set of the process (KiB on Linux), after the trilink part only.
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ours_s = t2 - t0
    samples = int(valid.sum())

    vb = VehicleBatch.build(profiles, controls)
    picks = np.linspace(0, args.runs - 1, args.peer_runs).astype(int)
    peers = []
    # The peer at a common default tolerance, and at one tight enough to match trilink's
    # accuracy (trilink's own step refinement moves impacts by metres, not hundreds).
    for rtol, atol in ((1e-9, 1e-3), (1e-12, 1e-7)):
        t3 = time.perf_counter()
        runs = [peer_one(vb, int(i), rtol, atol) for i in picks]
        per_flight = (time.perf_counter() - t3) / len(picks)
        position_diff = []
        time_diff = []
        for (samples_peer, t_end), i in zip(runs, picks, strict=True):
            f = batch.row(int(i))
            time_diff.append(abs(f.flight_time_s - t_end))
            # Common 1 s samples up to 30 s before impact (near impact a time offset of a
            # few hundredths of a second is already hundreds of metres).
            k = int(min(t_end, f.flight_time_s)) - 30
            position_diff.append(
                float(np.linalg.norm(samples_peer[:k] - r[i, :k], axis=1).max())
            )
        peers.append(
            {
                "peer": f"scipy solve_ivp DOP853 rtol={rtol:g} atol={atol:g}, one at a time",
                "peer_runs_measured": len(picks),
                "peer_s_per_flight": round(per_flight, 4),
                "peer_s_scaled_to_runs": round(per_flight * args.runs, 2),
                "speedup_vs_peer": round(per_flight * args.runs / ours_s, 1),
                "max_position_difference_m": round(max(position_diff), 3),
                "max_flight_time_difference_s": round(max(time_diff), 5),
            }
        )

    result = {
        "benchmark": "propagate ICBM trajectories, sampled at 1 s",
        "runs": args.runs,
        "profile": profile.key,
        "samples": samples,
        "trilink_s": round(ours_s, 3),
        "trilink_propagate_s": round(t1 - t0, 3),
        "trilink_sample_s": round(t2 - t1, 3),
        "trilink_peak_rss_mib": round(rss_after / 1024, 1),
        "peak_rss_before_mib": round(rss_before / 1024, 1),
        "peers": peers,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
