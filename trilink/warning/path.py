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

A glider that *banks* turns sideways and, with less lift upward, sinks while it turns:
its γ need not rise, and its lift reads to the tracker as a powered mode (so the rise
test, which takes only unpowered states, sees nothing). What it cannot hide is the turn.
A ballistic path keeps its plane through the Earth's centre, n = r × v / |r × v|:
gravity is central (its small J2 part goes into the known rate below), drag acts along
the velocity and an unbanked glider's lift within the plane, so neither turns it. In the
Earth-fixed frame the Coriolis and centrifugal terms turn n slowly (up to about 2ω/cos
γ, 0.01°/s), by an amount computed from the state and taken out
(:func:`known_plane_rate`). The test, on every fresh state once the track has been seen
descending (unpowered with γ below zero, or powered with γ below zero by
``turn.sigma_factor`` of its sigma: a boost never descends), powered or not: the plane's
turn since a reference state (the component of the normal's change about the local
vertical: a heading change), carried forward by the known rotation, at or above
``turn.min_turn_rad`` and ``turn.sigma_factor`` times its uncertainty (both states'
velocity and position covariance, in quadrature), below ``turn.max_altitude_m``, faster
than ``turn.min_speed_m_s``, on ``turn.confirmations`` successive states. The reference
is the first descending state, replaced by a state ``turn.rebase_sigma_ratio`` times as
uncertain while no turn shows (a track's first, noisy state would otherwise stand as a
false offset), and re-taken after a gap of more than ``turn.max_gap_s``.

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


def plane_normal(x: F) -> F:
    """Unit normal of the plane through the Earth's centre and an ECEF state's
    velocity (r × v normalised)."""
    h = np.cross(np.asarray(x[:3], dtype=np.float64), np.asarray(x[3:6], dtype=np.float64))
    out: F = h / max(float(np.linalg.norm(h)), 1e-9)
    return out


def known_plane_rate(x: F) -> F:
    """d n / dt (rad/s, a vector across n) of :func:`plane_normal` on a ballistic path
    through the state ``x``: only the J2, Coriolis and centrifugal accelerations
    (d(r × v)/dt = r × a; the central part of gravity gives nothing, drag along v and
    lift in the plane only change |r × v|)."""
    r = np.asarray(x[:3], dtype=np.float64)
    v = np.asarray(x[3:6], dtype=np.float64)
    h = np.cross(r, v)
    h_norm = max(float(np.linalg.norm(h)), 1e-9)
    n = h / h_norm
    a = earth.gravity_j2_ecef(r) + earth.rotating_frame_acceleration(r, v)
    dh = np.cross(r, a)
    out: F = (dh - float(dh @ n) * n) / h_norm
    return out


def turn_axis(x: F) -> F:
    """The direction across the plane normal in which a sideways force moves it:
    r̂ × n, horizontal and in the plane (along the horizontal velocity)."""
    r = np.asarray(x[:3], dtype=np.float64)
    u = np.cross(r / float(np.linalg.norm(r)), plane_normal(x))
    out: F = u / max(float(np.linalg.norm(u)), 1e-9)
    return out


def plane_turn_sigma_rad(x: F, P: F, axis: F) -> float:
    """One-sigma uncertainty of the plane normal of ``x`` along ``axis`` (a unit vector
    across it), from the position and velocity covariance: d n·u = (v × u)·dr/|h|
    + (u × r)·dv/|h|; the velocity part, σ(v across the plane)/(v cos γ), dominates."""
    r = np.asarray(x[:3], dtype=np.float64)
    v = np.asarray(x[3:6], dtype=np.float64)
    h_norm = float(np.linalg.norm(np.cross(r, v)))
    if h_norm < 1e-9:
        return math.pi
    J = np.concatenate([np.cross(v, axis), np.cross(axis, r)]) / h_norm
    var = float(J @ np.asarray(P, dtype=np.float64)[:6, :6] @ J)
    return math.sqrt(max(var, 0.0))


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
    marked_by: str = ""  # "rise" or "turn": which test showed it
    # The turn test (module docstring): seen descending, the reference plane normal
    # (carried forward by the known rotation) and its sigma, the last state taken.
    descending: bool = False
    ref_normal: F | None = None
    ref_sigma_rad: float = 0.0
    prev_t_s: float = -math.inf
    prev_rate: F | None = None  # known_plane_rate of the last state, for the next one
    turn_rad: float = 0.0  # the latest turn since the reference (signed, + is left)
    turning: int = 0


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
        if self._turned(tr, t_s, x, P, gamma, powered_probability < powered_hold):
            tr.non_ballistic, tr.marked_t_s, tr.marked_by = True, t_s, "turn"
            return True
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
            tr.non_ballistic, tr.marked_t_s, tr.marked_by = True, t_s, "rise"
        return tr.non_ballistic

    def _turned(self, tr: TrackPath, t_s: float, x: F, P: F, gamma: float,
                unpowered: bool) -> bool:
        """The turn test of the module docstring, on one fresh state: True once the
        plane has turned beyond a ballistic arc's on ``confirmations`` states in a row."""
        d = self.detect.turn
        x = np.asarray(x, dtype=np.float64)
        if not tr.descending:
            # Unpowered, below the horizontal (as the rise test's apogee); powered, only
            # beyond doubt: a boost climbs, and a first noisy boost state must not arm.
            sure = d.sigma_factor * flight_path_angle_sigma_rad(x, P)
            tr.descending = gamma < 0.0 if unpowered else gamma + sure < 0.0
            if not tr.descending:
                return False
        axis = turn_axis(x)
        sigma = plane_turn_sigma_rad(x, P, axis)
        rate_now = known_plane_rate(x)
        if (tr.ref_normal is None or tr.prev_rate is None
                or t_s - tr.prev_t_s > d.max_gap_s):
            tr.ref_normal, tr.ref_sigma_rad, tr.turning = plane_normal(x), sigma, 0
            tr.prev_t_s, tr.prev_rate, tr.turn_rad = t_s, rate_now, 0.0
            return False
        # Carry the reference forward by what a ballistic arc's plane does meanwhile
        # (trapezoid over the two states).
        rate = 0.5 * (tr.prev_rate + rate_now)
        ref = tr.ref_normal + (t_s - tr.prev_t_s) * rate
        tr.ref_normal = ref / float(np.linalg.norm(ref))
        tr.prev_t_s, tr.prev_rate = t_s, rate_now
        tr.turn_rad = float((plane_normal(x) - tr.ref_normal) @ axis)
        speed = float(np.linalg.norm(x[3:6]))
        _, _, h = earth.ecef_to_geodetic(x[:3][None, :])
        needed = max(d.min_turn_rad, d.sigma_factor * math.hypot(sigma, tr.ref_sigma_rad))
        turned = (abs(tr.turn_rad) >= needed and float(h[0]) <= d.max_altitude_m
                  and speed >= d.min_speed_m_s)
        tr.turning = tr.turning + 1 if turned else 0
        if tr.turning == 0 and sigma < d.rebase_sigma_ratio * tr.ref_sigma_rad:
            # A firmer state, and no turn to lose: it becomes the reference.
            tr.ref_normal, tr.ref_sigma_rad = plane_normal(x), sigma
        return tr.turning >= d.confirmations

    def tracks(self) -> dict[str, TrackPath]:
        """What is known of each track (read-only use: reports and tools)."""
        return dict(self._tracks)

    def non_ballistic(self, track_id: str) -> bool:
        tr = self._tracks.get(track_id)
        return tr is not None and tr.non_ballistic
