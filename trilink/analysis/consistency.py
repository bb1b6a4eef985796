"""Monte Carlo consistency study of the tracking filter on a reference scenario.

Reference: the 2022-10-04 Hwasong-12 seen by the J/FPS-5 at Ominato, over many flights
(pitch, cut-off and heading perturbed around the fitted ones) and radar noise draws.
Each flight's filter is fed its own detections (association is out of scope here) and
started like the tracker starts tracks (two detections). Used by the tests (NEES,
impact-ellipse coverage, PCRLB) and by tools/plot_tracking.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from trilink.physics import earth
from trilink.physics.trajectory import propagate
from trilink.sensors import RadarScan, build_sensor, sensor_catalogue, simulate_scans
from trilink.sim.flights import LaunchFlight, fly_scenarios
from trilink.sim.scenario import load_scenario
from trilink.sim.truth import Truth
from trilink.tracking.imm import RadarGeometry, TrackBank, polar_to_ecef
from trilink.tracking.impact import predict_impacts
from trilink.tracking.tracker import TrackerConfig

RUNS = 400
RADAR = "JPN-FPS5-OMINATO"
SETTLE_UPDATES = 5  # NEES is scored once the track has this many updates


@dataclass
class MonteCarlo:
    truth: Truth
    t_s: np.ndarray  # (K,) scan times with at least one detection
    nees: list[np.ndarray]  # per scan: NEES of the runs updated then
    err2_pos: list[np.ndarray]
    err2_vel: list[np.ndarray]
    scored_runs: list[np.ndarray]  # per scan: which runs the errors above belong to
    run_nees: list[list[float]]  # per run: its NEES at each scored update
    run_times: list[list[float]]  # per run: times of all its detections (seed first)
    coverage: np.ndarray  # (n_runs,) 95 % impact ellipse contains the true impact
    impact_err_m: np.ndarray
    first_t: np.ndarray


def monte_carlo(t_start_s: float = 0.0, n_runs: int = RUNS, seed: int = 7) -> MonteCarlo:
    """Run the study; tracks start at the first detections after ``t_start_s``."""
    lf: LaunchFlight = fly_scenarios([load_scenario("2022-10-04-irbm-overflight")])[0]
    rng = np.random.default_rng(20221004)
    c = lf.fit.controls
    controls = [
        replace(
            c,
            pitch_final_rad=c.pitch_final_rad + np.radians(rng.normal(0, 1.0)),
            energy_fraction=min(1.0, c.energy_fraction - abs(rng.normal(0, 0.01))),
            heading_rad=c.heading_rad + np.radians(rng.normal(0, 1.0)),
        )
        for _ in range(n_runs)
    ]
    flights = propagate([lf.fit.request.profile] * n_runs, controls)
    truth = Truth(tuple(f"run{i:03d}" for i in range(n_runs)), np.zeros(n_runs), flights)
    spec = sensor_catalogue()[RADAR]
    scans = [m for m in simulate_scans([build_sensor(spec)], truth, seed=seed, t0_s=t_start_s)
             if isinstance(m, RadarScan)]
    row_of = {tid: i for i, tid in enumerate(truth.ids)}
    bank = TrackBank()
    track_row = np.full(n_runs, -1)
    n_updates = np.zeros(n_runs, dtype=int)
    first_t = np.full(n_runs, np.nan)
    seed_t = np.full(n_runs, np.nan)
    seed_pos = np.zeros((n_runs, 3))
    seed_cov = np.zeros((n_runs, 3, 3))
    out = MonteCarlo(truth, np.zeros(0), [], [], [], [], [[] for _ in range(n_runs)],
                     [[] for _ in range(n_runs)], np.zeros(n_runs, bool), np.zeros(n_runs), first_t)
    times = []
    geo: RadarGeometry | None = None
    predicted = np.zeros(n_runs, dtype=bool)
    for scan in scans:
        geo = geo or RadarGeometry.at(scan.site_lat_rad, scan.site_lon_rad, scan.site_h_m)
        runs = np.array([row_of[t] for t in scan.truth_ids if t is not None], dtype=int)
        dets = np.array([k for k, t in enumerate(scan.truth_ids) if t is not None], dtype=int)
        if runs.size == 0:
            continue
        R = np.diag(scan.sigma**2)
        for run in runs:
            out.run_times[int(run)].append(float(scan.t_s))
        pos, cov = polar_to_ecef(scan.z[dets], geo, scan.sigma)
        # Tracks start as the tracker starts them: from two detections (seed + pair).
        seedless = np.isnan(seed_t[runs])
        paired = (track_row[runs] < 0) & ~seedless
        if paired.any():
            sel = runs[paired]
            track_row[sel] = bank.add_two_point(seed_pos[sel], seed_cov[sel], seed_t[sel],
                                                pos[paired], cov[paired], scan.t_s,
                                                TrackerConfig().max_force_m_s2)
            first_t[sel] = scan.t_s
        seed_pos[runs[seedless]], seed_cov[runs[seedless]] = pos[seedless], cov[seedless]
        seed_t[runs[seedless]] = scan.t_s
        new = seedless | paired
        old = ~new
        rows = track_row[runs[old]].astype(np.int64)
        bank.predict(rows, scan.t_s)
        bank.update(rows, scan.z[dets[old]], R, geo)
        n_updates[runs[old]] += 1
        state = truth.at(scan.t_s)
        x, P = bank.estimates()
        scored = runs[old][n_updates[runs[old]] >= SETTLE_UPDATES]
        if scored.size:
            tr = track_row[scored]
            e = np.concatenate([x[tr, :3] - state.r_ecef_m[scored],
                                x[tr, 3:6] - state.v_ecef_m_s[scored]], axis=1)
            nees = np.einsum("ni,nij,nj->n", e, np.linalg.inv(P[tr, :6, :6]), e)
            out.nees.append(nees)
            for run, value in zip(scored, nees, strict=True):
                out.run_nees[int(run)].append(float(value))
            out.err2_pos.append(np.sum(e[:, :3] ** 2, axis=1))
            out.err2_vel.append(np.sum(e[:, 3:] ** 2, axis=1))
            out.scored_runs.append(scored)
            times.append(scan.t_s)
        # Impact prediction 60 s after each run's first detection (first scan past it).
        due = runs[old][(scan.t_s - first_t[runs[old]] >= 60.0) & ~predicted[runs[old]]]
        if due.size:
            preds = predict_impacts(x[track_row[due]], P[track_row[due]],
                                    np.full(due.size, scan.t_s))
            for run, pred in zip(due, preds, strict=True):
                f = flights.row(int(run))
                lat, lon, _ = earth.ecef_to_geodetic(f.r_ecef_m[-1])
                out.coverage[run] = pred.contains(float(lat), float(lon))
                enu = earth.ecef_to_enu(f.r_ecef_m[-1], pred.lat_rad, pred.lon_rad, 0.0)
                out.impact_err_m[run] = float(np.hypot(enu[0], enu[1]))
            predicted[due] = True
    out.t_s = np.array(times)
    assert predicted.all(), "every run must reach 60 s of track"
    return out




@dataclass(frozen=True)
class BoundComparison:
    """RMSE of the filter and the PCRLB at the scan times, over the same runs."""

    t_s: np.ndarray
    rmse_pos_m: np.ndarray
    rmse_vel_m_s: np.ndarray
    bound_pos_m: np.ndarray
    bound_vel_m_s: np.ndarray

    @property
    def ratio_pos(self) -> float:
        return float(np.sqrt(np.mean(self.rmse_pos_m**2) / np.mean(self.bound_pos_m**2)))

    @property
    def ratio_vel(self) -> float:
        return float(np.sqrt(np.mean(self.rmse_vel_m_s**2) / np.mean(self.bound_vel_m_s**2)))


def compare_with_pcrlb(mc: MonteCarlo, radar_id: str = RADAR, stride: int = 8,
                       min_runs: int = 10) -> BoundComparison:
    """RMSE against the PCRLB along each run's own detections (every ``stride``-th run).

    The bound of a run uses exactly the detections its filter had (seed and updates)
    and a prior with no position information and a 3 km/s velocity spread.
    """
    from trilink.tracking.pcrlb import pcrlb

    spec = sensor_catalogue()[radar_id]
    assert spec.kind != "space_ir"
    geo = RadarGeometry.at(np.radians(spec.lat_deg), np.radians(spec.lon_deg), spec.height_m)
    sig = [spec.sigma_range_m, spec.sigma_az_mrad * 1e-3, spec.sigma_el_mrad * 1e-3]
    if spec.sigma_range_rate_m_s is not None:
        sig.append(spec.sigma_range_rate_m_s)
    sigma = np.array(sig)
    prior = np.diag([1e12] * 3 + [3000.0**2] * 3)
    bounds: dict[tuple[int, float], tuple[float, float]] = {}
    for run in range(0, mc.truth.size, stride):
        ts = np.array(mc.run_times[run])
        r, v = mc.truth.flights.row(run).state_at(ts)
        bound = pcrlb(ts, np.concatenate([r, v], axis=1), geo, sigma, prior)
        for t, b in zip(ts, bound, strict=True):
            bounds[(run, float(t))] = (float(np.trace(b[:3, :3])), float(np.trace(b[3:, 3:])))
    rows = []
    for k, t in enumerate(mc.t_s):
        picked = [(i, bounds[(int(run), float(t))])
                  for i, run in enumerate(mc.scored_runs[k]) if (int(run), float(t)) in bounds]
        if len(picked) < min_runs:
            continue
        idx = [i for i, _ in picked]
        rows.append((
            float(t),
            float(np.sqrt(np.mean(mc.err2_pos[k][idx]))),
            float(np.sqrt(np.mean(mc.err2_vel[k][idx]))),
            float(np.sqrt(np.mean([b[0] for _, b in picked]))),
            float(np.sqrt(np.mean([b[1] for _, b in picked]))),
        ))
    arr = np.array(rows)
    return BoundComparison(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4])
