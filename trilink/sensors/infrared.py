"""Space-based infrared launch detection (SBIRS-like geostationary satellite).

The satellite sits fixed in ECEF above the equator at its sub-satellite longitude. Each
frame it detects burning boosters (alive, engines on, above the cloud tops, on the
visible disk) with a fixed probability and reports their lines of sight; after burnout
it reports nothing. Once a missile has been seen ``report_after_detections`` times it
also issues one :class:`LaunchReport` (launch point and time with their errors).

Line-of-sight angles (the measurement): in the satellite's frame with rows
``east = (−sin λ, cos λ, 0)``, ``north = (0, 0, 1)`` and ``nadir = −(cos λ, sin λ, 0)``
(ECEF unit vectors), a unit line of sight u gives

    x = atan2(u·east, u·nadir),   y = atan2(u·north, u·nadir)   (rad),

the tangent-plane angles of a nadir-staring focal plane: regular over the whole Earth
disk (|x|, |y| < 8.7°), nearly isotropic noise. :func:`los_direction` inverts them, so a
tracker can use ``sat_ecef_m`` and the angles as a bearings-only measurement.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from trilink.physics.earth import WGS84_A_M, ecef_to_geodetic, geodetic_up
from trilink.sensors.catalogue import InfraredSpec
from trilink.sensors.radar import grid_times, phase_offset_s

if TYPE_CHECKING:  # annotations only: keeps trilink.sim importable from here
    from trilink.world.truth import TruthState

F = NDArray[np.float64]
B = NDArray[np.bool_]

# Launch-report error model (docs/sensors.md). Times to climb through 10 km of the
# shipped profiles span 19 s (KN-23) to 58 s (Hwasong-17): the nominal value is the
# middle of that span and its σ that of a uniform spread over it (19.5 s / √3).
TAU_10KM_S = 38.5
SIGMA_TAU_10KM_S = 11.3
# Vertical speed near the cloud tops (m/s): 350–1,050 m/s for the shipped profiles.
CLIMB_SPEED_M_S = 800.0
# Horizontal travel from the pad by the first detection (m): ≤ 2 km for lofted shots,
# 6–9 km for the depressed KN-23 shot of 2023-12-17 (10–12 km up). Without knowing the
# missile, one σ of 4 km keeps that worst case inside 3σ (conservative for the rest).
DRIFT_SIGMA_M = 4000.0


def los_direction(frame_ecef: ArrayLike, z: ArrayLike) -> F:
    """Unit lines of sight (..., 3) in ECEF from tangent-plane angles z (..., 2) (rad)."""
    frame = np.asarray(frame_ecef, dtype=np.float64)
    a = np.asarray(z, dtype=np.float64)
    v = np.tan(a[..., :1]) * frame[0] + np.tan(a[..., 1:2]) * frame[1] + frame[2]
    out: F = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return out


@dataclass(frozen=True)
class IrScan:
    """One frame of one infrared satellite.

    ``z`` is (M, 2) line-of-sight angles [x_rad, y_rad] (module docstring), ``sigma``
    their standard deviations (rad); ``frame_ecef`` rows are east, north and nadir.
    ``truth_ids`` is for evaluation only: trackers must not read it.
    """

    sensor_id: str
    nation: str
    t_s: float  # seconds since the scenario epoch
    sat_ecef_m: F  # (3,)
    frame_ecef: F  # (3, 3)
    z: F
    sigma: F
    truth_ids: tuple[str | None, ...]


@dataclass(frozen=True)
class LaunchReport:
    """Launch point (geodetic, rad) and time (s since the epoch) of one missile.

    ``sigma_position_m`` is the one-σ error per horizontal axis (m), ``sigma_time_s``
    that of the launch time; ``truth_id`` is for evaluation only.
    """

    sensor_id: str
    nation: str
    t_report_s: float
    launch_lat_rad: float
    launch_lon_rad: float
    launch_t_s: float
    sigma_position_m: float
    sigma_time_s: float
    truth_id: str | None

    @property
    def t_s(self) -> float:
        """Time of the report (s since the epoch), the key scans are sorted by."""
        return self.t_report_s


class SpaceInfrared:
    """A geostationary infrared satellite built from its :class:`InfraredSpec`."""

    def __init__(self, spec: InfraredSpec) -> None:
        self.spec = spec
        lam = spec.sub_satellite_lon_rad
        radius = WGS84_A_M + spec.altitude_km * 1e3
        self.sat_ecef_m: F = radius * np.array([math.cos(lam), math.sin(lam), 0.0])
        self.frame_ecef: F = np.array([
            [-math.sin(lam), math.cos(lam), 0.0],
            [0.0, 0.0, 1.0],
            [-math.cos(lam), -math.sin(lam), 0.0],
        ])
        self.sigma: F = np.full(2, spec.sigma_los_urad * 1e-6)
        self.cloud_top_m = spec.cloud_top_km * 1e3
        self._phase_s = phase_offset_s(spec.id, spec.revisit_s)

    @property
    def id(self) -> str:
        return self.spec.id

    def scan_times(self, t0_s: float, t1_s: float) -> F:
        """Frame times (s since the epoch) in [t0, t1] on the revisit grid."""
        return grid_times(self._phase_s, self.spec.revisit_s, t0_s, t1_s)

    def los_angles(self, r_ecef_m: ArrayLike) -> F:
        """Tangent-plane angles (..., 2) (rad) of ECEF points (..., 3) seen from the satellite."""
        d = np.asarray(r_ecef_m, dtype=np.float64) - self.sat_ecef_m
        c = d @ self.frame_ecef.T
        out: F = np.stack([np.arctan2(c[..., 0], c[..., 2]), np.arctan2(c[..., 1], c[..., 2])],
                          axis=-1)
        return out

    def visible(self, state: TruthState) -> B:
        """Objects the sensor can see: boosting, above the cloud tops, satellite above
        their horizon."""
        lat, lon, h = ecef_to_geodetic(state.r_ecef_m)
        to_sat = self.sat_ecef_m - state.r_ecef_m
        above = np.einsum("ij,ij->i", to_sat, geodetic_up(lat, lon)) > 0.0
        out: B = state.alive & state.boosting & (h >= self.cloud_top_m) & above
        return out

    def observe(self, state: TruthState, rng: np.random.Generator) -> IrScan:
        """One frame at ``state.t_s`` (fixed draw order: uniforms, noise, shuffle)."""
        k = len(state.ids)
        u = rng.random(k)
        noise = rng.standard_normal((k, 2))
        det = self.visible(state) & (u < self.spec.pd_per_frame)
        z = self.los_angles(state.r_ecef_m[det]) + noise[det] * self.sigma
        ids = [state.ids[i] for i in np.flatnonzero(det)]
        perm = rng.permutation(len(z))
        return IrScan(
            sensor_id=self.spec.id,
            nation=self.spec.nation,
            t_s=state.t_s,
            sat_ecef_m=self.sat_ecef_m.copy(),
            frame_ecef=self.frame_ecef.copy(),
            z=z[perm],
            sigma=self.sigma.copy(),
            truth_ids=tuple(ids[i] for i in perm),
        )

    def intersect_shell(self, u_ecef: ArrayLike, h_m: float) -> F:
        """Nearest point (ECEF, m) where lines of sight (..., 3) from the satellite reach
        geodetic height h_m (Newton on the distance along the ray)."""
        u = np.asarray(u_ecef, dtype=np.float64)
        s0 = self.sat_ecef_m
        b = u @ s0
        rho = WGS84_A_M + h_m
        # Start from the sphere of radius a + h (a grazing ray keeps its closest point).
        disc = np.maximum(b * b - (s0 @ s0 - rho * rho), 0.0)
        s = -b - np.sqrt(disc)
        for _ in range(4):
            p = s0 + s[..., None] * u
            lat, lon, h = ecef_to_geodetic(p)
            rate = np.einsum("...i,...i->...", u, geodetic_up(lat, lon))
            s = s - (h - h_m) / np.minimum(rate, -1e-3)
        out: F = s0 + s[..., None] * u
        return out

    def estimate_launch(self, t_first_s: float, z_first: ArrayLike) -> tuple[
            float, float, float, float, float]:
        """Launch (lat_rad, lon_rad, t_s, sigma_position_m, sigma_time_s) from the earliest
        detection of a missile.

        Estimator: the line of sight is intersected with the shell where the booster most
        likely was when first seen (cloud tops plus half the climb during a mean detection
        gap); its geodetic latitude and longitude are the launch point (early boost is
        near vertical). The launch time is t_first minus a nominal climb time to that
        height (constant acceleration: τ ∝ √h, calibrated on the shipped profiles).
        Error budget (one σ, added in quadrature): angular noise projected on the ground,
        altitude uncertainty times tan(zenith angle), horizontal drift from the pad;
        for the time, the spread of climb times over missile types and the frame gap.
        """
        spec = self.spec
        gap_s = spec.revisit_s / spec.pd_per_frame
        h_shell = self.cloud_top_m + 0.5 * CLIMB_SPEED_M_S * gap_s
        u = los_direction(self.frame_ecef, z_first)
        p = self.intersect_shell(u, h_shell)
        lat, lon, _ = ecef_to_geodetic(p)
        slant = float(np.linalg.norm(p - self.sat_ecef_m))
        cos_zen = float(-(u @ geodetic_up(lat, lon)))
        tan_zen = math.sqrt(max(1.0 - cos_zen**2, 0.0)) / cos_zen
        sigma_angle_m = float(self.sigma[0]) * slant / cos_zen
        sigma_alt_m = CLIMB_SPEED_M_S * gap_s / math.sqrt(12.0)
        sigma_pos = math.sqrt(sigma_angle_m**2 + (sigma_alt_m * tan_zen) ** 2 + DRIFT_SIGMA_M**2)
        scale = math.sqrt(h_shell / 10e3)
        t_launch = t_first_s - TAU_10KM_S * scale
        sigma_t = math.sqrt((SIGMA_TAU_10KM_S * scale) ** 2 + gap_s**2 / 12.0)
        return float(lat), float(lon), t_launch, sigma_pos, sigma_t

    def launch_reports(self, scans: Sequence[IrScan]) -> list[LaunchReport]:
        """One report per missile seen ``report_after_detections`` times in these frames.

        Detections are grouped per missile with the truth ids: this stands for the
        ground station's own association (perfect here; closely spaced salvos would be
        merged in reality). Only the measured angles and times enter the estimate.
        """
        need = self.spec.report_after_detections
        seen: dict[str, list[tuple[float, F]]] = {}
        reports: list[LaunchReport] = []
        for scan in sorted(scans, key=lambda s: s.t_s):
            for tid, z in zip(scan.truth_ids, scan.z, strict=True):
                if tid is None:
                    continue
                hits = seen.setdefault(tid, [])
                hits.append((scan.t_s, z))
                if len(hits) != need:
                    continue
                lat, lon, t_launch, s_pos, s_t = self.estimate_launch(*hits[0])
                reports.append(LaunchReport(
                    sensor_id=self.spec.id,
                    nation=self.spec.nation,
                    t_report_s=scan.t_s + self.spec.report_latency_s,
                    launch_lat_rad=lat,
                    launch_lon_rad=lon,
                    launch_t_s=t_launch,
                    sigma_position_m=s_pos,
                    sigma_time_s=s_t,
                    truth_id=tid,
                ))
        return reports
