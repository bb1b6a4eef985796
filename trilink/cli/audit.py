"""`trilink audit`: nodes' hash-chained audit logs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

audit_app = typer.Typer(help="Nodes' hash-chained audit logs.", no_args_is_help=True)

@audit_app.command("verify")
def audit_verify(
    file: Annotated[Path, typer.Argument(help="a node's audit log (SQLite)")],
) -> None:
    """Exit 0 if the hash chain is intact; 1 and the first broken record otherwise."""
    from trilink.sharing.audit import verify_cli

    code = verify_cli(str(file))
    if code:
        raise typer.Exit(code)



def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
