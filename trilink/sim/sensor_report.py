"""What every sensor measured of one historical launch, as Markdown (docs/sensors.md).

``python -m trilink.sim.sensor_report [EVENT] [--seed N]`` prints the radars' range
table (:func:`trilink.sensors.report.range_table`) and the event's table (default: the
2022-10-04 overflight of Japan). It flies the scenario, so it lives with the simulation.
"""

from __future__ import annotations

import argparse
import math

from trilink.physics.earth import geodesic_inverse
from trilink.sensors.catalogue import build_sensor, sensor_catalogue
from trilink.sensors.infrared import IrScan, LaunchReport
from trilink.sensors.radar import Radar, RadarScan
from trilink.sensors.report import range_table
from trilink.sensors.scans import simulate_scans
from trilink.sim.flights import fly_scenarios
from trilink.sim.scenario import load_scenario
from trilink.sim.truth import Truth


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
