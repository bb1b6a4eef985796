"""The hotline in a simulated run: settings from the scenario, automatic opening,
and the per-launch consultation figures.

Each nation's node judges significance on its own fused picture every assessment tick
(:func:`trilink.hotline.factsheet.significance`). A nation with no consultation in
progress opens a trilateral one with a fact sheet; one already in a consultation posts
the new track's fact sheet into it instead. Two nations that open at nearly the same
time end up in one consultation: the later one (by opening time, then nation code)
is concluded as merged by its opener's authorities, who join the earlier.

``missile`` indices link consultations to launches for evaluation only (the truth
missile nearest the track that triggered); the nodes never see them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from trilink.hotline.consent import ConsentRule, shipped_rules
from trilink.hotline.consultation import Consultation
from trilink.hotline.desk import DeskConfig, DeskOutput, HotlineDesk
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


@dataclass
class AutoOpener:
    """Opens consultations for one nation when its picture shows a significant event."""

    nation: str
    parties: tuple[str, ...]
    authority: str
    rules: TriggerRules
    seen_tracks: set[str] = field(default_factory=set)
    # Fact sheets of tracks seen before this nation joined: they go with its join.
    held: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Evaluation only: truth missile index → consultation it was raised in.
    missile_consultation: dict[int, str] = field(default_factory=dict)

    def consider(self, desk: HotlineDesk, t_s: float, track_id: str, reason: str,
                 sheet: dict[str, Any], missile: int | None) -> DeskOutput:
        if track_id in self.seen_tracks:
            return DeskOutput()
        self.seen_tracks.add(track_id)
        current = active_consultation(desk)
        sheet_text = json.dumps(sheet, sort_keys=True)
        if current is None:
            cls = sheet.get("trajectory_class", "ballistic")
            cid, out = desk.open(t_s, self.parties, f"{cls} launch: {reason}", self.authority,
                                 trigger=reason, fact_sheet=sheet_text)
        elif self.nation in current.folded.joined:
            cid = current.id
            out = desk.say(t_s, cid, f"update: {reason}", fact=sheet)
        else:  # invited, not yet joined: the update goes with the join
            cid = current.id
            self.held.setdefault(cid, []).append(sheet)
            out = DeskOutput()
        if missile is not None:
            self.missile_consultation.setdefault(missile, cid)
        return out


def tell_warning(desk: HotlineDesk, t_s: float, warning: dict[str, Any]) -> DeskOutput:
    """A nation in a consultation tells the others of a public warning it issued."""
    current = active_consultation(desk)
    if current is None or desk.nation not in current.folded.joined:
        return DeskOutput()  # not in one yet: the join tells every warning so far
    text = f"{desk.nation} public warning: {warning['level']} at t={warning['t_s']} s"
    return desk.say(t_s, current.id, text, fact={"warnings": [warning]})


def active_consultation(desk: HotlineDesk) -> Consultation | None:
    """The consultation in progress this nation is a party to, joined or only invited
    (earliest opened)."""
    live = [c for c in desk.consultations.values()
            if not c.closed and desk.nation in c.parties]
    return min(live, key=lambda c: (c.opening.t_s, c.opener)) if live else None


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


def consultation_summary(desks: Mapping[str, HotlineDesk], cid: str,
                         launch_t_s: float) -> dict[str, float | str | None]:
    """The issue's per-launch fields (s after the launch) from the opener's desk."""
    opener = origin_of(cid)
    c = desks[opener].consultations[cid]
    f = c.folded
    released = [st.released_t_s for st in f.board.statements.values()
                if st.released_t_s is not None]

    def rel(t: float | None) -> float | None:
        return None if t is None else round(t - launch_t_s, 1)

    return {"id": cid, "opened_s": rel(c.opening.t_s), "all_joined_s": rel(f.all_joined_t_s),
            "statement_released_s": rel(min(released) if released else None)}


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
        released = [st.released_t_s for st in f.board.statements.values()
                    if st.released_t_s is not None]
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
            "statement_released_t_s": _r(min(released) if released else None),
            "concluded_t_s": _r(f.concluded_t_s), "lapsed_t_s": _r(f.lapsed_t_s),
            "fact_sheet": sheet or None, "statement": statement, "events": events,
        })
    return out


def _r(t: float | None) -> float | None:
    return None if t is None else round(t, 1)
