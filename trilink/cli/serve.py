"""`trilink serve`: a nation's dashboard and API; `trilink keys token`: its users' tokens."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from trilink.cli.common import NATS_DEFAULT, fail, nation_flag, say


def serve(
    nation: Annotated[str, typer.Option(help="the nation whose node's picture to serve")],
    keys: Annotated[Path, typer.Option(help="folder written by `trilink keys new` (its "
                                            "registry.json checks the users' tokens)")],
    nats: Annotated[str, typer.Option(help="NATS server URL (JetStream enabled)")] = NATS_DEFAULT,
    port: Annotated[int, typer.Option(help="TCP port (0: any free port)")] = 8000,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    replay: Annotated[str | None, typer.Option(
        help="no live node? simulate this scenario and publish the nation's picture "
             "(e.g. 2022-10-04-irbm-overflight)")] = None,
    speed: Annotated[float, typer.Option(help="with --replay: scenario seconds per "
                                              "wall-clock second")] = 10.0,
    nats_creds: Annotated[Path | None, typer.Option(
        "--nats-creds", help="folder from `trilink keys nats` (or its <NATION>/ folder): "
             "read the picture as the nation's dashboard user, send hotline requests as its "
             "operator user (--replay publishes as its node user; default: no credentials, "
             "a development server)")] = None,
    plan: Annotated[str, typer.Option(
        help="the exercise programme scheduled on the /timeline page (file or shipped id; "
             "'none': the record and the picture only)")] = "programme-2026-2028",
) -> None:
    """Serve the nation's dashboard (map, warnings, hotline) and REST/SSE API, read from
    the node's picture stream PICTURE_<NATION>; OpenAPI at /openapi.json."""
    import asyncio

    from trilink.live.client import LiveError, check_url
    from trilink.live.keys import KeyFileError, load_registry
    from trilink.live.natsconf import ROLE_DASHBOARD, ROLE_NODE, user_options
    from trilink.web.server import ServeConfig, run

    me = nation_flag(nation, "--nation")
    if not 0 <= port <= 65535:
        fail(f"--port: expected 0-65535, got {port}")
    if not speed > 0:
        fail(f"--speed: expected a positive number, got {speed}")
    try:
        check_url(nats)
        registry = load_registry(keys / "registry.json")
    except (LiveError, KeyFileError) as exc:
        fail(str(exc))
    if me not in registry.nations():
        fail(f"--nation: {me} has no key in {keys / 'registry.json'}")
    user_options(nats_creds, me, ROLE_DASHBOARD)  # checked now: one line, not at connect
    if plan != "none":  # a bad programme: one line now, not on the first /timeline
        from trilink.exercise.programme import load_programme

        load_programme(plan)
    # Only the node may publish its picture: a replay stands in for it.
    replay_options = user_options(nats_creds, me, ROLE_NODE) if replay else {}

    def started(url: str) -> None:
        say(f"{me}: dashboard at {url} (log in with `trilink keys token --nation {me} "
            f"--keys {keys} --user NAME`); Ctrl-C to stop")
        sys.stdout.flush()

    async def main() -> None:
        feeder = None
        if replay is not None:
            feeder = asyncio.create_task(_feed_replay(nats, me, replay, speed,
                                                      replay_options))
        try:
            await run(ServeConfig(me, nats, keys, host, port, nats_creds,
                                  None if plan == "none" else plan), started)
        finally:
            if feeder is not None:
                feeder.cancel()

    try:
        asyncio.run(main())
    except LiveError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"--port: cannot listen on {host}:{port}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        pass


async def _feed_replay(url: str, nation: str, scenario: str, speed: float,
                       options: dict[str, Any]) -> None:
    import asyncio

    from trilink.live.client import connect
    from trilink.web.publish import ensure_picture_stream
    from trilink.web.replay import publish, simulate_replay

    # The simulation is CPU-bound: on a thread of its own, the server keeps answering.
    rep = await asyncio.to_thread(lambda: asyncio.run(simulate_replay(scenario)))
    nc = await connect(url, name=f"trilink-replay-{nation}", **options)
    try:
        js = nc.jetstream()
        await ensure_picture_stream(js, nation)
        await publish(js, rep.of(nation), speed=speed)
    finally:
        await nc.close()


def keys_token(
    nation: Annotated[str, typer.Option(help="the dashboard's nation (whose key signs)")],
    keys: Annotated[Path, typer.Option(help="folder written by `trilink keys new`")],
    user: Annotated[str, typer.Option(help="the user's name")],
    user_nation: Annotated[str | None, typer.Option(
        help="the user's nation (default: the dashboard's; another nation's user is a "
             "liaison viewer)")] = None,
    role: Annotated[str, typer.Option(help="viewer or operator (hotline actions)")] = "viewer",
    authority: Annotated[str | None, typer.Option(
        help="the hotline authority an operator acts as, e.g. defence_ministry")] = None,
    ttl_s: Annotated[float, typer.Option("--ttl-s", help="seconds the token is valid")]
    = 12 * 3600.0,
) -> None:
    """Print a dashboard login token for a user, signed with the nation's node key."""
    import time

    from trilink.live.keys import KeyFileError, load_keys_dir
    from trilink.web.auth import TokenError, make_token

    me = nation_flag(nation, "--nation")
    theirs = nation_flag(user_nation, "--user-nation") if user_nation else me
    try:
        key, _ = load_keys_dir(keys, me)
        say(make_token(key, user, theirs, role, time.time(), ttl_s, authority))
    except (KeyFileError, TokenError) as exc:
        fail(str(exc))


def register(app: typer.Typer) -> None:
    app.command()(serve)
    from trilink.cli.keys import keys_app

    keys_app.command("token")(keys_token)
