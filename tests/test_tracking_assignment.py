"""The tracker's GNN: taking uncontested pairs first must give the whole problem's optimum."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from trilink.tracking import kernels
from trilink.tracking.tracker import _gnn


def _reference(cost: np.ndarray) -> set[tuple[int, int]]:
    """The dense formulation: a dummy column per track above every gated cost."""
    finite = np.isfinite(cost)
    if not finite.any():
        return set()
    big = float(np.max(cost[finite])) + 1.0
    n_t, n_z = cost.shape
    padded = np.full((n_t, n_z + n_t), 1e12)
    padded[:, :n_z] = np.where(finite, cost, 1e12)
    padded[np.arange(n_t), n_z + np.arange(n_t)] = big
    r, c = linear_sum_assignment(padded)
    return {(int(a), int(b)) for a, b in zip(r, c, strict=True)
            if b < n_z and finite[a, b]}


def test_decomposed_assignment_equals_the_dense_optimum() -> None:
    rng = np.random.default_rng(14)
    contested = 0
    for _ in range(1000):
        n_t, n_z = rng.integers(1, 14, size=2)
        cost = rng.random((n_t, n_z)) * 20.0
        cost[rng.random((n_t, n_z)) < rng.uniform(0.3, 0.95)] = np.inf
        rows, cols = _gnn(cost)
        got = set(zip(rows.tolist(), cols.tolist(), strict=True))
        assert got == _reference(cost), cost
        assert list(rows) == sorted(rows)
        contested += int(kernels.split_assignment(cost)[2].size > 0)
    assert 100 < contested < 1000  # both paths were exercised


def test_uncontested_pairs_and_the_rest_partition_the_gated_entries() -> None:
    inf = np.inf
    cost = np.array([
        [1.0, inf, inf, inf],  # alone with column 0: a pair
        [inf, 2.0, 3.0, inf],  # contests columns 1 and 2 with row 2
        [inf, 1.0, inf, inf],
        [inf, inf, inf, inf],  # gates nothing: in neither part
    ])
    pr, pc, rr, rc, top = kernels.split_assignment(cost)
    assert (pr.tolist(), pc.tolist()) == ([0], [0])
    assert (rr.tolist(), rc.tolist()) == ([1, 2], [1, 2])
    assert top == 3.0
