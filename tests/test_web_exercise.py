"""The dashboard's exercise flag, through the API: a node running an exercise (announced
launches) marks its drill tracks, objects and warnings EXERCISE and the page's state says
to show the banner; a node sending Actual warnings about a real track shows none.

Two real Japanese national nodes watch the same ballistic arc (the test helper's, over
Japan): one is told of an exercise launch at the arc's launch point, the other is not and
issues Actual messages. Their picture events go through a real nats-server each
(127.0.0.1, free port) to a dashboard each.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from ballistic_arc import arc, covariance

from trilink.bus.server import nats_server
from trilink.live.keys import load_keys_dir, write_keys
from trilink.node import NationalNode, NodeConfig
from trilink.sharing.fusion import SourceTrack
from trilink.sharing.policy import policy_for
from trilink.tracking.impact import estimate_launch
from trilink.warning.announced import AnnouncedLaunch
from trilink.watch import WatchConfig
from trilink.web.auth import make_token
from trilink.web.publish import PicturePublisher, ensure_picture_stream, picture_subject
from trilink.web.server import Background, serve_in_background

NATIONS = ("USA", "JPN", "KOR")
EPOCH = dt.datetime(2024, 8, 6, 20, 0, tzinfo=dt.UTC)
LABEL = "Drill targets, notional pad"


def _announced() -> AnnouncedLaunch:
    est = estimate_launch(arc().state(0.0), 0.0)
    assert est is not None
    return AnnouncedLaunch(LABEL, est.lat_rad, est.lon_rad, 30e3, est.t_s - 120.0,
                           est.t_s + 120.0)


def _events(nation: str, keys: Path, watch: WatchConfig) -> list[bytes]:
    """A node of ``nation`` watching the arc for 300 s: its picture events, in order."""
    key, registry = load_keys_dir(keys, nation)
    partners = tuple(n for n in NATIONS if n != nation)
    node = NationalNode(NodeConfig(nation, partners, NATIONS), policy_for(None, EPOCH.date()),
                        key, registry, EPOCH, watch_config=watch)
    pub = PicturePublisher(nation)
    out: list[bytes] = []
    for k in range(30):
        t = 10.0 * k
        node.picture.update([SourceTrack(nation, "T1", t, arc().state(t), covariance(), 0.0)])
        out += pub.events(node, node.tick(t), t)
    out += pub.events(node, node.close(300.0), 300.0, force=True)
    return out


@dataclass
class Dash:
    url: str
    token: str
    bg: Background

    def get(self, path: str) -> Any:
        r = httpx.get(self.url + path, headers={"Authorization": f"Bearer {self.token}"},
                      timeout=10.0)
        assert r.status_code == 200, (path, r.text)
        return r.json()


@pytest.fixture(scope="module")
def dashboards(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Dash]]:
    """Japan's dashboard twice, each on its own nats-server: "exercise" (its node was told
    of the exercise launch) and "actual" (its node sends Actual messages, knows of none)."""
    tmp = tmp_path_factory.mktemp("web-exercise")
    write_keys(NATIONS, tmp / "keys")
    key, _ = load_keys_dir(tmp / "keys", "JPN")
    streams = {"exercise": _events("JPN", tmp / "keys", WatchConfig(announced=(_announced(),))),
               "actual": _events("JPN", tmp / "keys", WatchConfig(cap_status="Actual"))}
    with contextlib.ExitStack() as stack:
        dashes: dict[str, Dash] = {}
        for case, evs in streams.items():
            url = stack.enter_context(nats_server(tmp / f"js-{case}"))
            asyncio.run(_load(url, evs))
            bg = serve_in_background("JPN", url, tmp / "keys")
            stack.callback(bg.stop)
            dashes[case] = Dash(bg.url, make_token(key, "eri", "JPN", "viewer", time.time()),
                                bg)
        for case, d in dashes.items():
            deadline = time.monotonic() + 30.0
            while d.get("api/status")["last_seq"] < len(streams[case]):
                assert time.monotonic() < deadline, f"the {case} dashboard never caught up"
                time.sleep(0.05)
        yield dashes


async def _load(url: str, events: list[bytes]) -> None:
    import nats

    nc = await nats.connect(url)
    js = nc.jetstream()
    for n in NATIONS:
        await ensure_picture_stream(js, n)
    for data in events:
        await js.publish(picture_subject("JPN"), data)
    await nc.close()


def test_an_exercise_node_marks_its_drills_and_the_page_state_shows_the_banner(
        dashboards: dict[str, Dash]) -> None:
    jpn = dashboards["exercise"]
    flag = jpn.get("api/exercise")
    warnings = [w["item"] for w in jpn.get("api/warnings")["items"]]
    assert warnings, "the drill was never warned (it must be: drills are warned and scored)"
    assert flag["active"] is True
    assert flag["announced"] == [LABEL]
    assert flag["banner"].startswith("EXERCISE — ") and LABEL in flag["banner"]
    # Every warning is marked, none is Actual, and each says EXERCISE to a reader too.
    assert sorted(flag["exercise_warnings"]) == sorted(w["identifier"] for w in warnings)
    assert flag["actual_warnings"] == []
    for w in warnings:
        assert (w["status"], w["exercise"]) == ("Exercise", LABEL)
        assert w["headline"].startswith("EXERCISE")
        assert "<status>Exercise</status>" in w["cap_xml"]
    # The drill object and its source track are marked, and listed as drills.
    fused = jpn.get("api/fused")["items"]
    tracks = jpn.get("api/tracks")["items"]
    assert fused and tracks
    assert all(e["item"]["exercise"] == LABEL for e in fused + tracks)
    assert flag["drill_items"] == sorted(e["id"] for e in fused + tracks)
    # The snapshot the page loads carries the same flag; the agreements event says an
    # exercise is on even before a drill track shows.
    assert jpn.get("api/picture")["exercise"] == flag
    agreement = jpn.get("api/agreements")["items"]
    assert agreement and agreement[0]["item"]["exercise"] == [LABEL]


def test_a_node_with_actual_warnings_and_no_exercise_shows_no_banner(
        dashboards: dict[str, Dash]) -> None:
    actual = dashboards["actual"]
    flag = actual.get("api/exercise")
    warnings = [w["item"] for w in actual.get("api/warnings")["items"]]
    assert warnings and all(w["status"] == "Actual" and w["exercise"] == "" for w in warnings)
    assert flag == {"active": False, "announced": [], "drill_items": [],
                    "exercise_warnings": [],
                    "actual_warnings": [w["identifier"] for w in warnings], "banner": ""}
    assert not [e for e in actual.get("api/fused")["items"] if e["item"]["exercise"]]
    assert actual.get("api/picture")["exercise"]["active"] is False


def test_the_page_has_the_banner_and_reads_the_same_fields(
        dashboards: dict[str, Dash]) -> None:
    page = httpx.get(dashboards["exercise"].url, timeout=10.0).text
    assert 'id="exercise-banner"' in page
    js = httpx.get(dashboards["exercise"].url + "static/app/app.js", timeout=10.0).text
    for field in ("it.exercise", 'it.status === "Exercise"', "exercise-banner"):
        assert field in js
