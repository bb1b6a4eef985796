"""Benchmark: warning lead time against false public warnings, over the shipped events.

For every shipped event (the scenarios, less the ``whatif-`` ones, which are not events),
the truth is flown, Japan's tracker is run once (seeded), and the same track updates are
fed to warning centres under a sweep of warning policies
(``trilink/data/warning_policy.yaml`` varied: how long the powered-flight hold lasts,
how many confirmations an Alert needs, whether and how the boost-phase warning of
``trilink.warning.boost`` speaks). Japan's tracks come from its own radars; one row also
gives Japan's tracker the frames of the US space-based infrared satellite (bearings, as
shared early warning would), to show what they add. For each policy:

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

import trilink.warning.center as center_module
from trilink.sensors import sensor_catalogue
from trilink.sim.flights import fly_scenarios
from trilink.sim.scenario import load_scenario, shipped_scenarios
from trilink.sim.tracking import run_tracker
from trilink.sim.truth import Truth
from trilink.tracking.tracker import EventKind, TrackEvent
from trilink.warning.assessment import Assessment, WarningLevel, assess, land_crossings
from trilink.warning.center import WarningCenter
from trilink.warning.policy import BoostWarning, WarningPolicy

NATION = "JPN"
LEAD_AIM_S = 90.0


IR_SENSOR = "USA-SBIRS-GEO"
_ASSESSED: dict[tuple[Any, ...], Assessment] = {}


def _assess_once(x: Any, P: Any, t_s: float, nation: str,
                 policy: WarningPolicy | None = None) -> Assessment:
    """``assess``, computed once per state: the policies swept share their level
    thresholds, so a state's assessment is the same under each (only the state machine
    and the boost rule differ) and the sweep pays for it once."""
    levels = None if policy is None else policy.levels
    key = (nation, t_s, x.tobytes(), P.tobytes(), levels)
    if key not in _ASSESSED:
        _ASSESSED[key] = assess(x, P, t_s, nation, policy)
    return _ASSESSED[key]


@dataclass(frozen=True)
class Replay:
    event: str
    truth: Truth
    updates: list[TrackEvent]
    threatens: bool  # truth crosses or hits the nation's land
    launch_s: float
    updates_ir: list[TrackEvent] | None = None  # with the infrared frames (if run)


def _replay(event: str, infrared: bool = False) -> Replay:
    truth = Truth.from_launch_flights(fly_scenarios([load_scenario(event)]))
    threatens = False
    for i in range(truth.size):
        f = truth.flights.row(i)
        hits, _, _, _ = land_crossings(f, NATION)
        threatens = threatens or bool(hits)
    updates = [e for e in run_tracker(truth, NATION, seed=1).events
               if e.kind == EventKind.UPDATED]
    with_ir = None
    if infrared:
        ids = [sid for sid, s in sensor_catalogue().items() if s.nation == NATION]
        with_ir = [e for e in run_tracker(truth, NATION, seed=1,
                                          sensor_ids=[*ids, IR_SENSOR], infrared=True).events
                   if e.kind == EventKind.UPDATED]
    return Replay(event, truth, updates, threatens, float(truth.launch_t_s.min()), with_ir)


def _first_shelter_s(replay: Replay, policy: WarningPolicy, infrared: bool = False
                     ) -> float | None:
    assert replay.truth.epoch is not None
    center = WarningCenter(NATION, replay.truth.epoch, assess_every_s=10.0, policy=policy)
    updates = replay.updates_ir if infrared else replay.updates
    assert updates is not None
    for e in updates:
        for w in center.on_track(e.track_id, e.x, e.P, e.t_s, e.powered_probability):
            shelter = ("trilink_level", str(WarningLevel.TAKE_SHELTER)) in w.message.parameters
            if w.message.msg_type in ("Alert", "Update") and shelter:
                return w.t_s - replay.launch_s
    return None


OFF = BoostWarning(enabled=False)
# name → (policy, Japan's tracks with the infrared frames?)
POLICIES: dict[str, tuple[WarningPolicy, bool]] = {
    "shipped: boost-phase warning, hold while P(powered) >= 0.5, 2 confirmations":
        (WarningPolicy(), False),
    "shipped, Japan's radars + SBIRS frames": (WarningPolicy(), True),
    "boost-phase warning, 1 confirmation": (WarningPolicy(alert_confirmations=1), False),
    "boost-phase warning up to 80 deg (lofted shots too)": (WarningPolicy(
        boost=BoostWarning(max_flight_path_rad=1.396)), False),
    "boost-phase warning from 10 km (short-range boosters too)": (WarningPolicy(
        boost=BoostWarning(min_altitude_m=10e3)), False),
    "no boost warning: hold >= 0.5, 2 confirmations (shipped until 2026-12-03)":
        (WarningPolicy(boost=OFF), False),
    "no boost warning: hold >= 0.9, 2 confirmations":
        (WarningPolicy(powered_hold=0.9, boost=OFF), False),
    # P(powered) never exceeds 1, and the hold is ">=": 1.0 only holds at certainty.
    "no hold, 2 confirmations": (WarningPolicy(powered_hold=1.0, boost=OFF), False),
    "no boost warning: hold >= 0.5, 1 confirmation":
        (WarningPolicy(alert_confirmations=1, boost=OFF), False),
    "no hold, 1 confirmation": (WarningPolicy(powered_hold=1.0, alert_confirmations=1,
                                              boost=OFF), False),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", nargs="*", default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    events = args.events or [e for e in shipped_scenarios() if not e.startswith("whatif-")]
    t0 = time.perf_counter()
    infrared = any(ir for _, ir in POLICIES.values())
    replays = [_replay(e, infrared) for e in events]
    setattr(center_module, "assess", _assess_once)  # noqa: B010 (see _assess_once)
    rows: list[dict[str, Any]] = []
    for name, (policy, ir) in POLICIES.items():
        per_event = {r.event: _first_shelter_s(r, policy, ir) for r in replays}
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
           "note": "simulated sensors and tracks; lead from launch to first take_shelter; "
                   "Japan's own radars unless the policy says SBIRS frames",
           "policies": rows}
    for r in rows:
        print(f"{r['policy']}: within 90 s {r['warned_within_90_s']}/{r['threatening_events']}"
              f", leads {r['lead_s']}, false public warnings {r['false_public_warnings']}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
