"""Ground truth of a scenario: every missile's flight, queried at any time.

Times are seconds since the scenario epoch (the first launch, unless the scenario says
otherwise); positions are ECEF metres. This is what sensors observe; trackers never see
it (tests and metrics compare against it).

Launch failures (a scenario launch's ``failure``): the vehicle breaks up at ``t_fail``.
``flights`` then describes what really happened — the powered or ballistic flight up
to ``t_fail`` spliced with the debris path from the state at ``t_fail``, flown by
:func:`~trilink.physics.trajectory.propagate_ballistic` to the ground — so its last knot
is where the debris fell and its ground track is the real one. In a :class:`TruthState`
a broken-up missile is not ``alive``: sensors (which look only at alive objects) no
longer see it; its ``debris`` flag says it is still falling.

The world around the missiles is part of the truth too: the scenario's own radars
(``sensors``) and the windows in which radars were silent (``outages``), which the
federation's simulated sensors follow (:mod:`trilink.sim.federation`).

This package sits below the sensors and the trackers (they observe it, metrics score
against it); building a truth from a scenario's fitted flights is the simulation's
(:func:`trilink.sim.truth.Truth.from_launch_flights`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from trilink.physics.trajectory import FlightBatch, propagate_ballistic
from trilink.world.outages import SensorOutage

if TYPE_CHECKING:  # the radars are only carried (the world sits below the sensors)
    from trilink.sensors.catalogue import RadarSpec

F = NDArray[np.float64]

# Radar cross-sections (m², X/S band, nose-on order of magnitude) when no profile gives
# them: the burning booster with its plume-free body, and the re-entry vehicle alone.
BOOST_RCS_M2 = 2.0
RV_RCS_M2 = 0.05


@dataclass(frozen=True)
class TruthState:
    """All objects at one time: positions and velocities (ECEF), flags and RCS."""

    t_s: float
    ids: tuple[str, ...]
    r_ecef_m: F  # (K, 3)
    v_ecef_m_s: F  # (K, 3)
    alive: NDArray[np.bool_]  # launched, not broken up, not yet impacted: what sensors see
    boosting: NDArray[np.bool_]  # engines burning (visible to space-based infrared)
    rcs_m2: F  # (K,)
    debris: NDArray[np.bool_] | None = None  # broken up, still falling (None: no failures)


@dataclass(frozen=True)
class Truth:
    """K missiles: ids, launch times since the epoch (s) and their propagated flights.

    ``failure_t_s`` (K,): breakup time since the epoch, NaN where the missile did not
    fail (None: no failures). ``sensors``: radars the scenario adds to the catalogue;
    ``outages``: when radars were silent.
    """

    ids: tuple[str, ...]
    launch_t_s: F
    flights: FlightBatch
    epoch: dt.datetime | None = None
    failure_t_s: F | None = None
    sensors: tuple[RadarSpec, ...] = ()
    outages: tuple[SensorOutage, ...] = ()

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def end_t_s(self) -> float:
        """Time (since the epoch) of the last impact."""
        return float(np.max(self.launch_t_s + self.flights.flight_time_s))

    def at(self, t_s: float) -> TruthState:
        """State of every object at time t_s since the epoch."""
        local = np.atleast_1d(t_s - self.launch_t_s)
        flying = (local >= 0.0) & (local <= self.flights.flight_time_s)
        if flying.any():
            r, v, _ = self.flights.sample_each(local)
        else:
            # Nothing in the air: every object sits at its first or last knot, exactly
            # what sample_each's clamping gives, without the interpolation.
            rows = np.arange(self.size)
            knot = np.where(local < 0.0, 0, self.flights.n_knots - 1)
            r = self.flights.r_ecef_m[rows, knot]
            v = self.flights.v_ecef_m_s[rows, knot]
        debris = None
        if self.failure_t_s is None:
            alive = flying
        else:
            broken = t_s >= self.failure_t_s  # False where NaN (no failure)
            alive = flying & ~broken
            debris = flying & broken
        boosting = alive & (local < self.flights.burnout_s)
        rcs = np.where(boosting, BOOST_RCS_M2, RV_RCS_M2)
        return TruthState(float(t_s), self.ids, r, v, alive, boosting, rcs, debris)

    def silenced(self, sensor_id: str, t_s: float) -> bool:
        """Whether the sensor reports nothing at t_s (an outage covers it)."""
        return any(o.sensor_id == sensor_id and o.covers(t_s) for o in self.outages)


def with_breakups(batch: FlightBatch, failure_s: F, debris_beta_kg_m2: F) -> FlightBatch:
    """The flights of ``batch`` with rows broken up at ``failure_s`` (since each row's
    launch; NaN: no failure) continuing as debris to the ground.

    A failed row keeps its knots before the breakup, then the debris path flown
    ballistically (ballistic coefficient ``debris_beta_kg_m2``, kg/m²) from the state at
    the breakup; its burnout is at most the breakup. Rows are padded with their last
    knot, as :func:`~trilink.physics.trajectory.propagate` pads them.
    """
    t_fail = np.asarray(failure_s, dtype=np.float64)
    rows = np.flatnonzero(np.isfinite(t_fail))
    if rows.size == 0:
        return batch
    if np.any(t_fail[rows] <= 0.0) or np.any(t_fail[rows] >= batch.flight_time_s[rows]):
        raise ValueError("a breakup must fall within its flight")
    r0, v0, _ = batch.sample_each(np.where(np.isfinite(t_fail), t_fail, 0.0))
    beta = np.asarray(debris_beta_kg_m2, dtype=np.float64)
    debris = propagate_ballistic(r0[rows], v0[rows], beta[rows])
    pieces: list[tuple[F, F, F]] = []
    for i in range(batch.size):
        k = int(batch.n_knots[i])
        t, r, v = batch.t_s[i, :k], batch.r_ecef_m[i, :k], batch.v_ecef_m_s[i, :k]
        hit = np.flatnonzero(rows == i)
        if hit.size:
            j, tf = int(hit[0]), float(t_fail[i])
            kd = int(debris.n_knots[j])
            keep = t < tf
            t = np.concatenate([t[keep], tf + debris.t_s[j, :kd]])
            r = np.concatenate([r[keep], debris.r_ecef_m[j, :kd]])
            v = np.concatenate([v[keep], debris.v_ecef_m_s[j, :kd]])
        pieces.append((t, r, v))
    width = max(len(t) for t, _, _ in pieces)
    n = batch.size
    ts, rs, vs = np.empty((n, width)), np.empty((n, width, 3)), np.empty((n, width, 3))
    for i, (t, r, v) in enumerate(pieces):
        m = len(t)
        ts[i, :m], rs[i, :m], vs[i, :m] = t, r, v
        ts[i, m:], rs[i, m:], vs[i, m:] = t[-1], r[-1], v[-1]
    impacted = batch.impacted.copy()
    impacted[rows] = debris.impacted
    burnout = batch.burnout_s.copy()
    burnout[rows] = np.minimum(burnout[rows], t_fail[rows])
    return FlightBatch(
        t_s=ts, r_ecef_m=rs, v_ecef_m_s=vs,
        n_knots=np.array([len(t) for t, _, _ in pieces], dtype=np.intp),
        impacted=impacted, burnout_s=burnout,
    )
