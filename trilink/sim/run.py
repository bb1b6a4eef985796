"""`trilink run`: a scenario end to end — truth, sensors, nodes over the in-memory bus,
warnings — written to a folder:

- ``summary.json``: per launch and nation, when it was detected, tracked, received from
  partners and warned about (seconds after launch, ``null`` if never), the warning level,
  the impact error at the first warning, and the false alarms;
- ``alerts/*.xml``: every CAP 1.2 message, one file each;
- ``audit/<NATION>.sqlite``: each node's hash-chained audit log;
- ``record.json``: what the report is drawn from (:mod:`trilink.sim.record`);
- ``report.html``: the self-contained report (:mod:`trilink.report`).

Each nation's warning centre assesses its node's *fused* picture (own and partners'
tracks) every ``assess_every_s`` of simulated time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trilink.bus import InMemoryBus, LinkModel
from trilink.geo import ZoneKind, zone_map
from trilink.node import NationalNode
from trilink.physics import earth
from trilink.report import write_report
from trilink.sharing.policy import policy_for
from trilink.sim.federation import NATIONS, run_federation
from trilink.sim.flights import fly_scenarios
from trilink.sim.record import build_record
from trilink.sim.scenario import Scenario
from trilink.sim.truth import Truth
from trilink.tracking.metrics import nearest_missile, nearest_truth, tracks_per_missile
from trilink.warning.assessment import Assessment, WarningLevel, land_crossings
from trilink.warning.cap import write
from trilink.warning.center import WarningCenter, WarningEvent

STALE_S = 30.0


@dataclass(frozen=True)
class _Outcome:
    """What really happened to one missile, for one nation (truth)."""

    overflight: bool
    impact_kind: str | None  # ZoneKind value if the impact is in the nation's area


def _outcomes(truth: Truth, nation: str) -> list[_Outcome]:
    out = []
    for i in range(truth.size):
        hits, _, lat, lon = land_crossings(truth.flights.row(i), nation, step_s=2.0)
        hit = zone_map().locate(float(lat[-1]), float(lon[-1]))
        out.append(_Outcome(bool(hits), str(hit.kind) if hit.nation == nation else None))
    return out


def _warranted(level: WarningLevel, outcome: _Outcome) -> bool:
    """Did what the warning announced happen (at least in kind)?"""
    if level == WarningLevel.TAKE_SHELTER:
        return outcome.overflight or outcome.impact_kind == ZoneKind.LAND.value
    if level == WarningLevel.MARITIME_WARNING:
        return outcome.impact_kind in (ZoneKind.LAND.value, ZoneKind.TERRITORIAL_SEA.value)
    if level == WarningLevel.INFORMATIONAL:
        return outcome.impact_kind is not None
    return True


def _nearest_missile(truth: Truth, x: Any, t_s: float) -> int | None:
    s = truth.at(t_s)
    return nearest_missile(s.r_ecef_m, s.alive, x, 50e3)


def run_scenario(scenario: Scenario, out_dir: Path, seed: int = 0,
                 regime: str | None = None, assess_every_s: float = 10.0,
                 progress: Callable[[float, float], None] | None = None) -> dict[str, Any]:
    """Run the scenario and write the outputs (see the module docstring); returns the
    summary. ``progress(done_s, total_s)`` is called as simulated time advances (seconds
    since the epoch, and the time of the last impact)."""
    out_dir = Path(out_dir)
    # Inputs first (fits, agreements): a bad scenario or regime leaves DIR untouched.
    flights = fly_scenarios([scenario])
    truth = Truth.from_launch_flights(flights)
    assert truth.epoch is not None
    policy = policy_for(regime or scenario.regime, scenario.date)
    (out_dir / "alerts").mkdir(parents=True, exist_ok=True)
    (out_dir / "audit").mkdir(parents=True, exist_ok=True)
    for old in list((out_dir / "audit").glob("*.sqlite")) + list(
            (out_dir / "alerts").glob("*.xml")):
        old.unlink()  # a run's outputs are its own: no leftovers from a previous run
    nations = tuple(n for n in NATIONS if n in scenario.nations) or NATIONS
    centers = {n: WarningCenter(n, truth.epoch, assess_every_s) for n in nations}
    last_check = {n: -math.inf for n in nations}
    warnings: dict[str, list[tuple[WarningEvent, int | None]]] = {n: [] for n in nations}
    assessments: dict[str, list[tuple[str, Assessment, int | None]]] = {n: [] for n in nations}
    followed: dict[str, dict[str, int | None]] = {n: {} for n in nations}  # track → missile

    end_s = truth.end_t_s

    def on_step(nation: str, node: NationalNode, now: float) -> None:
        if progress is not None:
            progress(now, end_s)
        if now - last_check[nation] < assess_every_s:
            return
        last_check[nation] = now
        for obj in node.fused():
            if now - obj.t_s > STALE_S:
                continue
            center = centers[nation]
            before = len(center.assessments)
            events = center.on_track(obj.fused_id, obj.x, obj.P, obj.t_s,
                                     obj.powered_probability)
            if len(center.assessments) == before:
                continue
            k = _nearest_missile(truth, obj.x, obj.t_s)
            followed[nation][obj.fused_id] = k
            assessments[nation].append((obj.fused_id, center.assessments[-1][1], k))
            for ev in events:
                write(ev.message, out_dir / "alerts")
                warnings[nation].append((ev, k))
        for ev in centers[nation].expire(now):
            write(ev.message, out_dir / "alerts")
            warnings[nation].append((ev, followed[nation].get(ev.track_id)))

    run = run_federation(truth, policy, InMemoryBus(default_link=LinkModel(latency_s=0.0)),
                         seed, nations, audit_dir=out_dir / "audit", on_step=on_step)

    for nation in nations:  # warnings still out when the sky is empty lapse in turn
        for ev in centers[nation].expire(math.inf):
            write(ev.message, out_dir / "alerts")
            warnings[nation].append((ev, followed[nation].get(ev.track_id)))

    summary: dict[str, Any] = {"scenario": scenario.id, "seed": seed, "regime": policy.name,
                               "launches": []}
    own_tracks = {n: tracks_per_missile(nearest_truth(run.track_events[n], truth))
                  for n in nations}
    outcomes = {n: _outcomes(truth, n) for n in nations}
    for i, missile in enumerate(truth.ids):
        launch_t = float(truth.launch_t_s[i])
        impact = truth.flights.r_ecef_m[i, truth.flights.n_knots[i] - 1]
        per_nation: dict[str, Any] = {}
        for n in nations:
            def rel(t: float | None, launch_t: float = launch_t) -> float | None:
                return None if t is None else round(t - launch_t, 1)

            tracks = own_tracks[n].get(missile, set())
            first_track = min((e.t_s for e in run.track_events[n]
                               if e.track_id in tracks and e.kind.value == "updated"),
                              default=None)
            partner_first = None
            for p in nations:
                if p == n:
                    continue
                for tid in own_tracks[p].get(missile, set()):
                    t = run.nodes[n].first_seen.get(f"{p}/{tid}")
                    if t is not None and (partner_first is None or t < partner_first):
                        partner_first = t
            mine = [(ev, k) for ev, k in warnings[n] if k == i]
            alerts = [ev for ev, _ in mine if ev.message.msg_type != "Cancel"]
            first = alerts[0] if alerts else None
            levels = [WarningLevel(dict(ev.message.parameters)["trilink_level"])
                      for ev in alerts]
            top = max(levels, key=lambda lv: lv.rank) if levels else WarningLevel.NONE
            err_km = None
            if first is not None:
                enu = earth.ecef_to_enu(impact, first.assessment.impact.lat_rad,
                                        first.assessment.impact.lon_rad, 0.0)
                err_km = round(float(np.hypot(enu[0], enu[1])) / 1e3, 1)
            false_alarms = sum(1 for lv in levels if not _warranted(lv, outcomes[n][i]))
            per_nation[n] = {
                "first_detection_s": rel(run.first_detection_s[n].get(missile)),
                "first_track_s": rel(first_track),
                "first_partner_track_s": rel(partner_first),
                "first_warning_s": rel(first.t_s if first else None),
                "warning_level": str(top),
                "impact_error_km_at_warning": err_km,
                "false_alarms": false_alarms,
            }
        summary["launches"].append({"id": missile, "nations": per_nation})
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    record = build_record(scenario, truth, seed, policy.name, nations, assessments, warnings,
                          summary)
    (out_dir / "record.json").write_text(json.dumps(record) + "\n")
    write_report(record, out_dir)
    return summary
