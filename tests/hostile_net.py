"""Small helpers for the hostile-input tests: real nodes, real keys, real policy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from trilink.node import NationalNode, NodeConfig, partners_of
from trilink.sharing.audit import AuditLog
from trilink.sharing.envelope import Kind, NodeKey, Signer, encode, generate_keys
from trilink.sharing.policy import Policy

EPOCH = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
NATIONS = ("USA", "JPN", "KOR")
KEYS, REGISTRY = generate_keys(NATIONS, seed=b"hostile-test")
NS0 = int(EPOCH.timestamp()) * 1_000_000_000


def node(nation: str, regime: str = "trilateral-realtime",
         audit: Path | None = None) -> NationalNode:
    return NationalNode(NodeConfig(nation, partners_of(nation, NATIONS), NATIONS),
                        Policy.for_regime(regime), KEYS[nation], REGISTRY, EPOCH,
                        audit=None if audit is None else AuditLog(audit, durable=False))


def good_state(k: float = 0.0) -> tuple[list[float], list[float]]:
    """A plausible ECEF state and the upper triangle of a diagonal covariance."""
    x = [-3.5e6 + k, 3.9e6, 3.8e6, 1200.0, -900.0, 2500.0, 0.0, 0.0, -9.0]
    var = [1e4] * 3 + [1e2] * 3 + [1.0] * 3
    p = [var[i] if i == j else 0.0 for i in range(9) for j in range(i, 9)]
    return x, p


def raw_batch(*tracks: list[Any]) -> bytes:
    """A track batch encoded without any checks: what an attacker can sign."""
    return msgspec.msgpack.encode([list(tracks)])


def track(tid: str = "T1", t_s: float = 10.0, x: Any = None, p: Any = None,
          pp: Any = 0.0) -> list[Any]:
    gx, gp = good_state()
    return [tid, t_s, gx if x is None else x, gp if p is None else p, pp]


def sealed(origin: str, to: str, payload: bytes, t_s: float,
           kind: Kind = Kind.MISSILE_TRACK, key: NodeKey | None = None,
           via: tuple[str, ...] = (), seq: int | None = None,
           signer: Signer | None = None) -> bytes:
    s = signer or Signer(key or KEYS[origin], first_seq=seq or 1 + int(t_s * 1000))
    env = s.seal(kind=kind, originator=origin, rel_to=NATIONS, recipient=to,
                 payload=payload, created_ns=NS0 + round(t_s * 1e9), via=via)
    return encode(env)


def all_finite(n: NationalNode) -> bool:
    return all(bool(np.all(np.isfinite(o.x))) and bool(np.all(np.isfinite(o.P)))
               for o in n.fused())
