"""A node's audit log: hash-chained, append-only, in SQLite.

Every envelope a node sends, receives, relays or rejects becomes one row of the
``audit`` table::

    id               INTEGER PRIMARY KEY   1, 2, 3 … with no gaps
    t_ns             INTEGER               node time of the event, UTC ns since the epoch
    direction        TEXT                  sent | received | rejected | relayed | escalated
    peer             TEXT NULL             the other nation (sender or recipient)
    kind             TEXT NULL             envelope kind
    seq              INTEGER NULL          envelope sequence number
    reason           TEXT NULL             rejection reason (rejected rows only)
    envelope_sha256  TEXT NULL             SHA-256 of the wire bytes, hex
    detail           TEXT                  one human line ('' if none)
    record_json      TEXT                  canonical JSON of the fields above, id included
    prev_hash        TEXT                  ``hash`` of the previous row (64 zeros for id 1)
    hash             TEXT                  SHA-256(bytes(prev_hash) || record_json), hex

``record_json`` is ``json.dumps(record, sort_keys=True, separators=(",", ":"),
ensure_ascii=True)`` of the dict with keys ``id, t_ns, direction, peer, kind, seq,
reason, envelope_sha256, detail``; ``prev_hash`` enters the hash as its 32 raw bytes.

:func:`verify_audit_file` walks the rows in id order and reports the first whose id is
not the next integer, whose ``prev_hash`` is not the previous row's hash, whose columns
do not hash to ``hash``, or whose ``record_json`` does not match its columns. That
catches edited, deleted, swapped, reordered and inserted rows and a broken first link.
A dropped *tail* (the last rows deleted) still leaves a valid chain; pass the head you
anchored elsewhere (``expect_head``) to catch that too.

Triggers refuse UPDATE and DELETE on the table, so ordinary use cannot rewrite history;
someone with the file can drop them, which is what the hash chain is for.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import hashlib
import json
import os
import re
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final

from trilink.errors import TrilinkError
from trilink.sharing.checkpoint import (
    Checkpoint,
    decode_checkpoint,
    encode_checkpoint,
    make_checkpoint,
)
from trilink.sharing.envelope import (
    Accepted,
    Envelope,
    KeyRegistry,
    NodeKey,
    Rejection,
    Signer,
    Verifier,
    envelope_sha256,
)

__all__ = [
    "GENESIS_HASH",
    "AuditFileError",
    "AuditLog",
    "AuditRecord",
    "Direction",
    "VerifyResult",
    "canonical_record",
    "chain_hash",
    "verify_audit_file",
    "verify_cli",
]

GENESIS_HASH: Final = "0" * 64
"""``prev_hash`` of the first record."""

AUDIT_FORMAT: Final = "trilink-audit/1"

_COLUMNS: Final = ("id", "t_ns", "direction", "peer", "kind", "seq", "reason",
                   "envelope_sha256", "detail")

_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS audit_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id              INTEGER PRIMARY KEY,
    t_ns            INTEGER NOT NULL,
    direction       TEXT NOT NULL CHECK (direction IN ('sent','received','rejected',
                                                   'relayed','escalated')),
    peer            TEXT,
    kind            TEXT,
    seq             INTEGER,
    reason          TEXT,
    envelope_sha256 TEXT,
    detail          TEXT NOT NULL,
    record_json     TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS audit_checkpoint (
    nation   TEXT NOT NULL,
    records  INTEGER NOT NULL,
    t_ns     INTEGER NOT NULL,
    own      INTEGER NOT NULL,
    blob     BLOB NOT NULL
);
INSERT OR IGNORE INTO audit_meta (key, value) VALUES ('format', '{AUDIT_FORMAT}');
"""


class Direction(enum.StrEnum):
    """What happened to the envelope at this node."""

    SENT = "sent"
    RECEIVED = "received"
    REJECTED = "rejected"
    RELAYED = "relayed"
    ESCALATED = "escalated"  # a hotline escalation step (no envelope of its own)


Value = int | str | None


def canonical_record(record: dict[str, Value]) -> bytes:
    """The canonical bytes of a record dict (sorted keys, no spaces, ASCII)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True).encode("ascii")


def chain_hash(prev_hash: str, record_bytes: bytes) -> str:
    """``SHA-256(bytes.fromhex(prev_hash) || record_bytes)`` as hex."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + record_bytes).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One appended row."""

    id: int
    t_ns: int
    direction: Direction
    peer: str | None
    kind: str | None
    seq: int | None
    reason: str | None
    envelope_sha256: str | None
    detail: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of a chain check: intact (``ok``) or the first bad record and why."""

    ok: bool
    records: int
    first_bad_id: int | None
    reason: str
    head_hash: str = GENESIS_HASH


class AuditFileError(TrilinkError):
    """The file is missing, not SQLite, or not a trilink audit log."""


class AuditLog:
    """An append-only, hash-chained log in one SQLite file (created if missing).

    Each :meth:`append` is its own committed transaction; with ``durable=True`` (the
    default) SQLite syncs to disk on every commit (``synchronous=FULL``). Simulations
    may pass ``durable=False`` (``synchronous=OFF``): still atomic, faster, but an OS
    crash may lose the latest rows.
    """

    def __init__(self, path: str | os.PathLike[str], *, durable: bool = True,
                 checkpoint_every: int = 256, flush_every: int = 1) -> None:
        """Open or create the log at ``path``.

        Once a node key is attached (:meth:`attach`), a signed checkpoint of the head is
        written every ``checkpoint_every`` records and on :meth:`close`; the node sends
        them to its partners (:meth:`take_checkpoints`).

        ``flush_every`` > 1 makes this a batched sink: records are chained at once (the
        head is kept in memory) but written in one transaction per ``flush_every``
        records, or at :meth:`flush` (call it once per tick), or before any read and at
        :meth:`close`. A crash may lose the unflushed rows; the chain stays valid.
        """
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._batch = False
        self._key: NodeKey | None = None
        self.checkpoint_every = max(1, int(checkpoint_every))
        self._pending: list[bytes] = []
        self._last_checkpoint = 0
        self.flush_every = max(1, int(flush_every))
        self._rows: list[tuple[Value, ...]] = []
        self._head: tuple[int, str] | None = None  # cached while rows are buffered
        # TRUNCATE avoids creating and deleting the journal on every commit; close()
        # returns to DELETE so a closed log is a single file.
        self._db.execute("PRAGMA journal_mode=TRUNCATE")
        self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database connection (leaving one file, no journal)."""
        if self._batch:
            raise RuntimeError("close() inside batch()")
        if self._key is not None and self.head()[0] > self._last_checkpoint:
            self.checkpoint()
        self.flush()
        self._db.execute("PRAGMA journal_mode=DELETE")
        self._db.close()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group appends into one transaction (committed at the end, rolled back on error).

        For simulations that log thousands of envelopes: one commit instead of one each.
        """
        if self._batch:
            raise RuntimeError("batch() is not re-entrant")
        self.flush()
        self._db.execute("BEGIN IMMEDIATE")
        self._batch = True
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            self._batch = False
            self._head = None

    def __enter__(self) -> AuditLog:
        """Use as a context manager that closes on exit."""
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Close."""
        self.close()

    def head(self) -> tuple[int, str]:
        """``(number of records, hash of the last)`` — anchor this elsewhere to catch
        truncation (see :func:`verify_audit_file`)."""
        self.flush()
        row = self._db.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return 0, GENESIS_HASH
        return int(row[0]), str(row[1])

    def append(self, t_ns: int, direction: Direction | str, *, peer: str | None = None,
               kind: str | None = None, seq: int | None = None, reason: str | None = None,
               envelope_sha256: str | None = None, detail: str = "") -> AuditRecord:
        """Append one record, chained to the current last one, and commit."""
        direction = Direction(direction)
        kind_s = None if kind is None else str(kind)
        reason_s = None if reason is None else str(reason)
        seq_i = None if seq is None else int(seq)
        if self.flush_every > 1 and not self._batch:
            return self._buffer(int(t_ns), direction, peer, kind_s, seq_i, reason_s,
                                envelope_sha256, detail)
        own_txn = not self._batch
        if own_txn:
            self._db.execute("BEGIN IMMEDIATE")
        try:
            last_id, prev = self.head()
            rec: dict[str, Value] = {
                "id": last_id + 1, "t_ns": int(t_ns), "direction": str(direction),
                "peer": peer, "kind": kind_s, "seq": seq_i, "reason": reason_s,
                "envelope_sha256": envelope_sha256, "detail": detail,
            }
            body = canonical_record(rec)
            digest = chain_hash(prev, body)
            self._db.execute(
                "INSERT INTO audit (id, t_ns, direction, peer, kind, seq, reason, "
                "envelope_sha256, detail, record_json, prev_hash, hash) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (*(rec[c] for c in _COLUMNS), body.decode("ascii"), prev, digest))
            if self._key is not None and last_id + 1 - self._last_checkpoint \
                    >= self.checkpoint_every:
                self.checkpoint()
            if own_txn:
                self._db.execute("COMMIT")
        except BaseException:
            if own_txn:
                self._db.execute("ROLLBACK")
            raise
        return AuditRecord(last_id + 1, int(t_ns), direction, peer, kind_s, seq_i, reason_s,
                           envelope_sha256, detail, prev, digest)

    def _buffer(self, t_ns: int, direction: Direction, peer: str | None, kind: str | None,
                seq: int | None, reason: str | None, sha: str | None,
                detail: str) -> AuditRecord:
        """The batched sink's append: chain now, write at the next flush."""
        if self._head is None:
            self._head = self._db_head()
        last_id, prev = self._head
        rec: dict[str, Value] = {
            "id": last_id + 1, "t_ns": t_ns, "direction": str(direction), "peer": peer,
            "kind": kind, "seq": seq, "reason": reason, "envelope_sha256": sha,
            "detail": detail,
        }
        body = canonical_record(rec)
        digest = chain_hash(prev, body)
        self._rows.append((*(rec[c] for c in _COLUMNS), body.decode("ascii"), prev, digest))
        self._head = (last_id + 1, digest)
        if len(self._rows) >= self.flush_every:
            self.flush()
        if self._key is not None and last_id + 1 - self._last_checkpoint >= self.checkpoint_every:
            self.checkpoint()
        return AuditRecord(last_id + 1, t_ns, direction, peer, kind, seq, reason, sha, detail,
                           prev, digest)

    def _db_head(self) -> tuple[int, str]:
        row = self._db.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))

    def flush(self) -> None:
        """Write the buffered records in one transaction (no-op when none are)."""
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                "INSERT INTO audit (id, t_ns, direction, peer, kind, seq, reason, "
                "envelope_sha256, detail, record_json, prev_hash, hash) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            self._head = None  # re-read: the buffered rows are lost
            raise

    def log_sent(self, env: Envelope, data: bytes, t_ns: int) -> AuditRecord:
        """Record that this node sent ``data`` (the wire bytes of ``env``)."""
        return self.append(t_ns, Direction.SENT, peer=env.via[0] if env.via else env.recipient,
                           kind=env.kind, seq=env.seq, envelope_sha256=envelope_sha256(data),
                           detail=_route(env))

    def log_relayed(self, env: Envelope, data: bytes, t_ns: int, next_hop: str) -> AuditRecord:
        """Record that this node forwarded ``data`` to ``next_hop``."""
        return self.append(t_ns, Direction.RELAYED, peer=next_hop, kind=env.kind, seq=env.seq,
                           envelope_sha256=envelope_sha256(data),
                           detail=_route(env))

    def log_check(self, result: Accepted | Rejection, data: bytes, t_ns: int) -> AuditRecord:
        """Record a :class:`~trilink.sharing.envelope.Verifier` verdict on ``data``.

        Accepted envelopes are logged as ``received`` (also for a relay: the forward
        itself is :meth:`log_relayed`); rejections as ``rejected`` with their reason.
        """
        digest = envelope_sha256(bytes(data)) if isinstance(data, bytes | bytearray) else None
        if isinstance(result, Accepted):
            env = result.envelope
            return self.append(t_ns, Direction.RECEIVED, peer=env.sender, kind=env.kind,
                               seq=env.seq, envelope_sha256=digest,
                               detail=_route(env) + (" (to relay)" if result.relay else ""))
        env_or_none = result.envelope
        return self.append(t_ns, Direction.REJECTED,
                           peer=env_or_none.sender if env_or_none else None,
                           kind=env_or_none.kind if env_or_none else None,
                           seq=env_or_none.seq if env_or_none else None,
                           reason=result.reason, envelope_sha256=digest, detail=result.detail)

    def log_refused(self, t_ns: int, env: Envelope | None, data: bytes, reason: str,
                    detail: str, peer: str | None = None) -> AuditRecord:
        """Record a delivery refused before the envelope checks (e.g. its path)."""
        return self.append(t_ns, Direction.REJECTED,
                           peer=env.sender if env is not None else peer,
                           kind=env.kind if env is not None else None,
                           seq=env.seq if env is not None else None, reason=reason,
                           envelope_sha256=envelope_sha256(bytes(data)), detail=detail)

    def attach(self, verifier: Verifier, signer: Signer | None,
               key: NodeKey | None = None) -> int:
        """Make this the log of a node: rebuild its replay window and sequence from the
        rows (:meth:`restore`) and sign checkpoints with its key (``signer``'s unless
        ``key`` is given). Returns the envelopes restored."""
        n = self.restore(verifier, signer)
        self._key = key or (signer.key if signer is not None else None)
        if self._key is not None:
            self._db.execute("INSERT OR REPLACE INTO audit_meta (key, value) "
                             "VALUES ('nation', ?)", (self._key.nation,))
            row = self._db.execute("SELECT MAX(records) FROM audit_checkpoint WHERE own = 1"
                                   ).fetchone()
            self._last_checkpoint = int(row[0] or 0)
        return n

    def checkpoint(self) -> Checkpoint:
        """Sign the current head (count and hash, at the last record's time) now."""
        if self._key is None:
            raise RuntimeError("no node key attached: see attach()")
        count, head = self.head()
        row = self._db.execute("SELECT t_ns FROM audit WHERE id = ?", (count,)).fetchone()
        cp = make_checkpoint(self._key, count, head, int(row[0]) if row else 0)
        data = encode_checkpoint(cp)
        self._db.execute("INSERT INTO audit_checkpoint (nation, records, t_ns, own, blob) "
                         "VALUES (?,?,?,1,?)", (cp.nation, cp.records, cp.t_ns, data))
        self._pending.append(data)
        self._last_checkpoint = count
        return cp

    def receive_checkpoint(self, data: bytes, registry: KeyRegistry, deliverer: str | None,
                           t_ns: int) -> str | None:
        """A node's handling of a partner's checkpoint: keep it, or audit why not (and
        return the reason)."""
        kept = self.keep_checkpoint(data, registry, deliverer)
        if not isinstance(kept, str):
            return None
        self.log_refused(t_ns, None, data, "checkpoint", kept, peer=deliverer)
        return kept

    def take_checkpoints(self) -> list[bytes]:
        """Checkpoints written since the last call (wire bytes, for the partners)."""
        out, self._pending = self._pending, []
        return out

    def keep_checkpoint(self, data: bytes, registry: KeyRegistry,
                        deliverer: str | None = None) -> Checkpoint | str:
        """Keep a partner's checkpoint if its signature verifies (and, when the transport
        names the deliverer, the partner delivered it itself); else say why not."""
        cp = decode_checkpoint(data)
        if isinstance(cp, str):
            return cp
        if not cp.verifies(registry):
            return f"checkpoint of {cp.nation}: signature does not verify"
        if deliverer is not None and deliverer != cp.nation:
            return f"checkpoint of {cp.nation} delivered by {deliverer}"
        self._db.execute("INSERT INTO audit_checkpoint (nation, records, t_ns, own, blob) "
                         "VALUES (?,?,?,0,?)", (cp.nation, cp.records, cp.t_ns, bytes(data)))
        return cp

    def restore(self, verifier: Verifier, signer: Signer | None = None) -> int:
        """Rebuild a restarted node's state from its log; returns the envelopes restored.

        Every envelope the log shows the verifier took (``received`` rows, and rows
        refused after the envelope checks: ``policy``, ``payload``, ``hotline``) is
        remembered, so a replay after the restart is refused; the receive time stands in
        for the creation time (never earlier, so entries stay at least as long as they
        should). Rows older than the window only raise the per-sender floor. With a
        ``signer``, its next sequence number continues after the last one it sent.
        """
        self.flush()
        last = self._db.execute("SELECT MAX(t_ns) FROM audit").fetchone()[0]
        if last is None:
            return 0
        cutoff = int(last) - verifier.window.past_ns
        rows = self._db.execute(
            "SELECT peer, seq, t_ns, detail FROM audit WHERE peer IS NOT NULL AND seq IS NOT "
            "NULL AND (direction = 'received' OR (direction = 'rejected' AND reason IN "
            "('policy', 'payload', 'hotline')))").fetchall()
        n = 0
        for peer, seq, t_ns, detail in rows:
            m = _ROUTE_KEY.match(detail or "")
            key_ids = ([m.group(2)] if m and m.group(1) == peer
                       else verifier.registry.key_ids(peer))
            for key_id in key_ids:
                if t_ns >= cutoff:
                    verifier.remember(peer, key_id, int(seq), int(t_ns))
                else:
                    verifier.raise_floor(peer, key_id, int(seq))
            n += 1
        if signer is not None:
            top = self._db.execute(
                "SELECT MAX(seq) FROM audit WHERE direction = 'sent'").fetchone()[0]
            if top is not None:
                signer.next_seq = max(signer.next_seq, int(top) + 1)
        return n

    def verify(self, *, expect_head: tuple[int, str] | None = None) -> VerifyResult:
        """Check this log's chain (see :func:`verify_audit_file`)."""
        self.flush()
        return _verify_connection(self._db, expect_head)

    def records(self) -> list[AuditRecord]:
        """Every record in id order (as stored; not verified)."""
        self.flush()
        rows = self._db.execute(
            "SELECT id, t_ns, direction, peer, kind, seq, reason, envelope_sha256, detail, "
            "prev_hash, hash FROM audit ORDER BY id").fetchall()
        return [AuditRecord(r[0], r[1], Direction(r[2]), *r[3:]) for r in rows]


# The start of ``_route``'s detail: "SENDER/KEY_ID -> …".
_ROUTE_KEY: Final = re.compile(r"^([A-Z]{3})/([A-Za-z0-9._-]{1,64}) -> ")


def _route(env: Envelope) -> str:
    """One-line route of an envelope for the detail column."""
    via = "".join(f" via {n}" for n in env.via)
    return (f"{env.sender}/{env.key_id} -> {env.recipient}{via}, originator {env.originator}, "
            f"REL TO {'/'.join(env.rel_to)}")


def _verify_connection(db: sqlite3.Connection,
                       expect_head: tuple[int, str] | None) -> VerifyResult:
    """Walk the chain on an open connection."""
    try:
        cur = db.execute(
            "SELECT id, t_ns, direction, peer, kind, seq, reason, envelope_sha256, detail, "
            "record_json, prev_hash, hash FROM audit ORDER BY id")
    except sqlite3.DatabaseError as exc:
        raise AuditFileError(_db_problem(exc)) from None
    prev = GENESIS_HASH
    expected_id = 1
    count = 0
    for row in cur:
        rid = row[0]
        rec: dict[str, Value] = dict(zip(_COLUMNS, row[:9], strict=True))
        record_json, prev_hash, stored = row[9], row[10], row[11]
        bad_id = rid if isinstance(rid, int) else None
        if rid != expected_id:
            why = ("first record is not id 1" if expected_id == 1
                   else f"id out of sequence, expected {expected_id} "
                        f"(a record was deleted or inserted)")
            return VerifyResult(False, count, bad_id, why, prev)
        if prev_hash != prev:
            why = ("broken first link: prev_hash is not the genesis hash" if expected_id == 1
                   else f"prev_hash does not match the hash of record {expected_id - 1}")
            return VerifyResult(False, count, rid, why, prev)
        try:
            body = canonical_record(rec)
        except (TypeError, ValueError):
            return VerifyResult(False, count, rid, "a field holds a value of the wrong type", prev)
        computed = chain_hash(prev, body)
        if stored != computed:
            return VerifyResult(False, count, rid,
                                "hash does not match the record (content or hash altered)", prev)
        if record_json != body.decode("ascii"):
            return VerifyResult(False, count, rid, "record_json does not match the record", prev)
        prev = computed
        expected_id += 1
        count += 1
    if expect_head is not None:
        n, head = expect_head
        if count < n:
            return VerifyResult(False, count, count + 1,
                                f"log ends at record {count}, anchored head is record {n} "
                                "(tail truncated)", prev)
        if n > 0 and _hash_of(db, n) != head:
            return VerifyResult(False, count, n, "record does not match the anchored head hash",
                                prev)
    return VerifyResult(True, count, None, "intact", prev)


def _hash_of(db: sqlite3.Connection, rid: int) -> str | None:
    row = db.execute("SELECT hash FROM audit WHERE id = ?", (rid,)).fetchone()
    return None if row is None else str(row[0])


def _lenient_text(raw: bytes) -> str:
    """SQLite TEXT → str, keeping invalid UTF-8 as surrogate escapes."""
    return raw.decode("utf-8", "surrogateescape")


def _db_problem(exc: sqlite3.DatabaseError) -> str:
    msg = str(exc)
    if "not a database" in msg:
        return "not an SQLite database"
    if "malformed" in msg:
        return "corrupt SQLite file (database disk image is malformed)"
    if "no such table" in msg or "no such column" in msg:
        return "not a trilink audit log"
    return f"cannot read: {msg}"


def verify_audit_file(path: str | os.PathLike[str], *,
                      expect_head: tuple[int, str] | None = None) -> VerifyResult:
    """Check the hash chain of the audit log at ``path`` (opened read-only).

    ``expect_head`` — ``(records, hash)`` from :meth:`AuditLog.head` kept elsewhere —
    additionally detects a truncated tail. Raises :class:`AuditFileError` (one-line
    message) for a missing file, a non-SQLite file or a database without the table.
    """
    p = Path(path)
    if not p.is_file():
        raise AuditFileError("no such file")
    try:
        db = sqlite3.connect(p.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise AuditFileError(f"cannot open: {exc}") from None
    # Damaged text must not stop the walk: undecodable bytes are kept (as surrogates),
    # so they fail the hash check like any other change.
    db.text_factory = _lenient_text
    try:
        return _verify_connection(db, expect_head)
    except sqlite3.DatabaseError as exc:
        raise AuditFileError(_db_problem(exc)) from None
    except (sqlite3.Error, ValueError) as exc:
        raise AuditFileError(f"unreadable: {exc}") from None
    finally:
        db.close()


def _utc(t_ns: int) -> str:
    t = dt.datetime.fromtimestamp(t_ns / 1e9, dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _open_ro(p: Path) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(p.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise AuditFileError(f"cannot open: {exc}") from None
    db.text_factory = _lenient_text
    return db


def read_checkpoints(path: str | os.PathLike[str], *, own: bool | None = None) -> list[Checkpoint]:
    """The checkpoints a log holds (its own, ``own=True``; partners', ``False``; all,
    None), decoded but not verified; undecodable blobs are left out."""
    p = Path(path)
    if not p.is_file():
        raise AuditFileError("no such file")
    db = _open_ro(p)
    try:
        sql = "SELECT blob FROM audit_checkpoint"
        rows = db.execute(sql + ("" if own is None else f" WHERE own = {int(own)}")).fetchall()
    except sqlite3.DatabaseError as exc:
        if "no such table" in str(exc):
            return []
        raise AuditFileError(_db_problem(exc)) from None
    finally:
        db.close()
    out = []
    for (blob,) in rows:
        cp = decode_checkpoint(blob if isinstance(blob, bytes) else b"")
        if not isinstance(cp, str):
            out.append(cp)
    return out


@dataclass(frozen=True, slots=True)
class AnchorReport:
    """Outcome of :func:`verify_anchored`: ``ok`` or one line per problem found."""

    ok: bool
    records: int
    anchored: int
    nation: str | None
    problems: tuple[str, ...]
    last_checkpoint: str | None = None


def verify_anchored(path: str | os.PathLike[str], registry: KeyRegistry,
                    checkpoints: Sequence[Checkpoint] = ()) -> AnchorReport:
    """The chain check plus the signed checkpoints: the log's own and ``checkpoints``
    (kept by partners). Finds, with the rows and since when:

    - records missing at the end (a checkpoint anchors more rows than the log holds;
      every row, if the log is empty or its file gone);
    - a record that does not match the checkpoint anchoring it (rewritten history);
    - records after the newest valid checkpoint (appended later, or forged);
    - checkpoints whose signature does not verify (forged);
    - an empty log with no checkpoint at all (nothing shows it was ever complete).

    Raises :class:`AuditFileError` for an unreadable file (or a missing one when no
    checkpoint names it).
    """
    p = Path(path)
    problems: list[str] = []
    if not p.is_file():
        nations = {c.nation for c in checkpoints if c.verifies(registry)}
        best = max((c for c in checkpoints if c.verifies(registry)), key=lambda c: c.records,
                   default=None)
        if best is None:
            raise AuditFileError("no such file")
        return AnchorReport(False, 0, 0, best.nation if len(nations) == 1 else None, (
            f"no such file, but {best.nation}'s checkpoint of {best.when} anchors "
            f"{best.records} records: the whole log is gone (records 1-{best.records})",),
            best.when)
    chain = verify_audit_file(p)
    if not chain.ok:
        problems.append(f"record {chain.first_bad_id}: {chain.reason}")
    count = chain.records
    db = _open_ro(p)
    try:
        row = db.execute("SELECT value FROM audit_meta WHERE key = 'nation'").fetchone()
        meta_nation = None if row is None else str(row[0])

        def t_of(rid: int) -> int | None:
            r = db.execute("SELECT t_ns FROM audit WHERE id = ?", (rid,)).fetchone()
            return None if r is None else int(r[0])

        own = read_checkpoints(p, own=True)
        nation = meta_nation
        if nation is None:
            names = {c.nation for c in own} or {c.nation for c in checkpoints}
            nation = names.pop() if len(names) == 1 else None
        valid: list[Checkpoint] = []
        for cp in [*own, *checkpoints]:
            if nation is not None and cp.nation != nation:
                continue
            if not cp.verifies(registry):
                problems.append(f"checkpoint for {cp.records} records of {cp.when} claiming "
                                f"{cp.nation}: signature does not verify with its key (forged)")
            else:
                valid.append(cp)
        best = max(valid, key=lambda c: (c.records, c.t_ns), default=None)
        anchored = 0
        for cp in sorted(valid, key=lambda c: c.records):
            if cp.records > count:
                continue
            if cp.records and _hash_of(db, cp.records) != cp.head:
                problems.append(f"record {cp.records} does not match {cp.nation}'s signed "
                                f"checkpoint of {cp.when} (history rewritten)")
            else:
                anchored = max(anchored, cp.records)
        if best is not None and best.records > count:
            t_last = t_of(count) if count else None
            since = f"after {_utc(t_last)}" if t_last is not None else "all of them"
            problems.append(f"records {count + 1}-{best.records} missing ({since}): "
                            f"{best.nation}'s signed checkpoint of {best.when} anchors "
                            f"{best.records} records, the log holds {count} "
                            "(tail or whole log deleted)")
        elif best is None and count == 0:
            problems.append("0 records and no signed checkpoint: nothing shows the log "
                            "was ever complete (an emptied log looks like this)")
        if chain.ok and count > anchored and (best is None or best.records <= count):
            t_first = t_of(anchored + 1)
            since = f" (since {_utc(t_first)})" if t_first is not None else ""
            problems.append(f"records {anchored + 1}-{count}{since} are not covered by a "
                            "signed checkpoint: appended after the last one, or forged")
    except sqlite3.DatabaseError as exc:
        raise AuditFileError(_db_problem(exc)) from None
    finally:
        db.close()
    return AnchorReport(not problems, count, anchored, nation, tuple(problems),
                        best.when if best is not None else None)


def verify_cli(path: str, keys: str | None = None, checkpoints: str | None = None) -> int:
    """``trilink audit verify FILE [--keys REGISTRY] [--checkpoints FILE]``: exit 0
    (intact), 1 (broken, one line per problem) or 2 (unreadable input).

    Without ``keys`` only the hash chain is checked. With them, the signed checkpoints
    (the log's own and those in ``checkpoints``: a JSON-lines file or a partner's audit
    log) must verify and anchor every record (:func:`verify_anchored`).
    """
    if keys is None:
        if checkpoints is not None:
            sys.stderr.write(f"{path}: --checkpoints needs --keys (to check signatures)\n")
            return 2
        return _verify_chain_cli(path)
    from trilink.sharing.checkpoint import CheckpointFileError, load_checkpoints
    from trilink.sharing.envelope import KeyRegistryError

    try:
        registry = KeyRegistry.load(keys)
    except KeyRegistryError as exc:
        sys.stderr.write(f"{keys}: not a trilink key registry: {exc}\n")
        return 2
    kept: list[Checkpoint] = []
    if checkpoints is not None:
        try:
            kept = load_checkpoints(checkpoints)
        except CheckpointFileError as exc:
            sys.stderr.write(f"{checkpoints}: {exc}\n")
            return 2
    try:
        rep = verify_anchored(path, registry, kept)
    except AuditFileError as exc:
        sys.stderr.write(f"{path}: {exc}\n")
        return 2
    if rep.ok:
        sys.stdout.write(f"{path}: intact, {rep.records} records, all anchored by "
                         f"{rep.nation}'s signed checkpoint of {rep.last_checkpoint}\n")
        return 0
    for line in rep.problems:
        sys.stderr.write(f"{path}: {line}\n")
    return 1


def _verify_chain_cli(path: str) -> int:

    """``trilink audit verify FILE``: one line, exit 0 (intact), 1 (broken) or 2 (unreadable).

    Intact goes to stdout (``FILE: intact, N records``); the broken record
    (``FILE: record ID: reason``) and unreadable files (``FILE: problem``) go to stderr.
    """
    try:
        res = verify_audit_file(path)
    except AuditFileError as exc:
        sys.stderr.write(f"{path}: {exc}\n")
        return 2
    if res.ok:
        sys.stdout.write(f"{path}: intact, {res.records} records\n")
        return 0
    where = f"record {res.first_bad_id}" if res.first_bad_id is not None else "record ?"
    sys.stderr.write(f"{path}: {where}: {res.reason}\n")
    return 1
