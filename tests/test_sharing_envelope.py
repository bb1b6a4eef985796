"""Envelopes: canonical bytes, signatures, key registry, every rejection reason, fuzzing."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trilink.sharing.envelope import (
    MAX_ENVELOPE_BYTES,
    NS_PER_S,
    SIGNING_CONTEXT,
    Accepted,
    Envelope,
    EnvelopeFields,
    KeyRegistry,
    KeyRegistryError,
    Kind,
    NodeKey,
    Reason,
    Rejection,
    Signer,
    Verifier,
    Window,
    decode,
    encode,
    generate_keys,
    sign,
    signing_bytes,
    verify_signature,
)

SEED = b"trilink-golden-v1"
T0 = 1_701_388_800_000_000_000  # 2023-12-01T00:00:00Z in ns
NATIONS = ("JPN", "KOR", "USA")

KEYS, REGISTRY = generate_keys(NATIONS, SEED)

GOLDEN_HEX = (
    "9c01a34a504eac4a504e2d636639633832336307cf179c8c1968d40000ad6d697373696c655f747261636b"
    "a34a504e93a34a504ea34b4f52a3555341a34b4f5291a3555341c41b747261636b205431206c61742034302e"
    "30206c6f6e203132392e35c44067ea2b55bcd4e04ac6b15654071bde0c2a5a89f6b2e937993a0321e37b8835"
    "79f4276a8da96e9991d18351a40231e2761793571e4a7ce594b75034ece04ad400"
)
GOLDEN_JPN_PUBLIC = "fbfbe66a2fca8291a0e1ee0611017dbf71d308ed0d9c48b240de7c8e8dec00d4"


def fields(**over: object) -> EnvelopeFields:
    """A valid JPN → KOR (via USA) track, with any field overridden."""
    base: dict[str, object] = dict(
        version=1, sender="JPN", key_id=KEYS["JPN"].key_id, seq=7, created_ns=T0,
        kind=Kind.MISSILE_TRACK, originator="JPN", rel_to=("JPN", "KOR", "USA"),
        recipient="KOR", via=("USA",), payload=b"track T1 lat 40.0 lon 129.5")
    base.update(over)
    return EnvelopeFields(**base)  # type: ignore[arg-type]


def wire(key: NodeKey | None = None, **over: object) -> bytes:
    """Signed wire bytes of :func:`fields` (signed by ``key``, default the sender's)."""
    f = fields(**over)
    return encode(sign(f, (key or KEYS[f.sender]).private_key))


# -- format -----------------------------------------------------------------------------


def test_round_trip() -> None:
    env = sign(fields(), KEYS["JPN"].private_key)
    data = encode(env)
    back = decode(data)
    assert back == env
    assert isinstance(back, Envelope)
    assert back.unsigned() == fields()
    assert back.path == ("JPN", "USA", "KOR")


def test_golden_vector() -> None:
    """Same seed, fields and clock → these exact bytes. A change here is a format change."""
    assert REGISTRY.to_json().count(GOLDEN_JPN_PUBLIC) == 1
    assert wire().hex() == GOLDEN_HEX


def test_canonical_bytes_are_deterministic() -> None:
    keys2, reg2 = generate_keys(NATIONS, SEED)
    assert reg2.to_json() == REGISTRY.to_json()
    assert wire(keys2["JPN"]) == wire()
    other, _ = generate_keys(NATIONS, b"another seed")
    assert other["JPN"].key_id != KEYS["JPN"].key_id
    random_keys, _ = generate_keys(["JPN"])
    assert random_keys["JPN"].key_id != KEYS["JPN"].key_id


def test_signing_bytes_cover_every_field_but_the_signature() -> None:
    sb = signing_bytes(fields())
    assert sb.startswith(SIGNING_CONTEXT)
    assert msgspec.msgpack.decode(sb[len(SIGNING_CONTEXT):]) == [
        1, "JPN", KEYS["JPN"].key_id, 7, T0, "missile_track", "JPN", ["JPN", "KOR", "USA"],
        "KOR", ["USA"], b"track T1 lat 40.0 lon 129.5"]
    env = sign(fields(), KEYS["JPN"].private_key)
    assert signing_bytes(env) == sb
    for name, value in [("seq", 8), ("created_ns", T0 + 1), ("kind", Kind.HOTLINE),
                        ("originator", "USA"), ("rel_to", ("JPN", "KOR")),
                        ("recipient", "AUS"), ("via", ()), ("payload", b"")]:
        assert signing_bytes(fields(**{name: value})) != sb, name


def test_wire_is_a_twelve_element_array_in_documented_order() -> None:
    raw = msgspec.msgpack.decode(wire())
    assert isinstance(raw, list) and len(raw) == 12
    assert raw[1] == "JPN" and raw[3] == 7 and raw[7] == ["JPN", "KOR", "USA"]
    assert len(raw[11]) == 64


def test_structural_rules_on_construction_and_sign() -> None:
    with pytest.raises(ValueError, match="sorted"):
        fields(rel_to=("USA", "JPN"))
    with pytest.raises(ValueError, match="sorted"):
        fields(rel_to=("JPN", "JPN"))
    with pytest.raises(ValueError, match="version"):
        fields(version=2)
    with pytest.raises(ValueError, match="twice"):
        fields(via=("USA", "USA"))
    with pytest.raises(ValueError, match="cannot sign"):
        sign(fields(recipient="kor"), KEYS["JPN"].private_key)
    with pytest.raises(ValueError, match="cannot sign"):
        sign(fields(rel_to=()), KEYS["JPN"].private_key)
    with pytest.raises(ValueError, match="cannot sign"):
        sign(fields(seq=-1), KEYS["JPN"].private_key)


def test_signer_numbers_and_sorts() -> None:
    s = Signer(KEYS["USA"], first_seq=100)
    a = s.seal(kind="missile_warning", originator="USA", rel_to=["USA", "KOR", "JPN", "KOR"],
               recipient="JPN", payload=b"w", created_ns=T0)
    b = s.seal(kind=Kind.STATEMENT, originator="USA", rel_to=["JPN"], recipient="JPN",
               payload=b"s", created_ns=T0)
    assert (a.seq, b.seq, s.next_seq) == (100, 101, 102)
    assert a.rel_to == ("JPN", "KOR", "USA")
    with pytest.raises(ValueError):
        s.seal(kind="gossip", originator="USA", rel_to=["JPN"], recipient="JPN", payload=b"",
               created_ns=T0)


# -- key registry -----------------------------------------------------------------------


def test_key_registry_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    REGISTRY.save(path)
    loaded = KeyRegistry.load(path)
    assert loaded.to_json() == REGISTRY.to_json()
    assert loaded.nations() == list(NATIONS)
    assert Verifier("KOR", loaded).check(wire(), T0) == Accepted(decode(wire()))  # type: ignore[arg-type]


def test_key_registry_rejects_bad_files(tmp_path: Path) -> None:
    text = REGISTRY.to_json()
    bad_fp = text.replace("cf9c823c3ab2a2097dc246e8f7f5b7a6", "00" * 16)
    with pytest.raises(KeyRegistryError, match="fingerprint"):
        KeyRegistry.from_json(bad_fp)
    with pytest.raises(KeyRegistryError, match="32 bytes"):
        KeyRegistry.from_json(text.replace(GOLDEN_JPN_PUBLIC, "abcd"))
    with pytest.raises(KeyRegistryError, match="not JSON"):
        KeyRegistry.from_json("{")
    with pytest.raises(KeyRegistryError, match="key file"):
        KeyRegistry.from_json('{"format": "x"}')
    with pytest.raises(KeyRegistryError):
        KeyRegistry.load(tmp_path / "missing.json")
    with pytest.raises(ValueError):
        KeyRegistry().add("jpn", "k", KEYS["JPN"].public_key)


# -- verification: accepted and each rejection reason ----------------------------------


def verifier(me: str = "KOR", window: Window | None = None) -> Verifier:
    return Verifier(me, REGISTRY, window or Window())


def reason(result: object) -> Reason | None:
    return result.reason if isinstance(result, Rejection) else None


def test_accepts_addressed_recipient_and_relay() -> None:
    data = wire()
    final = verifier("KOR").check(data, T0)
    assert isinstance(final, Accepted) and not final.relay
    relay = verifier("USA").check(data, T0)
    assert isinstance(relay, Accepted) and relay.relay


def test_bad_signature_bit_flip() -> None:
    data = bytearray(wire())
    data[-1] ^= 0x01
    r = verifier().check(bytes(data), T0)
    assert reason(r) is Reason.BAD_SIGNATURE
    assert isinstance(r, Rejection) and r.envelope is not None and "JPN" in r.detail


def test_bad_signature_when_signed_content_changed() -> None:
    env = sign(fields(), KEYS["JPN"].private_key)
    forged = Envelope(**{f: getattr(env, f) for f in EnvelopeFields.__struct_fields__
                         if f != "rel_to"}, rel_to=("JPN", "KOR", "PRK", "USA"),
                      signature=env.signature)
    assert reason(verifier().check(encode(forged), T0)) is Reason.BAD_SIGNATURE


def test_verify_signature_agrees_with_openssl_and_refuses_forgeable_keys() -> None:
    """The fast path (libsodium) gives OpenSSL's verdict on honest and tampered
    signatures, and refuses what OpenSSL lets through: any "signature" under the
    identity point, a small-order key anyone can forge for."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    def openssl(pub: Ed25519PublicKey, sig: bytes, msg: bytes) -> bool:
        try:
            pub.verify(sig, msg)
        except InvalidSignature:
            return False
        return True

    order = 2**252 + 27742317777372353535851937790883648493
    for i, nation in enumerate(NATIONS):
        key = KEYS[nation]
        msg = SIGNING_CONTEXT + bytes(range(i, i + 200))
        sig = key.private_key.sign(msg)
        s_plus_l = sig[:32] + (int.from_bytes(sig[32:], "little") + order).to_bytes(32, "little")
        flipped = bytes([sig[0] ^ 0x01]) + sig[1:]
        for candidate, m in ((sig, msg), (flipped, msg), (sig, msg + b"x"), (s_plus_l, msg),
                             (sig[:63], msg), (sig + b"\x00", msg)):
            assert verify_signature(key.public_key, candidate, m) is openssl(
                key.public_key, candidate, m) is (candidate is sig and m is msg)
        assert REGISTRY.verifies(nation, key.key_id, sig, msg)
        assert not REGISTRY.verifies(nation, key.key_id, flipped, msg)
    identity = bytes([1]) + bytes(31)
    weak = Ed25519PublicKey.from_public_bytes(identity)
    forged = identity + bytes(32)
    assert openssl(weak, forged, b"anything")  # what OpenSSL alone would accept
    assert not verify_signature(weak, forged, b"anything")
    reg = KeyRegistry({"JPN": {"JPN-weak": weak}})
    assert not reg.verifies("JPN", "JPN-weak", forged, b"anything")


def test_signed_with_another_nations_key() -> None:
    # JPN's key id but KOR's private key: the registry key does not verify.
    assert reason(verifier().check(wire(key=KEYS["KOR"]), T0)) is Reason.BAD_SIGNATURE


def test_unknown_key() -> None:
    assert reason(verifier().check(wire(key_id="JPN-00000000"), T0)) is Reason.UNKNOWN_KEY
    # A real key id, but of another nation: keys are per nation.
    r = verifier().check(wire(key=KEYS["JPN"], sender="USA", key_id=KEYS["JPN"].key_id), T0)
    assert reason(r) is Reason.UNKNOWN_KEY
    reg = KeyRegistry({"JPN": {KEYS["JPN"].key_id: KEYS["JPN"].public_key}})
    reg.remove("JPN", KEYS["JPN"].key_id)
    assert reason(Verifier("KOR", reg).check(wire(), T0)) is Reason.UNKNOWN_KEY


def test_replay() -> None:
    v = verifier()
    data = wire(seq=10)
    assert isinstance(v.check(data, T0), Accepted)
    r = v.check(data, T0)
    assert reason(r) is Reason.REPLAY and "10" in r.detail  # type: ignore[union-attr]
    # Out of order is fine (routes differ in latency); the same seq twice is not.
    assert isinstance(v.check(wire(seq=9), T0), Accepted)
    assert reason(v.check(wire(seq=9), T0)) is Reason.REPLAY
    assert isinstance(v.check(wire(seq=11), T0), Accepted)
    assert v.last_seq == {("JPN", KEYS["JPN"].key_id): 11}


def test_replay_memory_is_bounded_by_the_time_window() -> None:
    v = verifier()
    past = 300 * NS_PER_S
    assert isinstance(v.check(wire(seq=1, created_ns=T0), T0), Accepted)
    later = T0 + past + 10 * NS_PER_S
    assert isinstance(v.check(wire(seq=2, created_ns=later), later), Accepted)
    # seq 1 left the window and was forgotten, yet cannot come back: it is stale.
    assert reason(v.check(wire(seq=1, created_ns=T0), later)) is Reason.OUT_OF_WINDOW
    assert 1 not in v._seen[("JPN", KEYS["JPN"].key_id)]


def test_rejections_do_not_advance_replay_state() -> None:
    v = verifier()
    assert reason(v.check(wire(seq=50, created_ns=0), T0)) is Reason.OUT_OF_WINDOW
    assert reason(v.check(wire(seq=51, recipient="USA", via=()), T0)) is Reason.NOT_ADDRESSED
    assert v.last_seq == {}
    assert isinstance(v.check(wire(seq=5), T0), Accepted)


def test_out_of_window_stale_and_future() -> None:
    v = verifier()
    past, future = 300 * NS_PER_S, 30 * NS_PER_S
    assert reason(v.check(wire(seq=1, created_ns=T0 - past - 1), T0)) is Reason.OUT_OF_WINDOW
    r = v.check(wire(seq=2, created_ns=T0 + future + 1), T0)
    assert reason(r) is Reason.OUT_OF_WINDOW and "future" in r.detail  # type: ignore[union-attr]
    assert isinstance(v.check(wire(seq=3, created_ns=T0 - past), T0), Accepted)
    assert isinstance(v.check(wire(seq=4, created_ns=T0 + future), T0), Accepted)
    tight = verifier(window=Window(past_ns=NS_PER_S, future_ns=0))
    assert reason(tight.check(wire(created_ns=T0 - 2 * NS_PER_S), T0)) is Reason.OUT_OF_WINDOW


def test_not_addressed() -> None:
    data = wire(recipient="USA", via=())
    r = verifier("KOR").check(data, T0)
    assert reason(r) is Reason.NOT_ADDRESSED and "KOR" in r.detail  # type: ignore[union-attr]


def test_not_releasable_recipient() -> None:
    # Addressed to KOR, but the originator released only to JPN and USA.
    data = wire(rel_to=("JPN", "USA"))
    r = verifier("KOR").check(data, T0)
    assert reason(r) is Reason.NOT_RELEASABLE and "KOR" in r.detail  # type: ignore[union-attr]


def test_not_releasable_relay() -> None:
    # USA is the relay but is not in REL TO: it must refuse, even though KOR may hold it.
    data = wire(rel_to=("JPN", "KOR"))
    assert reason(verifier("USA").check(data, T0)) is Reason.NOT_RELEASABLE
    # …and KOR refuses too, since the route passed through a nation outside REL TO.
    assert reason(verifier("KOR").check(data, T0)) is Reason.NOT_RELEASABLE


def test_relayed_re_wrap_keeps_originator() -> None:
    # USA re-signs a JPN-originated item for KOR: sender USA, originator JPN.
    data = wire(sender="USA", key_id=KEYS["USA"].key_id, via=(), rel_to=("JPN", "KOR", "USA"))
    ok = verifier("KOR").check(data, T0)
    assert isinstance(ok, Accepted) and ok.envelope.originator == "JPN"
    bad = wire(sender="USA", key_id=KEYS["USA"].key_id, via=(), rel_to=("JPN", "KOR"))
    assert reason(verifier("KOR").check(bad, T0)) is Reason.NOT_RELEASABLE


@pytest.mark.parametrize("data", [
    b"", b"\x00", b"\xc1", b"garbage bytes", b"\x9c", b"\x91\x01",
    bytes(range(256)), b"\x9c" + b"\xc0" * 12,
])
def test_malformed_garbage(data: bytes) -> None:
    r = verifier().check(data, T0)
    assert reason(r) is Reason.MALFORMED
    assert isinstance(r, Rejection) and r.detail and "\n" not in r.detail


def test_malformed_truncated_every_length() -> None:
    data = wire()
    for n in range(len(data)):
        assert reason(decode(data[:n])) is Reason.MALFORMED, n
    assert reason(decode(data + b"\x00")) is Reason.MALFORMED


def test_malformed_oversize_non_bytes_and_non_canonical() -> None:
    big = decode(b"\x00" * (MAX_ENVELOPE_BYTES + 1))
    assert isinstance(big, Rejection) and "limit" in big.detail
    assert reason(decode("not bytes")) is Reason.MALFORMED  # type: ignore[arg-type]
    # version 1 as a uint64 (cf 00…01) instead of a positive fixint: same value, other bytes.
    data = wire()
    non_canonical = data[:1] + b"\xcf" + (1).to_bytes(8, "big") + data[2:]
    r = decode(non_canonical)
    assert isinstance(r, Rejection) and r.detail == "non-canonical encoding"
    assert reason(decode(wire().replace(b"missile_track", b"missile_trac_"))) is Reason.MALFORMED


def test_malformed_field_rules_on_the_wire() -> None:
    env = sign(fields(), KEYS["JPN"].private_key)
    raw = msgspec.msgpack.decode(encode(env))
    for index, value in [(0, 2), (1, "jp"), (2, "bad key id!"), (3, -1), (4, (1 << 64) - 1),
                         (5, "gossip"), (7, []), (7, ["USA", "JPN"]), (9, ["KOR"]),
                         (11, b"short")]:
        mutated = list(raw)
        mutated[index] = value
        r = decode(msgspec.msgpack.encode(mutated))
        assert reason(r) is Reason.MALFORMED, (index, value)


# -- fuzzing --------------------------------------------------------------------------

FUZZ = settings(max_examples=400, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
VALID = wire()


@FUZZ
@given(st.binary(max_size=600))
def test_fuzz_decode_arbitrary_bytes_never_raises(data: bytes) -> None:
    r = decode(data)
    assert isinstance(r, Envelope | Rejection)
    if isinstance(r, Rejection):
        assert r.reason is Reason.MALFORMED and r.detail


@FUZZ
@given(st.binary(max_size=600))
def test_fuzz_check_arbitrary_bytes_is_rejected(data: bytes) -> None:
    r = verifier().check(data, T0)
    assert isinstance(r, Rejection) and isinstance(r.reason, Reason)


@st.composite
def mutations(draw: st.DrawFn) -> bytes:
    """The valid envelope with bytes flipped, replaced, inserted or deleted."""
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete"]))
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif data:
            del data[i:i + draw(st.integers(1, 8))]
    return bytes(data)


@FUZZ
@given(mutations())
def test_fuzz_mutated_envelope_never_accepted_when_changed(data: bytes) -> None:
    r = verifier("KOR").check(data, T0)
    if isinstance(r, Accepted):
        assert data == VALID
    elif data != VALID:
        assert r.reason in (Reason.MALFORMED, Reason.BAD_SIGNATURE, Reason.UNKNOWN_KEY,
                            Reason.OUT_OF_WINDOW, Reason.NOT_ADDRESSED, Reason.NOT_RELEASABLE)


@FUZZ
@given(st.sampled_from(EnvelopeFields.__struct_fields__[1:]), st.data())
def test_fuzz_changed_field_keeps_old_signature_is_refused(name: str, data: st.DataObject) -> None:
    env = sign(fields(), KEYS["JPN"].private_key)
    strategies: dict[str, st.SearchStrategy[object]] = {
        "sender": st.sampled_from(["KOR", "USA", "PRK"]),
        "key_id": st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True),
        "seq": st.integers(0, (1 << 63) - 1),
        "created_ns": st.integers(T0 - NS_PER_S, T0 + NS_PER_S),
        "kind": st.sampled_from(list(Kind)),
        "originator": st.sampled_from(["KOR", "USA", "PRK"]),
        "rel_to": st.lists(st.sampled_from(["JPN", "KOR", "USA", "PRK", "CHN"]), min_size=1,
                           unique=True).map(lambda xs: tuple(sorted(xs))),
        "recipient": st.sampled_from(["JPN", "KOR", "PRK"]),
        "via": st.lists(st.sampled_from(["JPN", "USA", "AUS"]), unique=True).map(tuple),
        "payload": st.binary(max_size=64),
    }
    value = data.draw(strategies[name])
    if value == getattr(env, name):
        return
    values = {f: getattr(env, f) for f in Envelope.__struct_fields__}
    values[name] = value
    try:
        forged = Envelope(**values)
    except ValueError:
        return  # structurally impossible combination
    r = verifier("KOR").check(encode(forged), T0)
    assert isinstance(r, Rejection)


def test_kinds_match_the_agreements_data_kinds() -> None:
    """Envelope kinds and the kinds agreements cover are the same vocabulary."""
    from trilink.sharing.agreements import DataKind

    assert {k.value for k in Kind} == {k.value for k in DataKind}
