"""The hotline in a simulated run: settings from the scenario and the per-launch
consultation figures.

The nodes open consultations themselves (:mod:`trilink.hotline.opener`, run by the
node's watch, :mod:`trilink.watch`); this module turns a scenario's ``hotline`` section
into their settings and the authorities' response models, and reads the desks
afterwards for the summary and the record. ``missile`` indices link consultations to
launches for evaluation only (the truth missile nearest the track that triggered); the
nodes never see them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from trilink.hotline.consent import ConsentRule, shipped_rules
from trilink.hotline.consultation import Folded
from trilink.hotline.desk import DeskConfig, HotlineDesk
from trilink.hotline.factsheet import TriggerRules
from trilink.hotline.simulated import Delay, ResponseModel
from trilink.hotline.wire import origin_of
from trilink.sim.scenario import HotlineSpec, ResponseSpec


def desk_config(spec: HotlineSpec) -> DeskConfig:
    return DeskConfig(ack_deadline_s=spec.ack_deadline_s, lapse_after_s=spec.lapse_after_s,
                      consent_rules=consent_rules(spec))


def trigger_rules(spec: HotlineSpec) -> TriggerRules:
    return TriggerRules(any_launch=spec.any_launch, min_range_km=spec.min_range_km)


def consent_rules(spec: HotlineSpec) -> tuple[ConsentRule, ...]:
    own = tuple(ConsentRule(r.tag, tuple(sorted(set(r.requires))), r.note)
                for r in spec.consent_rules)
    return shipped_rules() + own


def _apply(model: ResponseModel, spec: ResponseSpec) -> ResponseModel:
    changes: dict[str, Any] = {}
    for name in ("read", "join", "draft", "approve", "conclude"):
        d = getattr(spec, name)
        if d is not None:
            changes[name] = Delay(d.median_s, d.sigma)
    for name in ("amend_probability", "decline_probability"):
        if getattr(spec, name) is not None:
            changes[name] = getattr(spec, name)
    if spec.unavailable is not None:
        changes["unavailable"] = dict(spec.unavailable)
    return replace(model, **changes)


def response_models(spec: HotlineSpec, nations: Sequence[str]) -> dict[str, ResponseModel]:
    """Each nation's response model: the defaults, the scenario's ``response``, then its
    ``nations`` entry."""
    base = _apply(ResponseModel(), spec.response)
    if spec.statement_text is not None:
        base = replace(base, statement_text=spec.statement_text)
    out = {}
    for n in nations:
        model = base
        if n in spec.nations:
            model = _apply(model, spec.nations[n])
        out[n] = model
    return out


def merged_into(desk: HotlineDesk, cid: str) -> str | None:
    """If ``cid`` was concluded as merged into another consultation, that one's id."""
    c = desk.consultations.get(cid)
    if c is None:
        return None
    for post in c.transcript():
        reason = getattr(post.body, "reason", "")
        if post.what == "conclude" and reason.startswith("merged into "):
            return str(reason.removeprefix("merged into "))
    return None


def first_release_t_s(f: Folded) -> float | None:
    """When a consultation's first joint statement was released (None: none was)."""
    released = [st.released_t_s for st in f.board.statements.values()
                if st.released_t_s is not None]
    return min(released) if released else None


def launch_block(cid: str | None, opened_t_s: float | None = None,
                 all_joined_t_s: float | None = None, released_t_s: float | None = None,
                 launch_t_s: float = 0.0) -> dict[str, Any]:
    """The summary's per-launch consultation fields: its id and times in s after the
    launch (the simulation's from the desks, a live run's from the nodes' records;
    ``launch_block(None)``: a launch nobody consulted about)."""
    def rel(t: float | None) -> float | None:
        return None if t is None else round(float(t) - launch_t_s, 1)

    return {"id": cid, "opened_s": rel(opened_t_s), "all_joined_s": rel(all_joined_t_s),
            "statement_released_s": rel(released_t_s)}


def consultation_summary(desks: Mapping[str, HotlineDesk], cid: str,
                         launch_t_s: float) -> dict[str, Any]:
    """The issue's per-launch fields (s after the launch) from the opener's desk."""
    c = desks[origin_of(cid)].consultations[cid]
    return launch_block(cid, c.opening.t_s, c.folded.all_joined_t_s,
                        first_release_t_s(c.folded), launch_t_s)


def consultation_records(desks: Mapping[str, HotlineDesk], missile_ids: Sequence[str],
                         missiles_of: Mapping[str, Sequence[int]]) -> list[dict[str, Any]]:
    """Every consultation of the run for ``record.json`` (times s since the epoch);
    ``missiles_of[cid]``: the truth missiles it was raised about (evaluation only)."""
    out = []
    ids = sorted({cid for d in desks.values() for cid, c in d.consultations.items()
                  if c.opener == d.nation},
                 key=lambda cid: (desks[origin_of(cid)].consultations[cid].opening.t_s,
                                  cid))
    for cid in ids:
        opener = origin_of(cid)
        c = desks[opener].consultations[cid]
        f = c.folded
        body = c.opening.body
        sheet: dict[str, Any] = {}
        if getattr(body, "fact_sheet", ""):
            sheet = json.loads(body.fact_sheet)  # type: ignore[union-attr]
        warnings = list(sheet.get("warnings", []))
        for post in c.transcript():
            fact = getattr(post.body, "fact", "")
            if post.what in ("join", "say") and fact and post.msg_id not in f.refused:
                warnings += json.loads(fact).get("warnings", [])
        if sheet:
            uniq = {(w["nation"], w["t_s"], w["level"]): w for w in warnings}
            sheet["warnings"] = [uniq[key] for key in sorted(uniq, key=lambda x: (x[1], x[0]))]
        statement = None
        if f.board.statements:
            st = min(f.board.statements.values(),
                     key=lambda s: (s.released_t_s is None, s.statement_id))
            signers = ([x.nation for x in st.released.approvals] if st.released
                       else sorted(st.approvals))
            statement = {"id": st.statement_id, "version": st.version, "text": st.text,
                         "released": st.released is not None, "signers": signers,
                         "declined": sorted(st.declines)}
        events = sorted(
            ({"t_s": round(e.t_s, 1), "nation": e.nation, "authority": e.authority,
              "what": e.what, "detail": e.detail}
             for d in desks.values() for e in d.events if e.consultation == cid),
            key=lambda e: (e["t_s"], e["nation"], e["what"], e["detail"]))
        out.append({
            "id": cid, "opener": opener, "parties": list(c.parties),
            "authority": getattr(body, "authority", ""), "topic": getattr(body, "topic", ""),
            "trigger": getattr(body, "trigger", ""),
            "launches": [missile_ids[k] for k in sorted(missiles_of.get(cid, ()))],
            "state": str(f.state), "opened_t_s": round(c.opening.t_s, 1),
            "all_joined_t_s": _r(f.all_joined_t_s),
            "statement_released_t_s": _r(first_release_t_s(f)),
            "concluded_t_s": _r(f.concluded_t_s), "lapsed_t_s": _r(f.lapsed_t_s),
            "fact_sheet": sheet or None, "statement": statement, "events": events,
        })
    return out


def _r(t: float | None) -> float | None:
    return None if t is None else round(t, 1)
