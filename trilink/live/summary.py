"""``summary.json`` of a live replay, in the schema of ``trilink run``'s.

Evaluation against truth (which missile a track followed, what really happened) is the
launcher's business, as in the simulation: the nodes' records
(:mod:`trilink.live.record`) say what each node tracked, received and warned, the
scenario's truth and the feed's scans say what happened. Times are seconds after each
launch, on the scenario clock.

Each launch's ``consultation`` block is read as ``trilink run`` reads it: the
consultation first raised about the launch (the earliest raise by any node of a track
that followed it, ``raised`` in the records), followed through merges, with its times
from its opener's desk (``hotline`` in the opener's record). Records older than
version 2 hold neither: the block stays empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from trilink.hotline.wire import origin_of
from trilink.physics import earth
from trilink.sensors import IrScan, RadarScan
from trilink.sim.hotline import launch_block
from trilink.sim.run import PROBE_TIMES_S, TIME_ORIGIN, _warranted, outcomes
from trilink.sim.tracking import first_detections as first_detections
from trilink.sim.truth import Truth
from trilink.tracking.impact import predict_impacts
from trilink.tracking.metrics import nearest_missile, nearest_truth, tracks_per_missile
from trilink.tracking.tracker import EventKind, TrackEvent
from trilink.warning.assessment import WarningLevel

FOLLOW_M = 50e3  # a fused object follows the nearest missile within this (as `trilink run`)


def _nearest(truth: Truth, xyz: Sequence[float], t_s: float) -> int | None:
    s = truth.at(t_s)
    return nearest_missile(s.r_ecef_m, s.alive, np.asarray(xyz, dtype=np.float64), FOLLOW_M)


def _events(record: Mapping[str, Any]) -> list[TrackEvent]:
    empty = np.zeros((0, 0))
    return [TrackEvent(EventKind.UPDATED, str(tid), float(t), np.asarray(xyz), empty, 0.0, "")
            for t, tid, *xyz in record["updates"]]


def launch_consultations(truth: Truth, records: Mapping[str, Mapping[str, Any]]
                         ) -> dict[int, str]:
    """Truth missile index → the consultation raised about it (evaluation only, as
    ``trilink run``'s): per nation the first consultation it raised a track of the
    missile into; of those, the earliest raised; then followed through merges."""
    raised: dict[int, tuple[float, str]] = {}
    for rec in records.values():
        first_of: dict[int, str] = {}
        for _fid, cid, t_s, at in rec.get("raised") or []:
            k = None if at is None else _nearest(truth, at[1:4], at[0])
            if k is None:
                continue
            first = first_of.setdefault(k, str(cid))
            if k not in raised or float(t_s) < raised[k][0]:
                raised[k] = (float(t_s), first)
    out = {}
    for k, (_, cid) in raised.items():
        seen = {cid}
        while (onward := _desk_entry(records, cid).get("merged_into")) and onward not in seen:
            seen.add(onward)
            cid = str(onward)
        out[k] = cid
    return out


def _desk_entry(records: Mapping[str, Mapping[str, Any]], cid: str) -> Mapping[str, Any]:
    rec = records.get(origin_of(cid)) or {}
    return (rec.get("hotline") or {}).get(cid) or {}


def consultation_block(records: Mapping[str, Mapping[str, Any]], cid: str,
                       launch_t_s: float) -> dict[str, Any]:
    """``trilink run``'s per-launch fields (s after the launch) from the opener's record."""
    entry = _desk_entry(records, cid)
    return launch_block(cid, entry.get("opened_s"), entry.get("all_joined_s"),
                        entry.get("statement_released_s"), launch_t_s)


def live_summary(scenario_id: str, seed: int, truth: Truth, scans: Sequence[RadarScan | IrScan],
                 records: Mapping[str, Mapping[str, Any]], **extra: Any) -> dict[str, Any]:
    """The summary of a replay from the nodes' records (see the module docstring)."""
    nations = tuple(records)
    regime = next(iter(records.values()))["policy"] if records else ""
    summary: dict[str, Any] = {"scenario": scenario_id, "seed": seed, "regime": regime,
                               "time_origin": TIME_ORIGIN, **extra, "launches": []}
    detected = first_detections(scans)
    events = {n: _events(records[n]) for n in nations}
    own_tracks = {n: tracks_per_missile(nearest_truth(events[n], truth)) for n in nations}
    truth_outcomes = {n: outcomes(truth, n) for n in nations}
    flight_end = truth.launch_t_s + truth.flights.flight_time_s
    # Per nation: each warning with the missile it was about; each tick's fresh objects
    # by the missile they followed.
    warned: dict[str, list[tuple[dict[str, Any], int | None]]] = {}
    coverage: dict[str, dict[int, list[tuple[float, bool]]]] = {}
    probes: dict[str, dict[tuple[int, float], float]] = {}
    impacts = truth.flights.r_ecef_m[np.arange(truth.size), truth.flights.n_knots - 1]
    consultation_of = launch_consultations(truth, records)
    for n in nations:
        warned[n] = [(w, None if w["at"] is None else _nearest(truth, w["at"][1:4], w["at"][0]))
                     for w in records[n]["warnings"]]
        coverage[n] = {i: [] for i in range(truth.size)}
        probes[n] = {}
        for tick in records[n]["ticks"]:
            now = float(tick["t_s"])
            freshest: dict[int, Any] = {}
            for _fid, t_s, x, p in tick["objects"]:
                k = _nearest(truth, x[:3], t_s)
                if k is not None and (k not in freshest or t_s > freshest[k][0]):
                    freshest[k] = (t_s, x, p)
            for i in range(truth.size):
                if not truth.launch_t_s[i] <= now <= flight_end[i]:
                    continue
                coverage[n][i].append((now, i in freshest))
                for t_probe in PROBE_TIMES_S:
                    key = (i, t_probe)
                    if key in probes[n] or now < truth.launch_t_s[i] + t_probe \
                            or i not in freshest:
                        continue
                    t_s, x, p = freshest[i]
                    pred = predict_impacts(np.asarray(x)[None], np.asarray(p).reshape(1, 9, 9),
                                           np.array([t_s]))[0]
                    enu = earth.ecef_to_enu(impacts[i], pred.lat_rad, pred.lon_rad, 0.0)
                    probes[n][key] = float(np.hypot(enu[0], enu[1]))
    for i, missile in enumerate(truth.ids):
        launch_t = float(truth.launch_t_s[i])
        impact = impacts[i]
        per_nation: dict[str, Any] = {}
        for n in nations:
            def rel(t: float | None, launch_t: float = launch_t) -> float | None:
                return None if t is None else round(t - launch_t, 1)

            tracks = own_tracks[n].get(missile, set())
            first_track = min((e.t_s for e in events[n] if e.track_id in tracks), default=None)
            partner_first = None
            for p in nations:
                if p == n:
                    continue
                for tid in own_tracks[p].get(missile, set()):
                    t = records[n]["first_seen"].get(f"{p}/{tid}")
                    if t is not None and (partner_first is None or t < partner_first):
                        partner_first = float(t)
            known = min((t for t in (first_track, partner_first) if t is not None),
                        default=None)
            alerts = [w for w, k in warned[n] if k == i and w["msg_type"] != "Cancel"]
            first = alerts[0] if alerts else None
            levels = [WarningLevel(w["level"]) for w in alerts]
            top = max(levels, key=lambda lv: lv.rank) if levels else WarningLevel.NONE
            err_km = None
            if first is not None:
                enu = earth.ecef_to_enu(impact, first["impact_lat_rad"], first["impact_lon_rad"],
                                        0.0)
                err_km = round(float(np.hypot(enu[0], enu[1])) / 1e3, 1)
            outcome = truth_outcomes[n][i]
            event = outcome.event_t_s
            lead = None if event is None or first is None else round(event - first["t_s"], 1)
            ticks = [c for t, c in coverage[n][i] if known is not None and t >= known]
            entry: dict[str, Any] = {
                "first_detection_s": rel(detected.get(n, {}).get(missile)),
                "first_track_s": rel(first_track),
                "first_partner_track_s": rel(partner_first),
                "first_warning_s": rel(first["t_s"] if first else None),
                "warning_level": str(top),
                "impact_error_km_at_warning": err_km,
                "false_alarms": sum(1 for lv in levels if not _warranted(lv, outcome)),
                "first_known_s": rel(known),
                "warning_lead_s": lead,
                "missed_warnings": int(event is not None
                                       and (first is None or first["t_s"] > event)),
                "track_continuity": round(sum(ticks) / len(ticks), 3) if ticks else None,
            }
            for t_probe in PROBE_TIMES_S:
                e = probes[n].get((i, t_probe))
                entry[f"impact_error_km_at_{t_probe:.0f}s"] = (
                    None if e is None else round(e / 1e3, 2))
            per_nation[n] = entry
        cid = consultation_of.get(i)
        consult = (launch_block(None) if cid is None
                   else consultation_block(records, cid, launch_t))
        summary["launches"].append({"id": missile, "nations": per_nation,
                                    "consultation": consult})
    return summary


__all__ = ["consultation_block", "first_detections", "launch_consultations", "live_summary"]
