"""Signed envelopes: the unit every node sends, relays, receives and audits.

An :class:`Envelope` carries one shared item (a track, a warning, a hotline message …)
together with who sent it, who originated it, to whom the originator released it
(``rel_to``), the final recipient, the relays on the way, a per-sender sequence number,
the creation time and an Ed25519 signature.

Wire format (version 1)
-----------------------
The envelope is a MessagePack array of 12 elements, in this fixed order::

    0 version     int        always 1
    1 sender      str        ISO 3166-1 alpha-3 of the signing nation
    2 key_id      str        which of the sender's keys signed (``[A-Za-z0-9._-]{1,64}``)
    3 seq         int        per-sender sequence number, 0 ≤ seq < 2**63
    4 created_ns  int        creation time, UTC nanoseconds since the Unix epoch
    5 kind        str        one of :class:`Kind`
    6 originator  str        alpha-3 of the nation that produced the item
    7 rel_to      [str]      REL TO list: sorted, unique alpha-3 codes, at least one
    8 recipient   str        alpha-3 of the final recipient
    9 via         [str]      relays on the route declared by the sender (may be empty)
    10 payload    bin        the item, at most :data:`MAX_PAYLOAD_BYTES`
    11 signature  bin        64-byte Ed25519 signature

The bytes are exactly what ``msgspec.msgpack`` produces (shortest integer, string and
binary headers). :func:`decode` accepts only that canonical form: it re-encodes what it
decoded and rejects the input if the bytes differ, so one envelope has one byte string
and one SHA-256.

The signature covers ``SIGNING_CONTEXT`` followed by the MessagePack array of elements
0–10 (same order, same encoding) — see :func:`signing_bytes`.

Everything here is sans-I/O: time is passed in, nothing reads a clock, and Ed25519 is
deterministic, so the same keys, inputs and clock give the same bytes.
"""

from __future__ import annotations

import enum
import hashlib
import heapq
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Final

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

# Verification runs in libsodium (PyNaCl): the same Ed25519 as OpenSSL's, about twice as
# fast, and stricter (see verify_signature). Keys and signing stay with `cryptography`.
from nacl.bindings import crypto_sign_open as _sodium_open
from nacl.exceptions import CryptoError as _SodiumError

from trilink.errors import TrilinkError
from trilink.sharing.agreements import DataKind

__all__ = [
    "DEFAULT_WINDOW",
    "ENVELOPE_VERSION",
    "MAX_ENVELOPE_BYTES",
    "MAX_PAYLOAD_BYTES",
    "SIGNING_CONTEXT",
    "Accepted",
    "Envelope",
    "EnvelopeFields",
    "KeyRegistry",
    "KeyRegistryError",
    "Kind",
    "NodeKey",
    "Reason",
    "Rejection",
    "Signer",
    "Verifier",
    "Window",
    "decode",
    "encode",
    "envelope_sha256",
    "fingerprint",
    "generate_keys",
    "sign",
    "signing_bytes",
    "verify_signature",
]

ENVELOPE_VERSION: Final = 1
"""The only wire-format version this module reads and writes."""

MAX_ENVELOPE_BYTES: Final = 1 << 20
"""Inputs longer than this (1 MiB) are rejected as malformed before any parsing."""

MAX_PAYLOAD_BYTES: Final = MAX_ENVELOPE_BYTES - 4096
"""Largest payload; leaves room for the header fields within :data:`MAX_ENVELOPE_BYTES`."""

MAX_ROUTE_NATIONS: Final = 64
"""Longest ``rel_to`` and ``via`` lists accepted."""

SIGNING_CONTEXT: Final = b"trilink/envelope/v1\x00"
"""Domain-separation prefix of the signed bytes (never valid MessagePack on its own)."""

NS_PER_S: Final = 1_000_000_000

_NATION_RE: Final = "^[A-Z]{3}$"
_KEY_ID_RE: Final = "^[A-Za-z0-9._-]{1,64}$"
_NATION_PATTERN = re.compile(_NATION_RE)
_KEY_ID_PATTERN = re.compile(_KEY_ID_RE)

Nation = Annotated[str, msgspec.Meta(pattern=_NATION_RE)]
KeyId = Annotated[str, msgspec.Meta(pattern=_KEY_ID_RE)]
Int63 = Annotated[int, msgspec.Meta(ge=0, le=(1 << 63) - 1)]


# What an envelope carries: the kinds agreements cover (one list for both). Unknown
# kinds are malformed.
Kind = DataKind


class EnvelopeFields(msgspec.Struct, frozen=True, array_like=True):
    """The signed content of an envelope: every field except the signature, in wire order.

    Construction checks the structural rules that the type annotations alone do not
    (sorted unique ``rel_to``, unique ``via``, version); the pattern and range
    constraints are enforced when decoding, and :func:`sign` round-trips through
    :func:`decode` so it never signs anything a receiver would call malformed.
    """

    version: int
    sender: Nation
    key_id: KeyId
    seq: Int63
    created_ns: Int63
    kind: Kind
    originator: Nation
    rel_to: Annotated[tuple[Nation, ...], msgspec.Meta(min_length=1,
                                                       max_length=MAX_ROUTE_NATIONS)]
    recipient: Nation
    via: Annotated[tuple[Nation, ...], msgspec.Meta(max_length=MAX_ROUTE_NATIONS)]
    payload: Annotated[bytes, msgspec.Meta(max_length=MAX_PAYLOAD_BYTES)]

    def __post_init__(self) -> None:
        """Reject structurally invalid field combinations (ValueError)."""
        if self.version != ENVELOPE_VERSION:
            raise ValueError(f"unsupported version {self.version!r}")
        if list(self.rel_to) != sorted(set(self.rel_to)):
            raise ValueError("rel_to must be sorted and without duplicates")
        if len(set(self.via)) != len(self.via):
            raise ValueError("via lists a relay twice")
        if self.recipient in self.via:
            raise ValueError("recipient is also listed as a relay")


class Envelope(EnvelopeFields, frozen=True, array_like=True):
    """A signed envelope: :class:`EnvelopeFields` plus the 64-byte Ed25519 signature."""

    signature: Annotated[bytes, msgspec.Meta(min_length=64, max_length=64)]

    def unsigned(self) -> EnvelopeFields:
        """The signed content of this envelope, without the signature."""
        return EnvelopeFields(*(getattr(self, f) for f in EnvelopeFields.__struct_fields__))

    @property
    def path(self) -> tuple[str, ...]:
        """Every nation that holds the envelope on its route: sender, relays, recipient."""
        return (self.sender, *self.via, self.recipient)


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(Envelope)


def signing_bytes(fields: EnvelopeFields) -> bytes:
    """The bytes an Ed25519 signature covers: ``SIGNING_CONTEXT`` + msgpack of fields 0–10."""
    values = [getattr(fields, f) for f in EnvelopeFields.__struct_fields__]
    return SIGNING_CONTEXT + _ENCODER.encode(values)


def _signed_part(data: bytes, env: Envelope) -> bytes:
    """:func:`signing_bytes` of a decoded envelope, cut from its wire bytes: they are
    canonical (:func:`decode`), so elements 0–10 are the wire's bytes between the array
    header and the signature (``bin8`` header and 64 bytes), and only the header differs
    (11 elements instead of 12). Saves re-encoding the payload on every receive."""
    if (isinstance(data, bytes) and len(data) > 67 and data[0] == 0x9C
            and data[-66:] == b"\xc4\x40" + env.signature):
        return SIGNING_CONTEXT + b"\x9b" + data[1:-66]
    return signing_bytes(env)


def encode(env: Envelope) -> bytes:
    """Canonical wire bytes of ``env`` (a 12-element MessagePack array)."""
    return _ENCODER.encode(env)


def envelope_sha256(data: bytes) -> str:
    """Lower-case hex SHA-256 of wire bytes (what the audit log records)."""
    return hashlib.sha256(data).hexdigest()


def sign(fields: EnvelopeFields, private_key: Ed25519PrivateKey) -> Envelope:
    """Sign ``fields`` with ``private_key`` and return the envelope.

    Raises ``ValueError`` if the result would not decode (a field breaks a wire
    constraint, e.g. a lower-case nation code) — a sender never emits a malformed
    envelope. Does not check the key against a registry or apply sharing policy.
    """
    sig = private_key.sign(signing_bytes(fields))
    values = {f: getattr(fields, f) for f in EnvelopeFields.__struct_fields__}
    env = Envelope(**values, signature=sig)
    checked = decode(encode(env))
    if isinstance(checked, Rejection):
        raise ValueError(f"cannot sign: {checked.detail}")
    return env


class Reason(enum.StrEnum):
    """Why a receiver refused an envelope (one reason per rejection)."""

    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    OUT_OF_WINDOW = "out_of_window"
    REPLAY = "replay"
    NOT_ADDRESSED = "not_addressed"
    NOT_RELEASABLE = "not_releasable"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused input: the reason, one human line of detail, and the envelope if it parsed."""

    reason: Reason
    detail: str
    envelope: Envelope | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    """An accepted envelope. ``relay`` is true when this node must forward it on."""

    envelope: Envelope
    relay: bool = False


def _short(text: str, limit: int = 200) -> str:
    """One line, at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def decode(data: bytes) -> Envelope | Rejection:
    """Parse wire bytes into an :class:`Envelope`, or a ``malformed`` :class:`Rejection`.

    Never raises: non-bytes input, oversize input, invalid MessagePack, wrong types,
    constraint violations and non-canonical encodings all come back as a rejection.
    The signature is *not* checked here (see :class:`Verifier`).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        return Rejection(Reason.MALFORMED, f"expected bytes, got {type(data).__name__}")
    if len(data) > MAX_ENVELOPE_BYTES:
        return Rejection(Reason.MALFORMED,
                         f"{len(data)} bytes exceeds the {MAX_ENVELOPE_BYTES}-byte limit")
    try:
        env = _DECODER.decode(data)
        canonical = _ENCODER.encode(env)
    except (msgspec.MsgspecError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        return Rejection(Reason.MALFORMED, _short(str(exc) or type(exc).__name__))
    if canonical != bytes(data):
        return Rejection(Reason.MALFORMED, "non-canonical encoding", env)
    return env


@dataclass(frozen=True, slots=True)
class NodeKey:
    """One nation's signing key (private; never shared) and its identifier."""

    nation: str
    key_id: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The matching public key."""
        return self.private_key.public_key()


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def verify_signature(public_key: Ed25519PublicKey, signature: bytes, data: bytes,
                     raw_public: bytes | None = None) -> bool:
    """True when ``signature`` is ``public_key``'s Ed25519 signature of ``data``.

    The check runs in libsodium (``raw_public``: the key's 32 raw bytes, if the caller
    has them): about twice as fast as OpenSSL here, and never more lenient: besides
    OpenSSL's checks (S below the group order, the equation) it refuses a non-canonical
    or small-order key or ``R`` (forgeable: OpenSSL accepts any message under the
    identity-point key with an all-zero signature; an honest signer never makes them).
    Every signature an honest key makes verifies under both."""
    if len(signature) != 64:
        return False
    raw = _raw_public(public_key) if raw_public is None else raw_public
    try:
        _sodium_open(bytes(signature) + bytes(data), raw)
    except (_SodiumError, ValueError, TypeError):
        return False
    return True


def fingerprint(key: Ed25519PublicKey) -> str:
    """First 16 bytes of SHA-256 of the raw public key, as 32 hex characters."""
    return hashlib.sha256(_raw_public(key)).hexdigest()[:32]


class KeyRegistryError(TrilinkError, ValueError):
    """A key file could not be read or failed its checks."""


KEY_FILE_FORMAT: Final = "trilink-keys/1"
MAX_KEY_FILE_CHARS: Final = 16 << 20


class KeyRegistry:
    """Public keys by nation and key id: nation → {key_id: Ed25519PublicKey}.

    The file form is JSON::

        {"format": "trilink-keys/1",
         "keys": [{"nation": "JPN", "key_id": "JPN-1a2b3c4d",
                   "public_key": "<64 hex>", "fingerprint": "<32 hex>"}, …]}

    sorted by nation then key id; :meth:`load` recomputes every fingerprint and refuses
    a file whose fingerprints do not match its keys.
    """

    def __init__(self, keys: Mapping[str, Mapping[str, Ed25519PublicKey]] | None = None) -> None:
        """Start from ``keys`` (copied) or empty."""
        self._keys: dict[str, dict[str, Ed25519PublicKey]] = {}
        self._raw: dict[tuple[str, str], bytes] = {}  # raw 32 bytes of each key (verify)
        for nation, by_id in (keys or {}).items():
            for key_id, pub in by_id.items():
                self.add(nation, key_id, pub)

    def add(self, nation: str, key_id: str, public_key: Ed25519PublicKey) -> None:
        """Register ``public_key`` as ``nation``'s key ``key_id`` (ValueError on bad names)."""
        if not _NATION_PATTERN.match(nation):
            raise ValueError(f"nation {nation!r} is not an ISO alpha-3 code")
        if not _KEY_ID_PATTERN.match(key_id):
            raise ValueError(f"key id {key_id!r} is not [A-Za-z0-9._-]{{1,64}}")
        self._keys.setdefault(nation, {})[key_id] = public_key
        self._raw[(nation, key_id)] = _raw_public(public_key)

    def remove(self, nation: str, key_id: str) -> None:
        """Revoke a key (no error if it is absent)."""
        self._keys.get(nation, {}).pop(key_id, None)
        self._raw.pop((nation, key_id), None)

    def get(self, nation: str, key_id: str) -> Ed25519PublicKey | None:
        """The key ``key_id`` of ``nation``, or None (a key of another nation never matches)."""
        return self._keys.get(nation, {}).get(key_id)

    def raw(self, nation: str, key_id: str) -> bytes | None:
        """The raw 32 bytes of :meth:`get`'s key, or None."""
        return self._raw.get((nation, key_id))

    def verifies(self, nation: str, key_id: str, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` over ``data`` verifies with ``nation``'s key ``key_id``
        (False for an unknown key as for a bad signature)."""
        pub = self.get(nation, key_id)
        if pub is None:
            return False
        return verify_signature(pub, signature, data, self._raw.get((nation, key_id)))

    def nations(self) -> list[str]:
        """Nations with at least one key, sorted."""
        return sorted(n for n, ks in self._keys.items() if ks)

    def key_ids(self, nation: str) -> list[str]:
        """Key ids of ``nation``, sorted."""
        return sorted(self._keys.get(nation, {}))

    def to_json(self) -> str:
        """The canonical JSON text of the registry (deterministic; ends with a newline)."""
        rows = []
        for nation in sorted(self._keys):
            for key_id in sorted(self._keys[nation]):
                pub = self._keys[nation][key_id]
                rows.append({"nation": nation, "key_id": key_id,
                             "public_key": _raw_public(pub).hex(),
                             "fingerprint": fingerprint(pub)})
        return json.dumps({"format": KEY_FILE_FORMAT, "keys": rows}, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> KeyRegistry:
        """Parse :meth:`to_json` text; raises :class:`KeyRegistryError` with one reason."""
        if len(text) > MAX_KEY_FILE_CHARS:
            raise KeyRegistryError(f"key file longer than {MAX_KEY_FILE_CHARS} characters")
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise KeyRegistryError(f"not JSON: {exc}") from None
        except RecursionError:
            raise KeyRegistryError("not a key file: JSON nested too deeply") from None
        if not isinstance(doc, dict) or doc.get("format") != KEY_FILE_FORMAT:
            raise KeyRegistryError(f"not a {KEY_FILE_FORMAT} key file")
        rows = doc.get("keys")
        if not isinstance(rows, list):
            raise KeyRegistryError("'keys' must be a list")
        reg = cls()
        for i, row in enumerate(rows):
            where = f"keys[{i}]"
            if not isinstance(row, dict):
                raise KeyRegistryError(f"{where}: not an object")
            nation, key_id = row.get("nation"), row.get("key_id")
            pub_hex, fp = row.get("public_key"), row.get("fingerprint")
            if not all(isinstance(v, str) for v in (nation, key_id, pub_hex, fp)):
                raise KeyRegistryError(f"{where}: nation, key_id, public_key and fingerprint "
                                       "must be strings")
            assert isinstance(nation, str) and isinstance(key_id, str)
            assert isinstance(pub_hex, str) and isinstance(fp, str)
            try:
                raw = bytes.fromhex(pub_hex)
                pub = Ed25519PublicKey.from_public_bytes(raw)
            except ValueError:
                raise KeyRegistryError(f"{where}: public_key is not 32 bytes of hex") from None
            if fingerprint(pub) != fp.lower():
                raise KeyRegistryError(f"{where}: fingerprint does not match the public key")
            if reg.get(nation, key_id) is not None:
                raise KeyRegistryError(f"{where}: duplicate key {nation}/{key_id}")
            try:
                reg.add(nation, key_id, pub)
            except ValueError as exc:
                raise KeyRegistryError(f"{where}: {exc}") from None
        return reg

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_json` to ``path``."""
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> KeyRegistry:
        """Read a key file written by :meth:`save`."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyRegistryError(f"{path}: {exc}") from None
        return cls.from_json(text)


KEY_DERIVATION_CONTEXT: Final = b"trilink/key/v1\x00"


def generate_keys(nations: Iterable[str],
                  seed: bytes | None = None) -> tuple[dict[str, NodeKey], KeyRegistry]:
    """One signing key per nation and the registry of their public keys.

    With a ``seed`` the keys are deterministic (for tests and simulation): the private
    key of nation N is ``SHA-256(KEY_DERIVATION_CONTEXT + seed + b"\\x00" + N)``. Without
    one they come from ``os.urandom``. Key ids are ``N-<first 8 hex of the fingerprint>``.
    """
    keys: dict[str, NodeKey] = {}
    registry = KeyRegistry()
    for nation in nations:
        if seed is None:
            secret = os.urandom(32)
        else:
            secret = hashlib.sha256(KEY_DERIVATION_CONTEXT + seed + b"\x00"
                                    + nation.encode("utf-8")).digest()
        priv = Ed25519PrivateKey.from_private_bytes(secret)
        pub = priv.public_key()
        key_id = f"{nation}-{fingerprint(pub)[:8]}"
        registry.add(nation, key_id, pub)
        keys[nation] = NodeKey(nation, key_id, priv)
    return keys, registry


def private_key_hex(key: Ed25519PrivateKey) -> str:
    """Raw 32-byte private key as hex (for a node's own secret file; never share)."""
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()


class Signer:
    """A sending node's side: its key and its next sequence number (sans-I/O).

    ``seal`` fills in sender, key id, version and the next ``seq`` (starting at
    ``first_seq``), and signs. Sequence numbers strictly increase across all
    recipients, so every receiver sees them increase too.
    """

    def __init__(self, key: NodeKey, first_seq: int = 1) -> None:
        """Sign as ``key``; the first envelope gets ``first_seq``."""
        self.key = key
        self.next_seq = first_seq

    def seal(self, *, kind: Kind | str, originator: str, rel_to: Iterable[str],
             recipient: str, payload: bytes, created_ns: int,
             via: Iterable[str] = ()) -> Envelope:
        """Build, number and sign an envelope (``rel_to`` is sorted and de-duplicated)."""
        fields = EnvelopeFields(
            version=ENVELOPE_VERSION, sender=self.key.nation, key_id=self.key.key_id,
            seq=self.next_seq, created_ns=created_ns, kind=Kind(kind),
            originator=originator, rel_to=tuple(sorted(set(rel_to))), recipient=recipient,
            via=tuple(via), payload=payload)
        env = sign(fields, self.key.private_key)
        self.next_seq += 1
        return env


@dataclass(frozen=True, slots=True)
class Window:
    """Accepted creation times: ``now - past_ns ≤ created_ns ≤ now + future_ns``."""

    past_ns: int = 300 * NS_PER_S
    future_ns: int = 30 * NS_PER_S


DEFAULT_WINDOW: Final = Window()


@dataclass
class Verifier:
    """A receiving node's checks on incoming wire bytes (sans-I/O; time is passed in).

    :meth:`check` applies, in this order, and stops at the first failure:

    1. ``malformed`` — :func:`decode` refused the bytes;
    2. ``unknown_key`` — ``(sender, key_id)`` is not in the registry;
    3. ``bad_signature`` — the Ed25519 signature does not verify;
    4. ``out_of_window`` — ``created_ns`` is outside :class:`Window` around ``now_ns``;
    5. ``replay`` — ``seq`` ≤ the last accepted ``seq`` from that ``(sender, key_id)``;
    6. ``not_addressed`` — this node is neither the recipient nor a relay in ``via``;
    7. ``not_releasable`` — some nation on the route (sender, relays, recipient — so
       including this node) is neither the originator nor in ``rel_to``.

    Only an accepted envelope advances the replay counter, so rejected input never
    changes state. Envelopes that arrive out of order are rejected as replays.
    """

    me: str
    registry: KeyRegistry
    window: Window = DEFAULT_WINDOW
    last_seq: dict[tuple[str, str], int] = field(default_factory=dict)
    # Sequence numbers accepted within the time window, per (sender, key): envelopes of
    # one sender may overtake each other on routes of different latency (a direct hop
    # and a relay), so order is not required — uniqueness is.
    _seen: dict[tuple[str, str], dict[int, int]] = field(default_factory=dict)
    _floor: dict[tuple[str, str], int] = field(default_factory=dict)
    _order: dict[tuple[str, str], list[tuple[int, int]]] = field(default_factory=dict)

    def remember(self, sender: str, key_id: str, seq: int, created_ns: int) -> None:
        """Mark ``seq`` of ``(sender, key_id)`` as taken, as if accepted at ``created_ns``
        (rebuilding the window after a restart; see :meth:`AuditLog.restore`)."""
        stream = (sender, key_id)
        seen = self._seen.setdefault(stream, {})
        if seq in seen or seq <= self._floor.get(stream, 0):
            return
        seen[seq] = created_ns
        heapq.heappush(self._order.setdefault(stream, []), (created_ns, seq))
        self.last_seq[stream] = max(seq, self.last_seq.get(stream, 0))

    def raise_floor(self, sender: str, key_id: str, seq: int) -> None:
        """Refuse every ``seq`` ≤ ``seq`` of ``(sender, key_id)`` (older than the window)."""
        stream = (sender, key_id)
        self._floor[stream] = max(self._floor.get(stream, 0), seq)
        self.last_seq[stream] = max(seq, self.last_seq.get(stream, 0))

    def check(self, data: bytes, now_ns: int,
              decoded: Envelope | None = None) -> Accepted | Rejection:
        """Accept ``data`` (and record its ``seq``) or say why not. Never raises.

        ``decoded``: what :func:`decode` already returned for these very bytes (the
        node's path check decodes first), so the receive path decodes once."""
        env = decode(data) if decoded is None else decoded
        if isinstance(env, Rejection):
            return env
        pub = self.registry.get(env.sender, env.key_id)
        if pub is None:
            return Rejection(Reason.UNKNOWN_KEY,
                             f"no key {env.key_id!r} registered for {env.sender}", env)
        if not verify_signature(pub, env.signature, _signed_part(data, env),
                                self.registry.raw(env.sender, env.key_id)):
            return Rejection(Reason.BAD_SIGNATURE,
                             f"signature does not verify with {env.sender}/{env.key_id}", env)
        age_ns = now_ns - env.created_ns
        if age_ns > self.window.past_ns:
            return Rejection(Reason.OUT_OF_WINDOW,
                             f"created {age_ns / NS_PER_S:.3f} s ago, limit "
                             f"{self.window.past_ns / NS_PER_S:g} s", env)
        if -age_ns > self.window.future_ns:
            return Rejection(Reason.OUT_OF_WINDOW,
                             f"created {-age_ns / NS_PER_S:.3f} s in the future, limit "
                             f"{self.window.future_ns / NS_PER_S:g} s", env)
        stream = (env.sender, env.key_id)
        seen = self._seen.setdefault(stream, {})
        order = self._order.setdefault(stream, [])
        # Forget what has left the time window (oldest first, from a heap): older
        # envelopes fail the window test anyway, which bounds this memory.
        cutoff = now_ns - self.window.past_ns
        while order and order[0][0] < cutoff:
            _, old = heapq.heappop(order)
            self._floor[stream] = max(self._floor.get(stream, 0), old)
            seen.pop(old, None)
        if env.seq in seen or env.seq <= self._floor.get(stream, 0):
            return Rejection(Reason.REPLAY,
                             f"seq {env.seq} from {env.sender}/{env.key_id} already "
                             "accepted", env)
        if env.recipient != self.me and self.me not in env.via:
            return Rejection(Reason.NOT_ADDRESSED,
                             f"addressed to {env.recipient} via {list(env.via)}, "
                             f"not {self.me}", env)
        released = set(env.rel_to) | {env.originator}
        outside = [n for n in env.path if n not in released]  # env.path includes me
        if outside:
            return Rejection(Reason.NOT_RELEASABLE,
                             f"REL TO {'/'.join(env.rel_to)} from {env.originator} "
                             f"excludes {', '.join(dict.fromkeys(outside))}", env)
        seen[env.seq] = env.created_ns
        heapq.heappush(order, (env.created_ns, env.seq))
        self.last_seq[stream] = max(env.seq, self.last_seq.get(stream, 0))
        return Accepted(env, relay=env.recipient != self.me)
