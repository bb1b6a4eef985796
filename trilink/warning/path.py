"""Is a track still flying a ballistic arc? Pull-ups and glides, told from the path.

A ballistic object's flight-path angle γ (velocity above the local horizontal) only
falls once its engines are out: gravity bends the path down, drag acts along it and
cannot lift it, and below orbital speed the curvature of the Earth does not make up for
gravity (dγ/dt = −(g/v − v/r)·cos γ < 0 for v² < g·r). A glide vehicle levelling off
below its pull-up height, or a manoeuvring re-entry vehicle pulling up, makes γ *rise*
after apogee. That rise is what :class:`PathWatch` looks for, per track, on the fused
states it is given: past apogee (γ below zero once), below ``max_altitude_m``, faster
than ``min_speed_m_s`` and judged unpowered, a γ that has climbed above its lowest value
since apogee by ``min_rise_rad`` and by ``sigma_factor`` times the uncertainty of the
difference (both angles' sigmas from the velocity covariance, in quadrature: a track taken
up in a steep descent starts with its angle known to a degree only, and that first angle
may be its lowest), on ``confirmations`` successive states, marks the track
non-ballistic — for good: a glider that dives again is still not a ballistic arc to
predict from.

The tracker's specific-force estimate would say the same in principle, but through the
interacting-multiple-model mix it is noisy (tens of m/s² of sigma during a glide): the
angle, from the velocity, is known to a tenth of a degree. Sans-I/O: states in, a flag
out. Thresholds are the warning policy's (``non_ballistic.detect``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from trilink.physics import earth
from trilink.warning.policy import PathDetection

F = NDArray[np.float64]


def flight_path_angle_sigma_rad(x: F, P: F) -> float:
    """One-sigma uncertainty of :func:`flight_path_angle_rad` from the velocity
    covariance: its spread across the velocity, in the vertical plane, over the speed."""
    v = np.asarray(x[3:6], dtype=np.float64)
    speed = float(np.linalg.norm(v))
    if speed == 0.0:
        return math.pi
    r = np.asarray(x[:3], dtype=np.float64)
    v_hat = v / speed
    up = r / float(np.linalg.norm(r))
    across = up - float(up @ v_hat) * v_hat
    n = float(np.linalg.norm(across))
    if n < 1e-9:  # straight up or down: γ is ±90°, its spread is any horizontal one
        across = np.cross(v_hat, [1.0, 0.0, 0.0]) if abs(v_hat[0]) < 0.9 else \
            np.cross(v_hat, [0.0, 1.0, 0.0])
        n = float(np.linalg.norm(across))
    u = across / n
    var = float(u @ np.asarray(P, dtype=np.float64)[3:6, 3:6] @ u)
    return math.sqrt(max(var, 0.0)) / speed


def flight_path_angle_rad(x: F) -> float:
    """γ of an ECEF state (position m, velocity m/s): the angle of the Earth-fixed
    velocity above the local (geocentric) horizontal, radians."""
    r = np.asarray(x[:3], dtype=np.float64)
    v = np.asarray(x[3:6], dtype=np.float64)
    speed = float(np.linalg.norm(v))
    if speed == 0.0:
        return 0.0
    up = r / float(np.linalg.norm(r))
    return math.asin(max(-1.0, min(1.0, float(v @ up) / speed)))


@dataclass
class TrackPath:
    """What the path has shown of one track so far."""

    last_t_s: float = -math.inf
    past_apogee: bool = False
    lowest_rad: float = math.inf
    lowest_sigma_rad: float = 0.0  # the uncertainty of the angle when it was lowest
    rising: int = 0
    non_ballistic: bool = False
    marked_t_s: float = math.nan  # when the path showed it


@dataclass
class PathWatch:
    """Per-track memory of the flight-path angle (see the module docstring)."""

    detect: PathDetection = field(default_factory=PathDetection)
    _tracks: dict[str, TrackPath] = field(default_factory=dict)

    def observe(self, track_id: str, t_s: float, x: F, P: F, powered_probability: float,
                powered_hold: float) -> bool:
        """Take a track's state at ``t_s``; True once its path has shown it is not
        ballistic. A state no newer than the last one taken adds no evidence."""
        tr = self._tracks.setdefault(track_id, TrackPath())
        if tr.non_ballistic:
            return True
        if t_s <= tr.last_t_s:
            return False
        tr.last_t_s = t_s
        gamma = flight_path_angle_rad(x)
        if powered_probability >= powered_hold:
            tr.rising = 0  # a burning engine may lift the path: no evidence either way
            return False
        if gamma < 0.0:
            tr.past_apogee = True
        if not tr.past_apogee:
            return False
        speed = float(np.linalg.norm(x[3:6]))
        _, _, h = earth.ecef_to_geodetic(np.asarray(x[:3], dtype=np.float64)[None, :])
        d = self.detect
        # The rise must stand out of the noise of both angles, not only pass the
        # threshold (near impact a track's velocity is known to a hundred m/s: degrees of
        # angle; a track taken up in the descent starts with its angle known to a degree,
        # and that first, noisy angle may be the lowest it ever shows).
        sigma = flight_path_angle_sigma_rad(x, P)
        needed = max(d.min_rise_rad,
                     d.sigma_factor * math.hypot(sigma, tr.lowest_sigma_rad))
        rose = (gamma - tr.lowest_rad >= needed and float(h[0]) <= d.max_altitude_m
                and speed >= d.min_speed_m_s)
        if gamma < tr.lowest_rad:
            tr.lowest_rad, tr.lowest_sigma_rad = gamma, sigma
        tr.rising = tr.rising + 1 if rose else 0
        if tr.rising >= d.confirmations:
            tr.non_ballistic, tr.marked_t_s = True, t_s
        return tr.non_ballistic

    def tracks(self) -> dict[str, TrackPath]:
        """What is known of each track (read-only use: reports and tools)."""
        return dict(self._tracks)

    def non_ballistic(self, track_id: str) -> bool:
        tr = self._tracks.get(track_id)
        return tr is not None and tr.non_ballistic
