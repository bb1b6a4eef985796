"""``trilink live``: a scenario replayed through live nodes, one process per nation.

:func:`run_live` starts an embedded ``nats-server`` (JetStream, store in a temporary
folder), makes keys, starts one node process per nation (:func:`node_main`, run as
``python -m trilink.live.launch CONFIG``), waits until each answers its control API,
then publishes the scenario's measurements on the scenario clock
(:mod:`trilink.live.replay`), waits for the scenario's end — and on while the nodes'
simulated hotline authorities are at work (:func:`wait_hotline_quiet`) — stops the
nodes (SIGTERM: each writes its record and closes its audit) and the server, and writes
``DIR/summary.json`` (the schema of ``trilink run``), ``DIR/alerts/*.xml``,
``DIR/audit/<NATION>.sqlite``, ``DIR/nodes/<NATION>.node.json`` and ``DIR/keys.json``.
The scenario's ``hotline_request`` injects are sent at their scenario times as ``open``
control requests to their nations' nodes (:func:`apply_hotline_injects`; what was
applied goes to ``DIR/nodes/injects.json``); its ``lost_link`` injects are applied by
each node to what it sends (:func:`trilink.sim.run.link_cuts`, the simulation's cuts: a
message due on a lost link leaves when the link returns; ``held_by_lost_links`` in the
node's record counts them).

The embedded server authenticates every client (:mod:`trilink.live.natsconf`): the run
makes one nkey per nation and role in its temporary folder (seeds mode 0600, never in
``DIR``; the server's log goes to ``DIR/nodes/nats-server.log``), each nation's admin
creates its ``OUTBOX_<NATION>`` and ``PICTURE_<NATION>`` streams before any node starts,
and every process connects as its own user: the nodes as their nation's ``node``, the
feed as each nation's ``sensor``, the launcher's readiness and clock requests as each
nation's ``operator``, the dashboards as its ``dashboard`` (hotline requests from a
dashboard as its ``operator``). A client without a known key is refused at connect.

With ``serve=True`` (``trilink live --serve``) the keys are kept in ``DIR/keys`` (a
``trilink keys new`` folder: login tokens are minted from it) and, once the nodes are
up, one dashboard per nation (:func:`trilink.web.server.serve_in_background`) reads
that nation's picture stream until the replay ends; ``hold`` (``--hold``) is called
after the summary is written, with the dashboards (and the nats-server) still up.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import math
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trilink.errors import TrilinkError
from trilink.live.natsconf import clock_subject

if TYPE_CHECKING:
    from trilink.hotline.simulated import SimAuthorities
    from trilink.live.replay import ScenarioClock
    from trilink.sim.scenario import Scenario

AFTER_END_S = 120.0  # scenario seconds run past the last impact: last warnings lapse
GRACE_S = 30.0  # wall seconds a node gets to stop on SIGTERM before it is killed (a
# loaded machine: writing the record and tearing a 500 MB process down took over 10 s)


class LiveRunError(TrilinkError):
    """A replay could not run (one line: what failed and where to look)."""


@dataclasses.dataclass(frozen=True)
class Dashboard:
    """One nation's dashboard of a ``--serve`` replay: where it is, how to log in."""

    nation: str
    url: str
    token_command: str  # prints a login token; add --role, --user-nation as needed


@dataclasses.dataclass(frozen=True)
class NatsRun:
    """A replay's servers once their streams exist (and, one server per nation, the leaf
    links answer), before any node starts."""

    url: str  # the hub's server (one shared server: that server)
    creds_dir: Path  # the run's credentials (its temporary folder: gone after the run)
    urls: Mapping[str, str] = dataclasses.field(default_factory=dict)  # each nation's own
    single_server: bool = False
    node_configs: Mapping[str, Path] = dataclasses.field(default_factory=dict)  # as run


def hub_of(nations: Sequence[str]) -> str:
    """The nation whose server the others' servers dial (a star: NATS refuses cyclic leaf
    links): the US where it takes part, as in the alliances, else the first nation."""
    return "USA" if "USA" in nations else nations[0]


@contextlib.contextmanager
def nation_servers(root: Path, creds: Path, nations: Sequence[str], logs: Path,
                   hub: str | None = None) -> Iterator[dict[str, str]]:
    """One ``nats-server`` per nation on 127.0.0.1 (JetStream domain = the nation's code,
    own store folder ``root/jetstream-<N>``, own port), the spokes' servers joined to the
    hub's by leaf nodes, each from :func:`trilink.live.natsconf.nation_server_config`
    (``creds``: a :func:`~trilink.live.natsconf.write_credentials` folder with the
    ``link`` role). Logs ``logs/nats-<N>.log``. Yields each nation's URL; stops them after."""
    from trilink.bus.server import free_port, nats_server
    from trilink.live import natsconf

    hub = hub or hub_of(nations)
    ports = {n: free_port() for n in nations}
    leaf_port = free_port()
    with contextlib.ExitStack() as stack:
        urls: dict[str, str] = {}
        for n in [hub, *(m for m in nations if m != hub)]:  # the hub first: spokes dial it
            conf = natsconf.nation_server_config(
                root / f"nats-{n}.conf", creds, n, hub, store_dir=root / f"jetstream-{n}",
                port=ports[n], leaf_port=leaf_port if n == hub else None,
                hub_url=None if n == hub else f"nats-leaf://127.0.0.1:{leaf_port}")
            urls[n] = stack.enter_context(nats_server(root / f"jetstream-{n}", port=ports[n],
                                                      config=conf,
                                                      log=logs / f"nats-{n}.log"))
        yield {n: urls[n] for n in nations}


async def wait_links(urls: Mapping[str, str], nations: Sequence[str], creds: Path) -> None:
    """Until every nation's node user sees every partner's outbox through the links (a
    :class:`LiveRunError` naming the link if one does not come up)."""
    from trilink.bus.nats import BusError, NatsBus
    from trilink.live.natsconf import ROLE_NODE

    for n in nations:
        try:
            bus = await NatsBus.connect(urls[n], nations, **_opts(creds, n, ROLE_NODE))
        except BusError as exc:
            raise LiveRunError(f"{n}'s server: {exc}") from None
        await bus.close()


def _opts(creds: Path, nation: str, role: str) -> dict[str, Any]:
    from trilink.live.natsconf import creds_options

    return creds_options(creds, nation, role)


# ------------------------------------------------------------------ one node process


def node_main(config_path: str) -> int:
    """One national node of a replay (see the module docstring); returns an exit code."""
    import faulthandler

    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID`: where is this node stuck?
    cfg = json.loads(Path(config_path).read_text())
    from trilink.live.keys import load_keys_dir
    from trilink.live.node import LiveNode, live_national_node
    from trilink.live.record import NodeRecorder
    from trilink.live.replay import ScenarioClock
    from trilink.node import NationalNode
    from trilink.sharing.audit import AuditLog
    from trilink.sharing.policy import policy_for
    from trilink.sim.hotline import desk_config
    from trilink.sim.run import link_cuts, scenario_watch
    from trilink.sim.scenario import load_scenario

    me = str(cfg["nation"])
    out = Path(cfg["out_dir"])
    scenario = load_scenario(cfg["scenario"])
    epoch = dt.datetime.fromisoformat(cfg["epoch"])
    speed = float(cfg["speed"])
    # The launcher sets scenario second 0 once every node is up (trilink.live.clock.*);
    # until then node time stands far before the scenario.
    clock: list[ScenarioClock] = []
    stopped: list[float] = []

    def now_unix() -> float:
        return clock[0].unix_now() if clock else epoch.timestamp() - 1e9
    from trilink.live.natsconf import ROLE_NODE

    nats_opts = _opts(Path(cfg["nats_creds"]), me, ROLE_NODE)
    key, registry = load_keys_dir(Path(cfg["keys_dir"]), me)
    policy = policy_for(cfg.get("regime") or scenario.regime, scenario.date)
    audit = AuditLog(out / "audit" / f"{me}.sqlite", durable=False)
    # As `trilink run` (one configuration): rounds every 10 s until the last impact, its
    # consultation rules, its announced exercise launches as drills.
    watch = scenario_watch(scenario, epoch, tuple(cfg["nations"]), float(cfg["end_s"]))

    def make(log: AuditLog | None) -> NationalNode:
        return live_national_node(me, key, registry, policy, cfg["nations"], log,
                                  desk_config(scenario.hotline), epoch=epoch, modelled_latency=True,
                                  watch_config=watch)

    _warm_up(me, Path(cfg["warm"]), epoch, lambda: make(None))
    national = make(audit)
    authorities = (replay_authorities(scenario, me, tuple(cfg["nations"]), int(cfg["seed"]))
                   if cfg.get("sim_authorities") else None)
    recorder = NodeRecorder(me)
    log_file = (out / "nodes" / f"{me}.log").open("a", buffering=1)

    def show(line: str) -> None:
        log_file.write(f"{time.time():.3f} {line}\n")

    async def serve() -> LiveNode:
        from trilink.live.client import connect

        live = LiveNode(national, cfg["nats"], ack_wait_s=5.0, clock=now_unix,
                        speed=speed, sensors=True, alerts_dir=out / "alerts",
                        hold_sends=True, recorder=recorder, log=show,
                        nats_options=nats_opts, authorities=authorities,
                        cuts=link_cuts(scenario, epoch))
        # The clock first: once the control API answers, the launcher may set it.
        nc = await connect(cfg["nats"], name=f"trilink-{me}-clock", **nats_opts)

        async def set_clock(msg: Any) -> None:
            start = float(json.loads(msg.data)["start_unix"])
            if not clock:
                clock.append(ScenarioClock(epoch, start, speed))
                show(f"{me}: scenario second 0 at wall {start:.3f}, x{speed:g}")
            await msg.respond(b"ok")

        await nc.subscribe(clock_subject(me), cb=set_clock)
        await nc.flush()
        await live.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        stopped.append(live.now_s())  # node time when it was told to stop
        await nc.close()
        await live.stop(close_watch=True)
        return live

    try:
        live = asyncio.run(serve())
    finally:
        audit.close()
    recorder.write(out / "nodes" / f"{me}.node.json", national,
                   stopped_s=stopped[0] if stopped else live.now_s(),
                   sim_authorities=authorities is not None, received=live.received,
                   sent=live.sent, unsent=live.queued, scans=live.scans,
                   feed_rejected=live.feed_rejected, rejected=list(live.rejected),
                   held_by_lost_links=live.held_by_cuts)
    show(f"{me}: stopped ({live.received} received, {live.sent} sent, {live.scans} scans)")
    log_file.close()
    return 0


def replay_authorities(scenario: Scenario, nation: str, nations: Sequence[str],
                       seed: int) -> SimAuthorities | None:
    """The simulated people behind ``nation``'s desk in a replay of ``scenario``: its
    hotline's response model for that nation, seeded as ``trilink run`` seeds them (the
    run's seed, salted with the scenario id), so a live node's authorities draw what the
    simulation's draw. None when the scenario's hotline is off."""
    from trilink.hotline.simulated import SimAuthorities
    from trilink.sim.hotline import response_models

    if not scenario.hotline.enabled:
        return None
    return SimAuthorities(nation, response_models(scenario.hotline, nations)[nation], seed,
                          salt=scenario.id)


def _warm_up(nation: str, path: Path, epoch: dt.datetime,
             make_node: Callable[[], Any] | None = None) -> None:
    """Run a throwaway node (or tracker) over sample scans, with its assessment rounds:
    numba loads (or compiles) the tracker's and the impact predictor's kernels now, not
    on the first live scan, where it would put the node seconds behind."""
    import msgspec

    from trilink.live.feed import decode_scan, to_scan
    from trilink.tracking.tracker import Tracker

    node = make_node() if make_node is not None else None
    tracker = Tracker(nation)
    for data in msgspec.msgpack.decode(path.read_bytes(), type=list[bytes]):
        scan = to_scan(decode_scan(data), epoch)
        if node is None:
            tracker.process(scan)
            continue
        node.on_scan(scan)
        wake = node.next_wakeup_s()
        if wake is not None and wake <= scan.t_s:
            node.tick(scan.t_s)


def _warm_scans(scans: list[Any], nation: str, epoch: dt.datetime, path: Path) -> None:
    import msgspec

    from trilink.live.feed import encode_scan, from_scan

    own = [s for s in scans if s.nation == nation]
    first = next((i for i, s in enumerate(own) if len(s.z)), 0)
    sample = own[first:first + 200]  # radar scans and infrared frames: both kernels load
    path.write_bytes(msgspec.msgpack.encode([encode_scan(from_scan(s, epoch))
                                             for s in sample]))


# ------------------------------------------------------------------ the launcher


def _wait_ready(urls: Mapping[str, str], nations: tuple[str, ...],
                procs: dict[str, subprocess.Popen[bytes]], deadline: float, logs: Path,
                creds: Path) -> None:
    from trilink.live.client import LiveError, request
    from trilink.live.natsconf import ROLE_OPERATOR

    async def ask(n: str) -> bool:
        try:
            return bool((await request(urls[n], n, {"op": "status"}, timeout_s=1.0,
                                       **_opts(creds, n, ROLE_OPERATOR)))["ok"])
        except LiveError:
            return False

    waiting = set(nations)
    while waiting:
        for n in sorted(waiting):
            if procs[n].poll() is not None:
                raise LiveRunError(f"the {n} node exited with status {procs[n].returncode} "
                                   f"before it was ready (see {logs / (n + '.err')})")
            if asyncio.run(ask(n)):
                waiting.discard(n)
        if waiting and time.time() > deadline:
            raise LiveRunError(f"nodes {', '.join(sorted(waiting))} not ready in time "
                               "(a first run compiles the tracker: try again, or raise "
                               "--lead-s)")
        if waiting:
            time.sleep(0.1)


def run_live(scenario_ref: str, out_dir: Path, speed: float = 20.0, seed: int = 0,
             regime: str | None = None, lead_s: float = 120.0,
             log: Callable[[str], None] | None = None, *, serve: bool = False,
             serve_port: int = 0,
             on_serve: Callable[[list[Dashboard]], None] | None = None,
             hold: Callable[[dict[str, Any]], None] | None = None,
             on_nats: Callable[[NatsRun], None] | None = None,
             single_server: bool = False, sim_authorities: bool = True,
             hotline_max_s: float | None = None) -> dict[str, Any]:
    """See the module docstring; returns the summary.

    ``sim_authorities`` (``--no-sim-authorities`` turns it off): each node runs the
    scenario's simulated authorities on its own desk, on its own clock, seeded as
    ``trilink run`` seeds them (:func:`replay_authorities`): people join, draft,
    approve and release statements live. The replay then goes on past the scenario's
    end until every node's authorities have nothing planned and the nodes have gone
    quiet, for at most ``hotline_max_s`` scenario seconds (default: the scenario's
    ``hotline.lapse_after_s``), as the simulation runs on until its desks are quiet.

    ``single_server`` (``--single-server``, development): one server holding every
    nation's users, instead of one server per nation joined by leaf nodes.

    ``on_nats(run)`` is called once the servers run and the streams exist,
    before the nodes start (an exception from it ends the run).

    ``serve``: dashboards on free ports (``serve_port=0``) or on ``serve_port``,
    ``serve_port + 1``, … in the scenario's nation order. ``on_serve(dashboards)`` is
    called once they listen, before the replay starts; ``hold(summary)`` once the summary
    is written, before they stop (it returns when they may stop)."""
    from trilink.live import natsconf
    from trilink.live.client import PerNation, SensorFeed
    from trilink.live.keys import write_keys
    from trilink.live.record import read_record
    from trilink.live.replay import (
        ScenarioClock,
        publish_feed,
        scenario_nations,
        scenario_scans,
        scenario_truth,
    )
    from trilink.live.summary import live_summary
    from trilink.sim.scenario import load_scenario

    say = log or (lambda line: None)
    if not (math.isfinite(speed) and speed > 0):
        raise LiveRunError(f"--speed: expected a positive number, got {speed}")
    scenario = load_scenario(scenario_ref)
    nations = scenario_nations(scenario)
    if serve:
        _check_ports(serve_port, len(nations))  # before the start-up, not after
    truth = scenario_truth(scenario)
    assert truth.epoch is not None
    scans = scenario_scans(truth, nations, seed)
    out_dir = Path(out_dir)
    for sub in ("alerts", "audit", "nodes"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    for old in [*(out_dir / "alerts").glob("*.xml"), *(out_dir / "audit").glob("*.sqlite"),
                *(out_dir / "nodes").glob("*"), *(out_dir / "keys").glob("*.key"),
                *(out_dir / "keys").glob("registry.json")]:
        old.unlink()  # keys of an earlier run would not match this run's keys.json
    end_s = truth.end_t_s + AFTER_END_S
    with tempfile.TemporaryDirectory(prefix="trilink-live-") as tmp:
        # Served replays keep the private keys: the dashboards' login tokens need them.
        keys_dir = out_dir / "keys" if serve else Path(tmp) / "keys"
        write_keys(nations, keys_dir, force=True)
        # NATS users: only in the temporary folder, also with --serve (the dashboards
        # run in this process and read them from there).
        creds = Path(tmp) / "nats"
        natsconf.write_credentials(creds, nations, roles=natsconf.CLIENT_ROLES if single_server
                                   else natsconf.ROLES)
        with _servers(Path(tmp), creds, nations, out_dir / "nodes", single_server) as urls, \
                contextlib.ExitStack() as dashboards:
            url = urls[hub_of(nations)]
            if single_server:
                say(f"nats-server (JetStream, nkey users) at {url}")
            else:
                say(f"nats-servers, one per nation (JetStream domain each, leaf nodes to "
                    f"{hub_of(nations)}'s): " + ", ".join(f"{n} {urls[n]}" for n in nations))
            for n in nations:
                asyncio.run(provision_streams(urls[n], [n], creds))
            if not single_server:
                asyncio.run(wait_links(urls, nations, creds))
            configs: dict[str, Path] = {}
            for n in nations:
                warm = Path(tmp) / f"{n}.warm"
                _warm_scans(scans, n, truth.epoch, warm)
                cfg = {"nation": n, "out_dir": str(out_dir), "scenario": scenario_ref,
                       "epoch": truth.epoch.isoformat(), "speed": speed,
                       "keys_dir": str(keys_dir), "nats": urls[n], "regime": regime,
                       # Only the nation's own seeds (its folder), its own server.
                       "nats_creds": str(creds / n),
                       "nations": list(nations), "warm": str(warm),
                       "end_s": truth.end_t_s, "seed": seed,
                       "sim_authorities": sim_authorities}
                configs[n] = Path(tmp) / f"{n}.json"
                configs[n].write_text(json.dumps(cfg))
            if on_nats is not None:
                on_nats(NatsRun(url, creds, urls, single_server, configs))
            procs: dict[str, subprocess.Popen[bytes]] = {}
            try:
                for n, path in configs.items():
                    err = (out_dir / "nodes" / f"{n}.err").open("wb")
                    procs[n] = subprocess.Popen(
                        [sys.executable, "-m", "trilink.live.launch", str(path)],
                        stdout=subprocess.DEVNULL, stderr=err, env=_child_env())
                    err.close()
                _wait_ready(urls, nations, procs, time.time() + lead_s, out_dir / "nodes",
                            creds)
                if serve:
                    served = _start_dashboards(nations, urls, keys_dir, serve_port,
                                               dashboards, say, creds)
                    if on_serve is not None:
                        on_serve(served)
                say(f"nodes {', '.join(nations)} ready; replay at x{speed:g} for "
                    f"{end_s / speed:.0f} s")
                clock = ScenarioClock(truth.epoch, time.time() + 0.5, speed)
                applied: list[dict[str, Any]] = []

                async def feed() -> int:
                    # Each nation's clock is set by its operator, its scans come from
                    # its own sensor user.
                    ops = await PerNation.open(urls, nations, "trilink-launcher", lambda n:
                                               _opts(creds, n, natsconf.ROLE_OPERATOR))
                    try:
                        sensors = await SensorFeed.open(urls, nations, "trilink-feed", lambda n:
                                                        _opts(creds, n, natsconf.ROLE_SENSOR),
                                                        log=say)
                    except BaseException:
                        await ops.close()
                        raise
                    try:
                        start = json.dumps({"start_unix": clock.start_unix}).encode()
                        for n in nations:
                            await ops.conns[n].request(clock_subject(n), start,
                                                       timeout=5.0)
                        _, done = await asyncio.gather(
                            publish_feed(sensors, scans, clock),
                            apply_hotline_injects(ops.conns, scenario, clock, nations,
                                                  end_s, say))
                        applied.extend(done)
                        if sensors.buffered:
                            say(f"feed: {sensors.buffered} scan(s) kept through a server "
                                f"outage, {sensors.dropped} dropped (buffer full), "
                                f"{sensors.waiting} never sent")
                        return sensors.published
                    finally:
                        await ops.close()
                        await sensors.close()

                published = asyncio.run(feed())
                if scenario.injects:
                    (out_dir / "nodes" / "injects.json").write_text(
                        json.dumps(applied, indent=2) + "\n")
                rest = clock.wall_at(end_s) - time.time()
                if rest > 0:
                    time.sleep(rest)
                if sim_authorities and scenario.hotline.enabled:
                    limit = (scenario.hotline.lapse_after_s if hotline_max_s is None
                             else hotline_max_s)
                    wait_hotline_quiet(urls, nations, creds, clock, end_s + limit, say)
            finally:
                _stop(procs)
            bad = {n: p.returncode for n, p in procs.items() if p.returncode != 0}
            if bad:
                n = sorted(bad)[0]
                raise LiveRunError(f"the {n} node ended with status {bad[n]} (see "
                                   f"{out_dir / 'nodes' / (n + '.err')})")
            refused = sum(_violations(f) for f in (out_dir / "nodes").glob("nats-*.log"))
            if refused:  # a user's permissions do not cover what its process does
                say(f"nats-server: {refused} permissions violation(s) of this run's own "
                    f"clients (see {out_dir / 'nodes'}/nats-*.log)")
            (out_dir / "keys.json").write_text((keys_dir / "registry.json").read_text())
            records = {n: read_record(out_dir / "nodes" / f"{n}.node.json") for n in nations}
            summary = live_summary(
                scenario.id, seed, truth, scans, records, mode="live", speed=speed,
                sim_authorities=sim_authorities and scenario.hotline.enabled,
                time_origin="seconds after each launch, on the scenario clock (scenario "
                            f"second 0 = {truth.epoch.isoformat()}, replayed x{speed:g})",
                scans_published=published)
            (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
            if serve and hold is not None:
                hold(summary)  # the end state, on dashboards still up (nodes stopped)
    return summary


QUIET_POLL_S = 1.0  # wall seconds between the launcher's looks at the nodes' hotline


def wait_hotline_quiet(urls: Mapping[str, str], nations: Sequence[str], creds: Path,
                       clock: ScenarioClock, until_s: float,
                       say: Callable[[str], None]) -> float:
    """Until no node's simulated authorities have anything planned, no hotline message
    waits in a node's queue (the agreements' modelled latency holds it) and no node's
    desk did or received anything between two looks (``status`` control requests, as
    each nation's operator), or scenario second ``until_s``; returns the scenario second
    it ended. The nodes decide everything; this only waits. (Track messages held by a
    long modelled latency do not keep the replay going.)"""
    from trilink.live.client import LiveError, request
    from trilink.live.natsconf import ROLE_OPERATOR

    async def look() -> dict[str, Any] | None:
        seen: dict[str, Any] = {}
        for n in nations:
            try:
                reply = await request(urls[n], n, {"op": "status"}, timeout_s=5.0,
                                      **_opts(creds, n, ROLE_OPERATOR))
            except LiveError:
                return None
            staff = reply.get("sim_authorities")
            if not isinstance(staff, dict):
                return None
            seen[n] = staff
        return seen

    said = False
    before: dict[str, Any] | None = None
    while (now := clock.scenario_s()) < until_s:
        seen = asyncio.run(look())
        if seen is not None:
            quiet = all(s["planned"] == 0 and s["hotline_queued"] == 0
                        for s in seen.values())
            counts = {n: s["hotline_seen"] for n, s in seen.items()}
            if quiet and before == counts:
                return now
            before = counts if quiet else None
            if not said and not quiet:
                nxt = [s["next_s"] for s in seen.values() if s["next_s"] is not None]
                say(f"hotline: the simulated authorities are still at work (next step at "
                    f"scenario second {min(nxt, default=now):.0f}); the replay goes on "
                    f"until they are done, at most to {until_s:.0f} s "
                    f"({(until_s - now) / clock.speed:.0f} s wall)")
                said = True
        time.sleep(QUIET_POLL_S)
    say(f"hotline: still at work at scenario second {until_s:.0f}; the replay ends there")
    return clock.scenario_s()


async def apply_hotline_injects(conns: Mapping[str, Any], scenario: Scenario,
                                clock: ScenarioClock, nations: Sequence[str], end_s: float,
                                say: Callable[[str], None]) -> list[dict[str, Any]]:
    """Send each ``hotline_request`` inject of ``scenario`` at its scenario time on
    ``clock`` as an ``open`` control request (what `trilink hotline open` sends, trigger
    "exercise inject") to its nation's node, over ``conns[nation]`` (that nation's
    operator connection). The node opens the consultation at its own now; a refusal or
    no answer is one line, and the run goes on. Returns one entry per inject: index,
    nation, scenario time due, and the node's reply (or the problem)."""
    from nats.errors import Error as NatsError

    from trilink.live.client import control_subject
    from trilink.sim.scenario import HotlineRequestInject, LostLinkInject

    due = sorted((inj.time_s(clock.epoch, scenario.launches), k, inj)
                 for k, inj in enumerate(scenario.injects)
                 if isinstance(inj, HotlineRequestInject))
    applied: list[dict[str, Any]] = []
    for k, other in enumerate(scenario.injects):
        if isinstance(other, LostLinkInject):  # each node holds what it sends on the link
            t0, t1 = other.window_s(clock.epoch, scenario.launches)
            applied.append({"inject": k, "kind": other.kind, "between": list(other.between),
                            "from_s": t0, "to_s": t1, "applied_by": "the nodes' sends"})
            say(f"inject {k} ({'-'.join(other.between)} link lost {t0:g}-{t1:g} s): "
                "applied by the nodes")
        elif not isinstance(other, HotlineRequestInject):
            applied.append({"inject": k, "kind": other.kind, "problem": "not applied live"})
            say(f"inject {k} ({other.kind}): not applied in live runs (yet)")
    for t_s, k, inj in due:
        entry: dict[str, Any] = {"inject": k, "kind": inj.kind, "nation": inj.nation,
                                 "due_s": t_s}
        applied.append(entry)
        if t_s > end_s:
            entry["problem"] = "after the replay's end"
            say(f"inject {k} ({inj.nation} hotline request at {t_s:g} s): not sent, "
                f"after the replay's end ({end_s:g} s)")
            continue
        await asyncio.sleep(max(0.0, clock.wall_at(t_s) - time.time()))
        parties = list(inj.parties or [n for n in nations if n != inj.nation])
        req = {"op": "open", "parties": parties, "topic": inj.topic,
               "authority": inj.authority, "trigger": "exercise inject"}
        try:
            msg = await conns[inj.nation].request(control_subject(inj.nation),
                                                  json.dumps(req).encode(), timeout=5.0)
            reply = json.loads(msg.data)
        except (NatsError, TimeoutError, ValueError) as exc:
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        entry["sent_s"] = clock.scenario_s()
        entry["reply"] = reply
        if isinstance(reply, dict) and reply.get("ok"):
            say(f"inject {k}: {inj.nation} opened {reply.get('consultation')} with "
                f"{', '.join(parties)} at {entry['sent_s']:.0f} s")
        else:
            entry["problem"] = "refused"
            say(f"inject {k}: the {inj.nation} node did not open the consultation: "
                f"{reply.get('error') if isinstance(reply, dict) else reply}")
    return applied


def _check_ports(base: int, count: int) -> None:
    """``base`` … ``base + count - 1`` free on 127.0.0.1 (base 0: any free ports)."""
    if base == 0:
        return
    if not 1 <= base <= 65536 - count:
        raise LiveRunError(f"--serve-port: expected a port in 1-{65536 - count} (the "
                           f"{count} dashboards take BASE to BASE+{count - 1}), got {base}")
    for port in range(base, base + count):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            try:
                s.bind(("127.0.0.1", port))
            except OSError as exc:
                raise LiveRunError(f"--serve-port: cannot listen on 127.0.0.1:{port}: "
                                   f"{exc.strerror or exc} (pick another BASE, or leave "
                                   "--serve-port out for free ports)") from None


async def provision_streams(url: str, nations: Sequence[str], creds: Path) -> list[str]:
    """Each nation's admin creates its outbox and picture streams (nodes may not), or
    keeps them if they exist; returns their names. ``creds``: a ``trilink keys nats``
    folder (or one nation's part of it)."""
    from trilink.bus.nats import provision_outbox
    from trilink.live.client import connect
    from trilink.live.natsconf import ROLE_ADMIN

    try:
        from trilink.web.publish import ensure_picture_stream
    except ImportError:  # no web module: the nodes run without a picture stream
        ensure_picture_stream = None  # type: ignore[assignment]
    made = []
    for n in nations:
        nc = await connect(url, name=f"trilink-admin-{n}", **_opts(creds, n, ROLE_ADMIN))
        try:
            js = nc.jetstream(timeout=5.0)
            await provision_outbox(js, n)
            made.append(f"OUTBOX_{n}")
            if ensure_picture_stream is not None:
                await ensure_picture_stream(js, n)
                made.append(f"PICTURE_{n}")
        finally:
            await nc.close()
    return made


def _start_dashboards(nations: tuple[str, ...], urls: Mapping[str, str], keys_dir: Path,
                      base: int,
                      stack: contextlib.ExitStack, say: Callable[[str], None],
                      creds: Path) -> list[Dashboard]:
    """One dashboard per nation, each stopped by ``stack`` (before the nats-server)."""
    from trilink.web.server import serve_in_background

    served = []
    for i, n in enumerate(nations):
        port = base + i if base else 0
        try:
            dash = serve_in_background(n, urls[n], keys_dir, port=port, nats_creds=creds)
        except (OSError, SystemExit, TimeoutError) as exc:
            # uvicorn exits (SystemExit) when it cannot bind: one line, not a bare exit.
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise LiveRunError(f"--serve-port: the {n} dashboard cannot listen on "
                               f"127.0.0.1:{port or 'a free port'} ({why or 'in use?'})"
                               ) from None
        stack.callback(dash.stop)
        cmd = (f"trilink keys token --nation {n} --keys {shlex.quote(str(keys_dir))} "
               "--user NAME")
        served.append(Dashboard(n, dash.url, cmd))
        say(f"{n}: dashboard at {dash.url} (log in with a token from `{cmd}`)")
    return served


@contextlib.contextmanager
def _servers(tmp: Path, creds: Path, nations: Sequence[str], logs: Path,
             single_server: bool) -> Iterator[dict[str, str]]:
    """Each nation's server URL: its own (:func:`nation_servers`), or one shared server
    (``logs/nats-server.log``)."""
    from trilink.bus.server import free_port, nats_server
    from trilink.live import natsconf

    if not single_server:
        with nation_servers(tmp, creds, nations, logs) as urls:
            yield urls
        return
    port = free_port()
    conf = natsconf.write_server_config(tmp / "nats-server.conf", creds / natsconf.USERS_FILE,
                                        store_dir=tmp / "jetstream", port=port)
    with nats_server(tmp / "jetstream", port=port, config=conf,
                     log=logs / "nats-server.log") as url:
        yield dict.fromkeys(nations, url)


def _violations(log: Path) -> int:
    try:
        return sum("Violation" in line for line in log.read_text(errors="replace").splitlines())
    except OSError:
        return 0


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    if os.environ.get("TRILINK_LIVE_DEBUG"):
        for p in procs.values():
            p.send_signal(signal.SIGUSR1)
        time.sleep(1.0)
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    for p in procs.values():
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


if __name__ == "__main__":
    sys.exit(node_main(sys.argv[1]))
