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



def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
