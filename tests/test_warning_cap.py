"""CAP 1.2 messages: schema validity, references, polygons, times, files, determinism."""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

# Required, not optional: a broken lxml must fail these tests, never skip them.
from lxml import etree as lxml_etree
from pyproj import Geod
from shapely import LineString, Point, Polygon

from trilink.warning.cap import (
    CapArea,
    CapMessage,
    corridor_polygon,
    ellipse_polygon,
    file_name,
    format_time,
    to_xml,
    validate,
    write,
)

GEOD = Geod(ellps="WGS84")
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
SENDER = "trilink@exercise.example"
T0 = datetime(2022, 10, 3, 22, 27, 0, tzinfo=UTC)  # 2022-10-04 07:27 JST Hwasong-12
CAP_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")

# Ground track, roughly Pyongyang area -> over Aomori -> Pacific impact (~4,600 km).
TRACK_LAT = [39.0, 39.8, 40.4, 40.8, 41.0, 41.0, 40.8, 40.5]
TRACK_LON = [125.7, 131.0, 136.5, 141.0, 146.5, 152.0, 157.5, 163.0]


def _areas() -> list[CapArea]:
    return [
        CapArea("Predicted impact area (95 %)", ellipse_polygon(40.5, 163.0, 60e3, 25e3, 80.0)),
        CapArea("Overflight corridor", corridor_polygon(TRACK_LAT, TRACK_LON, 50e3)),
    ]


def _alert() -> CapMessage:
    return CapMessage(
        identifier="trilink.JPN.20221003T222700.0001",
        sender=SENDER,
        sent=T0,
        msg_type="Alert",
        event="Ballistic missile launch",
        urgency="Immediate",
        severity="Extreme",
        certainty="Likely",
        category="Safety",
        headline="Missile launched; may overfly Aomori. Take shelter.",
        description="A ballistic missile was launched at 22:22 UTC.",
        instruction="Move into a sturdy building or underground.",
        effective=T0,
        expires=T0 + timedelta(minutes=30),
        sender_name="trilink exercise, JPN node",
        areas=_areas(),
        parameters=[("trilink:p_overflight", "0.93"), ("trilink:scenario", "hwasong-12")],
    )


def _update(alert: CapMessage) -> CapMessage:
    return CapMessage(
        identifier="trilink.JPN.20221003T222900.0002",
        sender=SENDER,
        sent=T0 + timedelta(minutes=2),
        msg_type="Update",
        references=[alert.reference],
        event="Ballistic missile launch",
        urgency="Immediate",
        severity="Severe",
        certainty="Observed",
        headline="Missile passed over Aomori; impact expected in the Pacific.",
        expires=T0 + timedelta(minutes=30),
        areas=_areas(),
    )


def _cancel(alert: CapMessage, update: CapMessage) -> CapMessage:
    return CapMessage(
        identifier="trilink.JPN.20221003T223500.0003",
        sender=SENDER,
        sent=T0 + timedelta(minutes=8),
        msg_type="Cancel",
        references=[alert.reference, update.reference],
        event="Ballistic missile launch",
        urgency="Past",
        severity="Minor",
        certainty="Observed",
        headline="Missile fell in the Pacific outside the EEZ. Warning cancelled.",
    )


@pytest.fixture(scope="module")
def messages() -> list[CapMessage]:
    a = _alert()
    u = _update(a)
    return [a, u, _cancel(a, u)]


def _doc(msg: CapMessage) -> object:
    return lxml_etree.fromstring(to_xml(msg))


def _text(doc: object, path: str) -> list[str]:
    return [str(t) for t in doc.xpath(path + "/text()", namespaces=NS)]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- schema


def test_shipped_schema_is_the_official_file_with_its_notice() -> None:
    folder = resources.files("trilink.data").joinpath("cap")
    xsd = folder.joinpath("CAP-v1.2.xsd").read_bytes()
    assert hashlib.sha256(xsd).hexdigest() == (
        "b7798ef25868b068c97b268bda02d067c7d4ba9373adc5638bf37105804ee723"
    )
    notice = folder.joinpath("LICENSE-OASIS-CAP.txt").read_text(encoding="utf-8")
    assert "Copyright (c) OASIS Open 2010" in notice


def test_alert_update_cancel_validate(messages: list[CapMessage]) -> None:
    for msg in messages:
        assert validate(to_xml(msg)) == [], msg.msg_type
    assert [_text(_doc(m), "cap:msgType") for m in messages] == [
        ["Alert"],
        ["Update"],
        ["Cancel"],
    ]
    for m in messages:
        assert _text(_doc(m), "cap:status") == ["Exercise"]
        assert _text(_doc(m), "cap:scope") == ["Public"]


def test_references_name_earlier_messages(messages: list[CapMessage]) -> None:
    alert, update, cancel = messages
    assert _text(_doc(alert), "cap:references") == []
    ref_a = f"{SENDER},{alert.identifier},2022-10-03T22:27:00+00:00"
    ref_u = f"{SENDER},{update.identifier},2022-10-03T22:29:00+00:00"
    assert _text(_doc(update), "cap:references") == [ref_a]
    assert _text(_doc(cancel), "cap:references") == [f"{ref_a} {ref_u}"]


def test_update_and_cancel_need_references() -> None:
    with pytest.raises(ValueError, match="reference"):
        CapMessage("x.1", SENDER, T0, "Update", "e", "Immediate", "Severe", "Likely")
    with pytest.raises(ValueError, match="reference"):
        CapMessage("x.1", SENDER, T0, "Cancel", "e", "Past", "Minor", "Observed")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"identifier": "has space"}, "identifier"),
        ({"identifier": "a,b"}, "identifier"),
        ({"sender": "a<b"}, "sender"),
        ({"sent": datetime(2022, 10, 3, 22, 27)}, "timezone-aware"),
        ({"status": "Real"}, "status"),
        ({"urgency": "Now"}, "urgency"),
    ],
)
def test_message_rejects_bad_fields(kwargs: dict[str, object], match: str) -> None:
    base: dict[str, object] = {
        "identifier": "x.1",
        "sender": SENDER,
        "sent": T0,
        "msg_type": "Alert",
        "event": "e",
        "urgency": "Immediate",
        "severity": "Extreme",
        "certainty": "Likely",
    }
    with pytest.raises(ValueError, match=match):
        CapMessage(**(base | kwargs))  # type: ignore[arg-type]


def test_z_time_fails_validation_readably(messages: list[CapMessage]) -> None:
    broken = to_xml(messages[0]).replace(b"22:27:00+00:00</sent>", b"22:27:00Z</sent>")
    errors = validate(broken)
    assert len(errors) == 1
    assert errors[0].startswith("line 5: ")
    assert "sent" in errors[0] and "2022-10-03T22:27:00Z" in errors[0]


def test_missing_required_element_fails_validation(messages: list[CapMessage]) -> None:
    doc = _doc(messages[0])
    msg_type = doc.find("cap:msgType", NS)  # type: ignore[attr-defined]
    doc.remove(msg_type)  # type: ignore[attr-defined]
    errors = validate(lxml_etree.tostring(doc))
    assert errors and "scope" in errors[0] and "msgType" in errors[0]


def test_not_xml_fails_validation() -> None:
    errors = validate(b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'>")
    assert errors and errors[0].startswith("not well-formed XML")


def test_write_refuses_schema_invalid_message(tmp_path: Path) -> None:
    bad = CapMessage(
        "x.1", SENDER, T0, "Alert", "e", "Immediate", "Extreme", "Likely", language="en US"
    )
    with pytest.raises(ValueError, match="language"):
        write(bad, tmp_path)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- times


def test_times_have_numeric_offsets(messages: list[CapMessage]) -> None:
    for msg in messages:
        doc = _doc(msg)
        times = [
            *_text(doc, "cap:sent"),
            *_text(doc, "cap:info/cap:effective"),
            *_text(doc, "cap:info/cap:expires"),
        ]
        refs = " ".join(_text(doc, "cap:references")).split()
        times += [r.split(",")[2] for r in refs]
        assert times
        for t in times:
            assert CAP_TIME.match(t), t
        assert b"Z<" not in to_xml(msg)


def test_format_time_keeps_local_offset_and_drops_fractions() -> None:
    jst = timezone(timedelta(hours=9))
    assert format_time(datetime(2022, 10, 4, 7, 27, 0, 999_999, tzinfo=jst)) == (
        "2022-10-04T07:27:00+09:00"
    )
    assert format_time(datetime(2022, 10, 3, 18, 0, tzinfo=timezone(-timedelta(hours=10)))) == (
        "2022-10-03T18:00:00-10:00"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2022, 10, 3))


# --------------------------------------------------------------------------- polygons


def _assert_cap_ring(poly: list[tuple[float, float]]) -> None:
    assert len(poly) >= 4
    assert poly[0] == poly[-1]
    assert all(-90 <= lat <= 90 and -180 <= lon <= 180 for lat, lon in poly)


def test_polygons_in_xml_are_closed_lat_lon_pairs(messages: list[CapMessage]) -> None:
    polys = _text(_doc(messages[0]), "cap:info/cap:area/cap:polygon")
    assert len(polys) == 2
    for text in polys:
        pairs = [tuple(float(v) for v in p.split(",")) for p in text.split(" ")]
        assert all(len(p) == 2 for p in pairs)
        _assert_cap_ring(pairs)  # type: ignore[arg-type]


def test_area_rejects_open_or_short_rings() -> None:
    with pytest.raises(ValueError, match="closed"):
        CapArea("x", [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0)])
    with pytest.raises(ValueError, match=">= 4"):
        CapArea("x", [(0.0, 0.0), (0.0, 1.0), (0.0, 0.0)])


@pytest.mark.parametrize(
    ("lat", "lon", "a", "b", "az"),
    [(40.5, 163.0, 60e3, 25e3, 80.0), (-33.0, 179.8, 150e3, 40e3, 135.0), (70.0, 0.0, 8e3, 8e3, 0)],
)
def test_ellipse_vertices_at_right_distances(
    lat: float, lon: float, a: float, b: float, az: float
) -> None:
    poly = ellipse_polygon(lat, lon, a, b, az, n=72)
    _assert_cap_ring(poly)
    assert len(poly) == 73
    for vlat, vlon in poly[:-1]:
        fwd_az, _, dist = GEOD.inv(lon, lat, vlon, vlat)
        theta = math.radians(fwd_az - az)
        expected = a * b / math.hypot(b * math.cos(theta), a * math.sin(theta))
        assert dist == pytest.approx(expected, rel=0.01)
    dists = [GEOD.inv(lon, lat, vlon, vlat)[2] for vlat, vlon in poly[:-1]]
    assert max(dists) == pytest.approx(a, rel=0.01)
    assert min(dists) == pytest.approx(b, rel=0.01)


def test_ellipse_is_a_valid_counter_clockwise_polygon() -> None:
    poly = ellipse_polygon(40.5, 163.0, 60e3, 25e3, 80.0)
    shape = Polygon([(lon, lat) for lat, lon in poly])
    assert shape.is_valid and shape.exterior.is_ccw
    assert shape.contains(Point(163.0, 40.5))


def _unwrapped(poly: list[tuple[float, float]], ref_lon: float) -> Polygon:
    return Polygon([(ref_lon + ((lon - ref_lon + 180) % 360 - 180), lat) for lat, lon in poly])


def _dense_track(lats: list[float], lons: list[float]) -> list[tuple[float, float]]:
    """(lat, lon) every ~2 km along the geodesic segments of a track."""
    out = [(lats[0], lons[0])]
    for k in range(1, len(lats)):
        d = GEOD.inv(lons[k - 1], lats[k - 1], lons[k], lats[k])[2]
        pts = GEOD.npts(lons[k - 1], lats[k - 1], lons[k], lats[k], max(1, int(d / 2e3)))
        out += [(la, lo) for lo, la in pts] + [(lats[k], lons[k])]
    return out


def _distance_to_track(lat: float, lon: float, dense: list[tuple[float, float]]) -> float:
    n = len(dense)
    _, _, d = GEOD.inv([lon] * n, [lat] * n, [p[1] for p in dense], [p[0] for p in dense])
    return float(min(d))


def test_corridor_across_dateline_is_valid_and_wraps() -> None:
    lats = [30.0, 31.0, 32.0, 33.0]
    lons = [177.0, 178.8, -179.4, -177.5]
    half = 40e3
    poly = corridor_polygon(lats, lons, half)
    _assert_cap_ring(poly)
    assert any(lon > 178 for _, lon in poly) and any(lon < -178 for _, lon in poly)
    shape = _unwrapped(poly, 180.0)
    assert shape.is_valid and shape.exterior.is_ccw
    assert shape.bounds[2] - shape.bounds[0] < 10  # one piece, not a band around the globe
    track = LineString([(180.0 + ((lo - 180.0 + 180) % 360 - 180), la) for la, lo in
                        zip(lats, lons, strict=True)])  # fmt: skip
    assert shape.contains(track)
    dense = _dense_track(lats, lons)
    for lat, lon in poly[:-1]:
        assert _distance_to_track(lat, lon, dense) == pytest.approx(half, rel=0.01)


def test_long_corridor_keeps_its_width() -> None:
    half = 50e3
    poly = corridor_polygon(TRACK_LAT, TRACK_LON, half)
    _assert_cap_ring(poly)
    shape = Polygon([(lon, lat) for lat, lon in poly])
    assert shape.is_valid
    dense = _dense_track(TRACK_LAT, TRACK_LON)
    for lat, lon in poly[:-1]:
        assert _distance_to_track(lat, lon, dense) == pytest.approx(half, rel=0.01)


def test_corridor_of_a_point_is_a_circle() -> None:
    poly = corridor_polygon([35.0], [135.0], 10e3)
    _assert_cap_ring(poly)
    for lat, lon in poly[:-1]:
        assert GEOD.inv(135.0, 35.0, lon, lat)[2] == pytest.approx(10e3, rel=0.01)


# --------------------------------------------------------------------------- files


def test_one_file_per_message(messages: list[CapMessage], tmp_path: Path) -> None:
    paths = [write(m, tmp_path / "cap") for m in messages]
    assert len(set(paths)) == 3
    assert sorted(p.name for p in (tmp_path / "cap").iterdir()) == sorted(p.name for p in paths)
    assert paths[0].name == "20221003T222700Z_trilink.JPN.20221003T222700.0001.xml"
    for p, m in zip(paths, messages, strict=True):
        assert re.fullmatch(r"[A-Za-z0-9._-]+\.xml", p.name)
        assert p.read_bytes() == to_xml(m)
        assert validate(p.read_bytes()) == []
    # rewriting replaces the same file with the same bytes, no temporaries left behind
    again = write(messages[0], tmp_path / "cap")
    assert again == paths[0]
    assert len(list((tmp_path / "cap").iterdir())) == 3


def test_file_names_are_safe_and_distinct() -> None:
    def msg(ident: str) -> CapMessage:
        return CapMessage(ident, SENDER, T0, "Alert", "e", "Immediate", "Extreme", "Likely")

    a, b = file_name(msg("a/b:c")), file_name(msg("a:b/c"))
    assert a != b
    for name in (a, b):
        assert re.fullmatch(r"20221003T222700Z_a_b_c-[0-9a-f]{8}\.xml", name)


# --------------------------------------------------------------------------- determinism


def test_same_input_same_bytes() -> None:
    a1, a2 = _alert(), _alert()
    assert a1 is not a2
    assert to_xml(a1) == to_xml(a2)
    u1, u2 = _update(a1), _update(a2)
    assert to_xml(_cancel(a1, u1)) == to_xml(_cancel(a2, u2))


def test_corridor_projections_are_the_ones_pyproj_chooses() -> None:
    # The pipelines built without PROJ's database (a CAP round's hot path) must be the
    # operations from_crs picks, to the last bit, anywhere a corridor may be centred.
    from pyproj import Transformer

    from trilink.warning.cap import _aeqd_transformers

    rng = np.random.default_rng(8)
    for lat0, lon0 in [(40.8881, 140.3381), (-0.5, 179.99), (66.6, -45.0),
                       *zip(rng.uniform(-80, 80, 20).tolist(), rng.uniform(-180, 180, 20).tolist(),
                            strict=True)]:
        crs = f"+proj=aeqd +lat_0={lat0!r} +lon_0={lon0!r} +datum=WGS84 +units=m"
        want_fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        want_inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        fwd, inv = _aeqd_transformers(float(lat0), float(lon0))
        assert (fwd.definition, inv.definition) == (want_fwd.definition, want_inv.definition)
        lon = lon0 + rng.uniform(-4.0, 4.0, 50)
        lat = np.clip(lat0 + rng.uniform(-4.0, 4.0, 50), -89.0, 89.0)
        x, y = fwd.transform(lon, lat)
        assert np.array_equal(x, want_fwd.transform(lon, lat)[0])
        assert np.array_equal(inv.transform(x, y)[1], want_inv.transform(x, y)[1])
