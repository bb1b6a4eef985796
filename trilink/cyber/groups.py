"""Sharing groups whose membership changes over time, without MISP issue 1721's leak.

A group ("the trilateral DPRK cyber working group") gains and loses members on dated
events. Releasing an item "to the group" resolves the group *at the release instant* into
an explicit REL TO list that travels with the item and never grows: a nation that joins
later sees what is released after it joined, never the back catalogue (MISP #1721: an
organisation added to a sharing group received events shared before it was a member).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from trilink.sharing.releasability import check_nation


@dataclass(frozen=True)
class Membership:
    """``nation`` is a member from ``joined`` (inclusive) until ``left`` (exclusive)."""

    nation: str
    joined: dt.datetime
    left: dt.datetime | None = None

    def __post_init__(self) -> None:
        check_nation(self.nation)
        if self.joined.tzinfo is None or (self.left is not None and self.left.tzinfo is None):
            raise ValueError("membership times must be timezone-aware")
        if self.left is not None and self.left <= self.joined:
            raise ValueError("a member must leave after it joins")


@dataclass(frozen=True)
class SharingGroup:
    """A named group and its dated memberships."""

    name: str
    memberships: tuple[Membership, ...]

    @classmethod
    def of(cls, name: str, memberships: Iterable[Membership]) -> SharingGroup:
        return cls(name, tuple(memberships))

    def members_at(self, t: dt.datetime) -> frozenset[str]:
        """Nations that are members at ``t``."""
        if t.tzinfo is None:
            raise ValueError("t must be timezone-aware")
        return frozenset(
            m.nation for m in self.memberships
            if m.joined <= t and (m.left is None or t < m.left)
        )

    def release(self, originator: str, t: dt.datetime) -> frozenset[str]:
        """The REL TO list of an item the originator releases to the group at ``t``: the
        members at ``t`` (and the originator), fixed from then on."""
        check_nation(originator)
        return self.members_at(t) | {originator}
