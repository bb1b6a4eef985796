"""What hotline traffic looks like inside a signed envelope.

A consultation is a shared, ordered transcript of :class:`Post` items. Each post has a
body (open, join, say, draft, approve …) and is created once, by one nation's desk,
with a message id ``<NATION>-<n>`` and a Lamport time; it never changes after. Around
the posts travel the transport items of the hotline, each the payload of one envelope
of kind ``hotline`` (or ``statement`` for statement and consent posts):

- :class:`Deliver` — a post, brought to the attention of one authority of the
  recipient (the escalation ladder may raise it);
- :class:`Receipt` — the recipient's node accepted the post (delivery receipt);
- :class:`Read` — an authority of the recipient read it (read acknowledgement);
- :class:`Forward` — the signed envelope of another nation, carried by a third party
  where the agreements allow no direct exchange (alternate route).

Every item is MessagePack (msgspec) with a tag, so one decoder reads them all and
unknown tags are malformed. Times are seconds since the run's epoch (UTC).
"""

from __future__ import annotations

import enum
from typing import Final

import msgspec

from trilink.sharing.agreements import DataKind


class Authority(enum.StrEnum):
    """The named authorities of each nation that hold hotline channels."""

    JOINT_STAFF = "joint_staff"
    DEFENCE_MINISTRY = "defence_ministry"
    FOREIGN_MINISTRY = "foreign_ministry"
    NSA = "nsa"
    LEADER_OFFICE = "leader_office"


# Who answers when an authority does not: the ladder escalation climbs.
SUPERIOR: Final[dict[Authority, Authority | None]] = {
    Authority.JOINT_STAFF: Authority.DEFENCE_MINISTRY,
    Authority.DEFENCE_MINISTRY: Authority.NSA,
    Authority.FOREIGN_MINISTRY: Authority.NSA,
    Authority.NSA: Authority.LEADER_OFFICE,
    Authority.LEADER_OFFICE: None,
}


def superior(authority: Authority | str) -> Authority | None:
    """The next authority up the ladder, or None at the top."""
    return SUPERIOR[Authority(authority)]


# ----------------------------------------------------------------- post bodies


class Open(msgspec.Struct, frozen=True, tag="open"):
    """Open a consultation among ``parties`` at the level of ``authority``.

    ``fact_sheet`` is JSON text (degrees and km at this edge; see
    :mod:`trilink.hotline.factsheet`), ``""`` if the consultation is not about an event.
    """

    topic: str
    parties: list[str]
    authority: str
    trigger: str = ""
    fact_sheet: str = ""


class Join(msgspec.Struct, frozen=True, tag="join"):
    """A party joins; ``fact`` (JSON text) adds what it knows, e.g. its own warnings."""

    fact: str = ""


class Say(msgspec.Struct, frozen=True, tag="say"):
    """A message; ``fact`` (JSON text) adds to the fact sheet, like a join's."""

    text: str
    fact: str = ""


class Conclude(msgspec.Struct, frozen=True, tag="conclude"):
    reason: str = ""


class Lapse(msgspec.Struct, frozen=True, tag="lapse"):
    reason: str = ""


class Draft(msgspec.Struct, frozen=True, tag="draft"):
    """Version 1 of a joint statement."""

    statement_id: str
    text: str


class Amend(msgspec.Struct, frozen=True, tag="amend"):
    """A new version (the current one + 1); every approval so far is void."""

    statement_id: str
    version: int
    text: str


class Approve(msgspec.Struct, frozen=True, tag="approve"):
    """The party's signature over one version (see :mod:`trilink.hotline.statement`)."""

    statement_id: str
    version: int
    key_id: str
    signature: bytes


class Decline(msgspec.Struct, frozen=True, tag="decline"):
    """The party will not sign this statement; signed, so a release can prove it."""

    statement_id: str
    version: int
    reason: str
    key_id: str
    signature: bytes


class Signature(msgspec.Struct, frozen=True, array_like=True):
    nation: str
    key_id: str
    signature: bytes


class Release(msgspec.Struct, frozen=True, tag="release"):
    """The statement as released: the version's text, every approving party's signature
    and every declining party's signed decline (self-contained, verifiable offline)."""

    statement_id: str
    version: int
    text: str
    approvals: list[Signature]
    declines: list[Signature]


class Propose(msgspec.Struct, frozen=True, tag="propose"):
    """An action a party proposes to take; ``tag`` selects the consent rules."""

    action_id: str
    tag: str
    description: str


class Consent(msgspec.Struct, frozen=True, tag="consent"):
    """A party's signed consent to a proposed action."""

    action_id: str
    key_id: str
    signature: bytes


class Authorise(msgspec.Struct, frozen=True, tag="authorise"):
    """The proposer marks its action authorised, carrying the signed consents it relies
    on: valid only if they include every required one (so it never depends on which
    consents a node happened to hold, or on the order of concurrent posts)."""

    action_id: str
    consents: list[Signature] = msgspec.field(default_factory=list)


Body = (Open | Join | Say | Conclude | Lapse | Draft | Amend | Approve | Decline | Release
        | Propose | Consent | Authorise)

STATEMENT_BODIES: Final = (Draft, Amend, Approve, Decline, Release, Propose, Consent, Authorise)


class Post(msgspec.Struct, frozen=True):
    """One entry of a consultation's transcript (immutable once created)."""

    msg_id: str
    consultation: str
    origin: str
    authority: str
    lamport: int
    t_s: float
    body: Body

    @property
    def what(self) -> str:
        """The body's tag: ``open``, ``join``, ``say`` …"""
        return str(type(self.body).__struct_config__.tag)

    @property
    def order_key(self) -> tuple[int, str, int]:
        """Transcript order: Lamport time, then origin, then the origin's counter.

        Every node sorts by this key, so transcripts with the same posts read the same."""
        return (self.lamport, self.origin, counter_of(self.msg_id))

    @property
    def kind(self) -> DataKind:
        """The envelope kind that carries it (agreements may cover one and not the other)."""
        return DataKind.STATEMENT if isinstance(self.body, STATEMENT_BODIES) else DataKind.HOTLINE


def counter_of(msg_id: str) -> int:
    """The counter of a ``NATION-n`` id (0 if it has none)."""
    _, _, n = msg_id.rpartition("-")
    return int(n) if n.isdigit() else 0


# ----------------------------------------------------------------- transport items


class Deliver(msgspec.Struct, frozen=True, tag="deliver"):
    post: Post
    attention: str


class Receipt(msgspec.Struct, frozen=True, tag="receipt"):
    msg_id: str
    consultation: str


class Read(msgspec.Struct, frozen=True, tag="read"):
    msg_id: str
    consultation: str
    authority: str


class Forward(msgspec.Struct, frozen=True, tag="forward"):
    """A whole envelope (wire bytes) for ``to``, carried over a third party."""

    to: str
    inner: bytes


Item = Deliver | Receipt | Read | Forward

_ENC = msgspec.msgpack.Encoder()
_DEC: msgspec.msgpack.Decoder[Item] = msgspec.msgpack.Decoder(Item)


def encode_item(item: Item) -> bytes:
    return _ENC.encode(item)


def decode_item(data: bytes) -> Item:
    """Parse a hotline payload; raises ``msgspec.DecodeError`` / ``ValidationError``."""
    return _DEC.decode(data)
