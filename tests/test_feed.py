"""The live sensor feed: schema, hostile messages first, then a node on a real nats-server.

Every refused message names its field; a refused message never stops the next good
one; a node reads its own nation's sensors only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
from pathlib import Path

import msgspec
import numpy as np
import pytest

from trilink.bus.server import nats_server
from trilink.live import LiveNode, live_national_node
from trilink.live.client import connect
from trilink.live.feed import (
    IR_SCHEMA_VERSION,
    SCHEMA_VERSION,
    FeedError,
    InfraredFrameMsg,
    SensorScanMsg,
    decode_scan,
    encode_scan,
    from_radar_scan,
    from_scan,
    sensor_subject,
    to_radar_scan,
    to_scan,
)
from trilink.sensors import IrScan, RadarScan, SpaceInfrared, sensor_catalogue
from trilink.sharing.audit import AuditLog
from trilink.sharing.envelope import generate_keys
from trilink.sharing.policy import policy_for

EPOCH = dt.datetime(2022, 10, 4, 22, 27, tzinfo=dt.UTC)
NATIONS = ("USA", "JPN", "KOR")


def scan(nation: str = "JPN", sensor: str = "JPN-FPS5-Shimokoshiki", t_s: float = 12.25,
         rows: int = 2) -> RadarScan:
    z = np.array([[1.2e6 + 1e3 * i, 5.1 + 0.01 * i, 0.2, -3000.0] for i in range(rows)])
    return RadarScan(sensor, nation, t_s, math.radians(31.8), math.radians(129.8), 300.0,
                     np.zeros(3), z, np.array([50.0, 1e-3, 1e-3, 5.0]),
                     tuple(f"M{i}" for i in range(rows)))


def good(**changes: object) -> SensorScanMsg:
    return msgspec.structs.replace(from_radar_scan(scan(), EPOCH), **changes)


def test_round_trip_keeps_every_measurement_bit_for_bit() -> None:
    s = scan()
    back = to_radar_scan(decode_scan(encode_scan(from_radar_scan(s, EPOCH))), EPOCH)
    assert back.sensor_id == s.sensor_id and back.nation == s.nation
    assert back.t_s == pytest.approx(s.t_s, abs=1e-9)
    np.testing.assert_array_equal(back.z, s.z)
    np.testing.assert_array_equal(back.sigma, s.sigma)
    assert back.truth_ids == s.truth_ids
    assert np.linalg.norm(back.site_ecef_m) == pytest.approx(6.37e6, rel=0.01)
    assert decode_scan(encode_scan(good())).schema_version == SCHEMA_VERSION


def frame(rows: int = 2, t_s: float = 41.5) -> IrScan:
    """A frame of the shipped SBIRS-like satellite: its real position and focal plane."""
    sat = SpaceInfrared(sensor_catalogue()["USA-SBIRS-GEO"])  # type: ignore[arg-type]
    z = np.array([[0.021 + 1e-4 * i, 0.065 - 2e-4 * i] for i in range(rows)])
    return IrScan(sat.id, "USA", t_s, sat.sat_ecef_m, sat.frame_ecef, z, sat.sigma,
                  tuple(f"M{i}" for i in range(rows)))


def good_ir(**changes: object) -> InfraredFrameMsg:
    msg = from_scan(frame(), EPOCH)
    assert isinstance(msg, InfraredFrameMsg)
    return msgspec.structs.replace(msg, **changes)


def test_infrared_round_trip_keeps_every_line_of_sight_bit_for_bit() -> None:
    f = frame()
    msg = decode_scan(encode_scan(from_scan(f, EPOCH)), sensor_subject("USA", f.sensor_id))
    assert isinstance(msg, InfraredFrameMsg)
    assert (msg.schema_version, msg.kind) == (IR_SCHEMA_VERSION, "infrared")
    back = to_scan(msg, EPOCH)
    assert isinstance(back, IrScan)
    assert (back.sensor_id, back.nation, back.truth_ids) == (f.sensor_id, f.nation,
                                                             f.truth_ids)
    assert back.t_s == pytest.approx(f.t_s, abs=1e-9)
    for name in ("sat_ecef_m", "frame_ecef", "z", "sigma"):
        np.testing.assert_array_equal(getattr(back, name), getattr(f, name), err_msg=name)
    empty = to_scan(decode_scan(encode_scan(from_scan(frame(rows=0), EPOCH))), EPOCH)
    assert isinstance(empty, IrScan) and empty.z.shape == (0, 2)
    # A radar-only reader refuses a frame by name instead of misreading it; radar
    # messages (schema 1) read as before through either reader.
    with pytest.raises(FeedError, match="infrared"):
        to_radar_scan(msg, EPOCH)
    radar = decode_scan(encode_scan(from_scan(scan(), EPOCH)))
    assert isinstance(to_scan(radar, EPOCH), RadarScan)
    assert isinstance(to_radar_scan(radar, EPOCH), RadarScan)


def test_a_real_sensor_leaves_truth_empty_and_the_scan_has_none() -> None:
    msg = from_radar_scan(scan(), EPOCH, with_truth=False)
    assert msg.truth_ids == []
    assert to_radar_scan(decode_scan(encode_scan(msg)), EPOCH).truth_ids == (None, None)


@pytest.mark.parametrize(("changes", "field"), [
    ({"schema_version": 2}, "schema_version"),
    ({"nation": "japan"}, "nation"),
    ({"sensor_id": "a.b"}, "sensor_id"),
    ({"sensor_id": ""}, "sensor_id"),
    ({"site_lat_rad": math.nan}, "site_lat_rad"),
    ({"site_h_m": math.inf}, "site_h_m"),
    ({"site_lat_rad": 3.0}, "site_lat_rad"),
    ({"sigma": [1.0, 2.0]}, "sigma"),
    ({"sigma": [1.0, -1.0, 1.0]}, "sigma"),
    ({"sigma": [1.0, math.nan, 1.0, 1.0]}, "sigma"),
    ({"z": [[1.0, 2.0, 3.0]]}, "z[0]"),  # three columns against four sigmas
    ({"z": [[1e6, math.nan, 0.1, 0.0]]}, "z[0]"),
    ({"z": [[-5.0, 0.1, 0.1, 0.0]]}, "z[0]"),
    ({"z": [[1e6, 0.1, 0.1, 0.0]] * 5000}, "z:"),
    ({"truth_ids": ["M0"]}, "truth_ids"),
])
def test_hostile_fields_are_refused_by_name(changes: dict[str, object], field: str) -> None:
    with pytest.raises(FeedError, match=field.replace("[", r"\[")):
        decode_scan(encode_scan(good(**changes)))


@pytest.mark.parametrize(("changes", "field"), [
    ({"kind": "radar"}, "kind"),  # a version-2 message must say it is a frame
    ({"nation": "usa"}, "nation"),
    ({"sensor_id": "a b"}, "sensor_id"),
    ({"sat_ecef_m": [1.0, 2.0]}, "sat_ecef_m"),
    ({"sat_ecef_m": [math.nan, 0.0, 4.2e7]}, "sat_ecef_m"),
    ({"sat_ecef_m": [6.0e6, 0.0, 0.0]}, "sat_ecef_m"),  # inside the Earth
    ({"frame_ecef": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]}, "frame_ecef"),
    ({"frame_ecef": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, math.inf]]},
     "frame_ecef"),
    ({"frame_ecef": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.6, 0.8]]}, "frame_ecef"),
    ({"sigma": [3e-5]}, "sigma"),
    ({"sigma": [3e-5, 0.0]}, "sigma"),
    ({"sigma": [3e-5, 3e-5, 5.0]}, "sigma"),  # a radar's width on a frame
    ({"z": [[0.1, 0.2, 1e6]]}, "z[0]"),
    ({"z": [[0.1, math.nan]]}, "z[0]"),
    ({"z": [[0.1, 2.0]]}, "z[0]"),  # beyond a focal plane's pi/2
    ({"z": [[0.1, 0.1]] * 5000}, "z:"),
    ({"truth_ids": ["M0"]}, "truth_ids"),
])
def test_hostile_infrared_fields_are_refused_by_name(changes: dict[str, object],
                                                     field: str) -> None:
    with pytest.raises(FeedError, match=field.replace("[", r"\[")):
        decode_scan(encode_scan(good_ir(**changes)))


def test_hostile_infrared_messages_are_refused_whole() -> None:
    """Unknown fields, a frame under the radar schema's number (and a radar scan under
    the frame's), a version no one speaks, and a frame on another sensor's subject."""
    as_map = msgspec.structs.asdict(good_ir())
    with pytest.raises(FeedError, match="evil"):
        decode_scan(msgspec.msgpack.encode({**as_map, "evil": 1}))
    with pytest.raises(FeedError, match="kind"):  # version 1 has no kind
        decode_scan(msgspec.msgpack.encode({**as_map, "schema_version": SCHEMA_VERSION}))
    radar_as_2 = {**msgspec.structs.asdict(good()), "schema_version": IR_SCHEMA_VERSION}
    with pytest.raises(FeedError, match="kind"):
        decode_scan(msgspec.msgpack.encode(radar_as_2))
    with pytest.raises(FeedError, match="schema_version: 3"):
        decode_scan(msgspec.msgpack.encode({**as_map, "schema_version": 3}))
    with pytest.raises(FeedError, match="does not match"):
        decode_scan(encode_scan(good_ir()), sensor_subject("JPN", "USA-SBIRS-GEO"))


def test_garbage_unknown_fields_oversize_and_a_lying_subject_are_refused() -> None:
    with pytest.raises(FeedError, match="feed message"):
        decode_scan(b"\x93\x01\x02")
    extra = msgspec.msgpack.encode({**msgspec.structs.asdict(good()), "evil": 1})
    with pytest.raises(FeedError, match="evil"):
        decode_scan(extra)
    with pytest.raises(FeedError, match="bytes"):
        decode_scan(b"\x00" * (2 << 20))
    data = encode_scan(good())
    with pytest.raises(FeedError, match="does not match"):
        decode_scan(data, sensor_subject("KOR", "JPN-FPS5-Shimokoshiki"))
    assert decode_scan(data, sensor_subject("JPN", "JPN-FPS5-Shimokoshiki")).nation == "JPN"


async def until(check: object, timeout_s: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not check():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


def test_a_node_reads_its_own_sensors_only_and_survives_bad_messages(tmp_path: Path) -> None:
    keys, registry = generate_keys(NATIONS, seed=b"feed-test")
    audit = AuditLog(tmp_path / "JPN.sqlite", durable=False)
    node = live_national_node("JPN", keys["JPN"], registry, policy_for(), NATIONS, audit,
                              epoch=EPOCH)
    seen: list[RadarScan] = []
    real_on_scan = node.on_scan

    def spy(s: RadarScan) -> object:
        seen.append(s)
        return real_on_scan(s)

    node.on_scan = spy  # type: ignore[method-assign]

    async def go(url: str) -> LiveNode:
        live = LiveNode(node, url, sensors=True, clock=lambda: EPOCH.timestamp() + 13.0)
        await live.start()
        nc = await connect(url, name="test-feed")
        kor = from_radar_scan(scan("KOR", "KOR-GreenPine-A"), EPOCH)
        await nc.publish(sensor_subject("KOR", "KOR-GreenPine-A"), encode_scan(kor))
        await nc.publish(sensor_subject("JPN", "X"), b"not msgpack")
        await nc.publish(sensor_subject("JPN", "JPN-FPS5-Shimokoshiki"),
                         encode_scan(good(sigma=[1.0, math.nan, 1.0, 1.0])))
        # A JPN subject carrying a KOR scan: refused (the subject names the sensor).
        await nc.publish(sensor_subject("JPN", "KOR-GreenPine-A"), encode_scan(kor))
        await nc.publish(sensor_subject("JPN", "JPN-FPS5-Shimokoshiki"), encode_scan(good()))
        await nc.flush()
        await until(lambda: live.scans + live.feed_rejected >= 4)
        await nc.close()
        await live.stop()
        return live

    with nats_server(tmp_path / "js") as url:
        live = asyncio.run(go(url))
    audit.close()
    assert live.scans == 1 and live.feed_rejected == 3
    assert [(s.nation, s.sensor_id) for s in seen] == [("JPN", "JPN-FPS5-Shimokoshiki")]
    assert seen[0].t_s == pytest.approx(12.25, abs=1e-6)
    import sqlite3

    with sqlite3.connect(tmp_path / "JPN.sqlite") as db:
        rows = db.execute("SELECT reason, detail FROM audit WHERE direction='rejected'"
                          ).fetchall()
    assert len(rows) == 3 and all(r[0] == "feed" for r in rows)
    assert any("sigma" in r[1] for r in rows) and any("does not match" in r[1] for r in rows)


def test_trilink_feed_publishes_every_scan_of_the_replay(tmp_path: Path) -> None:
    """`trilink feed` on a real server: every simulated radar scan and infrared frame,
    on its nation's subject, each a valid message; a bad --speed is one line."""
    import subprocess
    import sys

    from trilink.live.replay import scenario_nations, scenario_scans, scenario_truth
    from trilink.sim.scenario import load_scenario

    sc = load_scenario("2023-12-17-srbm")
    truth = scenario_truth(sc)
    expected = scenario_scans(truth, scenario_nations(sc))
    # The infrared frames leave the radar draws alone: the same scans as the radars alone.
    from trilink.sensors import build_sensor, simulate_scans
    from trilink.sim.tracking import nation_radars

    radar = sorted((m for n in scenario_nations(sc) for m in simulate_scans(
        [build_sensor(r) for r in nation_radars(n, truth.sensors)], truth, 0)
        if isinstance(m, RadarScan)), key=lambda m: (m.t_s, m.sensor_id))
    mine = [s for s in expected if isinstance(s, RadarScan)]
    assert [(s.sensor_id, s.t_s) for s in mine] == [(s.sensor_id, s.t_s) for s in radar]
    assert all(np.array_equal(a.z, b.z) for a, b in zip(mine, radar, strict=True))
    ir = [s for s in expected if isinstance(s, IrScan)]
    assert any(len(s.z) for s in ir), "the KN-23's boost is seen from space"
    bad = subprocess.run([sys.executable, "-m", "trilink.cli", "feed", sc.id, "--speed", "0"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--speed" in bad.stderr
    got: list[tuple[str, SensorScanMsg | InfraredFrameMsg]] = []

    async def listen(url: str) -> None:
        nc = await connect(url, name="test-listen")

        async def cb(msg: object) -> None:
            subject = msg.subject  # type: ignore[attr-defined]
            got.append((subject, decode_scan(msg.data, subject)))  # type: ignore[attr-defined]

        await nc.subscribe("trilink.sensor.>", cb=cb)
        await nc.flush()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "trilink.cli", "feed", sc.id, "--speed", "1000",
            "--nats", url, stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        assert proc.returncode == 0 and b"scans published" in out
        await until(lambda: len(got) >= len(expected))
        await nc.close()

    with nats_server(tmp_path / "js") as url:
        asyncio.run(listen(url))
    assert len(got) == len(expected)
    # One connection per nation (each its own sensor user): every nation's scans arrive
    # in order; how two nations' streams interleave is the network's business.
    for nation in {s.nation for s in expected}:
        mine = [m for _, m in got if m.nation == nation]
        assert [m.sensor_id for m in mine] == [s.sensor_id for s in expected
                                               if s.nation == nation], nation
        assert [m.t_unix_ns for m in mine] == sorted(m.t_unix_ns for m in mine), nation
    assert all(subject == sensor_subject(m.nation, m.sensor_id) for subject, m in got)
    frames = [m for _, m in got if isinstance(m, InfraredFrameMsg)]
    assert len(frames) == len(ir)
    assert sum(len(m.z) for m in frames) == sum(len(s.z) for s in ir) > 0


def test_scans_kept_through_a_server_outage_reach_a_node_that_comes_back_late(
        tmp_path: Path) -> None:
    """The server goes down mid-feed and comes back; the "node" (a subscriber) returns
    1 s after the feed reconnected. Scans published meanwhile are kept (the 4
    newest: the buffer's limit; the 2 oldest dropped, counted and said) and reach the
    node in order once it listens again."""
    from trilink.bus.server import free_port
    from trilink.live.client import SensorFeed

    port = free_port()
    subject = sensor_subject("JPN", "JPN-R1")
    got: list[bytes] = []
    said: list[str] = []

    async def node(url: str) -> object:
        nc = await connect(url, name="stand-in-node", timeout_s=5.0)

        async def take(msg: object) -> None:
            got.append(msg.data)  # type: ignore[attr-defined]
        await nc.subscribe("trilink.sensor.JPN.*", cb=take)
        await nc.flush()
        return nc

    async def until(cond: object, timeout_s: float = 10.0) -> None:
        end = asyncio.get_running_loop().time() + timeout_s
        while not cond() and asyncio.get_running_loop().time() < end:  # type: ignore[operator]
            await asyncio.sleep(0.02)

    async def run() -> SensorFeed:
        with nats_server(tmp_path / "js", port=port) as url:
            first = await node(url)
            feed = await SensorFeed.open(url, ["JPN"], "test-feed", lambda n: {},
                                         buffer_scans=4, log=said.append)
            for i in range(3):
                await feed.publish(subject, b"s%d" % i)
            await until(lambda: len(got) == 3)
        lane = feed.lanes["JPN"]
        await until(lambda: not lane.nc.is_connected)  # the feed saw the server go
        with contextlib.suppress(Exception):
            await first.close()  # type: ignore[attr-defined]
        for i in range(3, 9):
            await feed.publish(subject, b"s%d" % i)
        assert feed.waiting == 4 and feed.dropped == 2
        with nats_server(tmp_path / "js", port=port) as url:
            await until(lambda: lane.nc.is_connected)
            await asyncio.sleep(1.0)  # the node is slower to come back than the feed
            assert got == [b"s0", b"s1", b"s2"]  # nothing sent into the void meanwhile
            back = await node(url)
            await feed.flush(timeout_s=10.0)
            await until(lambda: len(got) == 7)
            await feed.publish(subject, b"s9")  # and the feed goes on as before
            await until(lambda: len(got) == 8)
            await feed.close()
            await back.close()  # type: ignore[attr-defined]
        return feed

    feed = asyncio.run(run())
    assert got == [b"s0", b"s1", b"s2", b"s5", b"s6", b"s7", b"s8", b"s9"]
    assert (feed.buffered, feed.dropped, feed.waiting, feed.published) == (6, 2, 0, 8)
    assert any("buffer full" in line for line in said)
    assert any("2 scan(s) dropped" in line for line in said), said
