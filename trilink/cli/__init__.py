"""The ``trilink`` command line: typer commands, rich tables, ``--json`` for machines.

One module per command group; each exposes ``register(app)``. :func:`main` turns every
:class:`~trilink.errors.TrilinkError` into one line on stderr and exit status 2 — never a
traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from typer.exceptions import Abort, Exit, TyperException

from trilink import __version__
from trilink.cli import (
    audit,
    bench,
    compare,
    cyber,
    exercise,
    feed,
    flight,
    hotline,
    keys,
    live,
    node,
    record,
    run,
    scenarios,
    screen,
    serve,
    supply,
)
from trilink.cli.common import complain, say
from trilink.cli.run import run_summary_line
from trilink.errors import TrilinkError

__all__ = ["app", "entry", "main", "run_summary_line"]

app = typer.Typer(
    name="trilink",
    help=(
        "trilink: the US-Japan-ROK security cooperation system as software.\n\n"
        "Replays DPRK launches with physics fitted to published flight data, runs national "
        "nodes that share under the agreements in force, and warns."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# The command groups, in the order `trilink --help` lists them.
GROUPS = (flight, run, compare, scenarios, audit, bench, keys, node, live, feed, hotline,
          record, exercise, screen, serve, cyber, supply)
for _group in GROUPS:
    _group.register(app)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="print the version and exit")] = False,
) -> None:
    if version:
        say(f"trilink {__version__}")
        raise typer.Exit(0)


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the typer app and turns user errors into one line, status 2."""
    try:
        # Outside standalone mode an Exit raised by a command comes back as the return value.
        code = app(args=argv, standalone_mode=False, prog_name="trilink")
    except TrilinkError as exc:
        for line in exc.lines():
            complain(line)
        return 2
    except Exit as exc:
        return int(exc.exit_code)
    except Abort:
        complain("trilink: aborted")
        return 130
    except TyperException as exc:  # usage errors: bad flags, missing arguments
        complain(f"trilink: error: {exc.format_message()}")
        return int(exc.exit_code)
    return code if isinstance(code, int) else 0


def entry() -> None:
    sys.exit(main())
