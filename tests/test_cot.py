"""Cursor-on-Target out, against a real TAK server: taky, started on 127.0.0.1 here.

Japan's picture stream of the 2022-10-04 replay (Japan releasing its own tracks to the
United States only) goes to a TAK server for Korean users. A second TAK client connected
to taky receives what the server routes; taky's own CoT log records what it received.
Every missile event must match a picture event released to KOR; nothing else may arrive.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import socket
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from trilink.bus.server import free_port, listening_process, nats_server
from trilink.cot.encode import MISSILE_TYPE, cot_events, to_protobuf
from trilink.cot.sender import CotFilter, TakUrlError, parse_tak_url, stream_to_tak
from trilink.web.publish import decode_event, ensure_picture_stream
from trilink.web.replay import Replay, cached_replay, publish

SCENARIO = "2022-10-04-irbm-overflight"
RELEASE = {"JPN": ("JPN", "USA")}


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Replay:
    return cached_replay(SCENARIO, tmp_path_factory.getbasetemp().parent
                         / "trilink-web-replays", rel_to=RELEASE)


# taky 0.10 reads its version with pkg_resources, which setuptools ≥ 81 no longer ships;
# the launcher gives it that one call (from importlib.metadata) and runs taky's own main.
TAKY = """
import importlib.metadata, sys, types
shim = types.ModuleType("pkg_resources")
shim.DistributionNotFound = importlib.metadata.PackageNotFoundError
shim.get_distribution = lambda name: types.SimpleNamespace(
    version=importlib.metadata.version(name))
sys.modules.setdefault("pkg_resources", shim)
from taky.cot.__main__ import main
sys.argv = ["taky", *sys.argv[1:]]
sys.exit(main())
"""


def taky_command() -> list[str]:
    import importlib.util

    if importlib.util.find_spec("taky") is None:
        pytest.skip("taky is not installed (pip install taky)")
    return [sys.executable, "-c", TAKY]


@pytest.fixture
def taky(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log_dir = tmp_path / "cot-log"
    log_dir.mkdir()
    conf = tmp_path / "taky.conf"
    conf.write_text(f"""[taky]
hostname = 127.0.0.1
node_id = TRILINK-TEST
bind_ip = 127.0.0.1
root_dir = {tmp_path}
[cot_server]
port = {port}
log_cot = {log_dir}
[dp_server]
upload_path = {tmp_path / "dp"}
[ssl]
enabled = false
""")
    with listening_process([*taky_command(), "-c", str(conf), "-l", "warning"], port, "taky",
                           log=tmp_path / "taky.log", start_timeout_s=20.0, cwd=tmp_path):
        yield f"tcp://127.0.0.1:{port}", log_dir


class Listener:
    """A TAK client that only listens: every event taky routes to it."""

    def __init__(self, url: str) -> None:
        host, port = parse_tak_url(url)
        self.sock = socket.create_connection((host, port), timeout=5.0)
        self.data = b""
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        self.sock.settimeout(0.2)
        while True:
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.data += chunk

    def events(self) -> list[ET.Element]:
        with self.lock:
            text = self.data.decode("utf-8", "replace")
        return [ET.fromstring(m) for m in re.findall(r"<event\b.*?</event>", text, re.S)]

    def close(self) -> None:
        self.sock.close()


def test_cot_carries_only_what_is_released_to_the_audience(
        replay: Replay, taky: tuple[str, Path], tmp_path: Path) -> None:
    tak_url, log_dir = taky
    jpn = [decode_event(e.data) for e in replay.of("JPN")]
    fused = [ev for ev in jpn if ev.kind == "fused"]
    released = {(f"trilink.JPN.{ev.item.fused_id}", ev.utc) for ev in fused
                if "KOR" in ev.rel_to}
    withheld = {(f"trilink.JPN.{ev.item.fused_id}", ev.utc) for ev in fused
                if "KOR" not in ev.rel_to}
    assert released and withheld  # both kinds exist: the test can fail
    last = {f"trilink.JPN.{ev.item.fused_id}": "KOR" in ev.rel_to for ev in fused}
    listener = Listener(tak_url)

    async def run(url: str) -> CotFilter:
        import nats

        nc = await nats.connect(url)
        js = nc.jetstream()
        await ensure_picture_stream(js, "JPN")
        await publish(js, replay.of("JPN"))
        await nc.close()
        stop = asyncio.Event()
        task = asyncio.create_task(stream_to_tak(url, "JPN", "KOR", tak_url, stop))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60.0
        while loop.time() < deadline:
            got = [e for e in listener.events() if e.get("type") == MISSILE_TYPE]
            if len(got) >= len(released):
                break
            await asyncio.sleep(0.1)
        stop.set()
        return await task

    with nats_server(tmp_path / "js") as url:
        filt = asyncio.run(run(url))
    events = listener.events()
    listener.close()
    missiles = [e for e in events if e.get("type") == MISSILE_TYPE]
    assert len(missiles) == len(released) == filt.sent - sum(
        1 for ev in fused if "KOR" in ev.rel_to and ev.item.impact is not None)
    for e in missiles:
        assert (e.get("uid"), e.get("time")) in released
        remarks = e.find("detail/remarks")
        assert remarks is not None and "KOR" in (remarks.text or "")
        ell = e.find("detail/shape/ellipse")
        assert ell is not None and float(ell.get("major", "0")) > 0
        assert e.find("point") is not None and float(e.find("point").get("ce", "0")) > 0
    got = {(e.get("uid"), e.get("time")) for e in missiles}
    assert not got & withheld
    # An object no longer released to KOR is deleted from KOR's TAK picture, by uid alone.
    deleted = {link.get("uid") for e in events if e.get("type") == "t-x-d-d"
               for link in e.iter("link")}
    for uid, still in last.items():
        if not still and any(u == uid for u, _ in released):
            assert uid in deleted, uid
    assert filt.withheld >= len(withheld)
    # What taky itself logged as received holds none of the withheld versions either.
    logged = "".join(p.read_text() for p in log_dir.glob("*.cot"))
    assert "trilink.JPN." in logged
    pairs = set(re.findall(r'uid="([^"]+)"[^>]*time="([^"]+)"', logged))
    assert pairs and not pairs & withheld


def test_cot_encoding_is_valid_xml_and_tak_protocol() -> None:
    from trilink.web.publish import (
        SCHEMA_VERSION,
        Ellipse,
        FusedItem,
        Impact,
        PictureEvent,
        SourceRef,
    )

    item = FusedItem("JPN-F0001", 100.0, 40.0, 141.0, 8e5, 3.5e3, 80.0,
                     Ellipse(900.0, 300.0, 75.0), 0.0, [SourceRef("USA/T1", "USA", 100.0)],
                     Impact(41.0, 150.0, 900.0, Ellipse(3e4, 1e4, 80.0), "informational"), 0.0)
    ev = PictureEvent(SCHEMA_VERSION, "fused", "fused:JPN-F0001", "JPN", 100.0,
                      "2022-10-03T22:23:40.000Z", ["JPN", "KOR", "USA"], [], item)
    xml = cot_events(ev, "KOR")
    assert len(xml) == 2
    missile, impact = (ET.fromstring(x) for x in xml)
    assert missile.get("type") == MISSILE_TYPE and missile.get("time") == \
        "2022-10-03T22:23:40.000Z"
    assert impact.get("type") == "u-d-c-e"
    stale = dt.datetime.fromisoformat(impact.get("stale", "").replace("Z", "+00:00"))
    assert stale > dt.datetime(2022, 10, 3, 22, 36, tzinfo=dt.UTC)  # until after impact
    assert to_protobuf(xml[0])[:1] == b"\xbf"  # TAK protocol v1 stream header
    assert cot_events(ev, "AUS") == []
    closed = PictureEvent(SCHEMA_VERSION, "fused", "fused:JPN-F0001", "JPN", 101.0,
                          "2022-10-03T22:23:41.000Z", ["JPN", "USA"], [], item)
    filt = CotFilter("KOR")
    from trilink.web.publish import encode_event

    assert len(filt.feed(encode_event(ev))) == 2
    gone = filt.feed(encode_event(closed))  # no longer for KOR: deleted, never updated
    assert [ET.fromstring(g).get("type") for g in gone] == ["t-x-d-d", "t-x-d-d"]
    assert all(b"40.0" not in g and b"141" not in g for g in gone)
    assert filt.feed(encode_event(closed)) == []
    assert filt.feed(b"junk") == []
    assert json.loads(json.dumps({"ok": True}))
    for bad in ("http://x:1", "tcp://:1", "tcp://host", "nonsense"):
        with pytest.raises(TakUrlError):
            parse_tak_url(bad)
