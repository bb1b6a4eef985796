"""`trilink run`: a scenario end to end — truth, sensors, nodes over the in-memory bus,
warnings — written to a folder:

- ``summary.json``: per launch and nation, when it was detected, tracked, received from
  partners and warned about (seconds after launch, ``null`` if never), the warning level,
  the impact error at the first warning, the false alarms, and more (:func:`summarize`);
- ``alerts/*.xml``: every CAP 1.2 message, one file each;
- ``audit/<NATION>.sqlite``: each node's hash-chained audit log;
- ``record.json``: what the report is drawn from (:mod:`trilink.sim.record`);
- ``statements/<id>.json``: every joint statement released on the hotline, with its
  signatures, and ``keys.json``: the nodes' public keys, so that
  ``trilink hotline verify statements/X.json --keys keys.json`` checks it offline;
- ``report.html``: the self-contained report (:mod:`trilink.report`).

A scenario with a ``cyber`` section also has its campaign replayed through one cyber book
per nation under the run's regime (:func:`cyber_policy_for`; the decisions are the books'
and the agreements', :mod:`trilink.cyber.campaign`): its figures go to ``summary.json``'s
``cyber``, its account to ``record.json``'s ``cyber`` and to the report.

Each nation's warning centre assesses its node's *fused* picture (own and partners'
tracks) every ``assess_every_s`` of simulated time. :func:`simulate` is the file-free
core (also used by ``trilink compare``), :func:`summarize` its figures.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trilink.bus import InMemoryBus
from trilink.geo import ZoneKind, zone_map
from trilink.hotline.opener import OpenerConfig
from trilink.hotline.simulated import SimAuthorities
from trilink.hotline.statement import release_document
from trilink.hotline.wire import origin_of
from trilink.node import NationalNode, NodeOutput
from trilink.physics import earth
from trilink.report import write_report
from trilink.sensors.catalogue import RadarSpec
from trilink.sharing.policy import Policy, policy_for
from trilink.sim.federation import NATIONS, FederationRun, LinkCut, run_federation
from trilink.sim.flights import fly_scenarios
from trilink.sim.hotline import (
    consultation_records,
    consultation_summary,
    desk_config,
    launch_block,
    merged_into,
    response_models,
    trigger_rules,
)
from trilink.sim.record import build_record, injects_record
from trilink.sim.scenario import HotlineRequestInject, LostLinkInject, Scenario
from trilink.sim.truth import Truth
from trilink.tracking.impact import predict_impacts
from trilink.tracking.metrics import nearest_missile, nearest_truth, tracks_per_missile
from trilink.warning.announced import AnnouncedLaunch
from trilink.warning.assessment import Assessment, WarningLevel, land_crossings
from trilink.warning.cap import write
from trilink.warning.center import WarningEvent
from trilink.watch import WatchConfig

STALE_S = 30.0


PROBE_TIMES_S = (120.0, 300.0)  # impact-prediction error probes, seconds after launch


@dataclass(frozen=True)
class Outcome:
    """What really happened to one missile, for one nation (truth, evaluation only).

    ``event_t_s``: when the nation was threatened (seconds since the epoch): the first
    entry over its land, else the impact if it fell in the nation's land, sea or zone;
    None if neither (nothing to warn of).
    """

    overflight: bool
    impact_kind: str | None  # ZoneKind value if the impact is in the nation's area
    event_t_s: float | None


def outcomes(truth: Truth, nation: str) -> list[Outcome]:
    """Every missile's outcome for one nation."""
    out = []
    for i in range(truth.size):
        hits, ts, lat, lon = land_crossings(truth.flights.row(i), nation, step_s=2.0)
        hit = zone_map().locate(float(lat[-1]), float(lon[-1]))
        kind = str(hit.kind) if hit.nation == nation else None
        launch_t = float(truth.launch_t_s[i])
        event = (launch_t + hits[0].t_enter_s if hits
                 else launch_t + float(ts[-1]) if kind is not None else None)
        out.append(Outcome(bool(hits), kind, event))
    return out


def _warranted(level: WarningLevel, outcome: Outcome) -> bool:
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


# Exercise injects as applied: (index in scenario.injects, nation, time (s), consultation).
Injected = list[tuple[int, str, float, str]]


@dataclass
class Simulation:
    """Everything one simulated run produced, before anything is written.

    ``warnings`` and ``assessments`` carry, per nation, the index of the truth missile
    each track followed (evaluation only). ``probe_error_m[nation][(i, T)]`` is the
    distance from missile i's true impact to the nation's freshest prediction at T
    seconds after its launch; ``coverage[nation][i]`` lists (t_s, covered) at each of
    the nation's assessment ticks while missile i flew.
    """

    scenario: Scenario
    truth: Truth
    policy: Policy
    seed: int
    nations: tuple[str, ...]
    run: FederationRun
    warnings: dict[str, list[tuple[WarningEvent, int | None]]]
    assessments: dict[str, list[tuple[str, Assessment, int | None]]]
    probe_error_m: dict[str, dict[tuple[int, float], float]]
    coverage: dict[str, dict[int, list[tuple[float, bool]]]]
    # Truth missile index → the consultation raised about it (evaluation only), after
    # merges; and each consultation → the missiles it was opened or updated about.
    consultation_of: dict[int, str]
    consultation_missiles: dict[str, list[int]]
    # The exercise's injects as applied: (index in scenario.injects, nation, time applied
    # (s), consultation opened), in the order they were applied.
    injected: Injected = field(default_factory=list)


def simulate(
    scenario: Scenario,
    truth: Truth,
    policy: Policy,
    seed: int = 0,
    *,
    assess_every_s: float = 10.0,
    progress: Callable[[float, float], None] | None = None,
    on_warning: Callable[[WarningEvent], None] | None = None,
    audit_dir: Path | None = None,
    extra_nations: Sequence[str] = (),
    sensors: Sequence[RadarSpec] | None = None,
) -> Simulation:
    """Run the nodes and warning centres over ``truth`` under ``policy``; no files
    unless ``audit_dir``. ``extra_nations`` run nodes besides the scenario's (a partner
    in a what-if regime), with ``sensors`` added to the catalogue's."""
    assert truth.epoch is not None
    base = tuple(n for n in NATIONS if n in scenario.nations) or NATIONS
    nations = base + tuple(n for n in extra_nations if n not in base)
    warnings: dict[str, list[tuple[WarningEvent, int | None]]] = {n: [] for n in nations}
    assessments: dict[str, list[tuple[str, Assessment, int | None]]] = {n: [] for n in nations}
    followed: dict[str, dict[str, int | None]] = {n: {} for n in nations}  # track → missile
    probe_error: dict[str, dict[tuple[int, float], float]] = {n: {} for n in nations}
    coverage: dict[str, dict[int, list[tuple[float, bool]]]] = {
        n: {i: [] for i in range(truth.size)} for n in nations}
    flight_end = truth.launch_t_s + truth.flights.flight_time_s
    impacts = truth.flights.r_ecef_m[np.arange(truth.size), truth.flights.n_knots - 1]
    end_s = truth.end_t_s
    spec = scenario.hotline
    # The nodes stop assessing at the last impact: the sky is empty.
    watch = {n: scenario_watch(scenario, truth.epoch, nations, end_s, assess_every_s)
             for n in nations}
    # Evaluation only: truth missile → consultation, per nation and first raised.
    missile_consultation: dict[str, dict[int, str]] = {n: {} for n in nations}
    raised: dict[int, tuple[float, str]] = {}  # missile → (time, consultation) first raised

    models = response_models(spec, nations)
    authorities = {n: SimAuthorities(n, models[n], seed, salt=scenario.id)
                   for n in nations} if spec.enabled else None

    def evaluate(nation: str, node: NationalNode, out: NodeOutput, now: float) -> None:
        """Score what the node decided against the truth (it never sees this)."""
        if out.assessed_s is not None:
            freshest: dict[int, Any] = {}
            missile_of: dict[str, int | None] = {}
            for obj in node.watch.fresh(node.fused(), now):
                k = _nearest_missile(truth, obj.x, obj.t_s)
                missile_of[obj.fused_id] = k
                if k is not None and (k not in freshest or obj.t_s > freshest[k].t_s):
                    freshest[k] = obj
            for fid, a in out.assessments:
                followed[nation][fid] = missile_of[fid]
                assessments[nation].append((fid, a, missile_of[fid]))
            _probe(nation, now, freshest)
            for fid, cid in out.consultations_raised:
                k = followed[nation].get(fid)
                if k is None:
                    continue
                first = missile_consultation[nation].setdefault(k, cid)
                if k not in raised or now < raised[k][0]:
                    raised[k] = (now, first)
        for ev in out.warnings:
            warnings[nation].append((ev, followed[nation].get(ev.track_id)))
            if on_warning is not None:
                on_warning(ev)

    apply_injects, injected = injector(scenario, truth.epoch, nations)

    def on_step(nation: str, node: NationalNode, now: float) -> NodeOutput | None:
        if progress is not None:
            progress(min(now, end_s), end_s)
        return apply_injects(nation, node, now)

    def _probe(nation: str, now: float, freshest: dict[int, Any]) -> None:
        for i in range(truth.size):
            if not truth.launch_t_s[i] <= now <= flight_end[i]:
                continue
            coverage[nation][i].append((now, i in freshest))
            for t_probe in PROBE_TIMES_S:
                key = (i, t_probe)
                if key in probe_error[nation] or now < truth.launch_t_s[i] + t_probe:
                    continue
                obj = freshest.get(i)
                if obj is None:
                    continue
                pred = predict_impacts(obj.x[None], obj.P[None], np.array([obj.t_s]))[0]
                enu = earth.ecef_to_enu(impacts[i], pred.lat_rad, pred.lon_rad, 0.0)
                probe_error[nation][key] = float(np.hypot(enu[0], enu[1]))

    run = run_federation(truth, policy, InMemoryBus(),
                         seed, nations, audit_dir=audit_dir, on_step=on_step,
                         sensors=None if sensors is None else (*truth.sensors, *sensors),
                         authorities=authorities, desk_config=desk_config(spec),
                         watch=watch, on_output=evaluate,
                         cuts=link_cuts(scenario, truth.epoch))
    about: dict[str, list[int]] = {}  # consultation → missiles it was raised about
    for per_nation in missile_consultation.values():
        for k, cid in per_nation.items():
            about.setdefault(cid, []).append(k)
    consultation_of = {}
    for k, (_, cid) in raised.items():
        seen = {cid}
        while (onward := merged_into(run.nodes[origin_of(cid)].hotline, cid)):
            if onward in seen:
                break
            seen.add(onward)
            cid = onward
        consultation_of[k] = cid
    return Simulation(scenario, truth, policy, seed, nations, run, warnings, assessments,
                      probe_error, coverage, consultation_of,
                      {cid: sorted(set(ks)) for cid, ks in about.items()}, injected)


def injector(scenario: Scenario, epoch: dt.datetime, nations: Sequence[str]
             ) -> tuple[Callable[[str, NationalNode, float], NodeOutput | None], Injected]:
    """The scenario's exercise injects as a federation ``on_step``: each is applied at
    its nation's first event at or after its time; the list fills with (index, nation,
    time applied, consultation opened) as they are."""
    due = sorted((inj.time_s(epoch, scenario.launches), k, inj)
                 for k, inj in enumerate(scenario.injects)
                 if isinstance(inj, HotlineRequestInject))
    injected: Injected = []

    def step(nation: str, node: NationalNode, now: float) -> NodeOutput | None:
        out: NodeOutput | None = None
        for item in [d for d in due if d[2].nation == nation and d[0] <= now]:
            due.remove(item)
            _, k, inj = item
            parties = inj.parties or tuple(n for n in nations if n != nation)
            cid, desk_out = node.hotline.open(now, parties, inj.topic, inj.authority,
                                              trigger="exercise inject")
            injected.append((k, nation, now, cid))
            done = node.emit(desk_out, now)
            out = done if out is None else out.extend(done)
        return out

    return step, injected


def link_cuts(scenario: Scenario, epoch: dt.datetime) -> list[LinkCut]:
    """The scenario's ``lost_link`` injects as the federation driver's cuts."""
    cuts = []
    for inj in scenario.injects:
        if isinstance(inj, LostLinkInject):
            t0, t1 = inj.window_s(epoch, scenario.launches)
            b = inj.between[1] if len(inj.between) == 2 else None
            cuts.append(LinkCut(inj.between[0], b, t0, t1))
    return cuts


def scenario_watch(scenario: Scenario, epoch: dt.datetime | None, nations: Sequence[str],
                   end_s: float, assess_every_s: float = 10.0) -> WatchConfig:
    """How a node replaying ``scenario`` watches its picture — the one configuration of
    `trilink run`, `trilink live` and the dashboard's replays: rounds every
    ``assess_every_s`` until ``end_s`` (the last impact), automatic consultations under the
    scenario's hotline rules, and its announced exercise launches as drills (none without
    an ``epoch`` to place them in time)."""
    spec = scenario.hotline
    opener = (OpenerConfig(tuple(nations), spec.authority, trigger_rules(spec))
              if spec.enabled else None)
    announced = announced_launches(scenario, epoch) if epoch is not None else ()
    return WatchConfig(assess_every_s, STALE_S, end_s, opener, announced=announced)


def announced_launches(scenario: Scenario, epoch: dt.datetime
                       ) -> tuple[AnnouncedLaunch, ...]:
    """The scenario's announced exercise launches, in the node's terms (radians, metres,
    seconds since the epoch)."""
    return tuple(AnnouncedLaunch(a.label, math.radians(a.lat_deg), math.radians(a.lon_deg),
                                 a.radius_km * 1e3, (a.from_utc - epoch).total_seconds(),
                                 (a.to_utc - epoch).total_seconds())
                 for a in scenario.announced_launches)


def _continuity(ticks: list[tuple[float, bool]], since_s: float | None) -> float | None:
    """Share of assessment ticks from first knowledge to impact with a fresh track."""
    if since_s is None:
        return None
    after = [covered for t, covered in ticks if t >= since_s]
    return round(sum(after) / len(after), 3) if after else None


# What every "..._s" time of summary.json counts from (stated in the file itself).
TIME_ORIGIN = "seconds after each launch's lift-off (its time_utc, UTC)"


def summarize(sim: Simulation) -> dict[str, Any]:
    """The summary (``summary.json``): per launch and nation, times after launch.

    The issue's fields, plus ``first_known_s`` (first track of any origin in the
    nation's picture), ``warning_lead_s`` (seconds from the first warning to the event
    that threatened the nation; negative if it came after), ``missed_warnings`` (1 when
    the nation was threatened and never warned before the event), ``track_continuity``
    and ``impact_error_km_at_{120,300}s`` (see :class:`Simulation`).
    """
    truth, run, nations = sim.truth, sim.run, sim.nations
    summary: dict[str, Any] = {"scenario": sim.scenario.id, "seed": sim.seed,
                               "regime": sim.policy.name, "time_origin": TIME_ORIGIN,
                               "launches": []}
    own_tracks = {n: tracks_per_missile(nearest_truth(run.track_events[n], truth))
                  for n in nations}
    truth_outcomes = {n: outcomes(truth, n) for n in nations}
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
            known = min((t for t in (first_track, partner_first) if t is not None),
                        default=None)
            mine = [(ev, k) for ev, k in sim.warnings[n] if k == i]
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
            outcome = truth_outcomes[n][i]
            false_alarms = sum(1 for lv in levels if not _warranted(lv, outcome))
            event = outcome.event_t_s
            lead = None if event is None or first is None else round(event - first.t_s, 1)
            missed = int(event is not None and (first is None or first.t_s > event))
            entry: dict[str, Any] = {
                "first_detection_s": rel(run.first_detection_s[n].get(missile)),
                "first_track_s": rel(first_track),
                "first_partner_track_s": rel(partner_first),
                "first_warning_s": rel(first.t_s if first else None),
                "warning_level": str(top),
                "impact_error_km_at_warning": err_km,
                "false_alarms": false_alarms,
                "first_known_s": rel(known),
                "warning_lead_s": lead,
                "missed_warnings": missed,
                "track_continuity": _continuity(sim.coverage[n][i], known),
            }
            for t_probe in PROBE_TIMES_S:
                e = sim.probe_error_m[n].get((i, t_probe))
                entry[f"impact_error_km_at_{t_probe:.0f}s"] = (
                    None if e is None else round(e / 1e3, 2))
            per_nation[n] = entry
        cid = sim.consultation_of.get(i)
        consult = (consultation_summary({n: run.nodes[n].hotline for n in nations}, cid,
                                        launch_t) if cid is not None else
                   launch_block(None))
        summary["launches"].append({"id": missile, "nations": per_nation,
                                    "consultation": consult})
    return summary


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
    campaign = scenario.cyber_campaign()
    cyber_policy = cyber_policy_for(scenario, policy, regime) if campaign is not None else None
    (out_dir / "alerts").mkdir(parents=True, exist_ok=True)
    (out_dir / "audit").mkdir(parents=True, exist_ok=True)
    (out_dir / "statements").mkdir(parents=True, exist_ok=True)
    for old in list((out_dir / "audit").glob("*.sqlite")) + list(
            (out_dir / "alerts").glob("*.xml")) + list(
            (out_dir / "statements").glob("*.json")):
        old.unlink()  # a run's outputs are its own: no leftovers from a previous run

    def write_alert(ev: WarningEvent) -> None:
        write(ev.message, out_dir / "alerts")

    sim = simulate(scenario, truth, policy, seed, assess_every_s=assess_every_s,
                   progress=progress, on_warning=write_alert, audit_dir=out_dir / "audit")
    summary = summarize(sim)
    cyber = None
    if campaign is not None and cyber_policy is not None:
        from trilink.cyber.campaign import campaign_summary, run_campaign

        cyber = run_campaign(campaign, cyber_policy, sim.nations,
                             scenario.cyber_campaign_name())
        summary["cyber"] = campaign_summary(cyber)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    record = build_record(scenario, truth, seed, policy.name, sim.nations, sim.assessments,
                          sim.warnings, summary)
    record["consultations"] = consultation_records(
        {n: sim.run.nodes[n].hotline for n in sim.nations}, truth.ids,
        sim.consultation_missiles)
    record["injects"] = injects_record(scenario, truth.epoch, sim.injected)
    if cyber is not None:
        record["cyber"] = cyber
    (out_dir / "record.json").write_text(json.dumps(record) + "\n")
    write_statements(sim, out_dir)
    write_report(record, out_dir)
    return summary


def cyber_policy_for(scenario: Scenario, policy: Policy, regime: str | None) -> Policy:
    """The policy a run replays its cyber campaign under: the scenario's ``cyber.regime``
    when it names one and ``--regime`` does not, else the run's own ``policy`` with the
    cyber agreements of the record when it takes the whole record
    (:func:`trilink.cyber.campaign.campaign_policy`)."""
    from trilink.cyber.campaign import campaign_policy
    from trilink.cyber.regimes import cyber_policy

    if regime is None and scenario.cyber is not None and scenario.cyber.regime is not None:
        return cyber_policy(scenario.cyber.regime)
    return campaign_policy(policy)


def write_statements(sim: Simulation, out_dir: Path) -> list[Path]:
    """``statements/<id>.json`` for every released statement, and ``keys.json``."""
    any_node = next(iter(sim.run.nodes.values()))
    (out_dir / "statements").mkdir(parents=True, exist_ok=True)
    (out_dir / "keys.json").write_text(any_node.hotline.registry.to_json())
    written = []
    for nation in sim.nations:
        desk = sim.run.nodes[nation].hotline
        for cid, c in sorted(desk.consultations.items()):
            if c.opener != nation:
                continue
            for st in c.folded.board.statements.values():
                if st.released is None:
                    continue
                utc = None
                epoch = sim.truth.epoch
                if st.released_t_s is not None and epoch is not None:
                    when = epoch + dt.timedelta(seconds=st.released_t_s)
                    utc = when.isoformat(timespec="seconds").replace("+00:00", "Z")
                doc = release_document(cid, c.parties, st.released, st.released_t_s, utc)
                path = out_dir / "statements" / f"{st.statement_id.replace('/', '_')}.json"
                path.write_text(json.dumps(doc, indent=1) + "\n")
                written.append(path)
    return written
