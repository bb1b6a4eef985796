"""Micro-benchmark: envelope sign, encode, decode, decode+verify, and audit appends.

A typical missile-track payload (200 bytes: track id, time, ECEF position and velocity,
a 6×6 covariance upper triangle in float32, impact point and 95 % ellipse) goes JPN → KOR
via USA. Prints a table of operations per second and the wire size, best of ``--repeat``
timings.

Usage:

    python bench/bench_envelope.py [--n 5000] [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from trilink.sharing.audit import AuditLog
from trilink.sharing.envelope import (
    EnvelopeFields,
    Kind,
    Verifier,
    Window,
    decode,
    encode,
    generate_keys,
    sign,
)

T0 = 1_701_388_800_000_000_000


def track_payload() -> bytes:
    """200 bytes: id, time, position, velocity, covariance (upper triangle), impact, flags."""
    head = b"JPN-T0001".ljust(16, b"\x00")
    state = struct.pack("<q6d", T0, -3.5e6, 3.9e6, 3.8e6, 1200.0, -900.0, 2500.0)
    cov = struct.pack("<21f", *[float(i + 1) for i in range(21)])
    impact = struct.pack("<5d", 0.7068, 2.2602, 41e3, 12e3, 0.3)  # lat, lon, ellipse a, b, θ
    return head + state + cov + impact + b"\x01\x00\x00\x00"


def best_rate(fn: Callable[[int], None], n: int, repeat: int) -> float:
    """Operations per second, best of ``repeat`` runs of ``n`` operations."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn(n)
        best = min(best, time.perf_counter() - t)
    return n / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    keys, registry = generate_keys(["JPN", "KOR", "USA"], b"bench")
    key = keys["JPN"]
    payload = track_payload()

    def fields(seq: int) -> EnvelopeFields:
        return EnvelopeFields(version=1, sender="JPN", key_id=key.key_id, seq=seq,
                              created_ns=T0, kind=Kind.MISSILE_TRACK, originator="JPN",
                              rel_to=("JPN", "KOR", "USA"), recipient="KOR", via=("USA",),
                              payload=payload)

    envs = [sign(fields(i + 1), key.private_key) for i in range(args.n)]
    wires = [encode(e) for e in envs]
    f1 = fields(1)

    def do_sign(n: int) -> None:
        for _ in range(n):
            sign(f1, key.private_key)

    def do_encode(n: int) -> None:
        for e in envs[:n]:
            encode(e)

    def do_decode(n: int) -> None:
        for w in wires[:n]:
            decode(w)

    def do_verify(n: int) -> None:
        v = Verifier("KOR", registry, Window())
        for w in wires[:n]:
            v.check(w, T0)

    rows = [
        ("sign (incl. self-check decode)", best_rate(do_sign, args.n, args.repeat)),
        ("encode", best_rate(do_encode, args.n, args.repeat)),
        ("decode (canonical check)", best_rate(do_decode, args.n, args.repeat)),
        ("decode + verify (Verifier.check)", best_rate(do_verify, args.n, args.repeat)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for durable in (False, True):
            log = AuditLog(Path(tmp) / f"bench-{durable}.sqlite", durable=durable)
            m = min(args.n, 2000 if not durable else 500)

            def do_append(n: int, log: AuditLog = log) -> None:
                for i in range(n):
                    log.append(T0 + i, "received", peer="JPN", kind="missile_track", seq=i,
                               envelope_sha256="ab" * 32, detail="JPN->KOR originator JPN")

            rows.append((f"audit append ({'durable' if durable else 'sync off'})",
                         best_rate(do_append, m, 1)))

            def do_batch(n: int, log: AuditLog = log) -> None:
                with log.batch():
                    do_append(n, log)

            if durable:
                rows.append(("audit append (batch of 5000)", best_rate(do_batch, 5000, 1)))
            log.close()
            # The batched sink: the node calls append as before; one commit per 64 rows.
            sink = AuditLog(Path(tmp) / f"sink-{durable}.sqlite", durable=durable,
                            flush_every=64)

            def do_sink(n: int, log: AuditLog = sink) -> None:
                do_append(n, log)
                log.flush()

            rows.append((f"audit sink, flush/64 ({'durable' if durable else 'sync off'})",
                         best_rate(do_sink, m, 1)))
            sink.close()

    size = len(wires[0])
    result = {"payload_bytes": len(payload), "envelope_bytes": size,
              "overhead_bytes": size - len(payload),
              "ops_per_s": {name: round(rate) for name, rate in rows},
              "python": platform.python_version(), "machine": platform.machine()}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"payload {len(payload)} B, envelope {size} B (overhead {size - len(payload)} B), "
          f"Python {platform.python_version()} {platform.machine()}")
    print(f"{'operation':<36}{'per second':>12}{'µs each':>10}")
    for name, rate in rows:
        print(f"{name:<36}{rate:>12,.0f}{1e6 / rate:>10.1f}")


if __name__ == "__main__":
    main()
