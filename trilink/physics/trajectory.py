"""Propagation of missile flights, one or many at once, with dense output.

The equations of motion are integrated in the Earth-fixed (ECEF) frame with the
centrifugal and Coriolis terms, J2 gravity, thrust and drag
(:meth:`VehicleBatch.acceleration`). Every row of a batch advances with classical
fourth-order Runge–Kutta on its *own* step size, chosen per row each step:

- boost: ``dt_boost_s`` and never across a thrust event (vertical-rise end, pitch-over
  end, staging, cut-off), so the right-hand side is smooth inside every step;
- coast above the atmosphere: up to ``dt_vacuum_s``, shrinking as the vehicle nears
  the sensible atmosphere;
- in the atmosphere (below 100 km on the way down): ``dt_atmosphere_s``.

Impact is where the geodetic height crosses zero, found by bisection on the cubic
Hermite interpolant of the last step. Positions between steps come from that same
interpolant (positions and velocities at both ends of each step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from trilink.physics import earth
from trilink.physics.ballistic import fly_ballistic
from trilink.physics.missiles import MissileProfile
from trilink.physics.vehicle import LaunchControls, VehicleBatch

F = NDArray[np.float64]

ATMOSPHERE_TOP_M = 100e3


@dataclass(frozen=True)
class StepSizes:
    """Integrator step sizes (s)."""

    boost_s: float = 1.0
    vacuum_s: float = 20.0
    atmosphere_s: float = 0.5
    max_flight_s: float = 20000.0


def _hermite(t0: F, t1: F, r0: F, v0: F, r1: F, v1: F, t: F) -> tuple[F, F]:
    """Cubic Hermite position and velocity at t within [t0, t1] (row-wise)."""
    h = np.where(t1 > t0, t1 - t0, 1.0)
    s = np.clip((t - t0) / h, 0.0, 1.0)[..., None]
    h3 = h[..., None]
    s2, s3 = s * s, s * s * s
    h00, h10, h01, h11 = 2 * s3 - 3 * s2 + 1, s3 - 2 * s2 + s, -2 * s3 + 3 * s2, s3 - s2
    pos = h00 * r0 + h10 * h3 * v0 + h01 * r1 + h11 * h3 * v1
    d00, d10, d01, d11 = 6 * s2 - 6 * s, 3 * s2 - 4 * s + 1, -6 * s2 + 6 * s, 3 * s2 - 2 * s
    vel = (d00 * r0 + d01 * r1) / h3 + d10 * v0 + d11 * v1
    return pos, vel


@dataclass(frozen=True)
class FlightBatch:
    """Knots of N propagated flights; rows end at their impact (padded after it).

    ``t_s`` is (N, K): time since each row's launch; ``r_ecef_m``, ``v_ecef_m_s`` are
    (N, K, 3) in ECEF. ``n_knots`` is the number of valid knots per row, the last
    being the impact (or the last step if the flight did not end).
    """

    t_s: F
    r_ecef_m: F
    v_ecef_m_s: F
    n_knots: NDArray[np.intp]
    impacted: NDArray[np.bool_]
    burnout_s: F

    @property
    def size(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def flight_time_s(self) -> F:
        return self.t_s[np.arange(self.size), self.n_knots - 1]

    def row(self, i: int) -> Flight:
        k = int(self.n_knots[i])
        return Flight(
            t_s=self.t_s[i, :k].copy(),
            r_ecef_m=self.r_ecef_m[i, :k].copy(),
            v_ecef_m_s=self.v_ecef_m_s[i, :k].copy(),
            impacted=bool(self.impacted[i]),
            burnout_s=float(self.burnout_s[i]),
        )

    def sample(self, t_s: ArrayLike, max_queries: int = 1 << 18) -> tuple[F, F, NDArray[np.bool_]]:
        """States of every row at common times since launch.

        Returns r (N, M, 3), v (N, M, 3) in ECEF and a validity mask (N, M) that is
        False before launch and after impact (where the states hold the end state).
        Rows are interpolated in blocks of at most ``max_queries`` samples so that
        temporaries stay small whatever the batch size.
        """
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        n = self.size
        r_out = np.empty((n, t.size, 3))
        v_out = np.empty((n, t.size, 3))
        block = max(1, max_queries // max(t.size, 1))
        for lo in range(0, n, block):
            hi = min(n, lo + block)
            r_out[lo:hi], v_out[lo:hi] = self._sample_rows(lo, hi, t)
        valid = (t[None, :] >= 0.0) & (t[None, :] <= self.flight_time_s[:, None])
        return r_out, v_out, valid

    def sample_each(self, t_s: ArrayLike) -> tuple[F, F, NDArray[np.bool_]]:
        """Row i at its own time t_s[i] (since its launch): r (N, 3), v (N, 3), valid (N,).

        Times outside a flight are clamped to it (valid is False there).
        """
        t = np.asarray(t_s, dtype=np.float64).reshape(self.size)
        n, k = self.t_s.shape
        rows = np.arange(n)
        last = self.n_knots - 1
        end = self.t_s[rows, last]
        tq = np.clip(t, 0.0, end)
        # Per-row binary search, vectorised: rows offset so the flattened knots stay sorted.
        span = float(self.t_s.max()) + 1.0
        idx = np.searchsorted((self.t_s + rows[:, None] * span).ravel(), tq + rows * span,
                              side="right") - 1 - rows * k
        idx = np.clip(idx, 0, np.maximum(last - 1, 0))
        j1 = np.minimum(idx + 1, last)
        pos, vel = _hermite(
            self.t_s[rows, idx], self.t_s[rows, j1], self.r_ecef_m[rows, idx],
            self.v_ecef_m_s[rows, idx], self.r_ecef_m[rows, j1], self.v_ecef_m_s[rows, j1], tq,
        )
        return pos, vel, (t >= 0.0) & (t <= end)

    def _sample_rows(self, lo: int, hi: int, t: F) -> tuple[F, F]:
        ts = self.t_s[lo:hi]
        n, k = ts.shape
        last = self.n_knots[lo:hi] - 1
        # One searchsorted for the block: rows are offset so their knot times stay sorted.
        span = float(ts.max()) + float(np.abs(t).max()) + 1.0
        offset = np.arange(n)[:, None] * span
        tq = np.clip(t[None, :], 0.0, ts[np.arange(n), last][:, None])
        idx = np.searchsorted((ts + offset).ravel(), (tq + offset).ravel(), side="right")
        idx = idx.reshape(n, t.size) - 1 - np.arange(n)[:, None] * k
        idx = np.clip(idx, 0, np.maximum(last - 1, 0)[:, None])
        base = np.arange(n)[:, None] * k
        j0 = (base + idx).ravel()
        j1 = (base + np.minimum(idx + 1, last[:, None])).ravel()
        tt = ts.ravel()
        rr = self.r_ecef_m[lo:hi].reshape(-1, 3)
        vv = self.v_ecef_m_s[lo:hi].reshape(-1, 3)
        pos, vel = _hermite(tt[j0], tt[j1], rr[j0], vv[j0], rr[j1], vv[j1], tq.ravel())
        return pos.reshape(n, t.size, 3), vel.reshape(n, t.size, 3)


@dataclass(frozen=True)
class Flight:
    """One propagated flight: knots in ECEF with dense output between them."""

    t_s: F
    r_ecef_m: F
    v_ecef_m_s: F
    impacted: bool
    burnout_s: float

    @property
    def flight_time_s(self) -> float:
        return float(self.t_s[-1])

    def state_at(self, t_s: ArrayLike) -> tuple[F, F]:
        """Position and velocity (ECEF) at times since launch, clamped to the flight."""
        t = np.clip(np.asarray(t_s, dtype=np.float64), self.t_s[0], self.t_s[-1])
        i = np.clip(np.searchsorted(self.t_s, t, side="right") - 1, 0, len(self.t_s) - 2)
        return _hermite(
            self.t_s[i], self.t_s[i + 1], self.r_ecef_m[i], self.v_ecef_m_s[i],
            self.r_ecef_m[i + 1], self.v_ecef_m_s[i + 1], t,
        )

    def geodetic_at(self, t_s: ArrayLike) -> tuple[F, F, F]:
        """Latitude, longitude (rad) and height (m) at times since launch."""
        r, _ = self.state_at(t_s)
        return earth.ecef_to_geodetic(r)


def _rk4_step(vb: VehicleBatch, rows: NDArray[np.intp], t: F, r: F, v: F, dt: F) -> tuple[F, F]:
    d = dt[:, None]
    mid = t + 0.5 * dt
    a1 = vb.acceleration(t, r, v, rows, mid)
    r2, v2 = r + 0.5 * d * v, v + 0.5 * d * a1
    a2 = vb.acceleration(mid, r2, v2, rows, mid)
    r3, v3 = r + 0.5 * d * v2, v + 0.5 * d * a2
    a3 = vb.acceleration(mid, r3, v3, rows, mid)
    r4, v4 = r + d * v3, v + d * a3
    a4 = vb.acceleration(t + dt, r4, v4, rows, mid)
    r_new = r + d / 6.0 * (v + 2 * v2 + 2 * v3 + v4)
    v_new = v + d / 6.0 * (a1 + 2 * a2 + 2 * a3 + a4)
    return r_new, v_new


def _step_sizes(vb: VehicleBatch, rows: NDArray[np.intp], t: F, r: F, v: F, steps: StepSizes) -> F:
    _, _, h = earth.ecef_to_geodetic(r)
    events = vb.event_times_s()[rows]
    ahead = np.where(events > t[:, None] + 1e-9, events - t[:, None], np.inf).min(axis=1)
    boosting = t < vb.burnout_s[rows]
    speed = np.linalg.norm(v, axis=1)
    # Above the atmosphere the step grows with the time left before reaching it.
    to_atmosphere_s = (h - ATMOSPHERE_TOP_M) / np.maximum(speed, 1.0)
    coast = np.clip(0.5 * to_atmosphere_s, steps.atmosphere_s, steps.vacuum_s)
    dt = np.where(boosting, steps.boost_s, coast)
    step: F = np.minimum(dt, ahead)
    return step


def propagate(
    profiles: Sequence[MissileProfile],
    controls: Sequence[LaunchControls],
    steps: StepSizes | None = None,
) -> FlightBatch:
    """Propagate N flights from launch to impact together (vectorised over rows)."""
    vb = VehicleBatch.build(profiles, controls)
    # At rest on the pad in the Earth-fixed frame.
    return _integrate(vb, vb.r0_ecef_m.copy(), np.zeros((vb.size, 3)), steps or StepSizes())


def propagate_ballistic(
    r_ecef_m: ArrayLike,
    v_ecef_m_s: ArrayLike,
    ballistic_coefficient_kg_m2: ArrayLike,
    steps: StepSizes | None = None,
) -> FlightBatch:
    """Unpowered flights from given ECEF states (N, 3) to impact, with drag.

    Times in the result count from the given states. Used to predict impact points
    (forward) — see :mod:`trilink.tracking.impact`.
    """
    r0 = np.atleast_2d(np.asarray(r_ecef_m, dtype=np.float64))
    v0 = np.atleast_2d(np.asarray(v_ecef_m_s, dtype=np.float64))
    n = r0.shape[0]
    beta = np.broadcast_to(np.asarray(ballistic_coefficient_kg_m2, dtype=np.float64), (n,))
    st = steps or StepSizes()
    t, r, v, counts, impacted = fly_ballistic(r0, v0, beta, st.vacuum_s, st.atmosphere_s,
                                              st.max_flight_s)
    return FlightBatch(t_s=t, r_ecef_m=r, v_ecef_m_s=v, n_knots=counts, impacted=impacted,
                       burnout_s=np.zeros(n))


def propagate_ballistic_numpy(
    r_ecef_m: ArrayLike,
    v_ecef_m_s: ArrayLike,
    ballistic_coefficient_kg_m2: ArrayLike,
    steps: StepSizes | None = None,
) -> FlightBatch:
    """:func:`propagate_ballistic` through the generic NumPy integrator (the powered
    one, thrust off): the reference the compiled loop is tested against."""
    r0 = np.atleast_2d(np.asarray(r_ecef_m, dtype=np.float64))
    v0 = np.atleast_2d(np.asarray(v_ecef_m_s, dtype=np.float64))
    n = r0.shape[0]
    beta = np.broadcast_to(np.asarray(ballistic_coefficient_kg_m2, dtype=np.float64), (n,))
    zeros, ones = np.zeros((n, 1)), np.ones((n, 1))
    vb = VehicleBatch(
        stage_start_s=zeros, stage_end_s=zeros, stage_mass0_kg=ones, mass_flow_kg_s=zeros,
        isp_sl_s=ones, isp_vac_s=ones, area_m2=ones, burnout_s=np.zeros(n),
        payload_kg=np.ones(n), rv_beta_kg_m2=beta.copy(), boost_cd=np.ones(n),
        vertical_rise_s=np.zeros(n), pitch_end_s=np.ones(n), pitch_final_rad=np.zeros(n),
        plane_normal=np.tile([0.0, 0.0, 1.0], (n, 1)), r0_ecef_m=r0.copy(),
    )
    return _integrate(vb, r0.copy(), v0.copy(), steps or StepSizes())


def _integrate(vb: VehicleBatch, r: F, v: F, steps: StepSizes) -> FlightBatch:
    """The RK4 loop shared by powered and ballistic propagation."""
    n = vb.size
    t = np.zeros(n)
    done = np.zeros(n, dtype=bool)
    impacted = np.zeros(n, dtype=bool)
    ts, rs, vs = [t.copy()], [r.copy()], [v.copy()]
    n_knots = np.ones(n, dtype=np.intp)
    while not done.all():
        rows = np.flatnonzero(~done)
        dt = _step_sizes(vb, rows, t[rows], r[rows], v[rows], steps)
        r_new, v_new = _rk4_step(vb, rows, t[rows], r[rows], v[rows], dt)
        t_new = t[rows] + dt
        _, _, h_new = earth.ecef_to_geodetic(r_new)
        # The first seconds of boost start on the ground: only a descent counts.
        hit = (h_new < 0.0) & (t_new > vb.burnout_s[rows])
        if hit.any():
            t_hit, r_hit, v_hit = _find_ground(t[rows][hit], t_new[hit], r[rows][hit],
                                               v[rows][hit], r_new[hit], v_new[hit])
            t_new[hit], r_new[hit], v_new[hit] = t_hit, r_hit, v_hit
            impacted[rows[hit]] = True
        timeout = t_new >= steps.max_flight_s
        t[rows], r[rows], v[rows] = t_new, r_new, v_new
        n_knots[rows] += 1
        done[rows[hit | timeout]] = True
        ts.append(t.copy())
        rs.append(r.copy())
        vs.append(v.copy())
    return FlightBatch(
        t_s=np.stack(ts, axis=1),
        r_ecef_m=np.stack(rs, axis=1),
        v_ecef_m_s=np.stack(vs, axis=1),
        n_knots=n_knots,
        impacted=impacted,
        burnout_s=vb.burnout_s.copy(),
    )


def _find_ground(t0: F, t1: F, r0: F, v0: F, r1: F, v1: F) -> tuple[F, F, F]:
    """Time and state where the height crosses zero inside [t0, t1] (bisection)."""
    lo, hi = t0.copy(), t1.copy()
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        pos, _ = _hermite(t0, t1, r0, v0, r1, v1, mid)
        _, _, h = earth.ecef_to_geodetic(pos)
        above = h > 0.0
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    pos, vel = _hermite(t0, t1, r0, v0, r1, v1, hi)
    return hi, pos, vel
