"""What a live node did, kept for its summary: own track updates, warnings, assessments.

A :class:`NodeRecorder` watches a :class:`~trilink.live.node.LiveNode`'s inputs and
outputs (it decides nothing) and is written on stop as ``<NATION>.node.json``; the
launcher of a replay (``trilink live``) turns the three records and the scenario's truth
into ``summary.json`` (:mod:`trilink.live.summary`). Times are node seconds (scenario
seconds in a replay).

Record version 2 adds what the node's hotline did: ``raised`` (each significant track
the node raised on the hotline: ``[fused id, consultation id, node s, [t_s, x, y, z]
of the object as assessed or null]``) and ``hotline`` (each consultation the node opened,
from its desk on stop: ``{id: {opener, parties, topic, trigger, state, opened_s,
all_joined_s, statement_released_s, concluded_s, lapsed_s, merged_into}}``, node
seconds). :func:`read_record` reads version 1 records too (without those two).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from trilink.fileio import write_text_atomic
from trilink.node import NationalNode, NodeOutput
from trilink.sensors import IrScan, RadarScan
from trilink.tracking.tracker import EventKind, TrackEvent

RECORD_VERSION = 2
READABLE_VERSIONS = (1, 2)


class NodeRecorder:
    """See the module docstring."""

    def __init__(self, nation: str) -> None:
        self.nation = nation
        self.updates: list[list[Any]] = []  # [t_s, track_id, x, y, z] of own updates
        self.warnings: list[dict[str, Any]] = []
        self.ticks: list[dict[str, Any]] = []  # the fresh picture at each assessment
        self.cap_files: list[list[Any]] = []  # [file name, node time, wall time written]
        self.consultations: list[list[Any]] = []  # [consultation id, node time]
        # [fused id, consultation id, node time, [t_s, x, y, z] as assessed or None]
        self.raised: list[list[Any]] = []
        self._last_x: dict[str, list[float]] = {}  # fused id → [t_s, x, y, z] assessed
        self.first_seen: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def on_scan(self, scan: RadarScan | IrScan, events: list[TrackEvent]) -> None:
        for e in events:
            if e.kind == EventKind.UPDATED:
                self.updates.append([e.t_s, e.track_id, *(float(v) for v in e.x[:3])])

    def on_output(self, node: NationalNode, out: NodeOutput, warnings: list[Any],
                  now_s: float) -> None:
        for cid in out.consultations_opened:
            self.consultations.append([str(cid), now_s])
        if out.assessed_s is not None:  # an assessment round: what the picture held
            fresh = node.watch.fresh(node.fused(), out.assessed_s)
            by_id = {o.fused_id: o for o in fresh}
            for fid, _ in out.assessments:
                o = by_id.get(fid)
                if o is not None:
                    self._last_x[fid] = [o.t_s, *(float(v) for v in o.x[:3])]
            self.ticks.append({"t_s": out.assessed_s, "objects": [
                [o.fused_id, o.t_s, [float(v) for v in o.x], [float(v) for v in o.P.ravel()]]
                for o in fresh]})
        t_raised = now_s if out.assessed_s is None else out.assessed_s
        for fid, cid in out.consultations_raised:
            self.raised.append([str(fid), str(cid), t_raised, self._last_x.get(fid)])
        for ev in warnings:
            msg = ev.message
            self.warnings.append({
                "t_s": float(ev.t_s), "track_id": ev.track_id, "msg_type": msg.msg_type,
                "identifier": msg.identifier,
                "level": dict(msg.parameters).get("trilink_level", "none"),
                "impact_lat_rad": float(ev.assessment.impact.lat_rad),
                "impact_lon_rad": float(ev.assessment.impact.lon_rad),
                "at": self._last_x.get(ev.track_id), "issued_node_s": now_s})

    def on_cap_file(self, path: Path, now_s: float) -> None:
        self.cap_files.append([path.name, now_s, time.time()])

    def to_json(self, node: NationalNode, **extra: Any) -> dict[str, Any]:
        return {"record_version": RECORD_VERSION, "nation": self.nation,
                "epoch": node.epoch.isoformat(), "policy": node.policy.name,
                "first_seen": dict(node.first_seen), "updates": self.updates,
                "warnings": self.warnings, "ticks": self.ticks, "cap_files": self.cap_files,
                "consultations": self.consultations, "raised": self.raised,
                "hotline": hotline_record(node), **extra}

    def write(self, path: Path, node: NationalNode, **extra: Any) -> Path:
        return write_text_atomic(path, json.dumps(self.to_json(node, **extra)) + "\n")


def hotline_record(node: NationalNode) -> dict[str, dict[str, Any]]:
    """Each consultation ``node`` opened, as its desk holds it now (node seconds)."""
    from trilink.sim.hotline import first_release_t_s, merged_into

    desk = node.hotline
    out: dict[str, dict[str, Any]] = {}
    for cid, c in sorted(desk.consultations.items()):
        if c.opener != desk.nation:
            continue
        f = c.folded
        body = c.opening.body
        out[cid] = {"opener": c.opener, "parties": list(c.parties),
                    "topic": getattr(body, "topic", ""),
                    "trigger": getattr(body, "trigger", ""), "state": str(f.state),
                    "opened_s": c.opening.t_s, "all_joined_s": f.all_joined_t_s,
                    "statement_released_s": first_release_t_s(f),
                    "concluded_s": f.concluded_t_s, "lapsed_s": f.lapsed_t_s,
                    "merged_into": merged_into(desk, cid)}
    return out


def read_record(path: Path) -> dict[str, Any]:
    """A node record; a version 1 record gets empty ``raised`` and ``hotline``."""
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or data.get("record_version") not in READABLE_VERSIONS:
        raise ValueError(f"{path}: not a live node record (record_version "
                         f"{' or '.join(map(str, READABLE_VERSIONS))} expected)")
    data.setdefault("raised", [])
    data.setdefault("hotline", {})
    return data


__all__ = ["NodeRecorder", "read_record"]
