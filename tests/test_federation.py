"""Three national nodes sharing under the agreements in force (simulation bus)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trilink.bus import InMemoryBus
from trilink.sharing import shipped_regimes
from trilink.sharing.audit import AuditLog, verify_audit_file
from trilink.sharing.policy import Policy, Relay
from trilink.sim.federation import FederationRun, run_federation
from trilink.sim.flights import fly_scenarios
from trilink.sim.scenario import load_scenario
from trilink.sim.truth import Truth

REGIMES = shipped_regimes()


@pytest.fixture(scope="module")
def truth() -> Truth:
    return Truth.from_launch_flights(fly_scenarios([load_scenario("2022-10-04-irbm-overflight")]))


@pytest.fixture(scope="module")
def short_truth() -> Truth:
    """A short flight every nation tracks (0.8 s a federation run instead of 4 s): for the
    checks repeated under every regime."""
    return Truth.from_launch_flights(fly_scenarios([load_scenario("2023-12-17-srbm")]))


def _run(truth: Truth, regime: str, tmp: Path | None = None,
         rel_to: dict[str, tuple[str, ...]] | None = None) -> FederationRun:
    return run_federation(truth, Policy.for_regime(regime),
                          InMemoryBus(), seed=1,
                          rel_to=rel_to, audit_dir=tmp)


def test_realtime_trilateral_every_node_fuses_all_three_nations(truth: Truth) -> None:
    run = _run(truth, "trilateral-realtime")
    assert run.sent == run.delivered > 0
    for nation, node in run.nodes.items():
        assert not run.rejected[nation]
        assert run.received_from[nation] == {"USA", "JPN", "KOR"} - {nation}
        nations_per_object = [{k.split("/")[0] for k in o.sources} for o in node.fused()]
        assert {"USA", "JPN", "KOR"} in nations_per_object, nations_per_object


@pytest.mark.parametrize("regime", REGIMES)
def test_a_japan_only_item_never_reaches_korea(short_truth: Truth, regime: str,
                                               tmp_path: Path) -> None:
    """JPN releases its tracks to USA only: not in KOR's node nor in KOR's audit log."""
    run = _run(short_truth, regime, tmp_path, rel_to={"JPN": ("JPN", "USA")})
    assert "JPN" not in run.received_from["KOR"]
    for obj in run.nodes["KOR"].fused():
        assert not any(k.startswith("JPN/") for k in obj.sources)
    with AuditLog(tmp_path / "KOR.sqlite") as log:
        for rec in log.records():
            assert "originator JPN" not in (rec.detail or ""), rec
    # The US node still gets it wherever an agreement lets JPN share with the US.
    if regime != "national-only":
        assert "JPN" in run.received_from["USA"]
    for nation in ("USA", "JPN", "KOR"):
        assert verify_audit_file(tmp_path / f"{nation}.sqlite").ok


def test_tisa_relays_japan_korea_through_the_us_with_its_delay(truth: Truth,
                                                               tmp_path: Path) -> None:
    run = _run(truth, "tisa-relay", tmp_path)
    assert "JPN" in run.received_from["KOR"] and "KOR" in run.received_from["JPN"]
    with AuditLog(tmp_path / "USA.sqlite") as log:
        relayed = [r for r in log.records() if r.direction == "relayed"]
    assert relayed and {r.peer for r in relayed} == {"JPN", "KOR"}
    # Items relayed by the US reach KOR only after TISA's relay delay.
    with AuditLog(tmp_path / "JPN.sqlite") as log:
        first_sent = min(r.t_ns for r in log.records() if r.direction == "sent"
                         and r.peer == "USA" and "-> KOR" in (r.detail or ""))
    with AuditLog(tmp_path / "KOR.sqlite") as log:
        first_in = min(r.t_ns for r in log.records() if r.direction == "received"
                       and "originator JPN" in (r.detail or ""))
    assert truth.epoch is not None
    route = Policy.for_regime("tisa-relay").route("JPN", "KOR", "missile_track", truth.epoch,
                                                  ("USA", "JPN", "KOR"), "JPN")
    assert isinstance(route, Relay) and route.via == "USA"
    assert (first_in - first_sent) / 1e9 >= route.relay_delay_s > 0


def test_national_only_shares_nothing(truth: Truth) -> None:
    run = _run(truth, "national-only")
    assert run.sent == 0
    for node in run.nodes.values():
        assert all({k.split("/")[0] for k in o.sources} == {node.nation} for o in node.fused())


def test_same_seed_same_fused_picture(short_truth: Truth) -> None:
    a = _run(short_truth, "trilateral-realtime")
    b = _run(short_truth, "trilateral-realtime")
    for nation in a.nodes:
        fa, fb = a.nodes[nation].fused(), b.nodes[nation].fused()
        assert [o.fused_id for o in fa] == [o.fused_id for o in fb]
        assert all(x.x.tobytes() == y.x.tobytes() for x, y in zip(fa, fb, strict=True))


def test_same_fused_outcome_over_nats_jetstream(short_truth: Truth, tmp_path: Path) -> None:
    """The three nodes over a real nats-server reach the in-memory run's picture."""
    import asyncio

    from trilink.bus.nats import NatsBus
    from trilink.bus.server import nats_server
    from trilink.sim.federation import NATIONS, run_federation_async

    policy = Policy.for_regime("trilateral-realtime")
    memory = _run(short_truth, "trilateral-realtime")

    async def over_nats(url: str) -> FederationRun:
        bus = await NatsBus.connect(url, NATIONS)
        try:
            return await run_federation_async(short_truth, policy, bus, seed=1)
        finally:
            await bus.close()

    with nats_server(tmp_path / "js") as url:
        live = asyncio.run(over_nats(url))
    assert live.sent == live.delivered == memory.sent
    for nation in NATIONS:
        a, b = memory.nodes[nation].fused(), live.nodes[nation].fused()
        assert [(o.fused_id, sorted(o.sources)) for o in a] == \
            [(o.fused_id, sorted(o.sources)) for o in b]
        assert all(x.x.tobytes() == y.x.tobytes() and x.P.tobytes() == y.P.tobytes()
                   for x, y in zip(a, b, strict=True))


def test_the_us_node_tracks_with_its_infrared_frames_and_detection_stays_radar(
        truth: Truth) -> None:
    """The driver hands each node its infrared frames as well as its radar scans: the US
    node's tracker takes SBIRS lines of sight as bearing updates in the boost (burnout at
    T+90 s); nations without a satellite get none. ``first_detection_s`` stays a radar's
    (the satellite sees the booster from about T+40 s, no radar before T+48 s)."""
    from trilink.sensors import RadarScan
    from trilink.sim.tracking import nation_scans
    from trilink.tracking.tracker import EventKind

    run = _run(truth, "national-only")
    launch = float(truth.launch_t_s[0])
    ir = [e.t_s - launch for e in run.track_events["USA"]
          if e.kind == EventKind.UPDATED and e.sensor_id == "USA-SBIRS-GEO"]
    assert ir and min(ir) < 90.0, ir
    for n in ("JPN", "KOR"):
        assert not any("SBIRS" in e.sensor_id for e in run.track_events[n]), n
    radar_first = min(s.t_s for s in nation_scans("USA", truth, 1, truth.sensors)
                      if isinstance(s, RadarScan) and any(t is not None for t in s.truth_ids))
    assert run.first_detection_s["USA"][truth.ids[0]] == radar_first
