"""Replays after a restart: the seen-envelope window is rebuilt from the audit file."""

from __future__ import annotations

from pathlib import Path

from hostile_net import node, raw_batch, sealed, track

from trilink.sharing.audit import AuditLog


def test_a_replay_after_a_restart_is_rejected(tmp_path: Path) -> None:
    db = tmp_path / "USA.sqlite"
    first = node("USA", audit=db)
    data = sealed("JPN", "USA", raw_batch(track("T1", 1.0)), 1.0)
    assert not first.on_message(data, 1.0).rejected
    assert first.audit is not None
    first.audit.close()
    # A new process: a new node object on the same (real, SQLite) audit file.
    second = node("USA", audit=db)
    out = second.on_message(data, 2.0)
    assert out.rejected and "replay" in out.rejected[0], out.rejected
    assert not second.fused()
    assert second.audit is not None
    second.audit.close()
    with AuditLog(db) as log:
        assert log.records()[-1].reason == "replay"
        assert log.verify().ok


def test_fresh_envelopes_after_a_restart_are_still_accepted(tmp_path: Path) -> None:
    db = tmp_path / "USA.sqlite"
    first = node("USA", audit=db)
    assert not first.on_message(sealed("JPN", "USA", raw_batch(track("T1", 1.0)), 1.0),
                                1.0).rejected
    assert first.audit is not None
    first.audit.close()
    second = node("USA", audit=db)
    later = sealed("JPN", "USA", raw_batch(track("T1", 3.0)), 3.0)
    assert not second.on_message(later, 3.0).rejected


def test_a_restarted_sender_continues_its_sequence(tmp_path: Path) -> None:
    """Otherwise its partners would take its first envelopes after a restart as replays."""
    usa = node("USA")
    db = tmp_path / "JPN.sqlite"
    jpn = node("JPN", audit=db)
    first = jpn.signer.seal(kind="missile_track", originator="JPN", rel_to=("JPN", "USA"),
                            recipient="USA", payload=raw_batch(track("T1", 1.0)),
                            created_ns=jpn._ns(1.0))
    assert jpn.audit is not None
    jpn.audit.log_sent(first, b"", jpn._ns(1.0))
    jpn.audit.close()
    again = node("JPN", audit=db)
    assert again.signer.next_seq == first.seq + 1
    assert again.audit is not None
    again.audit.close()
    del usa
