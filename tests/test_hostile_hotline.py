"""Hostile hotline payloads and key files: bounded depth and size, refused, never raised."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from hostile_net import node, sealed

from trilink.hotline.wire import MAX_ITEM_BYTES, decode_item
from trilink.sharing.checkpoint import CheckpointFileError, from_json
from trilink.sharing.envelope import KeyRegistry, KeyRegistryError, Kind

DEEP_MSGPACK = b"\x81\xa3tag" + b"\x91" * 100_000 + b"\x00"


@pytest.mark.parametrize("payload", [DEEP_MSGPACK, b"\x91" * 5000 + b"\x00",
                                     b"\xc4\x00" * (MAX_ITEM_BYTES // 2 + 1)])
def test_a_deep_or_huge_hotline_item_is_refused_not_raised(payload: bytes,
                                                           tmp_path: Path) -> None:
    usa = node("USA", audit=tmp_path / "USA.sqlite")
    out = usa.on_message(sealed("JPN", "USA", payload, 5.0, kind=Kind.HOTLINE), 5.0)
    assert out.rejected, out
    assert usa.audit is not None
    assert [r for r in usa.audit.records() if r.direction == "rejected"]
    usa.audit.close()


def test_decode_item_raises_only_decode_errors() -> None:
    for data in (DEEP_MSGPACK, b"\xc4\x00" * (MAX_ITEM_BYTES // 2 + 1)):
        with pytest.raises(msgspec.DecodeError):
            decode_item(data)


def test_deep_json_in_key_and_checkpoint_files_is_one_error() -> None:
    with pytest.raises(KeyRegistryError):
        KeyRegistry.from_json("[" * 100_000)
    with pytest.raises(CheckpointFileError):
        from_json("[" * 100_000)
