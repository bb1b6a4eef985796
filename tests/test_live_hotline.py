"""The hotline in a live replay: each node runs the scenario's simulated authorities on its
own desk, on its own clock, seeded as ``trilink run`` seeds them; the nodes record what
their desks did, the summary fills each launch's consultation block from those records,
and ``trilink exercise score`` scores a live folder like a simulated one.

The live run is the parity test's (tests/live_run.py, checked by :func:`check_hotline`
from ``test_live_parity``): the consultation opens, all join and a statement is
released, and the times are compared with the simulation of the same scenario and seed.
One test runs three wall-clock nodes (``trilink node --sim-authorities``, no replay clock)
over a real nats-server; the others are quick checks of the pieces, without a server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from live_run import SCENARIO, LiveRun

from trilink.cli import main
from trilink.hotline.desk import DeskOutput
from trilink.hotline.simulated import Agenda, ResponseModel, SimAuthorities, plans_for
from trilink.live.record import read_record
from trilink.live.replay import scenario_truth
from trilink.live.summary import consultation_block, launch_consultations
from trilink.sim.scenario import load_scenario

# Wall seconds one hotline hop (a post through NATS to a partner's node and its loop) may
# take live beyond what the simulation models. A step's time in scenario seconds may
# then differ by hops x speed x this: the tolerance follows from the replay's speed.
HOP_WALL_S = 0.5
HOPS = {"all_joined_s": 2,  # open -> partners; their joins -> the opener
        "statement_released_s": 4}  # + the draft -> partners; their approvals -> the opener


def check_hotline(live_run: LiveRun, ref: dict[str, Any], aar: Path) -> None:
    """The live run's consultation blocks against ``ref`` (``trilink run``'s summary of
    the same scenario and seed), and the after-action report scored from the folder."""
    live, out = live_run.summary, live_run.out
    speed = float(live["speed"])
    assert live["sim_authorities"] is True
    for got, want in zip(live["launches"], ref["launches"], strict=True):
        g, w = got["consultation"], want["consultation"]
        assert w["statement_released_s"] is not None, "the reference must release one"
        assert g["id"] == w["id"]
        # Opened by the node's watch in an assessment round, at a scan's time.
        assert abs(g["opened_s"] - w["opened_s"]) <= 2.0
        for key, hops in HOPS.items():
            assert g[key] is not None, key
            assert abs(g[key] - w[key]) <= hops * speed * HOP_WALL_S, (key, g[key], w[key])
        assert g["opened_s"] < g["all_joined_s"] < g["statement_released_s"]
    opener = str(live["launches"][0]["consultation"]["id"]).rsplit("-", 1)[0]
    rec = read_record(out / "nodes" / f"{opener}.node.json")
    assert rec["record_version"] == 2 and rec["sim_authorities"] is True
    (cid, entry), = rec["hotline"].items()
    assert entry["state"] == "concluded" and entry["merged_into"] is None
    assert sorted(entry["parties"]) == ["JPN", "KOR", "USA"]
    assert any(r[1] == cid and r[3] is not None for r in rec["raised"])
    assert main(["exercise", "score", str(out), "--out", str(aar)]) == 0
    doc = json.loads((aar / "after_action.json").read_text(encoding="utf-8"))
    by_id = {o["id"]: o for o in doc["objectives"]}
    blocks = [lc["consultation"] for lc in live["launches"]]
    assert by_id["consult"]["met"] is True
    assert by_id["consult"]["value"] == max(b["opened_s"] for b in blocks)
    assert by_id["joint-statement"]["met"] is True
    assert by_id["joint-statement"]["value"] == max(b["statement_released_s"] for b in blocks)
    assert doc["not_measured"] == 0


def test_plans_follow_only_what_the_desk_put_out() -> None:
    authorities = SimAuthorities("JPN", ResponseModel(), 0, salt=SCENARIO)
    agenda = Agenda(authorities)
    assert plans_for(authorities, None, DeskOutput(), 5.0) == []  # type: ignore[arg-type]
    agenda.observe(None, DeskOutput(), 5.0)  # type: ignore[arg-type]
    assert len(agenda) == 0 and agenda.next_due_s() is None and agenda.pop_due(1e9) is None


def test_a_version_1_node_record_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "USA.node.json"
    path.write_text(json.dumps({"record_version": 1, "nation": "USA", "consultations": [
        ["USA-1", 30.6]]}), encoding="utf-8")
    rec = read_record(path)
    assert rec["raised"] == [] and rec["hotline"] == {}
    assert rec["consultations"] == [["USA-1", 30.6]]


def test_the_consultation_block_is_the_raised_ones_after_merges() -> None:
    """KOR raised the missile first, into KOR-1; KOR-1 was merged into USA-1: the launch's
    block is USA-1's, from the USA's record, in seconds after the launch."""
    truth = scenario_truth(load_scenario(SCENARIO))
    launch = float(truth.launch_t_s[0])
    t = launch + 40.0
    at = [t, *(float(v) for v in np.asarray(truth.at(t).r_ecef_m)[0])]
    records: dict[str, dict[str, Any]] = {
        "KOR": {"raised": [["KOR-F1", "KOR-1", t, at]], "hotline": {"KOR-1": {
            "opened_s": t, "all_joined_s": None, "statement_released_s": None,
            "merged_into": "USA-1"}}},
        "USA": {"raised": [["USA-F1", "USA-1", t + 5.0, at], ["USA-F2", "USA-9", t, None]],
                "hotline": {"USA-1": {"opened_s": t + 2.0, "all_joined_s": t + 600.0,
                                      "statement_released_s": t + 4000.0,
                                      "merged_into": None}}},
        "JPN": {"raised": [], "hotline": {}}}
    assert launch_consultations(truth, records) == {0: "USA-1"}
    assert consultation_block(records, "USA-1", launch) == {
        "id": "USA-1", "opened_s": 42.0, "all_joined_s": 640.0,
        "statement_released_s": 4040.0}


def test_live_nodes_on_the_wall_clock_let_their_simulated_authorities_act(
        tmp_path: Path) -> None:
    """``trilink node --sim-authorities`` without a replay clock: a person opens at JPN
    through the control API; the three desks' simulated people (quick: tenths of a
    second) read, join, draft, approve, release and conclude, on the wall clock, through
    the desks, over a real nats-server; each node's ``status`` shows their agenda."""
    import asyncio

    from test_hotline_nats import NATIONS as LIVE_NATIONS
    from test_hotline_nats import ctl, make_nodes, until

    from trilink.bus.server import nats_server
    from trilink.hotline.desk import DeskConfig
    from trilink.hotline.simulated import Delay
    from trilink.live import LiveNode

    quick = ResponseModel(read=Delay(0.05, 0.0), join=Delay(0.1, 0.0),
                          draft=Delay(0.2, 0.0), approve=Delay(0.1, 0.0),
                          conclude=Delay(0.1, 0.0))

    async def run(url: str) -> None:
        nodes = make_nodes(url, DeskConfig(ack_deadline_s=5.0))
        for n, live in list(nodes.items()):  # the same nodes, with their people
            nodes[n] = LiveNode(live.node, url, ack_wait_s=5.0,
                                authorities=SimAuthorities(n, quick, 0, salt="wall"))
        for live in nodes.values():
            await live.start()
        try:
            cid = (await ctl(url, "JPN", op="open", parties=["USA", "KOR"],
                             topic="launch"))["consultation"]

            async def concluded() -> bool:
                show = await ctl(url, "KOR", op="show", consultation=cid)
                return show["state"] == "concluded" and any(
                    s["released"] for s in show["statements"])

            await until(concluded, "the simulated people to release and conclude")
            show = await ctl(url, "JPN", op="show", consultation=cid)
            whats = [p["what"] for p in show["transcript"]]
            assert whats.count("join") == 2 and "draft" in whats and "release" in whats
            assert {p["origin"] for p in show["transcript"] if p["what"] == "approve"} \
                == set(LIVE_NATIONS)
            status = await ctl(url, "USA", op="status")
            assert set(status["sim_authorities"]) == {"planned", "next_s", "hotline_queued",
                                                      "hotline_seen"}
            assert status["sim_authorities"]["hotline_seen"] > 0
        finally:
            for live in nodes.values():
                await live.stop()

    with nats_server(tmp_path / "js") as url:
        asyncio.run(run(url))
