"""`trilink audit`: nodes' hash-chained audit logs and their signed checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

audit_app = typer.Typer(help="Nodes' hash-chained audit logs.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    file: Annotated[Path, typer.Argument(help="a node's audit log (SQLite)")],
    keys: Annotated[Path | None, typer.Option(
        help="key registry (JSON): check the signed checkpoints, and that they anchor "
             "every record")] = None,
    checkpoints: Annotated[Path | None, typer.Option(
        help="checkpoints kept by a partner: a JSON-lines file or the partner's audit "
             "log")] = None,
) -> None:
    """Exit 0 if intact; 1 and one line per problem (which records, since when); 2 if a
    file is unreadable."""
    from trilink.sharing.audit import verify_cli

    code = verify_cli(str(file), None if keys is None else str(keys),
                      None if checkpoints is None else str(checkpoints))
    if code:
        raise typer.Exit(code)


@audit_app.command("checkpoints")
def audit_checkpoints(
    file: Annotated[Path, typer.Argument(help="an audit log (SQLite)")],
    nation: Annotated[str | None, typer.Option(help="only this nation's checkpoints")] = None,
) -> None:
    """Print the checkpoints a log holds (its own and partners'), one JSON line each."""
    from trilink.cli.common import fail
    from trilink.sharing.audit import AuditFileError, read_checkpoints
    from trilink.sharing.checkpoint import to_json

    try:
        kept = read_checkpoints(file)
    except AuditFileError as exc:
        fail(f"{file}: {exc}")
    for cp in kept:
        if nation is None or cp.nation == nation.upper():
            typer.echo(to_json(cp))


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
