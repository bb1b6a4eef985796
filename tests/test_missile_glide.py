"""Glide vehicles: lift after burnout, never for ballistic rows."""

from __future__ import annotations

import numpy as np
import pytest

from trilink.physics import earth
from trilink.physics.fit import FitRequest
from trilink.physics.missiles import get_profile
from trilink.physics.solve import fit_within_limits
from trilink.physics.trajectory import Flight, propagate
from trilink.physics.vehicle import LaunchControls

SITE = (np.radians(39.0), np.radians(125.7))


def _range_m(f: Flight) -> float:
    lat, lon, _ = earth.ecef_to_geodetic(f.r_ecef_m)
    return float(earth.geodesic_inverse(lat[0], lon[0], lat[-1], lon[-1])[1])


def test_glide_flies_further_and_longer_than_the_same_vehicle_ballistic() -> None:
    glider = get_profile("hwasong-16b")
    ballistic = glider.model_copy(update={"glide": None, "flight_profile": "ballistic"})
    c = LaunchControls(SITE[0], SITE[1], np.radians(90.0), np.radians(20.0), 0.8)
    fb = propagate([glider, ballistic], [c, c])
    g, b = fb.row(0), fb.row(1)
    assert g.impacted and b.impacted
    assert _range_m(g) > _range_m(b) + 100e3
    assert g.flight_time_s > b.flight_time_s + 60.0
    # Same boost, same apogee: the glide begins on the way down.
    assert earth.ecef_to_geodetic(g.r_ecef_m)[2].max() == pytest.approx(
        earth.ecef_to_geodetic(b.r_ecef_m)[2].max(), rel=1e-6)


def test_ballistic_rows_are_untouched_by_a_glider_in_the_batch() -> None:
    c = LaunchControls(SITE[0], SITE[1], np.radians(90.0), np.radians(40.0), 0.9)
    alone = propagate([get_profile("hwasong-12")], [c]).row(0)
    mixed = propagate([get_profile("hwasong-16b"), get_profile("hwasong-12")], [c, c]).row(1)
    np.testing.assert_array_equal(alone.t_s, mixed.t_s)
    np.testing.assert_array_equal(alone.r_ecef_m, mixed.r_ecef_m)


def test_glide_type_fits_the_published_first_peak_and_range() -> None:
    # 2024-04-02 Hwasong-16B as KCNA gave it: first peak 101.1 km, 1,000 km.
    q = FitRequest(SITE[0], SITE[1], np.radians(90.0), 101.1e3, 1000e3,
                   get_profile("hwasong-16b"))
    f = fit_within_limits([q])[0]
    assert f.converged, f.message
    h = earth.ecef_to_geodetic(f.flight.r_ecef_m)[2]
    peak = int(np.argmax(h))
    assert h[peak] == pytest.approx(101.1e3, rel=6e-4)
    # It pulls up: after the first descent the height rises again (a second peak).
    after = h[peak:]
    low = int(np.argmin(after[: len(after) * 3 // 4]))
    assert after[low:].max() > after[low] + 500.0
