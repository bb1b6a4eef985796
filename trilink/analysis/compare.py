"""Value of sharing: the same launches under several sharing regimes, Monte Carlo.

``trilink compare SCENARIO… --regimes R1,R2,… | --dates D1,D2,… --runs N --seed S
--out DIR`` answers "what does each agreement buy each nation?" with numbers:

- **Common random numbers.** Run ``r`` draws one seed from ``(S, r)``; every regime of
  that run simulates the same truth with the same measurements (each radar's generator
  is seeded from the run seed and its own id, and the launch instant within the radars'
  scan cycle is drawn from it too), so the differences between regimes in a run are due
  to sharing alone, and differences are taken *paired*, run by run.
- **Tasks.** One task is one (scenario, run): it simulates every regime in turn. Tasks
  are independent and deterministic, so they fan out over local processes
  (``--workers``) or a Dask cluster (``--dask``) with identical results
  (:mod:`trilink.analysis.executors`).
- **Metrics** per launch and nation are those of ``summary.json``
  (:func:`trilink.sim.run.summarize`): first detection, first own track, first
  partner track, first known (any track in the picture), first warning, warning lead
  time, impact error at the first warning and at T+120/300 s, track continuity, false
  alarms, missed warnings.
- **Statistics.** For each (scenario, launch, nation, regime, metric): the mean over
  the runs where the metric is defined (``n`` of them) with a Student-t confidence
  interval, and the paired difference to the baseline regime with its interval.

Regimes: the ids of ``trilink/data/regimes`` (``national-only``, ``bilateral-us``,
``tisa-relay``, ``gsomia-direct``, ``gsomia-terminated-2019``, ``trilateral-realtime``,
``trilateral-realtime-aus``…), or ``record-YYYY-MM-DD`` for the agreements in force on a
date. A regime whose agreements bring in a partner outside the scenario's nations (the
hypothetical Australian ship) runs that partner's node with its sensors from
``trilink/data/partner_sensors.yaml``.

API::

    spec = CompareSpec(scenarios=("2022-10-04-irbm-overflight",),
                       regimes=("tisa-relay", "trilateral-realtime"), runs=20, seed=0)
    tasks = make_tasks(spec)      # picklable, one per (scenario, run)
    rows = run_task(tasks[0])     # raw rows of that run, every regime
    comparison = aggregate(spec, rows_of_all_tasks)
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy.stats import t as student_t

from trilink.errors import TrilinkError
from trilink.sensors.catalogue import RadarSpec
from trilink.sharing.agreements import AgreementInvalidError, load_regime
from trilink.sharing.policy import Policy, policy_for
from trilink.sim.flights import fly_scenarios
from trilink.sim.run import simulate, summarize
from trilink.sim.scenario import Scenario, ScenarioRadar, load_scenario
from trilink.sim.truth import Truth

SCHEMA_VERSION = 1
CONFIDENCE = 0.95
METRICS = (
    "first_detection_s", "first_track_s", "first_partner_track_s", "first_known_s",
    "first_warning_s", "warning_lead_s", "impact_error_km_at_warning",
    "impact_error_km_at_120s", "impact_error_km_at_300s", "track_continuity",
    "false_alarms", "missed_warnings",
)
PHASE_WINDOW_S = 10.0  # the slowest catalogue radar's revisit (s)
_DATE_REGIME = re.compile(r"^record-(\d{4}-\d{2}-\d{2})$")
RECORD = "record"  # the agreements as they stood at each moment
MISSILE, SUPPLY, CYBER = "missile", "supply", "cyber"
SUPPLY_METRICS = ("warning_day",)
CYBER_METRICS = ("learned_s",)
CYBER_TIMING_SIGMA = 0.5
"""Lognormal sigma of each scripted (not "record:") campaign event's time, per run."""


class CompareError(TrilinkError, ValueError):
    """A comparison that cannot be made as asked (one line for the CLI)."""


@dataclass(frozen=True)
class CompareSpec:
    """What to compare: scenarios (ids or paths), regimes, runs and the master seed.

    ``relay_delay_s`` overrides the relay delay of relayed routes (TISA) in every
    regime; ``baseline`` defaults to the first regime.
    """

    scenarios: tuple[str, ...]
    regimes: tuple[str, ...]
    runs: int = 20
    seed: int = 0
    baseline: str | None = None
    relay_delay_s: float | None = None

    @property
    def baseline_regime(self) -> str:
        return self.baseline or self.regimes[0]


@dataclass(frozen=True)
class CompareTask:
    """One (scenario, run): every regime, same measurements. Picklable."""

    scenario: str
    run: int
    run_seed: int
    regimes: tuple[str, ...]
    relay_delay_s: float | None = None


def regime_for_date(date: dt.date) -> str:
    """The regime label meaning "the agreements in force on this date"."""
    return f"record-{date.isoformat()}"


def resolve_policy(label: str, relay_delay_s: float | None = None) -> Policy:
    """The policy of a regime label (a regime id or ``record-YYYY-MM-DD``)."""
    m = _DATE_REGIME.match(label)
    if label == RECORD:
        policy = policy_for(None, None)
    elif m:
        try:
            date = dt.date.fromisoformat(m.group(1))
        except ValueError:
            raise CompareError(f"--dates: {m.group(1)!r} is not a date (YYYY-MM-DD)") from None
        policy = policy_for(None, date)
    elif (cyber := _cyber_regime_file(label)) is not None:
        policy = Policy.for_regime(load_regime(cyber))
    else:
        try:
            regime = load_regime(label)
        except AgreementInvalidError as exc:
            raise CompareError(f"--regimes: {label!r}: {exc.errors[0].problem}") from None
        policy = policy_for(regime)
    if relay_delay_s is not None:
        policy = Policy(policy.agreements, as_of=policy.as_of,
                        ignore_events=policy.ignore_events, relay_delay_s=relay_delay_s,
                        name=policy.name)
    return policy


def _cyber_regime_file(label: str) -> Path | None:
    """A shipped cyber regime (``trilink/data/cyber/regimes``): every shipped agreement
    plus the cyber ones, read on its date; usable for every domain."""
    from trilink.cyber.regimes import cyber_regimes_dir

    p = cyber_regimes_dir() / f"{label}.yaml"
    return p if re.fullmatch(r"[a-z0-9][a-z0-9-]*", label) and p.is_file() else None


def check_spec(spec: CompareSpec) -> None:
    """Validate a spec before any simulation (raises :class:`CompareError`)."""
    if not spec.scenarios:
        raise CompareError("SCENARIO: give at least one scenario")
    if not spec.regimes:
        raise CompareError("--regimes/--dates: give at least one regime")
    if len(set(spec.regimes)) != len(spec.regimes):
        raise CompareError("--regimes: a regime is listed twice")
    if spec.runs < 1:
        raise CompareError(f"--runs: expected at least 1, got {spec.runs}")
    if spec.baseline is not None and spec.baseline not in spec.regimes:
        raise CompareError(f"--baseline: {spec.baseline!r} is not one of the regimes "
                           f"({', '.join(spec.regimes)})")
    if spec.relay_delay_s is not None and spec.relay_delay_s < 0:
        raise CompareError("--relay-delay-s: expected a delay of 0 s or more")
    for label in spec.regimes:
        resolve_policy(label, spec.relay_delay_s)
    for sid in spec.scenarios:
        kind = scenario_domain(sid)
        if kind == SUPPLY:
            _supply_replay(sid)  # ReplayInvalidError: FILE:LINE lines for the CLI
        elif kind == CYBER:
            _cyber_campaign(sid)
        else:
            load_scenario(sid)  # ScenarioInvalidError: FILE:LINE lines for the CLI


def run_seed(master_seed: int, run: int) -> int:
    """The seed of run ``run``: independent streams from one master seed."""
    return int(np.random.SeedSequence([master_seed, run]).generate_state(1)[0])


def make_tasks(spec: CompareSpec) -> list[CompareTask]:
    """One task per (scenario, run), scenario-major."""
    return [CompareTask(sid, r, run_seed(spec.seed, r), spec.regimes, spec.relay_delay_s)
            for sid in spec.scenarios for r in range(spec.runs)]


@lru_cache(maxsize=8)
def _scenario_truth(scenario: str) -> tuple[Scenario, Truth]:
    """The fitted truth of a scenario, once per process (the same for every run)."""
    sc = load_scenario(scenario)
    return sc, Truth.from_launch_flights(fly_scenarios([sc]))


@lru_cache(maxsize=1)
def partner_sensors() -> tuple[RadarSpec, ...]:
    """Sensors of partners outside the trilateral system (``partner_sensors.yaml``)."""
    text = resources.files("trilink.data").joinpath("partner_sensors.yaml").read_text(
        encoding="utf-8")
    return tuple(ScenarioRadar.model_validate(x) for x in yaml.safe_load(text)["sensors"])


def _partners(policy: Policy, scenario: Scenario) -> tuple[tuple[str, ...], tuple[RadarSpec, ...]]:
    """Nations the policy's agreements bring in beyond the scenario's, with sensors."""
    parties = {p for a in policy.agreements for p in a.parties}
    extra = sorted(n for n in parties if n not in scenario.nations
                   and any(s.nation == n for s in partner_sensors()))
    return tuple(extra), tuple(s for s in partner_sensors() if s.nation in extra)


def _shifted(truth: Truth, offset_s: float) -> Truth:
    """The same flights launched ``offset_s`` later (failures and outages with them)."""
    return dataclasses.replace(
        truth, launch_t_s=truth.launch_t_s + offset_s,
        failure_t_s=None if truth.failure_t_s is None else truth.failure_t_s + offset_s,
        outages=tuple(dataclasses.replace(o, from_s=o.from_s + offset_s,
                                          to_s=o.to_s + offset_s) for o in truth.outages))


def run_task(task: CompareTask) -> list[dict[str, Any]]:
    """Simulate every regime of one run; raw rows ``{scenario, launch, nation, regime,
    run, metric, value}`` (value None where the metric is undefined).

    Besides the measurement noise, a run draws the instant of launch within one
    revisit of the slowest radar (:data:`PHASE_WINDOW_S`): radars scan on their own
    clocks, so when a launch falls in their scan cycle is chance. Everything is
    measured from each launch.
    """
    kind = scenario_domain(task.scenario)
    if kind == SUPPLY:
        return _supply_rows(task)
    if kind == CYBER:
        return _cyber_rows(task)
    scenario, base_truth = _scenario_truth(task.scenario)
    rng = np.random.default_rng(np.random.SeedSequence([task.run_seed, 1]))
    truth = _shifted(base_truth, float(rng.uniform(0.0, PHASE_WINDOW_S)))
    rows: list[dict[str, Any]] = []
    for label in task.regimes:
        policy = resolve_policy(label, task.relay_delay_s)
        extra, sensors = _partners(policy, scenario)
        sim = simulate(scenario, truth, policy, task.run_seed, extra_nations=extra,
                       sensors=sensors or None)
        for launch in summarize(sim)["launches"]:
            for nation, figures in launch["nations"].items():
                for metric in METRICS:
                    value = figures.get(metric)
                    rows.append({"scenario": scenario.id, "launch": launch["id"],
                                 "nation": nation, "regime": label, "run": task.run,
                                 "metric": metric,
                                 "value": None if value is None else float(value)})
    return rows


def _interval(values: Sequence[float], confidence: float) -> tuple[float | None, float | None,
                                                                  float | None]:
    """Mean and Student-t confidence interval (None where undefined)."""
    n = len(values)
    if n == 0:
        return None, None, None
    mean = float(np.mean(values))
    if n < 2:
        return mean, None, None
    half = float(student_t.ppf(0.5 + confidence / 2, n - 1) * np.std(values, ddof=1)
                 / math.sqrt(n))
    return mean, mean - half, mean + half


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def aggregate(spec: CompareSpec, rows: Iterable[dict[str, Any]],
              confidence: float = CONFIDENCE) -> dict[str, Any]:
    """``comparison.json``: per (scenario, launch, nation, regime, metric) the mean and
    CI over runs, and the paired difference to the baseline regime with its CI."""
    values: dict[tuple[str, str, str, str, str], dict[int, float]] = defaultdict(dict)
    for row in rows:
        if row["value"] is not None:
            key = (row["scenario"], row["launch"], row["nation"], row["regime"],
                   row["metric"])
            values[key][int(row["run"])] = float(row["value"])
        else:
            values.setdefault((row["scenario"], row["launch"], row["nation"], row["regime"],
                               row["metric"]), {})
    baseline = spec.baseline_regime
    results = []
    order = {r: i for i, r in enumerate(spec.regimes)}
    metric_order = {m: i for i, m in enumerate(METRICS)}
    for key in sorted(values, key=lambda k: (k[0], k[1], k[2], order.get(k[3], 99),
                                             metric_order.get(k[4], 99))):
        scenario, launch, nation, regime, metric = key
        runs = values[key]
        mean, lo, hi = _interval(list(runs.values()), confidence)
        diff: tuple[float | None, float | None, float | None] = (None, None, None)
        diff_n = 0
        if regime != baseline:
            base = values.get((scenario, launch, nation, baseline, metric), {})
            paired = [runs[r] - base[r] for r in sorted(runs) if r in base]
            diff_n = len(paired)
            diff = _interval(paired, confidence)
        results.append({
            "scenario": scenario, "launch": launch, "nation": nation, "regime": regime,
            "metric": metric, "n": len(runs), "mean": _r(mean), "ci_low": _r(lo),
            "ci_high": _r(hi), "diff_mean": _r(diff[0]), "diff_ci_low": _r(diff[1]),
            "diff_ci_high": _r(diff[2]), "diff_n": diff_n,
        })
    scenarios = []
    for sid in spec.scenarios:
        kind = scenario_domain(sid)
        if kind == SUPPLY:
            scenarios.append(_supply_info(sid, spec))
            continue
        if kind == CYBER:
            scenarios.append(_cyber_info(sid))
            continue
        sc, truth = _scenario_truth(sid)
        scenarios.append({"id": sc.id, "title": sc.title, "launches": [
            {"id": f"{sc.id}/{launch.id}", "missile": launch.missile,
             "launch_utc": launch.time_utc.isoformat().replace("+00:00", "Z"),
             "flight_time_s": round(float(truth.flights.flight_time_s[i]), 1)}
            for i, launch in enumerate(sc.launches)]})
    regimes = [{"id": label, "name": _name(label), "description": _describe(label)}
               for label in spec.regimes]
    return {"schema_version": SCHEMA_VERSION, "scenarios": scenarios, "regimes": regimes,
            "baseline": baseline, "runs": spec.runs, "seed": spec.seed,
            "confidence": confidence, "relay_delay_s": spec.relay_delay_s,
            "results": results}


def _load_label(label: str) -> Any:
    cyber = _cyber_regime_file(label)
    return load_regime(cyber if cyber is not None else label)


def _name(label: str) -> str:
    if label == RECORD:
        return "The record as it stood"
    m = _DATE_REGIME.match(label)
    return f"Record of {m.group(1)}" if m else str(_load_label(label).name)


def _describe(label: str) -> str:
    if label == RECORD:
        return ("The agreements on the record, each read at the moment of the event "
                "(what was in force then).")
    m = _DATE_REGIME.match(label)
    if m:
        return f"The agreements in force on {m.group(1)} (the record)."
    regime = _load_label(label)
    return " ".join(f"{regime.name}. {regime.description or ''}".split())


def write_outputs(out_dir: Path, comparison: dict[str, Any],
                  rows: Sequence[dict[str, Any]]) -> None:
    """``comparison.json``, ``comparison.csv``, ``runs.csv`` and ``report.html``."""
    import json

    from trilink.report.comparison import write_comparison_report

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "comparison.json").write_text(json.dumps(comparison, indent=1) + "\n")
    fields = ["scenario", "launch", "nation", "regime", "metric", "n", "mean", "ci_low",
              "ci_high", "diff_mean", "diff_ci_low", "diff_ci_high", "diff_n"]
    _write_csv(out_dir / "comparison.csv", fields, comparison["results"])
    _write_csv(out_dir / "runs.csv",
               ["scenario", "launch", "nation", "regime", "run", "metric", "value"], rows)
    write_comparison_report(comparison, list(rows), out_dir)


def _write_csv(path: Path, fields: list[str], rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for row in rows:
            w.writerow({k: "" if row.get(k) is None else row[k] for k in fields})


def run_comparison(spec: CompareSpec, *, workers: int | None = None,
                   dask_address: str | None = None,
                   progress: Callable[[int, int], None] | None = None,
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Check, fan out, gather and aggregate: ``(comparison, raw rows)``."""
    from trilink.analysis.executors import map_tasks

    check_spec(spec)
    tasks = make_tasks(spec)
    results = map_tasks(run_task, tasks, workers=workers, dask_address=dask_address,
                        progress=progress)
    rows = [row for task_rows in results for row in task_rows]
    return aggregate(spec, rows), rows


# ------------------------------------------------------------- supply and cyber domains
# The same tasks, rows and statistics serve the supply-chain replays
# (trilink/supply/replay.py: when each nation is warned of a shortfall, in days after the
# control took effect) and the cyber campaigns (trilink/cyber/campaign.py: when each
# nation first holds each indicator, in seconds after the campaign's epoch). Their own
# functions do the work; this adapter only resolves regimes and turns results into rows.


@lru_cache(maxsize=64)
def scenario_domain(sid: str) -> str:
    """``supply`` (a replay id or file), ``cyber`` (a campaign file or shipped id with a
    ``cyber:`` section) or ``missile`` (anything else: a scenario)."""
    from trilink.supply.replay import shipped_replays_dir

    p = Path(sid)
    if not p.is_file():
        if (shipped_replays_dir() / f"{sid}.yaml").is_file():
            return SUPPLY
        p = _shipped_cyber_dir() / f"{sid}.yaml"
        if not p.is_file():
            return MISSILE
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return MISSILE  # load_scenario gives the one-line error
    if isinstance(doc, dict) and "cyber" in doc:
        return CYBER
    if isinstance(doc, dict) and "series" in doc and "control" in doc:
        return SUPPLY
    return MISSILE


@lru_cache(maxsize=32)
def _cached_policy(label: str, relay_delay_s: float | None) -> Policy:
    """Policies are read-only; the supply and cyber runs are short enough that loading
    the agreements each run would dominate."""
    return resolve_policy(label, relay_delay_s)


def _shipped_cyber_dir() -> Path:
    return Path(str(resources.files("trilink.data").joinpath("cyber")))


def _supply_replay(sid: str) -> Any:
    from trilink.supply.replay import load_replay

    return load_replay(sid)


@lru_cache(maxsize=8)
def _cyber_campaign(sid: str) -> Any:
    from trilink.cyber.campaign import load_campaign

    p = Path(sid)
    return load_campaign(p if p.is_file() else _shipped_cyber_dir() / f"{sid}.yaml")


def _cyber_id(sid: str) -> str:
    return Path(sid).stem


def _supply_rows(task: CompareTask) -> list[dict[str, Any]]:
    from trilink.supply.replay import run_once

    replay = _supply_replay(task.scenario)
    policies = {label: _cached_policy(label, task.relay_delay_s) for label in task.regimes}
    result = run_once(replay, task.run_seed, task.regimes, policies)
    launch = f"{replay.id}/{replay.control}"
    return [{"scenario": replay.id, "launch": launch, "nation": n, "regime": label,
             "run": task.run, "metric": "warning_day",
             "value": day if math.isfinite(day) else None}
            for label in task.regimes for n, day in result.warn_day[label].items()]


def jittered_campaign(spec: Any, run_seed_: int, sigma: float = CYBER_TIMING_SIGMA) -> Any:
    """The campaign with each scripted event's time scaled by a lognormal factor drawn
    from the run's seed (the same for every regime of the run); events whose note starts
    with "record" keep their time."""
    rng = np.random.default_rng(np.random.SeedSequence([run_seed_, 2]))
    events = []
    for ev in spec.events:
        factor = float(np.exp(rng.normal(0.0, sigma)))  # drawn for every event: CRN
        record = ev.note.strip().lower().startswith("record")
        events.append(ev if record else ev.model_copy(update={"t_s": round(ev.t_s * factor,
                                                                           1)}))
    return spec.model_copy(update={"events": tuple(events)})


def _cyber_addresses(spec: Any) -> dict[str, str]:
    """Indicator id → the address it is about (first event naming it)."""
    from trilink.cyber.corpus import shipped_corpus

    corpus = shipped_corpus()
    out: dict[str, str] = {}
    for ev in spec.events:
        out.setdefault(str(corpus.indicator_for(ev.address)["id"]), ev.address)
    return out


def _cyber_rows(task: CompareTask) -> list[dict[str, Any]]:
    from trilink.cyber.campaign import cyber_value_of_sharing

    spec = _cyber_campaign(task.scenario)
    policies = {label: _cached_policy(label, task.relay_delay_s) for label in task.regimes}
    result = cyber_value_of_sharing(jittered_campaign(spec, task.run_seed), policies)
    cid = _cyber_id(task.scenario)
    addresses = _cyber_addresses(spec)
    rows = []
    for label in task.regimes:
        for nation, row in result["regimes"][label].items():
            for iid, cell in row.items():
                got = cell["learned_s"]
                rows.append({"scenario": cid, "launch": f"{cid}/{addresses.get(iid, iid)}",
                             "nation": nation, "regime": label, "run": task.run,
                             "metric": "learned_s",
                             "value": None if got is None else float(got)})
    return rows


def _supply_info(sid: str, spec: CompareSpec) -> dict[str, Any]:
    """What the report shows of a supply replay: the control, the series of run 0 (which
    months are published, with sources, which simulated), the detector's public alarm in
    that run, and the list changes in force around the event."""
    from trilink.supply.controls import changes_between, shipped_controls, what_applied
    from trilink.supply.replay import run_once
    from trilink.supply.series import build, shipped_series

    replay = _supply_replay(sid)
    control = next(m for m in shipped_controls().measures if m.id == replay.control)
    seed0 = run_seed(spec.seed, 0)
    sspec = shipped_series()[replay.series]
    series = build(sspec, seed0)
    first = run_once(replay, seed0, ("alone",), {"alone": None})
    start = control.announced - dt.timedelta(days=365)
    end = control.effective + dt.timedelta(days=365 * 4)
    return {
        "id": replay.id, "title": replay.title, "kind": SUPPLY,
        "nations": list(replay.nations),
        "days_from": f"the control's effective date, {control.effective.isoformat()}",
        "control": {"id": control.id, "imposed_by": control.imposed_by,
                    "effect": control.effect, "announced": control.announced.isoformat(),
                    "effective": control.effective.isoformat(),
                    "sources": list(control.sources)},
        "series": _series_doc(series, seed0),
        "context": [_series_doc(build(shipped_series()[c], seed0), seed0)
                    for c in replay.context],
        "public_alarm_month_run0": first.public_alarm_month,
        "public_alarm_published_run0": None if first.public_alarm_month is None else
        series.available_on(series.months.index(first.public_alarm_month)).isoformat(),
        "list_changes": [{"day": c.day.isoformat(), "imposed_by": c.imposed_by,
                          "what": c.what, "affects": list(c.affects),
                          "sources": list(c.sources)}
                         for c in changes_between(start, end)],
        "in_force_on_effective": [
            {"destination": dest, "what": a.what,
             "since": None if a.since == dt.date.min else a.since.isoformat(),
             "until": a.until.isoformat() if a.until else None, "sources": list(a.sources)}
            for dest in replay.nations if dest != control.imposed_by
            for a in what_applied(control.imposed_by, dest, control.items[0],
                                  control.effective)],
        "simulated": {"series_months_simulated": first.simulated_months,
                      "series_months_published": first.published_months,
                      "private_signals": [{"observer": p.observer, "what": p.what,
                                           "median_days": p.median_days, "sigma": p.sigma}
                                          for p in replay.private],
                      "note": "the unpublished months of the series and the private "
                              "signals' delays are SIMULATED (assumptions of the series "
                              "and replay files)"},
        "launches": [{"id": f"{replay.id}/{replay.control}", "label": control.id}],
    }


def _series_doc(series: Any, seed: int) -> dict[str, Any]:
    sspec = series.spec
    return {"id": sspec.id, "measure": sspec.measure, "good": sspec.good,
            "reporter": sspec.reporter, "flow": sspec.flow, "partner": sspec.partner,
            "unit": sspec.unit, "publication_lag_days": sspec.publication_lag_days,
            "run": 0, "seed": seed, "months": list(series.months),
            "values": list(series.values), "published": list(series.published),
            "sources": [{"month": p.month, "value": p.value, "source": p.source,
                         "derived": p.derived, "note": p.note} for p in sspec.published]}


def _cyber_info(sid: str) -> dict[str, Any]:
    from trilink.cyber.corpus import shipped_corpus

    spec = _cyber_campaign(sid)
    cid = _cyber_id(sid)
    corpus = shipped_corpus()
    addresses = _cyber_addresses(spec)
    return {
        "id": cid, "title": spec.name, "kind": CYBER,
        "epoch": spec.epoch.isoformat().replace("+00:00", "Z"),
        "days_from": "the campaign's epoch (seconds)",
        "sources": list(spec.sources),
        "simulated": {"note": spec.simulated, "timing_sigma": CYBER_TIMING_SIGMA,
                      "method": "each run scales every scripted event's time (those whose "
                                "note does not start with \"record\") by a lognormal "
                                f"factor of sigma {CYBER_TIMING_SIGMA} (SIMULATED spread)"},
        "events": [{"t_s": ev.t_s, "nation": ev.nation, "action": ev.action,
                    "address": ev.address, "tlp": ev.tlp, "note": ev.note,
                    "jittered": not ev.note.strip().lower().startswith("record")}
                   for ev in spec.events],
        "launches": [{"id": f"{cid}/{addr}", "indicator": iid, "address": addr,
                      "name": str(corpus.indicator_for(addr).get("name", ""))}
                     for iid, addr in addresses.items()],
    }
