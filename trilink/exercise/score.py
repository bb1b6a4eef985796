"""Score an exercise run against its objectives; the after-action report.

Each objective names a measure of a run (``record.json``'s summary: seconds after each
launch, or km), a standard (``standard_max``) and how nations combine: ``all`` — every
participant must meet it (the worst counts), ``any`` — one suffices (the best counts).
Every launch must meet it; a measure that never happened (``null``: never detected,
never warned) does not meet it, and the report says who and which launch. Pure
functions of the record and the standards; the CLI writes the files.

A live run's folder (``trilink live``) is scored from its ``summary.json`` like a
simulated run's: the live nodes record what their hotline did and the summary fills
each launch's consultation block from those records. Two cases are *not measured*
rather than "never": a live run from before the nodes recorded their hotline (summary
without ``sim_authorities``), and joins and statements of a replay run without simulated
authorities (``--no-sim-authorities``) in which nobody acted.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from trilink.datafile import FileInvalidError, FileProblem, parse_yaml_model
from trilink.errors import TrilinkError

if TYPE_CHECKING:
    from trilink.sim.scenario import Scenario

SCHEMA_VERSION = 1


class StandardsInvalidError(FileInvalidError):
    """A standards file failed validation."""


class RunRecordError(TrilinkError):
    """The run folder has no readable record."""


class Objective(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    what: str = Field(min_length=1)
    measure: str
    over_nations: Literal["all", "any"] = "all"
    standard_max: float = Field(gt=0)
    unit: Literal["s", "km"] = "s"
    basis: str = ""

    @field_validator("measure")
    @classmethod
    def _measure(cls, value: str) -> str:
        per_nation = {"first_detection_s", "first_track_s", "first_partner_track_s",
                      "first_warning_s", "first_known_s", "impact_error_km_at_120s",
                      "impact_error_km_at_300s", "impact_error_km_at_warning"}
        per_launch = {"consultation.opened_s", "consultation.all_joined_s",
                      "consultation.statement_released_s"}
        if value not in per_nation | per_launch:
            raise ValueError(f"unknown measure {value!r}; expected one of "
                             + ", ".join(sorted(per_nation | per_launch)))
        return value


class Standards(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    objectives: tuple[Objective, ...] = Field(min_length=1)


def load_standards(path: str | Path) -> Standards:
    from trilink.exercise.programme import shipped_programmes_dir

    p = Path(path)
    if not p.is_file():
        shipped = shipped_programmes_dir() / f"{path}.yaml"
        if not shipped.is_file():
            raise StandardsInvalidError([FileProblem(str(path), 0, "(file)", "no such file")])
        p = shipped
    standards, _ = parse_yaml_model(p.read_text(encoding="utf-8"), str(p), Standards,
                                    StandardsInvalidError)
    return standards


@dataclass(frozen=True)
class Finding:
    launch: str
    nation: str | None
    value: float | None
    met: bool


@dataclass(frozen=True)
class Result:
    objective: Objective
    value: float | None  # the deciding value (worst launch); None if never achieved
    met: bool | None  # None: nothing to measure (no launches)
    why: str
    findings: tuple[Finding, ...]


def _measure(entry: dict[str, Any], launch: dict[str, Any], name: str) -> float | None:
    if name.startswith("consultation."):
        v = (launch.get("consultation") or {}).get(name.split(".", 1)[1])
    else:
        v = entry.get(name)
    if v is None:
        return None
    x = float(v)
    return x if math.isfinite(x) else None


def score(record: dict[str, Any], standards: Standards) -> list[Result]:
    summary = record.get("summary") or {}
    launches = summary.get("launches") or []
    out = []
    for obj in standards.objectives:
        findings: list[Finding] = []
        deciding: list[float | None] = []
        for launch in launches:
            lid = str(launch["id"]).split("/")[-1]
            if obj.measure.startswith("consultation."):
                v = _measure({}, launch, obj.measure)
                ok = v is not None and v <= obj.standard_max
                findings.append(Finding(lid, None, v, ok))
                deciding.append(v)
                continue
            per = []
            for nation, entry in sorted(launch["nations"].items()):
                v = _measure(entry, launch, obj.measure)
                ok = v is not None and v <= obj.standard_max
                findings.append(Finding(lid, nation, v, ok))
                per.append(v)
            if obj.over_nations == "all":
                deciding.append(None if not per or any(v is None for v in per) else max(
                    v for v in per if v is not None))
            else:
                got = [v for v in per if v is not None]
                deciding.append(min(got) if got else None)
        if not launches:
            out.append(Result(obj, None, None, "no launches in the run", ()))
            continue
        gap = _live_gap(summary, obj.measure)
        if gap is not None and all(v is None for v in deciding):
            # Nothing a live run could have measured: not measured, rather than "never".
            out.append(Result(obj, None, None, _live_consultation_why(record, gap),
                              tuple(findings)))
            continue
        value = None if any(v is None for v in deciding) else max(
            v for v in deciding if v is not None)
        met = value is not None and value <= obj.standard_max
        out.append(Result(obj, value, met, _why(obj, findings, met), tuple(findings)))
    return out


def _why(obj: Objective, findings: list[Finding], met: bool) -> str:
    unit = obj.unit
    if met:
        worst = max((f for f in findings if f.value is not None and f.met),
                    key=lambda f: f.value or 0.0, default=None)
        return ("met" + (f"; worst {worst.value:g} {unit} ({worst.launch}"
                         + (f", {worst.nation})" if worst.nation else ")") if worst else ""))
    missing = [f for f in findings if f.value is None]
    slow = [f for f in findings if f.value is not None and not f.met]
    if obj.over_nations == "any" and findings and findings[0].nation is not None:
        by_launch: dict[str, list[Finding]] = {}
        for f in findings:
            by_launch.setdefault(f.launch, []).append(f)
        failed = [lid for lid, fs in by_launch.items() if not any(f.met for f in fs)]
        return f"no participant met {obj.standard_max:g} {unit} for " + ", ".join(failed)
    parts = []
    if missing:
        parts.append("never: " + ", ".join(f"{f.nation + ' ' if f.nation else ''}{f.launch}"
                                           for f in missing[:6])
                     + (" …" if len(missing) > 6 else ""))
    if slow:
        parts.append("over the standard: " + ", ".join(
            f"{f.nation + ' ' if f.nation else ''}{f.launch} {f.value:g} {unit}"
            for f in slow[:6]) + (" …" if len(slow) > 6 else ""))
    return "; ".join(parts)


def _live_gap(summary: dict[str, Any], measure: str) -> str | None:
    """Why a live run could not measure a consultation measure at all (None: it could,
    and a null is "never")."""
    if summary.get("mode") != "live" or not measure.startswith("consultation."):
        return None
    if "sim_authorities" not in summary:
        return ("this live run predates the nodes' hotline records (node record version 2, "
                "which the summary's consultation blocks are read from): run it again")
    if summary["sim_authorities"] is False and measure != "consultation.opened_s":
        return ("the replay ran without simulated authorities (--no-sim-authorities) and "
                "nobody joined or released a statement through the control API")
    return None


def _live_consultation_why(record: dict[str, Any], gap: str) -> str:
    opened = record.get("live_consultations") or []
    seen = "; ".join(f"{c['nation']} opened {c['id']} at {c['opened_utc']}"
                     + (" (on a control request)" if c.get("source") == "control" else "")
                     for c in opened[:6]) or "no node opened one"
    return f"not measured: {gap}; the nodes' records: {seen}"


def _live_consultations(run_dir: Path) -> list[dict[str, Any]]:
    """Consultations of a live run: those the nodes opened themselves
    (``nodes/<NATION>.node.json``) and those opened on the launcher's control requests
    (``nodes/injects.json``)."""
    import datetime as dt

    out: list[dict[str, Any]] = []
    epoch: dt.datetime | None = None

    def add(nation: str, cid: str, t_s: float, source: str) -> None:
        assert epoch is not None
        when = epoch + dt.timedelta(seconds=t_s)
        out.append({"nation": nation, "id": cid, "opened_s": round(t_s, 1), "source": source,
                    "opened_utc": when.isoformat(timespec="milliseconds")
                    .replace("+00:00", "Z")})

    for f in sorted((Path(run_dir) / "nodes").glob("*.node.json")):
        try:
            rec = json.loads(f.read_text(encoding="utf-8"))
            epoch = dt.datetime.fromisoformat(str(rec["epoch"]))
            for cid, t_s in rec.get("consultations") or []:
                add(str(rec["nation"]), str(cid), float(t_s), "node")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError,
                ValueError):
            continue  # a node record that cannot be read adds nothing to the reasons
    try:
        injects = json.loads((Path(run_dir) / "nodes" / "injects.json")
                             .read_text(encoding="utf-8"))
        for inj in injects if epoch is not None and isinstance(injects, list) else []:
            reply = inj.get("reply") or {}
            if inj.get("kind") == "hotline_request" and reply.get("ok") \
                    and reply.get("consultation"):
                add(str(inj["nation"]), str(reply["consultation"]), float(inj["sent_s"]),
                    "control")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError,
            ValueError, AttributeError):
        pass  # no injects, or unreadable: only the nodes' own consultations count
    out.sort(key=lambda c: (c["opened_s"], c["nation"]))
    return out


def _shipped_scenario(summary: dict[str, Any]) -> Scenario | None:
    """A summary's scenario, if it is a shipped one (a live run's summary names its
    scenario only); None otherwise."""
    from trilink.sim.scenario import load_scenario, shipped_scenario_path

    path = shipped_scenario_path(str(summary.get("scenario")))
    if path is None:
        return None
    try:
        return load_scenario(path)
    except (TrilinkError, OSError):
        return None


def read_record(run_dir: Path) -> dict[str, Any]:
    """The run's record.json, or (a live run's folder) its summary.json wrapped alike."""
    path = Path(run_dir) / "record.json"
    if not path.is_file() and (Path(run_dir) / "summary.json").is_file():
        path = Path(run_dir) / "summary.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if path.name == "summary.json" and isinstance(record, dict):
            scenario = _shipped_scenario(record)
            record = {"summary": record, "scenario": {
                "id": record.get("scenario"),
                "title": None if scenario is None else scenario.title}}
            if record["summary"].get("mode") == "live":  # named in "not measured" reasons
                record["live_consultations"] = _live_consultations(Path(run_dir))
    except FileNotFoundError:
        raise RunRecordError(f"{Path(run_dir) / 'record.json'}: no such file (expected a "
                             "`trilink run` or `trilink live` folder)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunRecordError(f"{path}: not a readable JSON record: {exc}") from None
    if not isinstance(record, dict) or "summary" not in record:
        raise RunRecordError(f"{path}: summary: expected the record of a run")
    return record


def after_action(record: dict[str, Any], standards: Standards, results: list[Result],
                 history: list[dict[str, Any]]) -> dict[str, Any]:
    """The after-action report as JSON, with each objective's earlier results."""
    digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]
    summary = record.get("summary") or {}
    scenario = record.get("scenario") or {}
    earlier = [h for h in history if h.get("standards") == standards.id]
    objectives = []
    for r in results:
        prev = [{"run": h["run"], "value": o["value"], "met": o["met"]}
                for h in earlier for o in h["objectives"] if o["id"] == r.objective.id]
        objectives.append({
            "id": r.objective.id, "what": r.objective.what, "measure": r.objective.measure,
            "standard_max": r.objective.standard_max, "unit": r.objective.unit,
            "value": r.value, "met": r.met, "why": r.why, "basis": r.objective.basis,
            "findings": [{"launch": f.launch, "nation": f.nation, "value": f.value,
                          "met": f.met} for f in r.findings],
            "earlier": prev})
    return {"schema_version": SCHEMA_VERSION, "standards": standards.id,
            "standards_name": standards.name,
            "run": {"scenario": summary.get("scenario"), "seed": summary.get("seed"),
                    "regime": summary.get("regime"), "record_sha256_16": digest,
                    "title": scenario.get("title"), "mode": summary.get("mode", "simulated"),
                    "speed": summary.get("speed")},
            "met": sum(1 for r in results if r.met), "not_met": sum(
                1 for r in results if r.met is False),
            "not_measured": sum(1 for r in results if r.met is None),
            "objectives": objectives}


def _unmeasured(doc: dict[str, Any]) -> str:
    n = int(doc.get("not_measured") or 0)
    return f", {n} not measured" if n else ""


def _kind_of_run(run: dict[str, Any]) -> str:
    if run.get("mode") == "live":
        speed = run.get("speed")
        pace = f", x{float(speed):g}" if isinstance(speed, int | float) else ""
        return (f"A live replay (trilink live{pace}): three node processes over "
                "NATS on the scenario's simulated sensors; the measures come from trilink's "
                "models, not from real forces.")
    return ("A simulated exercise: the measures come from trilink's models, not from real "
            "forces.")


def after_action_html(doc: dict[str, Any]) -> str:
    rows = []
    for o in doc["objectives"]:
        verdict = {True: "met", False: "NOT MET", None: "not measured"}[o["met"]]
        colour = {True: "#009E73", False: "#D55E00", None: "#999999"}[o["met"]]
        value = "never" if o["value"] is None else f"{o['value']:g} {o['unit']}"
        trend = ", ".join(
            f"{'never' if e['value'] is None else format(e['value'], 'g')}"
            f" ({ {True: 'met', False: 'not met', None: 'not measured'}[e['met']]})"
            + (" [live]" if e["run"].get("mode") == "live" else " [simulated]")
            for e in o["earlier"]) or "-"
        rows.append(
            f"<tr><td><b>{escape(o['id'])}</b><br>{escape(o['what'])}</td>"
            f"<td>≤ {o['standard_max']:g} {escape(o['unit'])}</td><td>{escape(value)}</td>"
            f'<td style="color:{colour};font-weight:bold">{verdict}</td>'
            f"<td>{escape(o['why'])}</td><td>{escape(trend)}</td>"
            f"<td class=basis>{escape(o['basis'])}</td></tr>")
    run = doc["run"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>After-action report: {escape(
        str(run['scenario']))}</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;max-width:1200px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:6px 8px;
font-size:14px;vertical-align:top}}.basis{{color:#555;font-size:12px}}</style></head>
<body><h1>After-action report</h1>
<p><b>{escape(str(run['title'] or run['scenario']))}</b> — seed {escape(str(run['seed']))},
regime {escape(str(run['regime']))}, record {escape(run['record_sha256_16'])}.<br>
Standards: {escape(doc['standards_name'])} ({escape(doc['standards'])}):
{doc['met']} met, {doc['not_met']} not met{_unmeasured(doc)}.
{escape(_kind_of_run(run))}</p>
<table><tr><th>objective</th><th>standard</th><th>result</th><th>verdict</th><th>why</th>
<th>earlier runs</th><th>basis of the standard</th></tr>
{''.join(rows)}</table></body></html>
"""
