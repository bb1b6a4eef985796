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


# KOR's links to every partner lost 30..90 s after the launch (SRBM: KOR↔USA traffic
# then; KOR↔JPN goes on the 2023 route's half-hour delay, later).
LOST_LINK = """
injects:
  - kind: lost_link
    between: [KOR]
    at_s: 30
    duration_s: 60
"""


def test_a_lost_link_holds_its_messages_until_it_returns(tmp_path: Path) -> None:
    from trilink.sharing.audit import AuditLog, Direction

    scenario = parse_scenario(_text(LOST_LINK), "inject.yaml")
    truth = Truth.from_launch_flights(fly_scenarios([scenario]))
    assert truth.epoch is not None
    sim = simulate(scenario, truth, policy_for(scenario.regime, scenario.date), 0,
                   audit_dir=tmp_path)
    held = sim.run.held
    assert {(s, r) for s, r, *_ in held} == {("KOR", "USA"), ("USA", "KOR")}
    assert all(30.0 <= due < 90.0 and back == 90.0 for *_, due, back in held)
    epoch_ns = int(truth.epoch.timestamp() * 1e9)
    for nation, peer in (("KOR", "USA"), ("USA", "KOR")):
        log = AuditLog(tmp_path / f"{nation}.sqlite")
        got = [(r.t_ns - epoch_ns) / 1e9 for r in log.records()
               if r.direction == Direction.RECEIVED and r.peer == peer]
        seq_at_return = {r.seq for r in log.records() if r.direction == Direction.RECEIVED
                         and r.peer == peer and r.t_ns == epoch_ns + 90_000_000_000}
        log.close()
        assert got and not any(30.0 <= t < 90.0 for t in got)  # nothing during the cut
        # Everything held arrived (and was accepted) when the link came back.
        assert {int(m.split(":")[1]) for s, r, m, *_ in held if r == nation} <= seq_at_return
    assert sim.run.rejected == {n: [] for n in sim.nations}


def test_a_bad_lost_link_is_one_error_line() -> None:
    base = _text(LOST_LINK)
    line_of = {key: 1 + base.splitlines().index(f"    {key}: {value}")
               for key, value in (("between", "[KOR]"), ("duration_s", "60"))}
    for key, bad in (("between", "[KOR, PRK]"), ("between", "[KOR, KOR]"),
                     ("between", "[]"), ("duration_s", "0"), ("duration_s", ".inf")):
        old = "[KOR]" if key == "between" else "60"
        text = base.replace(f"    {key}: {old}", f"    {key}: {bad}")
        with pytest.raises(ScenarioInvalidError) as err:
            parse_scenario(text, "inject.yaml")
        message = str(err.value).strip()
        # FILE:LINE: field: problem, the path without the inject's kind.
        assert message.startswith(f"inject.yaml:{line_of[key]}: injects.0.{key}: "), message
        assert "\n" not in message


def test_the_live_launcher_sends_a_hotline_request_at_its_scenario_time(
        tmp_path: Path) -> None:
    import asyncio
    import json
    import time

    import nats
    from nats.aio.msg import Msg

    from trilink.bus.server import nats_server
    from trilink.live.client import control_subject
    from trilink.live.launch import apply_hotline_injects
    from trilink.live.replay import ScenarioClock

    # KOR's node answers (a stand-in on its control subject); nobody answers for USA.
    scenario = parse_scenario(_text(INJECT + INJECT.replace("injects:\n", "").replace(
        "nation: KOR", "nation: USA").replace("at_s: 45", "at_s: 50")), "inject.yaml")
    seen: list[tuple[float, dict[str, object]]] = []

    async def go(url: str) -> list[dict[str, object]]:
        node = await nats.connect(url)
        ops = await nats.connect(url)
        clock = ScenarioClock(scenario.epoch, time.time(), 100.0)  # 45 s: 0.45 s of wall

        async def answer(msg: Msg) -> None:
            seen.append((clock.scenario_s(), json.loads(msg.data)))
            await msg.respond(json.dumps({"ok": True, "consultation": "KOR-1"}).encode())

        await node.subscribe(control_subject("KOR"), cb=answer)
        await node.flush()
        try:
            return await apply_hotline_injects({"KOR": ops, "USA": ops}, scenario, clock,
                                               ("USA", "JPN", "KOR"), 300.0, lambda s: None)
        finally:
            await ops.close()
            await node.close()

    with nats_server(tmp_path / "js") as url:
        applied = asyncio.run(go(url))
    assert len(seen) == 1 and seen[0][0] >= 45.0  # not before its time
    assert seen[0][1] == {"op": "open", "parties": ["JPN"], "authority": "nsa",
                          "topic": "EXERCISE inject: ROK NSA asks Japan to consult",
                          "trigger": "exercise inject"}
    kor, usa = applied
    assert kor["reply"] == {"ok": True, "consultation": "KOR-1"} and "problem" not in kor
    assert usa["nation"] == "USA" and usa["problem"] == "refused"  # the run went on
