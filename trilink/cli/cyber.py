"""`trilink cyber`: STIX 2.1 threat sharing — import, export, sightings, value of sharing,
and publishing to a running live node (`trilink node --cyber`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from trilink.cli.common import NATS_DEFAULT, emit_json, fail, nation_flag, positive, say

cyber_app = typer.Typer(help="Cyber threat sharing: STIX 2.1 over TAXII 2.1 under the "
                        "agreements.", no_args_is_help=True)

NATIONS = ("USA", "JPN", "KOR")


def _nations(text: str, flag: str) -> list[str]:
    from trilink.live.keys import parse_nations

    try:
        return list(parse_nations(text, flag))
    except ValueError as exc:
        fail(str(exc))


def _load_store(path: Path | None, nation: str) -> list[dict[str, Any]]:
    if path is None or not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"{path}: not a trilink cyber store ({exc})")
    if not isinstance(data, dict) or data.get("nation") != nation or not isinstance(
            data.get("items"), list):
        fail(f"{path}: items: expected a store of {nation} (written by `trilink cyber import`)")
    return list(data["items"])


@cyber_app.command("import")
def cyber_import(
    file: Annotated[Path, typer.Argument(help="a STIX 2.1 bundle or a MISP event (JSON)")],
    nation: Annotated[str, typer.Option(help="the importing nation (alpha-3)")] = "JPN",
    rel_to: Annotated[str, typer.Option("--rel-to", help="released to, e.g. USA,JPN,KOR")] =
    "USA,JPN,KOR",
    store: Annotated[Path | None, typer.Option(help="the nation's store file (JSON); "
                                               "accepted objects are added")] = None,
    regime: Annotated[str, typer.Option(help="sharing regime")] = "cyber-trilateral-2024",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Validate FILE's objects (stix2-validator, TLP, warning lists) as NATION's own; list
    every refusal and, per partner, what would be shared now."""
    import datetime as dt

    from trilink.cyber.book import CyberBook, ObjectsStored, Refused, Withheld
    from trilink.cyber.imports import read_input
    from trilink.cyber.regimes import cyber_policy
    from trilink.cyber.screen import misp_screen

    who = nation_flag(nation, "--nation")
    rel = _nations(rel_to, "--rel-to")
    objs, form = read_input(file)
    now = dt.datetime.now(dt.UTC)
    book = CyberBook(who, NATIONS, cyber_policy(regime), now, screen=misp_screen)
    out = book.publish(objs, rel, 0.0)
    stored = [i for e in out.events if isinstance(e, ObjectsStored) for i in e.object_ids]
    refused = [p for e in out.events if isinstance(e, Refused) for p in e.problems]
    shares = {s.to: len(s.object_ids) for s in out.shares}
    withheld = [f"{e.to}: {len(e.object_ids)} withheld: {e.reason}" for e in out.events
                if isinstance(e, Withheld)]
    if store is not None:
        items = _load_store(store, who)
        items += [{"obj": dict(s.obj), "rel_to": sorted(s.rel_to), "originator": s.originator,
                   "date_added": s.date_added.isoformat()} for s in book.store.items]
        store.write_text(json.dumps({"nation": who, "items": items}, indent=1),
                         encoding="utf-8")
    if as_json:
        emit_json({"file": str(file), "format": form, "accepted": stored,
                   "refused": refused, "shares": shares, "withheld": withheld})
    else:
        say(f"{file}: {form}: {len(stored)} accepted, {len(refused)} refused")
        for p in refused:
            say(f"{file}: refused {p}")
        for to, n in sorted(shares.items()):
            say(f"share to {to}: {n} objects ({regime})")
        for line in withheld:
            say(f"withheld from {line}")
    if objs and not stored:
        raise typer.Exit(1)


@cyber_app.command("export")
def cyber_export(
    store: Annotated[Path | None, typer.Option(help="a store file; default: the shipped "
                                               "corpus")] = None,
    nation: Annotated[str, typer.Option(help="the store's nation")] = "JPN",
    for_nation: Annotated[str | None, typer.Option("--for", help="only what this nation "
                                                   "may receive")] = None,
    regime: Annotated[str, typer.Option(help="sharing regime")] = "cyber-trilateral-2024",
    out: Annotated[Path | None, typer.Option(help="write the bundle here, not stdout")] = None,
) -> None:
    """A STIX 2.1 bundle: the shipped corpus (Lazarus Group, DPRK thefts) or a store's
    objects, filtered to what `--for` may receive; every object validated."""
    import datetime as dt

    from trilink.cyber.book import CyberBook
    from trilink.cyber.corpus import shipped_corpus
    from trilink.cyber.identity import stable_id
    from trilink.cyber.regimes import cyber_policy
    from trilink.cyber.store import parse_time
    from trilink.cyber.validate import check_objects

    if store is None:
        objs = list(shipped_corpus().objects)
        if for_nation is not None:
            nation_flag(for_nation, "--for")  # all public (TLP:CLEAR): no filtering needed
    else:
        who = nation_flag(nation, "--nation")
        book = CyberBook(who, NATIONS, cyber_policy(regime), dt.datetime.now(dt.UTC))
        for it in _load_store(store, who):
            book.store.add([it["obj"]], originator=it["originator"], rel_to=it["rel_to"],
                           date_added=parse_time(it["date_added"]))
        reader = nation_flag(for_nation, "--for") if for_nation else who
        objs = [dict(i.obj) for i in book.store.items if book.visible(i, reader)]
    checked = check_objects(objs)
    if checked.problems:
        fail("export: " + "; ".join(str(p) for p in checked.problems[:5]))
    text = json.dumps({"type": "bundle", "id": stable_id("bundle", "export", str(len(objs))),
                       "objects": checked.valid}, indent=1)
    if out is None:
        say(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        say(f"{out}: {len(checked.valid)} objects, all valid STIX 2.1")


@cyber_app.command("sightings")
def cyber_sightings(
    campaign: Annotated[Path, typer.Argument(help="a campaign sidecar YAML (cyber: section)")],
    regime: Annotated[str, typer.Option(help="sharing regime")] = "cyber-trilateral-2024",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Replay CAMPAIGN across the three nations: the fused sightings per indicator (who,
    when, how often) at each node, and the cyber alerts raised."""
    from trilink.cyber.campaign import load_campaign, replay
    from trilink.cyber.regimes import cyber_policy
    from trilink.cyber.store import taxii_time

    spec = load_campaign(campaign)
    rep = replay(spec, cyber_policy(regime))
    view: dict[str, Any] = {}
    for n, book in sorted(rep.books.items()):
        view[n] = {iid: [{"nation": s.nation, "first_seen": taxii_time(s.first_seen),
                          "last_seen": taxii_time(s.last_seen), "count": s.count}
                         for s in book.sightings.view(iid)]
                   for iid in sorted(book.sightings.by_indicator)}
    alerts: list[dict[str, Any]] = [
        {"at": a.nation, "t_s": a.t_s, "indicator": a.correlation.indicator_id,
         "who": list(a.correlation.who), "shared_with": list(a.shared_with)}
        for a in rep.alerts]
    if as_json:
        emit_json({"campaign": spec.name, "simulated": spec.simulated, "regime": regime,
                   "sightings": view, "alerts": alerts})
        return
    say(f"{spec.name} under {regime} (simulated: {spec.simulated})")
    for n, per in view.items():
        for iid, rows in per.items():
            who = ", ".join(f"{r['nation']} x{r['count']} from {r['first_seen']}" for r in rows)
            say(f"{n} sees {iid}: {who}")
    for a in alerts:
        shared = ", ".join(a["shared_with"]) or "nobody (local alert)"
        say(f"alert at {a['at']} t={a['t_s']:g} s: {a['indicator']} sighted by "
            f"{', '.join(a['who'])}; sent to {shared}")


@cyber_app.command("value")
def cyber_value(
    campaign: Annotated[Path, typer.Argument(help="a campaign sidecar YAML (cyber: section)")],
    regimes: Annotated[str, typer.Option(help="comma-separated regimes")] =
    "cyber-bilateral-2023,cyber-trilateral-2024",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """How much earlier each nation learns each indicator under each regime."""
    from trilink.cyber.campaign import cyber_value_of_sharing, load_campaign
    from trilink.cyber.regimes import cyber_policy

    spec = load_campaign(campaign)
    names = [r.strip() for r in regimes.split(",") if r.strip()]
    if not names:
        fail("--regimes: expected at least one regime")
    result = cyber_value_of_sharing(spec, {r: cyber_policy(r) for r in names})
    if as_json:
        emit_json(result)
        return
    say(f"{result['campaign']} (simulated: {result['simulated']}); baseline: "
        f"{result['baseline']}")
    for reg, table in result["regimes"].items():
        for n, row in table.items():
            for iid, cell in row.items():
                got = cell["learned_s"]
                if got is None:
                    text = "never"
                elif cell["only_by_sharing"]:
                    text = f"at {got:g} s, only through sharing"
                else:
                    text = f"at {got:g} s, {cell['earlier_by_s']:g} s earlier than alone"
                say(f"{reg}: {n} learns {iid} {text}")


REQUEST_BUDGET_BYTES = 56 * 1024
"""Objects per control request: a node reads at most 64 KiB a request (auth included)."""


def request_batches(objs: list[object]) -> list[list[object]]:
    """Runs of objects whose JSON stays under :data:`REQUEST_BUDGET_BYTES`."""
    from trilink.cyber.book import json_size, runs_under

    for i, o in enumerate(objs):
        n = json_size(o)
        if n > REQUEST_BUDGET_BYTES:
            oid = o.get("id", f"objects[{i}]") if isinstance(o, dict) else f"objects[{i}]"
            fail(f"{oid}: {n} bytes; one object may have at most {REQUEST_BUDGET_BYTES}")
    return runs_under(objs, json_size, REQUEST_BUDGET_BYTES)


def _control(nation: str, nats: str, timeout_s: float,
             requests: list[dict[str, Any]], creds: Path | None = None) -> list[dict[str, Any]]:
    """Control requests to ``nation``'s running node, signed with TRILINK_OPERATOR_KEY when
    set (a node run with --operators answers signed requests only), as the nation's
    operator NATS user with ``creds`` (``--nats-creds``); its replies."""
    import asyncio
    import time

    from trilink.live.client import LiveError, request
    from trilink.live.natsconf import ROLE_OPERATOR, user_options

    positive(timeout_s, "--timeout-s")
    options = user_options(creds, nation, ROLE_OPERATOR)
    key_file = os.environ.get("TRILINK_OPERATOR_KEY")
    signer = None
    if key_file:
        from trilink.live.auth import OperatorFileError, load_operator_key

        try:
            signer = load_operator_key(Path(key_file))
        except OperatorFileError as exc:
            fail(f"TRILINK_OPERATOR_KEY: {exc}")

    async def go() -> list[dict[str, Any]]:
        from trilink.live.auth import sign_request

        replies = []
        for req in requests:
            body = req if signer is None else sign_request(req, *signer, time.time_ns())
            reply = await request(nats, nation, body, timeout_s, **options)
            if not reply["ok"]:
                fail(f"{nation}: {reply.get('error')}")
            replies.append(reply)
        return replies

    try:
        return asyncio.run(go())
    except LiveError as exc:
        fail(str(exc).replace("--node:", "--nation:", 1))


CredsOpt = Annotated[Path | None, typer.Option(
    "--nats-creds", help="folder from `trilink keys nats` (or its <NATION>/ folder): ask as "
         "the nation's operator user (default: no credentials, a development server)")]


@cyber_app.command("publish")
def cyber_publish(
    file: Annotated[Path, typer.Argument(help="a STIX 2.1 bundle or a MISP event (JSON)")],
    nation: Annotated[str, typer.Option(help="the publishing nation: its running node "
                                        "(`trilink node --cyber`) gets the objects")],
    nats: Annotated[str, typer.Option(help="NATS server URL")] = NATS_DEFAULT,
    nats_creds: CredsOpt = None,
    rel_to: Annotated[str | None, typer.Option(
        "--rel-to", help="released to, e.g. USA,KOR (default: every nation of the node)")
    ] = None,
    timeout_s: Annotated[float, typer.Option("--timeout-s", help="wait this long for the "
                                             "node")] = 10.0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Publish FILE's objects as NATION's own through its live node: the node validates
    and stores them and shares each with exactly the partners the agreements and TLP
    allow now; prints what went to whom and what was withheld, and why."""
    from trilink.cyber.imports import read_input

    who = nation_flag(nation, "--nation")
    rel = _nations(rel_to, "--rel-to") if rel_to is not None else None
    objs, form = read_input(file)
    if not objs:
        fail(f"{file}: no objects to publish")
    requests: list[dict[str, Any]] = [
        {"op": "cyber_submit", "objects": b, **({"rel_to": rel} if rel else {})}
        for b in request_batches(objs)]
    replies = _control(who, nats, timeout_s, requests, nats_creds)
    stored = [i for r in replies for i in r["stored"]]
    refused = [p for r in replies for p in r["refused"]]
    sent: dict[str, int] = {}
    withheld: dict[str, list[str]] = {}
    for r in replies:
        for to, n in r["sent"].items():
            sent[to] = sent.get(to, 0) + int(n)
        for to, why in r["withheld"].items():
            withheld.setdefault(to, []).extend(why)
    if as_json:
        emit_json({"file": str(file), "format": form, "nation": who,
                   "rel_to": replies[0]["rel_to"], "requests": len(replies),
                   "stored": stored, "refused": refused, "sent": sent, "withheld": withheld})
    else:
        say(f"{file}: {form}: {len(stored)} stored at {who}, {len(refused)} refused "
            f"(REL TO {', '.join(replies[0]['rel_to'])})")
        for p in refused:
            say(f"{file}: refused {p}")
        for to, n in sorted(sent.items()):
            say(f"sent to {to}: {n} objects")
        for to, whys in sorted(withheld.items()):
            for why in whys:
                say(f"withheld from {to}: {why}")
    if not stored:
        raise typer.Exit(1)


@cyber_app.command("status")
def cyber_status(
    nation: Annotated[str, typer.Option(help="the nation whose running node to ask")],
    nats: Annotated[str, typer.Option(help="NATS server URL")] = NATS_DEFAULT,
    nats_creds: CredsOpt = None,
    timeout_s: Annotated[float, typer.Option("--timeout-s", help="wait this long for the "
                                             "node")] = 10.0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """What NATION's live node holds: STIX objects by originator, refusals so far."""
    who = nation_flag(nation, "--nation")
    r = _control(who, nats, timeout_s, [{"op": "cyber_status"}], nats_creds)[0]
    if as_json:
        emit_json(r)
        return
    by = ", ".join(f"{n} {c}" for n, c in r["by_originator"].items()) or "none"
    say(f"{who}: {r['objects']} objects held (by originator: {by}); {r['refused']} refused")


def register(app: typer.Typer) -> None:
    app.add_typer(cyber_app, name="cyber")
