"""Screen indicator values against the MISP warning lists (``pymispwarninglists``): a
benign value (a public DNS resolver, a top-1M domain, a cloud range …) must not become a
shared indicator. Loading every list takes seconds, so it happens once, on first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

Screen = Callable[[str], list[str]]
"""A value → the names of the warning lists it is on (empty: not known benign)."""

_VALUE = re.compile(r"=\s*'((?:[^'\\]|\\.){1,512})'")


@lru_cache(maxsize=1)
def _lists() -> Any:
    from pymispwarninglists.api import WarningLists

    return WarningLists(slow_search=False)


def misp_screen(value: str) -> list[str]:
    """The MISP warning lists ``value`` is on."""
    return sorted({w.name for w in _lists().search(value)})


def no_screen(value: str) -> list[str]:
    return []


def pattern_values(obj: Mapping[str, Any]) -> list[str]:
    """The literal values compared in an indicator's STIX pattern."""
    if obj.get("type") != "indicator" or obj.get("pattern_type", "stix") != "stix":
        return []
    return [m.group(1).replace("\\'", "'") for m in _VALUE.finditer(str(obj.get("pattern", "")))]


def benign_hits(obj: Mapping[str, Any], screen: Screen) -> list[str]:
    """``value: list, list`` for every pattern value on a warning list."""
    hits = []
    for value in pattern_values(obj):
        names = screen(value)
        if names:
            hits.append(f"{value}: on MISP warning list(s) {', '.join(names[:3])}")
    return hits
