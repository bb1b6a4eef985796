"""`trilink feed`: a scenario's simulated sensor measurements (radar scans and space-based
infrared frames), published live on NATS."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trilink.cli.common import NATS_DEFAULT, fail, say


def feed(
    scenario: Annotated[str, typer.Argument(help="scenario file, or the id of a shipped one")],
    speed: Annotated[float, typer.Option(help="scenario seconds per wall-clock second")] = 1.0,
    nats: Annotated[str, typer.Option(help="NATS server URL")] = NATS_DEFAULT,
    seed: Annotated[int, typer.Option(min=0, help="seed of the simulated sensors")] = 0,
    start_unix: Annotated[float | None, typer.Option(
        "--start-unix", help="wall time (Unix s) of scenario second 0 (default: in 2 s)")
    ] = None,
    buffer_scans: Annotated[int, typer.Option(
        "--buffer-scans", min=1, help="per nation: scans kept through a server outage and "
             "sent on reconnect (oldest dropped, and counted, beyond)")] = 10_000,
    nats_creds: Annotated[Path | None, typer.Option(
        "--nats-creds", help="folder from `trilink keys nats`: each nation's scans go out "
             "as that nation's sensor user (default: no credentials, a development "
             "server)")] = None,
) -> None:
    """Publish every radar scan and infrared frame of the scenario on
    trilink.sensor.<NATION>.<SENSOR_ID> when the scenario clock (x SPEED) reaches it;
    through a server outage the scans are kept (--buffer-scans) and sent once a node
    listens again. Nodes that should follow it run with the clock this command prints
    (see docs/live.md)."""
    import asyncio
    import time

    from trilink.live.client import LiveError, SensorFeed, check_url
    from trilink.live.natsconf import ROLE_SENSOR, user_options
    from trilink.live.replay import (
        ScenarioClock,
        publish_feed,
        scenario_nations,
        scenario_scans,
        scenario_truth,
    )
    from trilink.sim.scenario import load_scenario

    if not speed > 0 or speed > 1000:
        fail(f"--speed: expected a number in (0, 1000], got {speed}")
    try:
        check_url(nats)
    except LiveError as exc:
        fail(str(exc))
    sc = load_scenario(scenario)
    nations = scenario_nations(sc)
    # Checked before the simulation: a bad folder is one line at once.
    options = {n: user_options(nats_creds, n, ROLE_SENSOR) for n in nations}
    truth = scenario_truth(sc)
    assert truth.epoch is not None
    scans = scenario_scans(truth, nations, seed)
    clock = ScenarioClock(truth.epoch, time.time() + 2.0 if start_unix is None else start_unix,
                          speed)
    say(f"{sc.id}: {len(scans)} scans and frames over {truth.end_t_s:.0f} s; scenario clock: "
        f"--epoch {truth.epoch.isoformat()} --start-unix {clock.start_unix:.3f} "
        f"--speed {speed:g}")

    async def go() -> int:
        nc = await SensorFeed.open(nats, nations, "trilink-feed", options.__getitem__,
                                   buffer_scans=buffer_scans, log=say)
        try:
            await publish_feed(nc, scans, clock)
            if nc.buffered:
                say(f"{sc.id}: {nc.buffered} scan(s) kept through a server outage, "
                    f"{nc.dropped} dropped (buffer full), {nc.waiting} never sent")
            return nc.published
        finally:
            await nc.close()

    try:
        sent = asyncio.run(go())
    except LiveError as exc:
        fail(str(exc))
    say(f"{sc.id}: {sent} scans published")


def register(app: typer.Typer) -> None:
    app.command()(feed)
