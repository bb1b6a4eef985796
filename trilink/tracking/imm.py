"""The tracking filter: a two-mode IMM-EKF over ballistic and powered flight, in ECEF.

A :class:`TrackBank` holds many tracks as arrays (mode-conditioned means, covariances and
mode probabilities) and predicts, gates and updates them with the compiled kernels of
:mod:`trilink.tracking.kernels`. It knows nothing about association or track
management; :mod:`trilink.tracking.tracker` does that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from trilink.physics import earth
from trilink.tracking import kernels as k

F = NDArray[np.float64]


@dataclass(frozen=True)
class ImmParams:
    """Noise and switching parameters of the filter (SI units)."""

    # The simulated world's ballistic physics is the filter's own (J2, rotation), so the
    # ballistic mode needs almost no process noise; more makes it measurably conservative
    # (NEES below its band) over long coasts.
    ballistic_velocity_noise_m2_s3: float = 1e-10
    powered_velocity_noise_m2_s3: float = 1000.0
    # Thrust acceleration climbs as propellant burns (da/dt = a²/c: ~20 m/s³ at the end of
    # a single-stage burn at 25 g) and drops at staging: the powered mode must follow.
    powered_force_noise_m2_s5: float = 2000.0
    ballistic_residual_force_m_s2: float = 1e-6
    # Above the atmosphere a ballistic object does not become powered again: any leak of
    # the powered mode's wide covariance into the ballistic one would inflate it.
    mean_ballistic_sojourn_s: float = math.inf
    mean_powered_sojourn_s: float = 60.0
    mean_ballistic_sojourn_in_air_s: float = 20.0
    atmosphere_top_m: float = 100e3
    initial_speed_sigma_m_s: float = 3000.0
    initial_force_sigma_m_s2: float = 100.0
    initial_powered_probability: float = 0.01

    def vector(self) -> F:
        prm = np.empty(k.N_PARAMS)
        prm[k.P_QV0] = self.ballistic_velocity_noise_m2_s3
        prm[k.P_QV1] = self.powered_velocity_noise_m2_s3
        prm[k.P_QA1] = self.powered_force_noise_m2_s5
        prm[k.P_QA0] = self.ballistic_residual_force_m_s2**2
        prm[k.P_TAU01] = self.mean_ballistic_sojourn_s
        prm[k.P_TAU10] = self.mean_powered_sojourn_s
        prm[k.P_TAU01_AIR] = self.mean_ballistic_sojourn_in_air_s
        prm[k.P_AIR_TOP_M] = self.atmosphere_top_m
        return prm


@dataclass(frozen=True)
class RadarGeometry:
    """Where a sensor is: ECEF site (m) and its basis (radar: rows east, north, up;
    infrared satellite: rows east, north, nadir)."""

    site_ecef_m: F
    basis: F

    @classmethod
    def at(cls, lat_rad: float, lon_rad: float, h_m: float) -> RadarGeometry:
        return cls(
            np.ascontiguousarray(earth.geodetic_to_ecef(lat_rad, lon_rad, h_m), dtype=np.float64),
            np.ascontiguousarray(earth.enu_basis(lat_rad, lon_rad), dtype=np.float64),
        )


def polar_to_ecef(z: F, geo: RadarGeometry, sigma: F) -> tuple[F, F]:
    """Detections [range, az, el] → ECEF positions (M, 3) and covariances (M, 3, 3)."""
    rng, az, el = z[:, 0], z[:, 1], z[:, 2]
    ce, se, ca, sa = np.cos(el), np.sin(el), np.cos(az), np.sin(az)
    enu = np.stack([rng * ce * sa, rng * ce * ca, rng * se], axis=1)
    pos = geo.site_ecef_m + enu @ geo.basis
    # Jacobian of ENU w.r.t. (range, az, el), then rotated to ECEF.
    j = np.zeros((z.shape[0], 3, 3))
    j[:, 0, 0], j[:, 1, 0], j[:, 2, 0] = ce * sa, ce * ca, se
    j[:, 0, 1], j[:, 1, 1] = rng * ce * ca, -rng * ce * sa
    j[:, 0, 2], j[:, 1, 2], j[:, 2, 2] = -rng * se * sa, -rng * se * ca, rng * ce
    j = np.einsum("ki,mkj->mij", geo.basis, j)
    r_cov = np.diag(sigma[:3] ** 2)
    cov = j @ r_cov @ np.transpose(j, (0, 2, 1))
    return pos, cov


@dataclass
class TrackBank:
    """Arrays of T tracks: xm (T, 2, 9), Pm (T, 2, 9, 9), mu (T, 2), t_s (T,)."""

    params: ImmParams = field(default_factory=ImmParams)
    xm: F = field(default_factory=lambda: np.zeros((0, k.N_MODES, k.NX)))
    Pm: F = field(default_factory=lambda: np.zeros((0, k.N_MODES, k.NX, k.NX)))
    mu: F = field(default_factory=lambda: np.zeros((0, k.N_MODES)))
    t_s: F = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        self._prm = self.params.vector()

    @property
    def size(self) -> int:
        return int(self.t_s.shape[0])

    def add(self, t_s: float, pos_ecef_m: F, pos_cov: F) -> NDArray[np.int64]:
        """Start tracks from detected positions (M, 3) with covariances (M, 3, 3)."""
        m = pos_ecef_m.shape[0]
        p = self.params
        xm = np.zeros((m, k.N_MODES, k.NX))
        xm[:, :, :3] = pos_ecef_m[:, None, :]
        Pm = np.zeros((m, k.N_MODES, k.NX, k.NX))
        Pm[:, :, :3, :3] = pos_cov[:, None]
        Pm[:, :, 3:6, 3:6] = np.eye(3) * p.initial_speed_sigma_m_s**2
        Pm[:, :, 6:, 6:] = np.eye(3) * p.initial_force_sigma_m_s2**2
        mu = np.tile([1.0 - p.initial_powered_probability, p.initial_powered_probability], (m, 1))
        start = self.size
        self.xm = np.concatenate([self.xm, xm])
        self.Pm = np.concatenate([self.Pm, Pm])
        self.mu = np.concatenate([self.mu, mu])
        self.t_s = np.concatenate([self.t_s, np.full(m, float(t_s))])
        return np.arange(start, start + m, dtype=np.int64)

    def add_two_point(self, p0: F, c0: F, t0_s: F, p1: F, c1: F, t1_s: float,
                      max_force_m_s2: float) -> NDArray[np.int64]:
        """Start tracks from pairs of detections (M, 3) of one object at t0 and t1.

        Position: the second detection. Velocity: the chord plus half the gravity over
        the interval (point-mass, enough here), its uncertainty from both detections
        and from an unknown thrust up to ``max_force_m_s2`` (uniform, hence /3).
        """
        dt = (t1_s - np.asarray(t0_s, dtype=np.float64))[:, None]
        g = -k.MU * p1 / np.linalg.norm(p1, axis=1, keepdims=True) ** 3
        vel = (p1 - p0) / dt + 0.5 * g * dt
        rows = self.add(t1_s, p1, c1)
        force_var = (0.5 * max_force_m_s2 * dt[:, 0]) ** 2 / 3.0
        for j, row in enumerate(rows):
            d = float(dt[j, 0])
            P = np.zeros((k.NX, k.NX))
            P[:3, :3] = c1[j]
            P[:3, 3:6] = P[3:6, :3] = c1[j] / d
            P[3:6, 3:6] = (c1[j] + c0[j]) / d**2 + np.eye(3) * force_var[j]
            P[6:, 6:] = np.eye(3) * self.params.initial_force_sigma_m_s2**2
            self.Pm[row, :] = P
            self.xm[row, :, 3:6] = vel[j]
        return rows

    def keep(self, mask: NDArray[np.bool_]) -> None:
        """Drop the tracks where mask is False."""
        self.xm, self.Pm, self.mu, self.t_s = (
            self.xm[mask], self.Pm[mask], self.mu[mask], self.t_s[mask]
        )

    def predict(self, rows: NDArray[np.int64], t_s: float) -> None:
        k.batch_predict(self.xm, self.Pm, self.mu, self.t_s, rows, float(t_s), self._prm)

    def gate(self, rows: NDArray[np.int64], z: F, R: F, geo: RadarGeometry,
             gate: float, kind: int = k.RADAR) -> tuple[F, F]:
        """Assignment cost and NIS of each (track row, detection) pair; inf outside the gate.

        ``kind``: radar plots (``geo`` a radar site) or line-of-sight angles (``geo`` a
        satellite and its east–north–nadir frame), see :mod:`trilink.tracking.kernels`.
        """
        cost, nis = k.batch_gate(self.xm, self.Pm, self.mu, rows, np.ascontiguousarray(z), R,
                                 geo.site_ecef_m, geo.basis, float(gate), int(kind))
        return cost, nis

    def update(self, rows: NDArray[np.int64], z: F, R: F, geo: RadarGeometry,
               kind: int = k.RADAR) -> None:
        k.batch_update(self.xm, self.Pm, self.mu, rows, np.ascontiguousarray(z), R,
                       geo.site_ecef_m, geo.basis, int(kind))

    def estimates(self) -> tuple[F, F]:
        """Moment-matched state (T, 9) and covariance (T, 9, 9) of every track."""
        x = np.empty((self.size, k.NX))
        P = np.empty((self.size, k.NX, k.NX))
        k.batch_combine(self.xm, self.Pm, self.mu, x, P)
        return x, P
