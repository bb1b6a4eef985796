"""Benchmark: identities in crowded skies (issue 14 item 4).

Each case runs the three national nodes together (trilink.sim.federation, in-memory bus,
the trilateral real-time regime) and, at every assessment round of every node, compares
the node's fused picture with the truth:

- *missiles in view*: missiles followed by at least one fresh source track in the
  node's picture (updated within the picture's live window, 15 s; a source follows the
  missile nearest to its state, within 20 km);
- *fused objects per missile*: fresh fused objects whose state lies nearest to that
  missile (within 20 km); an assessment is *clean* when every missile in view has
  exactly one and no fresh object follows nothing;
- *identity swaps*: a fused object (or a national track) whose nearest missile changes
  from one assessment (update) to the next; counted apart while that missile boosts;
- *OSPA* (Stone Soup's ``OSPAMetric``, c = 10 km, p = 1) between the fresh fused
  objects, predicted to the assessment time, and the missiles in view; its statistics
  are over the assessments with a missile in view or an object in the picture.

Cases: the 2022-11-02 day (23 missiles, ``trilink/scenarios/2022-11-02-day.yaml``, a
reconstruction) and a salvo made here (simulated, not a recorded launch): eight KN-23
from Wonsan 5–20 s apart, azimuths 1° apart, as DPRK has flown SRBM salvos.

Usage:

    python bench/bench_crowded.py [--case day|salvo|all] [--seed 1] [--out PATH]

Writes bench/results/crowded.json (a --case other than all writes only where --out says).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from stonesoup.metricgenerator.ospametric import OSPAMetric
from stonesoup.types.array import StateVector
from stonesoup.types.state import State

from trilink.bus import InMemoryBus
from trilink.node import NationalNode, NodeOutput
from trilink.physics.fit import FitRequest, fit_flights
from trilink.physics.missiles import get_profile
from trilink.physics.trajectory import propagate
from trilink.sharing.fusion import predict_track
from trilink.sharing.policy import Policy
from trilink.sim.federation import run_federation
from trilink.sim.flights import fly_scenarios
from trilink.sim.scenario import load_scenario
from trilink.sim.truth import Truth
from trilink.tracking.metrics import nearest_truth

F = NDArray[np.float64]
RESULTS = Path(__file__).resolve().parent / "results" / "crowded.json"
REGIME = "trilateral-realtime"
MATCH_M = 20e3
OSPA_C_M = 10e3
LIVE_S = 15.0
SALVO_GAPS_S = (5.0, 10.0, 20.0, 5.0, 10.0, 20.0, 5.0)  # eight missiles


def salvo_truth() -> Truth:
    """Eight KN-23 from Wonsan (39.17N 127.48E), 90 km apogee, 420 km range."""
    launch = np.concatenate([[0.0], np.cumsum(SALVO_GAPS_S)])
    reqs = [FitRequest(math.radians(39.17), math.radians(127.48), math.radians(84.0 + i),
                       90e3, 420e3, get_profile("kn-23")) for i in range(launch.size)]
    fits = fit_flights(reqs)
    if not all(f.converged for f in fits):
        raise RuntimeError("the salvo's KN-23 fits did not converge")
    batch = propagate([f.request.profile for f in fits], [f.controls for f in fits])
    return Truth(tuple(f"SALVO/K{i + 1}" for i in range(launch.size)), launch + 60.0, batch,
                 epoch=dt.datetime(2022, 11, 2, 0, 0, tzinfo=dt.UTC))


def _nearest(truth: Truth, t_s: float, r: F) -> int | None:
    s = truth.at(t_s)
    d = np.where(s.alive, np.linalg.norm(s.r_ecef_m - r, axis=1), np.inf)
    k = int(np.argmin(d))
    return k if d[k] <= MATCH_M else None


class Assessor:
    """Samples every node's picture at its assessment rounds (the on_output hook)."""

    def __init__(self, truth: Truth) -> None:
        self.truth = truth
        self.rows: list[dict[str, Any]] = []
        self.last_missile: dict[tuple[str, str], int] = {}
        self.swaps: Counter[str] = Counter()
        self.swaps_boost: Counter[str] = Counter()
        self.ospa = OSPAMetric(c=OSPA_C_M, p=1)

    def __call__(self, nation: str, node: NationalNode, out: NodeOutput, now: float) -> None:
        if out.assessed_s is None:
            return
        t = float(out.assessed_s)
        objs = [o for o in node.fused() if t - o.t_s <= LIVE_S]
        in_view: set[int] = set()
        for o in objs:
            for src in o.sources.values():
                if t - src.t_s <= LIVE_S:
                    k = _nearest(self.truth, src.t_s, src.x[:3])
                    if k is not None:
                        in_view.add(k)
        per_missile: Counter[int] = Counter()
        orphans = 0
        state = self.truth.at(t)
        stamp = dt.datetime(2000, 1, 1) + dt.timedelta(seconds=t)
        tracks = []
        for o in objs:
            k = _nearest(self.truth, o.t_s, o.x[:3])
            if k is None:
                orphans += 1
            else:
                per_missile[k] += 1
                key = (nation, o.fused_id)
                if key in self.last_missile and self.last_missile[key] != k:
                    self.swaps[nation] += 1
                    if state.boosting[k]:
                        self.swaps_boost[nation] += 1
                self.last_missile[key] = k
            x, _ = predict_track(o.x, o.P, max(t - o.t_s, 0.0), o.powered_probability)
            tracks.append(State(StateVector(x[:3]), timestamp=stamp))
        truths = [State(StateVector(state.r_ecef_m[k]), timestamp=stamp) for k in sorted(in_view)]
        ospa = (float(self.ospa.compute_OSPA_distance(tracks, truths).value)
                if tracks or truths else 0.0)
        clean = orphans == 0 and all(per_missile.get(k, 0) == 1 for k in in_view) and set(
            per_missile) <= in_view
        self.rows.append({"nation": nation, "t_s": t, "in_view": len(in_view),
                          "fused": len(objs), "orphans": orphans, "clean": clean,
                          "split": sum(1 for k in in_view if per_missile.get(k, 0) > 1),
                          "missing": sum(1 for k in in_view if per_missile.get(k, 0) == 0),
                          "ospa_m": ospa})


def _track_swaps(run_events: dict[str, list[Any]], truth: Truth) -> dict[str, int]:
    """National tracks that followed more than one missile (the trackers' own swaps)."""
    out = {}
    for nation, events in run_events.items():
        matches = nearest_truth(events, truth, MATCH_M)
        out[nation] = sum(1 for c in matches.values()
                          if len([k for k in c if k != "clutter"]) > 1)
    return out


def run_case(name: str, truth: Truth, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    probe = Assessor(truth)
    run = run_federation(truth, Policy.for_regime(REGIME),
                         InMemoryBus(), seed=seed,
                         on_output=probe)
    by_nation: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in probe.rows:
        by_nation[row["nation"]].append(row)
    nations = {}
    for nation, rows in sorted(by_nation.items()):
        # OSPA over the assessments with something in the sky (both sets empty: 0 m).
        busy = [r for r in rows if r["in_view"] or r["fused"]]
        ospa = np.array([r["ospa_m"] for r in busy] or [0.0])
        nations[nation] = {
            "assessments": len(rows),
            "clean_fraction": float(np.mean([r["clean"] for r in rows])),
            "assessments_not_clean": int(sum(not r["clean"] for r in rows)),
            "splits": int(sum(r["split"] for r in rows)),
            "missing": int(sum(r["missing"] for r in rows)),
            "orphans": int(sum(r["orphans"] for r in rows)),
            "max_in_view": int(max(r["in_view"] for r in rows)),
            "fused_object_swaps": int(probe.swaps[nation]),
            "fused_object_swaps_in_boost": int(probe.swaps_boost[nation]),
            "assessments_with_missiles": len(busy),
            "ospa_m_median": float(np.median(ospa)),
            "ospa_m_p95": float(np.percentile(ospa, 95)),
            "ospa_m_max": float(np.max(ospa)),
            # Over time: (t_s, missiles in view, fused objects, OSPA m), every assessment.
            "series": [[round(r["t_s"], 1), r["in_view"], r["fused"], round(r["ospa_m"], 1)]
                       for r in rows],
        }
    return {
        "case": name,
        "missiles": truth.size,
        "seed": seed,
        "regime": REGIME,
        "national_track_swaps": _track_swaps(run.track_events, truth),
        "nations": nations,
        "wall_s": time.perf_counter() - started,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=("day", "salvo", "all"), default="all")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    cases: dict[str, Any] = {}
    if args.case in ("day", "all"):
        day = Truth.from_launch_flights(fly_scenarios([load_scenario("2022-11-02-day")]))
        cases["2022-11-02-day"] = run_case("2022-11-02-day", day, args.seed)
    if args.case in ("salvo", "all"):
        cases["salvo-8-kn23-wonsan"] = run_case("salvo-8-kn23-wonsan", salvo_truth(), args.seed)
    result = {
        "benchmark": "crowded",
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python bench/bench_crowded.py " + " ".join(argv or sys.argv[1:]),
        "ospa": {"implementation": "stonesoup.metricgenerator.ospametric.OSPAMetric",
                 "c_m": OSPA_C_M, "p": 1},
        "cases": cases,
    }
    out = args.out or (RESULTS if args.case == "all" else None)
    for name, case in cases.items():
        for nation, s in case["nations"].items():
            print(f"{name} {nation}: {s['assessments']} assessments, clean "
                  f"{s['clean_fraction']:.3f}, splits {s['splits']}, missing {s['missing']}, "
                  f"orphans {s['orphans']}, swaps {s['fused_object_swaps']} "
                  f"({s['fused_object_swaps_in_boost']} in boost), OSPA median "
                  f"{s['ospa_m_median']:.0f} m, p95 {s['ospa_m_p95']:.0f} m")
        print(f"{name}: national track swaps {case['national_track_swaps']}, "
              f"{case['wall_s']:.0f} s")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
