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
from typing import Annotated, Final

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


# Field constraints checked when an item is decoded: a signed item from a partner that
# breaks one is malformed (refused with its reason), never an exception further in.
Nation = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
AuthorityName = Annotated[str, msgspec.Meta(
    pattern="^(joint_staff|defence_ministry|foreign_ministry|nsa|leader_office)$")]
MsgId = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}-[1-9][0-9]{0,17}$")]
ConsultationId = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}-[1-9][0-9]{0,17}$")]
Lamport = Annotated[int, msgspec.Meta(ge=0, le=(1 << 53))]
Text = Annotated[str, msgspec.Meta(max_length=65536)]
ShortText = Annotated[str, msgspec.Meta(max_length=512)]
Seconds = Annotated[float, msgspec.Meta(ge=-1e12, le=1e12)]
Version = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
SignatureBytes = Annotated[bytes, msgspec.Meta(min_length=64, max_length=64)]


def superior(authority: Authority | str) -> Authority | None:
    """The next authority up the ladder, or None at the top."""
    return SUPERIOR[Authority(authority)]


# ----------------------------------------------------------------- post bodies


class Open(msgspec.Struct, frozen=True, tag="open"):
    """Open a consultation among ``parties`` at the level of ``authority``.

    ``fact_sheet`` is JSON text (degrees and km at this edge; see
    :mod:`trilink.hotline.factsheet`), ``""`` if the consultation is not about an event.
    """

    topic: ShortText
    parties: Annotated[list[Nation], msgspec.Meta(min_length=2, max_length=64)]
    authority: AuthorityName
    trigger: ShortText = ""
    fact_sheet: Text = ""


class Join(msgspec.Struct, frozen=True, tag="join"):
    """A party joins; ``fact`` (JSON text) adds what it knows, e.g. its own warnings."""

    fact: Text = ""


class Say(msgspec.Struct, frozen=True, tag="say"):
    """A message; ``fact`` (JSON text) adds to the fact sheet, like a join's."""

    text: Text
    fact: Text = ""


class Conclude(msgspec.Struct, frozen=True, tag="conclude"):
    reason: ShortText = ""


class Lapse(msgspec.Struct, frozen=True, tag="lapse"):
    reason: ShortText = ""


class Draft(msgspec.Struct, frozen=True, tag="draft"):
    """Version 1 of a joint statement."""

    statement_id: ShortText
    text: Text


class Amend(msgspec.Struct, frozen=True, tag="amend"):
    """A new version (the current one + 1); every approval so far is void."""

    statement_id: ShortText
    version: Version
    text: Text


class Approve(msgspec.Struct, frozen=True, tag="approve"):
    """The party's signature over one version (see :mod:`trilink.hotline.statement`)."""

    statement_id: ShortText
    version: Version
    key_id: ShortText
    signature: SignatureBytes


class Decline(msgspec.Struct, frozen=True, tag="decline"):
    """The party will not sign this statement; signed, so a release can prove it."""

    statement_id: ShortText
    version: Version
    reason: ShortText
    key_id: ShortText
    signature: SignatureBytes


class Signature(msgspec.Struct, frozen=True, array_like=True):
    nation: Nation
    key_id: ShortText
    signature: SignatureBytes


class Release(msgspec.Struct, frozen=True, tag="release"):
    """The statement as released: the version's text, every approving party's signature
    and every declining party's signed decline (self-contained, verifiable offline)."""

    statement_id: ShortText
    version: Version
    text: Text
    approvals: list[Signature]
    declines: list[Signature]


class Propose(msgspec.Struct, frozen=True, tag="propose"):
    """An action a party proposes to take; ``tag`` selects the consent rules."""

    action_id: ShortText
    tag: ShortText
    description: Text


class Consent(msgspec.Struct, frozen=True, tag="consent"):
    """A party's signed consent to a proposed action."""

    action_id: ShortText
    key_id: ShortText
    signature: SignatureBytes


class Authorise(msgspec.Struct, frozen=True, tag="authorise"):
    """The proposer marks its action authorised, carrying the signed consents it relies
    on: valid only if they include every required one (so it never depends on which
    consents a node happened to hold, or on the order of concurrent posts)."""

    action_id: ShortText
    consents: list[Signature] = msgspec.field(default_factory=list)


Body = (Open | Join | Say | Conclude | Lapse | Draft | Amend | Approve | Decline | Release
        | Propose | Consent | Authorise)

STATEMENT_BODIES: Final = (Draft, Amend, Approve, Decline, Release, Propose, Consent, Authorise)


class Post(msgspec.Struct, frozen=True):
    """One entry of a consultation's transcript (immutable once created)."""

    msg_id: MsgId
    consultation: ConsultationId
    origin: Nation
    authority: AuthorityName
    lamport: Lamport
    t_s: Seconds
    body: Body

    @property
    def what(self) -> str:
        """The body's tag: ``open``, ``join``, ``say`` …"""
        return str(type(self.body).__struct_config__.tag)

    @property
    def order_key(self) -> tuple[int, str, int, str]:
        """Transcript order: Lamport time, then origin, then the origin's counter (ids are
        canonical, ``NATION-n``, so this is unique; the id itself breaks any tie left).

        Every node sorts by this key, so transcripts with the same posts read the same."""
        return (self.lamport, self.origin, counter_of(self.msg_id), self.msg_id)

    @property
    def kind(self) -> DataKind:
        """The envelope kind that carries it (agreements may cover one and not the other)."""
        return DataKind.STATEMENT if isinstance(self.body, STATEMENT_BODIES) else DataKind.HOTLINE


def describe(body: Body, *, full: bool = False) -> str:
    """One line for a post's body. ``full`` adds what records leave out because it is
    said elsewhere: an opening's topic, a join's facts, a draft's or amendment's text."""
    if isinstance(body, Open):
        return body.topic if full else ""
    if isinstance(body, Join):
        return body.fact if full else ""
    if isinstance(body, Say):
        return body.text
    if isinstance(body, Conclude | Lapse):
        return body.reason
    if isinstance(body, Draft | Amend):
        version = body.version if isinstance(body, Amend) else 1
        return f"{body.statement_id} v{version}" + (f": {body.text}" if full else "")
    if isinstance(body, Approve):
        return f"{body.statement_id} v{body.version}"
    if isinstance(body, Decline):
        return f"{body.statement_id} v{body.version}: {body.reason}"
    if isinstance(body, Release):
        signers = ", ".join(s.nation for s in body.approvals)
        return f"{body.statement_id} v{body.version} signed by {signers}"
    if isinstance(body, Propose):
        return f"{body.action_id} ({body.tag}): {body.description}"
    return body.action_id  # Consent, Authorise


def origin_of(item_id: str) -> str:
    """The nation of a ``NATION-n`` message or consultation id (its opener)."""
    return item_id.rsplit("-", 1)[0]


def counter_of(msg_id: str) -> int:
    """The counter of a ``NATION-n`` id (0 if it has none)."""
    _, _, n = msg_id.rpartition("-")
    return int(n) if n.isdigit() else 0


# ----------------------------------------------------------------- transport items


class Deliver(msgspec.Struct, frozen=True, tag="deliver"):
    post: Post
    attention: AuthorityName


class Receipt(msgspec.Struct, frozen=True, tag="receipt"):
    msg_id: MsgId
    consultation: ConsultationId


class Read(msgspec.Struct, frozen=True, tag="read"):
    msg_id: MsgId
    consultation: ConsultationId
    authority: AuthorityName


class Forward(msgspec.Struct, frozen=True, tag="forward"):
    """A whole envelope (wire bytes) for ``to``, carried over a third party."""

    to: Nation
    inner: bytes


Item = Deliver | Receipt | Read | Forward

_ENC = msgspec.msgpack.Encoder()
_DEC: msgspec.msgpack.Decoder[Item] = msgspec.msgpack.Decoder(Item)


def encode_item(item: Item) -> bytes:
    return _ENC.encode(item)


MAX_ITEM_BYTES: Final = 512 * 1024
"""Largest hotline payload read (a post's texts are bounded far below this)."""


def decode_item(data: bytes) -> Item:
    """Parse a hotline payload; raises ``msgspec.DecodeError`` / ``ValidationError`` only.

    Size is bounded before parsing; the schema bounds nesting, and input nested deeper
    than the interpreter allows (skipped unknown fields) is a ``DecodeError`` too."""
    if len(data) > MAX_ITEM_BYTES:
        raise msgspec.DecodeError(f"hotline item of {len(data)} bytes exceeds "
                                  f"{MAX_ITEM_BYTES}")
    try:
        return _DEC.decode(data)
    except RecursionError:
        raise msgspec.DecodeError("hotline item nested too deeply") from None
