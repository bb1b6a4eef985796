"""Compiled (numba) propagation of unpowered flights to the ground.

The same equations as :meth:`trilink.physics.vehicle.VehicleBatch.acceleration` for a
vehicle without thrust — J2 gravity, centrifugal and Coriolis terms of the Earth-fixed
(ECEF) frame, drag with a ballistic coefficient in the U.S. Standard Atmosphere 1976 —
and the same step rules as :mod:`trilink.physics.trajectory` (coast steps up to
``vacuum_s`` shrinking toward the atmosphere, ``atmosphere_s`` inside it; impact by
bisection of the Hermite interpolant on the geodetic height). Impact prediction flies a
dozen sigma points per track every few seconds of simulated time; in NumPy each step
of such a small batch costs far more in call overhead than in arithmetic, so this loop
is compiled. ``tests/test_ballistic.py`` checks it against the NumPy integrator.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numpy.typing import NDArray

from trilink.physics import atmosphere, earth

F = NDArray[np.float64]
_Fn = TypeVar("_Fn", bound=Callable[..., Any])


def jit(fn: _Fn) -> _Fn:
    """numba.njit with an on-disk cache, keeping the function's type for mypy."""
    return cast(_Fn, numba.njit(cache=True, nogil=True)(fn))


_A = earth.WGS84_A_M
_B = earth.WGS84_B_M
_E2 = earth.WGS84_E2
_EP2 = earth.WGS84_EP2
_MU = earth.GM_M3_S2
_J2 = earth.J2
_W = earth.OMEGA_EARTH_RAD_S
_ATMOSPHERE_TOP_M = 100e3
_R_US76 = atmosphere.R_EARTH_US76_M
_G0 = atmosphere.G0
_R_AIR = atmosphere.R_AIR_J_KG_K
_H_BASE = atmosphere._H_BASE.copy()
_T_BASE = atmosphere._T_BASE.copy()
_LAPSE = atmosphere._LAPSE.copy()
_P_BASE = atmosphere._P_BASE.copy()
_UPPER_Z_M = atmosphere._UPPER_Z_M.astype(np.float64)
_UPPER_LOG_RHO = atmosphere._UPPER_LOG_RHO.copy()
_TOP_SCALE_HEIGHT_M = atmosphere._TOP_SCALE_HEIGHT_M
_BISECT_STEPS = 40


@jit
def density_kg_m3(z_m: float) -> float:
    """US76 density at geometric height z_m (as :mod:`trilink.physics.atmosphere`)."""
    z = max(z_m, 0.0)
    if z <= _UPPER_Z_M[0]:
        h = _R_US76 * z / (_R_US76 + z)
        i = 0
        while i + 1 < _H_BASE.shape[0] and _H_BASE[i + 1] <= h:
            i += 1
        tb, lapse, pb, hb = _T_BASE[i], _LAPSE[i], _P_BASE[i], _H_BASE[i]
        t = tb + lapse * (h - hb)
        if lapse == 0.0:
            p = pb * math.exp(-_G0 * (h - hb) / (_R_AIR * tb))
        else:
            p = pb * (tb / t) ** (_G0 / (_R_AIR * lapse))
        return float(p / (_R_AIR * t))
    n = _UPPER_Z_M.shape[0]
    if z >= _UPPER_Z_M[n - 1]:
        log_rho = _UPPER_LOG_RHO[n - 1] - (z - _UPPER_Z_M[n - 1]) / _TOP_SCALE_HEIGHT_M
    else:
        j = 0
        while _UPPER_Z_M[j + 1] < z:
            j += 1
        f = (z - _UPPER_Z_M[j]) / (_UPPER_Z_M[j + 1] - _UPPER_Z_M[j])
        log_rho = _UPPER_LOG_RHO[j] + f * (_UPPER_LOG_RHO[j + 1] - _UPPER_LOG_RHO[j])
    return math.exp(log_rho)


@jit
def geodetic_height_m(x: float, y: float, z: float) -> float:
    """Height above the WGS84 ellipsoid (as :func:`trilink.physics.earth.ecef_to_geodetic`)."""
    p = math.hypot(x, y)
    theta = math.atan2(z * _A, p * _B)
    lat = math.atan2(z + _EP2 * _B * math.sin(theta) ** 3, p - _E2 * _A * math.cos(theta) ** 3)
    for _ in range(2):
        s = math.sin(lat)
        n = _A / math.sqrt(1.0 - _E2 * s * s)
        lat = math.atan2(z + _E2 * n * s, p)
    s, c = math.sin(lat), math.cos(lat)
    n = _A / math.sqrt(1.0 - _E2 * s * s)
    return p * c + z * s - _A * _A / n


@jit
def _accel(r: F, v: F, beta: float, out: F) -> None:
    x, y, z = r[0], r[1], r[2]
    r2 = x * x + y * y + z * z
    rn = math.sqrt(r2)
    sin2_lat = z * z / r2
    surface = _A * math.sqrt((1.0 - _E2) / (1.0 - _E2 * (1.0 - sin2_lat)))
    rho = density_kg_m3(rn - surface)
    speed = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    k_drag = 0.5 * rho * speed / beta
    mu_r3 = _MU / (r2 * rn)
    k = 1.5 * _J2 * _A * _A / r2
    z2r2 = z * z / r2
    fxy = -mu_r3 * (1.0 + k * (1.0 - 5.0 * z2r2))
    fz = -mu_r3 * (1.0 + k * (3.0 - 5.0 * z2r2))
    out[0] = fxy * x + _W * _W * x + 2.0 * _W * v[1] - k_drag * v[0]
    out[1] = fxy * y + _W * _W * y - 2.0 * _W * v[0] - k_drag * v[1]
    out[2] = fz * z - k_drag * v[2]


@jit
def _hermite(t0: float, t1: float, r0: F, v0: F, r1: F, v1: F, t: float, pos: F,
             vel: F) -> None:
    h = t1 - t0 if t1 > t0 else 1.0
    s = min(max((t - t0) / h, 0.0), 1.0)
    s2, s3 = s * s, s * s * s
    h00, h10, h01, h11 = 2 * s3 - 3 * s2 + 1, s3 - 2 * s2 + s, -2 * s3 + 3 * s2, s3 - s2
    d00, d10, d01, d11 = 6 * s2 - 6 * s, 3 * s2 - 4 * s + 1, -6 * s2 + 6 * s, 3 * s2 - 2 * s
    for i in range(3):
        pos[i] = h00 * r0[i] + h10 * h * v0[i] + h01 * r1[i] + h11 * h * v1[i]
        vel[i] = (d00 * r0[i] + d01 * r1[i]) / h + d10 * v0[i] + d11 * v1[i]


@jit
def _fly(r0: F, v0: F, beta: float, vacuum_s: float, atmosphere_s: float,
         max_flight_s: float) -> tuple[F, F, F, bool]:
    """One flight: knot times (K,), positions (K, 3), velocities (K, 3), impacted."""
    cap = 512
    ts = np.empty(cap)
    rs = np.empty((cap, 3))
    vs = np.empty((cap, 3))
    r = r0.copy()
    v = v0.copy()
    t = 0.0
    ts[0] = t
    rs[0] = r
    vs[0] = v
    n = 1
    a1, a2, a3, a4 = np.empty(3), np.empty(3), np.empty(3), np.empty(3)
    rt, vt = np.empty(3), np.empty(3)
    r_new, v_new = np.empty(3), np.empty(3)
    pos, vel = np.empty(3), np.empty(3)
    impacted = False
    while True:
        h = geodetic_height_m(r[0], r[1], r[2])
        speed = max(math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]), 1.0)
        dt = min(max(0.5 * (h - _ATMOSPHERE_TOP_M) / speed, atmosphere_s), vacuum_s)
        _accel(r, v, beta, a1)
        for i in range(3):
            rt[i] = r[i] + 0.5 * dt * v[i]
            vt[i] = v[i] + 0.5 * dt * a1[i]
        _accel(rt, vt, beta, a2)
        v2 = vt.copy()
        for i in range(3):
            rt[i] = r[i] + 0.5 * dt * v2[i]
            vt[i] = v[i] + 0.5 * dt * a2[i]
        _accel(rt, vt, beta, a3)
        v3 = vt.copy()
        for i in range(3):
            rt[i] = r[i] + dt * v3[i]
            vt[i] = v[i] + dt * a3[i]
        _accel(rt, vt, beta, a4)
        v4 = vt.copy()
        for i in range(3):
            r_new[i] = r[i] + dt / 6.0 * (v[i] + 2 * v2[i] + 2 * v3[i] + v4[i])
            v_new[i] = v[i] + dt / 6.0 * (a1[i] + 2 * a2[i] + 2 * a3[i] + a4[i])
        t_new = t + dt
        done = False
        if geodetic_height_m(r_new[0], r_new[1], r_new[2]) < 0.0:
            lo, hi = t, t_new
            for _ in range(_BISECT_STEPS):
                mid = 0.5 * (lo + hi)
                _hermite(t, t_new, r, v, r_new, v_new, mid, pos, vel)
                if geodetic_height_m(pos[0], pos[1], pos[2]) > 0.0:
                    lo = mid
                else:
                    hi = mid
            _hermite(t, t_new, r, v, r_new, v_new, hi, pos, vel)
            t_new = hi
            r_new[:] = pos
            v_new[:] = vel
            impacted = True
            done = True
        if t_new >= max_flight_s:
            done = True
        if n == cap:
            cap *= 2
            ts2, rs2, vs2 = np.empty(cap), np.empty((cap, 3)), np.empty((cap, 3))
            ts2[:n], rs2[:n], vs2[:n] = ts[:n], rs[:n], vs[:n]
            ts, rs, vs = ts2, rs2, vs2
        t = t_new
        r[:] = r_new
        v[:] = v_new
        ts[n] = t
        rs[n] = r
        vs[n] = v
        n += 1
        if done:
            break
    return ts[:n].copy(), rs[:n].copy(), vs[:n].copy(), impacted


def fly_ballistic(r0_ecef_m: F, v0_ecef_m_s: F, beta_kg_m2: F, vacuum_s: float,
                  atmosphere_s: float, max_flight_s: float
                  ) -> tuple[F, F, F, NDArray[np.intp], NDArray[np.bool_]]:
    """Fly N unpowered states (ECEF, rotating frame) to the ground.

    Returns knot times (N, K), positions (N, K, 3), velocities (N, K, 3), knot counts
    (N,) and impact flags (N,); rows shorter than K repeat their last knot, as
    :class:`trilink.physics.trajectory.FlightBatch` expects.
    """
    n = r0_ecef_m.shape[0]
    flights = [_fly(np.ascontiguousarray(r0_ecef_m[i]), np.ascontiguousarray(v0_ecef_m_s[i]),
                    float(beta_kg_m2[i]), vacuum_s, atmosphere_s, max_flight_s)
               for i in range(n)]
    k = max((len(f[0]) for f in flights), default=1)
    t = np.empty((n, k))
    r = np.empty((n, k, 3))
    v = np.empty((n, k, 3))
    counts = np.empty(n, dtype=np.intp)
    impacted = np.empty(n, dtype=bool)
    for i, (ti, ri, vi, hit) in enumerate(flights):
        m = len(ti)
        t[i, :m], r[i, :m], v[i, :m] = ti, ri, vi
        t[i, m:], r[i, m:], v[i, m:] = ti[-1], ri[-1], vi[-1]
        counts[i], impacted[i] = m, hit
    return t, r, v, counts, impacted
