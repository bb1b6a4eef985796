"""Supply-shock detection on planted breaks: detection delay and false alarms of
trilink's scaled CUSUM beside river's Page–Hinkley and ruptures' PELT (re-run on the
months seen so far, as an online use of an offline method), on the same seeded series,
in one run. SIMULATED series: seasonal monthly trade with lognormal noise and a planted
drop (the depth drawn per series).

    python bench/bench_supply.py [--series N]   # writes bench/results/supply.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trilink.supply.detect import ShockDetector  # noqa: E402

MONTHS, BREAK_AT = 48, 30


def make_series(rng: np.random.Generator, depth: float | None) -> np.ndarray:
    t = np.arange(MONTHS)
    noise = float(rng.uniform(0.08, 0.3))
    season = 0.15 * np.sin(2 * np.pi * t / 12 + rng.uniform(0, 2 * np.pi))
    log = math.log(rng.uniform(50, 5000)) + season + rng.normal(0, noise, MONTHS)
    if depth is not None:
        log[BREAK_AT:] += math.log(1 - depth)
    return np.exp(log)


def trilink_cusum(x: np.ndarray) -> list[int]:
    d, alarms = ShockDetector(), []
    for k, v in enumerate(x):
        if d.update(float(v)):
            alarms.append(k)
            d.rearm()
    return alarms


def river_ph(x: np.ndarray) -> list[int]:
    from river import drift

    ph, alarms = drift.PageHinkley(mode="down", threshold=3.0, min_instances=6), []
    for k, v in enumerate(np.log(x)):
        ph.update(float(v))
        if ph.drift_detected:
            alarms.append(k)
    return alarms


def ruptures_pelt(x: np.ndarray) -> list[int]:
    import ruptures

    alarms, seen = [], set()
    logx = np.log(x)
    for k in range(8, len(x)):
        bkps = ruptures.Pelt(model="l2", min_size=2).fit(logx[: k + 1]).predict(pen=3.0)
        for b in bkps[:-1]:
            if b not in seen and logx[b:k + 1].mean() < logx[:b].mean():
                seen.add(b)
                alarms.append(k)
    return alarms


def score(fn, n: int, seed: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    delays, missed, false_alarms, months_clean = [], 0, 0, 0
    start = time.perf_counter()
    for i in range(n):
        depth = None if i % 4 == 3 else float(rng.uniform(0.3, 0.9))
        x = make_series(rng, depth)
        alarms = fn(x)
        pre = [a for a in alarms if a < BREAK_AT] if depth is not None else alarms
        false_alarms += len(pre)
        months_clean += BREAK_AT if depth is not None else MONTHS
        if depth is not None:
            post = [a for a in alarms if a >= BREAK_AT]
            if post:
                delays.append(post[0] - BREAK_AT)
            else:
                missed += 1
    breaks = n - n // 4
    return {"series": n, "with_break": breaks,
            "median_delay_months": float(np.median(delays)) if delays else math.nan,
            "p90_delay_months": float(np.percentile(delays, 90)) if delays else math.nan,
            "missed_share": round(missed / breaks, 3),
            "false_alarms_per_100_months": round(100 * false_alarms / months_clean, 3),
            "wall_s": round(time.perf_counter() - start, 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=400)
    args = ap.parse_args()
    result = {"months": MONTHS, "break_at": BREAK_AT, "simulated": True,
              "date": time.strftime("%Y-%m-%d")}
    for name, fn in (("trilink_cusum", trilink_cusum), ("river_page_hinkley", river_ph),
                     ("ruptures_pelt_online", ruptures_pelt)):
        result[name] = score(fn, args.series, seed=12)
        r = result[name]
        print(f"{name:22s} delay median {r['median_delay_months']} p90 {r['p90_delay_months']}"
              f" months; missed {r['missed_share']:.1%}; false alarms "
              f"{r['false_alarms_per_100_months']} per 100 clean months; {r['wall_s']} s")
    out = ROOT / "bench" / "results" / "supply.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"-> {out}")


if __name__ == "__main__":
    main()
