"""`trilink live`'s default deployment: one nats-server per nation, joined by leaf nodes.

One ``run_live`` is ended through ``on_nats`` once its three servers run, the admins'
streams exist and the links answer, before any node process starts (a few seconds).
Checked there, against the real servers: each server is its own nation's JetStream
domain and holds only that nation's users; each node is configured for its own server
with only its own nation's seeds; one nation's node key is refused on another nation's
server; anonymous clients are refused everywhere; a node reads a partner's outbox
across the servers (what is addressed to it) but cannot create a consumer on what was
addressed to a third nation. The full replay over these servers (nodes, feed,
dashboards) is tests/test_live_parity.py.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import nats
import pytest
from live_run import SCENARIO
from nats.errors import Error as NatsError

from trilink.bus.nats import NatsBus
from trilink.live import natsconf as nc
from trilink.live.launch import NatsRun, run_live

NATIONS = ("USA", "JPN", "KOR")


class SeenEnoughError(Exception):
    """Ends the replay once the servers have been looked at."""


async def refusal(url: str, **options: Any) -> str:
    """How the server at ``url`` answered a connect ("connected" if it let us in)."""
    try:
        conn = await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0,
                                  connect_timeout=2, **options)
    except NatsError as exc:
        return str(exc).lower()
    await conn.close()
    return "connected"


async def look(run: NatsRun) -> dict[str, Any]:
    seen: dict[str, Any] = {"urls": dict(run.urls)}
    seen["domains"] = {}
    for n in NATIONS:
        admin = await nats.connect(run.urls[n], **nc.creds_options(run.creds_dir, n,
                                                                  nc.ROLE_ADMIN))
        seen["domains"][n] = admin._server_info.get("domain")
        js = admin.jetstream(timeout=2)
        seen.setdefault("local_streams", {})[n] = [
            (await js.stream_info(s)).config.name for s in (f"OUTBOX_{n}", f"PICTURE_{n}")]
        await admin.close()
    seen["anonymous"] = {n: await refusal(run.urls[n]) for n in NATIONS}
    # JPN's node key (and its operator's) on KOR's and USA's servers.
    seen["jpn_elsewhere"] = {
        (n, role): await refusal(run.urls[n], **nc.creds_options(run.creds_dir, "JPN", role))
        for n in ("KOR", "USA") for role in (nc.ROLE_NODE, nc.ROLE_OPERATOR)}
    # KOR's link key (its server's leaf connection to the hub) is no client key there.
    seen["link_as_client"] = await refusal(
        run.urls["USA"], **nc.client_options(run.creds_dir, "KOR", nc.ROLE_LINK))
    # KOR's node, on KOR's server: JPN's outbox through JPN's domain (JPN on a spoke,
    # through the hub), what JPN addressed to KOR readable, JPN->USA not.
    jpn = await nats.connect(run.urls["JPN"], **nc.creds_options(run.creds_dir, "JPN",
                                                                nc.ROLE_NODE))
    await jpn.jetstream(timeout=2).publish("trilink.JPN.KOR.p0", b"for KOR",
                                           stream="OUTBOX_JPN")
    await jpn.jetstream(timeout=2).publish("trilink.JPN.USA.p0", b"for USA",
                                           stream="OUTBOX_JPN")
    await jpn.close()
    bus = await NatsBus.connect(run.urls["KOR"], NATIONS,
                                **nc.creds_options(run.creds_dir, "KOR", nc.ROLE_NODE))
    try:
        seen["kor_home"] = bus.home_domain
        seen["kor_remote"] = {n: bus.is_remote(n) for n in NATIONS}
        seen["kor_got"] = [d.data for d in await bus.receive("KOR", timeout_s=2.0)]
        body = {"stream_name": "OUTBOX_JPN",
                "config": {"name": "KOR_x", "durable_name": "KOR_x",
                           "filter_subject": "trilink.JPN.USA.p0"}}
        try:
            await bus._nc.request(
                "$JS.JPN.API.CONSUMER.CREATE.OUTBOX_JPN.KOR_x.trilink.JPN.USA.p0",
                json.dumps(body).encode(), timeout=1)
            seen["kor_reads_usa_mail"] = "answered"
        except NatsError as exc:
            seen["kor_reads_usa_mail"] = type(exc).__name__
    finally:
        await bus.close()
    seen["configs"] = {n: json.loads(p.read_text()) for n, p in run.node_configs.items()}
    seen["seeds"] = {n: sorted(f.name for f in Path(cfg["nats_creds"]).iterdir())
                     for n, cfg in seen["configs"].items()}
    return seen


def test_each_nation_runs_its_own_server(tmp_path: Path) -> None:
    out = tmp_path / "out"
    seen: dict[str, Any] = {}

    def on_nats(run: NatsRun) -> None:
        assert not run.single_server
        seen.update(asyncio.run(look(run)))
        raise SeenEnoughError

    with pytest.raises(SeenEnoughError):
        run_live(SCENARIO, out, on_nats=on_nats)
    urls = seen["urls"]
    assert len(set(urls.values())) == 3  # three servers
    assert seen["domains"] == {n: n for n in NATIONS}
    # Each nation's admin made its streams on its own server.
    assert seen["local_streams"] == {n: [f"OUTBOX_{n}", f"PICTURE_{n}"] for n in NATIONS}
    assert all("authorization violation" in why for why in seen["anonymous"].values())
    assert all("authorization violation" in why for why in seen["jpn_elsewhere"].values())
    assert "authorization violation" in seen["link_as_client"]
    for n, cfg in seen["configs"].items():
        assert cfg["nats"] == urls[n]  # its own server
        assert Path(cfg["nats_creds"]).name == n  # only its own nation's seeds
        assert seen["seeds"][n] and {f.split("_")[0] for f in seen["seeds"][n]} == {n}
    assert seen["kor_home"] == "KOR"
    assert seen["kor_remote"] == {"USA": True, "JPN": True, "KOR": False}
    assert seen["kor_got"] == [b"for KOR"]
    assert seen["kor_reads_usa_mail"] in ("NoRespondersError", "TimeoutError")
    logs = {p.name: p.read_text() for p in (out / "nodes").glob("nats-*.log")}
    assert set(logs) == {f"nats-{n}.log" for n in NATIONS}
    # The refused connects were logged; the only violation is KOR's probe, on KOR's.
    assert all("authentication error" in text for text in logs.values())
    assert "Violation" not in logs["nats-JPN.log"] + logs["nats-USA.log"]
