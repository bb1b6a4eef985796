"""The NATS-side defence (trilink.live.natsconf) against a real nats-server.

One server is started with the generated configuration (nkey users, subject permissions)
on 127.0.0.1 and a free port; clients are nats-py connections made with the generated
credentials. Each refusal is observed as the server's permissions violation (or an
authorization violation at connect) and, where it matters, as the absence of delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import stat
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, Final

import nats
import pytest
from nats.errors import Error as NatsError
from nats.js.api import StreamConfig

from trilink.bus.nats import NatsBus
from trilink.bus.server import free_port, nats_server
from trilink.live import natsconf as nc
from trilink.live.natsconf import NatsConfError, NatsUser

NATIONS = ("JPN", "KOR", "USA")


def configured_server(conf: Path, port: int, log: Path) -> contextlib.AbstractContextManager[str]:
    return nats_server(log.parent / "js-unused", port=port, config=conf, log=log)


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server for JPN, KOR and USA, streams made by each nation's admin; (url, creds)."""
    root = tmp_path_factory.mktemp("natsperm")
    creds = root / "creds"
    nc.write_credentials(creds, NATIONS, sensors={"KOR": ["KOR-R1"]})
    port = free_port()
    conf = nc.write_server_config(root / "server.conf", creds / nc.USERS_FILE,
                                  store_dir=root / "js", port=port)
    with configured_server(conf, port, root / "server.log") as url:
        async def provision() -> None:
            for n in NATIONS:
                admin = await nats.connect(url, **nc.client_options(creds, n, nc.ROLE_ADMIN))
                js = admin.jetstream(timeout=2)
                await js.add_stream(StreamConfig(name=nc.outbox_stream(n),
                                                 subjects=[f"trilink.{n}.>"]))
                await js.add_stream(StreamConfig(name=nc.picture_stream(n),
                                                 subjects=[nc.picture_subject(n)]))
                await admin.close()
        asyncio.run(provision())
        yield url, creds


class Client:
    """A connection as one user, keeping the errors the server sends it."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.nc: Any = None

    async def open(self, url: str, creds: Path, nation: str, role: str,
                   sensor_id: str | None = None) -> Client:
        async def on_error(exc: Exception) -> None:
            self.errors.append(str(exc).lower())
        self.nc = await nats.connect(url, error_cb=on_error, allow_reconnect=False,
                                     **nc.client_options(creds, nation, role, sensor_id))
        return self

    async def violation(self, what: str, subject: str) -> bool:
        """Did the server report a permissions violation of ``what`` on ``subject``?"""
        await self.nc.flush()
        needle = f'violation for {what} to "{subject.lower()}"'
        return await until(lambda: any(needle in e for e in self.errors))


async def until(cond: Callable[[], bool], wait_s: float = 3.0) -> bool:
    end = time.monotonic() + wait_s
    while not cond() and time.monotonic() < end:
        await asyncio.sleep(0.01)
    return cond()


async def deliver(sender: Client, subject: str, seen: list[str], after: int = 0) -> None:
    """Publish on ``subject`` until ``seen`` (filled by a subscriber) grows past ``after``."""
    end = time.monotonic() + 5.0
    while len(seen) <= after and time.monotonic() < end:
        await sender.nc.publish(subject, b"scan")
        await sender.nc.flush()
        await until(lambda: len(seen) > after, 0.1)
    assert len(seen) > after, f"nothing arrived on {subject}"


def run(make: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(make())  # type: ignore[arg-type]


# ------------------------------------------------------------------ live server


def test_envelopes_flow_only_between_the_right_nations(fed: tuple[str, Path]) -> None:
    url, creds = fed

    async def go() -> None:
        jpn = await Client().open(url, creds, "JPN", nc.ROLE_NODE)
        kor = await Client().open(url, creds, "KOR", nc.ROLE_NODE)
        usa = await Client().open(url, creds, "USA", nc.ROLE_NODE)
        bus_j, bus_k = NatsBus(jpn.nc, NATIONS, 5, 120), NatsBus(kor.nc, NATIONS, 5, 120)
        # The legitimate path, through the real bus: JPN sends, KOR reads and acks.
        await bus_j.send("JPN", "KOR", "JPN:1", b"for KOR", priority=0)
        got = await bus_k.receive("KOR", timeout_s=2.0)
        assert [(d.sender, d.data) for d in got] == [("JPN", b"for KOR")]
        for d in got:
            await bus_k.ack(d)
        js_k = kor.nc.jetstream()
        infos = [await js_k.consumer_info("OUTBOX_JPN", "KOR_from_JPN_p0")]
        end = time.monotonic() + 3.0  # the server applies an ack after it has read it
        while infos[-1].num_ack_pending and time.monotonic() < end:
            await asyncio.sleep(0.01)
            infos.append(await js_k.consumer_info("OUTBOX_JPN", "KOR_from_JPN_p0"))
        assert infos[-1].num_ack_pending == 0 and infos[-1].num_pending == 0
        assert kor.errors == [] and jpn.errors == []

        # KOR may not speak as JPN (core publish straight onto JPN's outbox subject) ...
        usa_js = usa.nc.jetstream(timeout=2)
        before = (await usa_js.stream_info("OUTBOX_JPN")).state.messages
        await kor.nc.publish("trilink.JPN.USA.p0", b"forged")
        assert await kor.violation("publish", "trilink.JPN.USA.p0")
        assert (await usa_js.stream_info("OUTBOX_JPN")).state.messages == before
        # ... nor read what JPN addressed to USA: not with its own durable and another
        # filter, not with USA's durable, not by getting stored messages directly.
        js = "$JS.API"
        for subject in (f"{js}.CONSUMER.CREATE.OUTBOX_JPN.KOR_from_JPN_p0.trilink.JPN.USA.p0",
                        f"{js}.CONSUMER.DURABLE.CREATE.OUTBOX_JPN.KOR_from_JPN_p0",
                        f"{js}.CONSUMER.CREATE.OUTBOX_JPN",
                        f"{js}.CONSUMER.MSG.NEXT.OUTBOX_JPN.USA_from_JPN_p0",
                        f"{js}.STREAM.MSG.GET.OUTBOX_JPN",
                        f"{js}.DIRECT.GET.OUTBOX_JPN",
                        f"{js}.STREAM.CREATE.OUTBOX_KOR"):
            await kor.nc.publish(subject, b"{}", reply=f"{nc.inbox_prefix('KOR_node')}.x")
            assert await kor.violation("publish", subject), subject
        # The allowed create subject pins the filter: a body asking for more is refused.
        body = {"stream_name": "OUTBOX_JPN",
                "config": {"name": "KOR_from_JPN_p0", "durable_name": "KOR_from_JPN_p0",
                           "filter_subject": "trilink.JPN.USA.p0", "ack_policy": "explicit"}}
        reply = await kor.nc.request(
            f"{js}.CONSUMER.CREATE.OUTBOX_JPN.KOR_from_JPN_p0.trilink.JPN.KOR.p0",
            json.dumps(body).encode(), timeout=2)
        assert "error" in json.loads(reply.data)
        # Nobody else's replies: not the shared default inbox, not USA's.
        for subject in ("_INBOX.>", "_INBOX_USA_node.>"):
            await kor.nc.subscribe(subject)
            assert await kor.violation("subscription", subject), subject
        for c in (jpn, kor, usa):
            await c.nc.close()

    run(go)


def test_sensor_feeds_stay_with_their_nation(fed: tuple[str, Path]) -> None:
    url, creds = fed

    async def go() -> None:
        kor = await Client().open(url, creds, "KOR", nc.ROLE_NODE)
        jpn = await Client().open(url, creds, "JPN", nc.ROLE_NODE)
        feed = await Client().open(url, creds, "KOR", nc.ROLE_SENSOR, "KOR-R1")
        jpn_feed = await Client().open(url, creds, "JPN", nc.ROLE_SENSOR)
        own: list[str] = []
        theirs: list[str] = []

        async def mine(msg: Any) -> None:
            own.append(msg.subject)

        async def seen_by_jpn(msg: Any) -> None:
            theirs.append(msg.subject)
        await kor.nc.subscribe(nc.nation_sensors_subject("KOR"), cb=mine)
        await jpn.nc.subscribe(nc.nation_sensors_subject("JPN"), cb=seen_by_jpn)
        # KOR's node may not listen to JPN's sensors.
        await kor.nc.subscribe(nc.nation_sensors_subject("JPN"), cb=mine)
        assert await kor.violation("subscription", "trilink.sensor.JPN.*")
        await kor.nc.flush()
        await jpn.nc.flush()
        # KOR's radar feeds KOR's node, JPN's feeds JPN's (sent until seen: a new
        # subscription can miss the first messages sent from another connection).
        await deliver(feed, nc.sensor_subject("KOR", "KOR-R1"), own)
        await deliver(jpn_feed, nc.sensor_subject("JPN", "JPN-R1"), theirs)
        # KOR's feed may not feed JPN's node, nor pose as another of KOR's radars.
        await feed.nc.publish(nc.sensor_subject("JPN", "KOR-R1"), b"scan")
        assert await feed.violation("publish", "trilink.sensor.JPN.KOR-R1")
        await feed.nc.publish(nc.sensor_subject("KOR", "KOR-R2"), b"scan")
        assert await feed.violation("publish", "trilink.sensor.KOR.KOR-R2")
        seen = len(own), len(theirs)
        await deliver(feed, nc.sensor_subject("KOR", "KOR-R1"), own, after=seen[0])
        await deliver(jpn_feed, nc.sensor_subject("JPN", "JPN-R1"), theirs, after=seen[1])
        assert set(own) == {"trilink.sensor.KOR.KOR-R1"}  # nothing of JPN's, no KOR-R2
        assert set(theirs) == {"trilink.sensor.JPN.JPN-R1"}
        # A feed reads nothing but its own inbox.
        await feed.nc.subscribe("trilink.ctl.KOR")
        assert await feed.violation("subscription", "trilink.ctl.KOR")
        for c in (kor, jpn, feed, jpn_feed):
            await c.nc.close()

    run(go)


def test_control_dashboard_and_strangers(fed: tuple[str, Path]) -> None:
    url, creds = fed

    async def go() -> None:
        node = await Client().open(url, creds, "KOR", nc.ROLE_NODE)
        op = await Client().open(url, creds, "KOR", nc.ROLE_OPERATOR)
        dash = await Client().open(url, creds, "KOR", nc.ROLE_DASHBOARD)

        async def answer(msg: Any) -> None:
            await msg.respond(b"ok")  # allow_responses: only to this request's inbox
        await node.nc.subscribe(nc.control_subject("KOR"), cb=answer)
        await node.nc.flush()
        reply = None
        for _ in range(20):  # a new subscription can briefly look like no responder
            with contextlib.suppress(nats.errors.NoRespondersError):
                reply = await op.nc.request(nc.control_subject("KOR"), b"{}", timeout=2)
                break
            await asyncio.sleep(0.05)
        assert reply is not None and reply.data == b"ok"
        await op.nc.publish(nc.control_subject("JPN"), b"{}")  # KOR may not run JPN's node
        assert await op.violation("publish", "trilink.ctl.JPN")

        # The dashboard reads its own picture (an ordered consumer, as trilink.web.feed).
        await node.nc.publish(nc.picture_subject("KOR"), b"event-1")
        await node.nc.flush()
        got: list[bytes] = []

        async def on_event(msg: Any) -> None:
            got.append(msg.data)
        sub = await dash.nc.jetstream(timeout=2).subscribe(
            nc.picture_subject("KOR"), stream=nc.picture_stream("KOR"), ordered_consumer=True,
            cb=on_event)
        assert await until(lambda: got == [b"event-1"])
        await sub.unsubscribe()
        assert dash.errors == []
        # ... and nothing else: not JPN's picture, not envelopes, not the control subject.
        for subject in ("$JS.API.CONSUMER.CREATE.PICTURE_JPN", "trilink.picture.KOR"):
            await dash.nc.publish(subject, b"{}")
            assert await dash.violation("publish", subject), subject
        for subject in ("trilink.picture.JPN", "trilink.JPN.KOR.p0", "trilink.ctl.KOR"):
            await dash.nc.subscribe(subject)
            assert await dash.violation("subscription", subject), subject
        for c in (node, op, dash):
            await c.nc.close()

        # No credentials, or a key the server does not know: refused at connect.
        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc).lower())
        with pytest.raises(NatsError, match=r"(?i)authorization violation"):
            await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0,
                               connect_timeout=2, error_cb=on_error)
        assert any("authorization violation" in e for e in errors)
        stranger = creds.parent / "stranger"
        nc.write_credentials(stranger, ["KOR"], roles=[nc.ROLE_NODE])
        errors.clear()
        with pytest.raises(NatsError, match=r"(?i)authorization violation"):
            await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0,
                               connect_timeout=2, error_cb=on_error,
                               **nc.client_options(stranger, "KOR", nc.ROLE_NODE))
        assert any("authorization violation" in e for e in errors)

    run(go)


ALLOW_ALL: Final = {"publish": {"allow": [">"]}, "subscribe": {"allow": [">"]}}


@contextlib.contextmanager
def star(root: Path, widen: Callable[[str, dict[str, Any], tuple[NatsUser, ...]], None]
         ) -> Iterator[tuple[dict[str, str], dict[str, Path]]]:
    """JPN, KOR and USA, one server each, USA's the hub; ``widen(nation, conf, users)``
    may rewrite a server's configuration first (a nation that turns hostile). Each nation
    makes its own keys in its own folder; only the public listings are merged."""
    creds = {n: root / f"keys-{n}" for n in NATIONS}
    for n in NATIONS:
        nc.write_credentials(creds[n], [n], roles=[nc.ROLE_NODE, nc.ROLE_ADMIN, nc.ROLE_LINK])
    merged = nc.merge_users([creds[n] / nc.USERS_FILE for n in NATIONS], root / "users.json")
    for n in NATIONS:
        (creds[n] / nc.USERS_FILE).write_text(merged.read_text())
    _, users = nc.read_users(merged)
    ports = {n: free_port() for n in NATIONS}
    leaf_port = free_port()
    confs: dict[str, Path] = {}
    for n in ("USA", "JPN", "KOR"):
        confs[n] = nc.nation_server_config(
            root / f"{n}.conf", creds[n], n, "USA", store_dir=root / f"js-{n}", port=ports[n],
            leaf_port=leaf_port if n == "USA" else None,
            hub_url=None if n == "USA" else f"nats-leaf://127.0.0.1:{leaf_port}")
        conf = json.loads(confs[n].read_text())
        widen(n, conf, users)
        confs[n].write_text(json.dumps(conf))
    with contextlib.ExitStack() as stack:
        url = {n: stack.enter_context(configured_server(confs[n], ports[n], root / f"{n}.log"))
               for n in ("USA", "JPN", "KOR")}

        async def provision() -> None:
            for n in NATIONS:
                admin = await nats.connect(url[n],
                                           **nc.client_options(creds[n], n, nc.ROLE_ADMIN))
                await admin.jetstream(timeout=2).add_stream(StreamConfig(
                    name=nc.outbox_stream(n), subjects=[f"trilink.{n}.>"]))
                await admin.close()
        asyncio.run(provision())
        yield url, creds


def widen_user(conf: dict[str, Any], nkey: str) -> None:
    for entry in conf["accounts"][nc.ACCOUNT]["users"]:
        if entry["nkey"] == nkey:
            entry["permissions"] = ALLOW_ALL


async def link_up(js: Any, stream: str) -> None:
    """Until ``stream`` answers through the leaf links (they connect within a second)."""
    end = time.monotonic() + 10.0
    while time.monotonic() < end:
        with contextlib.suppress(Exception):
            await js.stream_info(stream)
            return
        await asyncio.sleep(0.05)


def test_one_server_per_nation_joined_by_leaf_nodes(tmp_path: Path) -> None:
    """KOR's node reads what JPN addressed to it from JPN's server, through the hub; with
    its own server's permissions widened (a hostile spoke) it still cannot read what JPN
    addressed to USA: the hub's link permissions stop the request."""
    def hostile_kor(n: str, conf: dict[str, Any], users: tuple[NatsUser, ...]) -> None:
        if n == "KOR":
            assert stat.S_IMODE(os.stat(tmp_path / "KOR.conf").st_mode) == 0o600  # link seed
            widen_user(conf, next(u.nkey for u in users if u.name == "KOR_node"))

    with star(tmp_path, hostile_kor) as (url, creds):
        async def go() -> None:
            jpn = await Client().open(url["JPN"], creds["JPN"], "JPN", nc.ROLE_NODE)
            kor = await Client().open(url["KOR"], creds["KOR"], "KOR", nc.ROLE_NODE)
            usa = await Client().open(url["USA"], creds["USA"], "USA", nc.ROLE_NODE)
            js_j = jpn.nc.jetstream(timeout=2)
            await js_j.publish("trilink.JPN.KOR.p0", b"for KOR", stream="OUTBOX_JPN")
            await js_j.publish("trilink.JPN.USA.p0", b"for USA", stream="OUTBOX_JPN")
            at_jpn = kor.nc.jetstream(domain="JPN", timeout=2)
            await link_up(at_jpn, "OUTBOX_JPN")
            sub = await at_jpn.pull_subscribe("trilink.JPN.KOR.p0", durable="KOR_from_JPN_p0",
                                              stream="OUTBOX_JPN")
            msgs = await sub.fetch(1, timeout=2)
            assert [m.data for m in msgs] == [b"for KOR"]
            await msgs[0].ack()
            # The hub's own node reads JPN's outbox through the same link.
            sub_u = await usa.nc.jetstream(domain="JPN", timeout=2).pull_subscribe(
                "trilink.JPN.USA.p0", durable="USA_from_JPN_p0", stream="OUTBOX_JPN")
            assert [m.data for m in await sub_u.fetch(1, timeout=2)] == [b"for USA"]
            # KOR, unrestricted on its own server, asks JPN's server for USA's mail.
            body = {"stream_name": "OUTBOX_JPN",
                    "config": {"name": "KOR_x", "durable_name": "KOR_x",
                               "filter_subject": "trilink.JPN.USA.p0"}}
            with pytest.raises((nats.errors.NoRespondersError, nats.errors.TimeoutError)):
                await kor.nc.request(
                    "$JS.JPN.API.CONSUMER.CREATE.OUTBOX_JPN.KOR_x.trilink.JPN.USA.p0",
                    json.dumps(body).encode(), timeout=1)
            admin = await nats.connect(url["JPN"],
                                       **nc.client_options(creds["JPN"], "JPN", nc.ROLE_ADMIN))
            names = [c.name for c in
                     await admin.jetstream(timeout=2).consumers_info("OUTBOX_JPN")]
            assert sorted(names) == ["KOR_from_JPN_p0", "USA_from_JPN_p0"]  # no KOR_x
            for c in (jpn, kor, usa):
                await c.nc.close()
            await admin.close()

        run(go)


def test_a_hostile_hub_cannot_reach_a_spokes_own_subjects(tmp_path: Path) -> None:
    """The hub's server opens everything (its node and both links unrestricted); KOR's
    server still takes nothing on a trilink subject from the link (``deny_imports``)."""
    def hostile_usa(n: str, conf: dict[str, Any], users: tuple[NatsUser, ...]) -> None:
        if n == "USA":
            for u in users:
                if u.name in ("USA_node", "JPN_link", "KOR_link"):
                    widen_user(conf, u.nkey)

    with star(tmp_path, hostile_usa) as (url, creds):
        async def go() -> None:
            kor = await Client().open(url["KOR"], creds["KOR"], "KOR", nc.ROLE_NODE)
            usa = await Client().open(url["USA"], creds["USA"], "USA", nc.ROLE_NODE)
            await link_up(usa.nc.jetstream(domain="KOR", timeout=2), "OUTBOX_KOR")
            got: list[str] = []

            async def on_msg(msg: Any) -> None:
                got.append(msg.subject)
            for subject in ("trilink.ctl.KOR", "trilink.sensor.KOR.*", "trilink.live.clock.KOR"):
                await kor.nc.subscribe(subject, cb=on_msg)
            await kor.nc.flush()
            # Subjects the link does carry: the first, once it arrives, says the
            # subscriptions above have crossed too; the second, sent after the forgeries
            # on the same path, says they would have arrived by then.
            first, last = (f"{nc.inbox_prefix('KOR_node')}.{t}" for t in ("first", "last"))
            await kor.nc.subscribe(f"{nc.inbox_prefix('KOR_node')}.*", cb=on_msg)
            await kor.nc.flush()
            end = time.monotonic() + 10.0
            while first not in got and time.monotonic() < end:
                await usa.nc.publish(first, b"")
                await usa.nc.flush()
                await asyncio.sleep(0.05)
            for subject in ("trilink.ctl.KOR", "trilink.sensor.KOR.R1", "trilink.live.clock.KOR"):
                await usa.nc.publish(subject, b"{}")
            await usa.nc.publish(last, b"")
            await usa.nc.flush()
            assert await until(lambda: last in got)
            assert set(got) == {first, last}
            for c in (kor, usa):
                await c.nc.close()

        run(go)


# ------------------------------------------------------------------ pure parts


def test_subjects_match_the_code_that_uses_them() -> None:
    """The permissions and the code that publishes and subscribes share one subject
    layout: natsconf's (the users import it, never write it again)."""
    from trilink.live import client, feed, launch, node
    from trilink.web import publish

    assert client.control_subject is nc.control_subject
    assert feed.sensor_subject is nc.sensor_subject
    assert feed.nation_sensors_subject is nc.nation_sensors_subject
    assert node.cap_subject is nc.cap_subject
    assert node.picture_subject is publish.picture_subject is nc.picture_subject
    assert publish.picture_stream is nc.picture_stream
    assert launch.clock_subject is nc.clock_subject
    assert nc.control_subject("KOR") == "trilink.ctl.KOR"
    assert nc.sensor_subject("KOR", "R1") == "trilink.sensor.KOR.R1"
    assert nc.nation_sensors_subject("KOR") == "trilink.sensor.KOR.*"
    assert nc.cap_subject("KOR") == "trilink.cap.KOR"
    assert nc.picture_subject("KOR") == "trilink.picture.KOR"
    assert nc.picture_stream("KOR") == "PICTURE_KOR"
    assert nc.clock_subject("KOR") == "trilink.live.clock.KOR"


def test_credentials_files_and_bad_input(tmp_path: Path) -> None:
    paths = nc.write_credentials(tmp_path, ["JPN", "KOR"], roles=[nc.ROLE_NODE])
    seeds = [p for p in paths if p.suffix == ".nk"]
    assert {p.parent.name for p in seeds} == {"JPN", "KOR"}  # one folder per nation
    for p in seeds:
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
        assert p.read_text().startswith("SU")
    listing = (tmp_path / nc.USERS_FILE).read_text()
    assert "SU" not in listing.replace("\"", " ").split()  # public keys only
    assert all(p.read_text().strip() not in listing for p in seeds)
    nations, users = nc.read_users(tmp_path / nc.USERS_FILE)
    assert nations == ("JPN", "KOR") and [u.name for u in users] == ["JPN_node", "KOR_node"]
    with pytest.raises(NatsConfError, match="refusing to overwrite"):
        nc.write_credentials(tmp_path, ["JPN"], roles=[nc.ROLE_NODE])
    with pytest.raises(NatsConfError, match="nation"):
        nc.write_credentials(tmp_path / "x", ["kor"])
    with pytest.raises(NatsConfError, match="role"):
        nc.user_name("KOR", "root")
    with pytest.raises(NatsConfError, match="twice"):
        nc.server_config([users[0], users[0]], ["JPN", "KOR"], store_dir=tmp_path)
    with pytest.raises(NatsConfError, match="nkey"):
        NatsUser("KOR", nc.ROLE_NODE, "SUABC")
    with pytest.raises(NatsConfError, match="no credentials"):
        nc.client_options(tmp_path, "USA", nc.ROLE_NODE)
    other = tmp_path / "other"
    nc.write_credentials(other, ["KOR"], roles=[nc.ROLE_NODE])  # a second, different KOR key
    with pytest.raises(NatsConfError, match="another key"):
        nc.merge_users([tmp_path / nc.USERS_FILE, other / nc.USERS_FILE], tmp_path / "m.json")
    # One server per nation: only that nation's users are in its configuration.
    conf = nc.write_server_config(tmp_path / "kor.conf", tmp_path / nc.USERS_FILE,
                                  store_dir=tmp_path / "js", hosted=["KOR"])
    text = json.loads(conf.read_text())
    assert [u["nkey"] for u in text["accounts"][nc.ACCOUNT]["users"]] == [users[1].nkey]


def test_node_permissions_name_only_its_own_subjects() -> None:
    p = nc.permissions("KOR", nc.ROLE_NODE, NATIONS)
    sent = [s for s in p.publish if s.startswith("trilink.") and s.count(".") == 3
            and not s.startswith(("trilink.cap", "trilink.picture"))]
    assert sorted(sent) == ["trilink.KOR.JPN.p0", "trilink.KOR.JPN.p1", "trilink.KOR.USA.p0",
                            "trilink.KOR.USA.p1"]
    creates = [s for s in p.publish if ".CONSUMER.CREATE." in s]
    assert all(s.endswith(".KOR.p0") or s.endswith(".KOR.p1") for s in creates)
    assert not any(">" in s or "*" in s for s in p.publish if not s.startswith("$JS.ACK."))
    assert not any(".STREAM.CREATE." in s for s in p.publish)
