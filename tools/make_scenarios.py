"""Writes trilink/scenarios/EVENT_ID.yaml for every row of trilink/data/launches.csv.

The launch facts come from the table (a copy of shared/reference/launches.csv, with its
sources). The table gives no azimuth, so each event names a reference point read off
its published impact description (IMPACT_REFERENCE below); the azimuth is the WGS84
geodesic bearing from the launch site to that point. The two false-warning events model
what went wrong (FAILURES, OUTAGES, with the facts used and the assumptions made in
MODELLING and their extra sources in EXTRA_SOURCES; docs/scenarios.md). Run from the
repository root:

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


# A launch's failure (seconds after launch). 2022-11-03: the flight is fitted to the
# published figures of the failed flight; the fitted hwasong-17 engine cut-off (334.9 s:
# stage 1 burns 0-140 s, stage 2 from 140 s) is the loss of thrust reported after the
# stage separations, and the vehicle breaks up there.
FAILURES: dict[str, dict[str, object]] = {
    "2022-11-03-icbm-failed": {
        "t_s": 335.0,
        "kind": "breakup",
        "note": (
            "Loss of thrust after the first- and second-stage separations (ROK JCS), at the"
            " fitted cut-off of the failed flight (334.9 s); the breakup there, ending the"
            " radar picture ('disappeared from radar over the Sea of Japan', Japan MOD), is"
            " our assumption: the record does not say when the radars lost it."),
    },
}

# Radars that reported nothing (seconds after the scenario epoch = the launch).
OUTAGES: dict[str, list[dict[str, object]]] = {
    "2023-04-13-hwasong18": [{
        "nation": "JPN",
        "from_s": 75.0,
        "reason": (
            "Japan's radar lost the missile 'immediately after detection' (Matsuno). Assumed:"
            " 75 s after launch, ~20 s after Japan's first detection in this model (57 s,"
            " JMSDF Aegis in the Sea of Japan); every Japanese radar; never regained (no end)."),
    }],
}

MODELLING: dict[str, str] = {
    "2022-11-03-icbm-failed": (
        " Failure modelled (false-warning case). Truth flight: fitted to the published figures"
        " of the failed flight (Japan MOD: apogee ~2,000 km, range ~750 km; ROK JCS: 1,920 km,"
        " 760 km, Mach 15), which describe what the missile did; what it was meant to do is"
        " not known. Bearing: toward Miyagi, over which Japan predicted an overflight (J-Alert"
        " to Miyagi, Yamagata and Niigata, retracted). The ROK JCS said it lost thrust after"
        " normal first- and second-stage separations: the fit's engine cut-off, 334.9 s after"
        " launch (stage 2 ignites at 140 s), is that loss of thrust, and the vehicle breaks up"
        " at 335 s (assumption: the record does not say when radars lost it; Japan said it"
        " disappeared from radar over the Sea of Japan). After the breakup no radar sees it;"
        " the debris fall ballistically into the Sea of Japan ~750 km from Sunan ~30 min"
        " after launch (Japan's Coast Guard reported the fall about half an hour after the"
        " launch). Japan's J-Alert came ~8-9 min after the 07:39-07:40 JST launch."),
    "2023-04-13-hwasong18": (
        " Track loss modelled (false-warning case). Record: Japan detected the missile right"
        " after the 07:22 JST launch but it 'disappeared from Japan's radar immediately after"
        " detection' (Chief Cabinet Secretary Matsuno); on that limited information the"
        " J-Alert for Hokkaido went out at 07:55 JST (~33 min after launch) predicting a fall"
        " around 08:00, and was called off at 08:15-08:16 via Em-Net after further analysis;"
        " the missile fell in the Sea of Japan outside Japan's EEZ (Hamada). Modelled as an"
        " outage of every Japanese radar from 75 s after launch to the end of the flight."
        " Assumptions: 'immediately after detection' read as ~20 s after Japan's first"
        " detection in this model (57 s, JMSDF Aegis in the Sea of Japan); all of Japan's"
        " radars (the record speaks of 'Japan's radar'); never regained (the record does not"
        " say it was). US and ROK radars are unaffected; what Japan's node gets from them"
        " follows the agreements in force that day (US-Japan alliance; ROK via GSOMIA, not in"
        " real time)."),
}

TITLE_NOTES: dict[str, str] = {
    "2022-11-03-icbm-failed": " - failed in flight; overflight J-Alert retracted",
    "2023-04-13-hwasong18": " - Japan's radar lost it; Hokkaido J-Alert withdrawn",
}

EXTRA_SOURCES: dict[str, list[str]] = {
    "2022-11-03-icbm-failed": [
        "https://world.kbs.co.kr/special/northkorea/contents/news/contents_view.htm?lang=e&current_page=1&No=430795",
        "https://ajw-origin.potaufeu.asahi.com/ajw/articles/14759467",
        "https://www.straitstimes.com/asia/east-asia/north-korea-fires-multiple-ballistic-missiles-triggering-shelter-alerts-in-japan",
        "https://www.inform.kz/en/north-korea-fires-3-ballistic-missiles-1-disappears-from-radar_a3997187",
    ],
    "2023-04-13-hwasong18": [
        "https://fxempire.com/news/article/japan-stands-by-cancelled-missile-alert-sent-to-millions-of-residents-1336260",
        "https://www.tellerreport.com/life/2023-04-13-north-korea-%22missile%22-j-alert-issued-----was-the-response-appropriate-.ryGmF1DBz2.html",
    ],
}


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
            if event in FAILURES:
                launch["failure"] = FAILURES[event]
            launches.append(launch)
        doc = {
            "schema_version": 1,
            "id": event,
            "title": (f"{row['missile']} from {row['launch_site']}, {row['launch_time_utc']}"
                      + TITLE_NOTES.get(event, "")),
            "description": (
                f"Historical replay of {event}. Azimuth: {how}." + MODELLING.get(event, "")
                if not math.isnan(az) else ""
            ),
            "nations": ["USA", "JPN", "KOR"],
            "date": row["launch_time_utc"][:10],
            "launches": launches,
            "sources": row["sources"].split() + EXTRA_SOURCES.get(event, []),
        }
        if event in OUTAGES:
            doc["outages"] = OUTAGES[event]
            doc["sources"] = doc.pop("sources")  # keep sources last
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
