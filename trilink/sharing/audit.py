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
import enum
import hashlib
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final

from trilink.sharing.envelope import (
    Accepted,
    Envelope,
    Rejection,
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


class AuditFileError(Exception):
    """The file is missing, not SQLite, or not a trilink audit log."""


class AuditLog:
    """An append-only, hash-chained log in one SQLite file (created if missing).

    Each :meth:`append` is its own committed transaction; with ``durable=True`` (the
    default) SQLite syncs to disk on every commit (``synchronous=FULL``). Simulations
    may pass ``durable=False`` (``synchronous=OFF``): still atomic, faster, but an OS
    crash may lose the latest rows.
    """

    def __init__(self, path: str | os.PathLike[str], *, durable: bool = True) -> None:
        """Open or create the log at ``path``."""
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._batch = False
        # TRUNCATE avoids creating and deleting the journal on every commit; close()
        # returns to DELETE so a closed log is a single file.
        self._db.execute("PRAGMA journal_mode=TRUNCATE")
        self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database connection (leaving one file, no journal)."""
        if self._batch:
            raise RuntimeError("close() inside batch()")
        self._db.execute("PRAGMA journal_mode=DELETE")
        self._db.close()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group appends into one transaction (committed at the end, rolled back on error).

        For simulations that log thousands of envelopes: one commit instead of one each.
        """
        if self._batch:
            raise RuntimeError("batch() is not re-entrant")
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
            if own_txn:
                self._db.execute("COMMIT")
        except BaseException:
            if own_txn:
                self._db.execute("ROLLBACK")
            raise
        return AuditRecord(last_id + 1, int(t_ns), direction, peer, kind_s, seq_i, reason_s,
                           envelope_sha256, detail, prev, digest)

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

    def verify(self, *, expect_head: tuple[int, str] | None = None) -> VerifyResult:
        """Check this log's chain (see :func:`verify_audit_file`)."""
        return _verify_connection(self._db, expect_head)

    def records(self) -> list[AuditRecord]:
        """Every record in id order (as stored; not verified)."""
        rows = self._db.execute(
            "SELECT id, t_ns, direction, peer, kind, seq, reason, envelope_sha256, detail, "
            "prev_hash, hash FROM audit ORDER BY id").fetchall()
        return [AuditRecord(r[0], r[1], Direction(r[2]), *r[3:]) for r in rows]


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


def verify_cli(path: str) -> int:
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
