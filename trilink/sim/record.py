"""The run record: everything a report needs about one `trilink run`, as plain JSON.

Written to ``DIR/record.json`` beside ``summary.json``, so that a report can be drawn
again (``trilink report DIR``) without running the scenario again. Degrees and km at
this edge (it is a file); times in seconds since the scenario epoch unless named ``_utc``.

Layout (schema_version 1)::

    {"schema_version", "scenario": {"id", "title", "description", "date", "epoch_utc",
                                    "regime", "seed", "nations", "sources"},
     "launches": [{"id", "launch", "missile", "site": {"name", "lat_deg", "lon_deg"},
                   "launch_t_s", "impact_t_s", "apogee_km", "range_km",
                   "impact": {"lat_deg", "lon_deg"}, "published": {...},
                   "failure_t_s",
                   "ground_track": [[t_s, lat_deg, lon_deg, height_km], ...]}],
     "sensors": [{"id", "nation", "kind", "name", "lat_deg", "lon_deg", "max_range_km"}],
     "outages": [{"sensor", "from_s", "to_s" (null: to the end)}],
     "assessments": [{"nation", "t_s", "track", "missile", "level", "reason",
                      "p_land", "p_territorial_sea", "p_eez", "p_overflight",
                      "impact": {"lat_deg", "lon_deg", "t_s", "semi_major_km",
                                 "semi_minor_km", "azimuth_deg"}}],
     "messages": [{"nation", "t_s", "identifier", "msg_type", "level", "track",
                   "missile", "file", "headline", "impact": {...} (as above),
                   "corridor": [[lat_deg, lon_deg], ...] | null}],
     "summary": <summary.json>,
     "consultations": [...] (trilink.sim.hotline.consultation_records),
     "injects": [{"index", "kind", "nation" | "between", "due_t_s", "applied_t_s",
                  "consultation", "to_t_s", "topic", "authority", "parties", "reason"}],
     "cyber": {"campaign", "name", "simulated", "epoch_utc", "regime", "time_origin",
               "nations", "sources", "indicators": [{"id", "address", "name"}],
               "events": [{"t_s", "nation", "action", "address", "indicator", "tlp",
                           "rel_to", "count", "note", "scripted"}],
               "learned": [{"nation", "indicator", "t_s", "from"}],
               "objects_stored", "withheld": [{"t_s", "from", "to", "objects", "reason"}],
               "refused": [{"t_s", "nation", "origin", "problems"}],
               "alerts": [{"t_s", "at", "indicator", "who", "noticed_by",
                           "sightings": [{"nation", "first_seen_utc", "count"}],
                           "audience", "tlp", "shared_with"}]}}

``missile`` is the truth id of the missile a track followed (``null`` for clutter):
evaluation only, the nodes never see it.

Later keys are optional, so that older records still render: ``consultations`` (hotline),
``injects`` (an exercise's injects as scripted and as applied: ``due_t_s`` when due,
``applied_t_s`` when the nation's node applied a hotline request, null for a lost link,
which the bus applies from ``due_t_s`` to ``to_t_s``) and ``cyber`` (only when the scenario
scripts a cyber campaign: :func:`trilink.cyber.campaign.run_campaign`; its times count from
the campaign's own ``epoch_utc``, not the scenario's; ``learned`` has a row per nation and
indicator, ``t_s`` null when the nation never held it; ``scripted`` events are the
exercise script, the others are the record).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from trilink.sensors import sensor_catalogue
from trilink.sensors.catalogue import RadarSpec
from trilink.sim.scenario import HotlineRequestInject, LostLinkInject, Scenario
from trilink.sim.truth import Truth
from trilink.warning.assessment import Assessment
from trilink.warning.cap import file_name
from trilink.warning.center import WarningEvent

SCHEMA_VERSION = 1
TRACK_POINTS = 240


def _impact(a: Assessment) -> dict[str, float]:
    major, minor, az = a.impact.ellipse_95()
    return {
        "lat_deg": round(math.degrees(a.impact.lat_rad), 4),
        "lon_deg": round(math.degrees(a.impact.lon_rad), 4),
        "t_s": round(a.impact.impact_t_s, 1),
        "semi_major_km": round(major / 1e3, 2),
        "semi_minor_km": round(minor / 1e3, 2),
        "azimuth_deg": round(math.degrees(az), 1),
    }


def _ground_track(truth: Truth, i: int) -> list[list[float]]:
    flight = truth.flights.row(i)
    ts = np.linspace(0.0, flight.flight_time_s, TRACK_POINTS)
    lat, lon, h = flight.geodetic_at(ts)
    t0 = float(truth.launch_t_s[i])
    return [[round(t0 + float(t), 1), round(math.degrees(float(a)), 4),
             round(math.degrees(float(b)), 4), round(float(c) / 1e3, 2)]
            for t, a, b, c in zip(ts, lat, lon, h, strict=True)]


def _sensors(nations: Sequence[str], extra: Sequence[RadarSpec]) -> list[dict[str, Any]]:
    out = []
    for spec in (*sensor_catalogue().values(), *extra):
        if spec.nation not in nations or not isinstance(spec, RadarSpec):
            continue
        out.append({"id": spec.id, "nation": spec.nation, "kind": spec.kind,
                    "name": spec.name, "lat_deg": spec.lat_deg, "lon_deg": spec.lon_deg,
                    "max_range_km": spec.max_range_km or 2 * spec.ref_range_km})
    return out


def build_record(
    scenario: Scenario,
    truth: Truth,
    seed: int,
    regime: str,
    nations: Sequence[str],
    assessments: Mapping[str, Sequence[tuple[str, Assessment, int | None]]],
    warnings: Mapping[str, Sequence[tuple[WarningEvent, int | None]]],
    summary: dict[str, Any],
) -> dict[str, Any]:
    """The record of a run (see the module docstring). ``assessments`` and ``warnings``
    carry, per nation, the index of the truth missile each track followed, or None."""
    assert truth.epoch is not None
    launches = {f"{scenario.id}/{launch.id}": launch for launch in scenario.launches}
    rec_launches = []
    for i, missile in enumerate(truth.ids):
        launch = launches.get(missile)
        flight = truth.flights.row(i)
        lat, lon, _ = flight.geodetic_at(np.array([flight.flight_time_s]))
        t = np.linspace(0.0, flight.flight_time_s, 400)
        heights = flight.geodetic_at(t)[2]
        failure = getattr(launch, "failure", None) if launch is not None else None
        rec_launches.append({
            "id": missile,
            "launch": launch.id if launch else missile,
            "missile": launch.missile if launch else "",
            "site": ({"name": launch.site.name, "lat_deg": launch.site.lat_deg,
                      "lon_deg": launch.site.lon_deg} if launch else None),
            "launch_t_s": round(float(truth.launch_t_s[i]), 1),
            "impact_t_s": round(float(truth.launch_t_s[i] + flight.flight_time_s), 1),
            "apogee_km": round(float(heights.max()) / 1e3, 1),
            "range_km": round(float(launch.range_km), 1) if launch else None,
            "impact": {"lat_deg": round(math.degrees(float(lat[0])), 4),
                       "lon_deg": round(math.degrees(float(lon[0])), 4)},
            "published": launch.published.model_dump() if launch else {},
            "failure_t_s": (None if failure is None
                            else round(float(truth.launch_t_s[i]) + float(failure.t_s), 1)),
            "ground_track": _ground_track(truth, i),
        })
    rec_assessments = [
        {"nation": n, "t_s": round(a.t_s, 1), "track": track,
         "missile": None if k is None else truth.ids[k], "level": str(a.level),
         "reason": a.reason, "p_land": a.p_land, "p_territorial_sea": a.p_territorial_sea,
         "p_eez": a.p_eez, "p_overflight": a.p_overflight, "impact": _impact(a)}
        for n in nations for track, a, k in assessments.get(n, ())
    ]
    messages = []
    for n in nations:
        for ev, k in warnings.get(n, ()):
            msg = ev.message
            corridor = None
            for area in msg.areas:
                if "corridor" in area.description:
                    corridor = [[round(p[0], 4), round(p[1], 4)] for p in area.polygon_deg]
            params = dict(msg.parameters)
            messages.append({
                "nation": n, "t_s": round(ev.t_s, 1), "identifier": msg.identifier,
                "msg_type": msg.msg_type, "level": params.get("trilink_level", ""),
                "track": ev.track_id, "missile": None if k is None else truth.ids[k],
                "file": f"alerts/{file_name(msg)}", "headline": msg.headline,
                "impact": _impact(ev.assessment), "corridor": corridor,
            })
    return {
        "schema_version": SCHEMA_VERSION,
        "scenario": {
            "id": scenario.id, "title": scenario.title, "description": scenario.description,
            "date": None if scenario.date is None else scenario.date.isoformat(),
            "epoch_utc": truth.epoch.isoformat().replace("+00:00", "Z"),
            "regime": regime, "seed": seed, "nations": list(nations),
            "sources": list(scenario.sources),
        },
        "launches": rec_launches,
        "sensors": _sensors(nations, truth.sensors),
        "outages": [{"sensor": o.sensor_id, "from_s": round(o.from_s, 1),
                     "to_s": None if math.isinf(o.to_s) else round(o.to_s, 1)}
                    for o in truth.outages],
        "assessments": rec_assessments,
        "messages": messages,
        "summary": summary,
    }


def injects_record(scenario: Scenario, epoch: dt.datetime,
                   injected: Sequence[tuple[int, str, float, str]]) -> list[dict[str, Any]]:
    """The scenario's injects for the record (see the module docstring); ``injected``
    lists the hotline requests as the simulation applied them (index, nation, time,
    consultation)."""
    applied = {k: (t_s, cid) for k, _, t_s, cid in injected}
    out: list[dict[str, Any]] = []
    for k, inj in enumerate(scenario.injects):
        if isinstance(inj, HotlineRequestInject):
            t_s, cid = applied.get(k, (None, None))
            out.append({"index": k, "kind": inj.kind, "nation": inj.nation,
                        "due_t_s": round(inj.time_s(epoch, scenario.launches), 1),
                        "applied_t_s": None if t_s is None else round(t_s, 1),
                        "consultation": cid, "topic": inj.topic,
                        "authority": inj.authority, "parties": list(inj.parties)})
        elif isinstance(inj, LostLinkInject):
            t0, t1 = inj.window_s(epoch, scenario.launches)
            out.append({"index": k, "kind": inj.kind, "between": list(inj.between),
                        "due_t_s": round(t0, 1), "to_t_s": round(t1, 1),
                        "applied_t_s": None, "consultation": None, "reason": inj.reason})
    return out
