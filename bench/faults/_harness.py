"""Shared harness of the fault runs (bench/faults/*.py): the per-nation deployment of
``trilink live`` (tests/fault_federation.py: one nats-server per nation, JetStream
domains, leaf nodes to the US hub, nkey users with their permissions), a JPN live node
in this process on JPN's server, a US node as a `trilink node` process on the hub's
server (it reads JPN's outbox through JPN's domain, across the leaf link), the
2023-12-17 SRBM replay fed to JPN by JPN's sensor user.

As in tests/test_faults.py: JPN seals its tracks for the US (audit ``sent`` rows), hands
them to JetStream on its own server (counted here as *acked* when the PubAck came back),
and the US node audits what it takes (``received`` rows). After a run: acked − received
= lost, seqs received more than once = applied twice, an envelope the US took that JPN
did not seal for the US = a releasability leak, and both audits must verify; a probe as
KOR's node (:meth:`Federation.leak_probe`) must not read what JPN addressed to the US.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from trilink.bus.nats import NatsBus
from trilink.live import LiveNode, live_national_node, load_keys_dir, write_keys
from trilink.live.client import SensorFeed
from trilink.live.feed import encode_scan, from_scan, sensor_subject
from trilink.live.natsconf import ROLE_NODE, ROLE_SENSOR
from trilink.live.replay import (
    ScenarioClock,
    scenario_nations,
    scenario_scans,
    scenario_truth,
)
from trilink.sharing.audit import AuditLog, verify_audit_file
from trilink.sharing.policy import policy_for
from trilink.sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from fault_federation import NATIONS, Federation, Netns, Proxy, netns_works  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "faults.json"
SCENARIO = "2023-12-17-srbm"

# Every PubAck JetStream gave JPN, with its wall time (the bus is created per connection,
# so the count sits on the class; a bench-only wrapper, the node is unchanged).
ACKED: list[tuple[float, str, str]] = []  # (wall, next hop, msg id)
_send = NatsBus.send


async def _counting_send(self: NatsBus, sender: str, recipient: str, msg_id: str,
                         data: bytes, priority: int = 0) -> None:
    await _send(self, sender, recipient, msg_id, data, priority)
    ACKED.append((time.time(), recipient, msg_id))

NatsBus.send = _counting_send  # type: ignore[method-assign]


def parser(doc: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke variant: replay at x20, a 3 s fault")
    p.add_argument("--speed", type=float, help="scenario seconds per wall second "
                   "(default 2, quick 20)")
    p.add_argument("--fault-s", type=float, help="wall seconds the fault lasts "
                   "(default 30, quick 3)")
    p.add_argument("--keep", type=Path, help="keep the run's folder (audits, logs) here")
    p.add_argument("--ack-wait-s", type=float, default=5.0,
                   help="ack wait of the US node's consumers, made before it starts: what "
                   "a delivery lost in a crash waits before it comes again (default 5, as "
                   "`trilink live`'s nodes; `trilink node` alone uses 30)")
    return p


def settings(a: argparse.Namespace) -> tuple[float, float]:
    Run.ack_wait_s = a.ack_wait_s
    speed = a.speed or (20.0 if a.quick else 2.0)
    fault_s = a.fault_s if a.fault_s is not None else (3.0 if a.quick else 30.0)
    return speed, fault_s


def variant(a: argparse.Namespace) -> str:
    """The results' key: quick or full, and the ack wait when it is not the default."""
    v = "quick" if a.quick else "full"
    return v if a.ack_wait_s == 5.0 else f"{v}-ack-wait-{a.ack_wait_s:g}s"


def seqs(db: Path, direction: str, peer: str) -> list[int]:
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=10.0) as c:
        rows = c.execute("SELECT seq FROM audit WHERE direction=? AND peer=? AND "
                         "kind='missile_track' AND seq IS NOT NULL", (direction, peer))
        return [int(r[0]) for r in rows]


def digests(db: Path, direction: str, peer: str) -> set[str]:
    """SHA-256 of the track envelopes of the audit's ``direction`` rows with ``peer``."""
    if not db.exists():
        return set()
    with sqlite3.connect(db, timeout=10.0) as c:
        rows = c.execute("SELECT envelope_sha256 FROM audit WHERE direction=? AND peer=? "
                         "AND kind='missile_track' AND envelope_sha256 IS NOT NULL",
                         (direction, peer))
        return {str(r[0]) for r in rows}


def leaf_events(log: Path) -> dict[str, Any]:
    """Leaf connections JPN's server logged as made and as closed (with why), so far."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return {"created": 0, "closed": []}
    return {"created": sum("Leafnode connection created" in ln for ln in lines),
            "closed": [ln.split("Leafnode connection closed: ", 1)[1][:80] for ln in lines
                       if "Leafnode connection closed: " in ln]}


def rejected(db: Path, peer: str) -> dict[str, int]:
    if not db.exists():
        return {}
    with sqlite3.connect(db, timeout=10.0) as c:
        rows = c.execute("SELECT reason, COUNT(*) FROM audit WHERE direction='rejected' "
                         "AND peer=? GROUP BY reason", (peer,))
        return {str(r): int(n) for r, n in rows}


def rejection_samples(db: Path, peer: str, n: int = 2) -> list[str]:
    with sqlite3.connect(db, timeout=10.0) as c:
        rows = c.execute("SELECT reason, detail FROM audit WHERE direction='rejected' AND "
                         "peer=? LIMIT ?", (peer, n))
        return [f"{r}: {d}" for r, d in rows]


Inject = Callable[["Run"], Awaitable[dict[str, Any]]]


class Run:
    """One replay through one fault, on the federation ``fed`` (started and stopped by
    :meth:`go`). ``usa_prefix`` wraps the US node's command; ``usa_clock_offset_s``
    offsets the US node's clock (scenario seconds: its --start-unix moves by
    −offset/speed)."""

    ack_wait_s = 5.0  # the US node's consumers' (parser: --ack-wait-s)

    def __init__(self, folder: Path, speed: float, fed: Federation | None = None, *,
                 usa_prefix: Sequence[str] = (), usa_clock_offset_s: float = 0.0,
                 lead_s: float = 12.0) -> None:
        self.dir, self.speed, self.lead_s = folder, speed, lead_s
        self.fed = fed if fed is not None else Federation(folder / "fed")
        sc = load_scenario(SCENARIO)
        self.regime = sc.regime
        truth = scenario_truth(sc)
        assert truth.epoch is not None
        self.epoch = truth.epoch
        self.scans = [s for s in scenario_scans(truth, scenario_nations(sc))
                      if s.nation == "JPN"]
        write_keys(NATIONS, folder / "keys")
        key, registry = load_keys_dir(folder / "keys", "JPN")
        self.clock = ScenarioClock(truth.epoch, time.time() + lead_s, speed)
        self.usa_prefix = list(usa_prefix)
        self.usa_offset_s = usa_clock_offset_s
        self.usa_audit = folder / "USA.sqlite"
        self.jpn_db = folder / "JPN.sqlite"
        self.jpn_audit = AuditLog(self.jpn_db, durable=False)
        node = live_national_node("JPN", key, registry, policy_for(sc.regime, sc.date),
                                  NATIONS, self.jpn_audit, epoch=truth.epoch,
                                  modelled_latency=True)
        self.log_lines: list[str] = []
        # Read through self.clock: go() sets scenario second 0 once the servers are up.
        self.live = LiveNode(node, "", clock=lambda: self.clock.unix_now(), speed=speed,
                             sensors=True, hold_sends=True, log=self._log,
                             nats_options=self.fed.opts("JPN", ROLE_NODE))
        self.usa: subprocess.Popen[bytes] | None = None
        self.usa_starts = 0
        self.published = self.feed_failed = 0
        ACKED.clear()

    def _log(self, line: str) -> None:
        self.log_lines.append(f"{time.time():.3f} {line}")

    async def feed(self, nc: SensorFeed) -> None:
        """The JPN sensor feed on the scenario clock, as publish_feed, through the
        launcher's :class:`SensorFeed` (scans kept through an outage); a publish that
        raises anyway is counted and the feed goes on."""
        for scan in self.scans:
            delay = self.clock.wall_at(scan.t_s) - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            msg = from_scan(scan, self.clock.epoch, with_truth=True)
            try:
                await nc.publish(sensor_subject(scan.nation, scan.sensor_id),
                                 encode_scan(msg))
                self.published += 1
            except Exception:
                self.feed_failed += 1
        with contextlib.suppress(Exception):  # best effort: the publishes were counted
            await asyncio.wait_for(nc.flush(), 60.0)

    def start_usa(self, url: str | None = None) -> subprocess.Popen[bytes]:
        url = url or self.fed.url("USA")
        start_unix = self.clock.start_unix - self.usa_offset_s / self.speed
        out = (self.dir / "USA.log").open("ab")
        self.usa = subprocess.Popen(
            [*self.usa_prefix, sys.executable, "-m", "trilink.cli", "node", "--nation", "USA",
             "--keys", str(self.dir / "keys"), "--nats", url, "--audit", str(self.usa_audit),
             "--nats-creds", str(self.fed.creds / "USA"),
             "--epoch", self.epoch.isoformat(), "--start-unix", repr(start_unix),
             "--speed", str(self.speed), *(["--regime", self.regime] if self.regime else [])],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        out.close()
        self.usa_starts += 1
        return self.usa

    def sent_to_usa(self) -> set[int]:
        return set(seqs(self.jpn_db, "sent", "USA"))

    def received(self) -> set[int]:
        return set(seqs(self.usa_audit, "received", "JPN"))

    async def caught_up(self, target: set[int], since: float, timeout_s: float = 120.0
                        ) -> float | None:
        """Wall seconds from ``since`` until the US audit holds every seq of ``target``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if target <= self.received():
                return round(time.time() - since, 2)
            await asyncio.sleep(0.2)
        return None

    async def go(self, fault_at_s: float, inject: Inject) -> dict[str, Any]:
        """Start the federation, the nodes and the feed, run ``inject`` at scenario
        second ``fault_at_s``, drain, probe for leaks, stop everything."""
        try:
            return await self._go(fault_at_s, inject)
        finally:
            if self.usa is not None and self.usa.poll() is None:
                self.usa.kill()
                self.usa.wait()
            self.fed.stop()

    async def _go(self, fault_at_s: float, inject: Inject) -> dict[str, Any]:
        t0 = time.time()
        await self.fed.start()
        await self.fed.consumers("USA", self.ack_wait_s)
        self.federation_start_s = round(time.time() - t0, 2)
        self.clock = ScenarioClock(self.epoch, time.time() + self.lead_s, self.speed)
        self.live.url = self.fed.url("JPN")
        await self.live.start()
        self.start_usa()
        nc = await SensorFeed.open(self.fed.url("JPN"), ["JPN"], "fault-feed",
                                   lambda n: self.fed.opts(n, ROLE_SENSOR), log=self._log)
        feed = asyncio.create_task(self.feed(nc))
        # The fault runs while the feed goes on, from scenario second fault_at_s.
        await asyncio.sleep(max(0.0, self.clock.wall_at(fault_at_s) - time.time()))
        fault = await inject(self)
        await feed
        await nc.close()
        await asyncio.sleep(1.0)
        # Let the outbox drain (a reconnect may still be under way), then stop JPN.
        deadline = time.monotonic() + 60.0
        while self.live._outbox and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await self.live.stop()
        outbox_left = len(self.live._outbox)
        held_for = sorted({o.next_hop for _, _, o in self.live._later})
        sent = self.sent_to_usa()
        tail = await self.caught_up(sent, time.time(), timeout_s=60.0)
        # Was JPN's leaf link to the hub re-made (a reconnect), or did it ride the fault out?
        leaf = leaf_events(self.fed.servers["JPN"].log)
        # Through the healed links, from the third nation: nothing of JPN's for the US.
        probe = await self.fed.leak_probe("KOR", "JPN", "USA")
        assert self.usa is not None
        usa_alive = self.usa.poll() is None
        self.usa.terminate()
        try:
            usa_rc: int | None = self.usa.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.usa.kill()
            usa_rc = self.usa.wait()
        return {"fault": fault, "feed_scans_published": self.published,
                "feed_scans_failed": self.feed_failed,
                "feed_scans_kept_in_outage": nc.buffered, "feed_scans_dropped": nc.dropped,
                "feed_scans_never_sent": nc.waiting, "jpn_scans_taken": self.live.scans,
                "scans_lost": len(self.scans) - self.live.scans,
                "jpn_feed_rejected": self.live.feed_rejected, "jpn_outbox_left": outbox_left,
                "jpn_held_for": held_for, "final_drain_s": tail,
                "usa_alive_at_end": usa_alive, "usa_exit_code": usa_rc,
                "leak_probe": probe, "server_violations": self.fed.violations(),
                "server_starts": {n: sv.starts for n, sv in self.fed.servers.items()},
                "federation_start_s": self.federation_start_s,
                "usa_consumer_ack_wait_s": self.ack_wait_s,
                "jpn_leaf_connections_made": leaf["created"],
                "jpn_leaf_connections_closed": leaf["closed"],
                "deployment": "one nats-server per nation (USA hub, JPN and KOR leaf "
                              "spokes), JetStream domains, nkey users"}

    def outcome(self, extra: dict[str, Any]) -> dict[str, Any]:
        self.jpn_audit.close()
        sent = seqs(self.jpn_db, "sent", "USA")
        got = seqs(self.usa_audit, "received", "JPN")
        acked = {int(m.split(":")[1]) for _, hop, m in ACKED if hop == "USA"}
        twice = sorted(s for s, n in Counter(got).items() if n > 1)
        lost = sorted(acked - set(got))
        # Releasability: every envelope the US took is one JPN sealed for the US (the
        # same bytes), never one addressed to KOR; and the probe read nothing.
        for_usa = digests(self.jpn_db, "sent", "USA")
        foreign = sorted(digests(self.usa_audit, "received", "JPN") - for_usa)
        jv, uv = verify_audit_file(self.jpn_db), verify_audit_file(self.usa_audit)
        rej = rejected(self.usa_audit, "JPN")
        res = {
            "speed": self.speed, "scans": len(self.scans),
            "sealed_for_usa": len(sent), "acked_to_usa": len(acked),
            "pubacks_total": len(ACKED),
            "received_by_usa": len(got), "distinct_received": len(set(got)),
            "counts": {"sent": len(sent), "acked": len(acked), "delivered": len(set(got)),
                       "duplicated": len(twice), "lost": len(lost)},
            "lost_acked": lost, "sealed_not_received": sorted(set(sent) - set(got)),
            "applied_twice": twice, "usa_rejected": rej,
            "usa_rejection_samples": rejection_samples(self.usa_audit, "JPN") if rej else [],
            "received_not_sealed_for_usa": foreign,
            "jpn_audit_ok": jv.ok, "usa_audit_ok": uv.ok, "usa_starts": self.usa_starts,
            **extra,
        }
        res["releasability_leak"] = bool(foreign or extra["leak_probe"]["leak"])
        # The probe's own denied fetch is logged once (on KOR's server); any other
        # violation is a client of this run doing what its user may not.
        res["unexpected_violations"] = sum(extra["server_violations"].values()) - 1
        res["ok"] = bool(not lost and not twice and jv.ok and uv.ok
                         and not res["releasability_leak"]
                         and res["unexpected_violations"] == 0
                         and extra.get("usa_exit_code") == 0 and len(acked) >= 5)
        return res


def load() -> str:
    """The machine's load averages now (the figures depend on them)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def publish(name: str, variant: str, result: dict[str, Any]) -> None:
    """Print ``result`` and merge it into bench/results/faults.json under name/variant."""
    result = {"load_before": result.pop("load_before", None), "load_after": load(),
              "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **result}
    print(json.dumps({name: {variant: result}}, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.setdefault(name, {})[variant] = result
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def run_cases(a: argparse.Namespace,
              cases: Sequence[tuple[str, str, Callable[[Path | None], dict[str, Any]]]]
              ) -> NoReturn:
    """Run each ``(result name, keep subfolder, run)`` in turn (``run`` gets its folder
    under ``--keep``, or None), each published with the load before it; exit 1 if any
    was not ok."""
    ok = True
    for name, sub, run in cases:
        before = load()
        res = run(a.keep / sub if a.keep is not None else None)
        res["load_before"] = before
        publish(name, variant(a), res)
        ok = ok and res["ok"]
    raise SystemExit(0 if ok else 1)


def folder(keep: Path | None) -> tuple[Path, Any]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        return keep, None
    t = tempfile.TemporaryDirectory(prefix="trilink-fault-")
    return Path(t.name), t


def jpn_lines(run: Run, needle: str) -> list[str]:
    return [line for line in run.log_lines if needle in line]


__all__ = ["ACKED", "NATIONS", "Federation", "Netns", "Proxy", "Run", "collections", "folder",
           "jpn_lines", "load", "netns_works", "parser", "publish", "settings", "variant"]
