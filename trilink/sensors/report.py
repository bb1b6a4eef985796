"""Coverage figures of the shipped sensors, as Markdown (used for docs/sensors.md).

``python -m trilink.sensors.report [EVENT] [--seed N]`` prints (1) each radar's Pd-0.9
range to a re-entry vehicle and a booster (truth RCS values) and (2) what every sensor
measured of one historical launch (default: the 2022-10-04 overflight of Japan).
"""

from __future__ import annotations

import argparse
import math

from trilink.physics.earth import geodesic_inverse
from trilink.sensors.catalogue import RadarSpec, build_sensor, sensor_catalogue
from trilink.sensors.infrared import IrScan, LaunchReport
from trilink.sensors.radar import Radar, RadarScan, swerling1_snr
from trilink.sensors.scans import simulate_scans
from trilink.sim.flights import fly_scenarios
from trilink.sim.scenario import load_scenario
from trilink.sim.truth import BOOST_RCS_M2, RV_RCS_M2, Truth


def pd_range_km(spec: RadarSpec, rcs_m2: float) -> float:
    """Range (km) at which Pd = pd_ref for a target of rcs_m2 (capped by the instrumented
    range): R_ref·(σ/σ_ref)^(1/4)."""
    r = float(spec.ref_range_km * (rcs_m2 / spec.ref_rcs_m2) ** 0.25)
    return r if spec.max_range_km is None else min(r, spec.max_range_km)


def range_table() -> str:
    snr = {s.id: swerling1_snr(s.pd_ref, s.pfa) for s in sensor_catalogue().values()
           if isinstance(s, RadarSpec)}
    lines = [
        "| sensor | az sector ° | el ° | ref km (0.1 m²) | SNR_ref dB "
        f"| RV {RV_RCS_M2} m² km | booster {BOOST_RCS_M2} m² km "
        "| σ r m / az, el mrad | revisit s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for spec in sensor_catalogue().values():
        if not isinstance(spec, RadarSpec):
            continue
        lines.append(
            f"| {spec.id} | {spec.az_min_deg:g}–{spec.az_max_deg:g} "
            f"| {spec.el_min_deg:g}–{spec.el_max_deg:g} | {spec.ref_range_km:,.0f} "
            f"| {10 * math.log10(snr[spec.id]):.1f} | {pd_range_km(spec, RV_RCS_M2):,.0f} "
            f"| {pd_range_km(spec, BOOST_RCS_M2):,.0f} | {spec.sigma_range_m:g} / "
            f"{spec.sigma_az_mrad:g}, {spec.sigma_el_mrad:g} | {spec.revisit_s:g} |")
    return "\n".join(lines)


def event_table(event: str, seed: int) -> str:
    flights = fly_scenarios([load_scenario(event)])
    truth = Truth.from_launch_flights(flights[:1])
    t_launch = float(truth.launch_t_s[0])
    sensors = [build_sensor(s) for s in sensor_catalogue().values()]
    out = simulate_scans(sensors, truth, seed)
    lines = [
        f"`{event}` ({flights[0].launch.missile}, burnout "
        f"{float(truth.flights.burnout_s[0]):.0f} s, impact {truth.end_t_s:.0f} s), seed {seed}:",
        "",
        "| sensor | detections | false alarms | first s | range at first km "
        "| last s | longest range km |",
        "|---|---|---|---|---|---|---|",
    ]
    for sensor in sensors:
        mine = [m for m in out if m.sensor_id == sensor.id and not isinstance(m, LaunchReport)]
        hits = [(m.t_s, j) for m in mine for j, i in enumerate(m.truth_ids) if i is not None]
        n_fa = sum(i is None for m in mine for i in m.truth_ids)
        if not hits:
            lines.append(f"| {sensor.id} | 0 | {n_fa} | – | – | – | – |")
            continue
        if isinstance(sensor, Radar):
            ranges = [float(m.z[j, 0]) / 1e3 for m in mine if isinstance(m, RadarScan)
                      for j, i in enumerate(m.truth_ids) if i is not None]
            first_r, max_r = f"{ranges[0]:,.0f}", f"{max(ranges):,.0f}"
        else:
            first_r = max_r = "(angles)"
        lines.append(
            f"| {sensor.id} | {len(hits)} | {n_fa} | {hits[0][0] - t_launch:.0f} | {first_r} "
            f"| {hits[-1][0] - t_launch:.0f} | {max_r} |")
    for rep in (m for m in out if isinstance(m, LaunchReport)):
        site = flights[0].launch.site
        _, d = geodesic_inverse(math.radians(site.lat_deg), math.radians(site.lon_deg),
                                rep.launch_lat_rad, rep.launch_lon_rad)
        lines += [
            "",
            f"{rep.sensor_id} launch report at {rep.t_report_s - t_launch:.0f} s: position "
            f"error {float(d) / 1e3:.1f} km (σ {rep.sigma_position_m / 1e3:.1f} km per axis), "
            f"time error {rep.launch_t_s - t_launch:+.1f} s (σ {rep.sigma_time_s:.1f} s).",
        ]
    ir_frames = sum(isinstance(m, IrScan) for m in out)
    lines += ["", f"{len(out)} measurements ({ir_frames} infrared frames)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("event", nargs="?", default="2022-10-04-irbm-overflight")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(range_table())
    print()
    print(event_table(args.event, args.seed))


if __name__ == "__main__":
    main()
