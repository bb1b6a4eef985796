"""trilink from Python in a few lines: run a scenario, compare regimes, start a live node.

The names here are re-exported by ``trilink`` itself (``trilink.run_scenario`` …); they
are thin, typed wrappers over the modules that do the work, with the same checks as the
command line (a bad input raises a :class:`~trilink.errors.TrilinkError` subclass whose
message is one line)::

    import trilink

    summary = trilink.run_scenario("2022-10-04-irbm-overflight", "out")
    comparison = trilink.compare_regimes(["2022-10-04-irbm-overflight"],
                                         ["tisa-relay", "trilateral-realtime"], runs=5)
    node = await trilink.start_node("JPN", "keys", "nats://127.0.0.1:4222")
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trilink.errors import UsageError

if TYPE_CHECKING:
    from trilink.live.node import LiveNode
    from trilink.sim.scenario import Scenario

__all__ = ["compare_regimes", "run_scenario", "start_node"]


def run_scenario(scenario: str | os.PathLike[str] | Scenario, out_dir: str | os.PathLike[str],
                 *, seed: int = 0, regime: str | None = None) -> dict[str, Any]:
    """Run a scenario end to end, as ``trilink run``; returns the summary (summary.json).

    ``scenario``: a file, the id of a shipped scenario, or a loaded :class:`Scenario`.
    Writes summary.json, alerts/*.xml, audit/<NATION>.sqlite, record.json and
    report.html into ``out_dir`` (created if missing; existing outputs are replaced).
    """
    from trilink.sim.run import run_scenario as _run
    from trilink.sim.scenario import Scenario, load_scenario

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(os.fspath(scenario))
    return _run(sc, Path(out_dir), seed=seed, regime=regime)


def compare_regimes(scenarios: Sequence[str], regimes: Sequence[str] = (),
                    dates: Sequence[dt.date] = (), *, runs: int = 20, seed: int = 0,
                    baseline: str | None = None, workers: int | None = None,
                    out_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Compare sharing regimes on the same launches and measurements, as
    ``trilink compare``; returns the comparison (comparison.json).

    ``regimes`` are regime ids; each of ``dates`` adds the agreements in force that day.
    With ``out_dir`` the comparison's files are written there too.
    """
    from trilink.analysis.compare import (
        CompareSpec,
        regime_for_date,
        run_comparison,
        write_outputs,
    )

    labels = [*regimes, *(regime_for_date(d) for d in dates)]
    if not labels:
        raise UsageError("compare_regimes: give at least one regime or date")
    spec = CompareSpec(tuple(scenarios), tuple(labels), runs, seed, baseline, None)
    comparison, rows = run_comparison(spec, workers=workers)
    if out_dir is not None:
        write_outputs(Path(out_dir), comparison, rows)
    return comparison


async def start_node(nation: str, keys_dir: str | os.PathLike[str],
                     nats_url: str = "nats://127.0.0.1:4222", *, regime: str | None = None,
                     date: dt.date | None = None,
                     alerts_dir: str | os.PathLike[str] | None = None) -> LiveNode:
    """Start a national node live over NATS JetStream, as ``trilink node``; returns it
    running (its own sensors in, tracks shared, warnings out). ``await node.stop()``
    ends it. ``keys_dir`` is a folder written by ``trilink keys new``."""
    from trilink.live.client import check_url
    from trilink.live.keys import load_keys_dir
    from trilink.live.node import UNIX_EPOCH, LiveNode, live_national_node
    from trilink.nations import parse_nations
    from trilink.sharing.policy import policy_for

    parsed = parse_nations(nation, "nation")
    if len(parsed) != 1:
        raise UsageError(f"nation: expected one ISO alpha-3 code (e.g. JPN), got {nation!r}")
    me = parsed[0]
    check_url(nats_url)
    key, registry = load_keys_dir(Path(keys_dir), me)
    national = live_national_node(me, key, registry, policy_for(regime, date),
                                  epoch=UNIX_EPOCH)
    live = LiveNode(national, nats_url, sensors=True,
                    alerts_dir=None if alerts_dir is None else Path(alerts_dir))
    await live.start()
    return live
