"""Originator control: who may hold a shared item (the REL TO list).

Every shared item carries its originator and the nations the originator released it to.
The canonical marking follows the CAPCO style used on US products: ``REL TO`` then the
trigraphs, ``USA`` first when present, the others in alphabetical order, separated by
``", "`` — e.g. ``"REL TO USA, JPN, KOR"``. The originator is always in its own list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_CODE = re.compile(r"^[A-Z]{3}$")
_PREFIX = "REL TO "


def check_nation(code: str) -> str:
    """Return ``code`` if it is an ISO 3166-1 alpha-3 style code (three capitals)."""
    if not isinstance(code, str) or not _CODE.match(code):
        raise ValueError(f"nation {code!r} is not an ISO 3166-1 alpha-3 code (three capitals)")
    return code


def canonical_order(nations: Iterable[str]) -> tuple[str, ...]:
    """Nations in marking order: ``USA`` first when present, then alphabetical."""
    unique = set(nations)
    return tuple(sorted(unique, key=lambda c: (c != "USA", c)))


@dataclass(frozen=True)
class Releasability:
    """The originator of an item and the nations it released the item to.

    ``rel_to`` always contains the originator (added if missing).
    """

    originator: str
    rel_to: frozenset[str]

    def __post_init__(self) -> None:
        check_nation(self.originator)
        for code in self.rel_to:
            check_nation(code)
        if self.originator not in self.rel_to:
            object.__setattr__(self, "rel_to", frozenset(self.rel_to | {self.originator}))

    @classmethod
    def of(cls, originator: str, *nations: str) -> Releasability:
        """``Releasability.of("JPN", "USA")`` → originator JPN, ``REL TO USA, JPN``."""
        return cls(originator, frozenset(nations))

    @classmethod
    def parse(cls, marking: str, originator: str) -> Releasability:
        """Parse a ``"REL TO USA, JPN"`` marking (spaces and case tolerant)."""
        text = marking.strip()
        if not text.upper().startswith(_PREFIX.strip()):
            raise ValueError(f"marking {marking!r} does not start with 'REL TO'")
        body = text[len(_PREFIX.strip()) :]
        codes = [c.strip().upper() for c in body.split(",") if c.strip()]
        if not codes:
            raise ValueError(f"marking {marking!r} names no nation")
        return cls(originator, frozenset(codes))

    def allows(self, nation: str) -> bool:
        """True when ``nation`` may hold the item."""
        return nation in self.rel_to

    @property
    def marking(self) -> str:
        """The canonical marking, e.g. ``"REL TO USA, JPN"``."""
        return _PREFIX + ", ".join(canonical_order(self.rel_to))

    def __str__(self) -> str:
        return self.marking
