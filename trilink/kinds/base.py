"""Contract C1: a data-kind plug-in on the national node.

A plug-in handles the envelopes of one or more kinds (:class:`trilink.sharing.envelope.Kind`)
as a pure state machine. The node does everything that involves keys, agreements and
the audit: it verifies each envelope (signature, key, replay, window, addressing,
releasability) and re-checks the policy before handing it over; it seals the plug-in's
``sends`` into envelopes along the agreements' routes (refusing, and auditing, any the
agreements do not allow); it writes the plug-in's ``notes`` to its audit log; and it
returns the plug-in's ``events`` in ``NodeOutput.kind_events``.

Register plug-ins with ``NationalNode(..., plugins=[...])``. A plug-in never signs,
never touches the audit or the network, and takes time as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only: sharing's fusion reads the track kind's schema
    from trilink.sharing.envelope import Envelope, Kind


@dataclass(frozen=True)
class Send:
    """An order to the node: seal ``payload`` as a ``kind`` envelope for ``to``, marked
    releasable to ``rel_to`` (the node adds itself), with transport ``priority``
    (0 routine, 1 urgent: handled before routine traffic due at the same moment)."""

    to: str
    kind: Kind
    rel_to: tuple[str, ...]
    payload: bytes
    priority: int = 0


@dataclass(frozen=True)
class AuditNote:
    """A line for the node's audit log (no envelope of its own): ``direction`` is one of
    :class:`trilink.sharing.audit.Direction`'s values (``rejected`` for a refused
    payload, ``escalated`` for a step taken); ``t_s`` in seconds since the node's epoch."""

    t_s: float
    direction: str
    peer: str | None
    kind: str
    detail: str


@dataclass
class PluginOutput:
    """What a plug-in asks of the node after one input."""

    sends: list[Send] = field(default_factory=list)
    notes: list[AuditNote] = field(default_factory=list)
    events: list[object] = field(default_factory=list)  # kind-specific, for drivers/faces

    def extend(self, other: PluginOutput) -> PluginOutput:
        self.sends += other.sends
        self.notes += other.notes
        self.events += other.events
        return self


@runtime_checkable
class KindPlugin(Protocol):
    """A data kind's logic on the node (see the module docstring)."""

    kinds: tuple[Kind, ...]

    def on_envelope(self, env: Envelope, now_s: float) -> PluginOutput:
        """An envelope of one of ``kinds`` addressed to this node, already verified
        and policy-checked. Raising ``ValueError`` refuses it (the node audits why)."""
        ...

    def tick(self, now_s: float) -> PluginOutput:
        """Time passes: deadlines due at ``now_s``."""
        ...

    def next_wakeup_s(self) -> float | None:
        """When the plug-in next wants :meth:`tick` (None: only on input)."""
        ...
