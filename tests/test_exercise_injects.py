"""Exercise injects: a hotline request at a set time, in the scenario file, applied by
the simulation — the nation's desk opens the consultation then, its partners' desks
receive it and their simulated authorities join; a bad inject is one error line."""

from __future__ import annotations

from pathlib import Path

import pytest

from trilink.sharing.policy import policy_for
from trilink.sim.flights import fly_scenarios
from trilink.sim.run import Simulation, simulate
from trilink.sim.scenario import ScenarioInvalidError, parse_scenario, shipped_scenario_path
from trilink.sim.truth import Truth

SCENARIO = "2023-12-17-srbm"  # short: one SRBM into the sea
INJECT = """
injects:
  - kind: hotline_request
    nation: KOR
    at_s: 45
    parties: [JPN]
    authority: nsa
    topic: 'EXERCISE inject: ROK NSA asks Japan to consult'
"""


def _text(extra: str) -> str:
    path = shipped_scenario_path(SCENARIO)
    assert path is not None
    return path.read_text(encoding="utf-8") + extra


@pytest.fixture(scope="module")
def sim() -> Simulation:
    scenario = parse_scenario(_text(INJECT), "inject.yaml")
    truth = Truth.from_launch_flights(fly_scenarios([scenario]))
    return simulate(scenario, truth, policy_for(scenario.regime, scenario.date), 0)


def test_a_hotline_request_is_opened_at_its_time_and_answered(sim: Simulation) -> None:
    assert len(sim.injected) == 1
    k, nation, t_s, cid = sim.injected[0]
    assert (k, nation) == (0, "KOR") and cid.startswith("KOR-")
    assert 45.0 <= t_s < 60.0  # at the nation's first event at or after its time
    kor = sim.run.nodes["KOR"].hotline.consultations[cid]
    assert kor.parties == ("JPN", "KOR")
    assert kor.opening.t_s == t_s and str(kor.opening.authority) == "nsa"
    # Japan's desk got it, the United States' did not (not a party).
    assert cid in sim.run.nodes["JPN"].hotline.consultations
    assert cid not in sim.run.nodes["USA"].hotline.consultations
    joined = {p.origin for p in kor.transcript() if str(p.what) == "join"}
    assert "JPN" in joined  # Japan's simulated authorities answered the request


def test_an_inject_for_a_nation_not_in_the_scenario_is_one_error_line() -> None:
    bad = INJECT.replace("parties: [JPN]", "parties: [PRK]")
    with pytest.raises(ScenarioInvalidError) as err:
        parse_scenario(_text(bad), "inject.yaml")
    assert "injects.0.parties" in str(err.value) and "\n" not in str(err.value).strip()
    late = INJECT.replace("at_s: 45", "at_s: 45\n    after: NOPE")
    with pytest.raises(ScenarioInvalidError, match="no launch 'NOPE'"):
        parse_scenario(_text(late), "inject.yaml")


def test_the_dashboards_replay_applies_the_inject_too(tmp_path: Path) -> None:
    import asyncio

    from trilink.web.publish import decode_event
    from trilink.web.replay import simulate_replay

    path = tmp_path / "inject.yaml"
    path.write_text(_text(INJECT), encoding="utf-8")
    replay = asyncio.run(simulate_replay(str(path)))
    opened = [ev for ev in (decode_event(e.data) for e in replay.of("KOR"))
              if ev.kind == "hotline" and getattr(ev.item, "what", "") == "open"
              and "EXERCISE inject" in getattr(ev.item, "text", "")]
    assert opened and opened[0].rel_to == ["JPN", "KOR"]
