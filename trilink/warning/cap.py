"""OASIS CAP 1.2 messages for trilink warnings: build, serialise, validate, write.

Every warning, update and cancellation is one CAP 1.2 ``<alert>`` (``msgType`` Alert,
Update or Cancel; updates and cancellations name earlier messages in ``references``) with
area polygons for the predicted impact ellipse and the overflight corridor. The XML is
checked against the official OASIS schema shipped in ``trilink/data/cap/CAP-v1.2.xsd``
(see ``LICENSE-OASIS-CAP.txt`` beside it).

CAP rules enforced here (CAP 1.2 §3.3.2 and the schema):

* times are ``YYYY-MM-DDThh:mm:ss`` with a numeric offset (``+00:00``, never ``Z``),
  whole seconds only;
* polygons are ``lat,lon`` pairs (WGS84 degrees) separated by spaces, a closed ring with
  the first pair repeated last and at least four pairs;
* ``references`` is ``sender,identifier,sent`` triples separated by spaces;
* ``identifier`` and ``sender`` contain no spaces, commas, ``<`` or ``&``.

Geometry: :func:`ellipse_polygon` places vertices with WGS84 geodesics
(:class:`pyproj.Geod`); :func:`corridor_polygon` buffers a ground track in short chunks,
each in its own azimuthal-equidistant projection, and unions the pieces in continuous
longitude before wrapping the output to [-180, 180].
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import CRS, Geod, Transformer
from shapely import LineString, MultiPolygon, Polygon, unary_union
from shapely.geometry.polygon import orient

from trilink.fileio import write_bytes_atomic

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
"""XML namespace of CAP 1.2."""

STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES = ("Public", "Restricted", "Private")
CATEGORIES = (
    "Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport",
    "Infra", "CBRNE", "Other",
)  # fmt: skip
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")

# lxml ships no type annotations (and the project pins no stubs package): bind it as Any.
etree: Any = importlib.import_module("lxml.etree")

_GEOD = Geod(ellps="WGS84")
_FORBIDDEN_ID = re.compile(r"[\s,<&]")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
_COORD_DECIMALS = 6  # ~0.1 m; what the XML carries
_CHUNK_M = 400_000.0  # corridor chunk length: AEQD distortion (r/R)^2/6 < 0.07 % at 200 km


# --------------------------------------------------------------------------- geometry


def _wrap_lon(lon: float) -> float:
    """Longitude wrapped to [-180, 180); +0.0 instead of -0.0."""
    w = (lon + 180.0) % 360.0 - 180.0
    return w + 0.0


def _closed_ring(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Round to the XML precision, wrap longitudes, repeat the first point last."""
    ring = [
        (round(lat, _COORD_DECIMALS) + 0.0, round(_wrap_lon(lon), _COORD_DECIMALS) + 0.0)
        for lat, lon in points
    ]
    ring = [p for i, p in enumerate(ring) if i == 0 or p != ring[i - 1]]
    if len(ring) > 1 and ring[-1] == ring[0]:
        ring.pop()
    ring.append(ring[0])
    return ring


def ellipse_polygon(
    lat_deg: float,
    lon_deg: float,
    semi_major_m: float,
    semi_minor_m: float,
    azimuth_deg: float,
    n: int = 36,
) -> list[tuple[float, float]]:
    """Closed ``(lat, lon)`` ring of ``n`` vertices approximating an ellipse on WGS84.

    The major axis points along ``azimuth_deg`` (clockwise from north). Vertex ``k`` sits
    at parametric angle ``t = -2πk/n``: ellipse-frame offsets ``x = a·cos t`` (along the
    major axis) and ``y = b·sin t`` (90° clockwise of it) become a geodesic of length
    ``hypot(x, y)`` at bearing ``azimuth + atan2(y, x)`` from the centre, solved with
    :meth:`pyproj.Geod.fwd` — exact WGS84 geodesics, no flat-earth approximation.
    Returns ``n + 1`` points (first repeated last), counter-clockwise on the map like
    :func:`corridor_polygon`; longitudes wrapped to [-180, 180).
    """
    if n < 3:
        raise ValueError(f"n must be >= 3 (got {n})")
    if not (semi_major_m > 0 and semi_minor_m > 0):
        raise ValueError("semi-axes must be positive")
    if semi_minor_m > semi_major_m:
        raise ValueError("semi_minor_m must not exceed semi_major_m")
    if not -90.0 <= lat_deg <= 90.0:
        raise ValueError(f"latitude {lat_deg} out of [-90, 90]")
    t = -2.0 * np.pi * np.arange(n) / n  # decreasing: counter-clockwise in (lon, lat)
    x = semi_major_m * np.cos(t)
    y = semi_minor_m * np.sin(t)
    dist = np.hypot(x, y)
    bearing = azimuth_deg + np.degrees(np.arctan2(y, x))
    lons, lats, _ = _GEOD.fwd(np.full(n, float(lon_deg)), np.full(n, float(lat_deg)), bearing, dist)
    return _closed_ring([(float(la), float(lo)) for la, lo in zip(lats, lons, strict=True)])


def _unwrap_deg(lons: list[float]) -> list[float]:
    """Longitudes made continuous (no jumps > 180°) starting from the first one."""
    out = [float(lons[0])]
    for lon in lons[1:]:
        out.append(out[-1] + ((float(lon) - out[-1] + 180.0) % 360.0 - 180.0))
    return out


def _chunks(lats: list[float], lons: list[float]) -> list[tuple[int, int]]:
    """Index ranges ``[i, j]`` (inclusive, overlapping by one point) of ≤ ~_CHUNK_M each."""
    out: list[tuple[int, int]] = []
    start, acc = 0, 0.0
    for k in range(1, len(lats)):
        _, _, d = _GEOD.inv(lons[k - 1], lats[k - 1], lons[k], lats[k])
        if acc > 0.0 and acc + d > _CHUNK_M:
            out.append((start, k - 1))
            start, acc = k - 1, 0.0
        acc += d
    out.append((start, len(lats) - 1))
    return out


def _aeqd_transformers(lat0_deg: float, lon0_deg: float) -> tuple[Transformer, Transformer]:
    """WGS84 degrees (lon, lat) to an azimuthal-equidistant projection centred on the
    point, and back: the very operations ``Transformer.from_crs("EPSG:4326", aeqd)``
    chooses, built as PROJ pipelines. Why: ``from_crs`` searches PROJ's database for the
    operation, about 9 ms a call, two calls per corridor chunk, which made a CAP round
    take a quarter of a second. The centre is written as PROJ writes it (its own
    formatting of the CRS), so the numbers are the same to the last bit."""
    crs = f"+proj=aeqd +lat_0={lat0_deg!r} +lon_0={lon0_deg!r} +datum=WGS84 +units=m"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "may lose information": not here
        written = dict(part.lstrip("+").split("=", 1)
                       for part in CRS(crs).to_proj4().split() if "=" in part)
    aeqd = (f"+proj=aeqd +lat_0={written['lat_0']} +lon_0={written['lon_0']} "
            "+x_0=0 +y_0=0 +ellps=WGS84")
    fwd = Transformer.from_pipeline(
        f"+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step {aeqd}")
    inv = Transformer.from_pipeline(
        f"+proj=pipeline +step +inv {aeqd} +step +proj=unitconvert +xy_in=rad +xy_out=deg")
    return fwd, inv


def corridor_polygon(
    track_lat_deg: list[float],
    track_lon_deg: list[float],
    half_width_m: float,
    quad_segs: int = 8,
) -> list[tuple[float, float]]:
    """Closed ``(lat, lon)`` ring bounding all points within ``half_width_m`` of a track.

    The ground track (a polyline of WGS84 degrees) is cut into chunks of at most ~400 km;
    each chunk is buffered with shapely (round caps and joins, ``quad_segs`` segments per
    quarter circle) in an azimuthal-equidistant projection centred on the chunk, where
    distances near the centre are true to < 0.1 %. The pieces are brought back to degrees
    with longitudes kept continuous across the dateline (the track is unwrapped first), and
    unioned; the outer boundary, counter-clockwise in (lon, lat), is returned with
    longitudes wrapped to [-180, 180). Track points closer than 0.2 % of the half-width to
    a straight line are dropped first (fewer vertices, width error <= 0.2 %). A track may be
    a single point (a circle).
    Long segments (> ~400 km between consecutive points) should be densified by the
    caller; chunking only splits at track points.
    """
    if len(track_lat_deg) != len(track_lon_deg) or not track_lat_deg:
        raise ValueError("track needs equal, non-zero numbers of latitudes and longitudes")
    if not half_width_m > 0:
        raise ValueError("half_width_m must be positive")
    lats = [float(v) for v in track_lat_deg]
    if any(not -90.0 <= v <= 90.0 for v in lats):
        raise ValueError("track latitude out of [-90, 90]")
    lons = _unwrap_deg([float(v) for v in track_lon_deg])
    pieces: list[Polygon] = []
    for i, j in _chunks(lats, lons):
        seg_lat, seg_lon = lats[i : j + 1], lons[i : j + 1]
        mid = len(seg_lat) // 2
        lat0, lon0 = seg_lat[mid], seg_lon[mid]
        fwd, inv = _aeqd_transformers(lat0, _wrap_lon(lon0))
        xs, ys = fwd.transform(seg_lon, seg_lat)
        pts = list(zip(np.atleast_1d(xs).tolist(), np.atleast_1d(ys).tolist(), strict=True))
        line: Any = LineString(pts) if len(pts) > 1 else LineString([pts[0], pts[0]])
        # drop track points within 0.2 % of the width of a straight line: fewer vertices
        line = line.simplify(0.002 * half_width_m, preserve_topology=False)
        buf = line.buffer(half_width_m, quad_segs=quad_segs)
        bx, by = (np.asarray(c) for c in buf.exterior.xy)
        plon, plat = inv.transform(bx, by)
        plon = np.asarray(plon, dtype=float)
        plon = lon0 + ((plon - lon0 + 180.0) % 360.0 - 180.0)  # continuous around the chunk
        pieces.append(Polygon(zip(plon.tolist(), np.asarray(plat).tolist(), strict=True)))
    shape = unary_union(pieces)
    if isinstance(shape, MultiPolygon):  # only if chunks fail to touch; keep the hull
        shape = shape.convex_hull
    ring = orient(shape, sign=1.0).exterior.coords
    return _closed_ring([(float(lat), float(lon)) for lon, lat in list(ring)[:-1]])


# --------------------------------------------------------------------------- messages


def format_time(t: datetime) -> str:
    """CAP time: ``2022-10-03T22:27:00+00:00`` (whole seconds, numeric offset, never Z)."""
    off = t.utcoffset()
    if off is None:
        raise ValueError(f"CAP times must be timezone-aware (got {t!r})")
    minutes, rest = divmod(off, timedelta(minutes=1))
    if rest:
        raise ValueError(f"UTC offset {off} is not a whole number of minutes")
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    return f"{t:%Y-%m-%dT%H:%M:%S}{sign}{hh:02d}:{mm:02d}"


def _check_token(name: str, value: str) -> None:
    if not value or _FORBIDDEN_ID.search(value):
        raise ValueError(f"CAP {name} must be non-empty without spaces, commas, '<' or '&'")


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"CAP {name} {value!r} not one of {', '.join(allowed)}")


@dataclass(frozen=True)
class CapArea:
    """One ``<area>``: a description and a closed ``(lat, lon)`` polygon in degrees."""

    description: str
    polygon_deg: list[tuple[float, float]]

    def __post_init__(self) -> None:
        if not self.description:
            raise ValueError("CAP areaDesc must not be empty")
        poly = self.polygon_deg
        if len(poly) < 4:
            raise ValueError(f"CAP polygon needs >= 4 points (got {len(poly)})")
        if tuple(poly[0]) != tuple(poly[-1]):
            raise ValueError("CAP polygon must be closed (first point repeated last)")
        for lat, lon in poly:
            if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
                raise ValueError(f"CAP polygon point ({lat}, {lon}) out of range")


Reference = tuple[str, str, datetime]
"""``(sender, identifier, sent)`` of an earlier message."""


@dataclass(frozen=True)
class CapMessage:
    """One CAP 1.2 ``<alert>`` with a single ``<info>`` block.

    Simulation runs use ``status="Exercise"``; ``Update`` and ``Cancel`` must list the
    earlier messages they refer to in ``references`` as ``(sender, identifier, sent)``.
    """

    identifier: str
    sender: str
    sent: datetime
    msg_type: str
    event: str
    urgency: str
    severity: str
    certainty: str
    status: str = "Exercise"
    scope: str = "Public"
    references: list[Reference] = field(default_factory=list)
    language: str = "en-US"
    category: str = "Safety"
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    effective: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    areas: list[CapArea] = field(default_factory=list)
    parameters: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_token("identifier", self.identifier)
        _check_token("sender", self.sender)
        _check_choice("status", self.status, STATUSES)
        _check_choice("msgType", self.msg_type, MSG_TYPES)
        _check_choice("scope", self.scope, SCOPES)
        _check_choice("category", self.category, CATEGORIES)
        _check_choice("urgency", self.urgency, URGENCIES)
        _check_choice("severity", self.severity, SEVERITIES)
        _check_choice("certainty", self.certainty, CERTAINTIES)
        for t in (self.sent, self.effective, self.expires):
            if t is not None:
                format_time(t)  # raises on naive times / odd offsets
        if self.msg_type in ("Update", "Cancel") and not self.references:
            raise ValueError(f"CAP {self.msg_type} must reference the message(s) it amends")
        for sender, ident, sent in self.references:
            _check_token("reference sender", sender)
            _check_token("reference identifier", ident)
            format_time(sent)
        if not self.event:
            raise ValueError("CAP event must not be empty")

    @property
    def reference(self) -> Reference:
        """This message as a reference for a later Update or Cancel."""
        return (self.sender, self.identifier, self.sent)


def _sub(parent: Any, tag: str, text: str | None = None) -> Any:
    el = etree.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        el.text = text
    return el


def _polygon_text(poly: list[tuple[float, float]]) -> str:
    return " ".join(f"{lat:.{_COORD_DECIMALS}f},{lon:.{_COORD_DECIMALS}f}" for lat, lon in poly)


def to_xml(msg: CapMessage) -> bytes:
    """The message as CAP 1.2 XML (UTF-8, declaration, indented); deterministic bytes."""
    root = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    _sub(root, "identifier", msg.identifier)
    _sub(root, "sender", msg.sender)
    _sub(root, "sent", format_time(msg.sent))
    _sub(root, "status", msg.status)
    _sub(root, "msgType", msg.msg_type)
    _sub(root, "scope", msg.scope)
    if msg.references:
        _sub(
            root,
            "references",
            " ".join(f"{s},{i},{format_time(t)}" for s, i, t in msg.references),
        )
    info = _sub(root, "info")
    _sub(info, "language", msg.language)
    _sub(info, "category", msg.category)
    _sub(info, "event", msg.event)
    _sub(info, "urgency", msg.urgency)
    _sub(info, "severity", msg.severity)
    _sub(info, "certainty", msg.certainty)
    if msg.effective is not None:
        _sub(info, "effective", format_time(msg.effective))
    if msg.expires is not None:
        _sub(info, "expires", format_time(msg.expires))
    for tag, text in (
        ("senderName", msg.sender_name),
        ("headline", msg.headline),
        ("description", msg.description),
        ("instruction", msg.instruction),
    ):
        if text is not None:
            _sub(info, tag, text)
    for name, value in msg.parameters:
        par = _sub(info, "parameter")
        _sub(par, "valueName", name)
        _sub(par, "value", value)
    for area in msg.areas:
        el = _sub(info, "area")
        _sub(el, "areaDesc", area.description)
        _sub(el, "polygon", _polygon_text(area.polygon_deg))
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return out


@cache
def _schema() -> Any:
    xsd = resources.files("trilink.data").joinpath("cap", "CAP-v1.2.xsd").read_bytes()
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.fromstring(xsd, parser))


def validate(xml: bytes) -> list[str]:
    """Problems of ``xml`` against the shipped CAP 1.2 XSD, ``line N: message``; [] if valid.

    Only the schema is checked (it treats polygons and references as free strings); the
    format rules are enforced when building :class:`CapMessage` / :class:`CapArea`.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        doc = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    schema = _schema()
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def file_name(msg: CapMessage) -> str:
    """``<sent in UTC, compact>_<identifier, safe characters>.xml``; unique per message.

    Characters outside ``A-Z a-z 0-9 . _ -`` become ``_``; when that changed the
    identifier, 8 hex digits of its SHA-256 are appended so distinct ids stay distinct.
    """
    stamp = msg.sent.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = _SAFE_NAME.sub("_", msg.identifier)[:120]
    if safe != msg.identifier:
        safe += "-" + hashlib.sha256(msg.identifier.encode()).hexdigest()[:8]
    return f"{stamp}_{safe}.xml"


def write(msg: CapMessage, folder: str | os.PathLike[str]) -> Path:
    """Write ``msg`` as one file in ``folder`` (created if needed); return its path.

    The XML is validated first (``ValueError`` listing the problems if it fails), then
    written to a temporary file in the same folder, fsynced and renamed into place, so a
    reader never sees a partial message. Rewriting the same message replaces the file
    with identical bytes.
    """
    data = to_xml(msg)
    problems = validate(data)
    if problems:
        raise ValueError("invalid CAP message:\n" + "\n".join(problems))
    return write_bytes_atomic(Path(folder) / file_name(msg), data)


__all__ = [
    "CAP_NS",
    "CapArea",
    "CapMessage",
    "Reference",
    "corridor_polygon",
    "ellipse_polygon",
    "file_name",
    "format_time",
    "to_xml",
    "validate",
    "write",
]
