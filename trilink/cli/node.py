"""`trilink node`: a national node live over NATS."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from trilink.cli.common import NATS_DEFAULT, complain, fail, nation_flag, positive


def node(
    nation: Annotated[str, typer.Option(help="the nation this node runs for, e.g. JPN")],
    keys: Annotated[Path, typer.Option(help="folder written by `trilink keys new`")],
    nats: Annotated[str, typer.Option(help="NATS server URL (JetStream enabled)")] = NATS_DEFAULT,
    regime: Annotated[str | None, typer.Option(
        help="sharing regime (default: the agreements in force today)")] = None,
    date: Annotated[str | None, typer.Option(
        help="read the agreements as in force on this date, YYYY-MM-DD")] = None,
    audit: Annotated[Path | None, typer.Option(help="audit log (SQLite) to append to")] = None,
    ack_deadline_s: Annotated[float, typer.Option(
        "--ack-deadline-s", help="seconds to wait for a read acknowledgement per step")] = 120.0,
    state: Annotated[Path | None, typer.Option(
        help="hotline journal: replayed at start, appended to while running, so a "
             "restarted node resumes its consultations")] = None,
) -> None:
    """Run a national node live over NATS until Ctrl-C or SIGTERM: partners' envelopes in,
    hotline escalations on the wall clock, control API on trilink.ctl.<NATION>."""
    import asyncio
    import datetime as dt
    import sqlite3

    from trilink.hotline.desk import DeskConfig
    from trilink.live.client import LiveError, check_url
    from trilink.live.keys import KeyFileError, load_keys_dir
    from trilink.live.node import LiveNode, live_national_node
    from trilink.sharing import AgreementInvalidError
    from trilink.sharing.audit import AuditFileError, AuditLog
    from trilink.sharing.policy import policy_for

    me = nation_flag(nation, "--nation")
    positive(ack_deadline_s, "--ack-deadline-s")
    try:
        check_url(nats)
    except LiveError as exc:
        fail(str(exc))
    day = None
    if date is not None:
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            fail(f"--date: {date!r} is not a date (expected YYYY-MM-DD)")
    try:
        key, registry = load_keys_dir(keys, me)
    except KeyFileError as exc:
        fail(str(exc))
    try:
        policy = policy_for(regime, day)
    except AgreementInvalidError as exc:
        fail(f"--regime: {exc.errors[0].problem}")
    log = None
    if audit is not None:
        try:
            log = AuditLog(audit)
        except (OSError, AuditFileError, ValueError, sqlite3.Error) as exc:
            fail(f"--audit: cannot open {audit}: {exc}")
    national = live_national_node(me, key, registry, policy, audit=log,
                                  desk_config=DeskConfig(ack_deadline_s=ack_deadline_s))
    if state is not None:
        from trilink.hotline.journal import FileJournal, JournalError, restore

        try:
            replayed = restore(national.hotline, state) if state.exists() else 0
            national.hotline.journal = FileJournal(state).append
        except (JournalError, OSError) as exc:
            fail(f"--state: {exc}")
        if replayed:
            sys.stdout.write(f"{me}: resumed from {state} ({replayed} input(s) replayed, "
                             f"{len(national.hotline.consultations)} consultation(s))\n")

    def show(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    async def serve() -> LiveNode:
        import signal

        live = LiveNode(national, nats, log=show)
        await live.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        show(f"{me}: node running (nations {', '.join(live.nations)}; policy {policy.name}; "
             f"ack deadline {ack_deadline_s:g} s); Ctrl-C to stop")
        await stop.wait()
        await live.stop()
        return live

    try:
        live = asyncio.run(serve())
    except LiveError as exc:
        fail(str(exc))
    except KeyboardInterrupt:  # before the node was up
        complain(f"{me}: interrupted")
        raise typer.Exit(130) from None
    finally:
        if log is not None:
            log.close()
    show(f"{me}: stopped ({live.received} received, {live.sent} sent, {live.queued} unsent)")



def register(app: typer.Typer) -> None:
    app.command()(node)
