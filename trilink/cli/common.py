"""What every command group shares: one-line output and errors, JSON, flag parsing.

User errors (bad flags, bad files, unreachable flights) print one line on stderr and
exit with status 2; they never show a traceback (see :func:`trilink.cli.main`).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console

from trilink.errors import UsageError

# Piped output gets a fixed, roomy width so tables stay readable in logs and files.
out = Console(width=None if sys.stdout.isatty() else 120)

NATS_DEFAULT = "nats://127.0.0.1:4222"

# Kept under its old name: commands raise it for a bad flag or file.
UserError = UsageError


def say(line: str) -> None:
    """One plain line on stdout (no wrapping or markup: scripts parse these)."""
    sys.stdout.write(line + "\n")


def complain(line: str) -> None:
    """One plain line on stderr."""
    sys.stderr.write(line + "\n")


def fail(message: str) -> NoReturn:
    raise UsageError(message)


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def nation_flag(text: str, flag: str) -> str:
    from trilink.live.keys import parse_nations

    try:
        nations = parse_nations(text, flag)
    except ValueError as exc:
        fail(str(exc))
    if len(nations) != 1:
        fail(f"{flag}: expected one ISO alpha-3 code (e.g. JPN), got {text!r}")
    return nations[0]


def out_folder(out_dir: Path, force: bool, flag: str = "--out") -> Path:
    """``out_dir`` if it can take a command's outputs: missing, empty, or ``force``.

    A folder that already holds files would mix old outputs with new ones, so it is
    refused unless ``--force`` (a file in its place always is)."""
    if out_dir.exists() and not out_dir.is_dir():
        fail(f"{flag}: {out_dir} is a file; expected a folder (it is created if missing)")
    if not force and out_dir.is_dir() and any(out_dir.iterdir()):
        fail(f"{flag}: {out_dir} is not empty; give an empty or new folder, or --force to "
             "replace the outputs in it")
    return out_dir


def positive(value: float, flag: str) -> float:
    if not value > 0:
        fail(f"{flag}: expected a positive number of seconds, got {value}")
    return value


def parse_day(text: str, flag: str) -> dt.date:
    """A YYYY-MM-DD flag, or one line naming the flag."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{flag}: {text!r} is not a date (expected YYYY-MM-DD)")
