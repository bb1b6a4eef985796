"""Bilateral agreements do not chain for shared data; hotline posts may be carried.

docs/sharing.md said two bilateral agreements never chain, while the hotline let the US
carry Japan's posts to the ROK under the bilateral-US regime. The agreements restrict
passing on *data* (GSOMIA and TISA cover the missile kinds; "no third-party release
without consent"); the alliances cover hotline and statement traffic, and a post the
originator released to both is a message delivered, not data passed on. The policy now
says so for every kind, and the docs say which kinds may be carried.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hostile_net import KEYS, NATIONS, node, raw_batch, track

from trilink.hotline.wire import Forward, encode_item
from trilink.sharing.envelope import Kind, Signer, encode
from trilink.sharing.policy import Denied, Direct, Policy

T = dt.datetime(2014, 7, 1, tzinfo=dt.UTC)
ALL = frozenset(NATIONS)


@pytest.mark.parametrize("kind", ["missile_track", "missile_warning", "launch_report"])
def test_under_bilateral_us_the_us_may_not_pass_japans_data_to_korea(kind: str) -> None:
    p = Policy.for_regime("bilateral-us")
    assert isinstance(p.route("USA", "KOR", kind, T, ALL, "USA"), Direct)  # its own data
    carried = p.route("USA", "KOR", kind, T, ALL, "JPN")
    assert isinstance(carried, Denied) and "do not chain" in carried.reason, carried


@pytest.mark.parametrize("kind", ["hotline", "statement"])
def test_under_bilateral_us_the_us_may_carry_japans_posts_to_korea(kind: str) -> None:
    p = Policy.for_regime("bilateral-us")
    assert isinstance(p.route("USA", "KOR", kind, T, ALL, "JPN"), Direct)
    # … but only what Japan released to Korea.
    assert isinstance(p.route("USA", "KOR", kind, T, frozenset({"JPN", "USA"}), "JPN"), Denied)


def _forward(inner_to: str, payload: bytes, kind: Kind) -> bytes:
    now_ns = node("USA", "bilateral-us")._ns(5.0)
    inner = Signer(KEYS["JPN"], first_seq=10).seal(
        kind=kind, originator="JPN", rel_to=NATIONS, recipient=inner_to,
        payload=payload, created_ns=now_ns)
    outer = Signer(KEYS["JPN"], first_seq=11).seal(
        kind=kind, originator="JPN", rel_to=NATIONS, recipient="USA",
        payload=encode_item(Forward(inner_to, encode(inner))), created_ns=now_ns)
    return encode(outer)


def test_the_carrier_forwards_a_hotline_post_under_bilateral_us() -> None:
    usa = node("USA", "bilateral-us")
    out = usa.on_message(_forward("KOR", b"\x80", Kind.HOTLINE), 5.0, deliverer="JPN")
    assert [o.next_hop for o in out.outgoing if o.priority == 1] == ["KOR"], out
    assert not out.rejected


def test_japanese_tracks_never_reach_korea_under_bilateral_us() -> None:
    kor = node("KOR", "bilateral-us")
    # Signed by Japan, named for Korea, handed over by the US: no route allows it.
    env = Signer(KEYS["JPN"], first_seq=5).seal(
        kind=Kind.MISSILE_TRACK, originator="JPN", rel_to=NATIONS, recipient="KOR",
        payload=raw_batch(track("T1", 5.0)), created_ns=kor._ns(5.0))
    for deliverer in ("JPN", None):
        assert kor.on_message(encode(env), 5.0, deliverer=deliverer).rejected
    assert not kor.fused()
