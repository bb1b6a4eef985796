"""`trilink keys`: signing keys of live nodes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trilink.cli.common import fail, say

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
