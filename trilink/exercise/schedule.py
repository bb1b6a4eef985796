"""Schedule a programme with OR-Tools CP-SAT; explain an impossible one.

Model (days since the programme's start):

- each occurrence (the k-th exercise of a series) is an interval of its duration that
  lies inside its cadence period and inside its series' months;
- blackout periods of any participant are never touched (hard), other public holidays
  of participants cost one each (soft);
- assets are cumulative resources: the occurrences and the other exercises (``busy``)
  that overlap may hold no more of an asset than its count;
- occurrences that share an asset keep ``min_gap_days`` apart;
- the objective adds, to the holiday cost, the distance in days from the middle of the
  preferred month (one point per 15 days).

Every constraint belongs to a named group. When the model is infeasible,
:func:`schedule` finds an irreducible set of groups (a deletion filter: drop a group,
solve; keep it only if the rest becomes feasible without it) and reports those: which
constraints conflict, in words. The solver runs single-threaded with a fixed seed, so
the same programme gives the same calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from trilink.errors import TrilinkError
from trilink.exercise.programme import (
    Busy,
    Occurrence,
    Programme,
    blackout_periods,
    busy_periods,
    occurrences,
    public_holidays,
)

SOLVE_LIMIT_S = 20.0


class ScheduleInfeasibleError(TrilinkError):
    """No calendar satisfies the programme; ``conflict`` names the groups that clash."""

    def __init__(self, programme: str, conflict: list[str]) -> None:
        self.conflict = conflict
        super().__init__(f"{programme}: no schedule satisfies these constraints together: "
                         + "; ".join(conflict))

    def lines(self) -> list[str]:
        return [f"trilink: error: {self.args[0].split(':')[0]}: no schedule satisfies these "
                "constraints together (each is needed for the conflict):",
                *(f"  - {c}" for c in self.conflict)]


@dataclass(frozen=True)
class Scheduled:
    occurrence: Occurrence
    first_day: dt.date
    last_day: dt.date
    holidays_touched: tuple[str, ...]  # "2026-09-25 Chuseok (KOR)"


@dataclass(frozen=True)
class Schedule:
    programme: Programme
    items: tuple[Scheduled, ...]  # by first day
    objective: int
    optimal: bool


@dataclass(frozen=True)
class _Group:
    name: str
    add: Callable[[cp_model.CpModel, dict[str, cp_model.IntVar]], None]


def _day(p: Programme, d: dt.date) -> int:
    return (d - p.start).days


def _groups(p: Programme, occs: list[Occurrence]) -> list[_Group]:
    """Every constraint of the model, as named groups (the unit of an explanation)."""
    groups: list[_Group] = []
    horizon = _day(p, p.end)
    for o in occs:
        dur = o.series.duration_days
        lo, hi = _day(p, o.first_day), _day(p, o.last_day) - dur + 1

        def period(m: cp_model.CpModel, v: dict[str, cp_model.IntVar], o: Occurrence = o,
                   lo: int = lo, hi: int = hi) -> None:
            m.add(v[o.key] >= lo)
            m.add(v[o.key] <= hi)

        groups.append(_Group(f"{o.series.name} {o.label} lies within "
                             f"{o.first_day.isoformat()}..{o.last_day.isoformat()} "
                             f"({dur} days)", period))
        in_months = [s for s in range(0, horizon - dur + 2)
                     if all((p.start + dt.timedelta(days=s + i)).month in o.series.months
                            for i in range(dur))]

        def months(m: cp_model.CpModel, v: dict[str, cp_model.IntVar], o: Occurrence = o,
                   ok: list[int] = in_months) -> None:
            m.add_linear_expression_in_domain(v[o.key], cp_model.Domain.from_values(ok))

        groups.append(_Group(f"{o.series.name} {o.label} only in months "
                             f"{', '.join(str(x) for x in o.series.months)}", months))
        for b in blackout_periods(p):
            if not b.nations & set(o.series.participants):
                continue
            if b.last < o.first_day or b.first > o.last_day:
                continue
            bad = [s for s in range(max(0, lo - dur), min(horizon, hi + dur) + 1)
                   if _day(p, b.first) - dur < s <= _day(p, b.last)]
            if not bad:
                continue

            def clear(m: cp_model.CpModel, v: dict[str, cp_model.IntVar], o: Occurrence = o,
                      bad: list[int] = bad) -> None:
                m.add_linear_expression_in_domain(
                    v[o.key], cp_model.Domain.from_values(bad).complement())

            groups.append(_Group(f"{o.series.name} {o.label} clear of {b.name} "
                                 f"({b.first.isoformat()}..{b.last.isoformat()}, "
                                 f"{'/'.join(sorted(b.nations))})", clear))
    busy = busy_periods(p)
    for asset in p.assets:
        users = [o for o in occs if asset.id in o.series.uses]
        holds = [(b, lo, hi) for b, lo, hi in busy if asset.id in b.uses]
        if not users:
            continue

        def capacity(m: cp_model.CpModel, v: dict[str, cp_model.IntVar], users: list[
                Occurrence] = users, holds: list[tuple[Busy, dt.date, dt.date]] = holds,
                     aid: str = asset.id, cap: int = asset.count) -> None:
            intervals, demands = [], []
            for o in users:
                intervals.append(m.new_fixed_size_interval_var(
                    v[o.key], o.series.duration_days, f"iv-{aid}-{o.key}"))
                demands.append(o.series.uses[aid])
            for i, (b, lo, hi) in enumerate(holds):
                start = _day(p, lo)
                intervals.append(m.new_fixed_size_interval_var(start, (hi - lo).days + 1,
                                                               f"busy-{aid}-{i}"))
                demands.append(b.uses[aid])
            m.add_cumulative(intervals, demands, cap)

        names = sorted({b.name for b, _, _ in holds})
        groups.append(_Group(f"{asset.name}: at most {asset.count} at once"
                             + (f", counting {', '.join(names)}" if names else ""), capacity))
    if p.min_gap_days:
        gap = p.min_gap_days
        pairs = [(a, b) for i, a in enumerate(occs) for b in occs[i + 1:]
                 if set(a.series.uses) & set(b.series.uses)]

        def gaps(m: cp_model.CpModel, v: dict[str, cp_model.IntVar],
                 pairs: list[tuple[Occurrence, Occurrence]] = pairs) -> None:
            for a, b in pairs:
                ia = m.new_fixed_size_interval_var(v[a.key], a.series.duration_days + gap,
                                                   f"gap-{a.key}-{b.key}-a")
                ib = m.new_fixed_size_interval_var(v[b.key], b.series.duration_days + gap,
                                                   f"gap-{a.key}-{b.key}-b")
                m.add_no_overlap([ia, ib])

        groups.append(_Group(f"{gap} days between exercises that share an asset", gaps))
    return groups


def _holiday_costs(p: Programme, o: Occurrence) -> tuple[list[int], list[list[str]]]:
    """For each start day: the participants' public holidays the exercise would touch."""
    horizon = _day(p, p.end)
    touched: dict[int, list[str]] = {}
    for n in o.series.participants:
        for d, name in public_holidays(n, p.start, p.end).items():
            touched.setdefault(_day(p, d), []).append(f"{d.isoformat()} {name} ({n})")
    dur = o.series.duration_days
    names = [[x for k in range(s, s + dur) for x in touched.get(k, [])]
             for s in range(horizon + 1)]
    return [len(x) for x in names], names


_Solved = tuple[cp_model.CpSolverStatus, cp_model.CpSolver, dict[str, cp_model.IntVar],
                cp_model.IntVar | None]


def _solve(p: Programme, occs: list[Occurrence], groups: list[_Group],
           with_objective: bool) -> _Solved:
    m = cp_model.CpModel()
    horizon = _day(p, p.end)
    v = {o.key: m.new_int_var(0, horizon, o.key) for o in occs}
    for g in groups:
        g.add(m, v)
    total = None
    if with_objective:
        terms = []
        for o in occs:
            costs, _ = _holiday_costs(p, o)
            hc = m.new_int_var(0, max(costs), f"hol-{o.key}")
            m.add_element(v[o.key], costs, hc)
            terms.append(10 * hc)
            if o.series.preferred_month is not None:
                year = max(o.first_day.year, p.start.year)
                target = _day(p, dt.date(year, o.series.preferred_month, 15))
                dev = m.new_int_var(0, 2 * horizon, f"dev-{o.key}")
                m.add_abs_equality(dev, v[o.key] - target)
                terms.append(dev)
        total = m.new_int_var(0, 10**9, "objective")
        m.add(total == sum(terms))
        m.minimize(total)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_time_in_seconds = SOLVE_LIMIT_S
    status = solver.solve(m)
    return status, solver, v, total


def explain(p: Programme) -> list[str]:
    """An irreducible set of conflicting constraint groups (empty if feasible)."""
    occs = occurrences(p)
    groups = _groups(p, occs)
    status, *_ = _solve(p, occs, groups, with_objective=False)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return []
    needed = list(groups)
    for g in list(groups):
        trial = [x for x in needed if x is not g]
        status, *_ = _solve(p, occs, trial, with_objective=False)
        if status == cp_model.INFEASIBLE:
            needed = trial  # still infeasible without g: g is not part of the conflict
    return [g.name for g in needed]


def schedule(p: Programme) -> Schedule:
    """The calendar minimising holiday overlap and distance from preferred months;
    raises :class:`ScheduleInfeasibleError` naming the conflicting constraints."""
    occs = occurrences(p)
    groups = _groups(p, occs)
    status, solver, v, total = _solve(p, occs, groups, with_objective=True)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise ScheduleInfeasibleError(p.id, explain(p))
    items = []
    for o in occs:
        start = p.start + dt.timedelta(days=int(solver.value(v[o.key])))
        end = start + dt.timedelta(days=o.series.duration_days - 1)
        _, names = _holiday_costs(p, o)
        items.append(Scheduled(o, start, end, tuple(names[_day(p, start)])))
    items.sort(key=lambda s: (s.first_day, s.occurrence.key))
    assert total is not None
    return Schedule(p, tuple(items), int(solver.value(total)), status == cp_model.OPTIMAL)
