"""A bounded run of the decoder fuzzers (the long run is bench/fuzz/fuzz_decoders.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

_PATH = Path(__file__).resolve().parents[1] / "bench" / "fuzz" / "fuzz_decoders.py"


def _fuzz() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_decoders", _PATH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_decoders"] = mod
    spec.loader.exec_module(mod)
    return mod


FUZZ = _fuzz()


@pytest.mark.parametrize("target", ["envelope", "tracks", "hotline", "stamp", "checkpoint",
                                    "node"])
def test_no_mutated_input_escapes_a_decoder(target: str) -> None:
    seeds, fns = FUZZ._seeds(), FUZZ.targets()
    accepted, refused, escaped, examples = FUZZ.run(target, fns[target], seeds[target], 400, 7)
    assert escaped == 0, examples
    assert refused > 0 and accepted + refused == 400
