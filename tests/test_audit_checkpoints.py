"""An audit log cannot be shortened, emptied or extended unseen: signed checkpoints."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hostile_net import KEYS, NS0, REGISTRY

from trilink.cli import main
from trilink.sharing.audit import AuditLog, canonical_record, chain_hash
from trilink.sharing.checkpoint import (
    decode_checkpoint,
    encode_checkpoint,
    load_checkpoints,
    make_checkpoint,
    save_checkpoints,
)
from trilink.sharing.envelope import Verifier

N = 12


def _log(tmp: Path, n: int = N) -> Path:
    """JPN's log of ``n`` rows, closed cleanly (so it ends with a checkpoint); KOR, its
    partner, kept every checkpoint JPN sent."""
    db = tmp / "JPN.sqlite"
    log = AuditLog(db, durable=False, checkpoint_every=5)
    log.attach(Verifier("JPN", REGISTRY), None, key=KEYS["JPN"])
    with AuditLog(tmp / "KOR.sqlite", durable=False) as kor:
        for i in range(n):
            log.append(NS0 + i * 1_000_000_000, "received", peer="USA", kind="missile_track",
                       seq=i + 1, detail=f"row {i + 1}")
            for data in log.take_checkpoints():
                assert not isinstance(kor.keep_checkpoint(data, REGISTRY), str)
        log.close()
        for data in log.take_checkpoints():
            assert not isinstance(kor.keep_checkpoint(data, REGISTRY), str)
    return db


def _keys(tmp: Path) -> Path:
    REGISTRY.save(tmp / "keys.json")
    return tmp / "keys.json"


def _sql(db: Path, *stmts: str) -> None:
    con = sqlite3.connect(db)
    con.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    con.execute("DROP TRIGGER IF EXISTS audit_no_update")
    for s in stmts:
        con.execute(s)
    con.commit()
    con.close()


def _verify(tmp: Path, db: Path, *extra: str,
            capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["audit", "verify", str(db), "--keys", str(_keys(tmp)), *extra])
    cap = capsys.readouterr()
    return code, cap.out + cap.err


def test_a_cleanly_closed_log_verifies_and_is_anchored(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    db = _log(tmp_path)
    code, text = _verify(tmp_path, db, "--checkpoints", str(tmp_path / "KOR.sqlite"),
                         capsys=capsys)
    assert code == 0 and "intact" in text and f"{N} records" in text, text


def test_deleted_tail_rows_are_found_with_the_partners_checkpoints(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = _log(tmp_path)
    # A thorough attacker deletes the last rows and the checkpoints that name them.
    _sql(db, "DELETE FROM audit WHERE id > 9", "DELETE FROM audit_checkpoint WHERE records > 9")
    code, text = _verify(tmp_path, db, "--checkpoints", str(tmp_path / "KOR.sqlite"),
                         capsys=capsys)
    assert code == 1 and "10-12" in text and "missing" in text, text


def test_a_deleted_tail_is_found_from_the_logs_own_checkpoints(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = _log(tmp_path)
    _sql(db, "DELETE FROM audit WHERE id > 9")
    code, text = _verify(tmp_path, db, capsys=capsys)
    assert code == 1 and "10-12" in text, text


def test_a_deleted_whole_log_is_found(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = _log(tmp_path)
    _sql(db, "DELETE FROM audit", "DELETE FROM audit_checkpoint")
    code, text = _verify(tmp_path, db, capsys=capsys)
    assert code == 1 and "no signed checkpoint" in text, text  # was "intact, 0 records"
    code, text = _verify(tmp_path, db, "--checkpoints", str(tmp_path / "KOR.sqlite"),
                         capsys=capsys)
    assert code == 1 and "1-12" in text and "missing" in text, text
    db.unlink()
    code, text = _verify(tmp_path, db, "--checkpoints", str(tmp_path / "KOR.sqlite"),
                         capsys=capsys)
    assert code != 0 and "12 records" in text, text


def test_a_forged_append_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = _log(tmp_path)
    con = sqlite3.connect(db)
    prev = con.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()[0]
    con.close()
    rec: dict[str, int | str | None] = {
        "id": N + 1, "t_ns": NS0 + 99 * 10**9, "direction": "sent", "peer": "KOR",
        "kind": "missile_track", "seq": 999, "reason": None, "envelope_sha256": None,
        "detail": "forged"}
    body = canonical_record(rec)
    _sql(db, "INSERT INTO audit (id, t_ns, direction, peer, kind, seq, reason, "
             "envelope_sha256, detail, record_json, prev_hash, hash) VALUES "
             f"({N + 1}, {rec['t_ns']}, 'sent', 'KOR', 'missile_track', 999, NULL, NULL, "
             f"'forged', '{body.decode()}', '{prev}', '{chain_hash(prev, body)}')")
    assert main(["audit", "verify", str(db)]) == 0  # the chain alone cannot tell
    capsys.readouterr()
    code, text = _verify(tmp_path, db, capsys=capsys)
    assert code == 1 and f"{N + 1}" in text and "not covered" in text, text


def test_a_forged_checkpoint_is_reported(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    db = _log(tmp_path)
    fake = make_checkpoint(KEYS["KOR"], 40, "0" * 64, NS0)  # KOR's key, claiming JPN's log
    forged = encode_checkpoint(fake).replace(b"KOR", b"JPN", 1)
    cp = decode_checkpoint(forged)
    assert not isinstance(cp, str) and not cp.verifies(REGISTRY)
    save_checkpoints(tmp_path / "cps.jsonl", [cp])
    code, text = _verify(tmp_path, db, "--checkpoints", str(tmp_path / "cps.jsonl"),
                         capsys=capsys)
    assert code == 1 and "signature" in text, text


def test_bad_checkpoint_and_key_files_are_one_line(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    db = _log(tmp_path)
    (tmp_path / "bad.jsonl").write_text('{"format": "trilink-checkpoint/1", "records": -1}\n')
    code, text = _verify(tmp_path, db, "--checkpoints", str(tmp_path / "bad.jsonl"),
                         capsys=capsys)
    assert code == 2 and "line 1" in text and "Traceback" not in text, text
    (tmp_path / "keys.bad").write_text("nope")
    code = main(["audit", "verify", str(db), "--keys", str(tmp_path / "keys.bad")])
    text = capsys.readouterr().err
    assert code == 2 and "keys.bad" in text and "Traceback" not in text, text


def test_checkpoints_round_trip_through_a_file(tmp_path: Path) -> None:
    _log(tmp_path)
    kept = load_checkpoints(tmp_path / "KOR.sqlite")
    assert kept and all(c.nation == "JPN" and c.verifies(REGISTRY) for c in kept)
    assert max(c.records for c in kept) == N
    save_checkpoints(tmp_path / "c.jsonl", kept)
    assert load_checkpoints(tmp_path / "c.jsonl") == kept


def test_nodes_send_their_checkpoints_and_partners_keep_them(tmp_path: Path) -> None:
    from hostile_net import node, raw_batch, sealed, track

    from trilink.sharing.checkpoint import is_checkpoint

    jpn = node("JPN", audit=tmp_path / "JPN.sqlite")
    kor = node("KOR", audit=tmp_path / "KOR.sqlite")
    assert jpn.audit is not None and kor.audit is not None
    jpn.audit.checkpoint_every = 3
    sent = []
    for i in range(7):
        t = 1.0 + i
        out = jpn.on_message(sealed("USA", "JPN", raw_batch(track("T1", t)), t), t)
        sent += [o for o in out.outgoing if is_checkpoint(o.data)]
    assert sent and {o.next_hop for o in sent} == {"USA", "KOR"}
    to_kor = [o for o in sent if o.next_hop == "KOR"]
    assert kor.on_message(to_kor[0].data, 9.0, deliverer="USA").rejected  # not JPN's hand
    for o in to_kor:
        assert not kor.on_message(o.data, 9.0, deliverer="JPN").rejected
    jpn.audit.close()
    kor.audit.close()
    kept = [c for c in load_checkpoints(tmp_path / "KOR.sqlite") if c.nation == "JPN"]
    assert len(kept) == len(to_kor)
    from trilink.sharing.audit import verify_anchored

    rep = verify_anchored(tmp_path / "JPN.sqlite", REGISTRY, kept)
    assert rep.ok, rep.problems
