"""The measurement stream: deterministic per seed, independent per sensor, sorted."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from trilink.sensors import (
    IrScan,
    LaunchReport,
    Measurement,
    RadarScan,
    build_sensor,
    sensor_catalogue,
    simulate_scans,
)
from trilink.sim.flights import LaunchFlight
from trilink.sim.truth import Truth

IDS = ["USA-TPY2-SHARIKI", "JPN-FPS5-SADO", "KOR-GREENPINE-C-BUSAN", "JPN-AEGIS-SOJ",
       "USA-SBIRS-GEO"]


@pytest.fixture(scope="module")
def truth(historical_flights: dict[str, LaunchFlight]) -> Truth:
    return Truth.from_launch_flights([historical_flights["2022-10-04-irbm-overflight"]])


def fingerprint(m: Measurement) -> tuple[Any, ...]:
    """Every field, arrays as raw bytes: equal fingerprints mean byte-identical output."""
    out: list[Any] = [type(m).__name__]
    for value in vars(m).values():
        out.append(value.tobytes() if isinstance(value, np.ndarray) else value)
    return tuple(out)


def test_same_seed_same_bytes_other_seed_differs(truth: Truth) -> None:
    specs = [sensor_catalogue()[i] for i in IDS]
    a = simulate_scans(specs, truth, seed=42)
    b = simulate_scans([build_sensor(s) for s in specs], truth, seed=42)
    c = simulate_scans(specs, truth, seed=43)
    assert [fingerprint(m) for m in a] == [fingerprint(m) for m in b]
    assert [fingerprint(m) for m in a] != [fingerprint(m) for m in c]
    # Same scan times (a property of the sensors), different draws.
    assert [(m.t_s, m.sensor_id) for m in a if not isinstance(m, LaunchReport)] == \
        [(m.t_s, m.sensor_id) for m in c if not isinstance(m, LaunchReport)]


def test_stream_content_and_order(truth: Truth) -> None:
    out = simulate_scans([sensor_catalogue()[i] for i in IDS], truth, seed=1)
    keys = [(m.t_s, m.sensor_id) for m in out]
    assert keys == sorted(keys)
    assert out[-1].t_s <= truth.end_t_s
    assert {m.sensor_id for m in out} == set(IDS)
    assert sum(isinstance(m, LaunchReport) for m in out) == 1
    radar = [m for m in out if isinstance(m, RadarScan)]
    assert all(m.z.shape[1] == m.sigma.size == 4 for m in radar)  # all with range rate
    real = {i for m in radar for i in m.truth_ids if i is not None}
    assert real == set(truth.ids)
    assert any(None in m.truth_ids for m in radar)  # false alarms happen
    assert any(isinstance(m, IrScan) and len(m.z) for m in out)
    # Every radar that sees the overflight detects it many times.
    per = {i: sum(x is not None for m in radar if m.sensor_id == i for x in m.truth_ids)
           for i in IDS[:4]}
    assert min(per.values()) >= 20, per
    # Detections are shuffled with the false alarms: not always first in the scan.
    mixed = [m for m in radar if len(m.z) >= 2 and None in m.truth_ids and
             any(i is not None for i in m.truth_ids)]
    assert mixed and any(m.truth_ids[0] is None for m in mixed)


def test_adding_a_sensor_leaves_the_others_unchanged(truth: Truth) -> None:
    cat = sensor_catalogue()
    few = simulate_scans([cat["USA-TPY2-SHARIKI"]], truth, seed=7, t1_s=600.0)
    more = simulate_scans([cat[i] for i in IDS], truth, seed=7, t1_s=600.0)
    assert [fingerprint(m) for m in few] == \
        [fingerprint(m) for m in more if m.sensor_id == "USA-TPY2-SHARIKI"]
    window = simulate_scans([cat["USA-TPY2-SHARIKI"]], truth, seed=7, t0_s=100.0, t1_s=300.0)
    assert window and all(100.0 <= m.t_s <= 300.0 for m in window)
    with pytest.raises(ValueError, match="unique"):
        simulate_scans([cat["JPN-FPS5-SADO"], cat["JPN-FPS5-SADO"]], truth, seed=1)
