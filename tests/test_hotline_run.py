"""Consultations in simulated runs: automatic opening, fact sheets, per-launch figures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trilink.hotline.factsheet import equivalent_range_m, trajectory_class
from trilink.sharing.policy import policy_for
from trilink.sim.flights import fly_scenarios
from trilink.sim.hotline import consultation_records
from trilink.sim.run import simulate, summarize
from trilink.sim.scenario import (
    ScenarioInvalidError,
    load_scenario,
    parse_scenario,
    shipped_scenario_path,
)
from trilink.sim.truth import Truth


def _sim(scenario_id: str, seed: int = 0, edit=None):
    path = shipped_scenario_path(scenario_id)
    assert path is not None
    scenario = load_scenario(path)
    if edit is not None:
        scenario = parse_scenario(edit(path.read_text()), str(path))
    truth = Truth.from_launch_flights(fly_scenarios([scenario]))
    policy = policy_for(scenario.regime, scenario.date)
    return simulate(scenario, truth, policy, seed)


@pytest.fixture(scope="module")
def overflight():
    return _sim("2022-10-04-irbm-overflight")


def test_the_overflight_opens_a_consultation_with_a_fact_sheet(overflight):
    sim = overflight
    summary = summarize(sim)
    (launch,) = summary["launches"]
    c = launch["consultation"]
    assert c["id"] is not None
    # Opened by Japan on the predicted overflight (its first ballistic assessment after
    # burnout), with the Update that narrowed the public warning to that overflight; the
    # warning itself went out earlier, in the boost (docs/warning.md, boost-phase warning).
    jpn_warning = launch["nations"]["JPN"]["first_warning_s"]
    launch_s = float(sim.truth.launch_t_s[0])
    narrowed = min(ev.t_s for ev, _ in sim.warnings["JPN"]
                   if ev.message.msg_type == "Update") - launch_s
    assert 0 < jpn_warning < c["opened_s"] <= narrowed + 10
    assert c["opened_s"] < c["all_joined_s"] < c["statement_released_s"]
    desks = {n: sim.run.nodes[n].hotline for n in sim.nations}
    (rec,) = consultation_records(desks, sim.truth.ids, sim.consultation_missiles)
    assert rec["opener"] == "JPN" and "overflight" in rec["trigger"]
    assert rec["state"] == "concluded"
    assert rec["launches"] == [sim.truth.ids[0]]
    sheet = rec["fact_sheet"]
    assert sheet["trajectory_class"] == "IRBM"
    # Back-propagated launch point within 100 km of the true site (Mupyong-ni).
    site = sim.scenario.launches[0].site
    assert abs(sheet["launch_lat_deg"] - site.lat_deg) < 1.0
    assert abs(sheet["launch_lon_deg"] - site.lon_deg) < 1.2
    impact = rec["fact_sheet"]["impact_lat_deg"], rec["fact_sheet"]["impact_lon_deg"]
    assert impact[1] > 150.0  # far out in the Pacific, east of Japan
    assert any(w["nation"] == "JPN" and w["level"] == "take_shelter" for w in sheet["warnings"])
    assert rec["statement"]["released"] and rec["statement"]["signers"] == ["JPN", "KOR", "USA"]
    # Every node holds the same transcript.
    ts = {n: [p.msg_id for p in d.consultations[rec["id"]].transcript()]
          for n, d in desks.items()}
    assert ts["USA"] == ts["JPN"] == ts["KOR"]


def test_released_statements_are_written_and_verify_with_the_written_keys(overflight, tmp_path):
    from trilink.hotline.statement import check_release, parse_release_document
    from trilink.sharing.envelope import KeyRegistry
    from trilink.sim.run import write_statements

    (path,) = write_statements(overflight, tmp_path)
    registry = KeyRegistry.load(tmp_path / "keys.json")
    cons, parties, release = parse_release_document(path.read_text())
    assert check_release(cons, parties, release, registry) == ""
    doc = json.loads(path.read_text())
    assert doc["released_utc"].startswith("2022-10-0") and doc["parties"] == list(parties)
    other = KeyRegistry.from_json(  # keys of another run (seed) do not verify it
        _sim("2023-12-17-srbm", seed=9).run.nodes["JPN"].hotline.registry.to_json())
    assert check_release(cons, parties, release, other) != ""


def test_an_icbm_opens_a_consultation_on_its_trajectory_class():
    sim = _sim("2017-11-29-hwasong15")
    desks = {n: sim.run.nodes[n].hotline for n in sim.nations}
    recs = consultation_records(desks, sim.truth.ids, sim.consultation_missiles)
    assert recs and "ICBM-class" in recs[0]["trigger"]
    summary = summarize(sim)
    kept = summary["launches"][0]["consultation"]["id"]
    assert kept is not None
    for rec in recs:
        assert rec["fact_sheet"]["trajectory_class"] == "ICBM"
        assert rec["launches"] == [sim.truth.ids[0]]
        # A long boost makes the ballistic back-propagation minutes late: the sheet
        # gives the time the object entered the picture instead, an upper bound.
        sheet = rec["fact_sheet"]
        launch_t = float(sim.truth.launch_t_s[0])
        assert sheet["launch_t_basis"] == "no later than the first track"
        assert launch_t <= sheet["launch_t_s"] < rec["opened_t_s"]
        if rec["id"] != kept:  # simultaneous openings end merged (maybe via another)
            assert rec["state"] == "concluded" and rec["statement"] is None
            assert any(e["detail"].startswith("merged into ") for e in rec["events"])


def test_a_launch_into_the_open_sea_opens_nothing_unless_a_scenario_rule_says_so():
    quiet = _sim("2023-12-17-srbm")
    assert summarize(quiet)["launches"][0]["consultation"] == {
        "id": None, "opened_s": None, "all_joined_s": None, "statement_released_s": None}

    def every_launch(text: str) -> str:
        return text.replace("launches:", "hotline:\n  any_launch: true\nlaunches:", 1)

    ruled = _sim("2023-12-17-srbm", edit=every_launch)
    c = summarize(ruled)["launches"][0]["consultation"]
    assert c["opened_s"] is not None and c["all_joined_s"] is not None

    def disabled(text: str) -> str:
        return text.replace("launches:", "hotline:\n  enabled: false\n  any_launch: true\n"
                            "launches:", 1)

    off = _sim("2023-12-17-srbm", edit=disabled)
    assert summarize(off)["launches"][0]["consultation"]["id"] is None
    assert all(not n.hotline.consultations for n in off.run.nodes.values())


def test_slow_authorities_delay_the_consultation_and_unanswered_ones_are_escalated():
    def slow(text: str) -> str:
        return text.replace("launches:", (
            "hotline:\n  nations:\n    KOR:\n      join: {median_s: 5000, sigma: 0.1}\n"
            "      unavailable: {defence_ministry: 1.0}\nlaunches:"), 1)

    sim = _sim("2022-10-04-irbm-overflight", edit=slow)
    c = summarize(sim)["launches"][0]["consultation"]
    assert c["all_joined_s"] > 5000 * 0.7
    desks = {n: sim.run.nodes[n].hotline for n in sim.nations}
    (rec,) = consultation_records(desks, sim.truth.ids, sim.consultation_missiles)
    raised = [e for e in rec["events"] if e["what"] == "escalate" and "raised to KOR/nsa"
              in e["detail"]]
    assert raised
    # KOR's joining authority is its NSA now: its join came from there.
    assert any(e["what"] == "join" and e["nation"] == "KOR" for e in rec["events"])


def test_the_same_seed_gives_the_same_consultation_and_another_seed_another(overflight):
    again = _sim("2022-10-04-irbm-overflight")
    other = _sim("2022-10-04-irbm-overflight", seed=3)
    a = json.dumps(summarize(overflight)["launches"][0]["consultation"])
    assert a == json.dumps(summarize(again)["launches"][0]["consultation"])
    assert a != json.dumps(summarize(other)["launches"][0]["consultation"])


@pytest.mark.parametrize(("scenario_id", "expected"), [
    ("2017-11-29-hwasong15", "ICBM"), ("2023-03-16-hwasong17", "ICBM"),
    ("2017-07-28-hwasong14", "ICBM"), ("2022-10-04-irbm-overflight", "IRBM"),
    ("2017-05-14-hwasong12", "IRBM"), ("2023-12-17-srbm", "SRBM"),
])
def test_trajectory_class_from_energy_matches_the_missile_on_the_true_flight(
        scenario_id, expected):
    path = shipped_scenario_path(scenario_id)
    assert path is not None
    truth = Truth.from_launch_flights(fly_scenarios([load_scenario(path)]))
    t = float(truth.launch_t_s[0] + 0.5 * truth.flights.flight_time_s[0])
    s = truth.at(t)
    x = np.concatenate([s.r_ecef_m[0], s.v_ecef_m_s[0]])
    assert trajectory_class(x) == expected
    # Energy is nearly conserved along the arc (drag low down and the Earth-fixed frame
    # bend it a little): the class does not depend on when it is judged.
    t2 = float(truth.launch_t_s[0] + 0.8 * truth.flights.flight_time_s[0])
    s2 = truth.at(t2)
    x2 = np.concatenate([s2.r_ecef_m[0], s2.v_ecef_m_s[0]])
    assert equivalent_range_m(x2) == pytest.approx(equivalent_range_m(x), rel=0.08)


def test_bad_hotline_settings_name_the_line_and_field():
    path = shipped_scenario_path("2023-12-17-srbm")
    assert path is not None
    text = path.read_text().replace(
        "launches:", "hotline:\n  ack_deadline_s: 0\n  authority: president\nlaunches:", 1)
    with pytest.raises(ScenarioInvalidError) as err:
        parse_scenario(text, "bad.yaml")
    message = str(err.value)
    assert "bad.yaml:" in message and "hotline.ack_deadline_s" in message
    assert "hotline.authority" in message
