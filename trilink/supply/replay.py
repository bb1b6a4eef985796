"""Replays of supply shocks: when would each nation have been warned, alone and with the
early-warning system's sharing — Monte Carlo over the simulated parts, with 95 %
confidence intervals.

Per run (seeded): the public series is built (published months exact, the rest
simulated) and watched by :class:`~trilink.supply.detect.ShockDetector`; its alarm
reaches every nation on the day the alarming month is published. Each private signal
(data only its observer holds) fires after a lognormal delay; with sharing, it reaches
the partners after the EWS's delay too. A nation's *watch* date is the control's
announcement (public, a leading signal); its *warning* date the first detection it
learns of. Days are counted from the control's effective date.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from trilink.datafile import FileInvalidError, FileProblem, parse_yaml_model
from trilink.supply.controls import shipped_controls
from trilink.supply.detect import ShockDetector
from trilink.supply.series import build, shipped_series

REGIMES = ("alone", "ews")


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
    private: tuple[Private, ...] = ()
    sharing_delay_median_days: float = Field(ge=0, le=60)
    sharing_delay_sigma: float = Field(ge=0, le=2)


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
    if replay.series not in shipped_series():
        problems.append(FileProblem(str(p), 0, "series", f"unknown series {replay.series!r}"))
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


def run_once(replay: Replay, seed: int) -> RunResult:
    control = next(m for m in shipped_controls().measures if m.id == replay.control)
    effective = control.effective
    series = build(shipped_series()[replay.series], seed)
    det = ShockDetector()
    public_day = math.inf
    alarm_month = None
    for k, value in enumerate(series.values):
        if det.update(value):
            day = series.available_on(k)
            if day >= effective - dt.timedelta(days=31):
                public_day = float((day - effective).days)
                alarm_month = series.months[k]
                break
            det.rearm()  # an alarm months before the event is not about it
    rng = np.random.default_rng([seed, 7, sum(map(ord, replay.id))])
    private = [(p.observer, float(p.median_days * math.exp(rng.normal(0, p.sigma))))
               for p in replay.private]
    share = [float(replay.sharing_delay_median_days
                   * math.exp(rng.normal(0, replay.sharing_delay_sigma))) for _ in private]
    watch = float((control.announced - effective).days)
    warn: dict[str, dict[str, float]] = {r: {} for r in REGIMES}
    for n in replay.nations:
        own = [d for who, d in private if who == n]
        warn["alone"][n] = min([public_day, *own])
        shared = [d + s for (who, d), s in zip(private, share, strict=True) if who != n]
        warn["ews"][n] = min([public_day, *own, *shared])
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


def compare_replay(name: str, runs: int = 50, seed: int = 0) -> dict[str, object]:
    """Warning days per nation and regime over ``runs`` seeded runs, with 95 % CIs of
    the mean and of the paired difference (ews − alone; negative = earlier)."""
    replay = load_replay(name)
    control = next(m for m in shipped_controls().measures if m.id == replay.control)
    results = [run_once(replay, seed * 100_003 + i) for i in range(runs)]
    nations: dict[str, object] = {}
    for n in replay.nations:
        alone = [r.warn_day["alone"][n] for r in results]
        ews = [r.warn_day["ews"][n] for r in results]
        nations[n] = {
            "watch_day": results[0].watch_day[n],
            "alone": _ci(alone), "ews": _ci(ews),
            "ews_minus_alone": _ci([b - a for a, b in zip(alone, ews, strict=True)]),
        }
    months = sorted({r.public_alarm_month for r in results if r.public_alarm_month})
    return {"replay": replay.id, "title": replay.title, "runs": runs, "seed": seed,
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
