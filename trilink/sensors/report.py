"""Coverage figures of the shipped sensors, as Markdown (used for docs/sensors.md).

``python -m trilink.sensors.report`` prints each radar's Pd-0.9 range to a re-entry
vehicle and a booster (truth RCS values); ``python -m trilink.sim.sensor_report [EVENT]
[--seed N]`` prints it and what every sensor measured of one historical launch (default:
the 2022-10-04 overflight of Japan), which needs the scenario machinery above sensors.
"""

from __future__ import annotations

import argparse
import math

from trilink.sensors.catalogue import RadarSpec, sensor_catalogue
from trilink.sensors.radar import swerling1_snr
from trilink.world.truth import BOOST_RCS_M2, RV_RCS_M2


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


def main(argv: list[str] | None = None) -> None:
    """Print the range table (the event table needs a scenario run:
    ``python -m trilink.sim.sensor_report``)."""
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    print(range_table())


if __name__ == "__main__":
    main()
