"""Benchmark: how the federation grows with nations and objects (issue 15, item 8).

    python bench/bench_growth.py [--quick] [--counts 3,6,12] [--objects 23,100,500]
                                 [--regime FILE] [--nations USA,JPN,KOR,...] [--duration-s 5]

Each cell is N nations × K objects in flight, on the deployment ``trilink live`` runs:
one ``nats-server`` per nation (JetStream domain = its code, leaf nodes to the hub's
server, :func:`trilink.live.launch.nation_servers`), every client authenticated by its
nkey with the permissions :mod:`trilink.live.natsconf` derives, and one node process per
nation (this script with ``--worker``) that connects as its nation's ``node`` user to its
own server and reads partners' outboxes through their domains (:class:`NatsBus`). The
bench is driven over the nodes' control subjects by each nation's ``operator`` user, and
every control request is signed by an operator of that nation and checked by
:class:`trilink.live.auth.ControlGuard` (the bench's requests are ``status`` requests
with a ``bench`` field).

The nations come from data: the parties, in file order, of the hypothetical agreement
that the regime file adds (default ``trilink/data/whatif/growth-partners.yaml``, which
includes ``agreements/examples/whatif-growth-partners.yaml``: USA, JPN, KOR, then AUS,
PHL, GBR, CAN, NZL, FRA, IND, VNM, MNG). ``--nations`` gives another order or list.

In each node (a real :class:`NationalNode`: policy, signing, verification, checks,
fusion): every second ("a scan") it makes track updates of a fifth of its K objects, so
each object is shared every 5 s (``NodeConfig.share_interval_s``), puts them in its own
picture and shares them through the node's own sharing path (``NationalNode._share``:
the policy's route per partner, one signed envelope per partner), published at once
(the modelled 5 s link latency of the agreement is not waited). The tracks are
synthetic: K objects 300 km up on a 0.6° grid (far more than fusion's 10 km apart),
moving at 3 km/s, each nation's state the truth plus its own noise (50 m, 2 m/s). Before
the timed part, every node shares all K tracks once and waits until every node has
associated every partner's tracks (the *association* figure: a node's CPU seconds to
take the first batch of K unknown tracks from each partner). Then ``--duration-s``
seconds of paced traffic, then a drain until every envelope sent has been taken.

Figures per node (medians over the nodes of a cell; p50/p99 over all envelopes):

- *updates/CPU s*: partners' track updates taken (decode, verify, policy, checks, fusion
  of the changed objects when the picture is read after each batch of deliveries) per
  CPU second of that work: the node's throughput with a core to itself;
- *node CPU per s*: the node's receive and share CPU seconds per second of paced
  traffic (what the issue calls per-node CPU per second of traffic);
- *CPU share*: the node process's CPU seconds (everything: sends, receives, NATS client)
  per wall second from the start of the paced traffic to the end of the drain (below 1
  when the machine is saturated: the share it got);
- *latency*: from the sender's measurement (its updates' time, which is the envelope's
  creation time) to the receiver's fused picture holding them, wall clock (all processes
  on one machine);
- *bytes*: envelope bytes a node publishes per second, and per track update;
- *RSS*: the node process's resident memory at the end of the cell;
- *config*: bytes of the generated server configurations (hub and a spoke) and the
  number of subjects in a node user's permissions.

Ratios are taken against the 3-nation cell with the same K, measured in the same run.
Writes ``bench/results/growth.json`` (``--out`` elsewhere) after every cell; ``--quick``:
3 and 6 nations, 23 and 100 objects, 3 s cells, printed only (unless ``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "growth.json"
DEFAULT_REGIME = ROOT / "trilink" / "data" / "whatif" / "growth-partners.yaml"
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)  # after the regime's agreements took effect
TICK_S = 1.0  # one "scan" per second per nation
SHARE_EVERY = 5  # ticks: each object shared every 5 s (NodeConfig.share_interval_s)
GRID_COLUMNS = 25
GRID_STEP_DEG = 0.6
ALTITUDE_M = 300e3
SPEED_M_S = 3000.0
SIGMA_POS_M = 50.0
SIGMA_VEL_M_S = 2.0
WARM_TIMEOUT_S = 1200.0
DRAIN_TIMEOUT_S = 1200.0


# ------------------------------------------------------------------ data: the nations


def growth_nations(regime_path: str | Path) -> tuple[str, ...]:
    """The parties, in file order, of the regime's hypothetical agreement with the most
    parties (the what-if partners), else of its largest agreement."""
    from trilink.sharing.agreements import load_regime, regime_agreements

    agreements = regime_agreements(load_regime(regime_path))
    pool = [a for a in agreements if a.hypothetical] or list(agreements)
    return max(pool, key=lambda a: len(a.parties)).parties


# ------------------------------------------------------------------ synthetic tracks


def truth(k: np.ndarray, t_s: float) -> tuple[np.ndarray, np.ndarray]:
    """ECEF positions and velocities of objects ``k`` at ``t_s`` (straight lines)."""
    lat = np.radians(30.0 + GRID_STEP_DEG * (k // GRID_COLUMNS))
    lon = np.radians(125.0 + GRID_STEP_DEG * (k % GRID_COLUMNS))
    r = 6371e3 + ALTITUDE_M
    pos = np.stack([r * np.cos(lat) * np.cos(lon), r * np.cos(lat) * np.sin(lon),
                    r * np.sin(lat)], axis=1)
    vel = SPEED_M_S * np.stack([-np.sin(lon), np.cos(lon), np.zeros_like(lon)], axis=1)
    return pos + vel * t_s, vel


COVARIANCE = np.diag([SIGMA_POS_M**2] * 3 + [SIGMA_VEL_M_S**2] * 3 + [0.3**2] * 3)


def track_events(objects: np.ndarray, t_s: float, rng: np.random.Generator) -> list[Any]:
    from trilink.tracking.tracker import EventKind, TrackEvent

    pos, vel = truth(objects, t_s)
    pos = pos + rng.normal(0.0, SIGMA_POS_M, pos.shape)
    vel = vel + rng.normal(0.0, SIGMA_VEL_M_S, vel.shape)
    return [TrackEvent(EventKind.UPDATED, f"T{int(k):04d}", t_s,
                       np.concatenate([pos[i], vel[i], np.zeros(3)]), COVARIANCE.copy(), 0.0,
                       "growth")
            for i, k in enumerate(objects)]


def rss_kb() -> int:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ------------------------------------------------------------------ one node (--worker)


class Worker:
    """One nation's node process: a NationalNode on a NatsBus, run cell by cell."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.me: str = cfg["nation"]
        self.nations: tuple[str, ...] = tuple(cfg["nations"])
        self.partners = tuple(n for n in self.nations if n != self.me)
        self.bus: Any = None
        self.node: Any = None
        self.queue: list[Any] = []
        self.wake = asyncio.Event()
        self.cell: dict[str, Any] = {}
        self._jobs: set[asyncio.Future[None]] = set()

    # -- time: node seconds since the cell's start (one wall clock on this machine)
    def now(self) -> float:
        return time.time() - float(self.cell["start_unix"])

    async def run(self) -> None:
        import nats

        from trilink.bus.nats import NatsBus
        from trilink.live.auth import ControlGuard, OperatorRegistry
        from trilink.live.natsconf import ROLE_NODE, control_subject, creds_options

        self._warm_up()
        opts = creds_options(Path(self.cfg["creds"]), self.me, ROLE_NODE)
        self.bus = await NatsBus.connect(self.cfg["url"], self.nations, **opts)
        await self.bus.listen(self.me, self._deliver)
        guard = ControlGuard(self.me, OperatorRegistry.from_json(self.cfg["operators"]))
        ctl = await nats.connect(self.cfg["url"], name=f"growth-{self.me}-ctl", **opts)
        stop = asyncio.Event()

        async def on_ctl(msg: Any) -> None:
            try:
                req = json.loads(msg.data)
            except ValueError:
                req = None
            _, refusal = guard.check(req, time.time_ns())
            if refusal is not None:
                await msg.respond(json.dumps({"ok": False, "error": refusal}).encode())
                return
            reply = self._control(req["bench"])
            if reply.get("stop"):
                stop.set()
            await msg.respond(json.dumps({"ok": True, **reply}).encode())

        await ctl.subscribe(control_subject(self.me), cb=on_ctl)
        await ctl.flush()
        worker = asyncio.create_task(self._process())
        await stop.wait()
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await ctl.drain()
        await self.bus.close()

    def _warm_up(self) -> None:
        """Load the compiled kernels and first-call costs before anything is timed: a
        throwaway node takes a partner's batch of tracks, twice, and reads its picture."""
        from trilink.node import encode_tracks
        from trilink.sharing.envelope import Kind, Signer, encode

        self._new_cell({"cell": 0, "objects": 23, "start_unix": time.time()})
        partner = self.partners[0]
        keys = self._keys()[0]
        signer = Signer(keys[partner])
        from trilink.sharing.fusion import SourceTrack

        own = track_events(np.arange(23), 0.5, self.cell["rng"])
        self.node.picture.update([SourceTrack(self.me, e.track_id, e.t_s, e.x, e.P, 0.0)
                                  for e in own])
        for t in (0.0, 1.0):  # fusing at 1.0 predicts the own tracks (the kernel loads)
            events = track_events(np.arange(23), t, self.cell["rng"])
            env = signer.seal(kind=Kind.MISSILE_TRACK, originator=partner, rel_to=self.nations,
                              recipient=self.me, payload=encode_tracks(events),
                              created_ns=self.epoch_ns + round(t * 1e9))
            self.node.on_message(encode(env), t, deliverer=partner)
            self.node.fused()
        self.node = None
        self.cell = {}

    def _keys(self) -> tuple[Any, Any]:
        from trilink.sharing.envelope import generate_keys

        return generate_keys(self.nations, seed=b"growth")

    def _control(self, req: dict[str, Any]) -> dict[str, Any]:
        what = req["do"]
        if what == "ping":
            return {"rss_kb": rss_kb()}
        if what == "warm":
            self._new_cell(req)
            asyncio.get_running_loop().call_at(
                asyncio.get_running_loop().time() + max(0.0, req["start_unix"] - time.time()),
                lambda: self._guarded(self._warm))
            return {}
        if what == "state":
            c = self.cell
            return {"error": c.get("error"), "warm_envelopes": c.get("warm_envelopes", 0),
                    "paced_envelopes": c.get("paced_envelopes", 0),
                    "ticks_done": c.get("ticks_done", False)}
        if what == "go":
            self.cell |= {"t0_unix": req["t0_unix"], "ticks": req["ticks"]}
            self._guarded(self._paced)
            return {}
        if what == "result":
            return {"error": self.cell.get("error"), "result": self._result()}
        if what == "stop":
            return {"stop": True}
        return {"error": f"unknown bench request {what!r}"}

    def _new_cell(self, req: dict[str, Any]) -> None:
        from trilink.node import NationalNode, NodeConfig
        from trilink.sharing.agreements import load_regime
        from trilink.sharing.policy import Policy

        keys, registry = self._keys()
        policy = Policy.for_regime(load_regime(self.cfg["regime"]))
        self.node = NationalNode(NodeConfig(self.me, self.partners, self.nations), policy,
                                 keys[self.me], registry, EPOCH)
        self.epoch_ns = int(EPOCH.timestamp()) * 1_000_000_000
        k = int(req["objects"])
        self.cell = {"id": req["cell"], "objects": k, "start_unix": req["start_unix"],
                     "rng": np.random.default_rng([self.nations.index(self.me), req["cell"]]),
                     "warm_envelopes": 0, "paced_envelopes": 0, "warm_cpu_s": 0.0,
                     "recv_cpu_s": 0.0, "fuse_cpu_s": 0.0, "recv_updates": 0, "rejected": 0,
                     "reasons": {}, "latency_s": [],
                     "bytes_sent": 0, "envelopes_sent": 0, "updates_sent": 0,
                     "share_cpu_s": 0.0, "late_s": [], "ticks_done": False,
                     "rss_before_kb": rss_kb(), "phase": "warm", "fused_objects": 0}
        self.rev = 0

    async def _send_tracks(self, objects: np.ndarray, paced: bool) -> None:
        from trilink.sharing.fusion import SourceTrack

        c = self.cell
        t = self.now()
        events = track_events(objects, t, c["rng"])
        c0 = time.process_time()
        self.node.picture.update([SourceTrack(self.me, e.track_id, e.t_s, e.x, e.P, 0.0)
                                  for e in events])
        outs = self.node._share(events)  # the node's own path: policy route, seal per partner
        if paced:
            c["share_cpu_s"] += time.process_time() - c0
        for o in outs:
            await self._publish(o.next_hop, f"g{c['id']}:{o.msg_id}", o.data)
            if paced:
                c["bytes_sent"] += len(o.data)
                c["envelopes_sent"] += 1
                c["updates_sent"] += len(events)

    async def _publish(self, to: str, msg_id: str, data: bytes) -> None:
        """Publish until JetStream acknowledges. A PubAck can time out while this
        process's loop is busy fusing (a second try with the same id is deduplicated by
        the server), as the live node keeps an unacknowledged send in its outbox."""
        from nats.errors import TimeoutError as NatsTimeout

        for attempt in range(20):
            try:
                await self.bus.send(self.me, to, msg_id, data)
                return
            except (TimeoutError, NatsTimeout):
                self.cell["publish_retries"] = self.cell.get("publish_retries", 0) + 1
                await asyncio.sleep(min(0.1 * 2**attempt, 2.0))
        raise RuntimeError(f"{self.me}: {msg_id} to {to} never acknowledged")

    def _guarded(self, job: Any) -> None:
        """Run a cell's job; a failure is reported to the coordinator's next poll."""
        async def run() -> None:
            try:
                await job()
            except Exception as exc:  # the bench stops with it (Federation.poll)
                self.cell["error"] = f"{type(exc).__name__}: {exc}"
        task = asyncio.ensure_future(run())
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)

    async def _warm(self) -> None:
        await self._send_tracks(np.arange(self.cell["objects"]), paced=False)

    async def _paced(self) -> None:
        c = self.cell
        k = np.arange(c["objects"])
        c["cpu_at_go"] = cpu_s()
        c["phase"] = "paced"
        for j in range(int(c["ticks"])):
            due = c["t0_unix"] + j * TICK_S
            await asyncio.sleep(max(0.0, due - time.time()))
            c["late_s"].append(time.time() - due)
            await self._send_tracks(k[k % SHARE_EVERY == j % SHARE_EVERY], paced=True)
        c["ticks_done"] = True
        self._maybe_end()

    def _maybe_end(self) -> None:
        """The cell's paced part is over once this node sent its ticks and took all of
        its partners' (the drain included)."""
        c = self.cell
        if (c.get("ticks_done") and "cpu_at_end" not in c
                and c["paced_envelopes"] >= len(self.partners) * int(c["ticks"])):
            c["cpu_at_end"] = cpu_s()
            c["end_unix"] = time.time()

    def _deliver(self, d: Any) -> None:
        self.queue.append(d)
        self.wake.set()

    async def _process(self) -> None:
        from trilink.kinds.tracks import TRACK_DECODER

        while True:
            await self.wake.wait()
            self.wake.clear()
            batch, self.queue = self.queue, []
            if not batch or self.node is None:
                continue
            c = self.cell
            c0 = time.process_time()
            now = self.now()
            accepted, settle = [], []
            for d in batch:
                out = self.node.on_message(d.data, now, deliverer=d.sender)
                accepted += out.accepted
                c["rejected"] += len(out.rejected)
                for why in out.rejected:  # "reason: detail"
                    key = why.split(":", 1)[0]
                    c["reasons"][key] = c["reasons"].get(key, 0) + 1
                settle.append((d, out.retry_after_s))
            # The partner's updates are in the picture once it is read: fuse what changed.
            c1 = time.process_time()
            changed = self.node.picture.changed_since(self.rev)
            self.rev = self.node.picture.revision
            spent = time.process_time() - c0
            if c["phase"] == "paced":
                c["fuse_cpu_s"] += time.process_time() - c1
            done = self.now()
            for d, retry in settle:
                if retry is None:
                    await self.bus.ack(d)
                else:
                    await self.bus.nak(d, retry)
            c["fused_objects"] = max(c["fused_objects"], len(changed))
            for env in accepted:
                created = (env.created_ns - self.epoch_ns) / 1e9
                if c["phase"] == "warm":
                    c["warm_envelopes"] += 1
                    c["warm_cpu_s"] += spent / len(accepted)
                    continue
                c["paced_envelopes"] += 1
                c["recv_cpu_s"] += spent / len(accepted)
                c["recv_updates"] += len(TRACK_DECODER.decode(env.payload).tracks)
                c["latency_s"].append(done - created)
            self._maybe_end()

    def _result(self) -> dict[str, Any] | None:
        c = self.cell
        if "cpu_at_end" not in c:
            return None
        wall = c["end_unix"] - c["t0_unix"]
        objects = len(self.node.fused())
        return {"nation": self.me, "warm_cpu_s": c["warm_cpu_s"],
                "paced_envelopes": c["paced_envelopes"], "recv_updates": c["recv_updates"],
                "recv_cpu_s": c["recv_cpu_s"], "fuse_cpu_s": c["fuse_cpu_s"],
                "rejected": c["rejected"], "rejected_reasons": c["reasons"],
                "latency_s": c["latency_s"], "bytes_sent": c["bytes_sent"],
                "envelopes_sent": c["envelopes_sent"], "updates_sent": c["updates_sent"],
                "share_cpu_s": c["share_cpu_s"], "process_cpu_s": c["cpu_at_end"] - c["cpu_at_go"],
                "wall_s": wall, "late_max_s": max(c["late_s"], default=0.0),
                "rss_kb": rss_kb(), "rss_before_kb": c["rss_before_kb"],
                "publish_retries": c.get("publish_retries", 0),
                "fused_objects": objects}


def worker_main(config: Path) -> int:
    asyncio.run(Worker(json.loads(config.read_text())).run())
    return 0


# ------------------------------------------------------------------ the federation


class Federation:
    """N nations' servers, streams, links and node processes, and the operators' signed
    control connections to them (use as an async context manager)."""

    def __init__(self, nations: Sequence[str], regime: Path, root: Path) -> None:
        self.nations = tuple(nations)
        self.regime = regime
        self.root = root
        self.stack = contextlib.ExitStack()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.conns: dict[str, Any] = {}
        self.keys: dict[str, Any] = {}
        self.config: dict[str, Any] = {}

    async def __aenter__(self) -> Federation:
        import nats

        from trilink.live import natsconf
        from trilink.live.auth import OperatorRegistry, new_operator
        from trilink.live.launch import hub_of, nation_servers, provision_streams, wait_links

        creds = self.root / "nats"
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        natsconf.write_credentials(creds, self.nations, roles=natsconf.ROLES)
        ops = []
        for n in self.nations:
            op, key = new_operator(f"{n}-bench", n, "joint_staff", ["read"])
            ops.append(op)
            self.keys[n] = key
        registry = OperatorRegistry(ops).to_json()
        urls = self.stack.enter_context(nation_servers(self.root, creds, self.nations, logs))
        hub = hub_of(self.nations)
        spokes = [n for n in self.nations if n != hub]
        conf_bytes = {n: (self.root / f"nats-{n}.conf").stat().st_size for n in self.nations}
        node_perm = natsconf.permissions(hub, natsconf.ROLE_NODE, self.nations, domains=True)
        link_perm = (natsconf.permissions(spokes[0], natsconf.ROLE_LINK, self.nations)
                     if spokes else None)
        self.config = {
            "hub": hub, "hub_conf_bytes": conf_bytes[hub],
            "spoke_conf_bytes": max((conf_bytes[n] for n in spokes), default=0),
            "all_conf_bytes": sum(conf_bytes.values()),
            "node_user_subjects": len(node_perm.publish) + len(node_perm.subscribe),
            "link_user_subjects": (len(link_perm.publish) + len(link_perm.subscribe)
                                   if link_perm else 0)}
        for n in self.nations:
            await provision_streams(urls[n], [n], creds)
        await wait_links(urls, self.nations, creds)
        for n in self.nations:
            cfg = {"nation": n, "nations": list(self.nations), "url": urls[n],
                   "creds": str(creds / n), "regime": str(self.regime),
                   "operators": registry}
            path = self.root / f"{n}.json"
            path.write_text(json.dumps(cfg))
            err = (logs / f"{n}.err").open("wb")
            self.procs[n] = subprocess.Popen([sys.executable, str(Path(__file__).resolve()),
                                              "--worker", str(path)],
                                             stdout=subprocess.DEVNULL, stderr=err)
            err.close()
        for n in self.nations:
            self.conns[n] = await nats.connect(
                urls[n], name=f"growth-operator-{n}",
                **natsconf.creds_options(creds, n, natsconf.ROLE_OPERATOR))
        deadline = time.time() + 180.0
        for n in self.nations:
            while True:
                try:
                    await self.ask(n, {"do": "ping"}, timeout_s=1.0)
                    break
                except TimeoutError:
                    if self.procs[n].poll() is not None or time.time() > deadline:
                        raise RuntimeError(f"{n}'s node did not start (see "
                                           f"{logs / (n + '.err')})") from None
        return self

    async def __aexit__(self, *exc: object) -> None:
        for n in self.nations:
            with contextlib.suppress(Exception):
                await self.ask(n, {"do": "stop"}, timeout_s=5.0)
        for p in self.procs.values():
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for nc in self.conns.values():
            with contextlib.suppress(Exception):
                await nc.close()
        self.stack.close()

    async def ask(self, n: str, body: dict[str, Any], timeout_s: float = 30.0
                  ) -> dict[str, Any]:
        """One signed control request to ``n``'s node, as ``n``'s operator."""
        from nats.errors import NoRespondersError
        from nats.errors import TimeoutError as NatsTimeout

        from trilink.live.auth import sign_request
        from trilink.live.natsconf import control_subject

        req = sign_request({"op": "status", "bench": body}, f"{n}-bench", self.keys[n],
                           time.time_ns())
        try:
            msg = await self.conns[n].request(control_subject(n), json.dumps(req).encode(),
                                              timeout=timeout_s)
        except (NatsTimeout, NoRespondersError):
            raise TimeoutError(n) from None
        reply: dict[str, Any] = json.loads(msg.data)
        if not reply.get("ok"):
            raise RuntimeError(f"{n}: {reply.get('error')}")
        return reply

    async def poll(self, body: dict[str, Any], done: Any, timeout_s: float
                   ) -> dict[str, dict[str, Any]]:
        """Ask every node until ``done(reply)`` holds for all (a busy node is asked again)."""
        deadline = time.time() + timeout_s
        finished: dict[str, dict[str, Any]] = {}
        while len(finished) < len(self.nations):
            for n in self.nations:
                if n in finished:
                    continue
                if self.procs[n].poll() is not None:
                    raise RuntimeError(f"{n}'s node exited ({self.procs[n].returncode})")
                try:
                    # One request in flight per node, answered within the minute the
                    # server allows a reply (a node busy fusing answers late).
                    reply = await self.ask(n, body, timeout_s=50.0)
                except TimeoutError:
                    continue
                if reply.get("error"):
                    raise RuntimeError(f"{n}'s node: {reply['error']}")
                if done(reply):
                    finished[n] = reply
            if len(finished) < len(self.nations):
                if time.time() > deadline:
                    raise RuntimeError(f"{body['do']}: nodes "
                                       f"{sorted(set(self.nations) - set(finished))} not "
                                       f"done in {timeout_s:g} s")
                await asyncio.sleep(1.0)
        return finished

    async def cell(self, cell_id: int, objects: int, duration_s: float) -> dict[str, Any]:
        n_partners = len(self.nations) - 1
        start = time.time() + 0.3
        await asyncio.gather(*(self.ask(n, {"do": "warm", "cell": cell_id,
                                            "objects": objects, "start_unix": start})
                               for n in self.nations))
        await self.poll({"do": "state"}, lambda r: r["warm_envelopes"] >= n_partners,
                        WARM_TIMEOUT_S)
        warm_wall = time.time() - start
        ticks = max(1, round(duration_s / TICK_S))
        t0 = time.time() + 0.5
        await asyncio.gather(*(self.ask(n, {"do": "go", "t0_unix": t0, "ticks": ticks})
                               for n in self.nations))
        await asyncio.sleep(max(0.0, t0 + ticks * TICK_S - time.time()))
        replies = await self.poll({"do": "result"}, lambda r: r["result"] is not None,
                                  DRAIN_TIMEOUT_S)
        nodes = [replies[n]["result"] for n in self.nations]
        return summarise(len(self.nations), objects, ticks, warm_wall, nodes)


def _median(xs: Sequence[float]) -> float:
    return float(np.median(xs)) if len(xs) else math.nan


def summarise(nations: int, objects: int, ticks: int, warm_wall_s: float,
              nodes: list[dict[str, Any]]) -> dict[str, Any]:
    lat = np.concatenate([np.asarray(r["latency_s"], dtype=float) for r in nodes])
    traffic_s = ticks * TICK_S
    return {
        "nations": nations, "objects": objects, "paced_s": traffic_s,
        "updates_per_cpu_s": _median([r["recv_updates"] / r["recv_cpu_s"] for r in nodes
                                      if r["recv_cpu_s"] > 0]),
        "recv_updates_per_s": _median([r["recv_updates"] / traffic_s for r in nodes]),
        "cpu_share": _median([r["process_cpu_s"] / r["wall_s"] for r in nodes]),
        "cpu_share_max": max(r["process_cpu_s"] / r["wall_s"] for r in nodes),
        "recv_cpu_per_s": _median([r["recv_cpu_s"] / traffic_s for r in nodes]),
        "fuse_share_of_recv": _median([r["fuse_cpu_s"] / r["recv_cpu_s"] for r in nodes
                                       if r["recv_cpu_s"] > 0]),
        "share_cpu_per_s": _median([r["share_cpu_s"] / traffic_s for r in nodes]),
        # The node's own work (receive and share paths) per second of traffic.
        "node_cpu_per_s": _median([(r["recv_cpu_s"] + r["share_cpu_s"]) / traffic_s
                                   for r in nodes]),
        "p50_ms": 1e3 * float(np.percentile(lat, 50)),
        "p99_ms": 1e3 * float(np.percentile(lat, 99)),
        "latency_samples": int(lat.size),
        "bytes_per_s": _median([r["bytes_sent"] / traffic_s for r in nodes]),
        "bytes_per_update": (sum(r["bytes_sent"] for r in nodes)
                             / max(1, sum(r["updates_sent"] for r in nodes))),
        "envelope_bytes": (sum(r["bytes_sent"] for r in nodes)
                           / max(1, sum(r["envelopes_sent"] for r in nodes))),
        "rss_mb": _median([r["rss_kb"] / 1024 for r in nodes]),
        "rss_mb_max": max(r["rss_kb"] / 1024 for r in nodes),
        "association_cpu_s": _median([r["warm_cpu_s"] for r in nodes]),
        "warm_wall_s": warm_wall_s,
        "drain_wall_s": max(r["wall_s"] for r in nodes) - traffic_s,
        "tick_late_max_s": max(r["late_max_s"] for r in nodes),
        "rejected": sum(r["rejected"] for r in nodes),
        "publish_retries": sum(r["publish_retries"] for r in nodes),
        "fused_objects_min": min(r["fused_objects"] for r in nodes),
        "fused_objects_max": max(r["fused_objects"] for r in nodes),
        "nodes": [{k: v for k, v in r.items() if k != "latency_s"} for r in nodes],
    }


RATIO_KEYS = ("updates_per_cpu_s", "node_cpu_per_s", "cpu_share", "recv_cpu_per_s",
              "share_cpu_per_s",
              "p50_ms", "p99_ms", "bytes_per_s", "bytes_per_update", "rss_mb",
              "association_cpu_s", "hub_conf_bytes", "spoke_conf_bytes",
              "node_user_subjects")


def with_ratios(cells: list[dict[str, Any]]) -> None:
    """Each cell's figures over the 3-nation (smallest) cell's with the same objects."""
    for c in cells:
        base = min((b for b in cells if b["objects"] == c["objects"]),
                   key=lambda b: b["nations"])
        c["vs_base"] = {"base_nations": base["nations"],
                        **{k: (c[k] / base[k] if base.get(k) else None) for k in RATIO_KEYS}}


def growth_law(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """Exponents b of figure ∝ size^b between the smallest and largest cells, per axis
    (b = 1: linear; 2: quadratic)."""
    def slope(a: dict[str, Any], b: dict[str, Any], key: str, axis: str) -> float | None:
        if not a.get(key) or not b.get(key) or a[axis] == b[axis]:
            return None
        return math.log(b[key] / a[key]) / math.log(b[axis] / a[axis])

    keys = ("node_cpu_per_s", "recv_cpu_per_s", "cpu_share", "bytes_per_s",
            "association_cpu_s", "p99_ms", "hub_conf_bytes", "node_user_subjects")
    out: dict[str, Any] = {"in_nations": {}, "in_objects": {}}
    for k in sorted({c["objects"] for c in cells}):
        row = sorted((c for c in cells if c["objects"] == k), key=lambda c: c["nations"])
        if len(row) > 1:
            out["in_nations"][f"objects={k}"] = {key: slope(row[0], row[-1], key, "nations")
                                                 for key in keys}
    for n in sorted({c["nations"] for c in cells}):
        row = sorted((c for c in cells if c["nations"] == n), key=lambda c: c["objects"])
        if len(row) > 1:
            out["in_objects"][f"nations={n}"] = {key: slope(row[0], row[-1], key, "objects")
                                                 for key in keys[:6]}
    return out


def table(cells: list[dict[str, Any]]) -> str:
    head = ("| nations | objects | updates/CPU s | × | CPU share | × | p50 ms | p99 ms | "
            "× p99 | bytes/s | × | B/update | RSS MB | association CPU s | × | "
            "hub conf B | × |")
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for c in cells:
        v = c["vs_base"]
        rows.append(
            f"| {c['nations']} | {c['objects']} | {c['updates_per_cpu_s']:,.0f} | "
            f"{v['updates_per_cpu_s']:.2f} | {c['cpu_share']:.3f} | {v['cpu_share']:.2f} | "
            f"{c['p50_ms']:.1f} | {c['p99_ms']:.1f} | {v['p99_ms']:.2f} | "
            f"{c['bytes_per_s']:,.0f} | {v['bytes_per_s']:.2f} | {c['bytes_per_update']:.0f} | "
            f"{c['rss_mb']:.0f} | {c['association_cpu_s']:.2f} | "
            f"{v['association_cpu_s'] or 0:.2f} | {c['hub_conf_bytes']:,} | "
            f"{v['hub_conf_bytes']:.2f} |")
    return "\n".join(rows)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="3 and 6 nations, 23 and 100 objects, 3 s cells")
    p.add_argument("--counts", help="numbers of nations (default 3,6,12)")
    p.add_argument("--objects", help="objects in flight (default 23,100,500)")
    p.add_argument("--regime", type=Path, default=DEFAULT_REGIME,
                   help="regime file whose hypothetical agreement names the partners")
    p.add_argument("--nations", help="the nations in the order they join (default: the "
                   "parties of the regime's hypothetical agreement)")
    p.add_argument("--duration-s", type=float,
                   help="paced seconds per cell (default 5: each object shared once by "
                   "each nation)")
    p.add_argument("--out", type=Path, help="where to write the JSON")
    p.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker is not None:
        raise SystemExit(worker_main(a.worker))
    counts = _ints(a.counts) if a.counts else ([3, 6] if a.quick else [3, 6, 12])
    objects = _ints(a.objects) if a.objects else ([23, 100] if a.quick else [23, 100, 500])
    duration = a.duration_s or (3.0 if a.quick else 5.0)
    order = (tuple(x.strip().upper() for x in a.nations.split(",")) if a.nations
             else growth_nations(a.regime))
    if max(counts) > len(order):
        raise SystemExit(f"--counts: {max(counts)} nations asked, the list has {len(order)}")
    out = a.out or (None if a.quick else RESULTS)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    t_start = time.time()
    cells: list[dict[str, Any]] = []

    async def run() -> None:
        cell_id = 0
        for n in counts:
            with tempfile.TemporaryDirectory(prefix="trilink-growth-") as tmp:
                async with Federation(order[:n], a.regime, Path(tmp)) as fed:
                    for k in objects:
                        cell_id += 1
                        res = await fed.cell(cell_id, k, duration)
                        res |= fed.config
                        res["nation_list"] = list(order[:n])
                        cells.append(res)
                        write()  # after every cell: a long run keeps what it measured
                        print(f"{n} nations × {k} objects: {res['updates_per_cpu_s']:,.0f} "
                              f"updates/CPU s, p99 {res['p99_ms']:.1f} ms, association "
                              f"{res['association_cpu_s']:.2f} CPU s, warm-up "
                              f"{res['warm_wall_s']:.1f} s", file=sys.stderr, flush=True)

    def write() -> dict[str, Any]:
        with_ratios(cells)
        result = {
            "benchmark": "federation growth: nations × objects on per-nation nats-servers "
                         "with nkey users and signed control",
            "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": "python bench/bench_growth.py" + (" --quick" if a.quick else ""),
            "quick": a.quick, "regime": str(a.regime.resolve().relative_to(ROOT))
            if a.regime.resolve().is_relative_to(ROOT) else str(a.regime),
            "hypothetical_partners": True, "tick_s": TICK_S, "share_every_ticks": SHARE_EVERY,
            "cells": cells, "growth_exponents": growth_law(cells),
            "wall_s": round(time.time() - t_start, 1),
            "load_before": load_before,
            "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "machine": f"{platform.machine()}, {os.cpu_count()} cpus, Python "
                       f"{platform.python_version()}",
        }
        if out is not None:
            out.write_text(json.dumps(result, indent=2) + "\n")
        return result

    asyncio.run(run())
    result = write()
    print(table(cells))
    if out is None:
        print(json.dumps(result["growth_exponents"], indent=2))
    else:
        print(f"written {out}")


if __name__ == "__main__":
    main()
