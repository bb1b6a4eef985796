"""`trilink keys`: signing keys of live nodes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trilink.cli.common import NATS_DEFAULT, fail, say

keys_app = typer.Typer(help="Signing keys of live nodes.", no_args_is_help=True)

@keys_app.command("new")
def keys_new(
    nations: Annotated[str, typer.Option(help="comma-separated nations, e.g. USA,JPN,KOR")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the key files")],
    force: Annotated[bool, typer.Option("--force", help="replace existing key files")] = False,
) -> None:
    """Generate a signing key per nation: DIR/<NATION>.key (private, mode 0600; give each
    only to its own node) and DIR/registry.json (public keys, for every node)."""
    from trilink.live.keys import KeyFileError, parse_nations, write_keys

    try:
        written = write_keys(parse_nations(nations), out_dir, force=force)
    except (KeyFileError, ValueError) as exc:
        fail(str(exc))
    for path in written:
        say(str(path))


@keys_app.command("nats")
def keys_nats(
    nations: Annotated[str, typer.Option(help="comma-separated nations, e.g. USA,JPN,KOR")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the credentials and "
                                          "the server configuration")],
    port: Annotated[int, typer.Option(help="the server's client port")] = 4222,
    host: Annotated[str, typer.Option(help="the address the server listens on")
                    ] = "127.0.0.1",
    store: Annotated[Path | None, typer.Option(
        help="the server's JetStream store (default: DIR/jetstream)")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace existing credentials")
                     ] = False,
) -> None:
    """NATS users for a federation on one server: an nkey per nation and role (node,
    sensor, dashboard, operator, admin) in DIR/<NATION>/<NATION>_<ROLE>.nk (private
    seeds, mode 0600: give DIR/<NATION>/ to that nation only; commands take it as
    --nats-creds), DIR/users.json (public keys) and DIR/server.conf, the nats-server
    configuration (`nats-server -c DIR/server.conf`) with each user's subject permissions;
    anyone else is refused at connect. See docs/deployment.md."""
    from trilink.live.keys import parse_nations
    from trilink.live.natsconf import (
        CLIENT_ROLES,
        USERS_FILE,
        NatsConfError,
        write_credentials,
        write_server_config,
    )

    try:
        everyone = parse_nations(nations)
    except ValueError as exc:
        fail(str(exc))
    if not 0 < port < 65536:
        fail(f"--port: expected 1-65535, got {port}")
    if out_dir.exists() and not out_dir.is_dir():
        fail(f"--out: {out_dir} is a file; expected a folder (it is created if missing)")
    conf = out_dir / "server.conf"
    if conf.exists() and not force:
        fail(f"--out: {conf} exists; refusing to overwrite (use --force to replace it)")
    try:
        written = write_credentials(out_dir, everyone, roles=CLIENT_ROLES, force=force)
        written.append(write_server_config(
            conf, out_dir / USERS_FILE, port=port, host=host,
            store_dir=(store or out_dir / "jetstream").absolute()))
    except NatsConfError as exc:
        fail(str(exc))
    for path in written:
        say(str(path))



@keys_app.command("taxii")
def keys_taxii(
    nations: Annotated[str, typer.Option(help="comma-separated nations, e.g. USA,JPN,KOR")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the TAXII credentials")],
    force: Annotated[bool, typer.Option("--force", help="replace existing credentials")
                     ] = False,
) -> None:
    """TAXII 2.1 users, one per nation: DIR/<NATION>/taxii.secret (USER:SECRET, mode
    0600: give it to that nation's analysts) and DIR/taxii_users.json (names, nations and
    digests only: what `trilink node --cyber --taxii-users` needs)."""
    from trilink.cyber.taxii import USERS_FILE, TaxiiUsersError, write_taxii_users
    from trilink.live.keys import parse_nations

    try:
        everyone = list(parse_nations(nations))
    except ValueError as exc:
        fail(str(exc))
    if out_dir.exists() and not out_dir.is_dir():
        fail(f"--out: {out_dir} is a file; expected a folder (it is created if missing)")
    if (out_dir / USERS_FILE).exists() and not force:
        fail(f"--out: {out_dir / USERS_FILE} exists; refusing to overwrite (use --force)")
    try:
        say(str(write_taxii_users(out_dir, everyone)))
    except (OSError, TaxiiUsersError) as exc:
        fail(f"--out: {exc}")


@keys_app.command("nats-streams")
def keys_nats_streams(
    nations: Annotated[str, typer.Option(help="comma-separated nations whose streams to "
                                         "make, e.g. KOR")],
    nats_creds: Annotated[Path, typer.Option(
        "--nats-creds", help="folder from `trilink keys nats` (or a nation's <NATION>/ "
             "folder) with each nation's admin seed")],
    nats: Annotated[str, typer.Option(help="NATS server URL")] = NATS_DEFAULT,
) -> None:
    """Create each nation's OUTBOX_<NATION> and PICTURE_<NATION> streams as its admin user
    (nodes and dashboards may not create streams; run this once, before they start)."""
    import asyncio

    from trilink.live.client import LiveError, check_url
    from trilink.live.keys import parse_nations
    from trilink.live.launch import provision_streams
    from trilink.live.natsconf import ROLE_ADMIN, creds_options

    try:
        everyone = parse_nations(nations)
        check_url(nats)
    except (ValueError, LiveError) as exc:
        fail(str(exc))
    for n in everyone:
        creds_options(nats_creds, n, ROLE_ADMIN)  # one line now, not at connect
    try:
        made = asyncio.run(provision_streams(nats, everyone, nats_creds))
    except LiveError as exc:
        fail(str(exc))
    except Exception as exc:  # nats-py's JetStream errors: the server said no
        fail(f"--nats: {nats}: cannot create the streams ({exc or type(exc).__name__})")
    for name in made:
        say(name)


@keys_app.command("operator")
def keys_operator(
    operator_id: Annotated[str, typer.Option("--id", help="the operator's id, e.g. jpn-js-1")],
    nation: Annotated[str, typer.Option(help="the operator's nation, e.g. JPN")],
    authority: Annotated[str, typer.Option(help="the authority it acts for")],
    roles: Annotated[str, typer.Option(help="comma-separated: read,open,post,approve,sign")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the key files")],
) -> None:
    """Make an operator key: DIR/<id>.operator (private, 0600: for that operator, used
    by `trilink hotline` through TRILINK_OPERATOR_KEY) and DIR/operators.json (public:
    for the node, `trilink node --operators`)."""
    from trilink.cli.common import nation_flag
    from trilink.live.auth import OperatorFileError, new_operator, write_operator

    me = nation_flag(nation, "--nation")
    try:
        op, key = new_operator(operator_id, me, authority,
                               [r.strip() for r in roles.split(",") if r.strip()])
        written = write_operator(op, key, out_dir)
    except (OperatorFileError, ValueError, KeyError) as exc:
        fail(str(exc).replace("roles:", "--roles:").replace("authority:", "--authority:"))
    for path in written:
        say(str(path))


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
