"""Warning policy as data (trilink/data/warning_policy.yaml) and non-ballistic warnings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from trilink.datafile import FileInvalidError
from trilink.physics import earth
from trilink.warning.center import WarningCenter
from trilink.warning.corridor import heading_corridor
from trilink.warning.policy import WarningPolicy, default_policy, load_policy, parse_policy

EPOCH = dt.datetime(2024, 4, 2, 0, 0, tzinfo=dt.UTC)


def test_shipped_policy_is_the_documented_one() -> None:
    p = default_policy()
    assert p == WarningPolicy()  # the file and the code's defaults agree
    assert p.levels.take_shelter.p_impact_land == 0.05
    assert p.alert_confirmations == 2 and p.powered_hold == 0.5


def test_bad_policy_file_names_file_line_and_field(tmp_path: Path) -> None:
    f = tmp_path / "policy.yaml"
    f.write_text("levels:\n  take_shelter:\n    p_impact_land: 1.5\nalert_confirmations: 0\n"
                 "surprise: 1\n", encoding="utf-8")
    with pytest.raises(FileInvalidError) as err:
        load_policy(f)
    lines = err.value.lines()
    assert any(x.startswith(f"{f}:3: levels.take_shelter.p_impact_land:") for x in lines)
    assert any(x.startswith(f"{f}:4: alert_confirmations:") for x in lines)
    assert any(x.startswith(f"{f}:5: surprise:") for x in lines)
    with pytest.raises(FileInvalidError, match="cannot read it"):
        load_policy(tmp_path / "missing.yaml")
    with pytest.raises(FileInvalidError, match="expected a YAML mapping"):
        parse_policy("- 1\n", "p.yaml")


def _glider_state(lat_deg: float, lon_deg: float, heading_deg: float) -> np.ndarray:
    """A glide vehicle in level flight at 40 km, 2.5 km/s (Hwasong-16B-like, notional)."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    r = earth.geodetic_to_ecef(lat, lon, 40e3)
    east, north, _ = earth.enu_basis(lat, lon)
    h = np.radians(heading_deg)
    v = 2500.0 * (np.sin(h) * east + np.cos(h) * north)
    return np.concatenate([r, v, np.zeros(3)])


def _cov() -> np.ndarray:
    return np.diag([300.0**2] * 3 + [30.0**2] * 3 + [1.0] * 3)


def test_corridor_sees_land_ahead_not_behind() -> None:
    rules = default_policy().non_ballistic
    ahead = heading_corridor(_glider_state(40.0, 132.0, 90.0), "JPN", rules)
    away = heading_corridor(_glider_state(40.0, 132.0, 270.0), "JPN", rules)
    assert ahead.first_land_m is not None and 500e3 < ahead.first_land_m < 800e3
    assert away.first_land_m is None and away.land_share == 0.0


def test_glide_track_is_warned_from_its_corridor_not_its_ballistic_impact() -> None:
    # Level flight at 40 km: flown ballistically it would come down within a few hundred
    # km, short of Honshu. Its glide may carry it there: the warning must say so.
    x = _glider_state(40.0, 132.0, 90.0)
    ballistic = WarningCenter("JPN", EPOCH, assess_every_s=10.0)
    glide = WarningCenter("JPN", EPOCH, assess_every_s=10.0)
    out_b = []
    out_g = []
    for k in range(3):
        t = 100.0 + 10.0 * k
        out_b += ballistic.on_track("T1", x, _cov(), t)
        out_g += glide.on_track("T1", x, _cov(), t, ballistic=False)
    # The ballistic view: it falls short in the Sea of Japan, nothing on land.
    assert ballistic.assessments[0][1].p_land == 0.0
    assert all("take shelter" not in (e.message.headline or "").lower() for e in out_b)
    assert [e.message.msg_type for e in out_g] == ["Alert"]
    msg = out_g[0].message
    assert "take shelter" in (msg.headline or "").lower()
    description = msg.description or ""
    assert "no impact point is predicted" in description
    assert "may pass over or fall on JPN land" in description
    assert [a.description for a in msg.areas] == ["Heading corridor (non-ballistic flight)"]
    # It lapses with the track, not at a ballistic impact time it does not follow.
    assert glide.expire(125.0) == []
    cancel = glide.expire(1e9)
    assert [e.message.msg_type for e in cancel] == ["Cancel"]
    assert cancel[0].t_s == pytest.approx(120.0 + default_policy().lost_after_s)


def test_glide_track_heading_away_is_not_warned() -> None:
    center = WarningCenter("JPN", EPOCH)
    x = _glider_state(40.0, 132.0, 270.0)
    events = [e for k in range(3)
              for e in center.on_track("T1", x, _cov(), 10.0 * k, ballistic=False)]
    assert events == []


def test_policy_thresholds_change_the_outcome() -> None:
    # One alert confirmation instead of two: the glide alert comes one assessment sooner.
    quick = WarningPolicy(alert_confirmations=1)
    center = WarningCenter("JPN", EPOCH, policy=quick)
    first = center.on_track("T1", _glider_state(40.0, 132.0, 90.0), _cov(), 0.0,
                            ballistic=False)
    assert [e.message.msg_type for e in first] == ["Alert"]
