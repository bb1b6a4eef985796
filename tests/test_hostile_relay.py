"""A relay is bound to the path: skipping it, impersonating it or rushing it is refused."""

from __future__ import annotations

from pathlib import Path

from hostile_net import KEYS, NS0, node, raw_batch, sealed, track

from trilink.node import NationalNode
from trilink.sharing.envelope import decode
from trilink.sharing.policy import Policy, Relay
from trilink.sharing.relay import is_stamped, open_stamp, stamp

TISA = "tisa-relay"


def _relay_delay_s() -> float:
    n = node("KOR", TISA)
    route = Policy.for_regime(TISA).route("JPN", "KOR", "missile_track", n.epoch,
                                          ("JPN", "KOR", "USA"), "JPN")
    assert isinstance(route, Relay) and route.via == "USA" and route.relay_delay_s > 0
    return route.relay_delay_s


def _jpn_for_kor(t_s: float = 0.0) -> bytes:
    return sealed("JPN", "KOR", raw_batch(track("T1", t_s)), t_s, via=("USA",))


def _rejected_rows(n: NationalNode) -> list[str]:
    assert n.audit is not None
    return [r.detail for r in n.audit.records() if r.direction == "rejected"]


def test_direct_delivery_claiming_a_relay_is_rejected_and_audited(tmp_path: Path) -> None:
    kor = node("KOR", TISA, tmp_path / "KOR.sqlite")
    delay = _relay_delay_s()
    data = _jpn_for_kor(0.0)
    # Even after the relay delay, and even without a deliverer: no stamp, no entry.
    out = kor.on_message(data, delay + 10.0)
    assert out.rejected and not kor.fused()
    assert any("relay" in d and "directly" in d for d in _rejected_rows(kor))
    out = kor.on_message(data, delay + 11.0, deliverer="JPN")
    assert out.rejected and not kor.fused()


def test_the_relay_stamps_and_the_recipient_accepts_the_real_path(tmp_path: Path) -> None:
    usa = node("USA", TISA)
    kor = node("KOR", TISA, tmp_path / "KOR.sqlite")
    delay = _relay_delay_s()
    out = usa.on_message(_jpn_for_kor(0.0), 1.0, deliverer="JPN")
    assert not out.rejected and len(out.outgoing) == 1
    fwd = out.outgoing[0]
    assert fwd.next_hop == "KOR" and is_stamped(fwd.data)
    # The TISA relay delay: the US passes it on no earlier than the delay after creation.
    assert fwd.send_at_s >= delay
    res = kor.on_message(fwd.data, fwd.send_at_s, deliverer="USA")
    assert not res.rejected, res.rejected
    assert [sorted(o.sources) for o in kor.fused()] == [["JPN/T1"]]


def test_a_stamp_delivered_by_someone_else_is_rejected(tmp_path: Path) -> None:
    usa = node("USA", TISA)
    kor = node("KOR", TISA, tmp_path / "KOR.sqlite")
    fwd = usa.on_message(_jpn_for_kor(0.0), 1.0).outgoing[0]
    out = kor.on_message(fwd.data, fwd.send_at_s, deliverer="JPN")
    assert out.rejected and not kor.fused()
    assert any("delivered by JPN" in d for d in _rejected_rows(kor))


def test_a_relay_that_did_not_wait_is_rejected(tmp_path: Path) -> None:
    kor = node("KOR", TISA, tmp_path / "KOR.sqlite")
    inner = _jpn_for_kor(0.0)
    rushed = stamp(KEYS["USA"], inner, "KOR", NS0 + 10 * 1_000_000_000)
    out = kor.on_message(rushed, 11.0, deliverer="USA")
    assert out.rejected and not kor.fused()
    assert any("relay delay" in d for d in _rejected_rows(kor))


def test_a_stamp_by_the_wrong_nation_or_forged_is_rejected() -> None:
    kor = node("KOR", TISA)
    delay = _relay_delay_s()
    inner = _jpn_for_kor(0.0)
    at_ns = NS0 + int((delay + 5) * 1e9)
    by_jpn = stamp(KEYS["JPN"], inner, "KOR", at_ns)
    assert kor.on_message(by_jpn, delay + 6, deliverer="JPN").rejected
    good = bytearray(stamp(KEYS["USA"], inner, "KOR", at_ns))
    good[-1] ^= 1
    assert kor.on_message(bytes(good), delay + 6, deliverer="USA").rejected
    for_other = stamp(KEYS["USA"], inner, "JPN", at_ns)
    assert kor.on_message(for_other, delay + 6, deliverer="USA").rejected
    assert not kor.fused()


def test_a_stamp_on_a_direct_envelope_and_a_wrong_direct_deliverer_are_rejected() -> None:
    usa = node("USA")
    direct = sealed("JPN", "USA", raw_batch(track("T1", 1.0)), 1.0)
    wrapped = stamp(KEYS["KOR"], direct, "USA", NS0 + 2 * 1_000_000_000)
    assert usa.on_message(wrapped, 2.0, deliverer="KOR").rejected
    assert usa.on_message(direct, 2.0, deliverer="KOR").rejected
    assert not usa.on_message(direct, 2.0, deliverer="JPN").rejected
    assert [sorted(o.sources) for o in usa.fused()] == [["JPN/T1"]]


def test_a_rejected_path_does_not_burn_the_sequence_number() -> None:
    """Delivering the inner bytes directly first must not make the real relay a replay."""
    usa, kor = node("USA", TISA), node("KOR", TISA)
    inner = _jpn_for_kor(0.0)
    fwd = usa.on_message(inner, 1.0).outgoing[0]
    assert kor.on_message(inner, 2.0).rejected
    assert not kor.on_message(fwd.data, fwd.send_at_s, deliverer="USA").rejected


def test_stamp_decoder_never_raises() -> None:
    inner = _jpn_for_kor(0.0)
    good = stamp(KEYS["USA"], inner, "KOR", NS0)
    reg = node("USA").verifier.registry
    for cut in range(0, len(good), 7):
        opened = open_stamp(good[:cut], reg)
        assert not hasattr(opened, "inner")
    opened = open_stamp(good, reg)
    assert hasattr(opened, "inner") and not hasattr(decode(inner), "reason")
