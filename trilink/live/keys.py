"""Key files of live nodes: one private key per nation, one registry of public keys.

``trilink keys new --nations USA,JPN,KOR --out DIR`` writes

- ``DIR/<NATION>.key`` — the nation's raw Ed25519 private key as 64 hex characters and a
  newline (file mode 0600: it never leaves that nation's node);
- ``DIR/registry.json`` — every public key (:meth:`KeyRegistry.save`), which every node
  and ``trilink hotline verify`` read.

The key id is derived from the public key (``N-<first 8 hex of the fingerprint>``, as
:func:`trilink.sharing.envelope.generate_keys` names it), so the key file holds nothing
else. Loading checks that the private key's public half is the one the registry holds.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trilink.errors import TrilinkError
from trilink.sharing.envelope import (
    KeyRegistry,
    KeyRegistryError,
    NodeKey,
    fingerprint,
    generate_keys,
    private_key_hex,
)

REGISTRY_FILE: Final = "registry.json"
_NATION = re.compile(r"^[A-Z]{3}$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class KeyFileError(TrilinkError, ValueError):
    """A key file is missing or unreadable (one line: the file and what was expected)."""


def parse_nations(text: str, what: str = "--nations") -> tuple[str, ...]:
    """``USA,JPN,KOR`` → ('USA', 'JPN', 'KOR'); a ValueError (:class:`trilink.nations.
    NationError`) naming ``what`` for a malformed, unknown or non-party code."""
    from trilink.nations import parse_nations as parse_parties

    return parse_parties(text, what)


def key_path(keys_dir: Path, nation: str) -> Path:
    return keys_dir / f"{nation}.key"


def write_keys(nations: Sequence[str], out_dir: Path, force: bool = False) -> list[Path]:
    """Generate a fresh key per nation; write the key files and the registry.

    Refuses (:class:`KeyFileError`) to overwrite existing files unless ``force``.
    Returns the paths written (key files, then the registry).
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise KeyFileError(f"--out: {out_dir} is a file; expected a folder")
    targets = [key_path(out_dir, n) for n in nations] + [out_dir / REGISTRY_FILE]
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise KeyFileError(f"{existing[0]}: exists; refusing to overwrite keys "
                           "(use --force to replace them)")
    keys, registry = generate_keys(nations)  # os.urandom
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for n in nations:
            path = key_path(out_dir, n)
            if path.exists():
                path.unlink()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(private_key_hex(keys[n].private_key) + "\n")
        registry.save(out_dir / REGISTRY_FILE)
    except OSError as exc:
        raise KeyFileError(f"--out: cannot write to {exc.filename or out_dir}: "
                           f"{exc.strerror or exc}") from None
    return targets


def load_registry(path: Path) -> KeyRegistry:
    """The registry at ``path``; :class:`KeyFileError` (one line) if it cannot be read."""
    if not path.is_file():
        raise KeyFileError(f"{path}: no such file (expected the {REGISTRY_FILE} written by "
                           "`trilink keys new`)")
    try:
        return KeyRegistry.from_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{path}: unreadable: {exc}") from None
    except KeyRegistryError as exc:
        raise KeyFileError(f"{path}: {exc}") from None


def load_node_key(path: Path, nation: str, registry: KeyRegistry) -> NodeKey:
    """``nation``'s private key from ``path``, checked against ``registry``."""
    if not path.is_file():
        raise KeyFileError(f"{path}: no such file (expected the private key of {nation} "
                           "written by `trilink keys new`)")
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        text = ""
    if not _HEX64.match(text):
        raise KeyFileError(f"{path}: expected 64 hex characters (a raw Ed25519 private key)")
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text))
    public = private.public_key()
    key_id = f"{nation}-{fingerprint(public)[:8]}"
    known = registry.get(nation, key_id)
    if known is None or fingerprint(known) != fingerprint(public):
        held = ", ".join(registry.key_ids(nation)) or "none"
        raise KeyFileError(f"{path}: its public key ({key_id}) is not one of {nation}'s keys "
                           f"in the registry (registered: {held})")
    return NodeKey(nation, key_id, private)


def load_keys_dir(keys_dir: Path, nation: str) -> tuple[NodeKey, KeyRegistry]:
    """``nation``'s key and the registry from a ``trilink keys new`` folder."""
    if not keys_dir.is_dir():
        raise KeyFileError(f"--keys: {keys_dir} is not a folder (expected the folder "
                           "written by `trilink keys new`)")
    registry = load_registry(keys_dir / REGISTRY_FILE)
    if nation not in registry.nations():
        raise KeyFileError(f"--nation: {nation} has no key in {keys_dir / REGISTRY_FILE} "
                           f"(nations: {', '.join(registry.nations()) or 'none'})")
    return load_node_key(key_path(keys_dir, nation), nation, registry), registry
