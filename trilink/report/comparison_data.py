"""A typed, null-safe view of a regime comparison and the statistics the page draws on.

Input: the dict of ``comparison.json`` (summary statistics per scenario, launch, nation,
regime and metric, with the paired difference to the baseline regime) and the rows of
``runs.csv`` (one value per Monte Carlo run). Everything missing, ``null``, non-finite or
of the wrong type is read as "undefined"; nothing here raises on odd input.

Per launch the page quotes the comparison's own statistics. Across several launches it
pools the runs itself (see :func:`pooled`): per run, the mean over the launches where the
metric is defined, then the mean over runs with a Student *t* interval at the comparison's
confidence level. Paired differences are pooled the same way, launch by launch within a
run, so the common random numbers still cancel.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy import stats

from trilink.report.fmt import DASH, missile_name, num

__all__ = [
    "Comparison",
    "Headline",
    "LaunchInfo",
    "Metric",
    "RegimeInfo",
    "Stat",
    "describe_ci",
    "describe_diff",
    "headlines",
    "interval_text",
    "metric_info",
    "parse_comparison",
    "pooled",
    "pooled_diff",
    "t_interval",
]

NATION_ORDER = ("USA", "JPN", "KOR")
HEADLINE_METRICS = ("first_known_s", "warning_lead_s", "first_warning_s")
"""The metrics a nation's headline is chosen from first (all in seconds, so comparable)."""

LaunchKey = tuple[str, str]
"""(scenario id, launch id): launch ids need only be unique within their scenario."""


@dataclass(frozen=True)
class Metric:
    """How a metric is named, formatted and judged."""

    id: str
    label: str
    """Table label, capitalised: 'First known'."""
    phrase: str
    """In a sentence: 'first known'."""
    kind: str
    """'time' (s after launch), 'lead' (s), 'km', 'fraction' (0-1), 'count', 'rate'
    (0-1 shown in %), or 'other'."""
    better: int
    """-1 lower is better, +1 higher is better, 0 unknown."""
    doc: str = ""

    @property
    def unit(self) -> str:
        """The unit a value is shown in."""
        return {"time": "s", "lead": "s", "km": "km", "rate": "%"}.get(self.kind, "")

    @property
    def diff_unit(self) -> str:
        """The unit a difference is shown in (percentage points for rates)."""
        return "pp" if self.kind == "rate" else self.unit

    def scaled(self, value: float) -> float:
        """The value in display units (rates as percentages)."""
        return value * 100.0 if self.kind == "rate" else value

    def digits(self, value: float) -> int:
        """Decimals to show for a value in display units."""
        a = abs(value)
        if self.kind in ("time", "lead", "rate"):
            return 0 if a >= 10 else 1
        if self.kind == "km":
            return 0 if a >= 100 else 1
        if self.kind in ("fraction", "count"):
            return 2
        return 0 if a >= 100 else (1 if a >= 10 else 2)

    def number(self, value: float | None, *, signed: bool = False, unit: str | None = None
               ) -> str:
        """A value (already in display units) as text: '48 s', '−12 s', '0.93', or a dash."""
        if value is None or not math.isfinite(value):
            return DASH
        u = self.unit if unit is None else unit
        digits = self.digits(value) if value != 0 else 0
        while digits < 3 and value != 0 and round(abs(value), digits) == 0:
            digits += 1     # a small non-zero value does not show as 0
        text = num(abs(value), u, digits)
        zero = round(abs(value), digits) == 0
        if zero:
            return text
        if value < 0:
            return "−" + text
        return ("+" + text) if signed else text

    def value_text(self, value: float | None) -> str:
        """A value in display units with its unit."""
        return self.number(None if value is None else self.scaled(value))

    def diff_text(self, value: float | None) -> str:
        """A signed difference with its unit."""
        return self.number(None if value is None else self.scaled(value), signed=True,
                           unit=self.diff_unit)


_METRICS = (
    Metric("warning_lead_s", "Warning lead", "warning lead", "lead", +1,
           "Seconds of warning before the overflight or impact that threatened the nation "
           "(only where it was threatened)."),
    Metric("first_known_s", "First known", "first known", "time", -1,
           "First track of any origin (own or a partner's) in the nation's picture: when "
           "it knew about the missile."),
    Metric("first_warning_s", "First warning", "first warning", "time", -1,
           "The nation's first warning (CAP Alert) about the missile."),
    Metric("first_detection_s", "First detection (own)", "own first detection", "time", -1,
           "First detection by the nation's own sensors."),
    Metric("first_track_s", "First own track", "first own track", "time", -1,
           "First track held by the nation's own tracker."),
    Metric("first_partner_track_s", "First partner track", "first partner track", "time", -1,
           "First track received from a partner under the regime's agreements."),
    Metric("impact_error_km_at_120s", "Impact error at T+120 s",
           "impact-prediction error at T+120 s", "km", -1,
           "Distance from the nation's best predicted impact point at T+120 s to the true "
           "impact."),
    Metric("impact_error_km_at_300s", "Impact error at T+300 s",
           "impact-prediction error at T+300 s", "km", -1,
           "The same at T+300 s."),
    Metric("impact_error_km_at_warning", "Impact error at first warning",
           "impact-prediction error at the first warning", "km", -1,
           "Distance from the predicted impact point of the first warning to the true "
           "impact."),
    Metric("track_continuity", "Track continuity", "track continuity", "fraction", +1,
           "Share of the flight during which the nation held a track (0-1)."),
    Metric("missed_warnings", "Missed warnings", "missed-warning rate", "rate", -1,
           "Share of runs in which a threatened nation issued no warning."),
    Metric("false_alarms", "False alarms", "false alarms", "count", -1,
           "Warnings per run whose level the truth did not bear out."),
)
METRICS: dict[str, Metric] = {m.id: m for m in _METRICS}
_ORDER = {m.id: k for k, m in enumerate(_METRICS)}


def metric_info(metric_id: str) -> Metric:
    """The description of a metric (a neutral one for metrics this page does not know)."""
    known = METRICS.get(metric_id)
    if known is not None:
        return known
    label = metric_id.replace("_", " ")
    return Metric(metric_id, label[:1].upper() + label[1:], label, "other", 0)


# ---------------------------------------------------------------------------- values
@dataclass(frozen=True)
class Stat:
    """A mean over runs with its confidence interval; ``n`` runs where it was defined."""

    n: int
    mean: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def has_ci(self) -> bool:
        """True when both ends of the interval are known."""
        return self.low is not None and self.high is not None

    @property
    def significant(self) -> bool:
        """True when the interval excludes 0 (for a difference: a significant one)."""
        return (self.low is not None and self.high is not None and self.mean is not None
                and (self.low > 0 or self.high < 0))


EMPTY = Stat(0)


@dataclass(frozen=True)
class RegimeInfo:
    """A regime compared."""

    id: str
    name: str
    description: str


@dataclass(frozen=True)
class LaunchInfo:
    """A launch of a scenario."""

    scenario: str
    id: str
    missile: str
    launch_utc: str
    flight_time_s: float | None

    @property
    def key(self) -> LaunchKey:
        """(scenario, launch id)."""
        return (self.scenario, self.id)

    def utc_text(self) -> str:
        """The launch time as '2022-10-04 22:22:00 UTC' (or as given when not ISO)."""
        if not self.launch_utc:
            return ""
        try:
            t = dt.datetime.fromisoformat(self.launch_utc.replace("Z", "+00:00"))
        except ValueError:
            return self.launch_utc
        if t.tzinfo is not None:
            t = t.astimezone(dt.UTC)
        return t.strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class ScenarioInfo:
    """A scenario compared."""

    id: str
    title: str


@dataclass
class Comparison:
    """Everything the page shows, in a stable order."""

    schema_version: str
    scenarios: list[ScenarioInfo]
    regimes: list[RegimeInfo]
    baseline: str
    runs: int | None
    seed: str
    confidence: float
    launches: list[LaunchInfo]
    nations: list[str]
    metrics: list[str]
    results: dict[tuple[str, str, str, str, str], tuple[Stat, Stat | None]]
    """(scenario, launch, nation, regime, metric) -> (value, difference to baseline)."""
    samples: dict[tuple[str, str, str], dict[LaunchKey, dict[str, float | None]]] = field(
        default_factory=dict)
    """(nation, regime, metric) -> launch -> run -> value."""
    units: dict[tuple[str, str], int] = field(default_factory=dict)
    """(nation, regime) -> number of (launch, run) pairs seen in the rows."""

    @property
    def regime_ids(self) -> list[str]:
        """Regime ids in the comparison's order."""
        return [r.id for r in self.regimes]

    @property
    def conf_text(self) -> str:
        """The confidence level as '95 %'."""
        return f"{self.confidence * 100:g}\u202f%"

    def regime(self, regime_id: str) -> RegimeInfo:
        """A regime by id (a bare one when unknown)."""
        for r in self.regimes:
            if r.id == regime_id:
                return r
        return RegimeInfo(regime_id, regime_id, "")

    def launch_label(self, launch: LaunchInfo) -> str:
        """'L1' with one scenario (its 'scenario/' prefix dropped); with several, the id
        when it names its scenario already, else 'scenario / L1'."""
        prefix = f"{launch.scenario}/"
        several = len({lc.scenario for lc in self.launches}) > 1
        if launch.scenario and launch.id.startswith(prefix) and len(launch.id) > len(prefix):
            return launch.id if several else launch.id[len(prefix):]
        if several:
            return f"{launch.scenario} / {launch.id}"
        return launch.id

    def launch_title(self, launch: LaunchInfo) -> str:
        """'L1 · Hwasong-12'."""
        label = self.launch_label(launch)
        return f"{label} · {missile_name(launch.missile)}" if launch.missile else label

    def result(self, launch: LaunchInfo, nation: str, regime: str, metric: str
               ) -> tuple[Stat, Stat | None]:
        """The value and difference of one cell (empty when absent)."""
        return self.results.get((launch.scenario, launch.id, nation, regime, metric),
                                (EMPTY, None))

    def threatened(self, launches: Sequence[LaunchInfo], nation: str) -> bool:
        """True when any regime has a warning lead for the nation in these launches (the
        lead is defined only where a nation was threatened)."""
        for lc in launches:
            for g in self.regime_ids:
                if self.result(lc, nation, g, "warning_lead_s")[0].n > 0:
                    return True
                per_run = self.samples.get((nation, g, "warning_lead_s"), {}).get(lc.key, {})
                if any(v is not None for v in per_run.values()):
                    return True
        return False

    def present(self, nation: str, regime: str, metric: str,
                launches: Sequence[LaunchInfo]) -> bool:
        """True when the nation takes part in the regime for this metric in any of these
        launches (a result or per-run rows exist, defined or not)."""
        per_launch = self.samples.get((nation, regime, metric), {})
        return any((lc.scenario, lc.id, nation, regime, metric) in self.results
                   or lc.key in per_launch for lc in launches)

    def in_regime(self, nation: str, regime: str) -> bool:
        """True when the nation has any result or row under the regime."""
        return (any(k[2] == nation and k[3] == regime for k in self.results)
                or (nation, regime) in self.units)

    def has_metric(self, nation: str, metric: str, launches: Sequence[LaunchInfo]) -> bool:
        """True when any regime has this metric for the nation (defined or not)."""
        keys = {lc.key for lc in launches}
        for (s, lid, n, _g, m) in self.results:
            if n == nation and m == metric and (s, lid) in keys:
                return True
        for g in self.regime_ids:
            per_launch = self.samples.get((nation, g, metric), {})
            if any(k in per_launch for k in keys):
                return True
        return False

    def max_time_s(self) -> float:
        """The end of the time axes: the longest flight when the launches give their flight
        time, else the latest time any run recorded (to the next half minute)."""
        flights = [lc.flight_time_s for lc in self.launches if lc.flight_time_s]
        if flights:
            return max(flights)
        latest = 0.0
        for (_n, _g, m), per_launch in self.samples.items():
            if metric_info(m).kind != "time":
                continue
            for per_run in per_launch.values():
                for v in per_run.values():
                    if v is not None and v > latest:
                        latest = v
        for (_s, _l, _n, _g, m), (value, _d) in self.results.items():
            if metric_info(m).kind == "time" and value.high is not None:
                latest = max(latest, value.high)
        return 30.0 * math.ceil(latest / 30.0) if latest > 0 else 600.0


# ---------------------------------------------------------------------------- parsing
def _text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        f = float(value)
    elif isinstance(value, str) and value.strip():
        try:
            f = float(value)
        except ValueError:
            return None
    else:
        return None
    return f if math.isfinite(f) else None


def _int(value: object) -> int | None:
    f = _float(value)
    return int(f) if f is not None and f == int(f) else None


def _stat(d: Mapping[str, Any], prefix: str, n_key: str) -> Stat:
    n = _int(d.get(n_key)) or 0
    mean = _float(d.get(f"{prefix}mean"))
    low = _float(d.get(f"{prefix}ci_low"))
    high = _float(d.get(f"{prefix}ci_high"))
    if mean is None:
        return Stat(max(n, 0))
    if low is None or high is None:
        low = high = None
    elif low > high:
        low, high = high, low
    return Stat(max(n, 0), mean, low, high)


def _dicts(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, list | tuple):
        return []
    return [v for v in value if isinstance(v, Mapping)]


def _nation_key(code: str) -> tuple[int, str]:
    return (NATION_ORDER.index(code) if code in NATION_ORDER else len(NATION_ORDER), code)


def _run_key(value: object) -> str:
    f = _float(value)
    if f is not None and f == int(f):
        return str(int(f))
    return _text(value)


def parse_comparison(comparison: Mapping[str, Any], rows: Iterable[Mapping[str, Any]]
                     ) -> Comparison:
    """The comparison and its per-run rows as a :class:`Comparison` (never raises on odd
    or missing fields)."""
    scenarios: list[ScenarioInfo] = []
    launches: list[LaunchInfo] = []
    seen_launch: set[LaunchKey] = set()
    for sc in _dicts(comparison.get("scenarios")):
        sid = _text(sc.get("id"))
        scenarios.append(ScenarioInfo(sid, _text(sc.get("title"))))
        for lc in _dicts(sc.get("launches")):
            info = LaunchInfo(sid, _text(lc.get("id")), _text(lc.get("missile")),
                              _text(lc.get("launch_utc")), _float(lc.get("flight_time_s")))
            if info.key not in seen_launch:
                seen_launch.add(info.key)
                launches.append(info)

    regimes: list[RegimeInfo] = []
    for rg in _dicts(comparison.get("regimes")):
        rid = _text(rg.get("id"))
        if rid and rid not in {r.id for r in regimes}:
            regimes.append(RegimeInfo(rid, _text(rg.get("name")) or rid,
                                      _text(rg.get("description"))))

    results: dict[tuple[str, str, str, str, str], tuple[Stat, Stat | None]] = {}
    nations: set[str] = set()
    metrics: set[str] = set()
    extra_regimes: set[str] = set()
    extra_launches: set[LaunchKey] = set()
    for r in _dicts(comparison.get("results")):
        key = (_text(r.get("scenario")), _text(r.get("launch")), _text(r.get("nation")),
               _text(r.get("regime")), _text(r.get("metric")))
        if not key[2] or not key[3] or not key[4]:
            continue
        value = _stat(r, "", "n")
        diff = _stat(r, "diff_", "diff_n")
        results[key] = (value, diff if diff.mean is not None else None)
        nations.add(key[2])
        metrics.add(key[4])
        extra_regimes.add(key[3])
        extra_launches.add((key[0], key[1]))

    samples: dict[tuple[str, str, str], dict[LaunchKey, dict[str, float | None]]] = {}
    unit_sets: dict[tuple[str, str], set[tuple[str, str, str]]] = {}
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        s, lid = _text(row.get("scenario")), _text(row.get("launch"))
        n, g, m = _text(row.get("nation")), _text(row.get("regime")), _text(row.get("metric"))
        if not n or not g or not m:
            continue
        run = _run_key(row.get("run"))
        samples.setdefault((n, g, m), {}).setdefault((s, lid), {})[run] = _float(
            row.get("value"))
        unit_sets.setdefault((n, g), set()).add((s, lid, run))
        nations.add(n)
        metrics.add(m)
        extra_regimes.add(g)
        extra_launches.add((s, lid))

    known = {r.id for r in regimes}
    regimes += [RegimeInfo(g, g, "") for g in sorted(extra_regimes - known)]
    baseline = _text(comparison.get("baseline"))
    if baseline and baseline not in {r.id for r in regimes}:
        regimes.insert(0, RegimeInfo(baseline, baseline, ""))
    launches += [LaunchInfo(s, lid, "", "", None)
                 for s, lid in sorted(extra_launches - seen_launch)]
    if not scenarios:
        scenarios = [ScenarioInfo(s, "") for s in sorted({lc.scenario for lc in launches})]

    confidence = _float(comparison.get("confidence"))
    if confidence is None or not 0.0 < confidence < 1.0:
        confidence = 0.95
    runs = _int(comparison.get("runs"))
    version = comparison.get("schema_version")
    return Comparison(
        schema_version=DASH if version is None else _text(version),
        scenarios=scenarios, regimes=regimes, baseline=baseline,
        runs=runs if runs is not None and runs >= 0 else None,
        seed=_text(comparison.get("seed")), confidence=confidence, launches=launches,
        nations=sorted(nations, key=_nation_key),
        metrics=sorted(metrics, key=lambda m: (_ORDER.get(m, len(_ORDER)), m)),
        results=results, samples=samples,
        units={k: len(v) for k, v in sorted(unit_sets.items())})


# ---------------------------------------------------------------------------- pooling
def t_interval(values: Sequence[float], confidence: float) -> Stat:
    """Mean of independent values with its Student-t confidence interval."""
    n = len(values)
    if n == 0:
        return EMPTY
    mean = math.fsum(values) / n
    if n == 1:
        return Stat(1, mean)
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * math.sqrt(var / n)
    return Stat(n, mean, mean - half, mean + half)


def _runs(per_launch: Mapping[LaunchKey, Mapping[str, float | None]],
          keys: Sequence[LaunchKey]) -> list[str]:
    runs: set[str] = set()
    for k in keys:
        runs.update(per_launch.get(k, {}))
    return sorted(runs, key=lambda r: (_float(r) is None, _float(r) or 0.0, r))


def pooled(comp: Comparison, nation: str, regime: str, metric: str,
           launches: Sequence[LaunchInfo]) -> Stat:
    """The metric over several launches: per run the mean over the launches where it is
    defined, then the mean over runs with its t interval (``n`` = runs with a value).
    Without per-run rows: the plain mean of the launches' means, without interval."""
    keys = [lc.key for lc in launches]
    per_launch = comp.samples.get((nation, regime, metric))
    if per_launch is None:
        means = [st.mean for lc in launches
                 if (st := comp.result(lc, nation, regime, metric)[0]).mean is not None]
        return Stat(0, math.fsum(means) / len(means)) if means else EMPTY
    run_means = []
    for run in _runs(per_launch, keys):
        vals = [v for k in keys if (v := per_launch.get(k, {}).get(run)) is not None]
        if vals:
            run_means.append(math.fsum(vals) / len(vals))
    return t_interval(run_means, comp.confidence)


def pooled_diff(comp: Comparison, nation: str, regime: str, metric: str,
                launches: Sequence[LaunchInfo]) -> Stat | None:
    """The paired difference regime minus baseline over several launches: per run the mean
    of the launch-by-launch differences where both are defined, then the mean over runs
    with its t interval. None for the baseline itself or without per-run rows."""
    if regime == comp.baseline or not comp.baseline:
        return None
    mine = comp.samples.get((nation, regime, metric))
    base = comp.samples.get((nation, comp.baseline, metric))
    if mine is None or base is None:
        return None
    keys = [lc.key for lc in launches]
    run_diffs = []
    for run in _runs(mine, keys):
        diffs = []
        for k in keys:
            a = mine.get(k, {}).get(run)
            b = base.get(k, {}).get(run)
            if a is not None and b is not None:
                diffs.append(a - b)
        if diffs:
            run_diffs.append(math.fsum(diffs) / len(diffs))
    out = t_interval(run_diffs, comp.confidence)
    return out if out.mean is not None else None


# ---------------------------------------------------------------------------- words
_WORDS = {
    "time": ("earlier", "later"),
    "lead": ("shorter", "longer"),
    "km": ("smaller", "larger"),
    "fraction": ("lower", "higher"),
    "count": ("fewer", "more"),
    "rate": ("lower", "higher"),
    "other": ("lower", "higher"),
}


def interval_text(m: Metric, low: float, high: float, unit: str) -> str:
    """'40–55 s', or '−3 to 5 s' when an end is negative (values in display units, both
    ends to the same decimals)."""
    digits = m.digits(max(abs(low), abs(high)))
    while digits < 3 and low != high and round(low, digits) == round(high, digits):
        digits += 1     # an interval narrower than its last digit: one more decimal

    def end(v: float) -> str:
        text = num(abs(v), "", digits)
        return text if v >= 0 or round(abs(v), digits) == 0 else "−" + text

    sep = "–" if low >= 0 and high >= 0 else " to "
    text = f"{end(low)}{sep}{end(high)}"
    return f"{text}\u202f{unit}" if unit else text


def describe_diff(m: Metric, diff: Stat) -> str:
    """A difference in words, as a magnitude in the direction of its mean: 'first known
    48 s earlier', 'warning lead 30 s longer', '0.25 more false alarms per run'."""
    if diff.mean is None:
        return f"{m.phrase}: no difference could be estimated"
    d = m.scaled(diff.mean)
    word = _WORDS.get(m.kind, _WORDS["other"])[0 if d < 0 else 1]
    mag = abs(d)
    if m.kind == "count":
        return f"{m.number(mag, unit='')} {word} {m.phrase} per run"
    unit = "percentage points" if m.kind == "rate" else m.unit
    return f"{m.phrase} {m.number(mag, unit=unit)} {word}"


def describe_ci(m: Metric, diff: Stat, conf_text: str) -> str:
    """The interval of a difference as magnitudes in the direction of its mean:
    '[95 % CI 40–55 s]' for a mean of −48 s in [−55, −40]; '' without an interval;
    '[the same in every run]' when the interval has no width."""
    if diff.mean is None or diff.low is None or diff.high is None:
        return ""
    if diff.low == diff.high:
        return "[the same in every run]"
    lo, hi = m.scaled(diff.low), m.scaled(diff.high)
    if diff.mean < 0:
        lo, hi = -hi, -lo
    return f"[{conf_text} CI {interval_text(m, lo, hi, m.diff_unit)}]"


@dataclass(frozen=True)
class Headline:
    """One line of the headlines: a nation's largest significant gain or loss against the
    baseline, or a statement that there is none."""

    nation: str
    text: str
    kind: str
    """'gain', 'loss', 'change' (a metric without a better direction) or 'none'."""

    @property
    def significant(self) -> bool:
        """True for a significant difference."""
        return self.kind != "none"


def _better(m: Metric, diff: float) -> bool | None:
    if m.better == 0 or diff == 0:
        return None
    return (diff < 0) == (m.better < 0)


Tested = tuple[LaunchInfo, str, str, Stat]


def _tested(comp: Comparison, nation: str, regimes: Sequence[str]) -> list[Tested]:
    """Every (launch, regime, metric, difference) with an interval, in a stable order."""
    out = []
    for lc in comp.launches:
        for g in regimes:
            for m in comp.metrics:
                d = comp.result(lc, nation, g, m)[1]
                if d is not None and d.has_ci:
                    out.append((lc, g, m, d))
    return out


def _pick(comp: Comparison, nation: str, cands: Sequence[Tested]) -> Tested | None:
    """The largest: among the headline metrics by seconds, else by the difference
    relative to the baseline's mean."""
    if not cands:
        return None
    launch_pos = {lc.key: k for k, lc in enumerate(comp.launches)}
    reg_pos = {g: k for k, g in enumerate(comp.regime_ids)}

    def order(t: Tested) -> tuple[float, int, int, int, str]:
        lc, g, m, d = t
        mean = abs(d.mean or 0.0)
        if m in HEADLINE_METRICS:
            score = mean
        else:
            base = comp.result(lc, nation, comp.baseline, m)[0].mean
            score = mean / abs(base) if base else mean
        return (-score, HEADLINE_METRICS.index(m) if m in HEADLINE_METRICS else 99,
                launch_pos.get(lc.key, 0), reg_pos.get(g, 0), m)

    primary = [t for t in cands if t[2] in HEADLINE_METRICS]
    return sorted(primary or cands, key=order)[0]


def headlines(comp: Comparison) -> list[Headline]:
    """Per nation its largest significant gain and its largest significant loss against
    the baseline (first among the headline metrics, in seconds), or an honest 'no
    significant difference'. The first line of a nation counts what was tested."""
    out: list[Headline] = []
    regimes = [g for g in comp.regime_ids if g != comp.baseline]
    for nation in comp.nations:
        if not regimes or not comp.baseline:
            out.append(Headline(nation, "only one regime was run: nothing to compare.",
                                "none"))
            continue
        if not comp.in_regime(nation, comp.baseline):
            under = [g for g in regimes if comp.in_regime(nation, g)]
            out.append(Headline(
                nation, f"takes no part in the baseline regime {comp.baseline} (only in "
                f"{', '.join(under) or 'none'}): nothing to compare.", "none"))
            continue
        tested = _tested(comp, nation, regimes)
        if not tested:
            out.append(Headline(
                nation, "no difference to the baseline could be estimated (fewer than two "
                "paired runs with a metric defined).", "none"))
            continue
        sig = [t for t in tested if t[3].significant]
        if not sig:
            out.append(Headline(
                nation, f"no significant difference from the baseline {comp.baseline} in any "
                f"of the {len(tested)} comparisons (every {comp.conf_text} interval of a "
                "difference includes 0).", "none"))
            continue
        gains = [t for t in sig if _better(metric_info(t[2]), t[3].mean or 0.0) is True]
        losses = [t for t in sig if _better(metric_info(t[2]), t[3].mean or 0.0) is False]
        count = (f" ({len(sig)} of {len(tested)} comparisons with the baseline significant: "
                 f"{len(gains)} better, {len(losses)} worse.)")
        lines = []
        for kind, cands in (("gain", gains), ("loss", losses)):
            best = _pick(comp, nation, cands)
            if best is None:
                continue
            lc, g, m, d = best
            info = metric_info(m)
            ci = describe_ci(info, d, comp.conf_text)
            lines.append((kind, f"launch {comp.launch_label(lc)}: {describe_diff(info, d)} "
                                f"under {g} than under {comp.baseline}"
                                + (f" {ci}" if ci else "") + "."))
        if not lines:   # significant, but in metrics without a better direction
            best = _pick(comp, nation, sig)
            assert best is not None
            lc, g, m, d = best
            info = metric_info(m)
            lines.append(("change",
                          f"launch {comp.launch_label(lc)}: {describe_diff(info, d)} under "
                          f"{g} than under {comp.baseline} "
                          f"{describe_ci(info, d, comp.conf_text)}."))
        for k, (kind, text) in enumerate(lines):
            out.append(Headline(nation, text + (count if k == 0 else ""), kind))
    return out
