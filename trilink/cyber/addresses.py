"""Crypto-address checks per chain: format and checksum, before an address becomes an
indicator.

- Bitcoin: base58check (P2PKH ``1…``, P2SH ``3…``; version byte and the double-SHA-256
  checksum, via ``base58``) and bech32/bech32m (``bc1…``; BIP 173/350 checksum via the
  ``bech32`` reference implementation, witness version and program length).
- Ethereum and EVM chains: ``0x`` and 40 hex digits; a mixed-case address must carry a
  valid EIP-55 checksum (Keccak-256 via ``pycryptodome``). All-lower or all-upper case
  carries no checksum and is accepted as such (``checksummed`` says which).
A typo in a transcribed address therefore fails here instead of shipping a wrong indicator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import base58
import bech32
from Crypto.Hash import keccak

CHAINS: Final = ("bitcoin", "ethereum")
_HEX40 = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BECH32M_CONST: Final = 0x2BC830A3  # BIP 350


@dataclass(frozen=True)
class AddressCheck:
    """The verdict on one address: ``ok``, its normal form, and why not when not."""

    chain: str
    address: str
    ok: bool
    kind: str = ""
    checksummed: bool = False
    reason: str = ""


def eip55(address_hex40: str) -> str:
    """The EIP-55 mixed-case form of a 40-hex-digit address (without or with ``0x``)."""
    body = address_hex40.lower().removeprefix("0x")
    digest = keccak.new(digest_bits=256, data=body.encode("ascii")).hexdigest()
    return "0x" + "".join(
        c.upper() if int(d, 16) >= 8 else c for c, d in zip(body, digest[:40], strict=True)
    )


def check_ethereum(address: str) -> AddressCheck:
    """EIP-55 check of an Ethereum (EVM) address."""
    if not _HEX40.match(address):
        return AddressCheck("ethereum", address, False, reason="expected 0x and 40 hex digits")
    body = address[2:]
    if body == body.lower() or body == body.upper():
        return AddressCheck("ethereum", eip55(address), True, "account", checksummed=False)
    canonical = eip55(address)
    if canonical != address:
        return AddressCheck("ethereum", address, False,
                            reason=f"EIP-55 checksum fails (expected {canonical})")
    return AddressCheck("ethereum", address, True, "account", checksummed=True)


def _bech32_check(address: str) -> AddressCheck:
    lowered = address.lower()
    if address != lowered and address != address.upper():
        return AddressCheck("bitcoin", address, False, reason="bech32 must not mix case")
    hrp, data = bech32.bech32_decode(lowered)
    if hrp is None or data is None:
        # bech32_decode refuses bech32m checksums; try the BIP 350 constant
        pos = lowered.rfind("1")
        hrp, chars = lowered[:pos], lowered[pos + 1:]
        if pos < 1 or len(chars) < 6 or any(c not in bech32.CHARSET for c in chars):
            return AddressCheck("bitcoin", address, False, reason="not bech32")
        values = [bech32.CHARSET.find(c) for c in chars]
        if bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + values) != _BECH32M_CONST:
            return AddressCheck("bitcoin", address, False, reason="bech32 checksum fails")
        data, variant = values[:-6], "bech32m"
    else:
        variant = "bech32"
    if hrp != "bc":
        return AddressCheck("bitcoin", address, False, reason=f"not mainnet (hrp {hrp!r})")
    if not data:
        return AddressCheck("bitcoin", address, False, reason="empty witness")
    version = data[0]
    program = bech32.convertbits(data[1:], 5, 8, False)
    if program is None or not 2 <= len(program) <= 40 or version > 16:
        return AddressCheck("bitcoin", address, False, reason="bad witness program")
    if (version == 0) != (variant == "bech32"):
        need = "bech32" if version == 0 else "bech32m"
        return AddressCheck("bitcoin", address, False, reason=f"witness v{version} needs {need}")
    if version == 0 and len(program) not in (20, 32):
        return AddressCheck("bitcoin", address, False, reason="v0 program must be 20 or 32 bytes")
    kind = {0: "p2wpkh" if len(program) == 20 else "p2wsh", 1: "p2tr"}.get(version, f"v{version}")
    return AddressCheck("bitcoin", lowered, True, kind, checksummed=True)


def check_bitcoin(address: str) -> AddressCheck:
    """Base58check or bech32(m) check of a Bitcoin mainnet address."""
    if address.lower().startswith("bc1"):
        return _bech32_check(address)
    try:
        raw: bytes = base58.b58decode_check(address)
    except ValueError as exc:
        return AddressCheck("bitcoin", address, False, reason=f"base58check fails: {exc}")
    if len(raw) != 21:
        return AddressCheck("bitcoin", address, False, reason="payload must be 21 bytes")
    kind = {0x00: "p2pkh", 0x05: "p2sh"}.get(raw[0])
    if kind is None:
        return AddressCheck("bitcoin", address, False,
                            reason=f"version byte {raw[0]:#04x} is not mainnet P2PKH/P2SH")
    return AddressCheck("bitcoin", address, True, kind, checksummed=True)


def check_address(chain: str, address: str) -> AddressCheck:
    """Check ``address`` on ``chain`` (one of :data:`CHAINS`)."""
    if not isinstance(address, str) or not 20 <= len(address) <= 100:
        return AddressCheck(chain, str(address)[:100], False, reason="length out of range")
    if chain == "bitcoin":
        return check_bitcoin(address)
    if chain == "ethereum":
        return check_ethereum(address)
    return AddressCheck(chain, address, False, reason=f"unknown chain; expected one of {CHAINS}")
