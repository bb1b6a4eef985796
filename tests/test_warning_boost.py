"""The boost-phase warning: hand-made boosting states in, "may pass over / may fall on"
out — for a shallow climb toward Japan, not for a lofted shot, a short-range booster, a
heading known too poorly, or a heading away; narrowed after burnout, never lifted by the
boost rule itself, lapsed with its track (no scenario, no tracker)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from ballistic_arc import arc, covariance

from trilink.physics import earth
from trilink.warning.boost import boost_corridor, heading_and_sigma
from trilink.warning.center import WarningCenter
from trilink.warning.policy import BoostWarning, WarningPolicy, default_policy, parse_policy

EPOCH = dt.datetime(2022, 10, 4, 22, 22, tzinfo=dt.UTC)
RULES = default_policy().boost
# Over the Sea of Japan off the DPRK coast, as a Hwasong-12 is some 65 s after a launch
# from Jagang: 47 km up, 2.2 km/s, climbing at 47 deg, heading 78 deg (for Aomori).
LAT, LON = 40.3, 128.9


def boosting(heading_deg: float = 78.0, gamma_deg: float = 47.0, h_m: float = 47e3,
             speed_m_s: float = 2200.0, lat: float = LAT, lon: float = LON) -> np.ndarray:
    la, lo = math.radians(lat), math.radians(lon)
    east, north, up = earth.enu_basis(la, lo)
    hd, g = math.radians(heading_deg), math.radians(gamma_deg)
    v = speed_m_s * (math.cos(g) * (math.sin(hd) * east + math.cos(hd) * north)
                     + math.sin(g) * up)
    return np.concatenate([earth.geodetic_to_ecef(la, lo, h_m), v, [0.0, 0.0, 30.0]])


def test_a_shallow_climb_toward_japan_may_pass_over_it() -> None:
    view = boost_corridor(boosting(), covariance(vel_sigma_m_s=100.0), "JPN", RULES)
    assert view.eligible and view.warns, view.why
    assert math.degrees(view.flight_path_rad) == pytest.approx(47.0, abs=0.1)
    assert math.degrees(view.heading_rad) == pytest.approx(78.0, abs=0.1)
    assert view.first_land_m is not None and 300e3 < view.first_land_m < 1000e3
    assert view.land_share >= RULES.min_land_share
    assert "may pass over or fall on JPN land" in view.why
    assert view.polygon_deg[0] == view.polygon_deg[-1] and len(view.polygon_deg) > 10


@pytest.mark.parametrize(("state", "why"), [
    (boosting(heading_deg=260.0), "touches"),  # heading away from Japan: eligible, no land
    (boosting(gamma_deg=82.0), "lofted"),  # the ICBM tests flown into the Sea of Japan
    (boosting(gamma_deg=-30.0, h_m=60e3), "not a climbing boost"),  # a re-entry, dragged
    (boosting(h_m=18e3), "short-range"),  # KN-23-class boosters burn out below 30 km
    (boosting(h_m=90e3, speed_m_s=8600.0), "outside the boost envelope"),
])
def test_no_boost_warning_outside_the_rule(state: np.ndarray, why: str) -> None:
    view = boost_corridor(state, covariance(vel_sigma_m_s=100.0), "JPN", RULES)
    assert not view.warns and why in view.why


def test_a_heading_known_too_poorly_warns_nobody_and_the_fan_narrows_as_it_firms_up(
        ) -> None:
    x = boosting()
    loose = boost_corridor(x, covariance(vel_sigma_m_s=2000.0), "JPN", RULES)
    assert not loose.eligible and "heading known to" in loose.why
    widths = []
    for sigma_m_s in (300.0, 150.0, 30.0):
        view = boost_corridor(x, covariance(vel_sigma_m_s=sigma_m_s), "JPN", RULES)
        assert view.warns
        widths.append(view.heading_sigma_rad)
        # The heading sigma is the cross-track velocity sigma over the ground speed.
        ground = 2200.0 * math.cos(math.radians(47.0))
        assert view.heading_sigma_rad == pytest.approx(sigma_m_s / ground, rel=0.02)
    assert widths == sorted(widths, reverse=True)
    *_, sigma, speed = heading_and_sigma(x, covariance(vel_sigma_m_s=0.0))
    assert sigma == 0.0 and speed == pytest.approx(2200.0)


def test_the_rule_is_data() -> None:
    # A steeper limit lets a 70-degree climb warn; the shipped one does not.
    x = boosting(gamma_deg=70.0)
    assert not boost_corridor(x, covariance(vel_sigma_m_s=50.0), "JPN", RULES).eligible
    steep = BoostWarning(max_flight_path_rad=math.radians(75.0))
    assert boost_corridor(x, covariance(vel_sigma_m_s=50.0), "JPN", steep).warns
    with pytest.raises(ValueError, match="min_flight_path_rad"):
        BoostWarning(min_flight_path_rad=1.2, max_flight_path_rad=1.0)
    policy = parse_policy("boost:\n  enabled: false\n", "p.yaml")
    assert not policy.boost.enabled and default_policy().boost.enabled


def _boost_then_arc(policy: WarningPolicy | None = None) -> WarningCenter:
    """A boosting track toward Japan for 20 s, then the hand-made ballistic arc over
    northern Honshu (a take-shelter overflight) under the same track id."""
    center = WarningCenter("JPN", EPOCH, status="Actual", policy=policy)
    for k in range(3):
        center.on_track("T1", boosting(), covariance(vel_sigma_m_s=100.0), 65.0 + 10.0 * k,
                        powered_probability=0.95)
    for t in np.arange(0.0, 240.0, 10.0):
        center.on_track("T1", arc().state(float(t)), covariance(), 100.0 + float(t), 0.0)
    return center


def test_the_centre_warns_in_the_boost_and_narrows_the_area_after_burnout() -> None:
    center = _boost_then_arc()
    kinds = [(e.message.msg_type, dict(e.message.parameters)["trilink_level"], e.t_s)
             for e in center.history]
    # Two boost assessments (65 and 75 s) confirm the Alert; no impact point is claimed.
    assert kinds[0] == ("Alert", "take_shelter", 75.0)
    alert = center.history[0].message
    assert "boost phase" in (alert.description or "")
    assert "no impact point is predicted" in (alert.description or "")
    assert [a.description for a in alert.areas] == [
        "Heading fan (boost phase): may pass over or fall on"]
    # After burnout the ballistic view confirms it: an Update with the narrower areas.
    assert kinds[1][:2] == ("Update", "take_shelter") and kinds[1][2] >= 100.0
    update = center.history[1].message
    assert update.references == [alert.reference]
    assert "predicted impact" in (update.description or "")
    assert "Predicted overflight corridor" in [a.description for a in update.areas]


def test_without_the_boost_rule_the_hold_is_absolute() -> None:
    center = _boost_then_arc(WarningPolicy(boost=BoostWarning(enabled=False)))
    first = center.history[0]
    assert first.message.msg_type == "Alert" and first.t_s >= 100.0
    assert "boost" not in (first.message.description or "")


def test_the_boost_rule_raises_a_warning_but_never_lifts_it() -> None:
    center = WarningCenter("JPN", EPOCH)
    for k in range(2):
        center.on_track("T1", boosting(), covariance(vel_sigma_m_s=100.0), 65.0 + 10.0 * k,
                        powered_probability=0.95)
    assert [e.message.msg_type for e in center.history] == ["Alert"]
    # Still burning, now heading away (a turn, or a noisy heading): no Cancel from that.
    for k in range(4):
        center.on_track("T1", boosting(heading_deg=260.0), covariance(vel_sigma_m_s=100.0),
                        85.0 + 10.0 * k, powered_probability=0.95)
    assert [e.message.msg_type for e in center.history] == ["Alert"]
    # A boost warning whose track is lost lapses lost_after_s after it was last given,
    # not at the (meaningless, seconds-away) impact time of a burning missile's state.
    assert center.expire(115.0 + default_policy().lost_after_s - 1.0) == []
    cancel = center.expire(1e9)
    assert [e.message.msg_type for e in cancel] == ["Cancel"]
    assert cancel[0].t_s == pytest.approx(115.0 + default_policy().lost_after_s)


def test_a_lofted_boost_and_one_assessment_are_not_enough() -> None:
    lofted = WarningCenter("JPN", EPOCH)
    for k in range(5):
        lofted.on_track("T1", boosting(gamma_deg=82.0), covariance(vel_sigma_m_s=100.0),
                        65.0 + 10.0 * k, powered_probability=0.95)
    assert lofted.history == []
    once = WarningCenter("JPN", EPOCH)
    once.on_track("T1", boosting(), covariance(vel_sigma_m_s=100.0), 65.0, 0.95)
    once.on_track("T1", boosting(gamma_deg=82.0), covariance(vel_sigma_m_s=100.0), 75.0, 0.95)
    once.on_track("T1", boosting(), covariance(vel_sigma_m_s=100.0), 85.0, 0.95)
    assert once.history == []  # confirmations must come in a row


def test_one_missile_seen_as_two_tracks_gets_one_public_warning() -> None:
    """A split picture in the boost (2017-09-15 in Japan's fused picture: two objects
    for one Hwasong-12): the second track, 5 km from the first, raises no Alert of its
    own — and so no Cancel when it fades; a track 300 km away is another missile."""
    twin = boosting(lat=LAT + 0.03, lon=LON + 0.03)  # ~4 km away
    other = boosting(lat=LAT - 2.7)  # ~300 km south
    center = WarningCenter("JPN", EPOCH)
    for k in range(3):
        t = 65.0 + 10.0 * k
        for tid, x in (("A", boosting()), ("B", twin), ("C", other)):
            center.on_track(tid, x, covariance(vel_sigma_m_s=100.0), t + 0.5 * (tid > "A"),
                            powered_probability=0.95)
    alerts = [(e.track_id, e.message.msg_type) for e in center.history]
    assert alerts == [("A", "Alert"), ("C", "Alert")]
    assert [e.track_id for e in center.expire(1e9)] == ["A", "C"]
    # As data: with no merging distance each track is warned on its own.
    apart = WarningCenter("JPN", EPOCH, policy=WarningPolicy(boost=BoostWarning(
        same_missile_m=0.0)))
    for k in range(2):
        for tid, x in (("A", boosting()), ("B", twin)):
            apart.on_track(tid, x, covariance(vel_sigma_m_s=100.0), 65.0 + 10.0 * k,
                           powered_probability=0.95)
    assert [e.track_id for e in apart.history] == ["A", "B"]
