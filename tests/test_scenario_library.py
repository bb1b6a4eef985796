"""The scenario library (issue 5): failures, outages and scenario sensors in the schema and
the simulation; the historical library and the regime each event resolves to."""

from __future__ import annotations

import csv
import datetime as dt
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from trilink.bus import InMemoryBus
from trilink.cli import main
from trilink.physics import earth
from trilink.physics.missiles import get_profile
from trilink.physics.trajectory import propagate_ballistic
from trilink.sensors import RadarScan, RadarSpec, SensorOutage, build_sensor, sensor_catalogue
from trilink.sensors.scans import simulate_scans
from trilink.sharing.policy import Direct, Relay, policy_for
from trilink.sim.federation import nation_radars, run_federation
from trilink.sim.flights import LaunchFlight, fly_scenarios
from trilink.sim.scenario import (
    Scenario,
    ScenarioInvalidError,
    load_scenario,
    parse_scenario,
    shipped_scenarios,
)
from trilink.sim.truth import Truth, scenario_outages

# A short SRBM off Kauai (nothing of the catalogue sees it) with a ship of each navy
# close by; the failure breaks it up during its boost (the kn-23 fit cuts off at ~23 s).
BASE = """\
schema_version: 1
id: test-library
title: Library test
nations: [USA, JPN, KOR]
launches:
  - id: A
    time_utc: 2024-08-06T20:00:00Z
    site: {name: PMRF, lat_deg: 22.03, lon_deg: -159.78}
    missile: kn-23
    apogee_km: 100
    range_km: 250
    azimuth_deg: 250
    failure: {t_s: 20, kind: breakup}
sensors:
  - id: JPN-SHIP-TEST
    based_on: JPN-AEGIS-SOJ
    lat_deg: 21.5
    lon_deg: -161.0
  - id: KOR-SHIP-TEST
    based_on: KOR-AEGIS-EAST-SEA
    lat_deg: 21.0
    lon_deg: -160.5
outages:
  - sensors: [KOR-SHIP-TEST]
    from_s: 8
    to_s: 16
"""
NO_FAILURE = BASE.replace("    failure: {t_s: 20, kind: breakup}\n", "")


@pytest.fixture(scope="module")
def flights() -> list[LaunchFlight]:
    return fly_scenarios([parse_scenario(BASE, "base.yaml"),
                          parse_scenario(NO_FAILURE.replace("test-library", "nominal"),
                                         "nominal.yaml")])


@pytest.fixture(scope="module")
def broken(flights: list[LaunchFlight]) -> Truth:
    return Truth.from_launch_flights(flights[:1])


@pytest.fixture(scope="module")
def nominal(flights: list[LaunchFlight]) -> Truth:
    return Truth.from_launch_flights(flights[1:])


def _errors(text: str) -> list[str]:
    with pytest.raises(ScenarioInvalidError) as info:
        parse_scenario(text, "bad.yaml")
    lines = [str(e) for e in info.value.errors]
    assert all("\n" not in m for m in lines)
    return lines


# ------------------------------------------------------------------------ schema errors


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [
        ("{t_s: 20, kind: breakup}", "{t_s: -3, kind: breakup}", 13,
         "launches.0.failure.t_s", "greater than 0"),
        ("{t_s: 20, kind: breakup}", "{t_s: 20, kind: explosion}", 13,
         "launches.0.failure.kind", "'breakup'"),
        ("{t_s: 20, kind: breakup}", "{t_s: 20, kind: breakup, when: later}", 13,
         "launches.0.failure.when", "Extra inputs"),
        ("based_on: JPN-AEGIS-SOJ", "based_on: JPN-AEGIS-NOWHERE", 16,
         "sensors.0.based_on", "unknown sensor 'JPN-AEGIS-NOWHERE'"),
        ("based_on: JPN-AEGIS-SOJ", "based_on: USA-SBIRS-GEO", 16,
         "sensors.0.based_on", "not a radar"),
        ("lat_deg: 21.5", "lat_deg: 121.5", 17, "sensors.0.lat_deg", "less than or equal"),
        ("id: JPN-SHIP-TEST", "id: JPN-FPS5-SADO", 15, "sensors.0.id", "catalogue sensor's"),
        ("sensors: [KOR-SHIP-TEST]", "sensors: [KOR-SHIP-NOPE]", 24,
         "outages.0.sensors", "unknown sensor 'KOR-SHIP-NOPE'"),
        ("sensors: [KOR-SHIP-TEST]", "nation: JPX", 24, "outages.0.nation",
         "unknown nation code 'JPX'"),
        ("sensors: [KOR-SHIP-TEST]", "sensors: [KOR-SHIP-TEST]\n    nation: KOR", 24,
         "outages.0", "either sensors"),
        ("to_s: 16", "to_s: 4", 26, "outages.0.to_s", "after from_s"),
        ("to_s: 16", "to_s: 16\n    after: Z", 27, "outages.0.after", "no launch 'Z'"),
    ],
)
def test_bad_entries_are_one_line_with_file_line_and_field(
    old: str, new: str, line: int, field: str, words: str
) -> None:
    text = BASE.replace(old, new)
    assert text != BASE
    messages = _errors(text)
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"bad.yaml:{line}: {field}: "), messages
    assert words in messages[0], messages


def test_a_sensor_twice_or_of_a_nation_not_in_the_scenario_is_refused() -> None:
    (message,) = _errors(BASE.replace("[USA, JPN, KOR]", "[USA, JPN]"))
    assert message.startswith("bad.yaml:19: sensors.1.nation: KOR is not one of")
    twice = _errors(BASE.replace("id: KOR-SHIP-TEST", "id: JPN-SHIP-TEST")
                    .replace("[KOR-SHIP-TEST]", "[JPN-SHIP-TEST]"))
    assert twice == [f"bad.yaml:{n}: sensors.{i}.id: sensor id 'JPN-SHIP-TEST' appears twice"
                     for i, n in ((0, 15), (1, 19))]


def test_a_full_radar_entry_needs_every_field() -> None:
    text = BASE.replace("    based_on: JPN-AEGIS-SOJ\n", "    nation: JPN\n    kind: ship_radar\n")
    messages = _errors(text)
    assert all(m.startswith("bad.yaml:15: sensors.0.") for m in messages), messages
    assert any("sensors.0.ref_range_km: Field required" in m for m in messages), messages


def test_a_breakup_after_the_impact_is_a_file_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    late = tmp_path / "late.yaml"
    late.write_text(BASE.replace("t_s: 20,", "t_s: 900,"))
    sc = load_scenario(late)
    with pytest.raises(ScenarioInvalidError) as info:
        fly_scenarios([sc])
    (error,) = info.value.errors
    assert str(error).startswith(f"{late}:13: launches.0.failure.t_s: ")
    assert "within the flight" in error.problem
    assert main(["validate", str(late)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith(f"{late}:13: launches.0.failure.t_s:")


def test_good_file_validates_with_the_cli(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(BASE)
    assert main(["validate", str(good)]) == 0
    assert capsys.readouterr().out.strip() == f"{good}: ok (test-library, 1 launch)"


# ------------------------------------------------------------------------ failures


def test_a_broken_up_missile_leaves_the_radar_picture(broken: Truth, nominal: Truth) -> None:
    assert broken.failure_t_s is not None and nominal.failure_t_s is None
    t_fail = float(broken.failure_t_s[0])
    assert t_fail == pytest.approx(20.0)
    before, after = broken.at(t_fail - 0.5), broken.at(t_fail + 0.5)
    assert before.alive[0] and not after.alive[0]
    assert after.debris is not None and after.debris[0] and not after.boosting[0]
    # The ship next to the launch sees the nominal missile well after t_fail, and the
    # broken-up one only before.
    ship = [s for s in broken.sensors if s.id == "JPN-SHIP-TEST"]
    seen_nominal = [m.t_s for m in simulate_scans(ship, nominal, seed=3)
                    if isinstance(m, RadarScan) and any(m.truth_ids)]
    seen_broken = [m.t_s for m in simulate_scans(ship, broken, seed=3)
                   if isinstance(m, RadarScan) and any(m.truth_ids)]
    assert seen_broken and max(seen_broken) < t_fail < max(seen_nominal)
    assert seen_broken == [t for t in seen_nominal if t < t_fail]


def test_the_truth_impact_is_where_the_debris_fell(broken: Truth, nominal: Truth) -> None:
    assert broken.failure_t_s is not None
    t_fail = float(broken.failure_t_s[0])
    r0, v0 = nominal.flights.row(0).state_at(t_fail)
    beta = get_profile("kn-23").rv_ballistic_coefficient_kg_m2  # the default debris beta
    debris = propagate_ballistic(r0, v0, beta).row(0)
    flight = broken.flights.row(0)
    # The spliced flight: the nominal one up to the breakup, then the debris path.
    assert flight.burnout_s == pytest.approx(t_fail)
    assert flight.flight_time_s == pytest.approx(t_fail + debris.flight_time_s)
    np.testing.assert_allclose(flight.r_ecef_m[-1], debris.r_ecef_m[-1], atol=1e-3)
    assert broken.end_t_s == pytest.approx(t_fail + debris.flight_time_s)
    # Broken up in its boost, it falls far short of where it was going.
    lat0, lon0 = np.radians(22.03), np.radians(-159.78)
    ranges = []
    for truth in (broken, nominal):
        lat, lon, h = earth.ecef_to_geodetic(truth.flights.row(0).r_ecef_m[-1])
        assert abs(float(h)) < 1.0
        ranges.append(earth.geodesic_inverse(lat0, lon0, float(lat), float(lon))[1])
    assert ranges[0] < 0.6 * ranges[1] and ranges[1] == pytest.approx(250e3, rel=0.01)


def test_the_shipped_failed_icbm_breaks_up_after_second_stage_separation() -> None:
    sc = load_scenario("2022-11-03-icbm-failed")
    (lf,) = fly_scenarios([sc])
    failure = sc.launches[0].failure
    assert failure is not None
    stage1_s = lf.fit.request.profile.stages[0].burn_time_s
    cutoff_s = lf.fit.summary.burnout_time_s
    assert stage1_s < cutoff_s <= failure.t_s < cutoff_s + 1.0
    truth = Truth.from_launch_flights([lf])
    lat, lon, h = earth.ecef_to_geodetic(truth.flights.row(0).r_ecef_m)
    assert float(np.max(h)) == pytest.approx(2000e3, rel=0.01)
    site = sc.launches[0].site
    _, reach = earth.geodesic_inverse(np.radians(site.lat_deg), np.radians(site.lon_deg),
                                      float(lat[-1]), float(lon[-1]))
    assert reach == pytest.approx(750e3, rel=0.01)
    assert float(np.degrees(lon[-1])) < 137.0  # in the Sea of Japan, short of Honshu


# ------------------------------------------------------------------------ outages


def test_an_outage_silences_exactly_those_sensors_in_that_window(nominal: Truth) -> None:
    radars = list(nominal.sensors)
    assert list(nominal.outages) == [SensorOutage("KOR-SHIP-TEST", 8.0, 16.0)]
    quiet = simulate_scans(radars, nominal, seed=5, outages=())
    heard = simulate_scans(radars, nominal, seed=5)  # the truth's outages
    dropped = [m for m in quiet if m.sensor_id == "KOR-SHIP-TEST" and 8.0 <= m.t_s < 16.0]
    assert dropped and any(isinstance(m, RadarScan) and m.z.size for m in dropped)
    kept = [m for m in quiet if m not in dropped]
    assert len(heard) == len(kept) == len(quiet) - len(dropped)
    for a, b in zip(heard, kept, strict=True):
        assert isinstance(a, RadarScan) and isinstance(b, RadarScan)
        assert (a.sensor_id, a.t_s, a.truth_ids) == (b.sensor_id, b.t_s, b.truth_ids)
        assert a.z.tobytes() == b.z.tobytes()


def test_a_nation_outage_covers_its_catalogue_and_scenario_radars() -> None:
    sc = parse_scenario(NO_FAILURE.replace("sensors: [KOR-SHIP-TEST]", "nation: JPN")
                        .replace("    from_s: 8", "    after: A\n    from_s: 8"), "n.yaml")
    outages = scenario_outages(sc, sc.epoch - dt.timedelta(seconds=100))
    ids = {o.sensor_id for o in outages}
    assert ids == {s.id for s in nation_radars("JPN", sc.sensors)}
    assert "JPN-SHIP-TEST" in ids and "JPN-FPS5-SADO" in ids
    assert {(o.from_s, o.to_s) for o in outages} == {(108.0, 116.0)}
    shipped = load_scenario("2023-04-13-hwasong18")
    open_ended = scenario_outages(shipped, shipped.epoch)
    assert {o.sensor_id for o in open_ended} == {s.id for s in nation_radars("JPN")}
    assert {(o.from_s, o.to_s) for o in open_ended} == {(75.0, np.inf)}


# ------------------------------------------------------------------------ sensors


def test_scenario_sensors_are_built_from_their_base() -> None:
    sc = parse_scenario(BASE, "base.yaml")
    ship = sc.sensors[0]
    base = sensor_catalogue()["JPN-AEGIS-SOJ"]
    assert isinstance(base, RadarSpec)
    assert (ship.id, ship.nation, ship.lat_deg, ship.lon_deg) == ("JPN-SHIP-TEST", "JPN",
                                                                  21.5, -161.0)
    assert ship.ref_range_km == base.ref_range_km
    assert build_sensor(ship).id == "JPN-SHIP-TEST"
    assert [s.id for s in nation_radars("KOR", sc.sensors)][-1] == "KOR-SHIP-TEST"


def test_the_federation_uses_each_nations_scenario_sensors(nominal: Truth) -> None:
    # Off Kauai only the scenario's ships can see the missile.
    def run(extra: bool) -> dict[str, dict[str, float]]:
        fed = run_federation(nominal, policy_for("national-only"),
                             InMemoryBus(), seed=2,
                             nations=("JPN", "KOR"), sensors=None if extra else ())
        return fed.first_detection_s

    with_ships, without = run(True), run(False)
    missile = nominal.ids[0]
    assert missile in with_ships["JPN"] and missile in with_ships["KOR"]
    assert with_ships["KOR"][missile] >= 16.0  # its only radar is out until then
    assert missile not in without["JPN"] and missile not in without["KOR"]


def test_same_seed_same_scans_with_scenario_sensors_and_failures(broken: Truth) -> None:
    radars = [build_sensor(s) for s in nation_radars("KOR", broken.sensors)]
    a = simulate_scans(radars, broken, seed=11)
    b = simulate_scans(radars, broken, seed=11)
    c = simulate_scans(radars, broken, seed=12)
    assert len(a) == len(b) and a
    for x, y in zip(a, b, strict=True):
        assert isinstance(x, RadarScan) and isinstance(y, RadarScan)
        assert (x.sensor_id, x.t_s, x.truth_ids) == (y.sensor_id, y.t_s, y.truth_ids)
        assert x.z.tobytes() == y.z.tobytes()
    assert any(isinstance(x, RadarScan) and isinstance(y, RadarScan)
               and x.z.tobytes() != y.z.tobytes() for x, y in zip(a, c, strict=False))


# ------------------------------------------------------------------------ the library


def _table(name: str) -> list[dict[str, str]]:
    text = resources.files("trilink.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_every_event_of_the_reference_table_is_a_dated_scenario() -> None:
    shipped = set(shipped_scenarios())
    for row in _table("launches.csv"):
        assert row["event_id"] in shipped
        sc = load_scenario(row["event_id"])
        assert sc.date == dt.date.fromisoformat(row["launch_time_utc"][:10])
        assert sc.epoch == dt.datetime.fromisoformat(
            row["launch_time_utc"].replace("Z", ":00+00:00"))
    koksan = load_scenario("2022-11-03-srbm-koksan")
    assert [x.time_utc.strftime("%H:%M") for x in koksan.launches] == [
        "12:34", "12:39", "12:42"]


def _timeline_day(prefix: str) -> dt.date:
    """The date of the timeline row whose event starts with ``prefix``."""
    (row,) = [r for r in _table("sharing_reference.csv") if r["event"].startswith(prefix)]
    return dt.date.fromisoformat(row["date"][:10])


def _expected_regime(day: dt.date) -> tuple[set[str], str]:
    """Agreements carrying missile data in force on ``day`` per the timeline, and how
    Japan's tracks reach the ROK."""
    tisa = _timeline_day("Trilateral Information Sharing Arrangement")
    gsomia = _timeline_day("Japan-ROK GSOMIA signed")
    realtime = _timeline_day("Real-time DPRK missile warning data sharing")
    ids = {"us-jpn-alliance", "us-rok-alliance"}
    route = "none"
    if day >= tisa:
        ids.add("tisa")
        route = "relay tisa"
    if day >= gsomia:
        ids.add("gsomia")
        route = "direct gsomia"
    if day >= realtime:
        ids.add("trilateral-realtime-2023")
        route = "direct trilateral-realtime-2023"
    return ids, route


@pytest.mark.parametrize("sid", shipped_scenarios())
def test_every_shipped_scenario_resolves_to_the_regime_of_its_date(sid: str) -> None:
    sc: Scenario = load_scenario(sid)
    assert sc.date is not None, f"{sid} has no date"
    policy = policy_for(sc.regime, sc.date)
    t = dt.datetime.combine(sc.date, dt.time(12), tzinfo=dt.UTC)
    missile_kinds = {"missile_track", "missile_warning", "launch_report"}
    in_force = {a.id for a in policy.in_force(t)
                if missile_kinds & {str(k) for k in a.kinds}}
    expected, route_text = _expected_regime(sc.date)
    assert in_force == expected, sid
    route = policy.route("JPN", "KOR", "missile_track", t, {"USA", "JPN", "KOR"}, "JPN")
    got = (f"direct {route.agreement_ids[0]}" if isinstance(route, Direct)
           else f"relay {route.agreement_ids[0]}" if isinstance(route, Relay) else "none")
    assert got == route_text, (sid, route.reason)
    if sc.regime is None:
        assert policy.name == f"record-{sc.date.isoformat()} 12:00 UTC"


def test_the_eras_of_the_library() -> None:
    eras = {sid: _expected_regime(load_scenario(sid).date or dt.date.min)[1]
            for sid in shipped_scenarios()}
    assert eras["2017-08-29-hwasong12-overflight"] == "direct gsomia"  # GSOMIA from 2016-11
    assert eras["2022-10-04-irbm-overflight"] == "direct gsomia"
    assert eras["2023-12-17-srbm"] == "direct gsomia"  # two days before real time
    assert eras["exercise-pacific-dragon-2024"] == "direct trilateral-realtime-2023"


def test_trilink_scenarios_lists_the_new_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for sid in ("exercise-pacific-dragon-2024", "2022-11-03-icbm-failed",
                "2023-04-13-hwasong18"):
        assert sid in out
    assert "Pacific Dragon" in out
