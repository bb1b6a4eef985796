"""Shared fixtures: the shipped historical scenarios, fitted once per test session."""

from __future__ import annotations

import pytest

from trilink.sim.flights import LaunchFlight, fly_scenarios
from trilink.sim.scenario import load_scenario, shipped_scenarios


@pytest.fixture(scope="session")
def historical_flights() -> dict[str, LaunchFlight]:
    """First launch of every shipped scenario, fitted, keyed by event id (the what-if
    scenarios, which are not events, left out)."""
    flights = fly_scenarios([load_scenario(s) for s in shipped_scenarios()
                             if not s.startswith("whatif-")])
    out: dict[str, LaunchFlight] = {}
    for lf in flights:
        out.setdefault(lf.scenario_id, lf)
    return out
