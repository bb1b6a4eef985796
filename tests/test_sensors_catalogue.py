"""The sensor catalogue: data per site, every reference row represented, strict schema."""

from __future__ import annotations

import csv
import re
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from trilink.sensors import (
    InfraredSpec,
    Radar,
    RadarSpec,
    SpaceInfrared,
    build_sensor,
    parse_sensor,
    sensor_catalogue,
    sensors_of,
)


def reference_rows() -> list[dict[str, str]]:
    text = resources.files("trilink.data").joinpath("sensors_reference.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_every_reference_row_is_in_the_catalogue() -> None:
    rows = reference_rows()
    assert len(rows) == 14
    assert all(row["sources"].startswith("http") for row in rows)
    modelled = {spec.reference_site for spec in sensor_catalogue().values()}
    missing = [row["site_name"] for row in rows if row["site_name"] not in modelled]
    assert not missing, missing


def test_sites_match_the_reference_coordinates() -> None:
    """Where the reference gives numbers, the catalogue uses them (to 0.05°)."""
    number = re.compile(r"-?\d+(?:\.\d+)?")
    by_site: dict[str, list[RadarSpec]] = {}
    for spec in sensor_catalogue().values():
        if isinstance(spec, RadarSpec):
            by_site.setdefault(spec.reference_site, []).append(spec)
    checked = 0
    for row in reference_rows():
        lat, lon = number.search(row["lat"]), number.search(row["lon"])
        if lat is None or lon is None or row["site_name"] not in by_site:
            continue
        for spec in by_site[row["site_name"]]:
            assert spec.lat_deg == pytest.approx(float(lat.group()), abs=0.05), spec.id
            assert spec.lon_deg == pytest.approx(float(lon.group()), abs=0.05), spec.id
            checked += 1
    assert checked >= 9


def test_nations_and_kinds() -> None:
    cat = sensor_catalogue()
    assert {s.nation for s in cat.values()} == {"USA", "JPN", "KOR"}
    for nation in ("USA", "JPN", "KOR"):
        mine = sensors_of(nation)
        assert mine and all(s.nation == nation for s in mine)
        assert any(isinstance(s, RadarSpec) and s.kind == "ship_radar" for s in mine)
    assert sensors_of("PRK") == []
    assert {"JPN-FPS5-SHIMOKOSHIKI", "USA-TPY2-SHARIKI", "KOR-GREENPINE-C-BUSAN",
            "JPN-AEGIS-SOJ", "USA-SBIRS-GEO"} <= set(cat)
    assert all(spec.id.startswith(spec.nation + "-") for spec in cat.values())
    assert isinstance(build_sensor(cat["USA-SBIRS-GEO"]), SpaceInfrared)
    assert isinstance(build_sensor(cat["KOR-GREENPINE-C-BUSAN"]), Radar)
    assert isinstance(cat["USA-SBIRS-GEO"], InfraredSpec)


def _raw(**changes: Any) -> dict[str, Any]:
    raw = sensor_catalogue()["KOR-GREENPINE-C-BUSAN"].model_dump()
    raw.update(changes)
    return raw


def test_parse_sensor_round_trip_and_rejections() -> None:
    spec = sensor_catalogue()["KOR-GREENPINE-C-BUSAN"]
    assert parse_sensor(_raw()) == spec
    bad: list[dict[str, Any]] = [
        _raw(colour="red"),                         # extra field
        _raw(el_min_deg=50.0, el_max_deg=40.0),     # empty elevation window
        _raw(nation="XXX"),                         # unknown nation
        _raw(pfa=0.95),                             # pfa above pd_ref
        _raw(az_min_deg=10.0, az_max_deg=10.0),     # empty sector
        _raw(sources=[]),                           # sources are required
    ]
    for raw in bad:
        with pytest.raises(ValidationError):
            parse_sensor(raw)
    with pytest.raises(ValueError, match="unknown sensor kind"):
        parse_sensor(_raw(kind="sonar"))
    with pytest.raises(ValidationError):
        RadarSpec.model_validate(_raw(ref_range_km=-1.0))


def test_range_table_lists_every_radar() -> None:
    from trilink.sensors.report import pd_range_km, range_table

    table = range_table()
    radars = [s for s in sensor_catalogue().values() if isinstance(s, RadarSpec)]
    assert all(f"| {s.id} |" in table for s in radars)
    busan = sensor_catalogue()["KOR-GREENPINE-C-BUSAN"]
    assert isinstance(busan, RadarSpec)
    assert pd_range_km(busan, 0.05) == pytest.approx(800.0 * 0.5 ** 0.25)
    assert pd_range_km(busan, 100.0) == busan.max_range_km  # capped by the range gates
