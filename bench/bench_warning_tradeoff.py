"""Benchmark: warning lead time against false public warnings, over the shipped events.

For every shipped scenario, the truth is flown, Japan's tracker is run once (seeded), and
the same track updates are fed to warning centres under a sweep of warning policies
(``trilink/data/warning_policy.yaml`` varied: how long the powered-flight hold lasts,
how many confirmations an Alert needs). For each policy:

- **lead**: for each event whose truth crosses or hits Japanese land, the time from launch
  to the first ``take_shelter`` message (Alert or Update), and whether it came within 90 s;
- **false public warnings**: ``take_shelter`` messages in events whose truth neither
  crosses nor hits Japanese land (the real false alerts of 2022-11-03 and 2023-04-13 are
  two such events in the replay set).

Simulated: the tracks come from trilink's simulated sensors, not real data. Usage:

    python bench/bench_warning_tradeoff.py [--events ID ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from typing import Any

from trilink.sim.flights import fly_scenarios
from trilink.sim.scenario import load_scenario, shipped_scenarios
from trilink.sim.tracking import run_tracker
from trilink.sim.truth import Truth
from trilink.tracking.tracker import EventKind, TrackEvent
from trilink.warning.assessment import WarningLevel, land_crossings
from trilink.warning.center import WarningCenter
from trilink.warning.policy import WarningPolicy

NATION = "JPN"
LEAD_AIM_S = 90.0


@dataclass(frozen=True)
class Replay:
    event: str
    truth: Truth
    updates: list[TrackEvent]
    threatens: bool  # truth crosses or hits the nation's land
    launch_s: float


def _replay(event: str) -> Replay:
    truth = Truth.from_launch_flights(fly_scenarios([load_scenario(event)]))
    threatens = False
    for i in range(truth.size):
        f = truth.flights.row(i)
        hits, _, _, _ = land_crossings(f, NATION)
        threatens = threatens or bool(hits)
    updates = [e for e in run_tracker(truth, NATION, seed=1).events
               if e.kind == EventKind.UPDATED]
    return Replay(event, truth, updates, threatens, float(truth.launch_t_s.min()))


def _first_shelter_s(replay: Replay, policy: WarningPolicy) -> float | None:
    assert replay.truth.epoch is not None
    center = WarningCenter(NATION, replay.truth.epoch, assess_every_s=10.0, policy=policy)
    for e in replay.updates:
        for w in center.on_track(e.track_id, e.x, e.P, e.t_s, e.powered_probability):
            shelter = ("trilink_level", str(WarningLevel.TAKE_SHELTER)) in w.message.parameters
            if w.message.msg_type in ("Alert", "Update") and shelter:
                return w.t_s - replay.launch_s
    return None


POLICIES: dict[str, WarningPolicy] = {
    "shipped (hold while P(powered) >= 0.5, 2 confirmations)": WarningPolicy(),
    "hold >= 0.9, 2 confirmations": WarningPolicy(powered_hold=0.9),
    # P(powered) never exceeds 1, and the hold is ">=": 1.0 only holds at certainty.
    "no hold, 2 confirmations": WarningPolicy(powered_hold=1.0),
    "hold >= 0.5, 1 confirmation": WarningPolicy(alert_confirmations=1),
    "no hold, 1 confirmation": WarningPolicy(powered_hold=1.0, alert_confirmations=1),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", nargs="*", default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    events = args.events or list(shipped_scenarios())
    t0 = time.perf_counter()
    replays = [_replay(e) for e in events]
    rows: list[dict[str, Any]] = []
    for name, policy in POLICIES.items():
        per_event = {r.event: _first_shelter_s(r, policy) for r in replays}
        leads = {r.event: per_event[r.event] for r in replays if r.threatens}
        false = [r.event for r in replays if not r.threatens and per_event[r.event] is not None]
        rows.append({
            "policy": name,
            "lead_s": {k: None if v is None else round(v, 1) for k, v in leads.items()},
            "warned_within_90_s": sum(v is not None and v <= LEAD_AIM_S for v in leads.values()),
            "threatening_events": len(leads),
            "false_public_warnings": false,
        })
    out = {"nation": NATION, "events": events, "seconds": round(time.perf_counter() - t0, 1),
           "note": "simulated sensors and tracks; lead from launch to first take_shelter",
           "policies": rows}
    for r in rows:
        print(f"{r['policy']}: within 90 s {r['warned_within_90_s']}/{r['threatening_events']}"
              f", leads {r['lead_s']}, false public warnings {r['false_public_warnings']}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
