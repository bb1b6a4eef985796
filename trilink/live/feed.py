"""The live sensor feed: versioned wire schemas for radar scans and infrared frames.

Subjects: ``trilink.sensor.<NATION>.<SENSOR_ID>``; a node subscribes to
``trilink.sensor.<its nation>.*`` only — partners' data reach it only as shared tracks.

Schemas (msgpack maps; ``schema_version`` says which):

- **1, radar** (:class:`SensorScanMsg`, :data:`SCHEMA_VERSION`): one scan of one radar —
  measurement time in UTC nanoseconds, the site (geodetic, radians and metres), the
  detections ``z`` (rows of range_m, az_rad, el_rad[, range_rate_m_s], site ENU frame)
  and their standard deviations. Unchanged since the first feed: old publishers stay valid.
- **2, kind ``infrared``** (:class:`InfraredFrameMsg`, :data:`IR_SCHEMA_VERSION`): one
  frame of one space-based infrared sensor — time, the satellite's ECEF position
  (``sat_ecef_m``), its focal-plane frame (``frame_ecef``: rows east, north, nadir,
  orthonormal), the lines of sight ``z`` (rows of two tangent-plane angles, rad) and
  their two standard deviations (``docs/sensors.md``). A reader of version 1 only refuses
  it by its ``schema_version``, as it should.

``truth_ids`` is for replays only (evaluation; trackers never read it): real sensors
leave it empty.

:func:`decode_scan` checks every field (finite numbers, shapes, sizes, names against the
subject) before anything reaches a tracker, and :func:`to_scan` turns a checked message
into the tracker's :class:`~trilink.sensors.radar.RadarScan` or
:class:`~trilink.sensors.infrared.IrScan` on the node's clock (:func:`to_radar_scan`:
radar only, an infrared frame is a :class:`FeedError`).

**Where a real sensor plugs in:** :func:`from_scan` is the one place: a real sensor's
adapter builds a :class:`SensorScanMsg` or :class:`InfraredFrameMsg` (or a ``RadarScan``
or ``IrScan`` and calls :func:`from_scan`) and publishes :func:`encode_scan`'s bytes on
:func:`sensor_subject`. See ``docs/live.md``.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import re
from typing import Final, Literal

import msgspec
import numpy as np

from trilink.errors import TrilinkError

# The subject layout has one home, beside the permissions made from it.
from trilink.live.natsconf import SENSOR_PREFIX as SENSOR_PREFIX
from trilink.live.natsconf import nation_sensors_subject as nation_sensors_subject
from trilink.live.natsconf import sensor_subject as sensor_subject
from trilink.physics.earth import WGS84_A_M, geodetic_to_ecef
from trilink.sensors.infrared import IrScan
from trilink.sensors.radar import RadarScan

SCHEMA_VERSION: Final = 1  # radar scans
IR_SCHEMA_VERSION: Final = 2  # infrared frames (kind "infrared")
MIN_SAT_RADIUS_M: Final = WGS84_A_M + 100e3  # a satellite is above the atmosphere
MAX_SAT_RADIUS_M: Final = 1e8  # and inside the Moon's orbit (GEO: 4.2e7 m)
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


class InfraredFrameMsg(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One frame of one space-based infrared sensor on the wire (module docstring)."""

    schema_version: int
    kind: Literal["infrared"]
    nation: str
    sensor_id: str
    t_unix_ns: int
    sat_ecef_m: list[float]
    frame_ecef: list[list[float]]
    z: list[list[float]]
    sigma: list[float]
    truth_ids: list[str | None] = []


FeedMsg = SensorScanMsg | InfraredFrameMsg


class _Head(msgspec.Struct):
    """What says which schema a message follows (other fields are skipped here)."""

    schema_version: int
    kind: str = "radar"


_ENC = msgspec.msgpack.Encoder()
_DEC = msgspec.msgpack.Decoder(SensorScanMsg)
_DEC_IR = msgspec.msgpack.Decoder(InfraredFrameMsg)
_DEC_HEAD = msgspec.msgpack.Decoder(_Head)


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


def from_ir_scan(scan: IrScan, epoch: dt.datetime, *, with_truth: bool = True
                 ) -> InfraredFrameMsg:
    """The wire form of an infrared frame whose ``t_s`` counts from ``epoch`` (UTC)."""
    return InfraredFrameMsg(
        IR_SCHEMA_VERSION, "infrared", scan.nation, scan.sensor_id, _ns(epoch, scan.t_s),
        [float(v) for v in np.asarray(scan.sat_ecef_m)],
        [[float(v) for v in row] for row in np.asarray(scan.frame_ecef)],
        [[float(v) for v in row] for row in np.asarray(scan.z).reshape(-1, 2)],
        [float(v) for v in np.asarray(scan.sigma)],
        list(scan.truth_ids) if with_truth else [])


def from_scan(scan: RadarScan | IrScan, epoch: dt.datetime, *, with_truth: bool = True
              ) -> FeedMsg:
    """The wire form of a radar scan or an infrared frame (see :func:`from_radar_scan`,
    :func:`from_ir_scan`)."""
    if isinstance(scan, IrScan):
        return from_ir_scan(scan, epoch, with_truth=with_truth)
    return from_radar_scan(scan, epoch, with_truth=with_truth)


def encode_scan(msg: FeedMsg) -> bytes:
    return _ENC.encode(msg)


def decode_scan(data: bytes, subject: str | None = None) -> FeedMsg:
    """A checked :class:`SensorScanMsg` or :class:`InfraredFrameMsg` (by its
    ``schema_version``), or :class:`FeedError` naming the field."""
    if len(data) > MAX_BYTES:
        raise FeedError(f"feed message: {len(data)} bytes (at most {MAX_BYTES})")
    try:
        head = _DEC_HEAD.decode(data)
        if head.schema_version not in (SCHEMA_VERSION, IR_SCHEMA_VERSION):
            raise FeedError(f"schema_version: {head.schema_version} (this node reads "
                            f"{SCHEMA_VERSION} for radar and {IR_SCHEMA_VERSION} for "
                            f"infrared)")
        if head.schema_version == IR_SCHEMA_VERSION:
            if head.kind != "infrared":
                raise FeedError(f"kind: {head.kind!r} (schema_version "
                                f"{IR_SCHEMA_VERSION} is kind 'infrared')")
            return _check_ir(_DEC_IR.decode(data), subject)
        msg = _DEC.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise FeedError(f"feed message: {exc}") from None
    _check_names(msg, subject)
    return _check_radar(msg)


def _check_names(msg: FeedMsg, subject: str | None) -> None:
    if not _NATION.match(msg.nation):
        raise FeedError(f"nation: {msg.nation!r} (expected three capital letters)")
    if not _NAME.match(msg.sensor_id):
        raise FeedError(f"sensor_id: {msg.sensor_id!r} (expected 1-64 of A-Z a-z 0-9 _ -)")
    if subject is not None and subject != sensor_subject(msg.nation, msg.sensor_id):
        raise FeedError(f"subject {subject!r} does not match nation {msg.nation} and "
                        f"sensor_id {msg.sensor_id}")
    if len(msg.z) > MAX_DETECTIONS:
        raise FeedError(f"z: {len(msg.z)} detections (at most {MAX_DETECTIONS})")


def _check_ids(msg: FeedMsg) -> None:
    if msg.truth_ids and len(msg.truth_ids) != len(msg.z):
        raise FeedError(f"truth_ids: {len(msg.truth_ids)} ids for {len(msg.z)} detections")


def _check_radar(msg: SensorScanMsg) -> SensorScanMsg:
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
    for i, row in enumerate(msg.z):
        if len(row) != width or not all(math.isfinite(v) for v in row):
            raise FeedError(f"z[{i}]: expected {width} finite numbers like sigma")
        if row[0] <= 0:
            raise FeedError(f"z[{i}]: range_m must be positive")
    _check_ids(msg)
    return msg


def _check_ir(msg: InfraredFrameMsg, subject: str | None) -> InfraredFrameMsg:
    _check_names(msg, subject)
    sat = msg.sat_ecef_m
    if len(sat) != 3 or not all(math.isfinite(v) for v in sat) \
            or not MIN_SAT_RADIUS_M <= math.hypot(*sat) <= MAX_SAT_RADIUS_M:
        raise FeedError(f"sat_ecef_m: expected 3 finite numbers, a satellite "
                        f"{MIN_SAT_RADIUS_M:.3g}-{MAX_SAT_RADIUS_M:.3g} m from the "
                        f"Earth's centre")
    frame = msg.frame_ecef
    if len(frame) != 3 or any(len(r) != 3 or not all(math.isfinite(v) for v in r)
                              for r in frame):
        raise FeedError("frame_ecef: expected 3 rows of 3 finite numbers")
    f = np.asarray(frame, dtype=np.float64)
    if not np.allclose(f @ f.T, np.eye(3), rtol=0.0, atol=1e-9):
        raise FeedError("frame_ecef: rows (east, north, nadir) must be orthonormal")
    if len(msg.sigma) != 2 or not all(math.isfinite(s) and s > 0 for s in msg.sigma):
        raise FeedError("sigma: expected 2 finite positive standard deviations (rad)")
    for i, row in enumerate(msg.z):
        if len(row) != 2 or not all(math.isfinite(v) and abs(v) < math.pi / 2
                                    for v in row):
            raise FeedError(f"z[{i}]: expected 2 finite angles in (-pi/2, pi/2) rad")
    _check_ids(msg)
    return msg


def _t_s(msg: FeedMsg, epoch: dt.datetime) -> float:
    return (msg.t_unix_ns - _ns(epoch, 0.0)) / 1e9


def _ids(msg: FeedMsg) -> tuple[str | None, ...]:
    return tuple(msg.truth_ids) if msg.truth_ids else (None,) * len(msg.z)


def to_scan(msg: FeedMsg, epoch: dt.datetime) -> RadarScan | IrScan:
    """The tracker's input of a checked message — a radar scan or an infrared frame —
    on a clock that counts from ``epoch``."""
    if isinstance(msg, InfraredFrameMsg):
        z = np.asarray(msg.z, dtype=np.float64).reshape(len(msg.z), 2)
        return IrScan(msg.sensor_id, msg.nation, _t_s(msg, epoch),
                      np.asarray(msg.sat_ecef_m, dtype=np.float64),
                      np.asarray(msg.frame_ecef, dtype=np.float64), z,
                      np.asarray(msg.sigma, dtype=np.float64), _ids(msg))
    width = len(msg.sigma)
    z = np.asarray(msg.z, dtype=np.float64).reshape(len(msg.z), width)
    site = geodetic_to_ecef(msg.site_lat_rad, msg.site_lon_rad, msg.site_h_m)
    return RadarScan(msg.sensor_id, msg.nation, _t_s(msg, epoch), msg.site_lat_rad,
                     msg.site_lon_rad, msg.site_h_m, np.asarray(site, dtype=np.float64), z,
                     np.asarray(msg.sigma, dtype=np.float64), _ids(msg))


def to_radar_scan(msg: FeedMsg, epoch: dt.datetime) -> RadarScan:
    """The tracker's radar scan of a checked message (:func:`to_scan` for radar only):
    an infrared frame is refused with :class:`FeedError`, as a radar-only reader must."""
    scan = to_scan(msg, epoch)
    if not isinstance(scan, RadarScan):
        raise FeedError(f"kind: an infrared frame (schema_version {IR_SCHEMA_VERSION}); "
                        f"this reader takes radar scans only (use to_scan)")
    return scan


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


__all__ = ["IR_SCHEMA_VERSION", "MAX_DETECTIONS", "SCHEMA_VERSION", "FeedError", "FeedMsg",
           "InfraredFrameMsg", "ScanBuffer", "SensorScanMsg", "decode_scan", "encode_scan",
           "from_ir_scan", "from_radar_scan", "from_scan", "nation_sensors_subject",
           "sensor_subject", "to_radar_scan", "to_scan"]
