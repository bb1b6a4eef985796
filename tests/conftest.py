"""Shared fixtures: the shipped historical scenarios, fitted once per test session; and
the xdist scheduling that keeps a costly shared fixture on one worker."""

from __future__ import annotations

from typing import Any

import pytest

from trilink.sim.flights import LaunchFlight, fly_scenarios
from trilink.sim.scenario import load_scenario, shipped_scenarios

# Test modules that share a fixture costing seconds (a module or session fixture), mapped
# to a group. Under `pytest -n 2` (`--dist loadgroup` in pyproject.toml) xdist's load
# scheduling sends consecutive tests in batches, and a module cut between two batches
# builds its fixture on both workers; here a batch that takes one test of a group takes
# all of the group's tests still waiting, so one worker builds it once. (The
# `xdist_group` mark would say this per module, but pytest-xdist 3.8 tags the node ids
# through an attribute pytest 9 no longer reads: the mark groups nothing; and xdist's own
# loadgroup sends every other test one at a time, which cuts every module.)
ONE_WORKER_GROUPS = {
    "tests/test_cross_validation.py": "cross-validation",  # ten leave-one-out fits
    "tests/test_compare.py": "compare",  # 3 runs x 3 regimes simulated
    "tests/test_executors.py": "dask-cluster",  # a LocalCluster of 2 processes
    # `historical_flights` below: every shipped event fitted.
    "tests/test_fit.py": "historical-flights",
    "tests/test_sensors_infrared.py": "historical-flights",
    "tests/test_sensors_scans.py": "historical-flights",
    "tests/test_territory.py": "historical-flights",
    # Other modules' own module fixtures, measured built on both workers under load:
    "tests/test_cyber_run.py": "cyber-run",  # a `trilink run` of the cyber scenario
    "tests/test_hotline_run.py": "hotline-run",  # the overflight simulated
    "tests/test_federation.py": "federation",  # two scenarios fitted
}


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


def _group(nodeid: str) -> str | None:
    """The group of a test: an `xdist_group` suffix xdist managed to add, else its
    module's entry in :data:`ONE_WORKER_GROUPS`."""
    if nodeid.rfind("@") > nodeid.rfind("]"):
        return nodeid.rsplit("@", 1)[1]
    return ONE_WORKER_GROUPS.get(nodeid.split("::", 1)[0])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``--dist loadgroup``: xdist's load scheduling, each group sent whole."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScheduling

    class LoadWholeGroups(LoadScheduling):
        def _send_tests(self, node: Any, num: int) -> None:
            chosen = self.pending[:num]
            assert self.collection is not None
            groups = {_group(self.collection[i]) for i in chosen} - {None}
            if groups:
                chosen += [i for i in self.pending[num:]
                           if _group(self.collection[i]) in groups]
            if chosen:
                sent = set(chosen)
                self.pending[:] = [i for i in self.pending if i not in sent]
                self.node2pending[node].extend(chosen)
                node.send_runtest_some(chosen)

    return LoadWholeGroups(config, log)
