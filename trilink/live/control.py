"""The control API of a live node: JSON requests in, JSON replies out (sans-I/O).

:func:`handle` turns one request (``{"op": "say", "consultation": "JPN-1", "text": …}``)
into calls on the node's hotline desk and a reply; the live adapter sends the node's
orders and answers the request over NATS (``trilink.ctl.<NATION>``). Every decision
stays in the desk: this module only checks the request's shape and renders views.

Replies are ``{"ok": true, …}`` or ``{"ok": false, "error": "<one line>"}``.

Ops: ``status``, ``open``, ``join``, ``say``, ``read``, ``list``, ``show``, ``draft``,
``amend``, ``approve``, ``decline``, ``conclude``, ``propose``, ``consent``,
``authorise``, ``statement`` (see :data:`OPS`); on a node that carries the cyber kind
(:func:`trilink.live.node.live_cyber_node`), ``cyber_submit`` (the nation's own STIX
objects or bundle, released ``rel_to``: the plug-in validates, stores and plans one
bundle per partner the agreements and TLP allow; the reply says what went to whom and
what was withheld, and why) and ``cyber_status`` (what the node holds, by originator).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from trilink.errors import TrilinkError
from trilink.hotline.consultation import Consultation
from trilink.hotline.desk import DeskError, DeskOutput
from trilink.hotline.statement import release_document
from trilink.hotline.wire import (
    Authority,
    Body,
    Open,
    Post,
    describe,
)
from trilink.nations import NationError, parse_nations
from trilink.node import NationalNode, NodeOutput
from trilink.sharing.envelope import Envelope, decode

if TYPE_CHECKING:  # the cyber kind is imported only when a node carries it
    from trilink.cyber.plugin import CyberPlugin

Reply = dict[str, Any]
AUTHORITIES: Final = tuple(str(a) for a in Authority)


class RequestError(TrilinkError, ValueError):
    """A request the node cannot act on (one line: the field and what was expected)."""


# ------------------------------------------------------------------ request fields


def _str(req: dict[str, Any], name: str, default: str | None = None) -> str:
    value = req.get(name, default)
    if not isinstance(value, str) or (default is None and not value):
        raise RequestError(f"{name}: expected a non-empty string")
    return value


def _authority(req: dict[str, Any]) -> str | None:
    value = req.get("authority")
    if value is None:
        return None
    if value not in AUTHORITIES:
        raise RequestError(f"authority: expected one of {', '.join(AUTHORITIES)}, "
                           f"got {value!r}")
    return str(value)


def _strs(req: dict[str, Any], name: str) -> list[str]:
    value = req.get(name)
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise RequestError(f"{name}: expected a non-empty list of strings")
    return value


def _statement_id(req: dict[str, Any], consultation: str) -> str:
    """``S1`` is short for ``<consultation>/S1``."""
    sid = _str(req, "statement_id")
    return sid if "/" in sid else f"{consultation}/{sid}"


# ------------------------------------------------------------------ views


def utc(node: NationalNode, t_s: float | None) -> str | None:
    """ISO 8601 UTC time of node time ``t_s`` (None stays None)."""
    if t_s is None:
        return None
    when = node.epoch + dt.timedelta(seconds=t_s)
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def post_text(body: Body) -> str:
    """The human part of a post, one line."""
    return describe(body, full=True)


def _post_view(node: NationalNode, c: Consultation, post: Post,
               awaiting: dict[str, list[str]]) -> dict[str, Any]:
    desk = node.hotline
    view: dict[str, Any] = {
        "msg_id": post.msg_id, "lamport": post.lamport, "t_s": round(post.t_s, 3),
        "utc": utc(node, post.t_s), "origin": post.origin, "authority": post.authority,
        "what": post.what, "text": post_text(post.body),
        "refused": c.folded.refused.get(post.msg_id),
    }
    if post.origin == node.nation:
        view["awaiting_read"] = sorted(awaiting.get(post.msg_id, []))
    elif post.msg_id in desk.read_by:
        view["read_by"] = desk.read_by[post.msg_id]
    elif post.msg_id in desk.unread:
        view["unread"] = desk.unread[post.msg_id][1]  # for the attention of
    return view


def _unread_count(node: NationalNode, consultation: str) -> int:
    return sum(1 for post, _ in node.hotline.unread.values()
               if post.consultation == consultation)


def list_view(node: NationalNode) -> list[dict[str, Any]]:
    out = []
    for cid, c in sorted(node.hotline.consultations.items()):
        body = c.opening.body
        out.append({"consultation": cid, "topic": body.topic if isinstance(body, Open) else "",
                    "opener": c.opener, "parties": list(c.parties), "state": str(c.state),
                    "posts": len(c.posts), "unread": _unread_count(node, cid),
                    "opened_utc": utc(node, c.opening.t_s)})
    return out


def show_view(node: NationalNode, c: Consultation) -> dict[str, Any]:
    desk = node.hotline
    awaiting: dict[str, list[str]] = {}
    for msg_id, party, _, _ in desk.pending():
        awaiting.setdefault(msg_id, []).append(party)
    f = c.folded
    body = c.opening.body
    statements = []
    for sid, st in sorted(f.board.statements.items()):
        if st.released is not None:
            status = f"released v{st.released.version}"
        elif set(c.parties) - set(st.declines) - set(st.approvals):
            waiting = sorted(set(c.parties) - set(st.declines) - set(st.approvals))
            status = f"v{st.version} awaiting approval of {', '.join(waiting)}"
        else:
            status = f"v{st.version} approved, awaiting release"
        statements.append({
            "statement_id": sid, "drafter": st.drafter, "version": st.version,
            "text": st.text, "status": status, "released": st.released is not None,
            "approved_by": sorted(st.approvals) if st.released is None
            else [s.nation for s in st.released.approvals],
            "declined_by": sorted(st.declines),
            "released_utc": utc(node, st.released_t_s)})
    actions = [{"action_id": a.action_id, "tag": a.tag, "description": a.description,
                "proposer": a.proposer, "requires": list(a.required),
                "consents": sorted(a.consents), "authorised": a.authorised}
               for a in f.consents.actions.values()]
    escalations = [e.detail for e in desk.events
                   if e.what == "escalate" and e.consultation == c.id]
    return {
        "consultation": c.id, "topic": body.topic if isinstance(body, Open) else "",
        "opener": c.opener, "parties": list(c.parties), "state": str(c.state),
        "joined": sorted(f.joined), "node": node.nation,
        "transcript": [_post_view(node, c, p, awaiting) for p in c.transcript()],
        "statements": statements, "actions": actions, "escalations": escalations,
    }


# ------------------------------------------------------------------ ops


def _posted(desk_out: DeskOutput, nation: str) -> list[str]:
    """Message ids of the posts this nation just made."""
    return [e.msg_id for e in desk_out.events
            if e.msg_id and e.nation == nation and e.what not in ("read", "escalate", "reject")]


Op = Callable[[NationalNode, dict[str, Any], float],
             tuple[Reply, DeskOutput | NodeOutput | None]]


def _op_status(node: NationalNode, req: dict[str, Any], now: float) -> tuple[Reply, None]:
    desk = node.hotline
    return {"nation": node.nation, "nations": list(desk.nations), "policy": node.policy.name,
            "utc": utc(node, now), "consultations": len(desk.consultations),
            "pending": len(desk.pending()), "unread": len(desk.unread)}, None


def _op_open(node: NationalNode, req: dict[str, Any], now: float) -> tuple[Reply, DeskOutput]:
    parties = _strs(req, "parties")
    topic = _str(req, "topic")
    authority = _authority(req) or str(Authority.DEFENCE_MINISTRY)
    cid, out = node.hotline.open(now, parties, topic, authority,
                                 trigger=_str(req, "trigger", ""))
    return {"consultation": cid, "msg_ids": _posted(out, node.nation)}, out


def _op_join(node: NationalNode, req: dict[str, Any], now: float) -> tuple[Reply, DeskOutput]:
    fact = req.get("fact")
    if fact is not None and not isinstance(fact, dict):
        raise RequestError("fact: expected a JSON object")
    out = node.hotline.join(now, _str(req, "consultation"), fact, _authority(req))
    return {"msg_ids": _posted(out, node.nation)}, out


def _simple(method: str, *fields: str) -> Op:
    """An op that posts with the desk's ``method``(now, consultation, *fields, authority)."""

    def op(node: NationalNode, req: dict[str, Any], now: float) -> tuple[Reply, DeskOutput]:
        cid = _str(req, "consultation")
        args = [_statement_id(req, cid) if f == "statement_id"
                else _str(req, f, "" if f == "reason" else None) for f in fields]
        out: DeskOutput = getattr(node.hotline, method)(now, cid, *args,
                                                        authority=_authority(req))
        return {"msg_ids": _posted(out, node.nation)}, out

    return op


def _op_draft(node: NationalNode, req: dict[str, Any], now: float) -> tuple[Reply, DeskOutput]:
    sid, out = node.hotline.draft(now, _str(req, "consultation"), _str(req, "text"),
                                  _authority(req))
    return {"statement_id": sid, "msg_ids": _posted(out, node.nation)}, out


def _op_read(node: NationalNode, req: dict[str, Any], now: float) -> tuple[Reply, DeskOutput]:
    desk = node.hotline
    ids = _strs(req, "msg_ids") if "msg_ids" in req else [_str(req, "msg_id")]
    authority = _authority(req)
    unknown = [m for m in ids if m not in desk.unread and m not in desk.read_by]
    if unknown:
        raise RequestError(f"msg_id: no post {unknown[0]!r} was delivered to {node.nation}")
    out = DeskOutput()
    read, already = [], []
    for m in ids:
        if m in desk.read_by:
            already.append({"msg_id": m, "read_by": desk.read_by[m]})
        else:
            out.extend(desk.read(now, m, authority))
            read.append({"msg_id": m, "read_by": desk.read_by[m]})
    return {"read": read, "already_read": already}, out


def _op_list(node: NationalNode, req: dict[str, Any], now: float) -> tuple[Reply, None]:
    return {"consultations": list_view(node)}, None


def _consultation(node: NationalNode, req: dict[str, Any]) -> Consultation:
    cid = _str(req, "consultation")
    c = node.hotline.consultations.get(cid)
    if c is None:
        held = ", ".join(sorted(node.hotline.consultations)) or "none"
        raise RequestError(f"consultation: no consultation {cid!r} at {node.nation} "
                           f"(held: {held})")
    return c


def _op_show(node: NationalNode, req: dict[str, Any], now: float) -> tuple[Reply, None]:
    return show_view(node, _consultation(node, req)), None


def _op_statement(node: NationalNode, req: dict[str, Any], now: float) -> tuple[Reply, None]:
    c = _consultation(node, req)
    board = c.folded.board
    if req.get("statement_id") is None:
        released = [sid for sid, st in board.statements.items() if st.released is not None]
        if len(released) != 1:
            raise RequestError(f"statement_id: {c.id} has {len(released)} released "
                               "statements; name one")
        sid = released[0]
    else:
        sid = _statement_id(req, c.id)
    st = board.statements.get(sid)
    if st is None:
        raise RequestError(f"statement_id: no statement {sid!r} in {c.id}")
    if st.released is None:
        raise RequestError(f"statement_id: {sid} is not released (v{st.version}; approved "
                           f"by {', '.join(sorted(st.approvals)) or 'nobody'})")
    doc = release_document(c.id, c.parties, st.released, st.released_t_s,
                           utc(node, st.released_t_s))
    return {"document": doc}, None


# ------------------------------------------------------------------ the cyber kind

MAX_SUBMIT_OBJECTS: Final = 10_000


def _cyber(node: NationalNode) -> CyberPlugin:
    from trilink.cyber.plugin import mounted

    plugin = mounted(node.plugins)
    if plugin is None:
        raise RequestError(f"op: the node of {node.nation} does not carry the cyber kind "
                           "(start it with `trilink node --cyber`)")
    return plugin


def _submitted_objects(req: dict[str, Any]) -> list[object]:
    from trilink.cyber.validate import bundle_objects

    if ("objects" in req) == ("bundle" in req):
        raise RequestError("objects: give either objects (a list of STIX objects) or bundle "
                           "(a STIX bundle)")
    if "bundle" in req:
        objs, problem = bundle_objects(req["bundle"])
        if problem is not None:
            raise RequestError(f"bundle: {problem.reason}")
    else:
        objs = req["objects"]
        if not isinstance(objs, list):
            raise RequestError("objects: expected a list of STIX objects")
    if not objs or len(objs) > MAX_SUBMIT_OBJECTS:
        raise RequestError(f"objects: expected 1 to {MAX_SUBMIT_OBJECTS} STIX objects, "
                           f"got {len(objs)}")
    return list(objs)


def _rel_to(node: NationalNode, req: dict[str, Any]) -> tuple[str, ...]:
    everyone = tuple(sorted({node.nation, *node.config.partners}))
    if req.get("rel_to") is None:
        return everyone
    names = _strs(req, "rel_to")
    try:
        rel = parse_nations(",".join(names), "rel_to")
    except NationError as exc:
        raise RequestError(str(exc)) from None
    strangers = sorted(set(rel) - set(everyone))
    if strangers:
        raise RequestError(f"rel_to: {', '.join(strangers)} not in this federation "
                           f"({', '.join(everyone)})")
    return rel


def _op_cyber_submit(node: NationalNode, req: dict[str, Any],
                     now: float) -> tuple[Reply, NodeOutput]:
    from trilink.cyber.book import ObjectsStored, Refused, Withheld

    plugin = _cyber(node)
    objs = _submitted_objects(req)
    rel = _rel_to(node, req)
    done, book = plugin.publish(objs, rel, now)
    out = node.carry(done, now)  # the node seals along the agreements' routes, or refuses
    counts = {s.payload: len(s.object_ids) for s in book.shares}
    sent: dict[str, int] = {}
    for o in out.outgoing:  # what actually leaves, per final recipient
        env = decode(o.data)
        if isinstance(env, Envelope):
            sent[env.recipient] = sent.get(env.recipient, 0) + counts.get(env.payload, 0)
    withheld: dict[str, list[str]] = {}
    for e in book.events:
        if isinstance(e, Withheld):
            withheld.setdefault(e.to, []).append(f"{len(e.object_ids)} object(s): {e.reason}")
    for r in out.rejected:
        withheld.setdefault("(node)", []).append(r)
    stored = [i for e in book.events if isinstance(e, ObjectsStored) for i in e.object_ids]
    refused = [p for e in book.events if isinstance(e, Refused) for p in e.problems]
    return {"nation": node.nation, "rel_to": list(rel), "stored": stored, "refused": refused,
            "sent": dict(sorted(sent.items())), "withheld": dict(sorted(withheld.items())),
            "envelopes": len(out.outgoing)}, out


def _op_cyber_status(node: NationalNode, req: dict[str, Any], now: float) -> tuple[Reply, None]:
    plugin = _cyber(node)
    items = plugin.book.store.items
    by_origin: dict[str, int] = {}
    for it in items:
        by_origin[it.originator] = by_origin.get(it.originator, 0) + 1
    reply: Reply = {"nation": node.nation, "objects": len(items),
                    "by_originator": dict(sorted(by_origin.items())),
                    "refused": len(plugin.book.audit)}
    if req.get("ids") is True:
        reply["ids"] = sorted({it.id for it in items})
    return reply, None


OPS: Final[dict[str, Op]] = {
    "status": _op_status,
    "open": _op_open,
    "join": _op_join,
    "say": _simple("say", "text"),
    "read": _op_read,
    "list": _op_list,
    "show": _op_show,
    "draft": _op_draft,
    "amend": _simple("amend", "statement_id", "text"),
    "approve": _simple("approve", "statement_id"),
    "decline": _simple("decline", "statement_id", "reason"),
    "conclude": _simple("conclude", "reason"),
    "propose": _simple("propose", "action_id", "tag", "description"),
    "consent": _simple("consent", "action_id"),
    "authorise": _simple("authorise", "action_id"),
    "statement": _op_statement,
    "cyber_submit": _op_cyber_submit,
    "cyber_status": _op_cyber_status,
}


def handle(node: NationalNode, request: object, now_s: float) -> tuple[Reply, NodeOutput | None]:
    """Answer one control request at node time ``now_s``.

    Returns the reply and, if the desk acted, the node's output (envelopes to send):
    the caller sends them. Never raises for a bad request: the reply says why.
    """
    if not isinstance(request, dict):
        return {"ok": False, "error": "request: expected a JSON object"}, None
    op = request.get("op")
    fn = OPS.get(op) if isinstance(op, str) else None
    if fn is None:
        return {"ok": False, "error": f"op: expected one of {', '.join(OPS)}, got {op!r}"}, None
    try:
        reply, desk_out = fn(node, request, now_s)
    except (RequestError, DeskError) as exc:
        return {"ok": False, "error": _one_line(str(exc))}, None
    if isinstance(desk_out, NodeOutput):  # a plug-in's output, already sealed by the node
        return {"ok": True, **reply}, desk_out
    emitted = node.emit(desk_out, now_s) if desk_out is not None else None
    return {"ok": True, **reply}, emitted


def _one_line(text: str) -> str:
    return " ".join(text.split())


def encode_reply(reply: Reply) -> bytes:
    return json.dumps(reply, sort_keys=False).encode("utf-8")
