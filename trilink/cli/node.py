"""`trilink node`: a national node live over NATS."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trilink.cli.common import NATS_DEFAULT, complain, fail, nation_flag, positive

if TYPE_CHECKING:
    from trilink.sharing.policy import Policy


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
    ack_wait_s: Annotated[float, typer.Option(
        "--ack-wait-s", help="seconds JetStream waits for this node's ack before it delivers "
                             "an envelope again (after a crash, what was in flight comes "
                             "back after this; `trilink live` uses 5)")] = 30.0,
    state: Annotated[Path | None, typer.Option(
        help="hotline journal: replayed at start, appended to while running, so a "
             "restarted node resumes its consultations")] = None,
    alerts: Annotated[Path | None, typer.Option(
        help="folder for the node's CAP messages (also published on trilink.cap.<NATION>)")
    ] = None,
    record: Annotated[Path | None, typer.Option(
        help="on stop, write what the node tracked, received and warned (JSON)")] = None,
    epoch: Annotated[str | None, typer.Option(
        help="replay: scenario epoch (ISO 8601 UTC), as `trilink feed` prints it")] = None,
    start_unix: Annotated[float | None, typer.Option(
        "--start-unix", help="replay: wall time of scenario second 0")] = None,
    speed: Annotated[float, typer.Option(help="replay: scenario seconds per wall second")
                     ] = 1.0,
    operators: Annotated[Path | None, typer.Option(
        help="operators.json (`trilink keys operator`): answer only control requests "
             "signed by this nation's operators")] = None,
    cyber: Annotated[bool, typer.Option(
        "--cyber", help="carry the cyber kind: STIX 2.1 indicators shared under the "
             "agreements and TLP (operators publish with `trilink cyber publish`)")] = False,
    nats_creds: Annotated[Path | None, typer.Option(
        "--nats-creds", help="folder from `trilink keys nats` (or its <NATION>/ folder): "
             "connect as the nation's node user (default: no credentials, a development "
             "server)")] = None,
    taxii_port: Annotated[int | None, typer.Option(
        "--taxii-port", help="with --cyber: serve the node's TAXII 2.1 on this port "
             "(0: any free port; discovery at /taxii2/)")] = None,
    taxii_users: Annotated[Path | None, typer.Option(
        "--taxii-users", help="with --taxii-port: taxii_users.json from `trilink keys "
             "taxii` (who may call, per nation)")] = None,
    taxii_host: Annotated[str, typer.Option(
        "--taxii-host", help="with --taxii-port: the address to listen on")] = "127.0.0.1",
    scenario: Annotated[str | None, typer.Option(
        help="replay: the scenario replayed (file or shipped id), for --sim-authorities")
    ] = None,
    sim_authorities: Annotated[bool, typer.Option(
        "--sim-authorities/--no-sim-authorities",
        help="with --scenario: the scenario's simulated people act on this node's hotline "
             "desk (join, draft, approve, conclude) as in `trilink run`; off (default): "
             "people act through `trilink hotline`")] = False,
    seed: Annotated[int, typer.Option(
        min=0, help="with --sim-authorities: the run's seed (as `trilink run --seed`)")] = 0,
) -> None:
    """Run a national node live over NATS until Ctrl-C or SIGTERM: its own nation's
    sensors in (trilink.sensor.<NATION>.*), partners' envelopes in, tracks shared, CAP
    warnings out, hotline escalations on the wall clock, control API on
    trilink.ctl.<NATION>. With --epoch/--start-unix/--speed it follows a `trilink feed`
    replay's scenario clock. With --cyber it carries STIX indicators too (--regime may
    then name a cyber regime, e.g. cyber-trilateral-2024), and with --taxii-port it
    serves its indicators over TAXII 2.1, each nation's analysts seeing what the
    agreements and TLP release to them."""
    import asyncio
    import sqlite3
    import time

    from trilink.bus.nats import BusError
    from trilink.errors import TrilinkError
    from trilink.hotline.desk import DeskConfig
    from trilink.live.client import LiveError, check_url
    from trilink.live.keys import KeyFileError, load_keys_dir
    from trilink.live.node import UNIX_EPOCH, LiveNode, live_cyber_node, live_national_node
    from trilink.sharing import AgreementInvalidError
    from trilink.sharing.audit import AuditFileError, AuditLog
    from trilink.sharing.policy import policy_for

    me = nation_flag(nation, "--nation")
    positive(ack_deadline_s, "--ack-deadline-s")
    if not 0 < ack_wait_s <= 3600:
        fail(f"--ack-wait-s: expected seconds in (0, 3600], got {ack_wait_s}")
    try:
        check_url(nats)
    except LiveError as exc:
        fail(str(exc))
    from trilink.live.natsconf import ROLE_NODE, user_options

    nats_options = user_options(nats_creds, me, ROLE_NODE)
    taxii_credentials = None
    if taxii_port is not None or taxii_users is not None:
        if not cyber:
            fail("--taxii-port: the node serves TAXII only with --cyber")
        if taxii_port is None or taxii_users is None:
            fail("--taxii-port and --taxii-users go together (`trilink keys taxii` writes "
                 "the users file)")
        if not 0 <= taxii_port <= 65535:
            fail(f"--taxii-port: expected 0-65535, got {taxii_port}")
        from trilink.cyber.taxii import Credentials, TaxiiUsersError

        try:
            taxii_credentials = Credentials.from_file(taxii_users)
        except TaxiiUsersError as exc:
            fail(f"--taxii-users: {exc}")
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
        policy = _cyber_policy(regime, day) if cyber else policy_for(regime, day)
    except AgreementInvalidError as exc:
        fail(f"--regime: {exc.errors[0].problem}")
    log = None
    if audit is not None:
        try:
            log = AuditLog(audit)
        except (OSError, AuditFileError, ValueError, sqlite3.Error) as exc:
            fail(f"--audit: cannot open {audit}: {exc}")
    clock = None
    if (epoch is None) != (start_unix is None):
        fail("--epoch and --start-unix go together (copy both from `trilink feed`)")
    if not 0 < speed <= 1000:
        fail(f"--speed: expected a number in (0, 1000], got {speed}")
    if epoch is not None and start_unix is not None:
        from trilink.live.replay import ScenarioClock

        try:
            when = dt.datetime.fromisoformat(epoch)
        except ValueError:
            fail(f"--epoch: {epoch!r} is not an ISO 8601 time")
        if when.tzinfo is None:
            fail(f"--epoch: {epoch!r} has no time zone (expected UTC, e.g. +00:00)")
        clock = ScenarioClock(when, start_unix, speed)
    guard = None
    if operators is not None:
        from trilink.live.auth import ControlGuard, OperatorFileError, OperatorRegistry

        try:
            guard = ControlGuard(me, OperatorRegistry.from_json(operators.read_text(),
                                                                str(operators)))
        except (OSError, OperatorFileError) as exc:
            fail(f"--operators: {exc}")
    authorities = None
    if sim_authorities:
        if scenario is None:
            fail("--sim-authorities needs --scenario (the response model they follow)")
        from trilink.live.launch import replay_authorities
        from trilink.live.replay import scenario_nations
        from trilink.sim.scenario import load_scenario

        try:
            replay_of = load_scenario(scenario)
        except TrilinkError as exc:
            fail(f"--scenario: {str(exc).splitlines()[0]}")
        authorities = replay_authorities(replay_of, me, scenario_nations(replay_of), seed)
    build = live_cyber_node if cyber else live_national_node
    national = build(me, key, registry, policy, audit=log,
                     desk_config=DeskConfig(ack_deadline_s=ack_deadline_s),
                     epoch=UNIX_EPOCH if clock is None else clock.epoch,
                     modelled_latency=clock is not None)
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

    from trilink.live.record import NodeRecorder

    recorder = NodeRecorder(me) if record is not None else None

    def show(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    async def serve() -> LiveNode:
        import signal

        live = LiveNode(national, nats, log=show, sensors=True, alerts_dir=alerts,
                        ack_wait_s=ack_wait_s, control_guard=guard, nats_options=nats_options,
                        recorder=recorder, hold_sends=clock is not None,
                        clock=time.time if clock is None else clock.unix_now,
                        speed=1.0 if clock is None else clock.speed,
                        authorities=authorities)
        await live.start()
        taxii = None
        if taxii_credentials is not None and taxii_port is not None:
            from trilink.cyber.plugin import mounted
            from trilink.live.taxii import serve_taxii

            plugin = mounted(national.plugins)
            assert plugin is not None  # --cyber was checked above
            taxii = serve_taxii(plugin, taxii_credentials,
                                lambda: national.epoch + dt.timedelta(seconds=live.now_s()),
                                taxii_host, taxii_port)
            show(f"{me}: TAXII 2.1 at {taxii.url}/taxii2/")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        show(f"{me}: node running (nations {', '.join(live.nations)}; policy {policy.name}; "
             f"ack deadline {ack_deadline_s:g} s{'; cyber kind' if cyber else ''}); "
             "Ctrl-C to stop")
        await stop.wait()
        if taxii is not None:
            taxii.stop()
        await live.stop()
        return live

    try:
        live = asyncio.run(serve())
    except (LiveError, BusError, TrilinkError) as exc:  # TrilinkError: e.g. TAXII's port
        fail(str(exc))
    except KeyboardInterrupt:  # before the node was up
        complain(f"{me}: interrupted")
        raise typer.Exit(130) from None
    finally:
        if log is not None:
            log.close()
    if recorder is not None and record is not None:
        try:
            recorder.write(record, national, received=live.received, sent=live.sent,
                           unsent=live.queued, scans=live.scans,
                           feed_rejected=live.feed_rejected)
        except OSError as exc:
            fail(f"--record: cannot write {record}: {exc.strerror or exc}")
    show(f"{me}: stopped ({live.received} received, {live.sent} sent, {live.queued} unsent, "
         f"{live.scans} scans, {live.warnings_issued} CAP)")


def _cyber_policy(regime: str | None, day: dt.date | None) -> Policy:
    """A cyber regime by id (its agreements include the cyber ones), else as for tracks."""
    from trilink.cyber.regimes import cyber_regimes, cyber_regimes_dir
    from trilink.sharing.policy import policy_for

    if regime in cyber_regimes():
        return policy_for(str(cyber_regimes_dir() / f"{regime}.yaml"), day)
    return policy_for(regime, day)


def register(app: typer.Typer) -> None:
    app.command()(node)
