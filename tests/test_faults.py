"""Faults against real servers, CI-sized, on the per-nation deployment of `trilink live`
(tests/fault_federation.py: one nats-server per nation, JetStream domains, leaf nodes
to the US hub, every client an nkey user with its permissions).

A replay (2023-12-17 SRBM, x20) feeds a JPN live node (in this process, on JPN's server,
fed by JPN's sensor user) that shares its tracks with a US node running as `trilink
node` (a process, on the hub's server, reading JPN's outbox through JPN's domain across
the leaf link). Midway the US process is killed with SIGKILL; while it is down, once
JetStream has acknowledged envelopes for it that it has not read, JPN's nats-server is
killed with SIGKILL too and restarted on the same store and port; then the US node
starts again on the same audit log. The US node's consumers have `trilink live`'s 5 s ack
wait (what a delivery lost in its crash waits before it comes again). After the run:
every track envelope JetStream acknowledged to JPN for the US reached the US node (none
lost, the file store kept them), none was applied twice (redeliveries after the crash
are refused as replays),
the US took nothing JPN had not sealed for it, KOR's node user cannot read what JPN
addressed to the US through the restarted servers, and both audits verify.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fault_federation import NATIONS, Federation

from trilink.live import LiveNode, live_national_node, load_keys_dir, write_keys
from trilink.live.client import SensorFeed
from trilink.live.natsconf import ROLE_NODE, ROLE_SENSOR
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


def rows(db: Path, direction: str, peer: str, column: str = "seq") -> list[str]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as c:
        got = c.execute(f"SELECT {column} FROM audit WHERE direction=? AND peer=? AND "
                        "kind='missile_track' AND seq IS NOT NULL", (direction, peer))
        return [str(r[0]) for r in got]


async def until(what: str, done: Callable[[], object], timeout_s: float = 60.0) -> None:
    """Poll ``done`` until it holds; fail with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


def test_kill_9_of_a_node_and_of_a_nations_server_loses_nothing_applies_nothing_twice(
        tmp_path: Path) -> None:
    sc = load_scenario("2023-12-17-srbm")
    truth = scenario_truth(sc)
    epoch = truth.epoch
    assert epoch is not None
    scans = [s for s in scenario_scans(truth, scenario_nations(sc)) if s.nation == "JPN"]
    write_keys(NATIONS, tmp_path / "keys")
    key, registry = load_keys_dir(tmp_path / "keys", "JPN")
    fed = Federation(tmp_path / "fed")
    usa_audit, jpn_db = tmp_path / "USA.sqlite", tmp_path / "JPN.sqlite"
    clock: list[ScenarioClock] = []

    procs: list[subprocess.Popen[bytes]] = []

    def start_usa() -> subprocess.Popen[bytes]:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "trilink.cli", "node", "--nation", "USA", "--keys",
             str(tmp_path / "keys"), "--nats", fed.url("USA"), "--nats-creds",
             str(fed.creds / "USA"), "--audit", str(usa_audit),
             "--epoch", epoch.isoformat(), "--start-unix", str(clock[0].start_unix),
             "--speed", str(SPEED), *(["--regime", sc.regime] if sc.regime else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}))
        return procs[-1]

    jpn_audit = AuditLog(jpn_db, durable=False)
    node = live_national_node("JPN", key, registry, policy_for(sc.regime, sc.date), NATIONS,
                              jpn_audit, epoch=epoch, modelled_latency=True)
    live = LiveNode(node, "", clock=lambda: clock[0].unix_now(), speed=SPEED, sensors=True,
                    hold_sends=True, nats_options=fed.opts("JPN", ROLE_NODE))

    def sent() -> set[str]:
        return set(rows(jpn_db, "sent", "USA"))

    def received() -> set[str]:
        return set(rows(usa_audit, "received", "JPN"))

    def acked() -> set[str]:
        """Sealed for the US and handed over: JetStream's PubAck came back (the node
        keeps an envelope in its outbox, or held for its route, until then)."""
        waiting = {o.msg_id.split(":")[1] for o in (*live._outbox, *(x[2] for x in live._later))
                   if o.next_hop == "USA"}
        return sent() - waiting

    async def go() -> tuple[set[str], dict[str, Any]]:
        await fed.start()
        await fed.consumers("USA", ack_wait_s=5.0)  # as `trilink live`'s nodes
        # A short lead: the US node starts inside it or catches up from JetStream
        # (durable consumers); each fault waits for the audits, not for a clock.
        clock.append(ScenarioClock(epoch, time.time() + 3.0, SPEED))
        live.url = fed.url("JPN")
        await live.start()
        usa = start_usa()
        feed = await SensorFeed.open(fed.url("JPN"), ["JPN"], "fault-feed",
                                     lambda n: fed.opts(n, ROLE_SENSOR))
        replay = asyncio.create_task(publish_feed(feed, scans, clock[0]))
        await until("the US node took no track before the kill", lambda: received())
        usa.send_signal(signal.SIGKILL)  # mid-stream: no goodbye, no flush
        usa.wait(timeout=10)
        assert usa.returncode == -signal.SIGKILL
        # JPN goes on sharing; once JetStream has acked envelopes the US has not read,
        # they exist only in JPN's file store: kill that server now.
        read_by_kill = received()
        await until("JetStream acked nothing for the US while its node was down",
                    lambda: len(acked() - read_by_kill) >= 2)
        at_risk = acked() - read_by_kill
        fed.servers["JPN"].kill()
        await asyncio.sleep(1.0)
        fed.servers["JPN"].start()  # same configuration: same store folder, same port
        usa = start_usa()
        await replay
        await feed.close()
        await asyncio.sleep(1.0)
        await until("JPN's outbox did not drain", lambda: not live._outbox)
        await live.stop()
        # Everything JPN sealed for the US left and has its PubAck from JetStream (what
        # is still held waits out the 1,800 s JPN-KOR route of the agreements).
        assert live._outbox == collections.deque()
        assert {o.next_hop for _, _, o in live._later} <= {"KOR"}
        await until("the US did not catch up", lambda: sent() <= received())
        probe = await fed.leak_probe("KOR", "JPN", "USA")
        usa.terminate()
        assert usa.wait(timeout=20) == 0
        return at_risk, probe

    try:
        at_risk, probe = asyncio.run(go())
    finally:
        for p in procs:  # a failed check leaves no US node behind
            if p.poll() is None:
                p.kill()
                p.wait()
        fed.stop()
    jpn_audit.close()
    sealed = rows(jpn_db, "sent", "USA")
    got = rows(usa_audit, "received", "JPN")
    with sqlite3.connect(usa_audit) as c:
        replays = c.execute("SELECT COUNT(*) FROM audit WHERE direction='rejected' AND "
                            "peer='JPN' AND reason='replay'").fetchone()[0]
    print(f"kill -9 of the US node and of JPN's server: sealed {len(sealed)}, received "
          f"{len(got)}, distinct {len(set(got))}, in JPN's store only at its kill "
          f"{len(at_risk)}, redeliveries refused as replays {replays}")
    assert len(sealed) >= 5, "the replay must share tracks before and after the kills"
    assert set(sealed) - set(got) == set(), "acknowledged envelopes lost"
    assert at_risk <= set(got)
    twice = [s for s, n in Counter(got).items() if n > 1]
    assert twice == [], f"applied twice: {twice}"
    # Releasability: the US took only envelopes JPN sealed for the US (same bytes), and
    # the third nation's node could read none of them.
    assert (set(rows(usa_audit, "received", "JPN", "envelope_sha256"))
            <= set(rows(jpn_db, "sent", "USA", "envelope_sha256")))
    assert probe["leak"] is False, probe
    assert {probe["filter_swap"]["answer"], probe["their_consumer"]["answer"]} <= {
        "refused", "none"}
    assert verify_audit_file(jpn_db).ok
    assert verify_audit_file(usa_audit).ok
    assert sum(fed.violations().values()) == 1  # the probe's denied fetch, nothing else
