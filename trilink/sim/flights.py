"""Scenario launches → fitted flights (truth trajectories for the rest of trilink).

The fit is the launch as published (apogee, range, bearing), inside the type's physical
limits (:func:`trilink.physics.solve.fit_within_limits`: a lighter test payload where the
nominal one cannot reach); a launch naming only a class (``ICBM``) is fitted with every
type of that class and the best is kept (:func:`trilink.physics.solve.fit_class`). A
launch's ``failure``
does not change the fit; it must fall within the fitted flight, which is checked here
(``FILE:LINE`` errors, :class:`~trilink.sim.scenario.ScenarioInvalidError`), and it
is applied when the truth is built (:meth:`trilink.sim.truth.Truth.from_launch_flights`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trilink.datafile import FileProblem
from trilink.physics.calibration import Case, published_sigma_s
from trilink.physics.fit import FitRequest, FitResult
from trilink.physics.missiles import is_class
from trilink.physics.solve import fit_class, fit_within_limits
from trilink.sim.scenario import Launch, Scenario, ScenarioInvalidError


@dataclass(frozen=True)
class LaunchFlight:
    """A scenario launch and its fitted flight."""

    scenario_id: str
    launch: Launch
    fit: FitResult
    scenario: Scenario | None = None  # the scenario the launch belongs to

    @property
    def flight_time_error(self) -> float | None:
        """Relative difference of our flight time to the published one, if any."""
        published = self.launch.published.flight_time_s
        if published is None:
            return None
        return self.fit.summary.flight_time_s / published - 1.0


def fit_request(launch: Launch) -> FitRequest:
    return FitRequest(
        lat_rad=float(np.radians(launch.site.lat_deg)),
        lon_rad=float(np.radians(launch.site.lon_deg)),
        azimuth_rad=float(np.radians(launch.azimuth_deg)),
        apogee_m=launch.apogee_km * 1e3,
        range_m=launch.range_km * 1e3,
        profile=launch.profile(),
        height_m=launch.site.height_m,
        cross_range_m=None if launch.cross_range_km is None else launch.cross_range_km * 1e3,
    )


def fly_scenarios(scenarios: Sequence[Scenario]) -> list[LaunchFlight]:
    """Fit every launch of every scenario, all in one batch.

    Raises :class:`ScenarioInvalidError` (every problem, ``FILE:LINE: field: problem``)
    when a launch's failure time falls outside its fitted flight.
    """
    pairs = [(s, launch) for s in scenarios for launch in s.launches]
    # Identical launches (salvos from one site) are fitted once.
    unique: dict[FitRequest, int] = {}
    requests: list[FitRequest] = []
    by_class: dict[int, str] = {}
    for _, launch in pairs:
        req = fit_request(launch)
        if req not in unique:
            unique[req] = len(requests)
            if is_class(launch.missile) and launch.payload_kg is None:
                by_class[len(requests)] = launch.missile
            requests.append(req)
    typed = [i for i in range(len(requests)) if i not in by_class]
    fits: list[FitResult | None] = [None] * len(requests)
    for i, r in zip(typed, fit_within_limits([requests[i] for i in typed]), strict=True):
        fits[i] = r
    for i, cls_name in by_class.items():
        fits[i] = fit_class(requests[i], cls_name).chosen
    out = [LaunchFlight(s.id, launch, _some(fits[unique[fit_request(launch)]]), s)
           for s, launch in pairs]
    problems = [p for lf in out if (p := _failure_problem(lf)) is not None]
    if problems:
        raise ScenarioInvalidError(problems)
    return out


def _some(fit: FitResult | None) -> FitResult:
    assert fit is not None  # every request was fitted above
    return fit


def _failure_problem(lf: LaunchFlight) -> FileProblem | None:
    failure = lf.launch.failure
    if failure is None or lf.scenario is None or not lf.fit.converged:
        return None  # a fit that failed is reported as such by its callers
    end_s = lf.fit.summary.flight_time_s
    if failure.t_s < end_s:
        return None
    i = next(k for k, x in enumerate(lf.scenario.launches) if x.id == lf.launch.id)
    return lf.scenario.problem(
        ("launches", i, "failure", "t_s"),
        f"the breakup must come before the impact: expected a time within the flight, "
        f"(0, {end_s:.0f}) s after launch, got {failure.t_s:g} s")


def timed_cases(scenarios: Sequence[Scenario]) -> list[Case]:
    """Launches with a published apogee, range and flight time (none of them assumed),
    for calibration and cross-validation (:mod:`trilink.physics.calibration`)."""
    return [Case(s.id, launch.id, fit_request(launch), float(launch.published.flight_time_s),
                 published_sigma_s(float(launch.published.flight_time_s)))
            for s in scenarios for launch in s.launches
            if launch.published.flight_time_s is not None and not launch.apogee_assumed
            and not is_class(launch.missile)]
