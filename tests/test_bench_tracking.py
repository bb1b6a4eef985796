"""Smoke test of the tracking benchmark (trilink.analysis.bench_tracking), quick mode."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from trilink.analysis import bench_tracking as bt
from trilink.tracking import kernels

TRACKERS = {"trilink", "stonesoup", "filterpy"}


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return bt.run_tracking_benchmark(seed=1, quick=True)


def test_json_keys_and_finite_figures(result: dict[str, Any]) -> None:
    parsed = json.loads(json.dumps(result))  # one JSON object, nothing unserialisable
    for key in ("speedup_vs_stonesoup", "speedup_vs_filterpy"):
        assert math.isfinite(parsed[key]) and parsed[key] > 0
    for key in ("rmse_pos_m", "rmse_vel_m_s", "rmse_over_pcrlb", "scan_23_targets_ms"):
        assert set(parsed[key]) == TRACKERS, key
        for tracker, value in parsed[key].items():
            assert math.isfinite(value) and value > 0, (key, tracker)
    for variant in bt.VARIANTS:
        stats = parsed["single_target"]["trackers"][variant]
        for key in ("rmse_pos_m", "rmse_vel_m_s", "cycle_us", "impact_error_km_mean"):
            assert math.isfinite(stats[key]) and stats[key] > 0, (variant, key)
    assert {"stonesoup", "filterpy", "numba"} <= set(parsed["versions"])
    assert parsed["machine"]["cpus"]


def test_same_measurements_for_every_tracker(result: dict[str, Any]) -> None:
    single = result["single_target"]["trackers"]
    assert len({s["updates_per_run"] for s in single.values()}) == 1
    assert len({s["cycles_timed"] for s in single.values()}) == 1
    multi = result["multi_target"]["trackers"]
    assert {m["detections_fed"] for m in multi.values()} == {
        bt.N_TARGETS * (result["scenario"]["multi_target"]["establish_scans"]
                        + result["scenario"]["multi_target"]["timed_scans"])
    }
    assert len({m["scans_timed"] for m in multi.values()}) == 1
    for name, m in multi.items():
        assert m["kept_all"], name


def test_same_model_gives_the_same_estimates(result: dict[str, Any]) -> None:
    """trilink's IMM started ballistic is the peers' EKF: equal RMSE to rounding."""
    single = result["single_target"]["trackers"]
    ref = single["trilink_ballistic_start"]
    for peer in ("stonesoup_ekf", "filterpy_ekf"):
        assert single[peer]["rmse_pos_m"] == pytest.approx(ref["rmse_pos_m"], rel=1e-3)
        assert single[peer]["rmse_vel_m_s"] == pytest.approx(ref["rmse_vel_m_s"], rel=1e-3)


def test_table_renders(result: dict[str, Any]) -> None:
    out = io.StringIO()
    Console(file=out, width=240).print(bt.format_table(result))
    text = out.getvalue()
    assert "Stone Soup" in text and "FilterPy" in text and "trilink" in text


def test_numpy_model_matches_the_kernels() -> None:
    """The peers' NumPy equations are trilink's: state, transition matrix and radar."""
    r = np.array([-3.6e6, 3.2e6, 4.6e6])
    v = np.array([2500.0, 1500.0, 800.0])
    x9 = np.zeros(kernels.NX)
    x9[:3], x9[3:6] = r, v
    for dt_s in (5.0, 12.0):
        x6, phi = bt.ballistic_transition(x9[:6], dt_s)
        xk = x9.copy()
        kernels.predict_mode(xk, np.eye(kernels.NX), dt_s, 0, bt.ImmParams().vector())
        np.testing.assert_allclose(x6, xk[:6], rtol=0, atol=1e-6)
        np.testing.assert_allclose(phi, kernels.transition(x9, dt_s, 0)[:6, :6], atol=1e-9)
    geo = bt.radar_geometry()
    z = np.empty(3)
    H = np.empty((3, kernels.NX))
    kernels.radar_h(x9, geo.site_ecef_m, geo.basis, 3, z, H)
    np.testing.assert_allclose(bt._polar1(x9[:6], geo.site_ecef_m, geo.basis), z, rtol=1e-12)
    np.testing.assert_allclose(bt.polar_jacobian(x9[:6], geo.site_ecef_m, geo.basis),
                               H[:, :6], rtol=1e-12, atol=1e-18)


def test_missing_peer_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_peers(name: str) -> None:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(bt, "import_module", no_peers)
    with pytest.raises(bt.PeersMissingError, match=r"pip install 'trilink\[bench\]'"):
        bt.run_tracking_benchmark(quick=True)
