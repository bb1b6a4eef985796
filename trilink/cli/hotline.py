"""`trilink hotline`: the crisis hotline through a running node, and offline verification
of released statements."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from trilink.cli.common import (
    NATS_DEFAULT,
    complain,
    emit_json,
    fail,
    nation_flag,
    out,
    positive,
    say,
)

hotline_app = typer.Typer(
    help="The crisis hotline through a running node (`trilink node`), and offline "
         "verification of released statements.", no_args_is_help=True)

NodeOpt = Annotated[str, typer.Option("--node", help="the node to act through, e.g. JPN")]
NatsOpt = Annotated[str, typer.Option("--nats", help="NATS server URL")]
TimeoutOpt = Annotated[float, typer.Option("--timeout-s", help="wait this long for the node")]
AuthorityOpt = Annotated[str | None, typer.Option(
    help="who acts: joint_staff, defence_ministry, foreign_ministry, nsa, leader_office")]
JsonOpt = Annotated[bool, typer.Option("--json", help="the node's JSON reply on stdout")]
CredsOpt = Annotated[Path | None, typer.Option(
    "--nats-creds", help="folder from `trilink keys nats` (or its <NATION>/ folder): ask as "
         "the nation's operator user (default: no credentials, a development server)")]
ConsultationArg = Annotated[str, typer.Argument(help="consultation id, e.g. JPN-1")]
StatementArg = Annotated[str, typer.Argument(help="statement id, e.g. S1 or JPN-1/S1")]


def _ask(node_: str, nats: str, creds: Path | None, timeout_s: float,
         request: dict[str, Any]) -> dict[str, Any]:
    """One control request to a running node; its reply (exit 2 with one line if not ok).
    ``creds`` (``--nats-creds``): connect as the nation's operator user."""
    import asyncio

    from trilink.live.client import LiveError
    from trilink.live.client import request as ask
    from trilink.live.natsconf import ROLE_OPERATOR, user_options

    me = nation_flag(node_, "--node")
    positive(timeout_s, "--timeout-s")
    options = user_options(creds, me, ROLE_OPERATOR)
    if request.get("authority") is None:
        request.pop("authority", None)
    key_file = os.environ.get("TRILINK_OPERATOR_KEY")
    if key_file:  # nodes run with --operators answer signed requests only
        import time

        from trilink.live.auth import OperatorFileError, load_operator_key, sign_request

        try:
            oid, key = load_operator_key(Path(key_file))
        except OperatorFileError as exc:
            fail(f"TRILINK_OPERATOR_KEY: {exc}")
        request = sign_request(request, oid, key, time.time_ns())
    try:
        reply = asyncio.run(ask(nats, me, request, timeout_s, **options))
    except LiveError as exc:
        fail(str(exc))
    if not reply["ok"]:
        fail(f"{me}: {reply.get('error')}")
    return reply


def _posted(reply: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(reply)
        return
    for m in reply.get("msg_ids", []):
        say(m)
    if reply.get("queued"):
        complain(f"(node not connected: {reply['queued']} envelope(s) queued)")


@hotline_app.command("status")
def hotline_status(node: NodeOpt, nats: NatsOpt = NATS_DEFAULT, nats_creds: CredsOpt = None,
                   timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Is the node up? Its nations, policy, consultations and pending posts."""
    r = _ask(node, nats, nats_creds, timeout_s, {"op": "status"})
    if as_json:
        emit_json(r)
        return
    say(f"{r['nation']}: up at {r['utc']}; policy {r['policy']}; {r['consultations']} "
         f"consultation(s), {r['unread']} unread, {r['pending']} awaiting acknowledgement")


@hotline_app.command("open")
def hotline_open(
    node: NodeOpt,
    parties: Annotated[str, typer.Option(help="the other parties, e.g. USA,KOR")],
    topic: Annotated[str, typer.Option(help="what the consultation is about")],
    nats: NatsOpt = NATS_DEFAULT, nats_creds: CredsOpt = None, authority: AuthorityOpt = None,
    trigger: Annotated[str, typer.Option(help="what triggered it (free text)")] = "",
    timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False,
) -> None:
    """Open a consultation; prints its id."""
    from trilink.live.keys import parse_nations

    try:
        others = list(parse_nations(parties, "--parties"))
    except ValueError as exc:
        fail(str(exc))
    r = _ask(node, nats, nats_creds, timeout_s, {"op": "open", "parties": others, "topic": topic,
                                                 "authority": authority, "trigger": trigger})
    if as_json:
        emit_json(r)
    else:
        say(r["consultation"])


@hotline_app.command("join")
def hotline_join(node: NodeOpt, consultation: ConsultationArg, nats: NatsOpt = NATS_DEFAULT,
                 nats_creds: CredsOpt = None,
                 authority: AuthorityOpt = None, timeout_s: TimeoutOpt = 5.0,
                 as_json: JsonOpt = False) -> None:
    """Join a consultation another party opened; prints the post's id."""
    _posted(_ask(node, nats, nats_creds, timeout_s, {"op": "join", "consultation": consultation,
                                                     "authority": authority}), as_json)


@hotline_app.command("send")
@hotline_app.command("say")
def hotline_say(node: NodeOpt, consultation: ConsultationArg,
                text: Annotated[str, typer.Argument(help="what to say")],
                nats: NatsOpt = NATS_DEFAULT,
                nats_creds: CredsOpt = None, authority: AuthorityOpt = None,
                timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Post a message to a consultation (``send`` is the same command); prints its id."""
    _posted(_ask(node, nats, nats_creds, timeout_s, {"op": "say", "consultation": consultation,
                                                     "text": text, "authority": authority}),
            as_json)


@hotline_app.command("read")
def hotline_read(node: NodeOpt,
                 msg_ids: Annotated[list[str], typer.Argument(help="ids of delivered posts")],
                 nats: NatsOpt = NATS_DEFAULT,
                 nats_creds: CredsOpt = None, authority: AuthorityOpt = None,
                 timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Mark delivered posts read: the node sends read acknowledgements to their senders."""
    r = _ask(node, nats, nats_creds, timeout_s,
             {"op": "read", "msg_ids": msg_ids, "authority": authority})
    if as_json:
        emit_json(r)
        return
    for row in r["read"]:
        say(f"{row['msg_id']}: read by {row['read_by']}")
    for row in r["already_read"]:
        say(f"{row['msg_id']}: already read by {row['read_by']}")


@hotline_app.command("list")
def hotline_list(node: NodeOpt, nats: NatsOpt = NATS_DEFAULT,
                 nats_creds: CredsOpt = None, timeout_s: TimeoutOpt = 5.0,
                 as_json: JsonOpt = False) -> None:
    """The node's consultations: state, posts, unread."""
    from rich.markup import escape

    r = _ask(node, nats, nats_creds, timeout_s, {"op": "list"})
    if as_json:
        emit_json(r["consultations"])
        return
    table = Table(title=f"consultations at {nation_flag(node, '--node')}", header_style="bold")
    for col in ("id", "state", "parties", "posts", "unread", "opened (UTC)", "topic"):
        table.add_column(col)
    for c in r["consultations"]:
        table.add_row(c["consultation"], c["state"], ",".join(c["parties"]), str(c["posts"]),
                      str(c["unread"]), c["opened_utc"] or "", escape(c["topic"]))
    out.print(table)


@hotline_app.command("show")
def hotline_show(node: NodeOpt, consultation: ConsultationArg, nats: NatsOpt = NATS_DEFAULT,
                 nats_creds: CredsOpt = None,
                 timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """A consultation's transcript in the agreed order, its statements and escalations."""
    from rich.markup import escape

    r = _ask(node, nats, nats_creds, timeout_s, {"op": "show", "consultation": consultation})
    if as_json:
        emit_json({k: v for k, v in r.items() if k != "ok"})
        return
    out.print(f"{r['consultation']} ({r['state']}) {', '.join(r['parties'])}: {r['topic']}",
              markup=False, highlight=False)
    table = Table(header_style="bold")
    for col in ("msg", "time (UTC)", "from", "what", "text", "status"):
        table.add_column(col)
    for p in r["transcript"]:
        if p["refused"]:
            status = f"REFUSED: {p['refused']}"
        elif "unread" in p:
            status = f"unread ({p['unread']})"
        elif "read_by" in p:
            status = f"read ({p['read_by']})"
        elif p.get("awaiting_read"):
            status = f"awaiting read: {','.join(p['awaiting_read'])}"
        else:
            status = ""
        table.add_row(p["msg_id"], (p["utc"] or "")[11:23], f"{p['origin']}/{p['authority']}",
                      p["what"], escape(p["text"]), escape(status))
    out.print(table)
    for s in r["statements"]:
        out.print(f"statement {s['statement_id']} v{s['version']} ({s['status']}): {s['text']}",
                  markup=False, highlight=False)
    for a in r["actions"]:
        state = "authorised" if a["authorised"] else f"consents: {','.join(a['consents'])}"
        out.print(f"action {a['action_id']} ({a['tag']}) by {a['proposer']}: {state}",
                  markup=False, highlight=False)
    for line in r["escalations"]:
        out.print(f"escalation: {line}", markup=False, highlight=False)


@hotline_app.command("draft")
def hotline_draft(node: NodeOpt, consultation: ConsultationArg,
                  text: Annotated[str, typer.Argument(help="the statement's text")],
                  nats: NatsOpt = NATS_DEFAULT,
                  nats_creds: CredsOpt = None, authority: AuthorityOpt = None,
                  timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Draft a joint statement (and approve it); prints the statement id."""
    r = _ask(node, nats, nats_creds, timeout_s, {"op": "draft", "consultation": consultation,
                                                 "text": text, "authority": authority})
    if as_json:
        emit_json(r)
    else:
        say(r["statement_id"])


@hotline_app.command("amend")
def hotline_amend(node: NodeOpt, consultation: ConsultationArg, statement_id: StatementArg,
                  text: Annotated[str, typer.Argument(help="the new text")],
                  nats: NatsOpt = NATS_DEFAULT,
                  nats_creds: CredsOpt = None, authority: AuthorityOpt = None,
                  timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Amend a statement to a new version (and approve it)."""
    _posted(_ask(node, nats, nats_creds, timeout_s, {"op": "amend", "consultation": consultation,
                                                     "statement_id": statement_id, "text": text,
                                                     "authority": authority}), as_json)


@hotline_app.command("approve")
def hotline_approve(node: NodeOpt, consultation: ConsultationArg, statement_id: StatementArg,
                    nats: NatsOpt = NATS_DEFAULT,
                    nats_creds: CredsOpt = None, authority: AuthorityOpt = None,
                    timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Sign the statement's current version."""
    _posted(_ask(node, nats, nats_creds, timeout_s, {"op": "approve", "consultation": consultation,
                                                     "statement_id": statement_id,
                                                     "authority": authority}), as_json)


@hotline_app.command("decline")
def hotline_decline(node: NodeOpt, consultation: ConsultationArg, statement_id: StatementArg,
                    reason: Annotated[str, typer.Option(help="why (goes in the record)")] = "",
                    nats: NatsOpt = NATS_DEFAULT,
                    nats_creds: CredsOpt = None, authority: AuthorityOpt = None,
                    timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Decline to sign a statement (signed, final)."""
    _posted(_ask(node, nats, nats_creds, timeout_s, {"op": "decline", "consultation": consultation,
                                                     "statement_id": statement_id, "reason": reason,
                                                     "authority": authority}), as_json)


@hotline_app.command("conclude")
def hotline_conclude(node: NodeOpt, consultation: ConsultationArg,
                     reason: Annotated[str, typer.Option(help="why (goes in the record)")] = "",
                     nats: NatsOpt = NATS_DEFAULT,
                     nats_creds: CredsOpt = None, authority: AuthorityOpt = None,
                     timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Conclude a consultation."""
    _posted(_ask(node, nats, nats_creds, timeout_s,
                 {"op": "conclude", "consultation": consultation, "reason": reason,
                  "authority": authority}), as_json)


@hotline_app.command("propose")
def hotline_propose(node: NodeOpt, consultation: ConsultationArg,
                    action_id: Annotated[str, typer.Argument(help="an id for the action")],
                    tag: Annotated[str, typer.Option(
                        help="tag of the consent rules, e.g. combat-operations-from-japan")],
                    description: Annotated[str, typer.Option(help="what the action is")],
                    nats: NatsOpt = NATS_DEFAULT,
                    nats_creds: CredsOpt = None, authority: AuthorityOpt = None,
                    timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Propose an action that may need partners' prior consent."""
    _posted(_ask(node, nats, nats_creds, timeout_s, {"op": "propose", "consultation": consultation,
                                                     "action_id": action_id, "tag": tag,
                                                     "description": description,
                                                     "authority": authority}), as_json)


@hotline_app.command("consent")
def hotline_consent(node: NodeOpt, consultation: ConsultationArg,
                    action_id: Annotated[str, typer.Argument(help="the proposed action")],
                    nats: NatsOpt = NATS_DEFAULT,
                    nats_creds: CredsOpt = None, authority: AuthorityOpt = None,
                    timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Give this nation's signed consent to a proposed action."""
    _posted(_ask(node, nats, nats_creds, timeout_s, {"op": "consent", "consultation": consultation,
                                                     "action_id": action_id,
                                                     "authority": authority}), as_json)


@hotline_app.command("authorise")
def hotline_authorise(node: NodeOpt, consultation: ConsultationArg,
                      action_id: Annotated[str, typer.Argument(help="the proposed action")],
                      nats: NatsOpt = NATS_DEFAULT,
                      nats_creds: CredsOpt = None, authority: AuthorityOpt = None,
                      timeout_s: TimeoutOpt = 5.0, as_json: JsonOpt = False) -> None:
    """Mark one's own proposed action authorised (refused without every consent)."""
    _posted(_ask(node, nats, nats_creds, timeout_s,
                 {"op": "authorise", "consultation": consultation,
                  "action_id": action_id, "authority": authority}), as_json)


@hotline_app.command("statement")
def hotline_statement(
    node: NodeOpt, consultation: ConsultationArg,
    file: Annotated[Path, typer.Argument(help="where to write the statement (JSON)")],
    statement_id: Annotated[str | None, typer.Option(
        help="which statement (default: the only released one)")] = None,
    nats: NatsOpt = NATS_DEFAULT, nats_creds: CredsOpt = None, timeout_s: TimeoutOpt = 5.0,
) -> None:
    """Export a released joint statement with its signatures (for `hotline verify`)."""
    r = _ask(node, nats, nats_creds, timeout_s, {"op": "statement", "consultation": consultation,
                                                 "statement_id": statement_id})
    doc = r["document"]
    try:
        file.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"{file}: cannot write: {exc.strerror or exc}")
    signers = ", ".join(a["nation"] for a in doc["approvals"])
    say(f"{file}: {doc['statement_id']} v{doc['version']} signed by {signers}")


@hotline_app.command("verify")
def hotline_verify(
    file: Annotated[Path, typer.Argument(help="statement file from `hotline statement`")],
    keys: Annotated[Path, typer.Option(
        help="registry.json of the parties' public keys (or its folder)")],
) -> None:
    """Check a released statement's signatures offline: exit 0 (valid), 1 (not)."""
    from trilink.hotline.statement import (
        StatementFileError,
        check_release,
        parse_release_document,
    )
    from trilink.live.keys import KeyFileError, load_registry

    try:
        registry = load_registry(keys / "registry.json" if keys.is_dir() else keys)
    except KeyFileError as exc:
        fail(f"--keys: {exc}")
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{file}: no such file (expected a statement written by `hotline statement`)")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{file}: unreadable: {exc}")
    try:
        consultation, parties, release = parse_release_document(text)
    except StatementFileError as exc:
        fail(f"{file}: {exc}")
    problem = check_release(consultation, parties, release, registry)
    if problem:
        complain(f"{file}: invalid: {problem}")
        raise typer.Exit(1)
    signers = ", ".join(sorted(s.nation for s in release.approvals))
    declined = ", ".join(sorted(s.nation for s in release.declines))
    say(f"valid: {release.statement_id} v{release.version} of {consultation} signed by "
         f"{signers}" + (f"; declined by {declined}" if declined else ""))



def register(app: typer.Typer) -> None:
    app.add_typer(hotline_app, name="hotline")
