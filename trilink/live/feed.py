"""The live sensor feed: one versioned wire schema for radar measurements over NATS.

Subjects: ``trilink.sensor.<NATION>.<SENSOR_ID>``; a node subscribes to
``trilink.sensor.<its nation>.*`` only — partners' data reach it only as shared tracks.

Schema (:class:`SensorScanMsg`, msgpack, ``schema_version`` :data:`SCHEMA_VERSION`): one
scan of one radar — measurement time in UTC nanoseconds, the site (geodetic, radians and
metres), the detections ``z`` (rows of range_m, az_rad, el_rad[, range_rate_m_s], site
ENU frame) and their standard deviations. ``truth_ids`` is for replays only (evaluation;
trackers never read it): real sensors leave it empty.

:func:`decode_scan` checks every field (finite numbers, shapes, sizes, names against the
subject) before anything reaches a tracker, and :func:`to_radar_scan` turns a checked
message into the tracker's :class:`~trilink.sensors.radar.RadarScan` on the node's clock.

**Where a real sensor plugs in:** :func:`from_radar_scan` is the one place: a real radar's
adapter builds a :class:`SensorScanMsg` (or a ``RadarScan`` and calls
:func:`from_radar_scan`) and publishes :func:`encode_scan`'s bytes on
:func:`sensor_subject`. See ``docs/live.md``.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import re
from typing import Final

import msgspec
import numpy as np

from trilink.errors import TrilinkError

# The subject layout has one home, beside the permissions made from it.
from trilink.live.natsconf import SENSOR_PREFIX as SENSOR_PREFIX
from trilink.live.natsconf import nation_sensors_subject as nation_sensors_subject
from trilink.live.natsconf import sensor_subject as sensor_subject
from trilink.physics.earth import geodetic_to_ecef
from trilink.sensors.radar import RadarScan

SCHEMA_VERSION: Final = 1
MAX_DETECTIONS: Final = 4096  # per scan: far above any radar in the catalogue
MAX_BYTES: Final = 1 << 20
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NATION = re.compile(r"^[A-Z]{3}$")


class FeedError(TrilinkError):
    """A feed message that cannot be used: says which field and what was expected."""


class SensorScanMsg(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One radar scan on the wire (see the module docstring)."""

    schema_version: int
    nation: str
    sensor_id: str
    t_unix_ns: int
    site_lat_rad: float
    site_lon_rad: float
    site_h_m: float
    z: list[list[float]]
    sigma: list[float]
    truth_ids: list[str | None] = []


_ENC = msgspec.msgpack.Encoder()
_DEC = msgspec.msgpack.Decoder(SensorScanMsg)


def _ns(epoch: dt.datetime, t_s: float) -> int:
    whole = epoch.replace(microsecond=0)
    return int(whole.timestamp()) * 1_000_000_000 + epoch.microsecond * 1000 + round(t_s * 1e9)


def from_radar_scan(scan: RadarScan, epoch: dt.datetime, *, with_truth: bool = True
                    ) -> SensorScanMsg:
    """The wire form of a scan whose ``t_s`` counts from ``epoch`` (UTC)."""
    return SensorScanMsg(
        SCHEMA_VERSION, scan.nation, scan.sensor_id, _ns(epoch, scan.t_s),
        float(scan.site_lat_rad), float(scan.site_lon_rad), float(scan.site_h_m),
        [[float(v) for v in row] for row in np.asarray(scan.z)],
        [float(v) for v in np.asarray(scan.sigma)],
        list(scan.truth_ids) if with_truth else [])


def encode_scan(msg: SensorScanMsg) -> bytes:
    return _ENC.encode(msg)


def decode_scan(data: bytes, subject: str | None = None) -> SensorScanMsg:
    """A checked :class:`SensorScanMsg`, or :class:`FeedError` naming the field."""
    if len(data) > MAX_BYTES:
        raise FeedError(f"feed message: {len(data)} bytes (at most {MAX_BYTES})")
    try:
        msg = _DEC.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise FeedError(f"feed message: {exc}") from None
    if msg.schema_version != SCHEMA_VERSION:
        raise FeedError(f"schema_version: {msg.schema_version} (this node reads "
                        f"{SCHEMA_VERSION})")
    if not _NATION.match(msg.nation):
        raise FeedError(f"nation: {msg.nation!r} (expected three capital letters)")
    if not _NAME.match(msg.sensor_id):
        raise FeedError(f"sensor_id: {msg.sensor_id!r} (expected 1-64 of A-Z a-z 0-9 _ -)")
    if subject is not None and subject != sensor_subject(msg.nation, msg.sensor_id):
        raise FeedError(f"subject {subject!r} does not match nation {msg.nation} and "
                        f"sensor_id {msg.sensor_id}")
    site = (msg.site_lat_rad, msg.site_lon_rad, msg.site_h_m)
    if not all(math.isfinite(v) for v in site) or abs(msg.site_lat_rad) > math.pi / 2 \
            or abs(msg.site_lon_rad) > 2 * math.pi or abs(msg.site_h_m) > 1e5:
        raise FeedError("site_lat_rad/site_lon_rad/site_h_m: expected a finite site on "
                        "Earth (|lat| <= pi/2, |lon| <= 2 pi, |h| <= 100 km)")
    width = len(msg.sigma)
    if width not in (3, 4):
        raise FeedError(f"sigma: {width} values (expected 3 or 4: range, az, el[, rate])")
    if not all(math.isfinite(s) and s > 0 for s in msg.sigma):
        raise FeedError("sigma: expected finite positive standard deviations")
    if len(msg.z) > MAX_DETECTIONS:
        raise FeedError(f"z: {len(msg.z)} detections (at most {MAX_DETECTIONS})")
    for i, row in enumerate(msg.z):
        if len(row) != width or not all(math.isfinite(v) for v in row):
            raise FeedError(f"z[{i}]: expected {width} finite numbers like sigma")
        if row[0] <= 0:
            raise FeedError(f"z[{i}]: range_m must be positive")
    if msg.truth_ids and len(msg.truth_ids) != len(msg.z):
        raise FeedError(f"truth_ids: {len(msg.truth_ids)} ids for {len(msg.z)} detections")
    return msg


def to_radar_scan(msg: SensorScanMsg, epoch: dt.datetime) -> RadarScan:
    """The tracker's scan of a checked message, on a clock that counts from ``epoch``."""
    t_s = (msg.t_unix_ns - _ns(epoch, 0.0)) / 1e9
    width = len(msg.sigma)
    z = np.asarray(msg.z, dtype=np.float64).reshape(len(msg.z), width)
    ids: tuple[str | None, ...] = (tuple(msg.truth_ids) if msg.truth_ids
                                   else (None,) * len(msg.z))
    site = geodetic_to_ecef(msg.site_lat_rad, msg.site_lon_rad, msg.site_h_m)
    return RadarScan(msg.sensor_id, msg.nation, t_s, msg.site_lat_rad, msg.site_lon_rad,
                     msg.site_h_m, np.asarray(site, dtype=np.float64), z,
                     np.asarray(msg.sigma, dtype=np.float64), ids)


class ScanBuffer:
    """Scans a feed could not hand to its server (an outage), oldest first, at most
    ``limit`` of them: when full, the oldest is dropped and counted (``dropped``). Pure:
    :class:`trilink.live.client.SensorFeed` decides when to fill and empty it."""

    def __init__(self, limit: int = 10_000) -> None:
        if limit < 1:
            raise FeedError(f"feed buffer: expected at least 1 scan, got {limit}")
        self.limit = limit
        self._items: collections.deque[tuple[str, bytes]] = collections.deque()
        self.held = 0  # scans ever put here
        self.dropped = 0  # of those, dropped unsent because the buffer was full

    def __len__(self) -> int:
        return len(self._items)

    def push(self, subject: str, data: bytes) -> bool:
        """Keep one scan; ``True`` if the oldest had to go to make room."""
        self.held += 1
        full = len(self._items) >= self.limit
        if full:
            self._items.popleft()
            self.dropped += 1
        self._items.append((subject, data))
        return full

    def peek(self) -> tuple[str, bytes]:
        return self._items[0]

    def pop(self) -> tuple[str, bytes]:
        return self._items.popleft()


__all__ = ["MAX_DETECTIONS", "SCHEMA_VERSION", "FeedError", "ScanBuffer", "SensorScanMsg",
           "decode_scan",
           "encode_scan", "from_radar_scan", "nation_sensors_subject", "sensor_subject",
           "to_radar_scan"]
