"""`trilink live`: a scenario replayed through three live node processes over NATS."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from trilink.cli.common import fail, say


def live(
    scenario: Annotated[str, typer.Argument(help="scenario file, or the id of a shipped one")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the outputs")],
    speed: Annotated[float, typer.Option(help="scenario seconds per wall-clock second")] = 20.0,
    seed: Annotated[int, typer.Option(min=0, help="seed of the simulated sensors")] = 0,
    regime: Annotated[
        str | None, typer.Option(help="sharing regime (default: the scenario's)")] = None,
    lead_s: Annotated[float, typer.Option(
        "--lead-s", help="wall seconds the nodes get to start before giving up")] = 120.0,
    force: Annotated[bool, typer.Option(
        "--force", help="write into a folder that already has files")] = False,
    serve: Annotated[bool, typer.Option(
        "--serve", help="a dashboard per nation while the replay runs (keys kept in "
                        "OUT/keys for login tokens)")] = False,
    serve_port: Annotated[int | None, typer.Option(
        "--serve-port", help="with --serve: ports BASE, BASE+1, BASE+2 in the scenario's "
                             "nation order (0 or left out: free ports; implies --serve)")
    ] = None,
    hold: Annotated[bool, typer.Option(
        "--hold", help="with --serve: keep the dashboards up on the end state until "
                       "Ctrl-C (implies --serve)")] = False,
    single_server: Annotated[bool, typer.Option(
        "--single-server", help="development: one nats-server for every nation instead "
                                "of one per nation joined by leaf nodes")] = False,
    sim_authorities: Annotated[bool, typer.Option(
        "--sim-authorities/--no-sim-authorities",
        help="simulated people on each node's hotline desk, as in `trilink run`: they "
             "join, draft, approve and release statements live (off: nobody does unless "
             "someone acts through `trilink hotline`)")] = True,
    hotline_max_s: Annotated[float | None, typer.Option(
        "--hotline-max-s", help="scenario seconds the replay may go on past the "
                                "scenario's end while the simulated authorities are at "
                                "work (default: the scenario's hotline lapse time)")] = None,
) -> None:
    """Replay a scenario live: one embedded nats-server per nation (JetStream, each its
    own domain, joined by leaf nodes to the US's; --single-server: one for all); every
    client authenticates as its nation's node, sensor, operator or dashboard user on its
    own nation's server, with keys that never leave the run's temporary folder; one node process per
    nation fed by the scenario's simulated sensors on the wall clock (x SPEED); writes
    summary.json (as `trilink run`), alerts/*.xml, audit/<NATION>.sqlite and
    nodes/<NATION>.node.json. With --serve, prints each nation's dashboard URL and the
    command that mints its login token. Each node runs the scenario's simulated hotline
    authorities (--no-sim-authorities: none) and the replay goes on until they are done."""
    from trilink.live.launch import run_live

    if not speed > 0 or speed > 1000:
        fail(f"--speed: expected a number in (0, 1000], got {speed}")
    if hotline_max_s is not None and not hotline_max_s >= 0:
        fail(f"--hotline-max-s: expected a number of seconds >= 0, got {hotline_max_s}")
    if not lead_s > 0:
        fail(f"--lead-s: expected a positive number of seconds, got {lead_s}")
    if serve_port is not None and not 0 <= serve_port <= 65533:
        fail(f"--serve-port: expected a port in 1-65533 (the three dashboards take BASE, "
             f"BASE+1 and BASE+2; 0: free ports), got {serve_port}")
    if out_dir.exists() and not out_dir.is_dir():
        fail(f"--out: {out_dir} is a file; expected a folder (it is created if missing)")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        fail(f"--out: {out_dir} is not empty (pass --force to replace a previous run's files)")
    serve = serve or serve_port is not None or hold
    started = time.perf_counter()

    def show(text: str) -> None:
        say(text)
        sys.stdout.flush()  # a dashboard's URL is wanted now, also through a pipe

    def line(summary: dict[str, Any]) -> None:
        firsts = []
        for launch in summary["launches"]:
            for n, e in launch["nations"].items():
                if e["first_warning_s"] is not None:
                    firsts.append(f"{n} at T+{e['first_warning_s']:g} s")
        caps = len(list((out_dir / "alerts").glob("*.xml")))
        say(f"{summary['scenario']}: live x{speed:g}; first warnings: "
            f"{', '.join(firsts) or 'nobody'}; {caps} CAP message(s); "
            f"{time.perf_counter() - started:.0f} s wall -> {out_dir / 'summary.json'}")

    def wait_for_ctrl_c(summary: dict[str, Any]) -> None:
        line(summary)
        show("replay over (nodes stopped); the dashboards show its end state until Ctrl-C")

        def interrupt(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        # SIGTERM (kill, a service manager) ends the hold as Ctrl-C does: cleanly.
        previous = signal.signal(signal.SIGTERM, interrupt)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            show("stopping the dashboards")
        finally:
            signal.signal(signal.SIGTERM, previous)

    summary = run_live(scenario, out_dir, speed=speed, seed=seed, regime=regime,
                       lead_s=lead_s, log=show, serve=serve, serve_port=serve_port or 0,
                       hold=wait_for_ctrl_c if hold else None, single_server=single_server,
                       sim_authorities=sim_authorities, hotline_max_s=hotline_max_s)
    if not hold:
        line(summary)


def register(app: typer.Typer) -> None:
    app.command()(live)
