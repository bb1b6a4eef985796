"""Fitting a missile's flight to what governments publish: apogee, range, direction.

Three controls are solved for each launch: the final pitch angle of the guidance
programme (shapes the arc: lofted or flat), the engine cut-off as a fraction of the
nominal burn (sets the energy), and the heading of the flight plane (so that the
impact lies on the requested bearing from the launch site despite the Earth's
rotation). Newton's method with a finite-difference Jacobian; the base flight and its
perturbations of every launch being fitted propagate together in one batch.

A glide vehicle's published lateral movement (``FitRequest.cross_range_m``, e.g. KCNA's
"120 km lateral movement" of 2022-01-05) adds a fourth control, the glider's bank angle
(:mod:`trilink.physics.vehicle`), and a fourth equation: the impact's signed distance to
the right of the great circle along the launch heading (:func:`cross_range_m`). Without
it nothing banks; an unbanked flight still drifts a little off its launch heading
(the Earth turns under it), and that drift is what ``cross_range_m`` reports for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trilink.physics import earth
from trilink.physics.missiles import MissileProfile
from trilink.physics.trajectory import Flight, StepSizes, propagate
from trilink.physics.vehicle import LaunchControls

PITCH_MIN_RAD = np.radians(3.0)
PITCH_MAX_RAD = np.radians(89.5)
ENERGY_MIN = 0.02
TOLERANCE = 5e-4  # relative, on apogee and range (the target is 1 %)
AZIMUTH_TOLERANCE_RAD = np.radians(0.02)
_D_PITCH = np.radians(0.05)
_D_ENERGY = 0.002
_D_HEADING = np.radians(0.05)
_D_BANK = np.radians(0.5)
BANK_MAX_RAD = np.radians(75.0)
CROSS_RANGE_TOLERANCE = 5e-4  # of the range: 0.35 km on 700 km
_PINNED_LIMIT = 4  # Newton steps pushing against an energy bound before giving up
_STALL = 6


@dataclass(frozen=True)
class FitRequest:
    """A published launch: site (geodetic, rad), bearing to impact (rad), apogee and range (m)."""

    lat_rad: float
    lon_rad: float
    azimuth_rad: float
    apogee_m: float
    range_m: float
    profile: MissileProfile
    height_m: float = 0.0
    cross_range_m: float | None = None  # a glider's lateral movement (module docstring)

    def __post_init__(self) -> None:
        if self.cross_range_m is not None and self.profile.glide is None:
            raise ValueError(f"{self.profile.name} is not a glide vehicle: a lateral movement "
                             "needs lift (a glide type)")


@dataclass(frozen=True)
class FlightSummary:
    """What a flight did, in the units users read (SI; angles in rad)."""

    flight_time_s: float
    apogee_m: float
    apogee_time_s: float
    range_m: float
    impact_lat_rad: float
    impact_lon_rad: float
    impact_azimuth_rad: float
    burnout_time_s: float
    burnout_height_m: float
    burnout_speed_m_s: float
    impact_speed_m_s: float
    impacted: bool


@dataclass(frozen=True)
class FitResult:
    request: FitRequest
    controls: LaunchControls
    flight: Flight
    summary: FlightSummary
    converged: bool
    iterations: int
    message: str
    # What the fit chose inside the profile's physical limits (see trilink.physics.solve).
    payload_kg: float | None = None
    burn_time_scale: float = 1.0
    nearest_feasible_m: tuple[float, float] | None = None  # (apogee, range) when refused

    @property
    def cross_range_m(self) -> float:
        """Signed distance of the impact to the right of the launch heading's great circle."""
        return cross_range_m(self.summary.range_m, self.summary.impact_azimuth_rad,
                             self.controls.heading_rad)


def cross_range_m(range_m: float, impact_azimuth_rad: float, heading_rad: float) -> float:
    """Cross-track distance (m, positive to the right) of a point ``range_m`` away on
    bearing ``impact_azimuth_rad`` from the great circle leaving on ``heading_rad``
    (spherical Earth of mean radius: metres on a few hundred km)."""
    r = earth.MEAN_RADIUS_M
    return float(r * np.arcsin(np.sin(range_m / r) * np.sin(impact_azimuth_rad - heading_rad)))


def summarise(flight: Flight) -> FlightSummary:
    """Apogee (refined between knots), range, impact and burnout of one flight."""
    lat, lon, h = earth.ecef_to_geodetic(flight.r_ecef_m)
    k = int(np.argmax(h))
    lo = flight.t_s[max(k - 1, 0)]
    hi = flight.t_s[min(k + 1, len(flight.t_s) - 1)]
    fine_t = np.linspace(lo, hi, 201)
    _, _, fine_h = flight.geodetic_at(fine_t)
    j = int(np.argmax(fine_h))
    az, dist = earth.geodesic_inverse(lat[0], lon[0], lat[-1], lon[-1])
    r_bo, v_bo = flight.state_at(flight.burnout_s)
    _, _, h_bo = earth.ecef_to_geodetic(r_bo)
    return FlightSummary(
        flight_time_s=flight.flight_time_s,
        apogee_m=float(fine_h[j]),
        apogee_time_s=float(fine_t[j]),
        range_m=float(dist),
        impact_lat_rad=float(lat[-1]),
        impact_lon_rad=float(lon[-1]),
        impact_azimuth_rad=float(az),
        burnout_time_s=flight.burnout_s,
        burnout_height_m=float(h_bo),
        burnout_speed_m_s=float(np.linalg.norm(v_bo)),
        impact_speed_m_s=float(np.linalg.norm(flight.v_ecef_m_s[-1])),
        impacted=flight.impacted,
    )


def _wrap(angle_rad: float) -> float:
    return float((angle_rad + np.pi) % (2 * np.pi) - np.pi)


def fit_flights(
    requests: Sequence[FitRequest], max_iterations: int = 30, steps: StepSizes | None = None
) -> list[FitResult]:
    """Solve the controls of every request together; see the module docstring."""
    n = len(requests)
    pitch = np.array(
        [np.clip(np.arctan2(4 * q.apogee_m, q.range_m), np.radians(8), np.radians(88))
         for q in requests]
    )
    energy = np.full(n, 0.9)
    heading = np.array([q.azimuth_rad for q in requests])
    bank = np.zeros(n)
    bank_pinned = np.zeros(n, dtype=int)  # iterations in a row asking for more bank
    # A lateral fit near the bank limit can cycle: stop once its residual has not
    # improved for _STALL iterations (lateral rows only: the others keep their path).
    best = np.full(n, np.inf)
    stalled = np.zeros(n, dtype=int)
    lateral = [q.cross_range_m is not None for q in requests]
    active = np.ones(n, dtype=bool)
    # Iterations in a row that asked for more (less) energy than full burn (minimum cut-off).
    pinned = np.zeros(n, dtype=int)
    results: list[FitResult | None] = [None] * n

    def controls(i: int, p: float, e: float, psi: float, b: float) -> LaunchControls:
        q = requests[i]
        return LaunchControls(q.lat_rad, q.lon_rad, psi, p, e, q.height_m, b)

    for it in range(1, max_iterations + 1):
        rows = [int(i) for i in np.flatnonzero(active)]
        if not rows:
            break
        profiles: list[MissileProfile] = []
        ctl: list[LaunchControls] = []
        first: list[int] = []  # each row's base flight in the batch
        for i in rows:
            p, e, psi, b = float(pitch[i]), float(energy[i]), float(heading[i]), float(bank[i])
            de = _D_ENERGY if e + _D_ENERGY <= 1.0 else -_D_ENERGY
            dp = _D_PITCH if p + _D_PITCH <= PITCH_MAX_RAD else -_D_PITCH
            first.append(len(ctl))
            ctl += [
                controls(i, p, e, psi, b),
                controls(i, p + dp, e, psi, b),
                controls(i, p, e + de, psi, b),
                controls(i, p, e, psi + _D_HEADING, b),
            ]
            if lateral[i]:
                db = _D_BANK if b + _D_BANK <= BANK_MAX_RAD else -_D_BANK
                ctl.append(controls(i, p, e, psi, b + db))
            profiles += [requests[i].profile] * (len(ctl) - first[-1])
        batch = propagate(profiles, ctl, steps)
        for m, i in enumerate(rows):
            q = requests[i]
            k0 = first[m]
            per = 5 if lateral[i] else 4
            flights = [batch.row(k0 + k) for k in range(per)]
            sums = [summarise(f) for f in flights]
            res = np.array(
                [
                    [
                        np.log(s.apogee_m / q.apogee_m),
                        np.log(s.range_m / q.range_m),
                        _wrap(s.impact_azimuth_rad - q.azimuth_rad),
                    ] + ([(cross_range_m(s.range_m, s.impact_azimuth_rad, c.heading_rad)
                           - float(q.cross_range_m or 0.0)) / q.range_m] if lateral[i] else [])
                    for s, c in zip(sums, ctl[k0:k0 + per], strict=True)
                ]
            )
            base = res[0]
            ok = bool(
                np.all(np.abs(base[:2]) < TOLERANCE) and abs(base[2]) < AZIMUTH_TOLERANCE_RAD
                and (not lateral[i] or abs(base[3]) < CROSS_RANGE_TOLERANCE)
            )
            if lateral[i]:
                size = float(np.linalg.norm(base))
                stalled[i] = 0 if size < 0.99 * best[i] else stalled[i] + 1
                best[i] = min(best[i], size)
            if (ok or it == max_iterations or pinned[i] >= _PINNED_LIMIT
                    or bank_pinned[i] >= _PINNED_LIMIT or stalled[i] >= _STALL):
                active[i] = False
                results[i] = FitResult(
                    request=q,
                    controls=ctl[k0],
                    flight=flights[0],
                    summary=sums[0],
                    converged=ok,
                    iterations=it,
                    message="converged" if ok else _why_not(
                        q, sums[0], energy[i], pitch[i],
                        cross_range_m(sums[0].range_m, sums[0].impact_azimuth_rad,
                                      ctl[k0].heading_rad), float(bank[i])),
                )
                continue
            deltas = [
                ctl[k0 + 1].pitch_final_rad - ctl[k0].pitch_final_rad,
                ctl[k0 + 2].energy_fraction - ctl[k0].energy_fraction,
                _D_HEADING,
            ] + ([ctl[k0 + 4].glide_bank_rad - ctl[k0].glide_bank_rad] if lateral[i] else [])
            jac = np.column_stack([(res[k + 1] - base) / deltas[k] for k in range(per - 1)])
            try:
                step = -np.linalg.solve(jac, base)
            except np.linalg.LinAlgError:
                step = np.array([0.0, 0.05, 0.0, 0.0][:per - 1])
            # Trust region: Newton steps far from the solution can overshoot wildly.
            scale = min(
                1.0,
                np.radians(8.0) / max(abs(step[0]), 1e-12),
                0.15 / max(abs(step[1]), 1e-12),
                np.radians(10.0) / max(abs(step[2]), 1e-12),
                np.radians(10.0) / max(abs(step[3]), 1e-12) if lateral[i] else 1.0,
            )
            pitch[i] = np.clip(pitch[i] + scale * step[0], PITCH_MIN_RAD, PITCH_MAX_RAD)
            wanted = energy[i] + scale * step[1]
            energy[i] = np.clip(wanted, ENERGY_MIN, 1.0)
            pinned[i] = pinned[i] + 1 if wanted != energy[i] else 0
            heading[i] = heading[i] + scale * step[2]
            if lateral[i]:
                wanted_bank = bank[i] + scale * step[3]
                bank[i] = np.clip(wanted_bank, -BANK_MAX_RAD, BANK_MAX_RAD)
                bank_pinned[i] = bank_pinned[i] + 1 if wanted_bank != bank[i] else 0
    out: list[FitResult] = []
    for r in results:
        assert r is not None
        out.append(r)
    return out


def _why_not(q: FitRequest, s: FlightSummary, energy: float, pitch: float,
             cross_m: float, bank_rad: float) -> str:
    if q.cross_range_m is not None and abs(bank_rad) >= BANK_MAX_RAD - 1e-9:
        return (
            f"{q.profile.name} cannot move {q.cross_range_m / 1e3:.0f} km sideways on a "
            f"{q.range_m / 1e3:.0f} km flight with apogee {q.apogee_m / 1e3:.0f} km: at the "
            f"bank limit of {np.degrees(BANK_MAX_RAD):.0f} deg it reaches "
            f"{cross_m / 1e3:.0f} km (apogee {s.apogee_m / 1e3:.0f} km, range "
            f"{s.range_m / 1e3:.0f} km)"
        )
    if energy >= 1.0 - 1e-9:
        return (
            f"{q.profile.name} cannot reach apogee {q.apogee_m / 1e3:.0f} km and range "
            f"{q.range_m / 1e3:.0f} km: at full burn it reaches {s.apogee_m / 1e3:.0f} km / "
            f"{s.range_m / 1e3:.0f} km"
        )
    if energy <= ENERGY_MIN + 1e-9:
        return (
            f"apogee {q.apogee_m / 1e3:.0f} km / range {q.range_m / 1e3:.0f} km is below what "
            f"{q.profile.name} flies even with an early cut-off"
        )
    lateral = ("" if q.cross_range_m is None else
               f", {cross_m / 1e3:.1f} km sideways of {q.cross_range_m / 1e3:.0f} km asked "
               f"(bank {np.degrees(bank_rad):.0f} deg)")
    return (
        f"no solution found for {q.profile.name}: best apogee {s.apogee_m / 1e3:.1f} km, range "
        f"{s.range_m / 1e3:.1f} km (pitch {np.degrees(pitch):.1f} deg){lateral}"
    )


def fit_flight(request: FitRequest, steps: StepSizes | None = None) -> FitResult:
    """Fit one launch; see :func:`fit_flights`."""
    return fit_flights([request], steps=steps)[0]
