"""Mutation fuzzing of every decoder trilink's sharing layer exposes to the network.

Seeded and bounded: each target starts from valid inputs (real envelopes, stamps,
checkpoints, track batches, hotline items), applies random byte mutations (flip, insert,
delete, splice, truncate, duplicate a slice, deep nesting) from ``numpy.random`` with
``--seed``, and feeds the result to the decoder. A target fails if anything escapes
other than the documented refusal (a rejection value, or ``msgspec.DecodeError`` for
``decode_item``), or if the node's picture ever holds a non-finite number.

Usage:

    python bench/fuzz/fuzz_decoders.py [--target all|envelope|tracks|hotline|stamp|
                                        checkpoint|node] [--n 20000] [--seed 1]

Prints one line per target: inputs tried, accepted, refused, escaped (must be 0).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable

import msgspec
import numpy as np

from trilink.hotline.wire import Deliver, Post, Receipt, Say, decode_item, encode_item
from trilink.kinds.tracks import TrackBatch, decode_tracks
from trilink.node import NationalNode, NodeConfig, partners_of
from trilink.sharing.checkpoint import decode_checkpoint, encode_checkpoint, make_checkpoint
from trilink.sharing.envelope import Kind, Signer, Verifier, Window, encode, generate_keys
from trilink.sharing.policy import Policy
from trilink.sharing.relay import open_stamp, stamp

EPOCH = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
NS0 = int(EPOCH.timestamp()) * 1_000_000_000
NATIONS = ("USA", "JPN", "KOR")
KEYS, REGISTRY = generate_keys(NATIONS, seed=b"fuzz")


def _track_batch(t_s: float) -> bytes:
    x = [-3.5e6, 3.9e6, 3.8e6, 1200.0, -900.0, 2500.0, 0.0, 0.0, -9.0]
    var = [1e4] * 3 + [1e2] * 3 + [1.0] * 3
    p = [var[i] if i == j else 0.0 for i in range(9) for j in range(i, 9)]
    return msgspec.msgpack.encode([[["T1", t_s, x, p, 0.3], ["T2", t_s, x, p, 0.9]]])


def _seeds() -> dict[str, list[bytes]]:
    s = Signer(KEYS["JPN"])
    track = _track_batch(10.0)
    env = s.seal(kind=Kind.MISSILE_TRACK, originator="JPN", rel_to=NATIONS, recipient="USA",
                 payload=track, created_ns=NS0 + 10 * 10**9)
    relayed = s.seal(kind=Kind.MISSILE_TRACK, originator="JPN", rel_to=NATIONS,
                     recipient="KOR", via=("USA",), payload=track, created_ns=NS0)
    post = Post("JPN-1", "JPN-1", "JPN", "joint_staff", 1, 10.0, Say("launch detected"))
    items = [encode_item(Deliver(post, "joint_staff")), encode_item(Receipt("JPN-1", "JPN-1"))]
    hot = s.seal(kind=Kind.HOTLINE, originator="JPN", rel_to=NATIONS, recipient="USA",
                 payload=items[0], created_ns=NS0 + 10 * 10**9)
    st = stamp(KEYS["USA"], encode(relayed), "KOR", NS0 + 3600 * 10**9)
    cp = encode_checkpoint(make_checkpoint(KEYS["JPN"], 12, "ab" * 32, NS0))
    return {"envelope": [encode(env), encode(hot)], "tracks": [track], "hotline": items,
            "stamp": [st], "checkpoint": [cp], "node": [encode(env), encode(hot), st, cp]}


def mutate(rng: np.random.Generator, data: bytes, pool: list[bytes]) -> bytes:
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        op = int(rng.integers(0, 8))
        i = int(rng.integers(0, len(b) + 1)) if b else 0
        if op == 0 and b:
            b[min(i, len(b) - 1)] ^= 1 << int(rng.integers(0, 8))
        elif op == 1:
            b[i:i] = bytes(rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8))
        elif op == 2 and b:
            del b[i:i + int(rng.integers(1, 9))]
        elif op == 3:
            other = pool[int(rng.integers(0, len(pool)))]
            j = int(rng.integers(0, len(other) + 1))
            b = b[:i] + bytearray(other[j:])
        elif op == 4:
            b = b[:i]
        elif op == 5 and b:
            j = int(rng.integers(i, len(b) + 1))
            b[j:j] = b[i:j]
        elif op == 6:
            b[i:i] = b"\x91" * int(rng.integers(100, 5000))
        elif op == 7 and b:  # an interesting number: NaN, inf, huge
            b[min(i, len(b) - 1):min(i, len(b) - 1) + 9] = bytes([0xCB]) + np.array(
                [np.nan, np.inf, 1e300, -0.0][int(rng.integers(0, 4))], ">f8").tobytes()
    return bytes(b)


def _node() -> NationalNode:
    return NationalNode(NodeConfig("USA", partners_of("USA", NATIONS), NATIONS),
                        Policy.for_regime("trilateral-realtime"), KEYS["USA"], REGISTRY, EPOCH)


def targets() -> dict[str, Callable[[bytes], bool]]:
    verifier = Verifier("USA", REGISTRY, Window(past_ns=4 * 3600 * 10**9))
    node = _node()

    def envelope(d: bytes) -> bool:
        return hasattr(verifier.check(d, NS0 + 10 * 10**9), "relay")

    def tracks(d: bytes) -> bool:
        return isinstance(decode_tracks(d, 10.0), TrackBatch)

    def hotline(d: bytes) -> bool:
        try:
            decode_item(d)
        except msgspec.DecodeError:
            return False
        return True

    def stamp_(d: bytes) -> bool:
        return hasattr(open_stamp(d, REGISTRY), "inner")

    def checkpoint(d: bytes) -> bool:
        return not isinstance(decode_checkpoint(d), str)

    def node_(d: bytes) -> bool:
        out = node.on_message(d, 10.0, deliverer="JPN")
        for o in node.fused():
            if not (np.all(np.isfinite(o.x)) and np.all(np.isfinite(o.P))):
                raise AssertionError("non-finite fused object")
        return not out.rejected

    return {"envelope": envelope, "tracks": tracks, "hotline": hotline, "stamp": stamp_,
            "checkpoint": checkpoint, "node": node_}


def run(name: str, fn: Callable[[bytes], bool], seeds: list[bytes], n: int,
        seed: int) -> tuple[int, int, int, list[str]]:
    rng = np.random.default_rng(seed)
    accepted = refused = 0
    escaped: list[str] = []
    for k in range(n):
        data = mutate(rng, seeds[k % len(seeds)], seeds)
        try:
            if fn(data):
                accepted += 1
            else:
                refused += 1
        except Exception as exc:  # any escape is the finding
            escaped.append(f"{name} #{k}: {type(exc).__name__}: {exc!s:.120} input={data[:40]!r}")
    return accepted, refused, len(escaped), escaped[:5]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="all")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    seeds, fns = _seeds(), targets()
    names = list(fns) if args.target == "all" else [args.target]
    bad = 0
    for name in names:
        t0 = time.perf_counter()
        acc, ref, esc, examples = run(name, fns[name], seeds[name], args.n, args.seed)
        dt_s = time.perf_counter() - t0
        print(f"{name:<11} tried {args.n:>8}  accepted {acc:>7}  refused {ref:>8}  "
              f"escaped {esc}  ({args.n / dt_s:,.0f}/s)")
        for e in examples:
            print("   ", e)
        bad += esc
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
