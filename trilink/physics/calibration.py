"""Calibration of burn time against published flight times, and leave-one-out checks.

The model's one calibrated quantity per missile type is its burn-time scale (every stage's
burn time times the scale, propellant kept: thrust divided by it), bounded by the type's
thrust figures (``burn_time_scale_bounds``). Published apogee and range fix the arc; how
long the boost lasts is what moves the flight time at a given apogee and range, so the
scale is chosen to fit the published flight times of that type's *other* launches. A type
with no other timed launch keeps its nominal burn (scale 1).

:func:`cross_validate` holds out each launch in turn, calibrates on the rest, and predicts
the held-out flight time from its apogee and range alone.

Published times differ in precision: KCNA gives seconds, Japan often whole minutes (and
sometimes the difference of two minute-rounded clock times). Each launch's squared log
error is weighted by 1 / (MODEL_SIGMA² + (sigma_pub / t_pub)²), with sigma_pub the
published resolution (``Case.published_sigma_s``), so a minute-rounded figure pulls less
than one given to the second. When the calibrated scale cannot fly a launch, the fit may
move the burn time toward its more energetic bound until it can
(:func:`trilink.physics.solve.fit_within_limits`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trilink.physics.fit import FitRequest, FitResult
from trilink.physics.solve import fit_within_limits
from trilink.physics.trajectory import StepSizes

MODEL_SIGMA = 0.01  # relative: what the model itself is expected to miss by
MINUTE_SIGMA_S = 30.0  # a figure published in whole minutes (half a minute either way)


def published_sigma_s(flight_time_s: float) -> float:
    """Resolution of a published flight time: whole minutes, or to the second."""
    return MINUTE_SIGMA_S if flight_time_s % 60.0 == 0.0 else 1.0


@dataclass(frozen=True)
class Case:
    """A launch with published apogee, range and flight time."""

    event_id: str
    launch_id: str
    request: FitRequest
    published_flight_time_s: float
    published_sigma_s: float = 1.0

    @property
    def weight(self) -> float:
        rel = self.published_sigma_s / self.published_flight_time_s
        return 1.0 / (MODEL_SIGMA**2 + rel**2)

    @property
    def type_key(self) -> str:
        return self.request.profile.key


@dataclass(frozen=True)
class Prediction:
    """A held-out launch: the scale calibrated without it and the flight it predicts."""

    case: Case
    burn_time_scale: float
    trained_on: tuple[str, ...]
    fit: FitResult

    @property
    def flight_time_error(self) -> float:
        return self.fit.summary.flight_time_s / self.case.published_flight_time_s - 1.0

    @property
    def apogee_error(self) -> float:
        return self.fit.summary.apogee_m / self.case.request.apogee_m - 1.0

    @property
    def range_error(self) -> float:
        return self.fit.summary.range_m / self.case.request.range_m - 1.0


def _grid(case: Case) -> tuple[float, float, float]:
    lo, hi = case.request.profile.burn_time_scale_bounds
    return (lo, 1.0, hi)


def flight_time_curves(cases: Sequence[Case], steps: StepSizes | None = None
                       ) -> list[dict[float, float]]:
    """Fitted flight time of each case at its type's bounds and nominal burn (one batch);
    grid points the fit cannot fly are left out."""
    reqs: list[FitRequest] = []
    scales: list[float] = []
    for c in cases:
        for s in _grid(c):
            reqs.append(c.request)
            scales.append(s)
    fits = fit_within_limits(reqs, scales, steps, explain=False)
    curves: list[dict[float, float]] = []
    for k, c in enumerate(cases):
        curve = {}
        for j in range(len(_grid(c))):
            f = fits[3 * k + j]
            if f.converged:  # at the scale actually flown (the fit may shorten the burn)
                curve[round(f.burn_time_scale, 9)] = f.summary.flight_time_s
        curves.append(curve)
    return curves


def _interpolate(curve: dict[float, float], s: np.ndarray) -> np.ndarray:
    xs = np.array(sorted(curve))
    ys = np.log(np.array([curve[x] for x in xs]))
    if len(xs) == 0:
        return np.full_like(s, np.nan)
    deg = min(len(xs) - 1, 2)
    out: np.ndarray = np.exp(np.polyval(np.polyfit(xs, ys, deg), s))
    return out


def calibrate(curves: Sequence[dict[float, float]], cases: Sequence[Case],
              bounds: tuple[float, float]) -> float:
    """The burn-time scale within ``bounds`` minimising the weighted squared log errors
    of flight time over the given launches (1.0 when there are none)."""
    usable = [(cv, c) for cv, c in zip(curves, cases, strict=True) if cv]
    if not usable:
        return 1.0
    s = np.linspace(bounds[0], bounds[1], 241)
    cost = np.zeros_like(s)
    for curve, c in usable:
        cost += c.weight * (np.log(_interpolate(curve, s))
                            - np.log(c.published_flight_time_s)) ** 2
    return float(s[int(np.argmin(cost))])


def calibrated_scales(cases: Sequence[Case], curves: Sequence[dict[float, float]] | None = None,
                      steps: StepSizes | None = None) -> dict[str, float]:
    """Burn-time scale per type fitted on every given case (for use beyond them)."""
    curves = list(curves) if curves is not None else flight_time_curves(cases, steps)
    out: dict[str, float] = {}
    for key in sorted({c.type_key for c in cases}):
        idx = [i for i, c in enumerate(cases) if c.type_key == key]
        bounds = cases[idx[0]].request.profile.burn_time_scale_bounds
        out[key] = calibrate([curves[i] for i in idx], [cases[i] for i in idx], bounds)
    return out


def cross_validate(cases: Sequence[Case], steps: StepSizes | None = None) -> list[Prediction]:
    """Leave-one-out: each case predicted by a model calibrated on the others."""
    curves = flight_time_curves(cases, steps)
    scales: list[float] = []
    trained: list[tuple[str, ...]] = []
    for i, c in enumerate(cases):
        others = [j for j, o in enumerate(cases) if j != i and o.type_key == c.type_key]
        scales.append(calibrate([curves[j] for j in others], [cases[j] for j in others],
                                c.request.profile.burn_time_scale_bounds))
        trained.append(tuple(f"{cases[j].event_id}" for j in others))
    fits = fit_within_limits([c.request for c in cases], scales, steps)
    return [Prediction(c, f.burn_time_scale, t, f)
            for c, t, f in zip(cases, trained, fits, strict=True)]


def with_scale(request: FitRequest, scale: float) -> FitRequest:
    """The request with its profile's burn time scaled (clipped to the bounds)."""
    lo, hi = request.profile.burn_time_scale_bounds
    return dataclasses.replace(
        request, profile=request.profile.with_burn_time_scale(float(np.clip(scale, lo, hi))))
