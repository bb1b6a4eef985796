"""Parity: a scenario replayed live (three node processes, a real nats-server, the feed
on the wall clock at x20) decides what the simulation decides.

The 2022-11-02 SRBM south of the NLL (306 s of scenario, about 15 s of wall clock), with
quick simulated authorities (tests/live_run.py): the ROK warns and opens a consultation.
Checked against ``simulate`` of the same scenario and seed: the set of partner tracks
each nation received (by the replay's end), the number of CAP messages per nation, each
nation's first warning per launch (within 2 s of scenario time), CAP files valid against
the CAP 1.2 schema, and audits that verify.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from live_run import LiveRun, replay_with_dashboards
from test_live_hotline import check_hotline
from test_live_serve import check_dashboards

from trilink.live.record import read_record
from trilink.live.replay import scenario_nations, scenario_truth
from trilink.sharing.audit import verify_audit_file
from trilink.sharing.policy import policy_for
from trilink.sim.run import simulate, summarize
from trilink.sim.scenario import load_scenario
from trilink.warning.cap import validate


def test_live_replay_matches_the_simulation_and_serves_its_dashboards(tmp_path: Path) -> None:
    """One replay for all three (three node processes take ~13 s to start): parity here,
    the dashboards of ``--serve`` in :func:`test_live_serve.check_dashboards`, the
    hotline's simulated authorities in :func:`test_live_hotline.check_hotline`."""
    live_run = replay_with_dashboards(tmp_path / "live")
    ref = check_parity(live_run)
    check_dashboards(live_run)
    check_hotline(live_run, ref, tmp_path / "aar")


def check_parity(live_run: LiveRun) -> dict[str, Any]:
    """The parity checks; returns the simulation's summary (the reference)."""
    out, live = live_run.out, live_run.summary
    sc = load_scenario(live_run.scenario)
    truth = scenario_truth(sc)
    sim = simulate(sc, truth, policy_for(sc.regime, sc.date), 0)
    ref = summarize(sim)
    nations = scenario_nations(sc)
    assert sum(len(sim.warnings[n]) for n in nations) > 0, "the reference must warn"
    for n in nations:
        rec = read_record(out / "nodes" / f"{n}.node.json")
        assert rec["scans"] > 0 and rec["feed_rejected"] == 0
        # The replay stops once its hotline is quiet, past the last impact; the
        # simulation runs on until its desks are quiet (a 1,800 s GSOMIA track can
        # arrive after that).
        horizon = rec["stopped_s"]
        assert horizon >= truth.end_t_s
        want = {k for k, t in sim.run.nodes[n].first_seen.items() if t <= horizon}
        assert set(rec["first_seen"]) == want, n
        assert len(rec["cap_files"]) == len(sim.warnings[n]), n
        assert verify_audit_file(out / "audit" / f"{n}.sqlite").ok, n
    files = sorted((out / "alerts").glob("*.xml"))
    assert len(files) == sum(len(sim.warnings[n]) for n in nations)
    for f in files:
        assert validate(f.read_bytes()) == [], f
    assert [lc["id"] for lc in live["launches"]] == [lc["id"] for lc in ref["launches"]]
    for got, want in zip(live["launches"], ref["launches"], strict=True):
        for n in nations:
            g, w = got["nations"][n], want["nations"][n]
            assert set(g) == set(w)
            assert g["first_detection_s"] == w["first_detection_s"]
            assert g["first_track_s"] == w["first_track_s"]
            assert g["warning_level"] == w["warning_level"], n
            if w["first_warning_s"] is None:
                assert g["first_warning_s"] is None, n
            else:
                assert g["first_warning_s"] is not None, n
                assert abs(g["first_warning_s"] - w["first_warning_s"]) <= 2.0, n
    return ref
