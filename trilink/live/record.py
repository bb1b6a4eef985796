"""What a live node did, kept for its summary: own track updates, warnings, assessments.

A :class:`NodeRecorder` watches a :class:`~trilink.live.node.LiveNode`'s inputs and
outputs (it decides nothing) and is written on stop as ``<NATION>.node.json``; the
launcher of a replay (``trilink live``) turns the three records and the scenario's truth
into ``summary.json`` (:mod:`trilink.live.summary`). Times are node seconds (scenario
seconds in a replay).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from trilink.fileio import write_text_atomic
from trilink.node import NationalNode, NodeOutput
from trilink.sensors import RadarScan
from trilink.tracking.tracker import EventKind, TrackEvent

RECORD_VERSION = 1


class NodeRecorder:
    """See the module docstring."""

    def __init__(self, nation: str) -> None:
        self.nation = nation
        self.updates: list[list[Any]] = []  # [t_s, track_id, x, y, z] of own updates
        self.warnings: list[dict[str, Any]] = []
        self.ticks: list[dict[str, Any]] = []  # the fresh picture at each assessment
        self.cap_files: list[list[Any]] = []  # [file name, node time, wall time written]
        self.consultations: list[list[Any]] = []  # [consultation id, node time]
        self._last_x: dict[str, list[float]] = {}  # fused id → [t_s, x, y, z] assessed
        self.first_seen: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def on_scan(self, scan: RadarScan, events: list[TrackEvent]) -> None:
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
                "consultations": self.consultations, **extra}

    def write(self, path: Path, node: NationalNode, **extra: Any) -> Path:
        return write_text_atomic(path, json.dumps(self.to_json(node, **extra)) + "\n")


def read_record(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or data.get("record_version") != RECORD_VERSION:
        raise ValueError(f"{path}: not a live node record (record_version "
                         f"{RECORD_VERSION} expected)")
    return data


__all__ = ["NodeRecorder", "read_record"]
