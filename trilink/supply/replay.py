"""Replays of supply shocks: when would each nation have been warned under each sharing
regime — Monte Carlo over the simulated parts, with 95 % confidence intervals.

Per run (seeded): the public series is built (published months exact, the rest
simulated) and watched by :class:`~trilink.supply.detect.ShockDetector`; its alarm
reaches every nation on the day the alarming month is published. Each private signal
(data only its observer holds) fires after a lognormal delay, and reaches a partner only
if the regime's agreements route a ``supply_indicator`` from the observer to it at that
moment, after the route's latency (``trilink/data/agreements/supply-chain-ews-2023.yaml``:
two days, via diplomatic missions). Regimes, as in ``trilink compare``:

- ``alone`` — nobody shares;
- ``record`` — the agreements as they stood at each moment (no EWS before 2023-08-18);
- a date ``YYYY-MM-DD`` — the agreements in force on that date, applied throughout (a
  what-if: 2024-01-01 asks what today's EWS would have bought in 2019);
- a shipped regime id.

A nation's *watch* date is the control's announcement (public, a leading signal); its
*warning* date the first detection it learns of. Days count from the control's
effective date.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from trilink.datafile import FileInvalidError, FileProblem, parse_yaml_model
from trilink.sharing.agreements import DataKind
from trilink.sharing.policy import Direct, Policy, Relay, policy_for
from trilink.supply.controls import Measure, shipped_controls
from trilink.supply.detect import ShockDetector
from trilink.supply.series import Series, build, shipped_series

DEFAULT_REGIMES = ("alone", "record", "2024-01-01")


class ReplayInvalidError(FileInvalidError):
    """A replay file failed validation."""


class Private(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    observer: str
    what: str
    median_days: float = Field(gt=0, le=365)
    sigma: float = Field(ge=0, le=2)


class Replay(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    title: str
    nations: tuple[str, ...] = Field(min_length=1)
    control: str
    series: str
    # Further series shown beside the replay as context (prices, inventories), not watched.
    context: tuple[str, ...] = ()
    private: tuple[Private, ...] = ()


def shipped_replays_dir() -> Path:
    return Path(str(resources.files("trilink") / "data" / "supply" / "replays"))


@functools.cache
def load_replay(name: str) -> Replay:
    p = Path(name)
    if not p.is_file():
        p = shipped_replays_dir() / f"{name}.yaml"
    if not p.is_file():
        known = ", ".join(sorted(q.stem for q in shipped_replays_dir().glob("*.yaml")))
        raise ReplayInvalidError([FileProblem(name, 0, "(file)",
                                              f"no such replay; shipped: {known}")])
    replay, _ = parse_yaml_model(p.read_text(encoding="utf-8"), str(p), Replay,
                                 ReplayInvalidError)
    problems = []
    if replay.control not in {m.id for m in shipped_controls().measures}:
        problems.append(FileProblem(str(p), 0, "control", f"unknown control {replay.control!r}"))
    for field, sid in [("series", replay.series)] + [("context", c) for c in replay.context]:
        if sid not in shipped_series():
            problems.append(FileProblem(str(p), 0, field, f"unknown series {sid!r}"))
    if problems:
        raise ReplayInvalidError(problems)
    return replay


@dataclass(frozen=True)
class RunResult:
    watch_day: dict[str, float]
    warn_day: dict[str, dict[str, float]]  # regime → nation → days after effective
    public_alarm_month: str | None
    simulated_months: int
    published_months: int


def regime_policy(label: str) -> Policy | None:
    """``alone`` → None (no sharing); ``record``, a date or a regime id → its policy."""
    if label == "alone":
        return None
    if label == "record":
        return policy_for(None, None)
    try:
        day = dt.date.fromisoformat(label)
    except ValueError:
        return policy_for(label, None)
    return policy_for(None, day)


def _delay_days(policy: Policy, sender: str, recipient: str, when: dt.datetime) -> float:
    """Days for a supply indicator from sender to recipient, or inf if not allowed."""
    route = policy.route(sender, recipient, DataKind.SUPPLY_INDICATOR, when,
                         frozenset({sender, recipient}), sender)
    if isinstance(route, Direct | Relay):
        return route.latency_s / 86400.0
    return math.inf


def public_alarm(series: Series, control: Measure) -> int | None:
    """The month (index) of the detector's first alarm about the control, if any.

    An alarm counts only on a figure of the month of the announcement or later, and
    published no earlier than a month before the control took effect: an alarm on
    earlier months is noise (often in simulated months), not news of the control, so
    the detector is rearmed and watches on.
    """
    det = ShockDetector()
    announced = control.announced.strftime("%Y-%m")
    for k, value in enumerate(series.values):
        if det.update(value):
            if (series.months[k] >= announced and series.available_on(k)
                    >= control.effective - dt.timedelta(days=31)):
                return k
            det.rearm()
    return None


def run_once(replay: Replay, seed: int,
             regimes: tuple[str, ...] = DEFAULT_REGIMES,
             policies: Mapping[str, Policy | None] | None = None) -> RunResult:
    """One seeded run. ``policies`` maps a regime label to its policy (None: nobody
    shares) when the caller resolves labels itself (``trilink compare`` does)."""
    control = next(m for m in shipped_controls().measures if m.id == replay.control)
    effective = control.effective
    series = build(shipped_series()[replay.series], seed)
    k_alarm = public_alarm(series, control)
    public_day = math.inf
    alarm_month = None
    if k_alarm is not None:
        public_day = float((series.available_on(k_alarm) - effective).days)
        alarm_month = series.months[k_alarm]
    rng = np.random.default_rng([seed, 7, sum(map(ord, replay.id))])
    private = [(p.observer, float(p.median_days * math.exp(rng.normal(0, p.sigma))))
               for p in replay.private]
    watch = float((control.announced - effective).days)
    start = dt.datetime(effective.year, effective.month, effective.day, tzinfo=dt.UTC)
    warn: dict[str, dict[str, float]] = {r: {} for r in regimes}
    for label in regimes:
        policy = policies[label] if policies is not None else _policies(label)
        for n in replay.nations:
            heard = [d for who, d in private if who == n]
            if policy is not None:
                heard += [d + _delay_days(policy, who, n, start + dt.timedelta(days=d))
                          for who, d in private if who != n]
            warn[label][n] = min([public_day, *heard])
    return RunResult({n: watch for n in replay.nations}, warn, alarm_month,
                     sum(1 for p in series.published if not p),
                     sum(1 for p in series.published if p))


def _ci(values: list[float]) -> dict[str, float | None]:
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) < len(values) or not finite:
        return {"mean": None, "ci_low": None, "ci_high": None,
                "never": len(values) - len(finite)}
    a = np.asarray(finite)
    half = 1.96 * float(a.std(ddof=1)) / math.sqrt(len(a)) if len(a) > 1 else 0.0
    return {"mean": round(float(a.mean()), 1), "ci_low": round(float(a.mean()) - half, 1),
            "ci_high": round(float(a.mean()) + half, 1), "never": 0}


@functools.cache
def _policies(label: str) -> Policy | None:
    return regime_policy(label)


def compare_replay(name: str, runs: int = 50, seed: int = 0,
                   regimes: tuple[str, ...] = DEFAULT_REGIMES) -> dict[str, object]:
    """Warning days per nation and regime over ``runs`` seeded runs, with 95 % CIs of
    the mean and of the paired difference to the first regime (negative = earlier)."""
    replay = load_replay(name)
    control = next(m for m in shipped_controls().measures if m.id == replay.control)
    results = [run_once(replay, seed * 100_003 + i, regimes) for i in range(runs)]
    base = regimes[0]
    nations: dict[str, object] = {}
    for n in replay.nations:
        entry: dict[str, object] = {"watch_day": results[0].watch_day[n]}
        first = [r.warn_day[base][n] for r in results]
        for label in regimes:
            days = [r.warn_day[label][n] for r in results]
            entry[label] = _ci(days)
            if label != base:
                entry[f"{label}_minus_{base}"] = _ci(
                    [b - a for a, b in zip(first, days, strict=True)])
        nations[n] = entry
    months = sorted({r.public_alarm_month for r in results if r.public_alarm_month})
    return {"replay": replay.id, "title": replay.title, "runs": runs, "seed": seed,
            "regimes": list(regimes), "baseline": base,
            "control": control.id, "announced": control.announced.isoformat(),
            "effective": control.effective.isoformat(),
            "days_from": "the control's effective date",
            "series": replay.series, "public_alarm_months": months,
            "simulated": {"series_months_simulated": results[0].simulated_months,
                          "series_months_published": results[0].published_months,
                          "private_signals": [p.what for p in replay.private],
                          "note": "private signals' delays and the unpublished months "
                                  "are simulated (assumptions in the replay and series "
                                  "files)"},
            "nations": nations}
