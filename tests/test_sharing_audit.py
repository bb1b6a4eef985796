"""Audit log: append and verify on real SQLite files; every kind of tampering is caught."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest

from trilink.sharing.audit import (
    GENESIS_HASH,
    AuditFileError,
    AuditLog,
    Direction,
    canonical_record,
    chain_hash,
    verify_audit_file,
    verify_cli,
)
from trilink.sharing.envelope import Signer, Verifier, encode, generate_keys

T0 = 1_701_388_800_000_000_000
N = 6


def make_log(path: Path, n: int = N) -> Path:
    """A log with ``n`` records, alternating directions."""
    with AuditLog(path, durable=False) as log:
        for i in range(n):
            log.append(T0 + i, list(Direction)[i % 4], peer="KOR", kind="missile_track",
                       seq=i + 1, reason="replay" if i % 4 == 2 else None,
                       envelope_sha256=f"{i:064x}", detail=f"event {i}")
    return path


def tamper(path: Path, *sql: str) -> None:
    """What an attacker with the file does: drop the guards, then rewrite rows."""
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("DROP TRIGGER audit_no_delete")
    for stmt in sql:
        db.execute(stmt)
    db.commit()
    db.close()


def test_append_and_verify_intact(tmp_path: Path) -> None:
    path = make_log(tmp_path / "JPN.sqlite")
    res = verify_audit_file(path)
    assert res.ok and res.records == N and res.first_bad_id is None and res.reason == "intact"
    with AuditLog(path) as log:
        recs = log.records()
        assert [r.id for r in recs] == list(range(1, N + 1))
        assert recs[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(recs))
        assert log.head() == (N, recs[-1].hash) and res.head_hash == recs[-1].hash


def test_hash_is_the_documented_formula(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "a.sqlite") as log:
        rec = log.append(T0, "sent", peer="USA", kind="hotline", seq=3, detail="hi")
    body = canonical_record({"id": 1, "t_ns": T0, "direction": "sent", "peer": "USA",
                             "kind": "hotline", "seq": 3, "reason": None,
                             "envelope_sha256": None, "detail": "hi"})
    assert body.startswith(b'{"detail":"hi","direction":"sent"')
    assert rec.hash == chain_hash(GENESIS_HASH, body)


def test_deterministic_bytes_of_the_chain(tmp_path: Path) -> None:
    a = AuditLog(make_log(tmp_path / "a.sqlite")).records()
    b = AuditLog(make_log(tmp_path / "b.sqlite")).records()
    assert a == b


def test_append_after_reopen_continues_chain(tmp_path: Path) -> None:
    path = make_log(tmp_path / "log.sqlite", 3)
    with AuditLog(path) as log:
        head = log.head()
        rec = log.append(T0 + 99, Direction.RECEIVED, peer="USA")
    assert rec.id == 4 and rec.prev_hash == head[1]
    res = verify_audit_file(path)
    assert res.ok and res.records == 4


def test_triggers_refuse_rewrites(tmp_path: Path) -> None:
    path = make_log(tmp_path / "log.sqlite")
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET peer = 'PRK' WHERE id = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit WHERE id = 2")
    db.close()
    assert verify_audit_file(path).ok


def test_batch_commits_once_and_rolls_back_whole(tmp_path: Path) -> None:
    path = make_log(tmp_path / "log.sqlite", 2)
    with AuditLog(path) as log:
        with log.batch():
            for i in range(5):
                log.append(T0 + i, "received", peer="USA", seq=i)
        assert log.head()[0] == 7
        with pytest.raises(RuntimeError, match="boom"), log.batch():
            log.append(T0, "sent", peer="USA")
            raise RuntimeError("boom")
        assert log.head()[0] == 7  # the failed batch is gone, nothing stored before is lost
        log.append(T0 + 9, "sent", peer="USA")
    assert verify_audit_file(path).ok and verify_audit_file(path).records == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.sqlite"]  # no journal left


def test_bad_direction_is_refused_before_writing(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "log.sqlite") as log:
        with pytest.raises(ValueError):
            log.append(T0, "forwarded")
        assert log.head() == (0, GENESIS_HASH)


# Each case: SQL an attacker runs, the first bad id, a word of the reason.
_COLS = "t_ns, direction, peer, kind, seq, reason, envelope_sha256, detail, record_json, " \
        "prev_hash, hash"
TAMPERS: dict[str, tuple[list[str], int, str]] = {
    "update a column": (["UPDATE audit SET peer = 'PRK' WHERE id = 3"], 3, "hash"),
    "update t_ns to text": (["UPDATE audit SET t_ns = t_ns || 'Z' WHERE id = 4"], 4, "hash"),
    "update column and record_json": (
        ["UPDATE audit SET seq = 99, record_json = replace(record_json, '\"seq\":3', "
         "'\"seq\":99') WHERE id = 3"], 3, "hash"),
    "update record_json only": (
        ["UPDATE audit SET record_json = record_json || ' ' WHERE id = 5"], 5, "record_json"),
    "edit the hash column": (["UPDATE audit SET hash = replace(hash, substr(hash, 1, 1), "
                              "CASE substr(hash, 1, 1) WHEN 'a' THEN 'b' ELSE 'a' END) "
                              "WHERE id = 2"], 2, "hash"),
    "delete a middle row": (["DELETE FROM audit WHERE id = 3"], 4, "deleted"),
    "delete the first row": (["DELETE FROM audit WHERE id = 1"], 2, "id 1"),
    "swap two rows": ([
        "CREATE TEMP TABLE s AS SELECT * FROM audit WHERE id IN (2, 5)",
        f"UPDATE audit SET ({_COLS}) = (SELECT {_COLS} FROM s WHERE s.id = 7 - audit.id) "
        "WHERE id IN (2, 5)"], 2, "prev_hash"),
    "insert a forged row at the end": ([
        "INSERT INTO audit SELECT 7, t_ns, direction, 'PRK', kind, seq, reason, "
        "envelope_sha256, detail, record_json, prev_hash, hash FROM audit WHERE id = 6"],
        7, "prev_hash"),
    "insert a forged row in the middle": ([
        "UPDATE audit SET id = id + 100 WHERE id >= 4",
        "UPDATE audit SET id = id - 99 WHERE id >= 100",
        "INSERT INTO audit SELECT 4, t_ns, direction, peer, kind, seq, reason, "
        "envelope_sha256, detail, record_json, hash, hash FROM audit WHERE id = 3"],
        4, "hash"),
    "insert before the first": ([
        "INSERT INTO audit SELECT 0, t_ns, direction, peer, kind, seq, reason, "
        "envelope_sha256, detail, record_json, prev_hash, hash FROM audit WHERE id = 1"],
        0, "id 1"),
    "broken first link": (["UPDATE audit SET prev_hash = hash WHERE id = 1"], 1, "first link"),
    "renumber (reorder) rows": (["UPDATE audit SET id = 10 WHERE id = 2",
                                 "UPDATE audit SET id = 2 WHERE id = 3",
                                 "UPDATE audit SET id = 3 WHERE id = 10"], 2, "prev_hash"),
    "null a field": (["UPDATE audit SET detail = NULL WHERE id = 6"], 6, "hash"),
    "blob in a field": (["UPDATE audit SET peer = X'4b4f52' WHERE id = 2"], 2, "type"),
}


@pytest.mark.parametrize("case", list(TAMPERS))
def test_tampering_is_detected(tmp_path: Path, case: str) -> None:
    sql, bad_id, word = TAMPERS[case]
    if case == "null a field":
        # detail is NOT NULL in the schema; a determined attacker rebuilds the table.
        sql = ["CREATE TABLE a2 AS SELECT * FROM audit", "DROP TABLE audit",
               "ALTER TABLE a2 RENAME TO audit", *sql]
    path = make_log(tmp_path / "log.sqlite")
    tamper(path, *sql)
    res = verify_audit_file(path)
    assert not res.ok
    assert res.first_bad_id == bad_id, res
    assert word in res.reason, res


def test_dropped_tail_needs_an_anchor(tmp_path: Path) -> None:
    """A pure chain cannot see its last rows removed; an anchored head can."""
    path = make_log(tmp_path / "log.sqlite")
    with AuditLog(path) as log:
        anchor = log.head()
    assert verify_audit_file(path, expect_head=anchor).ok
    tamper(path, f"DELETE FROM audit WHERE id = {N}")
    res = verify_audit_file(path)
    assert res.ok and res.records == N - 1  # documented limitation
    anchored = verify_audit_file(path, expect_head=anchor)
    assert not anchored.ok and anchored.first_bad_id == N and "truncated" in anchored.reason
    wrong = verify_audit_file(path, expect_head=(N - 1, "f" * 64))
    assert not wrong.ok and wrong.first_bad_id == N - 1


def test_full_rewrite_with_recomputed_chain_matches_only_with_anchor(tmp_path: Path) -> None:
    """An attacker who recomputes every hash forges a valid chain; the anchor catches it."""
    path = make_log(tmp_path / "log.sqlite", 3)
    with AuditLog(path) as log:
        anchor = log.head()
    forged = tmp_path / "forged.sqlite"
    with AuditLog(forged) as log:
        for i in range(3):
            log.append(T0 + i, "sent", peer="PRK")
    assert verify_audit_file(forged).ok
    assert not verify_audit_file(forged, expect_head=anchor).ok


def test_verify_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = make_log(tmp_path / "good.sqlite")
    assert verify_cli(str(good)) == 0
    out = capsys.readouterr()
    assert out.out == f"{good}: intact, {N} records\n" and out.err == ""

    bad = make_log(tmp_path / "bad.sqlite")
    tamper(bad, "DELETE FROM audit WHERE id = 3")
    assert verify_cli(str(bad)) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.startswith(f"{bad}: record 4: ") and out.err.count("\n") == 1

    assert verify_cli(str(tmp_path / "missing.sqlite")) == 2
    assert capsys.readouterr().err == f"{tmp_path / 'missing.sqlite'}: no such file\n"

    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a database at all\n" * 10)
    assert verify_cli(str(text)) == 2
    assert capsys.readouterr().err == f"{text}: not an SQLite database\n"

    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    assert verify_cli(str(other)) == 2
    assert capsys.readouterr().err == f"{other}: not a trilink audit log\n"

    assert verify_cli(str(tmp_path)) == 2
    capsys.readouterr()


def test_corrupted_file_bytes_never_crash(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Raw damage to the file (any byte, truncation) gives exit 0, 1 or 2 — no traceback."""
    clean = make_log(tmp_path / "clean.sqlite", 40).read_bytes()
    codes = set()
    cases = [clean[:n] for n in (10, 100, 4096, len(clean) // 2, len(clean) - 1)]
    for offset in range(0, len(clean), 97):
        bad = bytearray(clean)
        bad[offset] ^= 0xFF
        cases.append(bytes(bad))
    for i, data in enumerate(cases):
        path = tmp_path / f"case{i}.sqlite"
        path.write_bytes(data)
        codes.add(verify_cli(str(path)))
        out = capsys.readouterr()
        assert (out.out + out.err).count("\n") == 1
    assert codes <= {0, 1, 2} and 1 in codes and 2 in codes


def test_verify_does_not_modify_the_file(tmp_path: Path) -> None:
    path = make_log(tmp_path / "log.sqlite")
    before = path.read_bytes()
    verify_audit_file(path)
    verify_cli(str(path))
    assert path.read_bytes() == before
    with pytest.raises(AuditFileError):
        verify_audit_file(tmp_path / "nope.sqlite")


def test_log_envelopes_end_to_end(tmp_path: Path) -> None:
    """Sent, received, relayed and rejected envelopes, as a node logs them."""
    keys, reg = generate_keys(["JPN", "KOR", "USA"], b"audit")
    jpn = Signer(keys["JPN"])
    env = jpn.seal(kind="missile_track", originator="JPN", rel_to=["JPN", "KOR", "USA"],
                   recipient="KOR", via=["USA"], payload=b"t" * 200, created_ns=T0)
    data = encode(env)
    with AuditLog(tmp_path / "JPN.sqlite") as log:
        log.log_sent(env, data, T0)
    with AuditLog(tmp_path / "USA.sqlite") as log:
        res = Verifier("USA", reg).check(data, T0 + 1)
        log.log_check(res, data, T0 + 1)
        log.log_relayed(env, data, T0 + 2, next_hop="KOR")
    kor = Verifier("KOR", reg)
    with AuditLog(tmp_path / "KOR.sqlite") as log:
        log.log_check(kor.check(data, T0 + 3), data, T0 + 3)
        log.log_check(kor.check(data, T0 + 4), data, T0 + 4)  # replay
        log.log_check(kor.check(b"\x00junk", T0 + 5), b"\x00junk", T0 + 5)
        recs = log.records()
    assert [(r.direction, r.reason, r.peer) for r in recs] == [
        (Direction.RECEIVED, None, "JPN"), (Direction.REJECTED, "replay", "JPN"),
        (Direction.REJECTED, "malformed", None)]
    assert recs[0].envelope_sha256 == recs[1].envelope_sha256
    assert recs[0].detail == (f"JPN/{keys['JPN'].key_id} -> KOR via USA, originator JPN, "
                              "REL TO JPN/KOR/USA")
    usa = AuditLog(tmp_path / "USA.sqlite").records()
    assert [r.direction for r in usa] == [Direction.RECEIVED, Direction.RELAYED]
    assert "(to relay)" in usa[0].detail
    jp = AuditLog(tmp_path / "JPN.sqlite").records()
    assert jp[0].peer == "USA" and jp[0].seq == 1
    for nation in ("JPN", "USA", "KOR"):
        assert verify_audit_file(tmp_path / f"{nation}.sqlite").ok

