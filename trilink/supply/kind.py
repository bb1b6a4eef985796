"""The supply and control-list data kinds on the national node (contract C1,
:mod:`trilink.kinds.base`).

A nation's early-warning desk raises two kinds of item to its partners:

- :class:`SupplyAlarm` (kind ``supply_indicator``): a shock detected in a series;
- :class:`ControlChange` (kind ``control_list``): a measure or country-group change.

The node seals each along the agreements' routes. Before the EWS agreement (2023-08-18)
none is allowed: the node refuses and audits the send, and the partner never sees it.
Received items are decoded against a versioned msgspec schema, and every field is
checked (bounded strings, nation codes, HS codes, months and dates, finite values)
before it is kept. A bad item is refused by raising ``ValueError``, which the node
audits; the desk's state is unchanged.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

import msgspec

from trilink.kinds.base import PluginOutput, Send
from trilink.sharing.envelope import Envelope, Kind
from trilink.sharing.releasability import check_nation

SCHEMA_VERSION = 1
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MAX_TEXT = 500
MAX_PAYLOAD = 16_384


class SupplyAlarm(msgspec.Struct, frozen=True, tag="alarm"):
    schema_version: int
    series: str
    hs6: str
    reporter: str
    partner: str  # alpha-3, or WORLD
    month: str  # YYYY-MM of the alarming figure
    value: float
    baseline: float
    detected: str  # YYYY-MM-DD


class ControlChange(msgspec.Struct, frozen=True, tag="control"):
    schema_version: int
    day: str  # YYYY-MM-DD, in force
    imposed_by: str
    what: str
    affects: list[str]
    sources: list[str]


Item = SupplyAlarm | ControlChange
_ENC = msgspec.msgpack.Encoder()
_DEC = msgspec.msgpack.Decoder(Item)


def _nation(code: str, allow_world: bool = False) -> None:
    if allow_world and code in ("WORLD", "ALL"):
        return
    check_nation(code)


def _date(text: str) -> None:
    dt.date.fromisoformat(text)  # ValueError when not a date


def check_item(item: Item) -> None:
    """Every field, before anything is kept; ``ValueError`` names the first bad one."""
    if item.schema_version != SCHEMA_VERSION:
        raise ValueError(f"schema_version: expected {SCHEMA_VERSION}, got {item.schema_version}")
    if isinstance(item, SupplyAlarm):
        if not _ID.match(item.series):
            raise ValueError("series: expected an id of lower-case letters, digits, hyphens")
        if not (len(item.hs6) == 6 and item.hs6.isdigit()):
            raise ValueError("hs6: expected a six-digit HS code")
        _nation(item.reporter)
        _nation(item.partner, allow_world=True)
        if not _MONTH.match(item.month):
            raise ValueError("month: expected YYYY-MM")
        for name in ("value", "baseline"):
            v = getattr(item, name)
            if not (math.isfinite(v) and 0 <= v < 1e15):
                raise ValueError(f"{name}: expected a finite non-negative figure")
        _date(item.detected)
        return
    _date(item.day)
    _nation(item.imposed_by)
    if not 0 < len(item.what) <= MAX_TEXT:
        raise ValueError(f"what: expected 1–{MAX_TEXT} characters")
    if len(item.affects) > 20 or len(item.sources) > 10:
        raise ValueError("affects/sources: too many entries")
    for n in item.affects:
        _nation(n, allow_world=True)
    for s in item.sources:
        if not (s.startswith(("http://", "https://")) and len(s) <= 500):
            raise ValueError("sources: expected web addresses")


def decode_item(payload: bytes) -> Item:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload: {len(payload)} bytes, more than {MAX_PAYLOAD}")
    try:
        item = _DEC.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValueError(f"payload: {exc}") from None
    check_item(item)
    return item


@dataclass(frozen=True)
class Received:
    """An item a partner raised, as this node took it (an event for drivers and faces)."""

    originator: str
    received_s: float
    item: Item


@dataclass
class SupplyDesk:
    """A nation's early-warning desk for the supply and control-list kinds."""

    nation: str
    partners: tuple[str, ...]
    kinds: tuple[Kind, ...] = (Kind.SUPPLY_INDICATOR, Kind.CONTROL_LIST)
    received: list[Received] = field(default_factory=list)
    _seen: set[bytes] = field(default_factory=set)

    def raise_item(self, item: Item, now_s: float) -> PluginOutput:
        """Tell every partner (the node routes each send under the agreements)."""
        check_item(item)
        kind = Kind.SUPPLY_INDICATOR if isinstance(item, SupplyAlarm) else Kind.CONTROL_LIST
        payload = _ENC.encode(item)
        return PluginOutput(sends=[Send(p, kind, tuple(sorted(self.partners)), payload)
                                   for p in sorted(self.partners)])

    def on_envelope(self, env: Envelope, now_s: float) -> PluginOutput:
        item = decode_item(env.payload)
        expected = (Kind.SUPPLY_INDICATOR if isinstance(item, SupplyAlarm)
                    else Kind.CONTROL_LIST)
        if env.kind != expected:
            raise ValueError(f"a {type(item).__name__} sent as {env.kind}")
        if env.payload in self._seen:
            return PluginOutput()  # the same item again (another route): already held
        self._seen.add(env.payload)
        got = Received(env.originator, now_s, item)
        self.received.append(got)
        return PluginOutput(events=[got])

    def tick(self, now_s: float) -> PluginOutput:
        return PluginOutput()

    def next_wakeup_s(self) -> float | None:
        return None
