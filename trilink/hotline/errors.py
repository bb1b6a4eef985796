"""The hotline desk's refusal (its own module: the desk and its journal both need it)."""

from __future__ import annotations

from trilink.errors import TrilinkError


class DeskError(TrilinkError, ValueError):
    """An authority asked for something the desk cannot do (one line: why)."""
