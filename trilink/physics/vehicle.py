"""Vectorised powered-flight model: thrust, mass and drag for a batch of missiles.

Each row of a :class:`VehicleBatch` is one missile with its own profile, launch site,
heading and guidance parameters, so salvos of mixed types propagate together.
Stages are padded to the longest stack in the batch (absent stages burn for 0 s).

Guidance programme (per row): the thrust points along the geocentric vertical for
``vertical_rise_s``, then its elevation above the local geocentric horizontal falls
linearly to ``pitch_final_rad`` at ``pitch_end_s`` and is held there; the thrust
stays in the plane through the Earth's centre, the launch site and the launch
heading (a plane fixed in ECEF). Energy is managed by cutting the engines off at
``energy_fraction`` of the total nominal burn time (thrust termination).

Glide types (a profile with a ``glide`` block): after burnout, once below the glider's
pull-up height and while faster than its end speed, lift acts in the flight plane,
perpendicular to the velocity and upward, of magnitude u · (L/D) · drag, with the command
u = clip(0.5 − γ / 0.05 rad, 0, 1) on the flight-path angle γ: full lift when diving,
none when climbing, so the glider pulls up and holds a near-level path. Rows without a
glide block get exactly zero lift.

Lateral manoeuvre: a glider's launch controls may carry a bank angle (``glide_bank_rad``,
positive to the right of the direction of flight). While gliding, the lift vector is
rolled by that angle about the velocity: ``cos(bank)`` of it stays in the vertical as
above, ``sin(bank)`` pushes sideways, so the glider turns off its launch plane (and,
with less lift upward, sinks sooner). With every bank zero the lift is exactly the
in-plane lift above.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trilink.physics import atmosphere, earth
from trilink.physics.missiles import MissileProfile

F = NDArray[np.float64]


@dataclass(frozen=True)
class LaunchControls:
    """What a launch crew and the guidance choose for one missile.

    Angles in radians; the site is geodetic (WGS84).
    """

    lat_rad: float
    lon_rad: float
    heading_rad: float
    pitch_final_rad: float
    energy_fraction: float
    height_m: float = 0.0
    glide_bank_rad: float = 0.0  # lateral manoeuvre of a glide vehicle (module docstring)


@dataclass(frozen=True)
class VehicleBatch:
    """Arrays describing N missiles (rows) with at most S stages (columns)."""

    stage_start_s: F  # (N, S)
    stage_end_s: F  # (N, S) nominal end of each stage's burn
    stage_mass0_kg: F  # (N, S) stack mass at stage ignition
    mass_flow_kg_s: F  # (N, S)
    isp_sl_s: F  # (N, S)
    isp_vac_s: F  # (N, S)
    area_m2: F  # (N, S)
    burnout_s: F  # (N,) engine cut-off time
    payload_kg: F  # (N,)
    rv_beta_kg_m2: F  # (N,)
    boost_cd: F  # (N,)
    vertical_rise_s: F  # (N,)
    pitch_end_s: F  # (N,)
    pitch_final_rad: F  # (N,)
    plane_normal: F  # (N, 3) unit normal of the flight plane, ECEF
    r0_ecef_m: F  # (N, 3) launch point
    lift_to_drag: F | None = None  # (N,) 0 where no glide vehicle; None: no row glides
    glide_pull_up_m: F | None = None  # (N,)
    glide_end_speed_m_s: F | None = None  # (N,)
    glide_bank_rad: F | None = None  # (N,) None: no glider banks

    @property
    def size(self) -> int:
        return int(self.burnout_s.shape[0])

    def event_times_s(self) -> F:
        """(N, E) times where the thrust or its direction changes non-smoothly."""
        return np.concatenate(
            [
                self.vertical_rise_s[:, None],
                self.pitch_end_s[:, None],
                self.stage_end_s,
                self.burnout_s[:, None],
            ],
            axis=1,
        )

    @classmethod
    def build(
        cls, profiles: Sequence[MissileProfile], controls: Sequence[LaunchControls]
    ) -> VehicleBatch:
        if len(profiles) != len(controls):
            raise ValueError("one profile per launch is needed")
        n = len(profiles)
        s_max = max(len(p.stages) for p in profiles)
        shape = (n, s_max)
        start = np.zeros(shape)
        end = np.zeros(shape)
        mass0 = np.zeros(shape)
        mdot = np.zeros(shape)
        isp_sl = np.ones(shape)
        isp_vac = np.ones(shape)
        area = np.ones(shape)
        burnout = np.zeros(n)
        for i, (p, c) in enumerate(zip(profiles, controls, strict=True)):
            t = 0.0
            remaining = p.launch_mass_kg
            for j, st in enumerate(p.stages):
                start[i, j], end[i, j] = t, t + st.burn_time_s
                mass0[i, j] = remaining
                mdot[i, j] = st.mass_flow_kg_s
                isp_sl[i, j], isp_vac[i, j] = st.isp_sl_s, st.isp_vac_s
                area[i, j] = np.pi * st.diameter_m**2 / 4.0
                t += st.burn_time_s
                remaining -= st.propellant_kg + st.dry_kg
            for j in range(len(p.stages), s_max):
                start[i, j] = end[i, j] = t
            burnout[i] = float(np.clip(c.energy_fraction, 0.0, 1.0)) * p.total_burn_time_s
        lat = np.array([c.lat_rad for c in controls])
        lon = np.array([c.lon_rad for c in controls])
        h0 = np.array([c.height_m for c in controls])
        heading = np.array([c.heading_rad for c in controls])
        r0 = earth.geodetic_to_ecef(lat, lon, h0)
        basis = earth.enu_basis(lat, lon)
        d0 = np.sin(heading)[:, None] * basis[:, 0, :] + np.cos(heading)[:, None] * basis[:, 1, :]
        normal = np.cross(r0, d0)
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        gliders = [p.glide for p in profiles]
        any_glider = any(g is not None for g in gliders)
        ld = np.array([0.0 if g is None else g.lift_to_drag for g in gliders])
        pull_up = np.array([0.0 if g is None else g.pull_up_height_m for g in gliders])
        end_speed = np.array([np.inf if g is None else g.end_speed_m_s for g in gliders])
        if any(g is None and c.glide_bank_rad != 0.0
               for g, c in zip(gliders, controls, strict=True)):
            raise ValueError("a bank angle needs a glide vehicle: other types have no lift")
        bank = np.array([c.glide_bank_rad for c in controls])
        if not np.all(np.isfinite(bank)) or np.any(np.abs(bank) >= 0.5 * np.pi):
            raise ValueError("a glide bank angle must be finite and within +-90 degrees")
        return cls(
            stage_start_s=start,
            stage_end_s=end,
            stage_mass0_kg=mass0,
            mass_flow_kg_s=mdot,
            isp_sl_s=isp_sl,
            isp_vac_s=isp_vac,
            area_m2=area,
            burnout_s=burnout,
            payload_kg=np.array([p.payload_kg for p in profiles]),
            rv_beta_kg_m2=np.array([
                p.rv_ballistic_coefficient_kg_m2 if p.glide is None
                else p.glide.ballistic_coefficient_kg_m2 for p in profiles]),
            boost_cd=np.array([p.boost_drag_coefficient for p in profiles]),
            vertical_rise_s=np.array([p.vertical_rise_s for p in profiles]),
            pitch_end_s=np.array([p.pitch_end_s for p in profiles]),
            pitch_final_rad=np.array([c.pitch_final_rad for c in controls]),
            plane_normal=normal,
            r0_ecef_m=r0,
            lift_to_drag=ld if any_glider else None,
            glide_pull_up_m=pull_up if any_glider else None,
            glide_end_speed_m_s=end_speed if any_glider else None,
            glide_bank_rad=bank if np.any(bank != 0.0) else None,
        )

    def acceleration(
        self,
        t_s: F,
        r: F,
        v: F,
        rows: NDArray[np.intp] | None = None,
        phase_s: F | None = None,
    ) -> F:
        """Total acceleration (m/s², ECEF frame, rotating) of the given rows at t_s.

        ``t_s`` is time since each row's own launch; ``rows`` selects a subset
        (defaults to all rows, in order). ``phase_s`` is a time strictly inside the
        current integration step: the stage and engine state are taken there, so an
        evaluation at a step's end that lands on a staging event still sees the stage
        the step belongs to (one-sided limit), keeping the integrator fourth order.
        """
        idx = np.arange(self.size) if rows is None else rows
        phase = t_s if phase_s is None else phase_s
        r_norm = np.sqrt(np.einsum("ij,ij->i", r, r))
        r_hat = r / r_norm[:, None]
        # Height for the atmosphere: radial height above the ellipsoid surface point
        # under r, within metres of the geodetic height at the heights that matter.
        sin2_lat = r_hat[:, 2] ** 2
        surface_m = earth.WGS84_A_M * np.sqrt(
            (1.0 - earth.WGS84_E2) / (1.0 - earth.WGS84_E2 * (1.0 - sin2_lat))
        )
        rho, pressure = atmosphere.density_and_pressure(r_norm - surface_m)
        speed = np.sqrt(np.einsum("ij,ij->i", v, v))

        boosting = phase < self.burnout_s[idx]
        # Active stage: the last one that has started (stages are contiguous in time).
        stage = (phase[:, None] >= self.stage_start_s[idx]).sum(axis=1) - 1
        stage = np.clip(stage, 0, self.stage_start_s.shape[1] - 1)
        j = idx, stage
        mdot = np.where(boosting, self.mass_flow_kg_s[j], 0.0)
        mass = np.where(
            boosting,
            self.stage_mass0_kg[j] - mdot * (t_s - self.stage_start_s[j]),
            self.payload_kg[idx],
        )
        p_ratio = pressure / atmosphere.SEA_LEVEL_PRESSURE_PA
        isp = self.isp_vac_s[j] - (self.isp_vac_s[j] - self.isp_sl_s[j]) * p_ratio
        accel_thrust = mdot * isp * earth.G0_M_S2 / mass

        n = self.plane_normal[idx]
        horizontal = np.stack(
            [
                n[:, 1] * r_hat[:, 2] - n[:, 2] * r_hat[:, 1],
                n[:, 2] * r_hat[:, 0] - n[:, 0] * r_hat[:, 2],
                n[:, 0] * r_hat[:, 1] - n[:, 1] * r_hat[:, 0],
            ],
            axis=1,
        )
        horizontal /= np.sqrt(np.einsum("ij,ij->i", horizontal, horizontal))[:, None]
        t_v, t_p = self.vertical_rise_s[idx], self.pitch_end_s[idx]
        frac = np.clip((t_s - t_v) / (t_p - t_v), 0.0, 1.0)
        elevation = 0.5 * np.pi - frac * (0.5 * np.pi - self.pitch_final_rad[idx])
        a = (accel_thrust * np.cos(elevation))[:, None] * horizontal + (
            accel_thrust * np.sin(elevation)
        )[:, None] * r_hat

        beta = np.where(
            boosting, mass / (self.boost_cd[idx] * self.area_m2[j]), self.rv_beta_kg_m2[idx]
        )
        a -= (0.5 * rho * speed / beta)[:, None] * v
        if (self.lift_to_drag is not None and self.glide_pull_up_m is not None
                and self.glide_end_speed_m_s is not None):
            a += self._lift(idx, boosting, r_norm - surface_m, r_hat, v, speed, rho, beta, n)
        a += earth.gravity_j2_ecef(r)
        a += earth.rotating_frame_acceleration(r, v)
        total: F = a
        return total

    def _lift(self, idx: NDArray[np.intp], boosting: NDArray[np.bool_], h_m: F, r_hat: F,
              v: F, speed: F, rho: F, beta: F, normal: F) -> F:
        """Lift of glide vehicles (zero for other rows); see the module docstring."""
        assert self.lift_to_drag is not None and self.glide_pull_up_m is not None
        assert self.glide_end_speed_m_s is not None
        ld = self.lift_to_drag[idx]
        gliding = ((ld > 0.0) & ~boosting & (h_m < self.glide_pull_up_m[idx])
                   & (speed > self.glide_end_speed_m_s[idx]))
        out = np.zeros_like(v)
        if not gliding.any():
            return out
        g = np.flatnonzero(gliding)
        vs = np.maximum(speed[g], 1.0)
        sin_gamma = np.einsum("ij,ij->i", r_hat[g], v[g]) / vs
        command = np.clip(0.5 - np.arcsin(np.clip(sin_gamma, -1.0, 1.0)) / 0.05, 0.0, 1.0)
        up = np.cross(v[g], normal[g])  # in the flight plane, perpendicular to v, upward
        up /= np.maximum(np.linalg.norm(up, axis=1, keepdims=True), 1e-9)
        drag = 0.5 * rho[g] * vs * vs / beta[g]
        if self.glide_bank_rad is not None:
            bank = self.glide_bank_rad[idx][g]
            side = np.cross(v[g] / vs[:, None], up)  # perpendicular to v and up: the right
            up = np.cos(bank)[:, None] * up + np.sin(bank)[:, None] * side
        out[g] = (command * ld[g] * drag)[:, None] * up
        return out
