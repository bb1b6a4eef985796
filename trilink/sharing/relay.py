"""Relay stamps: an envelope's path bound to who actually carried it, and when.

An envelope names its relays (``via``) and is signed by its originator, so by itself it
proves what the sender *asked* for, not what happened: anyone holding the bytes could
hand an envelope marked "via USA" straight to the recipient and skip the relay's check
and its delay. So a relay does not forward the bare envelope. It wraps it in a
:class:`RelayStamp` signed with its own key over

    ``RELAY_CONTEXT`` + MessagePack ``[relay, key_id, recipient, relayed_ns, SHA-256(inner)]``

(the relay, which of its keys, the next hop, the UTC time of relay in ns, and the inner
envelope's hash). Wire form: a 7-element MessagePack array whose first element is the
string ``"relay/1"`` (an envelope's first element is the integer 1, so the two never
collide)::

    0 marker "relay/1" · 1 relay · 2 key_id · 3 recipient · 4 relayed_ns · 5 inner (bin)
    6 signature (64-byte Ed25519)

The receiver (:func:`check_path`) then requires, for the hop that reached it:

- the hop before it on ``(sender, *via, recipient)`` is the sender: no stamp, and the
  transport's authenticated deliverer (if the driver passes one) is the sender;
- the hop before it is a relay: a stamp by exactly that relay, for this node, whose
  signature verifies with the relay's registered key; the deliverer (if known) is that
  relay; the stamp is not from the future; and, where the policy routes the item through
  that relay, ``relayed_ns - created_ns`` is at least the agreement's relay delay.

Anything else — a direct delivery claiming a relay, a stamp on a direct envelope, a
stamp by another nation, a relay that did not wait — is refused with one line, and the
node audits it. Sans-I/O: times are passed in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Annotated, Final, Literal

import msgspec
from cryptography.exceptions import InvalidSignature

from trilink.sharing.envelope import (
    MAX_ENVELOPE_BYTES,
    Envelope,
    Int63,
    KeyId,
    KeyRegistry,
    Nation,
    NodeKey,
    Window,
    decode,
)
from trilink.sharing.policy import Policy, Relay

RELAY_CONTEXT: Final = b"trilink/relay/v1\x00"
MARKER: Final = "relay/1"
_PREFIX: Final = b"\x97\xa7" + MARKER.encode("ascii")  # fixarray(7), fixstr(7) "relay/1"
NS_PER_S: Final = 1_000_000_000


class RelayStamp(msgspec.Struct, frozen=True, array_like=True):
    """A relay's signed statement: "I passed ``inner`` to ``recipient`` at ``relayed_ns``"."""

    marker: Literal["relay/1"]
    relay: Nation
    key_id: KeyId
    recipient: Nation
    relayed_ns: Int63
    inner: Annotated[bytes, msgspec.Meta(max_length=MAX_ENVELOPE_BYTES)]
    signature: Annotated[bytes, msgspec.Meta(min_length=64, max_length=64)]


_ENC = msgspec.msgpack.Encoder()
_DEC = msgspec.msgpack.Decoder(RelayStamp)


def _signed(relay: str, key_id: str, recipient: str, relayed_ns: int, inner: bytes) -> bytes:
    digest = hashlib.sha256(inner).digest()
    return RELAY_CONTEXT + _ENC.encode([relay, key_id, recipient, relayed_ns, digest])


def stamp(key: NodeKey, inner: bytes, recipient: str, relayed_ns: int) -> bytes:
    """Wrap ``inner`` (an envelope's wire bytes) for ``recipient``, signed by ``key``."""
    sig = key.private_key.sign(_signed(key.nation, key.key_id, recipient, relayed_ns, inner))
    return _ENC.encode(RelayStamp(MARKER, key.nation, key.key_id, recipient, relayed_ns,
                                  bytes(inner), sig))


def is_stamped(data: bytes) -> bool:
    """True when ``data`` is (or claims to be) a relay stamp rather than a bare envelope."""
    return bytes(data[: len(_PREFIX)]) == _PREFIX


@dataclass(frozen=True, slots=True)
class StampProblem:
    """Why a stamp was refused (one line)."""

    detail: str


def open_stamp(data: bytes, registry: KeyRegistry) -> RelayStamp | StampProblem:
    """Decode a stamp (canonical bytes only) and verify the relay's signature. Never raises."""
    if len(data) > MAX_ENVELOPE_BYTES + 256:
        return StampProblem(f"relay stamp of {len(data)} bytes exceeds the limit")
    try:
        s = _DEC.decode(data)
        canonical = _ENC.encode(s)
    except (msgspec.MsgspecError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        return StampProblem(f"malformed relay stamp: {' '.join(str(exc).split())[:160]}")
    if canonical != bytes(data):
        return StampProblem("relay stamp: non-canonical encoding")
    pub = registry.get(s.relay, s.key_id)
    if pub is None:
        return StampProblem(f"relay stamp: no key {s.key_id!r} registered for {s.relay}")
    try:
        pub.verify(s.signature, _signed(s.relay, s.key_id, s.recipient, s.relayed_ns, s.inner))
    except InvalidSignature:
        return StampProblem(f"relay stamp: signature does not verify with {s.relay}/{s.key_id}")
    return s


def check_path(env: Envelope, s: RelayStamp | None, deliverer: str | None, me: str,
               policy: Policy, when: dt.datetime, now_ns: int,
               window: Window) -> str | None:
    """Why the hop that brought ``env`` to ``me`` is not the one its path names, or None.

    ``s`` is the relay stamp it came in (None for a bare envelope); ``deliverer`` the
    transport's authenticated sender (None when the driver does not know it).
    """
    path = env.path
    if me not in path[1:]:
        return None  # not addressed to us: the envelope checks say so
    prev = path[path.index(me, 1) - 1]
    if prev == env.sender:
        if s is not None:
            return (f"relay stamp by {s.relay} on an envelope that {env.sender} hands "
                    f"to {me} directly")
        if deliverer is not None and deliverer != env.sender:
            return f"delivered by {deliverer}, but the envelope comes straight from {env.sender}"
        return None
    if s is None:
        return (f"envelope names relay {prev} but was delivered directly"
                + (f" by {deliverer}" if deliverer else "") + ", without its relay stamp")
    if s.relay != prev:
        return f"relay stamp by {s.relay}, but the envelope's relay before {me} is {prev}"
    if s.recipient != me:
        return f"relay stamp is for {s.recipient}, not {me}"
    if deliverer is not None and deliverer != prev:
        return f"delivered by {deliverer}, but the relay is {prev}"
    if s.relayed_ns > now_ns + window.future_ns:
        return f"relay stamp is {(s.relayed_ns - now_ns) / NS_PER_S:.3f} s in the future"
    route = policy.route(env.sender, me, env.kind, when, env.rel_to, env.originator)
    if isinstance(route, Relay) and route.via == prev:
        waited_s = (s.relayed_ns - env.created_ns) / NS_PER_S
        if waited_s < route.relay_delay_s:
            return (f"{prev} relayed it {waited_s:.3f} s after creation; the agreement's "
                    f"relay delay is {route.relay_delay_s:g} s")
    return None


@dataclass(frozen=True, slots=True)
class Delivery:
    """What arrived, unwrapped: the envelope bytes, the envelope if it parsed, and why
    the delivery is refused (None if its path holds)."""

    data: bytes
    envelope: Envelope | None
    problem: str | None


def check_delivery(data: bytes, deliverer: str | None, me: str, registry: KeyRegistry,
                   policy: Policy, when: dt.datetime, now_ns: int,
                   window: Window) -> Delivery:
    """Unwrap a relay stamp (if any) and :func:`check_path` the envelope inside.

    Runs before the envelope's own checks, so a refused path never advances the replay
    window (a copy handed over directly cannot make the real relay's delivery a replay).
    An envelope that does not even decode passes through: its checks refuse it.
    """
    s: RelayStamp | None = None
    if isinstance(data, bytes | bytearray | memoryview) and is_stamped(data):
        opened = open_stamp(bytes(data), registry)
        if isinstance(opened, StampProblem):
            return Delivery(bytes(data), None, opened.detail)
        s, data = opened, opened.inner
    env = decode(data) if isinstance(data, bytes | bytearray | memoryview) else None
    if not isinstance(env, Envelope):
        return Delivery(data, None, None)
    try:
        problem = check_path(env, s, deliverer, me, policy, when, now_ns, window)
    except ValueError as exc:  # a policy question the envelope's fields make unanswerable
        problem = f"path cannot be checked: {exc}"
    return Delivery(bytes(data), env, problem)
