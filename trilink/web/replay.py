"""A simulated replay as picture streams: the sim federation, converted with picture_events.

For dashboards, CoT and their tests and benchmarks when no live node runs: the scenario
is simulated in-process (:func:`trilink.sim.federation.run_federation_async`, the same
nodes, sensors and agreements as ``trilink run``), every node step is converted with
:func:`trilink.web.publish.picture_events`, and the events are kept in node-time order
(:class:`Replay`) to be published on ``trilink.picture.<NATION>`` as fast as possible,
up to a moment, or on a scaled wall clock (:func:`publish`).

The driver hands every node output to ``on_output``, so the events are made exactly as
the live node makes them: from the node and its output (envelopes accepted, warnings,
assessments, hotline traffic).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from trilink.fileio import write_bytes_atomic
from trilink.node import NationalNode, NodeOutput
from trilink.web.publish import PicturePublisher, picture_subject


@dataclass(frozen=True)
class Timed:
    nation: str
    t_s: float  # node time (s since the scenario epoch)
    data: bytes


@dataclass
class Replay:
    """Every node's picture events of one simulated run, in node-time order."""

    scenario_id: str
    nations: tuple[str, ...]
    events: list[Timed] = field(default_factory=list)
    first_warning_s: dict[str, float] = field(default_factory=dict)
    end_s: float = 0.0
    # Wall-clock cost of each picture_events call during the simulation (s; benchmarks).
    step_costs_s: list[float] = field(default_factory=list)

    def of(self, nation: str) -> list[Timed]:
        return [e for e in self.events if e.nation == nation]

    def until(self, t_s: float) -> list[Timed]:
        """The events up to node time ``t_s``."""
        return [e for e in self.events if e.t_s <= t_s]

    def dump(self) -> bytes:
        return msgspec.msgpack.encode(_Saved(
            self.scenario_id, list(self.nations),
            [(e.nation, e.t_s, e.data) for e in self.events], self.first_warning_s,
            self.end_s, self.step_costs_s))

    @classmethod
    def load(cls, data: bytes) -> Replay:
        s = msgspec.msgpack.decode(data, type=_Saved)
        return cls(s.scenario_id, tuple(s.nations), [Timed(n, t, d) for n, t, d in s.events],
                   dict(s.first_warning_s), s.end_s, list(s.step_costs_s))


class _Saved(msgspec.Struct, array_like=True):
    scenario_id: str
    nations: list[str]
    events: list[tuple[str, float, bytes]]
    first_warning_s: dict[str, float]
    end_s: float
    step_costs_s: list[float]


async def simulate_replay(scenario_id: str, seed: int = 0,
                          rel_to: dict[str, Sequence[str]] | None = None,
                          min_interval_s: float = 1.0) -> Replay:
    """Simulate a shipped scenario (or a scenario file) as ``trilink run`` does — the
    nodes assess their pictures, warn and consult, simulated authorities answer — and
    collect every node output converted with a :class:`PicturePublisher`.

    ``rel_to``: the releasability of each nation's own tracks (default: everyone)."""
    from trilink.bus.memory import InMemoryBus
    from trilink.hotline.simulated import SimAuthorities
    from trilink.sharing.policy import policy_for
    from trilink.sim.federation import NATIONS, run_federation_async
    from trilink.sim.flights import fly_scenarios
    from trilink.sim.hotline import desk_config, response_models
    from trilink.sim.run import injector, link_cuts, scenario_watch
    from trilink.sim.scenario import load_scenario, shipped_scenario_path
    from trilink.sim.truth import Truth

    path = shipped_scenario_path(scenario_id)
    scenario = load_scenario(path if path is not None else scenario_id)
    truth = Truth.from_launch_flights(fly_scenarios([scenario]))
    policy = policy_for(scenario.regime, scenario.date)
    nations = tuple(n for n in NATIONS if n in scenario.nations) or NATIONS
    end_s = float(truth.end_t_s)
    replay = Replay(scenario.id, nations, end_s=end_s)
    spec = scenario.hotline
    # As `trilink run`: an exercise's own targets are drills (and the dashboard says so).
    watch = {n: scenario_watch(scenario, truth.epoch, nations, end_s) for n in nations}
    models = response_models(spec, nations)
    authorities = ({n: SimAuthorities(n, models[n], seed, salt=scenario.id) for n in nations}
                   if spec.enabled else None)
    pubs = {n: PicturePublisher(n, min_interval_s) for n in nations}

    def on_output(who: str, node: NationalNode, out: NodeOutput, now: float) -> None:
        if out.warnings:
            replay.first_warning_s.setdefault(who, min(float(w.t_s) for w in out.warnings))
        t0 = time.perf_counter()
        encoded = pubs[who].events(node, out, now)
        replay.step_costs_s.append(time.perf_counter() - t0)
        replay.events.extend(Timed(who, now, ev) for ev in encoded)

    # The exercise's injects (hotline requests at set times), as `trilink run` applies them.
    inject, _ = injector(scenario, truth.epoch, nations) if truth.epoch is not None else (
        None, [])
    run = await run_federation_async(truth, policy, InMemoryBus(), seed, nations, rel_to,
                                     on_step=inject, authorities=authorities,
                                     desk_config=desk_config(spec), watch=watch,
                                     on_output=on_output,
                                     cuts=link_cuts(scenario, truth.epoch)
                                     if truth.epoch is not None else ())
    last = max((e.t_s for e in replay.events), default=end_s)
    for n, node in run.nodes.items():  # the last states, whatever the throttle held back
        replay.events.extend(Timed(n, last, ev)
                             for ev in pubs[n].events(node, None, last, force=True))
    replay.events.sort(key=lambda e: e.t_s)  # stable: each node's order is kept
    return replay


async def publish(js: Any, events: Sequence[Timed], speed: float | None = None,
                  t0_s: float | None = None,
                  on_event: Callable[[Timed, int], None] | None = None) -> int:
    """Publish ``events`` on their nations' picture subjects (streams must exist).

    ``speed`` None: as fast as JetStream acknowledges; else on the wall clock, ``speed``
    node seconds per second from ``t0_s`` (default: the first event's time). Returns the
    number published; ``on_event(event, stream_seq)`` after each acknowledgement."""
    if not events:
        return 0
    start_node = events[0].t_s if t0_s is None else t0_s
    start_wall = time.monotonic()
    for e in events:
        if speed is not None:
            delay = (e.t_s - start_node) / speed - (time.monotonic() - start_wall)
            if delay > 0:
                await asyncio.sleep(delay)
        ack = await js.publish(picture_subject(e.nation), e.data)
        if on_event is not None:
            on_event(e, int(ack.seq))
    return len(events)


def cached_replay(scenario_id: str, folder: Path, seed: int = 0,
                  rel_to: dict[str, Sequence[str]] | None = None) -> Replay:
    """:func:`simulate_replay`, kept in ``folder`` (tests and benchmarks share one run;
    the file name holds every input — scenario, seed, release lists and the digest of the
    package's code and data — and a broken file is simulated again)."""
    import hashlib

    h = hashlib.sha256(repr((scenario_id, seed, sorted((rel_to or {}).items()))).encode())
    # Any change to the code or data the run depends on makes a new file.
    package = Path(__file__).parent.parent
    for source in sorted(package.rglob("*")):
        if source.suffix in (".py", ".yaml", ".csv", ".json") and source.is_file():
            h.update(str(source.relative_to(package)).encode())
            h.update(source.read_bytes())
    key = h.hexdigest()[:16]
    path = folder / f"replay-{key}.msgpack"
    folder.mkdir(parents=True, exist_ok=True)
    import fcntl

    # One simulation for all the processes that want it at once (pytest-xdist workers).
    with open(folder / f"replay-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return Replay.load(path.read_bytes())
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            pass
        replay = asyncio.run(simulate_replay(scenario_id, seed, rel_to))
        write_bytes_atomic(path, replay.dump())
        return replay
