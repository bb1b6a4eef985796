"""Fits inside physical limits, and the choice of a type for a class name.

:func:`fit_within_limits` fits each request with its profile's nominal payload; a
request its type cannot reach that way is fitted again with the lightest payload the
profile allows (test shots fly light), and one that still cannot be flown is refused
with the nearest point of the type's envelope (:mod:`trilink.physics.envelope`). Burn
time is scaled per request (``burn_time_scales``, inside the profile's bounds; the
scales come from calibration, :mod:`trilink.physics.calibration`, or default to 1); a
request still out of reach is tried with shorter burns (higher thrust) up to the bound.

:func:`fit_class` tries every in-service type of a class and picks, among those that fly
the request, the one that needs the least reserve: nominal payload first, then the
highest cut-off fraction (the smallest missile that does it), saying why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trilink.physics.envelope import envelopes
from trilink.physics.fit import FitRequest, FitResult, FlightSummary, fit_flights
from trilink.physics.missiles import MissileProfile, types_of_class
from trilink.physics.trajectory import Flight, StepSizes
from trilink.physics.vehicle import LaunchControls


def _scaled(q: FitRequest, scale: float, payload_kg: float | None = None) -> FitRequest:
    lo, hi = q.profile.burn_time_scale_bounds
    prof = q.profile.with_burn_time_scale(float(np.clip(scale, lo, hi)))
    if payload_kg is not None:
        prof = prof.with_payload(payload_kg)
    return dataclasses.replace(q, profile=prof)


def fit_within_limits(
    requests: Sequence[FitRequest],
    burn_time_scales: Sequence[float] | None = None,
    steps: StepSizes | None = None,
    explain: bool = True,
) -> list[FitResult]:
    """Fit every request inside its profile's limits; see the module docstring.

    The results' ``request`` carries the profile as flown (scaled burn, chosen payload);
    ``payload_kg`` and ``burn_time_scale`` say what was chosen. With ``explain`` a refused
    request gets the nearest feasible point of its envelope (one more batch of flights).
    """
    scales = [1.0] * len(requests) if burn_time_scales is None else list(burn_time_scales)
    if len(scales) != len(requests):
        raise ValueError("one burn-time scale per request is needed")
    flown = [_scaled(q, s) for q, s in zip(requests, scales, strict=True)]
    results = fit_flights(flown, steps=steps)
    used = list(scales)
    # Physical limits, one step at a time: a lighter (test) payload, then shorter burns
    # (higher thrust) up to the bound the thrust figures allow.
    for frac in (0.0, 0.5, 1.0):
        todo = [i for i, r in enumerate(results) if not r.converged
                and (frac > 0.0 or requests[i].profile.lightest_payload_kg
                     < requests[i].profile.payload_kg)]
        if not todo:
            continue
        tries = [scales[i] + frac * (requests[i].profile.burn_time_scale_bounds[0] - scales[i])
                 for i in todo]
        again = fit_flights(
            [_scaled(requests[i], t, requests[i].profile.lightest_payload_kg)
             for i, t in zip(todo, tries, strict=True)], steps=steps)
        for i, t, r in zip(todo, tries, again, strict=True):
            if r.converged:
                results[i], used[i] = r, t
    out = [dataclasses.replace(r, payload_kg=r.request.profile.payload_kg,
                               burn_time_scale=float(np.clip(s, *requests[i].profile
                                                             .burn_time_scale_bounds)))
           for i, (r, s) in enumerate(zip(results, used, strict=True))]
    refused = [i for i, r in enumerate(out) if not r.converged]
    if explain and refused:
        envs = [envelopes([requests[i].profile], requests[i].lat_rad, requests[i].lon_rad,
                          requests[i].azimuth_rad, requests[i].height_m, steps)[0]
                for i in refused]
        for i, env in zip(refused, envs, strict=True):
            q = requests[i]
            if env.contains(q.apogee_m, q.range_m):
                continue  # inside the envelope: the fit's own message says what happened
            a, rg = env.nearest(q.apogee_m, q.range_m)
            lo = q.profile.burn_time_scale_bounds[0]
            msg = (f"{q.profile.name} cannot reach apogee {q.apogee_m / 1e3:.0f} km with range "
                   f"{q.range_m / 1e3:.0f} km: even at full burn, {lo:g} x nominal burn time "
                   f"and {q.profile.lightest_payload_kg:.0f} kg payload its nearest feasible "
                   f"point is apogee {a / 1e3:.0f} km, range {rg / 1e3:.0f} km")
            out[i] = dataclasses.replace(out[i], message=msg, nearest_feasible_m=(a, rg))
    return out


@dataclass(frozen=True)
class ClassChoice:
    """The type chosen for a class name, the candidates tried and why."""

    class_name: str
    chosen: FitResult
    candidates: tuple[tuple[str, FitResult], ...]
    reason: str

    @property
    def converged(self) -> bool:
        return self.chosen.converged


ENVELOPE_MARGIN = 0.02  # relative: the traced envelope is a 26-point approximation


def _refused(q: FitRequest) -> FitResult:
    """A placeholder result for a type whose envelope excludes the request (not flown;
    its summary is NaN and never reported: callers report the refusal's message)."""
    nan = float("nan")
    empty = np.zeros((1, 3))
    flight = Flight(t_s=np.zeros(1), r_ecef_m=empty, v_ecef_m_s=empty, impacted=False,
                    burnout_s=0.0)
    summary = FlightSummary(nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, False)
    return FitResult(q, LaunchControls(q.lat_rad, q.lon_rad, q.azimuth_rad, 0.0, 0.0),
                     flight, summary, False, 0, "outside the envelope",
                     payload_kg=q.profile.lightest_payload_kg)


def _is_nominal(r: FitResult, nominal_kg: float) -> bool:
    return r.payload_kg is not None and abs(r.payload_kg - nominal_kg) < 1e-6


def fit_class(
    request: FitRequest,
    class_name: str,
    steps: StepSizes | None = None,
    profiles: Sequence[MissileProfile] | None = None,
) -> ClassChoice:
    """Fit ``request`` with every type of ``class_name`` (its profile is ignored)."""
    types = list(profiles) if profiles is not None else types_of_class(class_name)
    if not types:
        raise KeyError(f"no in-service ballistic type of class {class_name!r}")
    # The envelopes first (a few dozen flights per type, one batch): fitting a type that
    # cannot reach the request costs far more than tracing what it can reach.
    envs = envelopes(types, request.lat_rad, request.lon_rad, request.azimuth_rad,
                     request.height_m, steps)
    near = [i for i, e in enumerate(envs)
            if e.distance(request.apogee_m, request.range_m) <= ENVELOPE_MARGIN]
    fitted = fit_within_limits([dataclasses.replace(request, profile=types[i]) for i in near],
                               steps=steps, explain=False)
    results: list[FitResult] = []
    for i, (p, env) in enumerate(zip(types, envs, strict=True)):
        if i in near:
            r = fitted[near.index(i)]
            if r.converged:
                results.append(r)
                continue
        else:
            r = _refused(dataclasses.replace(request, profile=p))
        a, rg = env.nearest(request.apogee_m, request.range_m)
        results.append(dataclasses.replace(
            r, nearest_feasible_m=(a, rg),
            message=f"{p.name} cannot reach it: nearest feasible apogee {a / 1e3:.0f} km, "
                    f"range {rg / 1e3:.0f} km"))
    cands = tuple((p.key, r) for p, r in zip(types, results, strict=True))
    ok = [(p, r) for p, r in zip(types, results, strict=True) if r.converged]
    tried = ", ".join(
        f"{k} cut-off {r.controls.energy_fraction:.2f}" if r.converged else f"{k} cannot"
        for k, r in cands)
    if ok:
        # Least stretch first: nominal payload, then nominal burn, then nearest full burn.
        ok.sort(key=lambda pr: (not _is_nominal(pr[1], pr[0].payload_kg),
                                abs(pr[1].burn_time_scale - 1.0) > 1e-9,
                                -pr[1].controls.energy_fraction))
        p, r = ok[0]
        payload = ("its nominal payload" if _is_nominal(r, p.payload_kg)
                   else f"a {r.payload_kg:.0f} kg test payload")
        burn = ("" if abs(r.burn_time_scale - 1.0) < 1e-9
                else f", {r.burn_time_scale:.2f} x nominal burn time")
        reason = (f"{class_name.upper()}: {p.key} flies it with {payload}{burn} closest to "
                  f"full burn (cut-off {r.controls.energy_fraction:.2f}); tried {tried}")
        return ClassChoice(class_name.upper(), r, cands, reason)
    # Nobody flies it: explain with the nearest feasible point over every type.
    def dist(r: FitResult) -> float:
        if r.nearest_feasible_m is None:
            return np.inf
        a, rg = r.nearest_feasible_m
        return float(np.hypot(a / request.apogee_m - 1.0, rg / request.range_m - 1.0))
    best = min(results, key=dist)
    if best.nearest_feasible_m is not None:
        a, rg = best.nearest_feasible_m
        reason = (f"the {class_name.upper()} types cannot reach apogee "
                  f"{request.apogee_m / 1e3:.0f} km with range {request.range_m / 1e3:.0f} km; "
                  f"nearest feasible: "
                  f"{best.request.profile.key} at apogee {a / 1e3:.0f} km, range "
                  f"{rg / 1e3:.0f} km (full burn, lightest payload)")
    else:
        reason = (f"no {class_name.upper()} type converged on apogee "
                  f"{request.apogee_m / 1e3:.0f} km, range {request.range_m / 1e3:.0f} km: "
                  f"{best.message}")
    return ClassChoice(class_name.upper(), dataclasses.replace(best, message=reason), cands,
                       reason)
