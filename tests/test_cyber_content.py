"""TLP 2.0 markings, crypto-address checks, the shipped corpus (every object validates),
warning-list screening."""

from __future__ import annotations

import json

import pytest
import stix2
from cyber_helpers import EPOCH, indicator

from trilink.cyber.addresses import check_address, eip55
from trilink.cyber.book import CyberBook, Refused
from trilink.cyber.corpus import build_corpus, shipped_corpus
from trilink.cyber.regimes import cyber_policy
from trilink.cyber.screen import misp_screen
from trilink.cyber.tlp import TLP2_IDS, Tlp, level_of, marking_definition, normalise_markings
from trilink.cyber.validate import check_objects
from trilink.datafile import FileInvalidError

# cti-python-stix2 issue #569: a TLP:CLEAR written the TLP 1.0 way, which stix2 refuses
LEGACY_CLEAR = {"type": "marking-definition", "spec_version": "2.1",
                "id": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
                "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
                "name": "TLP:CLEAR", "definition": {"tlp": "clear"}}


def test_the_stix2_library_refuses_the_legacy_clear_and_we_normalise_it() -> None:
    with pytest.raises(stix2.exceptions.STIXError):
        stix2.parse(LEGACY_CLEAR)
    ind = {**indicator(1), "object_marking_refs": [LEGACY_CLEAR["id"]]}
    norm = normalise_markings([LEGACY_CLEAR, ind])
    assert len(norm.notes) == 1 and "TLP:CLEAR" in norm.notes[0]
    assert [o["id"] for o in norm.objects] == [TLP2_IDS[Tlp.CLEAR], ind["id"]]
    assert norm.objects[1]["object_marking_refs"] == [TLP2_IDS[Tlp.CLEAR]]
    assert level_of(norm.objects[1]) is Tlp.CLEAR
    assert ind["object_marking_refs"] == [LEGACY_CLEAR["id"]]  # input untouched
    parsed = stix2.parse({"type": "bundle", "id": "bundle--" + "0" * 8 + "-0000-4000-8000-"
                          + "0" * 12, "objects": norm.objects}, allow_custom=False)
    assert len(parsed.objects) == 2


def test_tlp2_markings_parse_validate_and_order() -> None:
    for level in Tlp:
        md = marking_definition(level)
        assert stix2.parse(md).id == TLP2_IDS[level]
        assert Tlp.parse(md["name"]) is level
    assert not check_objects([marking_definition(t) for t in Tlp]).problems
    assert Tlp.parse("amber+strict") is Tlp.AMBER_STRICT and Tlp.parse("white") is Tlp.CLEAR
    with pytest.raises(ValueError, match="unknown TLP"):
        Tlp.parse("purple")
    two = {**indicator(1), "object_marking_refs": [TLP2_IDS[Tlp.GREEN]],
           "granular_markings": [{"marking_ref": TLP2_IDS[Tlp.AMBER_STRICT],
                                  "selectors": ["description"]}]}
    assert level_of(two) is Tlp.AMBER_STRICT
    assert level_of({k: v for k, v in indicator(1).items() if k != "object_marking_refs"}) \
        is Tlp.AMBER  # unmarked: never treated as CLEAR


@pytest.mark.parametrize("chain,address,ok", [
    ("ethereum", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", True),  # EIP-55 examples
    ("ethereum", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", True),
    ("ethereum", "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", True),
    ("ethereum", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", True),
    ("ethereum", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDB", False),  # one case flipped
    ("ethereum", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", True),  # no checksum
    ("ethereum", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", False),
    ("bitcoin", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", True),  # base58check P2PKH
    ("bitcoin", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", True),  # P2SH
    ("bitcoin", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", False),
    ("bitcoin", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", True),  # BIP 173
    ("bitcoin", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", False),
    ("bitcoin", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", True),  # 350
    ("bitcoin", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", False),  # bech32m on v0
    ("bitcoin", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", False),  # testnet
    ("monero", "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VB",
     False),
])
def test_addresses_are_checked_per_chain(chain: str, address: str, ok: bool) -> None:
    assert check_address(chain, address).ok is ok


def test_eip55_of_lowercase() -> None:
    assert eip55("0x098b716b8aaf21512996dc57eb0615e2383e2f96") == \
        "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"


def test_every_shipped_object_validates_and_is_sourced() -> None:
    corpus = shipped_corpus()
    checked = check_objects(corpus.objects)
    assert not checked.problems and len(checked.valid) == len(corpus.objects)
    types = {o["type"] for o in corpus.objects}
    assert {"intrusion-set", "campaign", "indicator", "relationship", "malware"} <= types
    names = {o["name"] for o in corpus.objects if o["type"] == "intrusion-set"}
    assert {"Lazarus Group", "TraderTraitor"} <= names
    campaigns = {o["name"] for o in corpus.objects if o["type"] == "campaign"}
    assert len(campaigns) == 4
    for o in corpus.objects:
        if o["type"] in ("indicator", "campaign"):
            assert o["external_references"][0]["url"].startswith("http")
        if o["type"] != "marking-definition":
            assert o["object_marking_refs"] == [TLP2_IDS[Tlp.CLEAR]]
    assert json.dumps(build_corpus().objects) == json.dumps(corpus.objects)  # deterministic


def test_a_transcription_error_stops_the_corpus(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from trilink.cyber.corpus import corpus_path

    text = corpus_path().read_text(encoding="utf-8").replace(
        "1BK769SseNefb6fe9QuFEi8W4KGbtP8gi3", "1BK769SseNefb6fe9QuFEi8W4KGbtP8gi4")
    bad = tmp_path / "thefts.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(FileInvalidError) as err:
        build_corpus(bad)
    assert "1BK769SseNefb6fe9QuFEi8W4KGbtP8gi4: base58check fails" in str(err.value)


def test_benign_values_are_screened_out_by_the_misp_warning_lists() -> None:
    book = CyberBook("JPN", ("USA", "JPN", "KOR"), cyber_policy("cyber-trilateral-2024"),
                     EPOCH, screen=misp_screen)
    dns = {**indicator(1), "pattern": "[ipv4-addr:value = '8.8.8.8']"}
    out = book.publish([dns, indicator(2)], ("USA", "JPN", "KOR"), 0.0)
    problems = [p for e in out.events if isinstance(e, Refused) for p in e.problems]
    assert len(problems) == 1 and "8.8.8.8" in problems[0] and "warning list" in problems[0]
    assert [i.id for i in book.store.items] == [indicator(2)["id"]]
