"""The per-nation deployment the fault runs fault (tests/test_faults.py, bench/faults/).

As ``trilink live`` runs it (:func:`trilink.live.launch.nation_servers`): one
``nats-server`` per nation, each its own JetStream domain, the spokes' servers joined to
the hub's (USA) by leaf nodes, every client an nkey user with the permissions
:mod:`trilink.live.natsconf` derives. The credentials, the server configurations, the
streams and the link check are the launcher's own (``write_credentials``,
``nation_server_config``, ``provision_streams``, ``wait_links``); only the server
*processes* are run here, because a fault needs their handles (kill -9, SIGSTOP, restart
on the same store and port), and one spoke's leaf link may be routed so that it can be
cut (``cut=`` below), which ``nation_servers`` does not offer (asked for in
/work/coord/requests-faults.md).

Cutting the link between a spoke's server and the hub's:

- ``netns`` (real): the spoke's server runs in its own network namespace with two veth
  pairs to the host: one carries its leaf link to the hub (10.213.7.0/30, the hub listens
  on the host end 10.213.7.1), the other its own clients (10.213.8.0/30). The cut sets the
  namespace's end of the leaf veth down: packets are dropped both ways, no RST, the
  sockets stay open; the spoke's own node keeps its server. Needs root (CAP_NET_ADMIN).
- ``proxy`` (emulated): the spoke dials the hub through a TCP proxy run here; the cut
  stops forwarding both ways (bytes held, not dropped).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trilink.bus.server import free_port, nats_server_binary
from trilink.live import natsconf
from trilink.live.launch import hub_of, provision_streams, wait_links

NATIONS = ("USA", "JPN", "KOR")
LEAF_HOST, LEAF_NS = "10.213.7.1", "10.213.7.2"  # the cut spoke's leaf veth
CLIENT_HOST, CLIENT_NS = "10.213.8.1", "10.213.8.2"  # its clients' veth


def wait_port(host: str, port: int, proc: subprocess.Popen[bytes] | None,
              timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) == 0:
                return
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on {host}:{port}")
        time.sleep(0.02)


class Server:
    """One nation's nats-server from its configuration file; restartable on the same
    store and port, pausable. ``prefix`` wraps the command (``ip netns exec NS``, which
    execs: the pid is the server's)."""

    def __init__(self, nation: str, conf: Path, host: str, port: int, log: Path,
                 prefix: Sequence[str] = ()) -> None:
        self.nation, self.conf, self.host, self.port, self.log = nation, conf, host, port, log
        self.prefix = list(prefix)
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as err:
            self.proc = subprocess.Popen([*self.prefix, nats_server_binary(), "-c",
                                          str(self.conf)],
                                         stdout=subprocess.DEVNULL, stderr=err)
        self.starts += 1
        wait_port(self.host, self.port, self.proc)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)  # no goodbye: what JetStream did not fsync is at risk
        assert self.proc is not None
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGTERM
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def violations(self) -> int:
        """Permission violations the server logged (a client tried what it may not)."""
        try:
            return sum("Violation" in ln for ln in self.log.read_text(errors="replace")
                       .splitlines())
        except OSError:
            return 0


class Netns:
    """A namespace with the two veth pairs of the module docstring."""

    def __init__(self) -> None:
        tag = str(os.getpid() % 100000)
        self.ns = f"tlf{tag}"
        self.leaf_host, self.leaf_ns = f"tlf{tag}lh", f"tlf{tag}ln"
        self.cli_host, self.cli_ns = f"tlf{tag}ch", f"tlf{tag}cn"

    def ip(self, *args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)

    def up(self) -> None:
        self.down()  # leftovers of an interrupted run with this pid, if any
        self.ip("netns", "add", self.ns)
        self.ip("-n", self.ns, "link", "set", "lo", "up")
        for host_if, ns_if, host_ip, ns_ip in (
                (self.leaf_host, self.leaf_ns, LEAF_HOST, LEAF_NS),
                (self.cli_host, self.cli_ns, CLIENT_HOST, CLIENT_NS)):
            self.ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
            self.ip("link", "set", ns_if, "netns", self.ns)
            self.ip("addr", "add", f"{host_ip}/30", "dev", host_if)
            self.ip("link", "set", host_if, "up")
            self.ip("-n", self.ns, "addr", "add", f"{ns_ip}/30", "dev", ns_if)
            self.ip("-n", self.ns, "link", "set", ns_if, "up")

    def cut(self, down: bool) -> None:
        self.ip("-n", self.ns, "link", "set", self.leaf_ns, "down" if down else "up")

    def down(self) -> None:
        for args in (("link", "del", self.leaf_host), ("link", "del", self.cli_host),
                     ("netns", "del", self.ns)):
            subprocess.run(["ip", *args], capture_output=True, timeout=10)

    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.ns]


def netns_works() -> bool:
    """Can this process make network namespaces (root, iproute2)?"""
    probe = f"tlfp{os.getpid() % 100000}"
    try:
        subprocess.run(["ip", "netns", "add", probe], check=True, capture_output=True,
                       timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=10)
    return True


class Proxy:
    """TCP proxy to ``host:port``; ``forwarding`` cleared = the cut (bytes held)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.forwarding = asyncio.Event()
        self.forwarding.set()
        self.port = 0
        self.server: asyncio.Server | None = None
        self.conns = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._conn, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _pipe(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            while data := await r.read(65536):
                await self.forwarding.wait()
                w.write(data)
                await w.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            w.close()

    async def _conn(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.conns += 1
        try:
            ur, uw = await asyncio.open_connection(*self.target)
        except OSError:
            w.close()
            return
        await asyncio.gather(self._pipe(r, uw), self._pipe(ur, w))

    def stop(self) -> None:
        if self.server is not None:
            self.server.close()


class Federation:
    """USA (hub), JPN and KOR servers, their users and streams, in ``root``.

    ``cut``: ``"netns"`` or ``"proxy"`` routes ``cut_nation``'s leaf link so that
    :meth:`cut_link` can cut it (module docstring); ``None``: all on 127.0.0.1."""

    def __init__(self, root: Path, nations: Sequence[str] = NATIONS, *,
                 cut: str | None = None, cut_nation: str = "JPN") -> None:
        self.root, self.nations = root, tuple(nations)
        self.hub = hub_of(self.nations)
        self.cut_mode, self.cut_nation = cut, cut_nation
        assert cut is None or cut_nation != self.hub
        self.creds = root / "nats"
        self.logs = root / "logs"
        self.servers: dict[str, Server] = {}
        self.netns: Netns | None = None
        self.proxy: Proxy | None = None
        # At once: clients' options are read from these files before the servers run.
        natsconf.write_credentials(self.creds, self.nations, roles=natsconf.ROLES)

    def url(self, nation: str) -> str:
        return self.servers[nation].url

    def opts(self, nation: str, role: str) -> dict[str, Any]:
        return natsconf.creds_options(self.creds, nation, role)

    async def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        hub_host = "127.0.0.1"
        if self.cut_mode == "netns":
            self.netns = Netns()
            self.netns.up()
            hub_host = LEAF_HOST  # a host address the namespace reaches (and we do)
        leaf_port = free_port()
        leaf_url = f"nats-leaf://{hub_host}:{leaf_port}"
        if self.cut_mode == "proxy":
            self.proxy = Proxy(hub_host, leaf_port)
            await self.proxy.start()
        for n in [self.hub, *(m for m in self.nations if m != self.hub)]:
            host, prefix, hub_url = ("127.0.0.1", [], leaf_url)
            if n == self.hub:
                host = hub_host
            elif n == self.cut_nation and self.netns is not None:
                host, prefix = CLIENT_NS, self.netns.prefix()
            elif n == self.cut_nation and self.proxy is not None:
                hub_url = f"nats-leaf://127.0.0.1:{self.proxy.port}"
            port = free_port()
            conf = natsconf.nation_server_config(
                self.root / f"nats-{n}.conf", self.creds, n, self.hub,
                store_dir=self.root / f"jetstream-{n}", port=port, host=host,
                leaf_port=leaf_port if n == self.hub else None,
                hub_url=None if n == self.hub else hub_url)
            server = Server(n, conf, host, port, self.logs / f"nats-{n}.log", prefix)
            self.servers[n] = server
            server.start()
        urls = {n: s.url for n, s in self.servers.items()}
        for n in self.nations:
            await provision_streams(urls[n], [n], self.creds)
        await wait_links(urls, self.nations, self.creds)

    async def consumers(self, reader: str, ack_wait_s: float) -> None:
        """Create ``reader``'s durable consumers on every partner's outbox (as its node
        user, before its node starts: an existing consumer keeps its configuration), with
        ``ack_wait_s``: what a delivery lost in a crash waits before it comes again.
        ``trilink live``'s nodes use 5 s (launch.node_main); ``trilink node`` uses 30 s
        unless given ``--ack-wait-s``."""
        from trilink.bus.nats import NatsBus

        bus = await NatsBus.connect(self.url(reader), self.nations, ack_wait_s=ack_wait_s,
                                    **self.opts(reader, natsconf.ROLE_NODE))
        try:
            assert await bus.receive(reader, timeout_s=0.0) == []  # nothing sent yet
        finally:
            await bus.close()

    def cut_link(self, down: bool) -> None:
        if self.netns is not None:
            self.netns.cut(down)
        else:
            assert self.proxy is not None
            (self.proxy.forwarding.clear if down else self.proxy.forwarding.set)()

    def stop(self) -> None:
        for s in reversed(list(self.servers.values())):
            s.stop()
        if self.proxy is not None:
            self.proxy.forwarding.set()
            self.proxy.stop()
        if self.netns is not None:
            self.netns.down()

    def violations(self) -> dict[str, int]:
        return {n: s.violations() for n, s in self.servers.items()}

    async def leak_probe(self, reader: str = "KOR", sender: str = "JPN",
                         addressee: str = "USA") -> dict[str, Any]:
        """After a fault, through the healed links: may ``reader``'s node read what
        ``sender`` addressed to ``addressee``? Two tries, both must come back empty:
        a consumer under its own durable name but the addressee's filter in the body
        (the server must refuse the mismatch), and a fetch from the addressee's own
        consumer (its permissions must not carry it). Returns what happened."""
        import nats

        nc = await nats.connect(self.url(reader), name=f"fault-leak-probe-{reader}",
                                connect_timeout=5, max_reconnect_attempts=0,
                                error_cb=_quiet, **self.opts(reader, natsconf.ROLE_NODE))
        stream = natsconf.outbox_stream(sender)
        api = natsconf.js_api(sender, reader, domains=True)
        own = natsconf.durable_name(reader, sender, 0)
        body = {"stream_name": stream, "config": {
            "durable_name": own, "ack_policy": "explicit",
            "filter_subject": natsconf.envelope_subject(sender, addressee, 0)}}
        out: dict[str, Any] = {}
        try:
            subj = (f"{api}.CONSUMER.CREATE.{stream}.{own}."
                    f"{natsconf.envelope_subject(sender, reader, 0)}")
            out["filter_swap"] = await _ask(nc, subj, json.dumps(body).encode())
            theirs = natsconf.durable_name(addressee, sender, 0)
            out["their_consumer"] = await _ask(
                nc, f"{api}.CONSUMER.MSG.NEXT.{stream}.{theirs}",
                json.dumps({"batch": 1, "no_wait": True}).encode())
        finally:
            await nc.close()
        # Refused = an API error in the reply, or no reply at all (the publish was denied).
        out["leak"] = any(v["answer"] == "data" for v in out.values())
        return out


async def _quiet(exc: Exception) -> None:
    """The probe's denied publishes come back as errors: expected, not printed."""


async def _ask(nc: Any, subject: str, body: bytes) -> dict[str, Any]:
    try:
        msg = await nc.request(subject, body, timeout=2.0)
    except Exception as exc:  # a denied publish: no reply, or an error
        return {"answer": "none", "why": f"{type(exc).__name__}: {exc}"[:160]}
    status = msg.headers.get("Status") if msg.headers else None
    try:
        reply = json.loads(msg.data) if msg.data else {}
    except ValueError:
        reply = None
    if status or (isinstance(reply, dict) and "error" in reply):
        why = reply.get("error") if isinstance(reply, dict) and "error" in reply else status
        return {"answer": "refused", "why": str(why)[:160]}
    return {"answer": "data", "why": msg.data[:160].decode(errors="replace")}


__all__ = ["NATIONS", "Federation", "Netns", "Proxy", "Server", "netns_works", "wait_port"]
