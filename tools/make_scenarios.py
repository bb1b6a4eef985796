"""Writes trilink/scenarios/EVENT_ID.yaml for every row of trilink/data/launches.csv.

The launch facts come from the table (a copy of shared/reference/launches.csv, with its
sources). The table gives no azimuth, so each event names a reference point read off
its published impact description (IMPACT_REFERENCE below); the azimuth is the WGS84
geodesic bearing from the launch site to that point. Run from the repository root:

    python tools/make_scenarios.py
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import yaml
from pyproj import Geod

ROOT = Path(__file__).resolve().parents[1]
GEOD = Geod(ellps="WGS84")

# event_id: (missile profile, reference lat, lon, how the point was read, extra fields)
IMPACT_REFERENCE: dict[str, tuple[str, float, float, str, dict[str, object]]] = {
    "2017-05-14-hwasong12": (
        "hwasong-12", 41.9, 134.1,
        "~400 km east of the peninsula, outside Japan's EEZ: taken north-east, toward Peter the"
        " Great Gulf, as the US and Russian statements on its nearness to Russia suggest", {}),
    "2017-07-04-hwasong14": (
        "hwasong-14", 39.9, 136.2, "~300 km west of the Oga Peninsula (39.88N 139.72E)", {}),
    "2017-07-28-hwasong14": (
        "hwasong-14", 43.1, 138.2, "~150 km north-west of Okushiri Island (42.15N 139.47E)",
        {"payload_kg": 300}),
    "2017-08-29-hwasong12-overflight": (
        "hwasong-12", 41.93, 143.25,
        "over the Oshima Peninsula and Cape Erimo (41.93N 143.25E): bearing through Cape Erimo",
        {}),
    "2017-09-15-hwasong12-overflight": (
        "hwasong-12", 41.93, 143.25,
        "over the Oshima Peninsula and Cape Erimo (41.93N 143.25E): bearing through Cape Erimo",
        {}),
    "2017-11-29-hwasong15": (
        "hwasong-15", 40.8, 137.0, "~250 km west of Aomori's Sea of Japan coast (~139.9E)", {}),
    "2022-10-04-irbm-overflight": (
        "hwasong-12", 40.82, 140.74, "passed over Aomori: bearing through Aomori city", {}),
    "2022-11-02-srbm-south-of-nll": (
        "kn-23", 38.38, 129.19,
        "26 km south of the NLL (~38.61N), 57 km east of Sokcho (38.21N 128.59E)", {}),
    "2022-11-03-icbm-failed": (
        "hwasong-17", 38.3, 140.9,
        "nominal flight toward Miyagi, over which Japan predicted an overflight", {}),
    "2022-11-03-srbm-koksan": ("kn-23", 39.1, 132.5, "Sea of Japan, east of the launch", {}),
    "2022-11-18-hwasong17": (
        "hwasong-17", 41.5, 137.0, "~200 km west of Oshima-Oshima (41.51N 139.37E)", {}),
    "2023-02-18-hwasong15": (
        "hwasong-15", 41.5, 137.0, "~200 km west of Oshima-Oshima (41.51N 139.37E)", {}),
    "2023-03-16-hwasong17": (
        "hwasong-17", 41.7, 136.4, "~250 km off Hokkaido, west of Oshima-Oshima (Japan's MoD)",
        {}),
    "2023-04-13-hwasong18": (
        "hwasong-18", 42.9, 136.9,
        "Sea of Japan east-north-east of the launch, past the stage drop points KCNA gave (off"
        " Kimchaek and Hwadae), outside Japan's EEZ; apogee not published: 3,000 km assumed (a"
        " lofted test, as the other ICBM tests)",
        {"apogee_km": 3000.0, "apogee_assumed": True}),
    "2023-12-17-srbm": ("kn-23", 39.3, 130.4, "Sea of Japan, outside Japan's EEZ", {}),
}

SALVOS = {"2022-11-03-srbm-koksan": ["2022-11-03T12:34:00Z", "2022-11-03T12:39:00Z",
                                      "2022-11-03T12:42:00Z"]}


def _num(text: str) -> float | None:
    return float(text) if text.strip() else None


def main() -> None:
    rows = list(csv.DictReader((ROOT / "trilink/data/launches.csv").open(encoding="utf-8")))
    out_dir = ROOT / "trilink/scenarios"
    for row in rows:
        event = row["event_id"]
        missile, lat, lon, how, extra = IMPACT_REFERENCE[event]
        lat0, lon0 = float(row["launch_lat"]), float(row["launch_lon"])
        az, _, _ = GEOD.inv(lon0, lat0, lon, lat)
        apogee = extra.get("apogee_km", _num(row["apogee_km"]))
        times = SALVOS.get(event, [row["launch_time_utc"].replace("Z", ":00Z")])
        launches = []
        for i, t in enumerate(times, start=1):
            launch: dict[str, object] = {
                "id": f"L{i}",
                "time_utc": t,
                "site": {"name": row["launch_site"], "lat_deg": lat0, "lon_deg": lon0},
                "missile": missile,
                "apogee_km": apogee,
                "range_km": float(row["range_km"]),
                "azimuth_deg": round(az % 360.0, 2),
            }
            for key in ("payload_kg", "apogee_assumed"):
                if key in extra:
                    launch[key] = extra[key]
            launch["published"] = {
                k: v for k, v in {
                    "apogee_km": _num(row["apogee_km"]),
                    "range_km": _num(row["range_km"]),
                    "flight_time_s": _num(row["flight_time_s"]),
                    "figures_from": row["figures_from"],
                    "impact": row["impact_description"],
                    "public_warning": row["public_warning"],
                    "notes": row["notes"],
                }.items() if v not in (None, "")
            }
            launches.append(launch)
        doc = {
            "schema_version": 1,
            "id": event,
            "title": f"{row['missile']} from {row['launch_site']}, {row['launch_time_utc']}",
            "description": (
                f"Historical replay of {event}. Azimuth: {how}."
                if not math.isnan(az) else ""
            ),
            "nations": ["USA", "JPN", "KOR"],
            "date": row["launch_time_utc"][:10],
            "launches": launches,
            "sources": row["sources"].split(),
        }
        header = (
            f"# trilink scenario: {event}\n"
            "# Generated by tools/make_scenarios.py from trilink/data/launches.csv\n"
            "# (a copy of the project's reference table; sources listed below).\n"
        )
        text = header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
        (out_dir / f"{event}.yaml").write_text(text, encoding="utf-8")
        print(f"wrote {event}.yaml  azimuth {az % 360:.2f} deg")


if __name__ == "__main__":
    main()
