"""Faults against real servers, CI-sized: kill -9 of a receiving node mid-stream.

A replay (2023-12-17 SRBM, x20) feeds a JPN live node (in this process) that shares its
tracks with a US node running as `trilink node` (a process). Midway the US process is
killed with SIGKILL and started again on the same audit log. After the run: every track
envelope JPN sent to the US and JetStream acknowledged reached the US node (none lost),
none was applied twice (redeliveries after the crash are refused as replays), and both
audits verify.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from trilink.bus.server import nats_server
from trilink.live import LiveNode, live_national_node, load_keys_dir, write_keys
from trilink.live.client import connect
from trilink.live.replay import (
    ScenarioClock,
    publish_feed,
    scenario_nations,
    scenario_scans,
    scenario_truth,
)
from trilink.sharing.audit import AuditLog, verify_audit_file
from trilink.sharing.policy import policy_for
from trilink.sim.scenario import load_scenario

SPEED = 20.0


def seqs(db: Path, direction: str, peer: str) -> list[int]:
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT seq FROM audit WHERE direction=? AND peer=? AND "
                         "kind='missile_track' AND seq IS NOT NULL", (direction, peer))
        return [int(r[0]) for r in rows]


def test_kill_9_of_a_receiving_node_loses_nothing_and_applies_nothing_twice(
        tmp_path: Path) -> None:
    sc = load_scenario("2023-12-17-srbm")
    truth = scenario_truth(sc)
    assert truth.epoch is not None
    scans = [s for s in scenario_scans(truth, scenario_nations(sc)) if s.nation == "JPN"]
    write_keys(("USA", "JPN", "KOR"), tmp_path / "keys")
    key, registry = load_keys_dir(tmp_path / "keys", "JPN")
    policy = policy_for(sc.regime, sc.date)
    # A short lead: the US node starts inside it or catches up from JetStream (durable
    # consumers); the kill waits for the US audit to show tracks taken, not for a clock.
    clock = ScenarioClock(truth.epoch, time.time() + 3.0, SPEED)
    usa_audit = tmp_path / "USA.sqlite"

    def start_usa(url: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "trilink.cli", "node", "--nation", "USA", "--keys",
             str(tmp_path / "keys"), "--nats", url, "--audit", str(usa_audit),
             "--epoch", truth.epoch.isoformat(), "--start-unix", str(clock.start_unix),
             "--speed", str(SPEED), *(["--regime", sc.regime] if sc.regime else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})

    jpn_audit = AuditLog(tmp_path / "JPN.sqlite", durable=False)
    node = live_national_node("JPN", key, registry, policy, ("USA", "JPN", "KOR"), jpn_audit,
                              epoch=truth.epoch, modelled_latency=True)
    live = LiveNode(node, "", clock=clock.unix_now, speed=SPEED, sensors=True,
                    hold_sends=True)
    kill_at_s = 120.0  # scenario seconds: after the first tracks are shared

    async def go(url: str) -> None:
        live.url = url
        await live.start()
        usa = start_usa(url)
        nc = await connect(url, name="fault-feed")
        first, rest = ([s for s in scans if s.t_s < kill_at_s],
                       [s for s in scans if s.t_s >= kill_at_s])
        await publish_feed(nc, first, clock)
        deadline = time.monotonic() + 60.0
        while not (usa_audit.exists() and seqs(usa_audit, "received", "JPN")):
            assert time.monotonic() < deadline, "the US node took no track before the kill"
            await asyncio.sleep(0.2)
        usa.send_signal(signal.SIGKILL)  # mid-stream: no goodbye, no flush
        usa.wait(timeout=10)
        assert usa.returncode == -signal.SIGKILL
        usa = start_usa(url)
        await publish_feed(nc, rest, clock)
        await nc.close()
        await asyncio.sleep(1.0)
        await live.stop()
        # Everything JPN sealed for the US left and has its PubAck from JetStream (what
        # is still held waits out the 1,800 s JPN-KOR route of the agreements).
        assert live._outbox == collections.deque()
        assert {o.next_hop for _, _, o in live._later} <= {"KOR"}
        sent = set(seqs(tmp_path / "JPN.sqlite", "sent", "USA"))
        deadline = time.monotonic() + 60.0
        while time.monotonic() < deadline:
            got = set(seqs(usa_audit, "received", "JPN")) if usa_audit.exists() else set()
            if sent <= got:
                break
            await asyncio.sleep(0.5)
        usa.terminate()
        assert usa.wait(timeout=20) == 0

    with nats_server(tmp_path / "js") as url:
        asyncio.run(go(url))
    jpn_audit.close()
    sent = seqs(tmp_path / "JPN.sqlite", "sent", "USA")
    received = seqs(usa_audit, "received", "JPN")
    with sqlite3.connect(usa_audit) as c:
        replays = c.execute("SELECT COUNT(*) FROM audit WHERE direction='rejected' AND "
                            "peer='JPN' AND reason='replay'").fetchone()[0]
    print(f"kill -9: sent {len(sent)}, received {len(received)}, distinct "
          f"{len(set(received))}, redeliveries refused as replays {replays}")
    assert len(sent) >= 5, "the replay must share tracks before and after the kill"
    assert set(sent) - set(received) == set(), "acknowledged envelopes lost"
    twice = [s for s, n in Counter(received).items() if n > 1]
    assert twice == [], f"applied twice: {twice}"
    assert verify_audit_file(tmp_path / "JPN.sqlite").ok
    assert verify_audit_file(usa_audit).ok
