"""Fault 3: a network partition between the US node and the nats-server for --fault-s.

Two ways to cut the link, chosen by --mode (auto: netns if this machine lets us):

- ``netns`` (real): the US node process runs in its own network namespace (``ip netns
  exec``), joined to the host by a veth pair on 10.213.7.0/30; nats-server listens on the
  host end 10.213.7.1 only. The partition sets the namespace's end of the veth down
  (packets in both directions are dropped, no RST, sockets stay open), the heal sets it
  up again. Needs root (CAP_NET_ADMIN) and iproute2; everything is removed at the end.
- ``proxy`` (emulated): a TCP proxy in this script stands between the US node and the
  server (127.0.0.1); the partition stops forwarding in both directions (bytes are held,
  not dropped; the proxy's own sockets stay open), the heal forwards again.

JPN stays connected to the server the whole time. Checked: nothing acked lost, nothing
applied twice, both audits verify; measured: seconds from the heal until the US audit
holds every envelope JPN had sealed for it.

    .venv/bin/python bench/faults/partition.py [--quick] [--mode auto|netns|proxy]
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from typing import Any

from _harness import Run, Server, folder, load, parser, publish, settings

FAULT_AT_S = 100.0  # scenario seconds: tracks are being shared by then
HOST_IP, NS_IP = "10.213.7.1", "10.213.7.2"


class Netns:
    def __init__(self) -> None:
        tag = str(os.getpid() % 100000)
        self.ns, self.host_if, self.ns_if = f"tlkf{tag}", f"tlkfh{tag}", f"tlkfn{tag}"

    def ip(self, *args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)

    def up(self) -> None:
        self.ip("netns", "add", self.ns)
        self.ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        self.ip("link", "set", self.ns_if, "netns", self.ns)
        self.ip("addr", "add", f"{HOST_IP}/30", "dev", self.host_if)
        self.ip("link", "set", self.host_if, "up")
        self.ip("-n", self.ns, "addr", "add", f"{NS_IP}/30", "dev", self.ns_if)
        self.ip("-n", self.ns, "link", "set", self.ns_if, "up")
        self.ip("-n", self.ns, "link", "set", "lo", "up")

    def cut(self, down: bool) -> None:
        self.ip("-n", self.ns, "link", "set", self.ns_if, "down" if down else "up")

    def down(self) -> None:
        for args in (("link", "del", self.host_if), ("netns", "del", self.ns)):
            subprocess.run(["ip", *args], capture_output=True, timeout=10)

    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.ns]


def netns_works() -> bool:
    probe = Netns()
    probe.ns = probe.ns + "p"
    try:
        probe.ip("netns", "add", probe.ns)
    except (OSError, subprocess.SubprocessError):
        return False
    subprocess.run(["ip", "netns", "del", probe.ns], capture_output=True, timeout=10)
    return True


class Proxy:
    """TCP proxy to ``target``; ``forwarding`` cleared = partition (bytes held)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.forwarding = asyncio.Event()
        self.forwarding.set()
        self.port = 0
        self.server: asyncio.Server | None = None

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
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            w.close()
            return
        await asyncio.gather(self._pipe(r, uw), self._pipe(ur, w))

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--mode", choices=("auto", "netns", "proxy"), default="auto")
    a = p.parse_args()
    speed, fault_s = settings(a)
    mode = a.mode if a.mode != "auto" else ("netns" if netns_works() else "proxy")
    before = load()
    where, tmp = folder(a.keep)
    net = Netns() if mode == "netns" else None
    if net is not None:
        net.down()  # leftovers of an interrupted run of this pid, if any
        net.up()
    server = Server(where / "js", host=HOST_IP if net is not None else "127.0.0.1",
                    log=where / "nats.log")
    run = Run(where, speed, usa_prefix=net.prefix() if net is not None else ())
    proxy: Proxy | None = None

    async def cut(r: Run) -> dict[str, Any]:
        at_cut = len(r.received())
        t0 = time.time()
        if net is not None:
            net.cut(True)
        else:
            assert proxy is not None
            proxy.forwarding.clear()
        await asyncio.sleep(fault_s)
        during = len(r.received())
        if net is not None:
            net.cut(False)
        else:
            assert proxy is not None
            proxy.forwarding.set()
        t1 = time.time()
        r.caught_task = asyncio.create_task(  # type: ignore[attr-defined]
            r.caught_up(r.sent_to_usa(), t1))
        return {"kind": f"partition US node <-> nats-server ({mode})", "mode": mode,
                "cut_wall_s": round(t1 - t0, 2), "received_before_cut": at_cut,
                "received_while_cut": during - at_cut,
                "sealed_for_usa_at_heal": len(r.sent_to_usa())}

    async def go() -> dict[str, Any]:
        nonlocal proxy
        server.start()
        try:
            usa_url = server.url
            if net is None:
                proxy = Proxy(server.port)
                await proxy.start()
                usa_url = f"nats://127.0.0.1:{proxy.port}"
            end = await run.go(server.url, usa_url, FAULT_AT_S, cut)
            end["fault"]["catch_up_after_heal_s"] = await run.caught_task  # type: ignore[attr-defined]
            if proxy is not None:
                await proxy.stop()
            return end
        finally:
            server.stop()

    try:
        res = run.outcome(asyncio.run(go()))
    finally:
        if net is not None:
            net.down()
    usa_log = (where / "USA.log").read_text(errors="replace").splitlines()
    res["fault"]["usa_log_connection_lines"] = [x for x in usa_log if "connect" in x][:4]
    res["load_before"] = before
    publish("partition" if mode == "netns" else "partition_proxy",
            "quick" if a.quick else "full", res)
    if tmp is not None:
        tmp.cleanup()
    raise SystemExit(0 if res["ok"] else 1)


if __name__ == "__main__":
    main()
