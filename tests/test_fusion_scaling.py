"""Fusion that scales: the exact covariance-intersection weight, a pre-gate that never
drops a pair the exact test keeps, and association whose work grows with the objects
near each other, not with all pairs (issue 15, item 8)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trilink.sharing import fusion
from trilink.sharing.fusion import (
    FusedPicture,
    SourceTrack,
    covariance_intersection,
    near_pairs,
    predict_track,
)


def _spd(rng: np.random.Generator, scales: np.ndarray) -> np.ndarray:
    A = rng.normal(size=(6, 6)) * scales[:, None]
    return A @ A.T + 1e-3 * np.eye(6)


def _logdet_fused_information(w: float, Pa: np.ndarray, Pb: np.ndarray) -> float:
    sign, value = np.linalg.slogdet(w * np.linalg.inv(Pa) + (1.0 - w) * np.linalg.inv(Pb))
    assert sign > 0
    return float(value)


def test_the_weight_is_the_determinant_minimum_over_a_fine_grid() -> None:
    # Position (m) and velocity (m/s) scales as tracks carry them, four orders apart.
    rng = np.random.default_rng(11)
    grid = np.linspace(0.0, 1.0, 2001)
    for _ in range(60):
        scales = 10.0 ** rng.uniform(0.0, 3.0, size=6)
        Pa, Pb = _spd(rng, scales), _spd(rng, scales * 10.0 ** rng.uniform(-1, 1, size=6))
        _, P, w = covariance_intersection(np.zeros(6), Pa, np.ones(6), Pb)
        best_on_grid = max(_logdet_fused_information(g, Pa, Pb) for g in grid)
        # No grid point beats the weight found, and P is the inverse of that information.
        assert _logdet_fused_information(w, Pa, Pb) >= best_on_grid - 1e-9
        info = w * np.linalg.inv(Pa) + (1.0 - w) * np.linalg.inv(Pb)
        want = np.linalg.inv(info)
        sigma = np.sqrt(np.diag(want))
        np.testing.assert_allclose(P / np.outer(sigma, sigma),
                                   want / np.outer(sigma, sigma), atol=1e-7)


def test_the_fused_state_is_the_information_weighted_mean() -> None:
    rng = np.random.default_rng(12)
    Pa, Pb = _spd(rng, np.full(6, 30.0)), _spd(rng, np.full(6, 50.0))
    xa, xb = rng.normal(size=6) * 100.0, rng.normal(size=6) * 100.0
    x, P, w = covariance_intersection(xa, Pa, xb, Pb)
    want = P @ (w * np.linalg.solve(Pa, xa) + (1.0 - w) * np.linalg.solve(Pb, xb))
    np.testing.assert_allclose(x, want, rtol=1e-9, atol=1e-6)
    assert 0.0 < w < 1.0


def test_a_weaker_estimate_gets_no_weight() -> None:
    P = np.diag([4.0, 9.0, 1.0, 2.0, 3.0, 5.0])
    _, Pf, w = covariance_intersection(np.zeros(6), P, np.ones(6), 3.0 * P)
    assert w == 1.0
    np.testing.assert_allclose(Pf, P)


def _state(rng: np.random.Generator, speed_m_s: float, force_m_s2: float) -> np.ndarray:
    r = rng.normal(size=3)
    r *= (6.378e6 + rng.uniform(50e3, 1200e3)) / np.linalg.norm(r)
    v = rng.normal(size=3)
    f = rng.normal(size=3)
    return np.concatenate([r, v / np.linalg.norm(v) * speed_m_s,
                           f / np.linalg.norm(f) * force_m_s2])


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**31), gap_s=st.floats(0.0, 60.0),
       speed_m_s=st.floats(0.0, 7500.0), force_m_s2=st.floats(0.0, 80.0),
       powered=st.booleans())
def test_the_pre_gate_keeps_every_pair_that_is_near_once_aligned(
        seed: int, gap_s: float, speed_m_s: float, force_m_s2: float, powered: bool) -> None:
    rng = np.random.default_rng(seed)
    early = _state(rng, speed_m_s, force_m_s2)
    aligned, _ = predict_track(early, np.eye(9), gap_s, 1.0 if powered else 0.0)
    # The later state sits within the separation of where fusion predicts the earlier one.
    offset = rng.normal(size=3)
    offset *= rng.uniform(0.0, 10e3) / np.linalg.norm(offset)
    late = aligned.copy()
    late[:3] += offset
    late[3:6] += rng.normal(size=3) * 50.0
    assert math.dist(late[:3], aligned[:3]) <= 10e3
    rows, cols = near_pairs(np.array([gap_s]), late[None], np.array([0.0]), early[None], 10e3)
    assert (rows.tolist(), cols.tolist()) == ([0], [0])
    # And from the other side (a is the earlier set).
    rows, cols = near_pairs(np.array([0.0]), early[None], np.array([gap_s]), late[None], 10e3)
    assert (rows.tolist(), cols.tolist()) == ([0], [0])


def _grid_tracks(nation: str, count: int, t_s: float,
                 rng: np.random.Generator) -> list[SourceTrack]:
    """Objects 300 km up on a 0.6° grid (about 67 km apart), moving east at 3 km/s at
    time 0, each seen at ``t_s`` with 50 m and 2 m/s of noise."""
    side = math.ceil(math.sqrt(count))
    out = []
    for k in range(count):
        lat, lon = math.radians(30.0 + 0.6 * (k // side)), math.radians(120.0 + 0.6 * (k % side))
        r = 6.678e6 * np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon),
                                math.sin(lat)])
        east = np.array([-math.sin(lon), math.cos(lon), 0.0])
        truth_0 = np.concatenate([r, 3000.0 * east, np.zeros(3)])
        truth_t, _ = predict_track(truth_0, np.eye(9), t_s, 0.0)
        x = truth_t + np.concatenate([rng.normal(size=3) * 50.0, rng.normal(size=3) * 2.0,
                                      np.zeros(3)])
        out.append(SourceTrack(nation, f"T{k:04d}", t_s, x, np.diag([2500.0] * 3 + [4.0] * 3
                                                                       + [1.0] * 3), 0.0))
    return out


def test_the_dense_and_the_tree_paths_find_the_same_pairs() -> None:
    rng = np.random.default_rng(3)
    a = np.stack([tr.x for tr in _grid_tracks("JPN", 120, 0.0, rng)])
    b = np.stack([tr.x for tr in _grid_tracks("KOR", 120, 0.0, rng)])
    t_a, t_b = rng.uniform(0.0, 5.0, 120), rng.uniform(0.0, 5.0, 120)
    a[:, :3] += a[:, 3:6] * t_a[:, None]  # each state where its object is at its time
    b[:, :3] += b[:, 3:6] * t_b[:, None]
    tree = near_pairs(t_a, a, t_b, b, 10e3)  # 14,400 pairs: the k-d tree
    dense_limit = fusion._DENSE_PAIRS
    try:
        fusion._DENSE_PAIRS = 10**9
        dense = near_pairs(t_a, a, t_b, b, 10e3)
    finally:
        fusion._DENSE_PAIRS = dense_limit
    assert [x.tolist() for x in tree] == [x.tolist() for x in dense]
    assert len(tree[0]) >= 120  # each object with its own counterpart at least


def test_association_compares_each_new_track_with_its_neighbours_only(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # 400 objects, then every one of them reported by a partner: a full comparison would
    # be 160,000 exact tests; only the counterparts (and nothing 67 km away) are near.
    rng = np.random.default_rng(4)
    picture = FusedPicture("USA")
    picture.update(_grid_tracks("USA", 400, 0.0, rng))
    calls = {"n": 0}
    exact = FusedPicture._distance2

    def counted(self, *args):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return exact(self, *args)

    monkeypatch.setattr(FusedPicture, "_distance2", counted)
    picture.update(_grid_tracks("JPN", 400, 2.0, rng))
    assert len(picture.objects()) == 400  # each partner track joined its object
    assert all(len(o.sources) == 2 for o in picture.objects())
    assert calls["n"] <= 2 * 400  # association and the merge pass: linear, not 400²
