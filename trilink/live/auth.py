"""Authenticated control: every control request signed by an operator of the node's nation.

An operator is a person (or console) of one nation and one authority, with roles:

- ``read``: ``status``, ``list``, ``show``, ``cyber_status``;
- ``open``: ``open``, ``join``;
- ``post``: ``say``, ``read``, ``draft``, ``amend``, ``propose``, ``conclude``;
- ``approve``: ``approve``, ``decline``, ``consent``, ``authorise``;
- ``sign``: ``statement``;
- ``cyber``: ``cyber_submit`` (publish STIX objects as the nation's own).

A signed request carries ``auth = {operator, t_ns, nonce, sig}``: ``sig`` is the
operator's Ed25519 signature over the request's canonical JSON (sorted keys, no spaces)
without ``auth.sig``. :class:`ControlGuard` (sans-I/O: the time is passed in) admits a
request only if the operator is registered *for this node's nation*, its roles allow
the op, any ``authority`` named is the operator's own, ``t_ns`` is within
``freshness_s`` of the node's clock, the nonce was not seen before inside that window,
and the signature verifies. Everything else gets a one-line refusal, which the live
node audits and answers — an anonymous client gets nothing but that refusal.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from trilink.errors import TrilinkError
from trilink.hotline.wire import Authority

ROLE_OPS: Final[Mapping[str, frozenset[str]]] = {
    "read": frozenset({"status", "list", "show", "cyber_status"}),
    "open": frozenset({"open", "join"}),
    "post": frozenset({"say", "read", "draft", "amend", "propose", "conclude"}),
    "approve": frozenset({"approve", "decline", "consent", "authorise"}),
    "sign": frozenset({"statement"}),
    "cyber": frozenset({"cyber_submit"}),
}
ROLES: Final = tuple(ROLE_OPS)
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_NONCE = re.compile(r"^[0-9a-f]{32,64}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SIG = re.compile(r"^[0-9a-f]{128}$")
MAX_NONCES: Final = 100_000


class OperatorFileError(TrilinkError):
    """An operator registry or key file that cannot be used (one line)."""


@dataclass(frozen=True)
class Operator:
    operator_id: str
    nation: str
    authority: str
    roles: frozenset[str]
    public_key_hex: str

    def may(self, op: str) -> bool:
        return any(op in ROLE_OPS[r] for r in self.roles)


class OperatorRegistry:
    """Operators by id (public keys only); JSON ``{"operators": [{…}, …]}``."""

    def __init__(self, operators: Iterable[Operator]) -> None:
        self._by_id: dict[str, Operator] = {}
        self._keys: dict[str, Ed25519PublicKey] = {}
        for o in operators:
            if o.operator_id in self._by_id:
                raise OperatorFileError(f"operators: {o.operator_id!r} listed twice")
            self._by_id[o.operator_id] = o
            self._keys[o.operator_id] = Ed25519PublicKey.from_public_bytes(
                bytes.fromhex(o.public_key_hex))

    def get(self, operator_id: str) -> Operator | None:
        return self._by_id.get(operator_id)

    def key(self, operator_id: str) -> Ed25519PublicKey:
        return self._keys[operator_id]

    def to_json(self) -> str:
        return json.dumps({"operators": [
            {"operator": o.operator_id, "nation": o.nation, "authority": o.authority,
             "roles": sorted(o.roles), "public_key": o.public_key_hex}
            for o in self._by_id.values()]}, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str = "operators") -> OperatorRegistry:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise OperatorFileError(f"{where}: not JSON ({exc})") from None
        rows = data.get("operators") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise OperatorFileError(f"{where}: expected {{\"operators\": [...]}}")
        out = []
        for i, row in enumerate(rows):
            try:
                out.append(_operator(row))
            except (KeyError, TypeError, ValueError) as exc:
                raise OperatorFileError(f"{where}: operators[{i}]: {exc}") from None
        return cls(out)


def _operator(row: Any) -> Operator:
    if not isinstance(row, dict):
        raise TypeError("expected an object")
    oid, nation, authority = row["operator"], row["nation"], row["authority"]
    roles, key = row["roles"], row["public_key"]
    if not (isinstance(oid, str) and _ID.match(oid)):
        raise ValueError("operator: expected 1-64 of A-Z a-z 0-9 _ . -")
    if not (isinstance(nation, str) and re.fullmatch(r"[A-Z]{3}", nation)):
        raise ValueError("nation: expected an ISO alpha-3 code")
    if authority not in tuple(str(a) for a in Authority):
        raise ValueError(f"authority: {authority!r} is not a hotline authority")
    if not (isinstance(roles, list) and roles and all(r in ROLE_OPS for r in roles)):
        raise ValueError(f"roles: expected a non-empty list of {', '.join(ROLES)}")
    if not (isinstance(key, str) and _HEX64.match(key)):
        raise ValueError("public_key: expected 64 hex digits (Ed25519)")
    return Operator(oid, nation, str(authority), frozenset(roles), key)


def new_operator(operator_id: str, nation: str, authority: str, roles: Iterable[str]
                 ) -> tuple[Operator, Ed25519PrivateKey]:
    """A fresh operator and its private key (give the key to that operator only)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    private = Ed25519PrivateKey.generate()
    pub = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    op = _operator({"operator": operator_id, "nation": nation, "authority": authority,
                    "roles": sorted(set(roles)), "public_key": pub})
    return op, private


def write_operator(operator: Operator, key: Ed25519PrivateKey, out_dir: Path) -> list[Path]:
    """``DIR/<id>.operator`` (private, mode 0600: give it to that operator only) and the
    operator added to ``DIR/operators.json`` (public: give it to the nation's node)."""
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    reg_path = out_dir / "operators.json"
    known = (list(OperatorRegistry.from_json(reg_path.read_text(), str(reg_path))._by_id
                  .values()) if reg_path.exists() else [])
    registry = OperatorRegistry([*known, operator])  # refuses a duplicate id
    private = out_dir / f"{operator.operator_id}.operator"
    if private.exists():
        raise OperatorFileError(f"{private}: exists (an operator id is made once)")
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps({"operator": operator.operator_id, "private_key": raw}) + "\n")
    reg_path.write_text(registry.to_json())
    return [private, reg_path]


def load_operator_key(path: Path) -> tuple[str, Ed25519PrivateKey]:
    """``(operator id, private key)`` from a ``.operator`` file."""
    try:
        data = json.loads(path.read_text())
        oid, raw = data["operator"], data["private_key"]
        if not (isinstance(oid, str) and _ID.match(oid) and isinstance(raw, str)
                and _HEX64.match(raw)):
            raise ValueError("expected an operator id and 64 hex digits")
        return oid, Ed25519PrivateKey.from_private_bytes(bytes.fromhex(raw))
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise OperatorFileError(f"{path}: not an operator key file ({exc})") from None


def canonical(request: Mapping[str, Any]) -> bytes:
    """What is signed: the request with ``auth`` minus its ``sig``, canonical JSON."""
    body = dict(request)
    auth = body.get("auth")
    if isinstance(auth, dict):
        body["auth"] = {k: v for k, v in auth.items() if k != "sig"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True).encode("ascii")


def sign_request(request: Mapping[str, Any], operator_id: str, key: Ed25519PrivateKey,
                 now_ns: int, nonce: str | None = None) -> dict[str, Any]:
    """``request`` with its ``auth`` block, signed by the operator."""
    body = {k: v for k, v in request.items() if k != "auth"}
    body["auth"] = {"operator": operator_id, "t_ns": int(now_ns),
                    "nonce": nonce or secrets.token_hex(16)}
    body["auth"]["sig"] = key.sign(canonical(body)).hex()
    return body


class ControlGuard:
    """Admits or refuses control requests for one nation's node (module docstring)."""

    def __init__(self, nation: str, registry: OperatorRegistry,
                 freshness_s: float = 60.0) -> None:
        self.nation = nation
        self.registry = registry
        self.freshness_ns = int(freshness_s * 1e9)
        self._nonces: dict[str, int] = {}  # nonce → t_ns, kept one freshness window

    def check(self, request: object, now_ns: int) -> tuple[Operator | None, str | None]:
        """``(operator, None)`` if admitted, else ``(operator or None, refusal)``."""
        if not isinstance(request, dict):
            return None, "request: expected a JSON object"
        auth = request.get("auth")
        if not isinstance(auth, dict):
            return None, "auth: this node answers signed requests only"
        if set(auth) != {"operator", "t_ns", "nonce", "sig"}:
            return None, "auth: expected exactly operator, t_ns, nonce, sig"
        oid, t_ns, nonce, sig = auth["operator"], auth["t_ns"], auth["nonce"], auth["sig"]
        if not (isinstance(oid, str) and _ID.match(oid)):
            return None, "auth.operator: expected an operator id"
        op = self.registry.get(oid)
        if op is None:
            return None, f"auth.operator: {oid!r} is not a registered operator"
        if op.nation != self.nation:
            return op, (f"auth.operator: {oid} is an operator of {op.nation}, not of "
                        f"{self.nation}")
        if not (isinstance(t_ns, int) and not isinstance(t_ns, bool)):
            return op, "auth.t_ns: expected an integer (UTC nanoseconds)"
        if abs(t_ns - now_ns) > self.freshness_ns:
            return op, (f"auth.t_ns: {abs(t_ns - now_ns) / 1e9:.0f} s from this node's "
                        f"clock (at most {self.freshness_ns / 1e9:.0f} s)")
        if not (isinstance(nonce, str) and _NONCE.match(nonce)):
            return op, "auth.nonce: expected 32-64 lowercase hex digits"
        if not (isinstance(sig, str) and _SIG.match(sig)):
            return op, "auth.sig: expected 128 lowercase hex digits (Ed25519)"
        try:
            self.registry.key(oid).verify(bytes.fromhex(sig), canonical(request))
        except (InvalidSignature, ValueError, TypeError, RecursionError):
            return op, f"auth.sig: not {oid}'s signature over this request"
        op_name = request.get("op")
        if not (isinstance(op_name, str) and op.may(op_name)):
            return op, f"op: {oid} ({', '.join(sorted(op.roles))}) may not {op_name!r}"
        authority = request.get("authority")
        if authority is not None and authority != op.authority:
            return op, (f"authority: {oid} acts for {op.authority}, not {authority!r}")
        self._forget(now_ns)
        if nonce in self._nonces:
            return op, "auth.nonce: already used (a replayed request)"
        if len(self._nonces) >= MAX_NONCES:
            return op, "auth.nonce: too many requests in the freshness window"
        self._nonces[nonce] = t_ns
        return op, None

    def _forget(self, now_ns: int) -> None:
        old = [n for n, t in self._nonces.items() if now_ns - t > 2 * self.freshness_ns]
        for n in old:
            del self._nonces[n]


__all__ = ["ROLES", "ROLE_OPS", "ControlGuard", "Operator", "OperatorFileError",
           "OperatorRegistry", "canonical", "load_operator_key", "new_operator",
           "sign_request", "write_operator"]
