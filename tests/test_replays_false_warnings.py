"""The two false-warning cases of docs/warning.md, end to end: no public Alert that
reality did not warrant.

- 2022-11-03 (failed Hwasong-17): Japan's real J-Alert predicted an overflight of
  Miyagi, Yamagata and Niigata and was retracted; the missile broke up over the Sea of
  Japan and overflew no one.
- 2023-04-13 (Hwasong-18): Japan's radars lost the missile and a Hokkaido alert went out
  and was withdrawn; the missile fell outside Japan's zone.

Both runs go through the nodes as ``trilink run`` does (the scenario's agreements,
seed 0). Whether a warning was warranted is judged against the truth of the flight
(``outcomes``: overflight, and where the impact fell), not against a list of expected
times, so the test can fail for any nation and any level.
"""

from __future__ import annotations

import pytest

from trilink.sharing.policy import policy_for
from trilink.sim.flights import fly_scenarios
from trilink.sim.run import Simulation, outcomes, simulate, summarize
from trilink.sim.scenario import load_scenario, shipped_scenario_path
from trilink.sim.truth import Truth
from trilink.warning.assessment import WarningLevel

CASES = ("2022-11-03-icbm-failed", "2023-04-13-hwasong18")


def _sim(scenario_id: str, regime: str | None = None) -> Simulation:
    path = shipped_scenario_path(scenario_id)
    assert path is not None
    scenario = load_scenario(path)
    truth = Truth.from_launch_flights(fly_scenarios([scenario]))
    return simulate(scenario, truth, policy_for(regime or scenario.regime, scenario.date), 0)


@pytest.mark.parametrize("scenario_id", CASES)
def test_no_public_alert_that_reality_did_not_warrant(scenario_id: str) -> None:
    sim = _sim(scenario_id)
    summary = summarize(sim)
    for nation in sim.nations:
        truth_outcomes = outcomes(sim.truth, nation)
        # What happened: nobody was overflown, nothing fell on land or in territorial
        # waters (the failed ICBM's debris do fall in Japan's zone: a zone notice would
        # be warranted, a shelter or maritime warning would not).
        assert not any(o.overflight for o in truth_outcomes), nation
        assert all(o.impact_kind in (None, "eez") for o in truth_outcomes), nation
        for ev, k in sim.warnings[nation]:
            if ev.message.msg_type == "Cancel":
                continue
            level = WarningLevel(dict(ev.message.parameters)["trilink_level"])
            assert level not in (WarningLevel.TAKE_SHELTER, WarningLevel.MARITIME_WARNING), (
                f"{nation} {ev.message.msg_type} {level} at {ev.t_s:.0f} s")
            assert k is not None and truth_outcomes[k].impact_kind == "eez", (
                f"{nation} zone notice for a missile that fell outside its zone")
        for launch in summary["launches"]:
            assert launch["nations"][nation]["false_alarms"] == 0
    # The nodes did assess (not silent by accident): Japan saw the missile.
    assert sim.assessments["JPN"], "Japan never assessed the launch"


def test_the_failed_icbm_on_japans_radars_alone_is_held_not_alerted() -> None:
    """docs/warning.md: on Japan's own radars, its assessments of the burning missile
    put the impact on its land; the powered-flight hold (and the two-assessment rule)
    are what keep those from becoming an Alert."""
    sim = _sim("2022-11-03-icbm-failed", "national-only")
    jpn = sim.assessments["JPN"]
    above = [a for _, a, _ in jpn if a.level != WarningLevel.NONE]
    assert above, "no assessment above none: this case no longer exercises the rules"
    assert not [ev for ev, _ in sim.warnings["JPN"] if ev.message.msg_type == "Alert"]
