"""Deterministic STIX identities of the national nodes (same ids on every run and node)."""

from __future__ import annotations

import uuid
from typing import Any, Final

from trilink.sharing.releasability import check_nation

_NS: Final = uuid.UUID("9b1f3c52-6a0e-5d7b-8c21-4e5f6a7b8c9d")
CREATED: Final = "2023-01-01T00:00:00.000Z"


def nation_identity_id(nation: str) -> str:
    return f"identity--{uuid.uuid5(_NS, check_nation(nation))}"


def nation_identity(nation: str) -> dict[str, Any]:
    """The identity object a node signs its STIX objects with (``created_by_ref``)."""
    return {"type": "identity", "spec_version": "2.1", "id": nation_identity_id(nation),
            "created": CREATED, "modified": CREATED, "name": f"trilink national node {nation}",
            "identity_class": "organization", "sectors": ["government-national"]}


def stable_id(kind: str, *parts: str) -> str:
    """A deterministic STIX id: ``kind--uuid5(parts)`` (seeded content, reproducible)."""
    return f"{kind}--{uuid.uuid5(_NS, '|'.join((kind, *parts)))}"


def nation_of_identity(identity_id: str, nations: tuple[str, ...]) -> str | None:
    for n in nations:
        if nation_identity_id(n) == identity_id:
            return n
    return None
