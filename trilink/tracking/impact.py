"""Impact and launch points of a track, with their uncertainty.

Impact: the track's state is pushed to the ground unpowered (its *instantaneous impact
point*: if the engines stopped now), with drag on a re-entry vehicle whose ballistic
coefficient the tracker does not know. The uncertainty goes through an unscented
transform: sigma points over position, velocity and log-ballistic-coefficient, all
flown together in one batch by :func:`trilink.physics.trajectory.propagate_ballistic`.
The spread of the impact points in the local horizontal plane gives the 95 % ellipse;
their times give the impact-time interval.

Launch: the state is flown backwards along a ballistic arc to the ground (no thrust is
modelled, so for a track caught after burnout the point lies downrange of the real
launch site by the distance the boost covered — a known bias, reported as such).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from trilink.physics import earth
from trilink.physics.trajectory import FlightBatch, propagate_ballistic
from trilink.tracking import kernels

F = NDArray[np.float64]

CHI2_2D_95 = float(chi2.ppf(0.95, 2))
# Prior on the re-entry vehicle's ballistic coefficient (kg/m²): median and log-sigma.
BETA_MEDIAN_KG_M2 = 10000.0
BETA_LOG_SIGMA = 0.7


@dataclass(frozen=True)
class ImpactPrediction:
    """Predicted impact of one track, made at time ``t_s`` (s since the epoch).

    ``cov_en_m2`` is the covariance (m²) of the impact point in the local east/north
    plane at the mean impact point.
    """

    t_s: float
    impact_t_s: float
    impact_t_sigma_s: float
    lat_rad: float
    lon_rad: float
    cov_en_m2: F

    def ellipse_95(self) -> tuple[float, float, float]:
        """Semi-major and semi-minor axes (m) of the 95 % ellipse and the major axis'
        azimuth (rad, clockwise from north)."""
        vals, vecs = np.linalg.eigh(self.cov_en_m2)
        major = vecs[:, 1]
        return (
            math.sqrt(CHI2_2D_95 * max(vals[1], 0.0)),
            math.sqrt(CHI2_2D_95 * max(vals[0], 0.0)),
            math.atan2(major[0], major[1]) % math.pi,
        )

    def mahalanobis2(self, lat_rad: float, lon_rad: float) -> float:
        """Squared Mahalanobis distance of a ground point from the predicted impact."""
        enu = earth.ecef_to_enu(earth.geodetic_to_ecef(lat_rad, lon_rad, 0.0), self.lat_rad,
                                self.lon_rad, 0.0)
        d = enu[:2]
        return float(d @ np.linalg.solve(self.cov_en_m2, d))

    def contains(self, lat_rad: float, lon_rad: float) -> bool:
        """True if the ground point lies inside the 95 % ellipse."""
        return self.mahalanobis2(lat_rad, lon_rad) <= CHI2_2D_95


def _sigma_points(x: F, P: F) -> tuple[F, F]:
    """Symmetric sigma points (2n, n) of N(x, P) and their weights (equal, 1/2n)."""
    n = x.shape[0]
    L = np.linalg.cholesky(P + np.eye(n) * 1e-9 * np.trace(P) / n)
    offsets = math.sqrt(n) * L.T
    pts = np.concatenate([x + offsets, x - offsets])
    return pts, np.full(2 * n, 1.0 / (2 * n))


def predict_impacts(x: F, P: F, t_s: F) -> list[ImpactPrediction]:
    """Impact predictions for N track states x (N, ≥6) with covariances P (N, ≥6, ≥6)
    taken at times t_s (N,), all propagated in one batch."""
    return predict_impacts_with_flights(x, P, t_s)[0]


def predict_impacts_with_flights(
    x: F, P: F, t_s: F
) -> tuple[list[ImpactPrediction], FlightBatch]:
    """:func:`predict_impacts`, also returning the sigma-point flights (14 rows per
    track, track-major) so that callers can reuse their ground tracks."""
    x = np.atleast_2d(x)
    P = np.asarray(P).reshape(x.shape[0], x.shape[1], x.shape[1])
    t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
    n_tracks = x.shape[0]
    dim = 7
    points = []
    weights = None
    for i in range(n_tracks):
        mean = np.concatenate([x[i, :6], [math.log(BETA_MEDIAN_KG_M2)]])
        cov = np.zeros((dim, dim))
        cov[:6, :6] = P[i, :6, :6]
        cov[6, 6] = BETA_LOG_SIGMA**2
        pts, weights = _sigma_points(mean, cov)
        points.append(pts)
    assert weights is not None
    allpts = np.concatenate(points)
    flights = propagate_ballistic(allpts[:, :3], allpts[:, 3:6], np.exp(allpts[:, 6]))
    k = 2 * dim
    r_end = flights.r_ecef_m[np.arange(flights.size), flights.n_knots - 1]
    t_end = flights.flight_time_s
    out = []
    for i in range(n_tracks):
        rs, ts = r_end[i * k:(i + 1) * k], t_end[i * k:(i + 1) * k]
        lat, lon, _ = earth.ecef_to_geodetic(weights @ rs)
        enu = earth.ecef_to_enu(rs, float(lat), float(lon), 0.0)[:, :2]
        mean_en = weights @ enu
        d = enu - mean_en
        cov_en = (weights[:, None] * d).T @ d
        # Re-centre on the weighted mean in the plane (the chord mean sits slightly off).
        back = earth.enu_to_ecef(np.array([mean_en[0], mean_en[1], 0.0]), float(lat),
                                 float(lon), 0.0)
        lat_c, lon_c, _ = earth.ecef_to_geodetic(back)
        t_mean = float(weights @ ts)
        t_sigma = math.sqrt(float(weights @ (ts - t_mean) ** 2))
        out.append(ImpactPrediction(float(t[i]), float(t[i]) + t_mean, t_sigma, float(lat_c),
                                    float(lon_c), cov_en))
    return out, flights


@dataclass(frozen=True)
class LaunchEstimate:
    """Ballistic back-propagation of a track to the ground (see the module docstring)."""

    lat_rad: float
    lon_rad: float
    t_s: float


@kernels.jit
def _back_to_ground(x: F, step_s: float, max_s: float) -> F:
    """Fly a ballistic state backwards (RK4, no drag) until it reaches the ground.

    Returns [x, y, z, seconds flown back]. Backward integration is forward
    integration with a negative step: the Coriolis term keeps its form.
    """
    s = x[:9].copy()
    s[6:9] = 0.0
    phi = np.eye(kernels.NX)
    elapsed = 0.0
    prev = s.copy()
    while elapsed < max_s:
        prev[:] = s
        kernels._substep(s, -step_s, False, phi)
        elapsed += step_s
        if kernels.height_m(s[:3]) < 0.0:
            lo, hi = 0.0, step_s  # bisect within the last step, from prev backwards
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                trial = prev.copy()
                kernels._substep(trial, -mid, False, phi)
                if kernels.height_m(trial[:3]) < 0.0:
                    hi = mid
                else:
                    lo = mid
            trial = prev.copy()
            kernels._substep(trial, -hi, False, phi)
            out = np.empty(4)
            out[:3] = trial[:3]
            out[3] = elapsed - step_s + hi
            return out
    out = np.full(4, np.nan)
    return out


def estimate_launch(x: F, t_s: float) -> LaunchEstimate | None:
    """Where and when a ballistic arc through state x (ECEF, ≥6) at t_s left the ground."""
    state = np.zeros(kernels.NX)
    state[:6] = np.asarray(x, dtype=np.float64)[:6]
    res = _back_to_ground(state, 2.0, 20000.0)
    if not np.isfinite(res[3]):
        return None
    lat, lon, _ = earth.ecef_to_geodetic(res[:3])
    return LaunchEstimate(float(lat), float(lon), float(t_s - res[3]))
