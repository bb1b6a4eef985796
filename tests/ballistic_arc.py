"""A hand-made ballistic arc for node and warning tests: no scenario, no fit.

Burnt out at 350 km over the Sea of Japan, 4.3 km/s east and 2.6 km/s up: it overflies
northern Honshu (about 40° N 142° E four minutes later) and falls in the Pacific.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from trilink.physics import earth
from trilink.physics.trajectory import propagate_ballistic

F = NDArray[np.float64]


@dataclass(frozen=True)
class Arc:
    t_s: F  # (n,) seconds from burnout
    r_ecef_m: F  # (n, 3)
    v_ecef_m_s: F

    def position(self, t_s: float) -> F:
        return np.array([np.interp(t_s, self.t_s, self.r_ecef_m[:, i]) for i in range(3)])

    def state(self, t_s: float) -> F:
        """The 9-state (position, velocity, zero acceleration) at ``t_s``."""
        v = np.array([np.interp(t_s, self.t_s, self.v_ecef_m_s[:, i]) for i in range(3)])
        return np.concatenate([self.position(t_s), v, np.zeros(3)])


@lru_cache(maxsize=1)
def arc() -> Arc:
    lat, lon = np.radians(41.0), np.radians(131.5)
    east, north, up = earth.enu_basis(lat, lon)
    r0 = earth.geodetic_to_ecef(lat, lon, 350e3)
    v0 = 4300.0 * east - 300.0 * north + 2600.0 * up
    fb = propagate_ballistic(r0[None], v0[None], np.array([5000.0]))
    k = int(fb.n_knots[0])
    return Arc(fb.t_s[0, :k], fb.r_ecef_m[0, :k], fb.v_ecef_m_s[0, :k])


def covariance(pos_sigma_m: float = 300.0, vel_sigma_m_s: float = 10.0) -> F:
    return np.diag([pos_sigma_m**2] * 3 + [vel_sigma_m_s**2] * 3 + [1.0] * 3)
