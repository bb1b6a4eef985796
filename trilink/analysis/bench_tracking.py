"""Tracking benchmark (issue 3): trilink's IMM-EKF side by side with Stone Soup and FilterPy.

Same truth, same measurements, same motion model where the peer allows it:

- *truth*: trilink's fitted flights (``trilink.sim``); one Hwasong-12 in its coast phase
  for the single-target case, 23 lofted IRBMs and MRBMs from six DPRK sites for the
  multi-target case;
- *measurements*: one radar at Shariki (40.888N 140.338E) reporting range, azimuth and
  elevation with σ = 30 m, 0.5 mrad, 0.5 mrad every 5 s above 1° elevation, with
  probability of detection one and no false alarms; the noise is drawn once (seeded)
  and every tracker reads the same arrays;
- *motion model*: trilink's ballistic equations (J2 gravity, centrifugal and Coriolis
  terms in ECEF, RK4 in sub-steps of at most 5 s, the transition matrix as trilink's
  kernels build it, the ballistic mode's process noise), written in NumPy as a user of
  each library would write it: a Stone Soup ``GaussianTransitionModel`` and
  ``NonLinearGaussianMeasurement``; a FilterPy ``ExtendedKalmanFilter`` subclass
  (``predict_x``) and an ``UnscentedKalmanFilter`` with ``fx``/``hx``. The peers run a
  single 6-state filter; trilink runs its own 2-mode IMM (ballistic and powered) of a
  9-state filter, which is more work per cycle — the comparison does not hide that.

Figures: time per predict + update cycle (single target), time per scan with 23 targets
once tracks are established (trilink's :class:`~trilink.tracking.tracker.Tracker`, Stone
Soup's ``MultiTargetTracker`` with GNN, and a minimal GNN loop over FilterPy EKFs, since
FilterPy has no tracker), position and velocity RMSE against truth over Monte Carlo
noise draws, their ratio to the posterior Cramér–Rao bound, and the impact-point error
60 s after first detection (every tracker's state through the same
:func:`trilink.tracking.impact.predict_impacts`).

The peers are imported lazily: without them :func:`run_tracking_benchmark` raises
:class:`PeersMissingError` naming ``pip install 'trilink[bench]'``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import import_module, metadata
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rich.table import Table
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2

from trilink.errors import TrilinkError
from trilink.physics import earth
from trilink.physics.fit import FitRequest, fit_flights
from trilink.physics.missiles import get_profile
from trilink.physics.trajectory import propagate
from trilink.sim.flights import fly_scenarios
from trilink.sim.scenario import load_scenario
from trilink.sim.truth import Truth
from trilink.tracking import kernels
from trilink.tracking.imm import ImmParams, RadarGeometry, TrackBank, polar_to_ecef
from trilink.tracking.impact import predict_impacts
from trilink.tracking.pcrlb import pcrlb
from trilink.tracking.tracker import Tracker, TrackerConfig

F = NDArray[np.float64]
I64 = NDArray[np.int64]

PEERS_HINT = "pip install 'trilink[bench]'"
TRACKERS = ("trilink", "stonesoup", "filterpy")
# Single-target variants: the peers' EKFs are the headline (trilink is an EKF too).
VARIANTS = ("trilink", "stonesoup_ekf", "stonesoup_ukf", "filterpy_ekf", "filterpy_ukf",
            "trilink_ballistic_start")
HEADLINE = {"trilink": "trilink", "stonesoup": "stonesoup_ekf", "filterpy": "filterpy_ekf"}
GOALS = {"speedup_vs_stonesoup": 10.0, "speedup_vs_filterpy": 3.0, "rmse_over_pcrlb": 1.3}

RADAR_ID = "BENCH-TPY2-SHARIKI"
RADAR_LAT_DEG, RADAR_LON_DEG, RADAR_H_M = 40.888, 140.338, 30.0
SIGMA = np.array([30.0, 0.5e-3, 0.5e-3])  # range m, azimuth rad, elevation rad
REVISIT_S = 5.0
EL_MIN_DEG = 1.0
COAST_MIN_HEIGHT_M = 100e3  # above the atmosphere: no drag, the ballistic model is exact
SINGLE_SCENARIO = "2022-10-04-irbm-overflight"
SETTLE_S = 60.0  # RMSE counts from this long after first detection, for every tracker
IMPACT_AFTER_S = 60.0
N_TARGETS = 23
GATE_PROBABILITY = 0.9999
CONFIRM_HITS = 3  # peers' M-of-N: a track is confirmed at its third detection
DELETE_AFTER_MISSES = 3
INITIAL_SPEED_SIGMA_M_S = ImmParams().initial_speed_sigma_m_s  # one-point initiation prior
BALLISTIC_START_POWERED_PROBABILITY = 1e-9
UKF_ALPHA, UKF_BETA, UKF_KAPPA = 1.0, 2.0, 0.0  # the same sigma points in both peers
EPOCH = dt.datetime(2022, 10, 3, 22, 22, tzinfo=dt.UTC)

MU, J2, AE, W = kernels.MU, kernels.J2, kernels.AE, kernels.W
TWO_PI = 2.0 * math.pi


class PeersMissingError(TrilinkError, RuntimeError):
    """Stone Soup or FilterPy is not installed."""


def peer_versions() -> dict[str, str]:
    """Versions of the peers; raises :class:`PeersMissingError` if one is missing."""
    out: dict[str, str] = {}
    for name in ("stonesoup", "filterpy"):
        try:
            import_module(name)
        except ImportError as exc:
            raise PeersMissingError(
                f"the tracking benchmark needs Stone Soup and FilterPy ({name} is missing): "
                f"{PEERS_HINT}"
            ) from exc
        out[name] = metadata.version(name)
    return out


# --- The motion and measurement model, in NumPy, as the peers' users would write it ------


def ballistic_accel(r: F, v: F) -> F:
    """Acceleration (3, N) in the rotating ECEF frame: J2 gravity, centrifugal, Coriolis.

    The equations of :func:`trilink.tracking.kernels.accel` with no specific force.
    """
    x, y, z = r[0], r[1], r[2]
    r2 = x * x + y * y + z * z
    mu_r3 = MU / (r2 * np.sqrt(r2))
    k = 1.5 * J2 * AE * AE / r2
    z2r2 = z * z / r2
    fxy = -mu_r3 * (1.0 + k * (1.0 - 5.0 * z2r2))
    fz = -mu_r3 * (1.0 + k * (3.0 - 5.0 * z2r2))
    return np.stack(
        [fxy * x + W * W * x + 2.0 * W * v[1], fxy * y + W * W * y - 2.0 * W * v[0], fz * z]
    )


def _rk4(x: F, h: float) -> tuple[F, F]:
    """One RK4 step of states (6, N); also returns the mid-point positions (3, N)."""
    r, v = x[:3], x[3:6]
    k1 = ballistic_accel(r, v)
    r2, v2 = r + 0.5 * h * v, v + 0.5 * h * k1
    k2 = ballistic_accel(r2, v2)
    r3, v3 = r + 0.5 * h * v2, v + 0.5 * h * k2
    k3 = ballistic_accel(r3, v3)
    r4, v4 = r + h * v3, v + h * k3
    k4 = ballistic_accel(r4, v4)
    r_new = r + h / 6.0 * (v + 2.0 * v2 + 2.0 * v3 + v4)
    v_new = v + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return np.concatenate([r_new, v_new]), r2


def _substeps(dt_s: float) -> tuple[int, float]:
    n = max(1, math.ceil(abs(dt_s) / kernels.MAX_SUBSTEP_S))
    return n, dt_s / n


def ballistic_propagate(x: F, dt_s: float) -> F:
    """States (6, N) flown dt_s seconds (RK4, sub-steps of at most 5 s): the filters' f(x)."""
    n, h = _substeps(dt_s)
    for _ in range(n):
        x, _ = _rk4(x, h)
    return x


def _jacobian_a(r: F) -> F:
    """Continuous-time Jacobian (6×6) at position r (3,): point-mass gravity gradient and
    the rotating frame's terms, as in :func:`trilink.tracking.kernels._jacobian_a`."""
    A = np.zeros((6, 6))
    A[0:3, 3:6] = np.eye(3)
    r2 = float(r @ r)
    c = MU / (r2 * math.sqrt(r2))
    A[3:6, 0:3] = c * (3.0 * np.outer(r, r) / r2 - np.eye(3))
    A[3, 0] += W * W
    A[4, 1] += W * W
    A[3, 4] = 2.0 * W
    A[4, 3] = -2.0 * W
    return A


def ballistic_transition(x: F, dt_s: float) -> tuple[F, F]:
    """One state (6,) flown dt_s seconds and its transition matrix (6×6): the EKF's F.

    Per sub-step the transition is I + Ah + (Ah)²/2 + (Ah)³/6 with A at the RK4 mid-point,
    as trilink's kernels build it.
    """
    n, h = _substeps(dt_s)
    s = np.asarray(x, dtype=np.float64).reshape(6, 1)
    phi = np.eye(6)
    for _ in range(n):
        s, mid = _rk4(s, h)
        Ah = _jacobian_a(mid[:, 0]) * h
        Ah2 = Ah @ Ah
        phi = (np.eye(6) + Ah + 0.5 * Ah2 + Ah2 @ Ah / 6.0) @ phi
    return s[:, 0], phi


def process_noise(dt_s: float, q: float) -> F:
    """Discrete white-noise-acceleration process noise (6×6) of density q (m²/s³): the
    position–velocity block of trilink's ballistic mode."""
    Q = np.zeros((6, 6))
    for i in range(3):
        Q[i, i] = q * dt_s**3 / 3.0
        Q[i, 3 + i] = Q[3 + i, i] = q * dt_s**2 / 2.0
        Q[3 + i, 3 + i] = q * dt_s
    return Q


def polar(x: F, site: F, basis: F) -> F:
    """[range, azimuth, elevation] (3, N) of states (≥3, N) seen from a radar; azimuth
    clockwise from north in [0, 2π) (the convention of :func:`kernels.radar_h`)."""
    enu = basis @ (x[:3] - site[:, None])
    e, n, u = enu[0], enu[1], enu[2]
    hz = np.hypot(e, n)
    return np.stack([np.hypot(hz, u), np.mod(np.arctan2(e, n), TWO_PI), np.arctan2(u, hz)])


def polar_jacobian(x: F, site: F, basis: F) -> F:
    """Jacobian (3×6) of :func:`polar` at one state x (≥3,)."""
    e, n, u = basis @ (np.asarray(x[:3], dtype=np.float64).ravel() - site)
    h2 = e * e + n * n
    hz = math.sqrt(h2)
    rg2 = h2 + u * u
    rg = math.sqrt(rg2)
    J = np.array(
        [
            [e / rg, n / rg, u / rg],
            [n / h2, -e / h2, 0.0],
            [-e * u / (rg2 * hz), -n * u / (rg2 * hz), hz / rg2],
        ]
    )
    H = np.zeros((3, 6))
    H[:, :3] = J @ basis
    return H


def _polar1(x: F, site: F, basis: F) -> F:
    out: F = polar(np.asarray(x, dtype=np.float64).reshape(-1, 1), site, basis)[:, 0]
    return out


def _wrap(a: Any) -> Any:
    return (a + math.pi) % TWO_PI - math.pi


def _residual(z: F, zh: F) -> F:
    """Measurement residual with the azimuth wrapped to (−π, π]."""
    y = np.asarray(z, dtype=np.float64) - zh
    y[1] = _wrap(y[1])
    return y


def _z_mean(sigmas: F, Wm: F) -> F:
    """Weighted mean of measurement sigma points (2n+1, 3), circular in azimuth."""
    z: F = Wm @ sigmas
    z[1] = math.atan2(float(Wm @ np.sin(sigmas[:, 1])), float(Wm @ np.cos(sigmas[:, 1]))) % TWO_PI
    return z


def radar_geometry() -> RadarGeometry:
    return RadarGeometry.at(math.radians(RADAR_LAT_DEG), math.radians(RADAR_LON_DEG), RADAR_H_M)


def measurement_noise() -> F:
    return np.diag(SIGMA**2)


def ballistic_noise_density() -> float:
    """The process noise density of trilink's ballistic mode (m²/s³), used by the peers."""
    return ImmParams().ballistic_velocity_noise_m2_s3


def start_two_point(bank: TrackBank, z0: F, t0_s: float, z1: F, t1_s: float,
                    geo: RadarGeometry) -> I64:
    """Start a track in ``bank`` from two detections as trilink's Tracker starts a
    candidate (:meth:`TrackBank.add_two_point`): the prior of every tracker."""
    pos, cov = polar_to_ecef(np.stack([z0, z1]), geo, SIGMA)
    return bank.add_two_point(pos[:1], cov[:1], np.array([t0_s]), pos[1:], cov[1:], t1_s,
                              TrackerConfig().max_force_m_s2)


def two_point_prior(z0: F, t0_s: float, z1: F, t1_s: float,
                    geo: RadarGeometry) -> tuple[F, F]:
    """Position–velocity part (6,), (6×6) of :func:`start_two_point`'s track: the peers'
    initial state."""
    bank = TrackBank(ImmParams())
    row = int(start_two_point(bank, z0, t0_s, z1, t1_s, geo)[0])
    return bank.xm[row, 0, :6].copy(), bank.Pm[row, 0, :6, :6].copy()


def one_point_init(z: F, geo: RadarGeometry) -> tuple[F, F]:
    """State (6,) and covariance from one detection: the peers' track initiation (position
    from the detection, velocity 0 ± trilink's initial speed sigma)."""
    pos, cov = polar_to_ecef(z.reshape(1, 3), geo, SIGMA)
    P = np.zeros((6, 6))
    P[:3, :3] = cov[0]
    P[3:, 3:] = np.eye(3) * INITIAL_SPEED_SIGMA_M_S**2
    return np.concatenate([pos[0], np.zeros(3)]), P


def measure(r: F, geo: RadarGeometry, rng: np.random.Generator) -> F:
    """Noisy [range, az, el] (K, 3) of ECEF positions (K, 3)."""
    z: F = polar(r.T, geo.site_ecef_m, geo.basis).T + rng.standard_normal(r.shape) * SIGMA
    z[:, 1] = np.mod(z[:, 1], TWO_PI)
    return z


# --- Scenarios -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SingleCase:
    """One missile's coast seen by one radar: scans at t (m,) — the first two start the
    track — truth x (m, 6) and measurements z (runs, m, 3), one noise draw per run."""

    t: F
    x_true: F
    z: F
    impact_lat_rad: float
    impact_lon_rad: float
    launch_id: str
    burnout_s: float

    @property
    def n_cycles(self) -> int:
        return int(self.t.shape[0]) - 2

    @property
    def n_runs(self) -> int:
        return int(self.z.shape[0])

    def scored(self) -> NDArray[np.bool_]:
        """Which update cycles count for RMSE: SETTLE_S after first detection onwards."""
        out: NDArray[np.bool_] = self.t[2:] >= self.t[0] + SETTLE_S - 1e-9
        return out

    def impact_cycle(self) -> int:
        return int(np.argmin(np.abs(self.t[2:] - (self.t[0] + IMPACT_AFTER_S))))


def _visible(r: F) -> NDArray[np.bool_]:
    _, el, _ = earth.ecef_to_aer(r, math.radians(RADAR_LAT_DEG), math.radians(RADAR_LON_DEG),
                                 RADAR_H_M)
    _, _, h = earth.ecef_to_geodetic(r)
    out: NDArray[np.bool_] = (el > math.radians(EL_MIN_DEG)) & (h > COAST_MIN_HEIGHT_M)
    return out


def _first_run(mask: NDArray[np.bool_]) -> tuple[int, int]:
    """Start and end (exclusive) of the first run of True in mask."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        raise RuntimeError("the benchmark radar never sees the target")
    start = int(idx[0])
    stop = start
    while stop < mask.size and mask[stop]:
        stop += 1
    return start, stop


def single_target_case(seed: int, n_runs: int, max_scans: int | None = None) -> SingleCase:
    """The 2022-10-04 Hwasong-12 after burnout, seen from Shariki until it sets below 1°."""
    truth = Truth.from_launch_flights(fly_scenarios([load_scenario(SINGLE_SCENARIO)]))
    launch = float(truth.launch_t_s[0])
    burnout = launch + float(truth.flights.burnout_s[0])
    t_all = np.arange(math.ceil((burnout + 1.0) / REVISIT_S) * REVISIT_S, truth.end_t_s,
                      REVISIT_S)
    r, v, _ = truth.flights.sample(t_all - launch)
    start, stop = _first_run(_visible(r[0]))
    if max_scans is not None:
        stop = min(stop, start + max_scans)
    t = t_all[start:stop]
    x_true = np.concatenate([r[0, start:stop], v[0, start:stop]], axis=1)
    geo = radar_geometry()
    rng = np.random.default_rng(seed)
    z = np.stack([measure(x_true[:, :3], geo, rng) for _ in range(n_runs)])
    row = truth.flights.row(0)
    lat, lon, _ = earth.ecef_to_geodetic(row.r_ecef_m[-1])
    return SingleCase(t, x_true, z, float(lat), float(lon), truth.ids[0], burnout)


# Multi-target salvo: 23 lofted missiles from six sites (lat, lon deg), every one in its
# coast above the atmosphere and above 1° from Shariki during a common window.
SITES = {
    "Sunan": (39.200159, 125.673256),
    "Kusong": (40.0659, 125.2099),
    "Mupyong-ni": (40.611208, 126.425743),
    "Wonsan": (39.1677, 127.4817),
    "Koksan": (38.78, 126.67),
    "Pyongsong": (39.282, 125.869),
}


@dataclass(frozen=True)
class SalvoMissile:
    site: str
    missile: str
    azimuth_deg: float
    apogee_km: float
    range_km: float
    launch_s: float


def salvo_plan(n: int = N_TARGETS) -> list[SalvoMissile]:
    """Alternating Hwasong-12 (apogee 450–1000 km) and Scud-ER (250–340 km), two seconds
    apart, on azimuths spread over 50–130° so that no two fly the same path."""
    sites = list(SITES)
    out = []
    for i in range(n):
        if i % 2 == 0:
            missile, apogee, rng_km = "hwasong-12", 450.0 + 25.0 * i, 600.0 + 20.0 * i
        else:
            missile, apogee, rng_km = "scud-er", 250.0 + 4.0 * i, 400.0 + 8.0 * i
        out.append(SalvoMissile(sites[i % len(sites)], missile, 50.0 + (i * 37) % 80, apogee,
                                rng_km, 2.0 * i))
    return out


@dataclass(frozen=True)
class BenchScan:
    """One radar scan (satisfies trilink.tracking.tracker.ScanLike); ``truth`` (M,) is the
    index of the missile behind each detection, for evaluation only."""

    sensor_id: str
    t_s: float
    site_lat_rad: float
    site_lon_rad: float
    site_h_m: float
    z: F
    sigma: F
    truth: I64


@dataclass(frozen=True)
class MultiCase:
    scans: list[BenchScan]
    r_true: F  # (S, K, 3) truth positions at the scan times
    n_establish: int  # scans before timing starts
    plan: list[SalvoMissile]


def multi_target_case(seed: int, n_timed: int, n_establish: int = 6) -> MultiCase:
    plan = salvo_plan()
    reqs = [
        FitRequest(math.radians(SITES[m.site][0]), math.radians(SITES[m.site][1]),
                   math.radians(m.azimuth_deg), m.apogee_km * 1e3, m.range_km * 1e3,
                   get_profile(m.missile))
        for m in plan
    ]
    fits = fit_flights(reqs)
    batch = propagate([f.request.profile for f in fits], [f.controls for f in fits])
    launch = np.array([m.launch_s for m in plan])
    t_all = np.arange(0.0, float(np.max(launch + batch.flight_time_s)), REVISIT_S)
    r = np.empty((t_all.size, len(plan), 3))
    ok = np.zeros(t_all.size, dtype=bool)
    for i, t in enumerate(t_all):
        r[i], _, valid = batch.sample_each(t - launch)
        coast = (t - launch) > batch.burnout_s + 2.0
        ok[i] = bool(np.all(valid & coast & _visible(r[i])))
    start, stop = _first_run(ok)
    stop = min(stop, start + n_establish + n_timed)
    if stop - start < n_establish + n_timed:
        raise RuntimeError("the salvo's common window is too short for the requested scans")
    geo = radar_geometry()
    rng = np.random.default_rng(seed + 1000)
    scans = []
    lat, lon = math.radians(RADAR_LAT_DEG), math.radians(RADAR_LON_DEG)
    for i in range(start, stop):
        z = measure(r[i], geo, rng)
        perm = rng.permutation(len(plan)).astype(np.int64)
        scans.append(BenchScan(RADAR_ID, float(t_all[i]), lat, lon, RADAR_H_M,
                               np.ascontiguousarray(z[perm]), SIGMA.copy(), perm))
    return MultiCase(scans, r[start:stop], n_establish, plan)


# --- Single-target runners -------------------------------------------------------------------


@dataclass(frozen=True)
class SingleRun:
    """Estimates after every update cycle — x (n, 6), P (n, 6, 6) — and each cycle's
    wall time (s)."""

    x: F
    P: F
    cycle_s: F
    estimate_s: F | None = None  # trilink: the IMM's moment matching, after the cycle


def _init_of(case: SingleCase, run: int, geo: RadarGeometry) -> tuple[F, F]:
    return two_point_prior(case.z[run, 0], float(case.t[0]), case.z[run, 1], float(case.t[1]),
                           geo)


def run_trilink_single(case: SingleCase, run: int, params: ImmParams | None = None) -> SingleRun:
    """trilink: TrackBank.predict + TrackBank.update of one track, per scan."""
    geo = radar_geometry()
    R = measurement_noise()
    bank = TrackBank(params or ImmParams())
    rows = start_two_point(bank, case.z[run, 0], float(case.t[0]), case.z[run, 1],
                           float(case.t[1]), geo)
    n = case.n_cycles
    xs, Ps, cyc, est = np.empty((n, 6)), np.empty((n, 6, 6)), np.empty(n), np.empty(n)
    z = np.ascontiguousarray(case.z[run])
    for k in range(n):
        t = float(case.t[k + 2])
        zk = z[k + 2:k + 3]
        t0 = time.perf_counter()
        bank.predict(rows, t)
        bank.update(rows, zk, R, geo)
        t1 = time.perf_counter()
        x, P = bank.estimates()  # the IMM's combined estimate: timed apart
        est[k] = time.perf_counter() - t1
        cyc[k] = t1 - t0
        xs[k], Ps[k] = x[0, :6], P[0, :6, :6]
    return SingleRun(xs, Ps, cyc, est)


def time_single_mode_kernel(case: SingleCase, reps: int) -> float:
    """Median time (s) of one mode's 9-state EKF cycle, kernels.predict_mode +
    kernels.ekf_update called directly: what the IMM's two modes cost without the IMM."""
    geo = radar_geometry()
    R = measurement_noise()
    prm = ImmParams().vector()
    x0, P0 = _init_of(case, 0, geo)
    out = np.empty(reps)
    n = case.n_cycles
    for i in range(reps):
        k = i % n
        if k == 0:
            x = np.zeros(kernels.NX)
            x[:6] = x0
            P = np.eye(kernels.NX) * 1e-6
            P[:6, :6] = P0
        d = float(case.t[k + 2] - case.t[k + 1])
        zk = case.z[0, k + 2].copy()
        t0 = time.perf_counter()
        kernels.predict_mode(x, P, d, 0, prm)
        kernels.ekf_update(x, P, zk, R, geo.site_ecef_m, geo.basis)
        out[i] = time.perf_counter() - t0
    return float(np.median(out))


@lru_cache(maxsize=1)
def _stonesoup_models() -> tuple[Any, Any]:
    """Stone Soup model classes for the benchmark (built on first use: lazy import)."""
    from stonesoup.base import Property
    from stonesoup.models.base import ReversibleModel, TimeVariantModel
    from stonesoup.models.measurement.nonlinear import NonLinearGaussianMeasurement
    from stonesoup.models.transition.nonlinear import GaussianTransitionModel
    from stonesoup.types.angle import Bearing
    from stonesoup.types.array import CovarianceMatrix, StateVector, StateVectors

    def vectors(a: F) -> Any:
        return StateVector(a) if a.shape[1] == 1 else StateVectors(a)

    class BallisticJ2(GaussianTransitionModel, TimeVariantModel):  # type: ignore[misc]
        """Ballistic flight in ECEF (J2, rotating frame), RK4; state [r, v] (6)."""

        noise_density = Property(float, doc="white velocity noise density q, m²/s³")

        @property
        def ndim_state(self) -> int:
            return 6

        def function(self, state: Any, noise: Any = False, **kwargs: Any) -> Any:
            dt_s = kwargs["time_interval"].total_seconds()
            sv = np.asarray(state.state_vector, dtype=np.float64)
            if isinstance(noise, bool) or noise is None:
                noise = self.rvs(num_samples=sv.shape[1], **kwargs) if noise else 0
            return vectors(ballistic_propagate(sv, dt_s)) + noise

        def jacobian(self, state: Any, **kwargs: Any) -> F:
            dt_s = kwargs["time_interval"].total_seconds()
            _, phi = ballistic_transition(np.asarray(state.state_vector, dtype=np.float64)[:, 0],
                                          dt_s)
            return phi

        def covar(self, time_interval: dt.timedelta, **kwargs: Any) -> Any:
            return CovarianceMatrix(process_noise(time_interval.total_seconds(),
                                                  self.noise_density))

    class RadarPolar(NonLinearGaussianMeasurement, ReversibleModel):  # type: ignore[misc]
        """[range, azimuth (Bearing), elevation] of an ECEF state from a fixed radar."""

        site = Property(np.ndarray, doc="radar position, ECEF m (3,)")
        basis = Property(np.ndarray, doc="rows: the site's east, north, up unit vectors")

        @property
        def ndim_meas(self) -> int:
            return 3

        def function(self, state: Any, noise: Any = False, **kwargs: Any) -> Any:
            sv = np.asarray(state.state_vector, dtype=np.float64)
            if isinstance(noise, bool) or noise is None:
                noise = self.rvs(num_samples=sv.shape[1], **kwargs) if noise else 0
            typed = np.array([[0.0], [Bearing(0.0)], [0.0]])
            return typed + (StateVectors(polar(sv, self.site, self.basis)) + noise)

        def jacobian(self, state: Any, **kwargs: Any) -> F:
            return polar_jacobian(np.asarray(state.state_vector, dtype=np.float64)[:, 0],
                                  self.site, self.basis)

        def inverse_function(self, detection: Any, **kwargs: Any) -> Any:
            z = np.asarray(detection.state_vector, dtype=np.float64).reshape(1, 3)
            enu = earth.aer_to_enu(z[:, 1], z[:, 2], z[:, 0])
            out = np.zeros((6, 1))
            out[:3, 0] = self.site + enu[0] @ self.basis
            return StateVector(out)

    return BallisticJ2, RadarPolar


def _ss_measurement_model() -> Any:
    geo = radar_geometry()
    _, RadarPolar = _stonesoup_models()
    return RadarPolar(ndim_state=6, mapping=(0, 1, 2), noise_covar=measurement_noise(),
                      site=geo.site_ecef_m, basis=geo.basis)


def _ss_transition_model() -> Any:
    BallisticJ2, _ = _stonesoup_models()
    return BallisticJ2(noise_density=ballistic_noise_density())


def _ss_detection(z: F, t_s: float, model: Any) -> Any:
    from stonesoup.types.angle import Bearing
    from stonesoup.types.array import StateVector
    from stonesoup.types.detection import Detection

    return Detection(StateVector([[float(z[0])], [Bearing(float(z[1]))], [float(z[2])]]),
                     timestamp=EPOCH + dt.timedelta(seconds=float(t_s)),
                     measurement_model=model)


def run_stonesoup_single(case: SingleCase, run: int, unscented: bool) -> SingleRun:
    """Stone Soup: predictor.predict + updater.update with the benchmark's models."""
    from stonesoup.predictor.kalman import ExtendedKalmanPredictor, UnscentedKalmanPredictor
    from stonesoup.types.array import CovarianceMatrix, StateVector
    from stonesoup.types.hypothesis import SingleHypothesis
    from stonesoup.types.state import GaussianState
    from stonesoup.updater.kalman import ExtendedKalmanUpdater, UnscentedKalmanUpdater

    geo = radar_geometry()
    mm = _ss_measurement_model()
    tm = _ss_transition_model()
    predictor: Any
    updater: Any
    if unscented:
        sp = {"alpha": UKF_ALPHA, "beta": UKF_BETA, "kappa": UKF_KAPPA}
        predictor = UnscentedKalmanPredictor(tm, **sp)
        updater = UnscentedKalmanUpdater(mm, **sp)
    else:
        predictor = ExtendedKalmanPredictor(tm)
        updater = ExtendedKalmanUpdater(mm)
    x0, P0 = _init_of(case, run, geo)
    state: Any = GaussianState(StateVector(x0), CovarianceMatrix(P0),
                               timestamp=EPOCH + dt.timedelta(seconds=float(case.t[1])))
    n = case.n_cycles
    dets = [_ss_detection(case.z[run, k + 2], float(case.t[k + 2]), mm) for k in range(n)]
    xs, Ps, cyc = np.empty((n, 6)), np.empty((n, 6, 6)), np.empty(n)
    for k in range(n):
        det = dets[k]
        t0 = time.perf_counter()
        pred = predictor.predict(state, timestamp=det.timestamp)
        state = updater.update(SingleHypothesis(pred, det))
        cyc[k] = time.perf_counter() - t0
        xs[k] = np.asarray(state.state_vector, dtype=np.float64)[:, 0]
        Ps[k] = np.asarray(state.covar, dtype=np.float64)
    return SingleRun(xs, Ps, cyc)


@lru_cache(maxsize=1)
def _filterpy_ekf_class() -> Any:
    from filterpy.kalman import ExtendedKalmanFilter

    class BallisticEKF(ExtendedKalmanFilter):  # type: ignore[misc]
        """FilterPy's EKF with the ballistic model: predict_x flies x and sets F."""

        x: F

        def __init__(self) -> None:
            super().__init__(dim_x=6, dim_z=3)
            self.dt = REVISIT_S

        def predict_x(self, u: Any = 0) -> None:
            x, phi = ballistic_transition(self.x, self.dt)
            self.x = x
            self.F = phi

    return BallisticEKF


def _filterpy_ekf(x0: F, P0: F) -> Any:
    ekf = _filterpy_ekf_class()()
    ekf.x = x0.copy()
    ekf.P = P0.copy()
    ekf.R = measurement_noise()
    return ekf


def _filterpy_ukf(x0: F, P0: F, geo: RadarGeometry) -> Any:
    from filterpy.kalman import MerweScaledSigmaPoints, UnscentedKalmanFilter

    def fx(x: F, dt_s: float) -> F:
        out: F = ballistic_propagate(x.reshape(6, 1), dt_s)[:, 0]
        return out

    def hx(x: F) -> F:
        return _polar1(x, geo.site_ecef_m, geo.basis)

    points = MerweScaledSigmaPoints(6, alpha=UKF_ALPHA, beta=UKF_BETA, kappa=UKF_KAPPA)
    ukf = UnscentedKalmanFilter(dim_x=6, dim_z=3, dt=REVISIT_S, hx=hx, fx=fx, points=points,
                                z_mean_fn=_z_mean, residual_z=_residual)
    ukf.x = x0.copy()
    ukf.P = P0.copy()
    ukf.R = measurement_noise()
    return ukf


def run_filterpy_single(case: SingleCase, run: int, unscented: bool) -> SingleRun:
    """FilterPy: predict + update of an EKF (predict_x override) or a UKF (fx, hx)."""
    geo = radar_geometry()
    q = ballistic_noise_density()
    x0, P0 = _init_of(case, run, geo)
    f = _filterpy_ukf(x0, P0, geo) if unscented else _filterpy_ekf(x0, P0)
    site, basis = geo.site_ecef_m, geo.basis
    n = case.n_cycles
    xs, Ps, cyc = np.empty((n, 6)), np.empty((n, 6, 6)), np.empty(n)
    for k in range(n):
        d = float(case.t[k + 2] - case.t[k + 1])
        z = case.z[run, k + 2]
        t0 = time.perf_counter()
        f.Q = process_noise(d, q)
        if unscented:
            f.predict(dt=d)
            f.update(z)
        else:
            f.dt = d
            f.predict()
            f.update(z, HJacobian=polar_jacobian, Hx=_polar1, args=(site, basis),
                     hx_args=(site, basis), residual=_residual)
        cyc[k] = time.perf_counter() - t0
        xs[k], Ps[k] = f.x, f.P
    return SingleRun(xs, Ps, cyc)


SINGLE_RUNNERS: dict[str, Callable[[SingleCase, int], SingleRun]] = {
    "trilink": run_trilink_single,
    "stonesoup_ekf": lambda c, i: run_stonesoup_single(c, i, unscented=False),
    "stonesoup_ukf": lambda c, i: run_stonesoup_single(c, i, unscented=True),
    "filterpy_ekf": lambda c, i: run_filterpy_single(c, i, unscented=False),
    "filterpy_ukf": lambda c, i: run_filterpy_single(c, i, unscented=True),
    # Diagnostic: trilink's IMM started all but certain of ballistic flight. Its ballistic
    # mode is then the peers' filter, so this row must match their EKF rows.
    "trilink_ballistic_start": lambda c, i: run_trilink_single(
        c, i, ImmParams(initial_powered_probability=BALLISTIC_START_POWERED_PROBABILITY)),
}


# --- PCRLB -----------------------------------------------------------------------------------


def pcrlb_bounds(case: SingleCase) -> tuple[F, F]:
    """Posterior Cramér–Rao bound of the single-target coast at every update cycle, from
    :func:`trilink.tracking.pcrlb.pcrlb` (information recursion along the true trajectory
    with the filters' F, Q, H and R). The prior is the filters' own: the two-point start
    at the noise-free detections, predicted to the first update. Returns √trace of the
    position and velocity blocks (n,), m and m/s."""
    geo = radar_geometry()
    z_true = polar(case.x_true[:2].T, geo.site_ecef_m, geo.basis).T
    _, P0 = two_point_prior(z_true[0], float(case.t[0]), z_true[1], float(case.t[1]), geo)
    d = float(case.t[2] - case.t[1])
    _, phi = ballistic_transition(case.x_true[1], d)
    prior = phi @ P0 @ phi.T + process_noise(d, ballistic_noise_density())
    C = pcrlb(case.t[2:], case.x_true[2:], geo, SIGMA, prior, ImmParams())
    pos = np.sqrt(np.trace(C[:, :3, :3], axis1=1, axis2=2))
    vel = np.sqrt(np.trace(C[:, 3:6, 3:6], axis1=1, axis2=2))
    return pos, vel


# --- Multi-target runners --------------------------------------------------------------------


@dataclass(frozen=True)
class MultiRun:
    """Per timed scan: wall time (s), truths held by a confirmed track, confirmed tracks."""

    scan_s: F
    held: I64
    tracks: I64
    detections: int


def _held(pos: F, r_true: F, tol_m: float = 10e3) -> int:
    """How many truths (K, 3) have a track position (T, 3) within tol_m."""
    if pos.shape[0] == 0:
        return 0
    d = np.linalg.norm(pos[:, None, :] - r_true[None, :, :], axis=2)
    return int(np.unique(np.argmin(d, axis=1)[np.min(d, axis=1) < tol_m]).size)


def run_trilink_multi(case: MultiCase) -> MultiRun:
    """trilink: Tracker.process per scan (predict, gate, GNN, update, initiation, pruning)."""
    warm = Tracker("USA")  # compile / load every kernel the tracker calls before timing
    for scan in case.scans[:case.n_establish]:
        warm.process(scan)
    tracker = Tracker("USA")
    times, held, tracks, dets = [], [], [], 0
    for i, scan in enumerate(case.scans):
        t0 = time.perf_counter()
        tracker.process(scan)
        elapsed = time.perf_counter() - t0
        if i >= case.n_establish:
            conf = tracker.confirmed()
            pos = np.array([x[:3] for _, x, _, _ in conf]).reshape(-1, 3)
            times.append(elapsed)
            held.append(_held(pos, case.r_true[i]))
            tracks.append(len(conf))
        dets += scan.z.shape[0]
    return MultiRun(np.array(times), np.array(held), np.array(tracks), dets)


def run_stonesoup_multi(case: MultiCase) -> MultiRun:
    """Stone Soup: MultiTargetTracker, GNNWith2DAssignment over a DistanceHypothesiser
    (Mahalanobis, gate at the 99.99 % chi-square), EKF, MultiMeasurementInitiator and
    UpdateTimeStepsDeleter."""
    from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
    from stonesoup.deleter.time import UpdateTimeStepsDeleter
    from stonesoup.hypothesiser.distance import DistanceHypothesiser
    from stonesoup.initiator.simple import MultiMeasurementInitiator
    from stonesoup.measures import Mahalanobis
    from stonesoup.predictor.kalman import ExtendedKalmanPredictor
    from stonesoup.tracker.simple import MultiTargetTracker
    from stonesoup.types.array import CovarianceMatrix, StateVector
    from stonesoup.types.state import GaussianState
    from stonesoup.updater.kalman import ExtendedKalmanUpdater

    mm = _ss_measurement_model()
    predictor = ExtendedKalmanPredictor(_ss_transition_model())
    updater = ExtendedKalmanUpdater(mm)
    gate = math.sqrt(float(chi2.ppf(GATE_PROBABILITY, 3)))
    associator = GNNWith2DAssignment(
        DistanceHypothesiser(predictor, updater, measure=Mahalanobis(), missed_distance=gate))
    deleter = UpdateTimeStepsDeleter(time_steps_since_update=DELETE_AFTER_MISSES)
    prior = GaussianState(
        StateVector(np.zeros(6)),
        CovarianceMatrix(np.diag([0.0, 0.0, 0.0] + [INITIAL_SPEED_SIGMA_M_S**2] * 3)))
    initiator = MultiMeasurementInitiator(prior_state=prior, measurement_model=mm,
                                          deleter=deleter, data_associator=associator,
                                          updater=updater, min_points=CONFIRM_HITS)
    tracker = MultiTargetTracker(initiator=initiator, deleter=deleter, detector=None,
                                 data_associator=associator, updater=updater)
    feeds = [
        (EPOCH + dt.timedelta(seconds=s.t_s), {_ss_detection(z, s.t_s, mm) for z in s.z})
        for s in case.scans
    ]
    times, held, tracks, dets = [], [], [], 0
    for i, (stamp, detections) in enumerate(feeds):
        t0 = time.perf_counter()
        _, current = tracker.update_tracker(stamp, detections)
        elapsed = time.perf_counter() - t0
        if i >= case.n_establish:
            pos = np.array([np.asarray(tr.state_vector, dtype=np.float64)[:3, 0]
                            for tr in current]).reshape(-1, 3)
            times.append(elapsed)
            held.append(_held(pos, case.r_true[i]))
            tracks.append(len(current))
        dets += len(detections)
    return MultiRun(np.array(times), np.array(held), np.array(tracks), dets)


@dataclass
class _FpTrack:
    ekf: Any
    t_s: float
    hits: int = 1
    misses: int = 0


class FilterPyGnn:
    """The minimal GNN tracker one writes around FilterPy EKFs (FilterPy has none):
    Mahalanobis gating at the 99.99 % chi-square, min-cost assignment
    (scipy.optimize.linear_sum_assignment), one-point initiation, confirmation at
    CONFIRM_HITS detections, deletion after DELETE_AFTER_MISSES missed scans."""

    def __init__(self, geo: RadarGeometry) -> None:
        self.geo = geo
        self.R = measurement_noise()
        self.q = ballistic_noise_density()
        self.gate = float(chi2.ppf(GATE_PROBABILITY, 3))
        self.tracks: list[_FpTrack] = []

    def process(self, t_s: float, z: F) -> None:
        site, basis = self.geo.site_ecef_m, self.geo.basis
        n_t, n_z = len(self.tracks), z.shape[0]
        cost = np.full((n_t, n_z + n_t), 1e12)
        for a, trk in enumerate(self.tracks):
            d = t_s - trk.t_s
            trk.ekf.dt, trk.ekf.Q = d, process_noise(d, self.q)
            trk.ekf.predict()
            trk.t_s = t_s
            H = polar_jacobian(trk.ekf.x, site, basis)
            S = H @ trk.ekf.P @ H.T + self.R
            nu = z - _polar1(trk.ekf.x, site, basis)
            nu[:, 1] = _wrap(nu[:, 1])
            d2 = np.einsum("mi,ij,mj->m", nu, np.linalg.inv(S), nu)
            cost[a, :n_z] = np.where(d2 <= self.gate, d2, 1e12)
            cost[a, n_z + a] = self.gate  # not assigned: cost of a detection at the gate
        rows, cols = linear_sum_assignment(cost)
        taken = np.zeros(n_z, dtype=bool)
        hit = np.zeros(n_t, dtype=bool)
        for a, b in zip(rows, cols, strict=True):
            if b < n_z and cost[a, b] < 1e12:
                trk = self.tracks[a]
                trk.ekf.update(z[b], HJacobian=polar_jacobian, Hx=_polar1, args=(site, basis),
                               hx_args=(site, basis), residual=_residual)
                trk.hits += 1
                taken[b] = hit[a] = True
        for trk, got in zip(self.tracks, hit, strict=True):
            trk.misses = 0 if got else trk.misses + 1
        self.tracks = [t for t in self.tracks if t.misses < DELETE_AFTER_MISSES]
        for b in np.flatnonzero(~taken):
            x0, P0 = one_point_init(z[b], self.geo)
            self.tracks.append(_FpTrack(_filterpy_ekf(x0, P0), t_s))

    def confirmed(self) -> list[_FpTrack]:
        return [t for t in self.tracks if t.hits >= CONFIRM_HITS]


def run_filterpy_multi(case: MultiCase) -> MultiRun:
    tracker = FilterPyGnn(radar_geometry())
    times, held, tracks, dets = [], [], [], 0
    for i, scan in enumerate(case.scans):
        t0 = time.perf_counter()
        tracker.process(scan.t_s, scan.z)
        elapsed = time.perf_counter() - t0
        if i >= case.n_establish:
            conf = tracker.confirmed()
            pos = np.array([t.ekf.x[:3] for t in conf]).reshape(-1, 3)
            times.append(elapsed)
            held.append(_held(pos, case.r_true[i]))
            tracks.append(len(conf))
        dets += scan.z.shape[0]
    return MultiRun(np.array(times), np.array(held), np.array(tracks), dets)


MULTI_RUNNERS: dict[str, Callable[[MultiCase], MultiRun]] = {
    "trilink": run_trilink_multi,
    "stonesoup": run_stonesoup_multi,
    "filterpy": run_filterpy_multi,
}


# --- The benchmark ---------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def _versions(peers: dict[str, str]) -> dict[str, str]:
    out = {"trilink": metadata.version("trilink")}
    for name in ("numpy", "scipy", "numba"):
        out[name] = metadata.version(name)
    out.update(peers)
    return out


def _single_stats(case: SingleCase, runs: list[SingleRun], bound_pos: F,
                  bound_vel: F) -> dict[str, Any]:
    scored = case.scored()
    x = np.stack([r.x for r in runs])  # (runs, n, 6)
    err = x - case.x_true[None, 2:]
    e_pos = np.sum(err[:, scored, :3] ** 2, axis=2)
    e_vel = np.sum(err[:, scored, 3:] ** 2, axis=2)
    rmse_pos = math.sqrt(float(np.mean(e_pos)))
    rmse_vel = math.sqrt(float(np.mean(e_vel)))
    # Monte Carlo standard error of an RMSE, relative, from the spread of the runs' mean
    # squared errors (each run's errors are correlated in time: the run is the sample).
    n_runs = len(runs)

    def rel_se(e2: F) -> float | None:
        per_run = np.mean(e2, axis=1)
        if n_runs < 2:
            return None
        return float(0.5 * np.std(per_run, ddof=1) / (math.sqrt(n_runs) * np.mean(per_run)))

    b_pos = math.sqrt(float(np.mean(bound_pos[scored] ** 2)))
    b_vel = math.sqrt(float(np.mean(bound_vel[scored] ** 2)))
    # Normalised estimation error squared (6 dof) over the scored cycles: consistency.
    P = np.stack([r.P for r in runs])[:, scored]
    nees = np.einsum("rni,rnij,rnj->rn", err[:, scored], np.linalg.inv(P), err[:, scored])
    k = case.impact_cycle()
    preds = predict_impacts(x[:, k], np.stack([r.P[k] for r in runs]),
                            np.full(len(runs), float(case.t[k + 2])))
    impact_km = np.array([
        earth.geodesic_inverse(case.impact_lat_rad, case.impact_lon_rad, p.lat_rad, p.lon_rad)[1]
        for p in preds
    ]) / 1e3
    cycles = np.concatenate([r.cycle_s for r in runs])
    extra: dict[str, Any] = {}
    if runs[0].estimate_s is not None:
        est = np.concatenate([r.estimate_s for r in runs if r.estimate_s is not None])
        extra["estimate_us"] = float(np.median(est) * 1e6)
        extra["cycle_with_estimate_us"] = float(np.median(cycles + est) * 1e6)
    return extra | {
        "cycle_us": float(np.median(cycles) * 1e6),
        "cycle_us_p10": float(np.percentile(cycles, 10) * 1e6),
        "cycle_us_p90": float(np.percentile(cycles, 90) * 1e6),
        "cycles_timed": int(cycles.size),
        "updates_per_run": int(runs[0].x.shape[0]),
        "rmse_pos_m": rmse_pos,
        "rmse_vel_m_s": rmse_vel,
        "rmse_pos_rel_se": rel_se(e_pos),
        "rmse_vel_rel_se": rel_se(e_vel),
        "rmse_over_pcrlb_pos": rmse_pos / b_pos,
        "rmse_over_pcrlb_vel": rmse_vel / b_vel,
        "mean_nees_6dof": float(np.mean(nees)),
        "impact_error_km_mean": float(np.mean(impact_km)),
        "impact_error_km_max": float(np.max(impact_km)),
    }


def _impact_floor_km(case: SingleCase) -> float:
    """Impact error of the true state at the impact instant (the propagation's own error:
    unknown drag of the re-entry vehicle, same for every tracker)."""
    k = case.impact_cycle()
    P = np.diag([1.0, 1.0, 1.0, 1e-2, 1e-2, 1e-2])
    pred = predict_impacts(case.x_true[k + 2][None], P[None], np.array([case.t[k + 2]]))[0]
    _, d = earth.geodesic_inverse(case.impact_lat_rad, case.impact_lon_rad, pred.lat_rad,
                                  pred.lon_rad)
    return float(d) / 1e3


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.inf


def run_tracking_benchmark(seed: int = 1, quick: bool = False) -> dict[str, Any]:
    """Run both cases for every tracker and return the result object (see module doc).

    ``quick`` shortens everything (one noise draw, 30 scans, 4 timed multi-target scans)
    for smoke tests; its timings and RMSEs are indicative only.
    """
    peers = peer_versions()
    started = time.perf_counter()
    n_runs = 1 if quick else 25
    case = single_target_case(seed, n_runs, max_scans=30 if quick else None)
    bound_pos, bound_vel = pcrlb_bounds(case)
    run_trilink_single(case, 0)  # warm-up: numba kernels compiled or loaded from cache
    single: dict[str, dict[str, Any]] = {}
    for name in VARIANTS:
        runs = [SINGLE_RUNNERS[name](case, i) for i in range(case.n_runs)]
        single[name] = _single_stats(case, runs, bound_pos, bound_vel)
    scored = case.scored()
    pcrlb_pos = math.sqrt(float(np.mean(bound_pos[scored] ** 2)))
    pcrlb_vel = math.sqrt(float(np.mean(bound_vel[scored] ** 2)))

    one_mode_us = time_single_mode_kernel(case, 200 if quick else 5000) * 1e6

    mcase = multi_target_case(seed, n_timed=4 if quick else 50)
    multi: dict[str, dict[str, Any]] = {}
    for name in TRACKERS:
        res = MULTI_RUNNERS[name](mcase)
        multi[name] = {
            "scan_ms": float(np.median(res.scan_s) * 1e3),
            "scan_ms_p90": float(np.percentile(res.scan_s, 90) * 1e3),
            "scans_timed": int(res.scan_s.size),
            "detections_fed": res.detections,
            "min_targets_held": int(res.held.min()),
            "max_confirmed_tracks": int(res.tracks.max()),
            "min_confirmed_tracks": int(res.tracks.min()),
            "kept_all": bool(res.held.min() == N_TARGETS and res.tracks.max() == N_TARGETS),
        }

    def by_tracker(key: str) -> dict[str, float]:
        return {t: single[v][key] for t, v in HEADLINE.items()}

    tri = single["trilink"]["cycle_us"]
    speed_ss = _ratio(single["stonesoup_ekf"]["cycle_us"], tri)
    speed_fp = _ratio(single["filterpy_ekf"]["cycle_us"], tri)
    rmse_pos = by_tracker("rmse_pos_m")
    rmse_vel = by_tracker("rmse_vel_m_s")
    over = by_tracker("rmse_over_pcrlb_pos")
    met = {
        "speedup_vs_stonesoup": speed_ss >= GOALS["speedup_vs_stonesoup"],
        "speedup_vs_filterpy": speed_fp >= GOALS["speedup_vs_filterpy"],
        "rmse_equal_or_better": all(
            rmse_pos["trilink"] <= rmse_pos[p] * 1.0001 and rmse_vel["trilink"] <= rmse_vel[p]
            * 1.0001 for p in ("stonesoup", "filterpy")),
        "rmse_within_1.3_pcrlb": over["trilink"] <= GOALS["rmse_over_pcrlb"],
        "keeps_23_tracks": multi["trilink"]["kept_all"],
    }
    return {
        "benchmark": "tracking",
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "quick": quick,
        "speedup_vs_stonesoup": speed_ss,
        "speedup_vs_filterpy": speed_fp,
        "rmse_pos_m": rmse_pos,
        "rmse_vel_m_s": rmse_vel,
        "rmse_over_pcrlb": over,
        "rmse_vel_over_pcrlb": by_tracker("rmse_over_pcrlb_vel"),
        "scan_23_targets_ms": {t: multi[t]["scan_ms"] for t in TRACKERS},
        "scan_speedup_vs_stonesoup": _ratio(multi["stonesoup"]["scan_ms"],
                                            multi["trilink"]["scan_ms"]),
        "scan_speedup_vs_filterpy": _ratio(multi["filterpy"]["scan_ms"],
                                           multi["trilink"]["scan_ms"]),
        "update_us": by_tracker("cycle_us"),
        "impact_error_km": by_tracker("impact_error_km_mean"),
        "tracks_kept": {t: multi[t]["kept_all"] for t in TRACKERS},
        "goals": GOALS,
        "met": met,
        "pcrlb_pos_m": pcrlb_pos,
        "pcrlb_vel_m_s": pcrlb_vel,
        "single_target": {
            "trackers": single,
            "measurements_per_run": case.n_cycles + 2,
            "updates_per_run": case.n_cycles,
            "runs": case.n_runs,
            "scored_updates_per_run": int(np.count_nonzero(scored)),
            "impact_error_floor_km": _impact_floor_km(case),
            "trilink_one_mode_kernel_us": one_mode_us,
        },
        "multi_target": {"trackers": multi},
        "scenario": {
            "single_target": {
                "scenario": SINGLE_SCENARIO,
                "launch": case.launch_id,
                "burnout_s": case.burnout_s,
                "first_detection_s": float(case.t[0]),
                "last_detection_s": float(case.t[-1]),
                "settle_s": SETTLE_S,
                "impact_prediction_at_s": float(case.t[case.impact_cycle() + 2]),
            },
            "multi_target": {
                "targets": len(mcase.plan),
                "missiles": sorted({m.missile for m in mcase.plan}),
                "sites": sorted({m.site for m in mcase.plan}),
                "first_scan_s": mcase.scans[0].t_s,
                "establish_scans": mcase.n_establish,
                "timed_scans": len(mcase.scans) - mcase.n_establish,
                "false_alarms": 0,
            },
            "radar": {
                "id": RADAR_ID,
                "lat_deg": RADAR_LAT_DEG,
                "lon_deg": RADAR_LON_DEG,
                "height_m": RADAR_H_M,
                "sigma_range_m": float(SIGMA[0]),
                "sigma_az_mrad": float(SIGMA[1] * 1e3),
                "sigma_el_mrad": float(SIGMA[2] * 1e3),
                "revisit_s": REVISIT_S,
                "el_min_deg": EL_MIN_DEG,
                "pd": 1.0,
            },
            "process_noise_m2_s3": ballistic_noise_density(),
            "ukf_sigma_points": {"alpha": UKF_ALPHA, "beta": UKF_BETA, "kappa": UKF_KAPPA},
        },
        "versions": _versions(peers),
        "machine": machine_info(),
        "wall_s": time.perf_counter() - started,
    }


# --- Presentation ----------------------------------------------------------------------------

_LABELS = {
    "trilink": "trilink IMM",
    "stonesoup_ekf": "Stone Soup EKF",
    "stonesoup_ukf": "Stone Soup UKF",
    "filterpy_ekf": "FilterPy EKF",
    "filterpy_ukf": "FilterPy UKF",
    "trilink_ballistic_start": "trilink IMM*",
}
_MULTI_OF = {"trilink": "trilink", "stonesoup_ekf": "stonesoup", "filterpy_ekf": "filterpy"}


def format_table(result: dict[str, Any]) -> Table:
    """The benchmark as a rich table, one row per tracker, with the notes as caption."""
    single = result["single_target"]["trackers"]
    multi = result["multi_target"]["trackers"]
    tri_us = single["trilink"]["cycle_us"]
    tri_ms = multi["trilink"]["scan_ms"]
    table = Table(title="Tracking benchmark: same truth, measurements and ballistic model",
                  caption_justify="left")
    for col in ("tracker", "µs/cycle", "×", "ms/scan", "×", "kept",
                "RMSE m", "RMSE m/s", "m/PCRLB", "m/s/PCRLB", "impact km"):
        table.add_column(col, justify="left" if col.startswith("tracker") else "right",
                         no_wrap=True)
    for name in VARIANTS:
        s = single[name]
        m = multi.get(_MULTI_OF.get(name, ""), None)
        table.add_row(
            _LABELS[name],
            f"{s['cycle_us']:.1f}", f"{s['cycle_us'] / tri_us:.1f}",
            f"{m['scan_ms']:.2f}" if m else "—",
            f"{m['scan_ms'] / tri_ms:.1f}" if m else "—",
            (f"{m['min_targets_held']}/{N_TARGETS}" + ("" if m["kept_all"] else " !"))
            if m else "—",
            f"{s['rmse_pos_m']:.1f}", f"{s['rmse_vel_m_s']:.2f}",
            f"{s['rmse_over_pcrlb_pos']:.2f}", f"{s['rmse_over_pcrlb_vel']:.2f}",
            f"{s['impact_error_km_mean']:.2f}",
        )
    sc = result["scenario"]
    st = result["single_target"]
    met = result["met"]
    table.caption = "\n".join([
        f"Single target: {sc['single_target']['launch']} in coast, {st['runs']} noise draws × "
        f"{st['updates_per_run']} cycles; µs/cycle = median predict + update.",
        f"RMSE from {SETTLE_S:.0f} s after first detection; PCRLB {result['pcrlb_pos_m']:.1f} m, "
        f"{result['pcrlb_vel_m_s']:.2f} m/s. Impact error {IMPACT_AFTER_S:.0f} s after first "
        f"detection (true state: {st['impact_error_floor_km']:.2f} km).",
        "trilink: 2-mode IMM of a 9-state EKF (numba); peers: one 6-state filter, same "
        "equations in NumPy. trilink IMM* = the same IMM started ballistic (diagnostic).",
        "ms/scan, kept: 23 targets, one radar; trilink Tracker, Stone Soup MultiTargetTracker "
        "+ GNN + EKF, FilterPy (no tracker of its own) a minimal GNN loop over its EKFs.",
        f"Goals: ≥10× Stone Soup {_yes(met['speedup_vs_stonesoup'])}, ≥3× FilterPy "
        f"{_yes(met['speedup_vs_filterpy'])}, RMSE ≤ peers {_yes(met['rmse_equal_or_better'])}, "
        f"≤1.3× PCRLB {_yes(met['rmse_within_1.3_pcrlb'])}.",
    ])
    return table


def _yes(ok: bool) -> str:
    return "met" if ok else "MISSED"
