"""Ground and ship radars: visibility, detection and noisy measurements from truth.

Sans-I/O and vectorised: a :class:`Radar` turns one :class:`~trilink.world.truth.TruthState`
and a NumPy generator into one :class:`RadarScan`. Frames: targets in ECEF (m); the
measurement is range (m), azimuth (rad, clockwise from north in [0, 2π)) and elevation
(rad, above the site's geodetic horizontal) in the site's ENU frame, optionally with
range rate (m/s, positive receding).

Model (docs/sensors.md):

- Horizon: standard refraction as a 4/3 effective Earth. The ray's curvature is
  (1 − 1/k)/R_E, so the apparent elevation is el_app = el_geo + R·(1 − 1/k)/(2·R_E);
  a target is in view if el_app is inside [el_min, el_max], the line of sight clears
  the effective Earth (matters for radars on mountains with el_min < 0), its azimuth is
  in the sector and its range between the minimum and the instrumented range.
- Sensitivity: SNR = SNR_ref·(σ/σ_ref)·(R_ref/R)⁴, SNR_ref such that the Swerling-I
  Pd = Pfa^(1/(1+SNR)) equals pd_ref at R_ref for σ_ref.
- Measurements: the geometric values (the radar corrects refraction) plus Gaussian noise;
  false alarms Poisson per scan, uniform in the field of regard.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from trilink.physics.earth import (
    WGS84_A_M,
    WGS84_E2,
    ecef_to_geodetic,
    enu_basis,
    enu_to_aer,
    geodetic_to_ecef,
)
from trilink.sensors.catalogue import RadarSpec

if TYPE_CHECKING:  # annotations only: keeps trilink.sim importable from here
    from trilink.world.truth import TruthState

F = NDArray[np.float64]
B = NDArray[np.bool_]

K_REFRACTION = 4.0 / 3.0  # standard-atmosphere effective-Earth factor
# False alarms get a range rate uniform in ± this (m/s): the span of ballistic speeds.
FALSE_ALARM_RANGE_RATE_M_S = 7000.0
TWO_PI = 2.0 * math.pi


def swerling1_pd(snr: ArrayLike, pfa: float) -> F:
    """Swerling-I probability of detection for a linear SNR at false-alarm probability pfa."""
    s = np.maximum(np.asarray(snr, dtype=np.float64), 0.0)
    pd: F = np.power(pfa, 1.0 / (1.0 + s))
    return pd


def swerling1_snr(pd: float, pfa: float) -> float:
    """Linear SNR at which a Swerling-I target is detected with probability pd."""
    return math.log(pfa) / math.log(pd) - 1.0


def gaussian_radius_m(lat_rad: float) -> float:
    """Gaussian mean radius of curvature of WGS84 at a latitude (m): √(M·N)."""
    w2 = 1.0 - WGS84_E2 * math.sin(lat_rad) ** 2
    return WGS84_A_M * math.sqrt(1.0 - WGS84_E2) / w2


def phase_offset_s(sensor_id: str, period_s: float) -> float:
    """Deterministic offset in [0, period) of a sensor's scan grid, from its id."""
    return (zlib.crc32(sensor_id.encode()) / 2.0**32) * period_s


def grid_times(phase_s: float, period_s: float, t0_s: float, t1_s: float) -> F:
    """Times phase + n·period inside [t0, t1] (grid anchored at the epoch, not at t0)."""
    n0 = math.ceil((t0_s - phase_s) / period_s)
    n1 = math.floor((t1_s - phase_s) / period_s)
    if n1 < n0:
        return np.empty(0)
    return phase_s + np.arange(n0, n1 + 1, dtype=np.float64) * period_s


@dataclass(frozen=True)
class RadarScan:
    """One scan of one radar.

    ``z`` is (M, 3) [range_m, az_rad, el_rad] or (M, 4) with range_rate_m_s, in the
    site's ENU frame; ``sigma`` the per-column standard deviations. ``truth_ids`` is
    for evaluation only (None marks a false alarm): trackers must not read it.
    """

    sensor_id: str
    nation: str
    t_s: float  # seconds since the scenario epoch
    site_lat_rad: float
    site_lon_rad: float
    site_h_m: float
    site_ecef_m: F  # (3,)
    z: F
    sigma: F
    truth_ids: tuple[str | None, ...]


class Radar:
    """A radar built from its :class:`RadarSpec` (site fixed in ECEF)."""

    def __init__(self, spec: RadarSpec) -> None:
        self.spec = spec
        self.lat_rad = spec.lat_rad
        self.lon_rad = spec.lon_rad
        self.h_m = spec.height_m
        self.site_ecef_m: F = geodetic_to_ecef(self.lat_rad, self.lon_rad, self.h_m)
        self._enu: F = enu_basis(self.lat_rad, self.lon_rad)  # rows: east, north, up
        self.earth_radius_m = gaussian_radius_m(self.lat_rad)
        self.snr_ref = swerling1_snr(spec.pd_ref, spec.pfa)
        self.ref_range_m = spec.ref_range_km * 1e3
        self.min_range_m = spec.min_range_km * 1e3
        self.max_range_m = math.inf if spec.max_range_km is None else spec.max_range_km * 1e3
        sig = [spec.sigma_range_m, spec.sigma_az_mrad * 1e-3, spec.sigma_el_mrad * 1e-3]
        if spec.sigma_range_rate_m_s is not None:
            sig.append(spec.sigma_range_rate_m_s)
        self.sigma: F = np.array(sig)
        self._phase_s = phase_offset_s(spec.id, spec.revisit_s)

    @property
    def id(self) -> str:
        return self.spec.id

    def scan_times(self, t0_s: float, t1_s: float) -> F:
        """Scan times (s since the epoch) in [t0, t1] on the revisit grid."""
        return grid_times(self._phase_s, self.spec.revisit_s, t0_s, t1_s)

    def geometry(self, r_ecef_m: ArrayLike) -> tuple[F, F, F]:
        """Geometric slant range (m), azimuth (rad, [0, 2π)) and elevation (rad) of
        ECEF points (..., 3) from the site."""
        d = np.asarray(r_ecef_m, dtype=np.float64) - self.site_ecef_m
        az, el, rng = enu_to_aer(d @ self._enu.T)
        return rng, az, el

    def in_sector(self, az_rad: ArrayLike) -> B:
        """Whether azimuths (rad) lie in the clockwise sector az_min → az_max."""
        az = np.asarray(az_rad, dtype=np.float64)
        if self.spec.full_circle:
            return np.ones(az.shape, dtype=bool)
        out: B = np.mod(az - self.spec.az_min_rad, TWO_PI) <= self.spec.az_width_rad
        return out

    def apparent_elevation(self, range_m: ArrayLike, el_rad: ArrayLike) -> F:
        """Elevation (rad) at which the refracted (4/3-Earth) ray leaves the radar."""
        bend = (1.0 - 1.0 / K_REFRACTION) / (2.0 * self.earth_radius_m)
        out: F = np.asarray(el_rad, dtype=np.float64) + np.asarray(range_m) * bend
        return out

    def horizon_clear(self, r_ecef_m: ArrayLike) -> B:
        """Whether the refracted line of sight clears the Earth (4/3 effective radius).

        In the effective-Earth picture rays are straight, heights are kept and central
        angles shrink by k: visible iff ψ/k ≤ acos(kR/(kR+h_radar)) + acos(kR/(kR+h_t)).
        """
        r = np.asarray(r_ecef_m, dtype=np.float64)
        _, _, h_t = ecef_to_geodetic(r)
        cos_psi = (r @ self.site_ecef_m) / (np.linalg.norm(r, axis=-1)
                                            * np.linalg.norm(self.site_ecef_m))
        psi = np.arccos(np.clip(cos_psi, -1.0, 1.0))
        ke = K_REFRACTION * self.earth_radius_m
        reach = np.arccos(ke / (ke + max(self.h_m, 0.0))) + np.arccos(
            ke / (ke + np.maximum(h_t, 0.0)))
        out: B = psi / K_REFRACTION <= reach
        return out

    def snr(self, range_m: ArrayLike, rcs_m2: ArrayLike) -> F:
        """Linear SNR from the radar equation, scaled from the reference point."""
        rng = np.maximum(np.asarray(range_m, dtype=np.float64), 1.0)
        out: F = (self.snr_ref * (np.asarray(rcs_m2, dtype=np.float64) / self.spec.ref_rcs_m2)
                  * (self.ref_range_m / rng) ** 4)
        return out

    def visible(self, r_ecef_m: ArrayLike, rcs_m2: ArrayLike) -> tuple[B, F]:
        """Field-of-regard mask and SNR of ECEF points (..., 3) with RCS (m²).

        The mask combines horizon (4/3 Earth), azimuth sector, apparent-elevation limits
        and the minimum and instrumented ranges; the SNR is returned for every point.
        """
        rng, az, el = self.geometry(r_ecef_m)
        el_app = self.apparent_elevation(rng, el)
        mask = (
            (el_app >= self.spec.el_min_rad)
            & (el_app <= self.spec.el_max_rad)
            & self.in_sector(az)
            & (rng >= self.min_range_m)
            & (rng <= self.max_range_m)
        )
        if self.spec.el_min_deg < 0.0:
            # Only a radar allowed to look down can see past the Earth's limb.
            mask &= self.horizon_clear(r_ecef_m)
        return mask, self.snr(rng, rcs_m2)

    def detection_probability(self, snr: ArrayLike) -> F:
        """Swerling-I Pd = Pfa^(1/(1+SNR)) at the spec's false-alarm probability."""
        return swerling1_pd(snr, self.spec.pfa)

    def _false_alarms(self, rng: np.random.Generator) -> F:
        n = int(rng.poisson(self.spec.false_alarms_per_scan))
        u = rng.random((n, self.sigma.size))
        # Uniform in each coordinate of the field of regard (not in volume).
        r_hi = min(self.ref_range_m, self.max_range_m)
        fa = np.empty((n, self.sigma.size))
        fa[:, 0] = self.min_range_m + u[:, 0] * (r_hi - self.min_range_m)
        fa[:, 1] = np.mod(self.spec.az_min_rad + u[:, 1] * self.spec.az_width_rad, TWO_PI)
        fa[:, 2] = self.spec.el_min_rad + u[:, 2] * (self.spec.el_max_rad - self.spec.el_min_rad)
        if self.sigma.size == 4:
            fa[:, 3] = (2.0 * u[:, 3] - 1.0) * FALSE_ALARM_RANGE_RATE_M_S
        return fa

    def observe(self, state: TruthState, rng: np.random.Generator) -> RadarScan:
        """One scan at ``state.t_s``: detections of alive targets and false alarms.

        Draw order is fixed (one uniform and one noise row per truth object, visible or
        not, then the false alarms, then the shuffle), so a given generator state always
        yields the same scan.
        """
        k = len(state.ids)
        ncol = self.sigma.size
        u = rng.random(k)
        noise = rng.standard_normal((k, ncol))
        if not state.alive.any():
            # Quiet sky (most of a day): false alarms only, same draws as below.
            z_fa = self._false_alarms(rng)
            perm = rng.permutation(len(z_fa))
            return RadarScan(
                sensor_id=self.spec.id, nation=self.spec.nation, t_s=state.t_s,
                site_lat_rad=self.lat_rad, site_lon_rad=self.lon_rad, site_h_m=self.h_m,
                site_ecef_m=self.site_ecef_m.copy(), z=z_fa[perm], sigma=self.sigma.copy(),
                truth_ids=(None,) * len(z_fa))
        rng_m, az, el = self.geometry(state.r_ecef_m)
        mask, snr = self.visible(state.r_ecef_m, state.rcs_m2)
        det = mask & state.alive & (u < self.detection_probability(snr))
        truth = np.stack([rng_m, az, el], axis=-1)
        if ncol == 4:
            los = state.r_ecef_m - self.site_ecef_m
            rr = np.einsum("ij,ij->i", los, state.v_ecef_m_s) / np.maximum(rng_m, 1.0)
            truth = np.concatenate([truth, rr[:, None]], axis=1)
        z_det = truth[det] + noise[det] * self.sigma
        z_det[:, 1] = np.mod(z_det[:, 1], TWO_PI)
        z_fa = self._false_alarms(rng)
        z = np.concatenate([z_det, z_fa], axis=0)
        ids: list[str | None] = [state.ids[i] for i in np.flatnonzero(det)]
        ids += [None] * len(z_fa)
        # Shuffle so that the order of reports does not reveal truth or false alarms.
        perm = rng.permutation(len(z))
        return RadarScan(
            sensor_id=self.spec.id,
            nation=self.spec.nation,
            t_s=state.t_s,
            site_lat_rad=self.lat_rad,
            site_lon_rad=self.lon_rad,
            site_h_m=self.h_m,
            site_ecef_m=self.site_ecef_m.copy(),
            z=z[perm],
            sigma=self.sigma.copy(),
            truth_ids=tuple(ids[i] for i in perm),
        )
