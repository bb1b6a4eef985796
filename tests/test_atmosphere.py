"""The standard atmosphere against the U.S. Standard Atmosphere 1976 tables."""

from __future__ import annotations

import numpy as np
import pytest

from trilink.physics import atmosphere

# Geometric height (m) → density (kg/m³), U.S. Standard Atmosphere 1976, Table I.
US76 = [
    (0.0, 1.2250),
    (5000.0, 7.3643e-1),
    (10000.0, 4.1351e-1),
    (20000.0, 8.8910e-2),
    (30000.0, 1.8410e-2),
    (40000.0, 3.9957e-3),
    (50000.0, 1.0269e-3),
    (60000.0, 3.0968e-4),
    (70000.0, 8.2829e-5),
    (80000.0, 1.8458e-5),
    (100000.0, 5.604e-7),
    (200000.0, 2.541e-10),
    (500000.0, 5.215e-13),
]


@pytest.mark.parametrize(("z_m", "rho"), US76)
def test_density_matches_us76(z_m: float, rho: float) -> None:
    assert float(atmosphere.density_kg_m3(z_m)) == pytest.approx(rho, rel=5e-3)


def test_pressure_at_sea_level_and_tropopause() -> None:
    assert float(atmosphere.pressure_pa(0.0)) == pytest.approx(101325.0)
    assert float(atmosphere.pressure_pa(11019.1)) == pytest.approx(22632.06, rel=1e-4)


def test_density_is_monotonic_and_combined_call_agrees() -> None:
    z = np.linspace(-100.0, 1.5e6, 5000)
    rho = atmosphere.density_kg_m3(z)
    assert np.all(np.diff(rho) <= 0)
    rho2, p2 = atmosphere.density_and_pressure(z)
    np.testing.assert_array_equal(rho, rho2)
    np.testing.assert_array_equal(atmosphere.pressure_pa(z), p2)
