"""The one root of every error trilink reports to a user.

Every user-facing error derives from :class:`TrilinkError`; the CLI prints
:meth:`TrilinkError.lines` on stderr (one line each, no traceback) and exits with
status 2. Library callers catch ``TrilinkError`` to catch them all.
"""

from __future__ import annotations


class TrilinkError(Exception):
    """Something the caller gave us or asked for cannot be done: said in one line."""

    def lines(self) -> list[str]:
        """What the CLI prints: ``trilink: error: <message>`` by default."""
        return [f"trilink: error: {self}"]


class UsageError(TrilinkError):
    """A bad flag, argument or file named on the command line."""
