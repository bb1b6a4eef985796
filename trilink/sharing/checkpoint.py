"""Signed audit checkpoints: a node's word on how long its log was, and how it ended.

A hash chain shows that no row was changed, swapped or removed *inside* the log; it
cannot show that the last rows are all there, nor that rows at the end are the node's.
A :class:`Checkpoint` anchors the head: the number of records and the hash of the last
one at a time, signed with the node's Ed25519 key over

    ``CHECKPOINT_CONTEXT`` + MessagePack ``[nation, key_id, records, head, t_ns]``

The node writes one every few hundred records and when it closes its log, and sends
each to its partners, who keep them (their own log's checkpoint table, or a file).
Wire form: a 7-element MessagePack array ``["checkpoint/1", nation, key_id, records,
head (64 hex), t_ns, signature (64 bytes)]``; file form: JSON lines, one object per
checkpoint with the same fields (signature in hex).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Final, Literal

import msgspec
from cryptography.exceptions import InvalidSignature

from trilink.errors import TrilinkError
from trilink.sharing.envelope import Int63, KeyId, KeyRegistry, Nation, NodeKey

CHECKPOINT_CONTEXT: Final = b"trilink/audit-checkpoint/v1\x00"
MARKER: Final = "checkpoint/1"
_PREFIX: Final = b"\x97\xac" + MARKER.encode("ascii")
FILE_FORMAT: Final = "trilink-checkpoint/1"
Hex64 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]


class Checkpoint(msgspec.Struct, frozen=True, array_like=True):
    """``nation``'s signed statement: "my log held ``records`` rows ending in ``head``"."""

    marker: Literal["checkpoint/1"]
    nation: Nation
    key_id: KeyId
    records: Int63
    head: Hex64
    t_ns: Int63
    signature: Annotated[bytes, msgspec.Meta(min_length=64, max_length=64)]

    def signed_bytes(self) -> bytes:
        return _signed(self.nation, self.key_id, self.records, self.head, self.t_ns)

    def verifies(self, registry: KeyRegistry) -> bool:
        """True when the signature verifies with the nation's registered key."""
        pub = registry.get(self.nation, self.key_id)
        if pub is None:
            return False
        try:
            pub.verify(self.signature, self.signed_bytes())
        except InvalidSignature:
            return False
        return True

    @property
    def when(self) -> str:
        """The checkpoint's time, UTC ISO 8601 to the second."""
        t = dt.datetime.fromtimestamp(self.t_ns / 1e9, dt.UTC)
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")


_ENC = msgspec.msgpack.Encoder()
_DEC = msgspec.msgpack.Decoder(Checkpoint)


def _signed(nation: str, key_id: str, records: int, head: str, t_ns: int) -> bytes:
    return CHECKPOINT_CONTEXT + _ENC.encode([nation, key_id, records, head, t_ns])


def make_checkpoint(key: NodeKey, records: int, head: str, t_ns: int) -> Checkpoint:
    sig = key.private_key.sign(_signed(key.nation, key.key_id, records, head, t_ns))
    return Checkpoint(MARKER, key.nation, key.key_id, records, head, t_ns, sig)


def encode_checkpoint(cp: Checkpoint) -> bytes:
    return _ENC.encode(cp)


def is_checkpoint(data: bytes) -> bool:
    """True when ``data`` is (or claims to be) a checkpoint rather than an envelope."""
    return bytes(data[: len(_PREFIX)]) == _PREFIX


def decode_checkpoint(data: bytes) -> Checkpoint | str:
    """A checkpoint, or one line saying why the bytes are not one. Never raises.

    The signature is not checked here (see :meth:`Checkpoint.verifies`)."""
    if len(data) > 4096:
        return "checkpoint too long"
    try:
        cp = _DEC.decode(data)
    except (msgspec.MsgspecError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        return f"malformed checkpoint: {' '.join(str(exc).split())[:160]}"
    if _ENC.encode(cp) != bytes(data):
        return "checkpoint: non-canonical encoding"
    return cp


def to_json(cp: Checkpoint) -> str:
    return json.dumps({"format": FILE_FORMAT, "nation": cp.nation, "key_id": cp.key_id,
                       "records": cp.records, "head": cp.head, "t_ns": cp.t_ns,
                       "signature": cp.signature.hex()}, sort_keys=True)


class CheckpointFileError(TrilinkError, ValueError):
    """A checkpoint file that cannot be read; the message names the line and field."""


def from_json(line: str) -> Checkpoint:
    """Parse one line of a checkpoint file (CheckpointFileError on any problem)."""
    if len(line) > 4096:
        raise CheckpointFileError("line longer than 4096 characters")
    try:
        doc = json.loads(line)
    except ValueError as exc:
        raise CheckpointFileError(f"not JSON: {exc}") from None
    except RecursionError:
        raise CheckpointFileError("JSON nested too deeply") from None
    if not isinstance(doc, dict) or doc.get("format") != FILE_FORMAT:
        raise CheckpointFileError(f"expected an object with format {FILE_FORMAT!r}")
    try:
        sig = bytes.fromhex(str(doc.get("signature", "")))
        return msgspec.convert([MARKER, doc.get("nation"), doc.get("key_id"),
                                doc.get("records"), doc.get("head"), doc.get("t_ns"), sig],
                               Checkpoint)
    except (ValueError, msgspec.MsgspecError) as exc:
        raise CheckpointFileError(' '.join(str(exc).split())[:200]) from None


def save_checkpoints(path: str | os.PathLike[str], checkpoints: Iterable[Checkpoint]) -> None:
    Path(path).write_text("".join(to_json(c) + "\n" for c in checkpoints), encoding="utf-8")


def load_checkpoints(path: str | os.PathLike[str]) -> list[Checkpoint]:
    """Checkpoints from a JSON-lines file or from a partner's audit log (SQLite)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise CheckpointFileError(f"cannot read: {exc.strerror or exc}") from None
    if raw.startswith(b"SQLite format 3\x00"):
        from trilink.sharing.audit import AuditFileError, read_checkpoints

        try:
            return read_checkpoints(p)
        except AuditFileError as exc:
            raise CheckpointFileError(str(exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointFileError("not UTF-8 text nor an SQLite audit log") from None
    out: list[Checkpoint] = []
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                out.append(from_json(line))
            except CheckpointFileError as exc:
                raise CheckpointFileError(f"line {i}: {exc}") from None
    return out
