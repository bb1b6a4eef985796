"""The batched audit sink writes the same chain as one commit per record."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hostile_net import KEYS, REGISTRY

from trilink.sharing.audit import AuditLog, verify_anchored, verify_audit_file
from trilink.sharing.envelope import Verifier


def _fill(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.append(1_000 + i, "received", peer="JPN", kind="missile_track", seq=i + 1,
                   detail=f"row {i}")


def _rows(db: Path) -> list[tuple[object, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT * FROM audit ORDER BY id").fetchall()
    finally:
        con.close()


def test_batched_sink_writes_the_same_chain(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "one.sqlite", durable=False) as one:
        _fill(one, 150)
    sink = AuditLog(tmp_path / "many.sqlite", durable=False, flush_every=64)
    _fill(sink, 100)
    assert len(_rows(tmp_path / "many.sqlite")) == 64  # one transaction so far
    assert len(sink.records()) == 100  # reads see the buffered rows
    with sink.batch():  # an explicit batch after buffered rows keeps the chain
        sink.append(1_100, "received", peer="JPN", kind="missile_track", seq=101,
                    detail="row 100")
    for i in range(101, 150):
        sink.append(1_000 + i, "received", peer="JPN", kind="missile_track", seq=i + 1,
                    detail=f"row {i}")
    sink.close()
    assert _rows(tmp_path / "many.sqlite") == _rows(tmp_path / "one.sqlite")
    assert verify_audit_file(tmp_path / "many.sqlite").ok


def test_batched_sink_with_checkpoints_is_anchored(tmp_path: Path) -> None:
    sink = AuditLog(tmp_path / "a.sqlite", durable=False, flush_every=16, checkpoint_every=10)
    sink.attach(Verifier("JPN", REGISTRY), None, key=KEYS["JPN"])
    _fill(sink, 45)
    assert len(sink.take_checkpoints()) == 4
    sink.close()
    rep = verify_anchored(tmp_path / "a.sqlite", REGISTRY)
    assert rep.ok and rep.records == 45, rep.problems
