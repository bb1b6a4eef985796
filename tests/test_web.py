"""The dashboard's API and stream: who sees what, resuming, hostile callers.

The view reducer is tested without a server (hand-made events); the API is tested
against a real nats-server (127.0.0.1, free port) carrying the picture streams of a
simulated 2022-10-04 replay, in which Japan releases its own tracks to the United States
only — so Japan's picture holds items a Korean liaison officer must never see.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from trilink.bus.server import nats_server
from trilink.live.keys import load_keys_dir, write_keys
from trilink.sharing.envelope import generate_keys
from trilink.warning.cap import validate
from trilink.web.auth import TokenError, make_token, verify_token
from trilink.web.publish import (
    SCHEMA_VERSION,
    Ellipse,
    FusedItem,
    PictureEvent,
    SourceRef,
    encode_event,
    ensure_picture_stream,
    picture_subject,
)
from trilink.web.replay import Replay, cached_replay, publish
from trilink.web.server import Background, serve_in_background
from trilink.web.view import PictureView

SCENARIO = "2022-10-04-irbm-overflight"
RELEASE = {"JPN": ("JPN", "USA")}  # Japan's own tracks: to the United States only


def replay_folder(factory: pytest.TempPathFactory) -> Path:
    # Shared by every xdist worker (and by the browser and CoT tests): one simulation.
    return factory.getbasetemp().parent / "trilink-web-replays"


# ------------------------------------------------------------------ the reducer


def fused_event(fid: str, t_s: float, rel: list[str], node: str = "JPN") -> bytes:
    item = FusedItem(fid, t_s, 40.0, 140.0, 1e5, 3e3, 90.0, Ellipse(1e3, 5e2, 10.0), 0.0,
                     [SourceRef(f"{node}/T1", node, t_s)], None, 0.0)
    return encode_event(PictureEvent(SCHEMA_VERSION, "fused", f"fused:{fid}", node, t_s,
                                     "2022-10-03T22:30:00.000Z", rel, [], item))


def test_view_filters_by_releasability_and_withdraws_what_a_viewer_saw() -> None:
    view = PictureView("JPN")
    view.apply(1, fused_event("F1", 1.0, ["JPN", "KOR", "USA"]))
    view.apply(2, fused_event("F2", 1.0, ["JPN", "USA"]))
    view.apply(3, fused_event("F1", 2.0, ["JPN", "USA"]))  # F1 gains a source not for KOR
    kor = list(view.changes_after(0, "KOR"))
    assert [(c.seq, c.kind) for c in kor] == [(1, "fused"), (3, "withdraw")]
    assert json.loads(kor[1].data) == {"kind": "withdraw", "id": "fused:F1"}
    assert b"F2" not in b"".join(c.data for c in kor)  # never even its id
    assert view.items("KOR", "fused") == []
    assert [e.item.fused_id for e in view.items("USA", "fused")] == ["F1", "F2"]
    assert [c.seq for c in view.changes_after(1, "USA")] == [2, 3]


def test_view_resumes_after_any_sequence_and_resets_when_it_cannot() -> None:
    view = PictureView("JPN", max_entries=5)
    for seq in range(1, 9):
        view.apply(seq * 2, fused_event(f"F{seq}", float(seq), ["JPN", "KOR"]))
    seqs = [c.seq for c in view.changes_after(10, "KOR")]
    assert seqs == [12, 14, 16]
    assert [c.seq for c in view.changes_after(11, "KOR")] == [12, 14, 16]
    assert [c.kind for c in view.changes_after(2, "KOR")] == ["reset"]  # 4..6 were dropped
    assert list(view.changes_after(16, "KOR")) == []


def test_view_drops_garbage_repeats_and_other_nodes_events_and_keeps_going() -> None:
    view = PictureView("JPN")
    assert view.apply(1, b"\xff not json") is None
    assert view.apply(2, b'{"v": 99}') is None
    assert view.apply(3, fused_event("F1", 1.0, ["KOR"], node="KOR")) is None
    wrong_version = json.loads(fused_event("F1", 1.0, ["JPN"]))
    wrong_version["v"] = SCHEMA_VERSION + 1
    assert view.apply(4, json.dumps(wrong_version).encode()) is None
    assert view.apply(5, fused_event("F1", 1.0, ["JPN"])) is not None
    assert view.apply(5, fused_event("F1", 2.0, ["JPN"])) is None  # a repeated sequence
    assert view.rejected == 5 and view.last_seq == 5


# ------------------------------------------------------------------ tokens


def test_tokens_let_in_only_what_the_issuing_node_signed_for_its_dashboard() -> None:
    keys, registry = generate_keys(("USA", "JPN", "KOR"), seed=b"web-tokens")
    now = 1_700_000_000.0
    ok = make_token(keys["JPN"], "kim", "KOR", "viewer", now, ttl_s=60.0)
    user = verify_token(ok, registry, "JPN", now + 1)
    assert (user.name, user.nation, user.role, user.may_operate) == ("kim", "KOR", "viewer",
                                                                     False)
    with pytest.raises(TokenError, match="expired"):
        verify_token(ok, registry, "JPN", now + 61)
    with pytest.raises(TokenError, match="dashboard"):
        verify_token(ok, registry, "KOR", now)
    forged = make_token(keys["KOR"], "kim", "KOR", "viewer", now)  # KOR's key, JPN's door
    claims = forged.split(".")[1]
    with pytest.raises(TokenError):
        verify_token(f"trilink1.{claims}.{ok.split('.')[2]}", registry, "JPN", now)
    head, body, sig = ok.split(".")
    tampered = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(TokenError):
        verify_token(f"{head}.{tampered}.{sig}", registry, "JPN", now)
    for junk in ("", "x" * 5000, "trilink1..", "a.b.c", "trilink1.!!!.???", None):
        with pytest.raises(TokenError):
            verify_token(junk, registry, "JPN", now)  # type: ignore[arg-type]
    with pytest.raises(TokenError, match="cannot operate"):
        make_token(keys["JPN"], "kim", "KOR", "operator", now)


# ------------------------------------------------------------------ the API, live


@dataclass
class Served:
    url: str
    nats_url: str
    replay: Replay
    tokens: dict[str, str]
    dashboard: Background

    def get(self, path: str, who: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **kw.pop("headers", {})}
        return httpx.get(self.url + path, headers=headers, timeout=10.0, **kw)


def read_sse(url: str, token: str, count: int | None, headers: dict[str, str] | None = None,
             idle_s: float = 2.0) -> list[tuple[int, str, dict[str, Any]]]:
    """Events of an SSE stream until ``count`` of them (or ``idle_s`` of silence)."""
    got: list[tuple[int, str, dict[str, Any]]] = []
    seq, kind = 0, ""
    hdrs = {"Authorization": f"Bearer {token}", **(headers or {})}
    try:
        with httpx.stream("GET", url, headers=hdrs,
                          timeout=httpx.Timeout(10.0, read=idle_s)) as r:
            assert r.status_code == 200, r.read()
            for line in r.iter_lines():
                if line.startswith("id:"):
                    seq = int(line[3:].strip())
                elif line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:") and kind:
                    got.append((seq, kind, json.loads(line[5:].strip())))
                    kind = ""
                    if count is not None and len(got) >= count:
                        break
    except httpx.ReadTimeout:
        pass
    return got


async def load_streams(url: str, replay: Replay) -> None:
    import nats

    nc = await nats.connect(url)
    js = nc.jetstream()
    for n in replay.nations:
        await ensure_picture_stream(js, n)
    await publish(js, replay.of("JPN"))
    await nc.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    replay = cached_replay(SCENARIO, replay_folder(tmp_path_factory), rel_to=RELEASE)
    tmp = tmp_path_factory.mktemp("web")
    write_keys(("USA", "JPN", "KOR"), tmp / "keys")
    key, _ = load_keys_dir(tmp / "keys", "JPN")
    now = time.time()
    tokens = {"JPN": make_token(key, "aiko", "JPN", "operator", now,
                                authority="defence_ministry"),
              "KOR": make_token(key, "minji", "KOR", "viewer", now),
              "USA": make_token(key, "sam", "USA", "viewer", now)}
    with nats_server(tmp / "js") as url:
        asyncio.run(load_streams(url, replay))
        dash = serve_in_background("JPN", url, tmp / "keys")
        try:
            s = Served(dash.url, url, replay, tokens, dash)
            total = len(replay.of("JPN"))
            deadline = time.monotonic() + 30.0
            while s.get("api/status", "JPN").json()["last_seq"] < total:
                assert time.monotonic() < deadline, "the dashboard never read the stream"
                time.sleep(0.05)
            yield s
        finally:
            dash.stop()


def test_a_korean_liaison_never_sees_japan_only_items_through_api_or_stream(
        served: Served) -> None:
    jpn = served.get("api/picture", "JPN").json()["items"]
    kor = served.get("api/picture", "KOR").json()["items"]
    jpn_only = [e for kind in jpn.values() for e in kind if "KOR" not in e["rel_to"]]
    assert any(e["kind"] == "track" and e["item"]["nation"] == "JPN" for e in jpn_only)
    assert any(e["kind"] == "fused" for e in jpn_only)  # objects with a Japanese source
    for kind in kor.values():
        for e in kind:
            assert "KOR" in e["rel_to"], e["id"]
    assert not [t for t in served.get("api/tracks", "KOR").json()["items"]
                if t["item"]["nation"] == "JPN"]
    assert {e["id"] for e in served.get("api/fused", "KOR").json()["items"]} == {
        e["id"] for e in jpn.get("fused", []) if "KOR" in e["rel_to"]}
    hidden = {e["id"] for e in jpn_only}
    stream = read_sse(served.url + "api/stream", served.tokens["KOR"], None, idle_s=1.5)
    assert stream, "the KOR stream sent nothing"
    shown: dict[str, bool] = {}  # item id → on the KOR user's screen after the stream
    for _, kind, data in stream:
        if kind == "withdraw":
            assert shown.get(data["id"]), f"withdraw of {data['id']}, never shown to KOR"
            shown[data["id"]] = False
            continue
        assert "KOR" in data["rel_to"], data["id"]  # every version KOR gets is for KOR
        shown[data["id"]] = True
    # What is Japan-only now was never sent, or was withdrawn after its last KOR version.
    assert not [i for i in hidden if shown.get(i)]
    # What a partner sent came under agreements, and the dashboard says which.
    usa_tracks = [t for t in served.get("api/tracks", "JPN").json()["items"]
                  if t["item"]["nation"] == "USA"]
    assert usa_tracks and all(t["agreements"] for t in usa_tracks)
    assert served.get("api/tracks", "KOR", ).status_code == 200


def test_the_stream_resumes_from_last_event_id_without_gap_or_duplicate(
        served: Served) -> None:
    whole = read_sse(served.url + "api/stream", served.tokens["USA"], None, idle_s=1.5)
    assert len(whole) > 100
    seqs = [s for s, _, _ in whole]
    assert seqs == sorted(set(seqs))
    first = read_sse(served.url + "api/stream", served.tokens["USA"], 40)
    rest = read_sse(served.url + "api/stream", served.tokens["USA"], None,
                    headers={"Last-Event-ID": str(first[-1][0])}, idle_s=1.5)
    assert [s for s, _, _ in first + rest] == seqs
    after = read_sse(served.url + f"api/stream?after={seqs[10]}", served.tokens["USA"], 5)
    assert [s for s, _, _ in after] == seqs[11:16]


def test_warnings_come_with_valid_cap_xml(served: Served) -> None:
    warnings = served.get("api/warnings", "JPN").json()["items"]
    assert [w["item"]["msg_type"] for w in warnings][:1] == ["Alert"]
    for w in warnings:
        r = served.get(f"api/warnings/{w['item']['identifier']}/cap.xml", "JPN")
        assert r.status_code == 200
        assert validate(r.content) == []
    assert served.get("api/warnings/nope/cap.xml", "JPN").status_code == 404


def test_hostile_callers_are_refused_counted_and_do_not_break_later_requests(
        served: Served) -> None:
    before = served.get("api/status", "JPN").json()["refused_requests"]
    assert httpx.get(served.url + "api/picture").status_code == 401
    assert httpx.get(served.url + "api/picture",
                     headers={"Authorization": "Bearer trilink1.e30.AAAA"}).status_code == 401
    assert httpx.get(served.url + "api/picture",
                     headers={"Authorization": "Basic Zm9vOmJhcg=="}).status_code == 401
    r = httpx.post(served.url + "api/hotline/request", json={"op": "list"},
                   headers={"Authorization": f"Bearer {served.tokens['KOR']}"})
    assert r.status_code == 403  # a viewer of another nation may not act for Japan
    r = httpx.post(served.url + "api/hotline/request", json={"op": "shutdown"},
                   headers={"Authorization": f"Bearer {served.tokens['JPN']}"})
    assert r.status_code == 422
    r = httpx.post(served.url + "api/login", content=b"{" * 100_000,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    r = httpx.post(served.url + "api/login", content=iter([b"{" * 50_000] * 2),
                   headers={"Content-Type": "application/json"})  # chunked: no length
    assert r.status_code == 413
    r = served.get("api/stream", "KOR", headers={"Last-Event-ID": "1; DROP"})
    assert r.status_code == 400
    r = httpx.post(served.url + "api/login", json={"token": served.tokens["KOR"]})
    assert r.status_code == 200 and r.json()["nation"] == "KOR"
    assert "httponly" in r.headers["set-cookie"].lower()
    after = served.get("api/status", "JPN").json()["refused_requests"]
    assert after - before >= 6
    assert served.get("api/fused", "USA").status_code == 200


def test_garbage_on_the_picture_stream_is_dropped_and_the_next_event_shown(
        served: Served) -> None:
    async def inject() -> None:
        import nats

        nc = await nats.connect(served.nats_url)
        js = nc.jetstream()
        await js.publish(picture_subject("JPN"), b"\x00garbage")
        await js.publish(picture_subject("JPN"), b'{"v":1,"kind":"fused","id":"x"}')
        await js.publish(picture_subject("JPN"), fused_event("F9999", 9e3, ["JPN", "KOR"]))
        await nc.close()

    before = served.get("api/status", "JPN").json()
    asyncio.run(inject())
    deadline = time.monotonic() + 10.0
    while served.get("api/status", "JPN").json()["last_seq"] < before["last_seq"] + 3:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    status = served.get("api/status", "JPN").json()
    assert status["rejected_events"] == before["rejected_events"] + 2
    ids = {e["id"] for e in served.get("api/fused", "KOR").json()["items"]}
    assert "fused:F9999" in ids


def test_openapi_documents_the_api(served: Served) -> None:
    doc = httpx.get(served.url + "openapi.json").json()
    for path in ("/api/picture", "/api/tracks", "/api/fused", "/api/warnings",
                 "/api/consultations", "/api/agreements", "/api/stream",
                 "/api/hotline/request"):
        assert path in doc["paths"], path
    assert msgspec.json.decode(httpx.get(served.url + "openapi.json").content)["info"]


def test_publisher_keeps_unvouched_sources_home_and_fused_objects_at_the_intersection(
        ) -> None:
    import datetime as dt

    import numpy as np

    from trilink.node import NationalNode, NodeConfig
    from trilink.sharing.fusion import SourceTrack
    from trilink.sharing.policy import policy_for
    from trilink.web.publish import PicturePublisher, decode_event

    keys, registry = generate_keys(("USA", "JPN", "KOR"), seed=b"web-publisher")
    epoch = dt.datetime(2022, 10, 3, 22, 22, tzinfo=dt.UTC)
    node = NationalNode(NodeConfig("JPN", ("USA", "KOR"), ("JPN", "USA", "KOR")),
                        policy_for(None, epoch.date()), keys["JPN"], registry, epoch)
    x = np.array([-3.0e6, 3.5e6, 4.4e6, 1e3, 2e3, 1e3, 0.0, 0.0, 0.0])
    P = np.diag([1e4] * 3 + [1e2] * 3 + [1.0] * 3)
    # A partner's track in the picture with no envelope the publisher saw: fail closed.
    node.picture.update([SourceTrack("KOR", "T9", 100.0, x, P, 0.0)])
    pub = PicturePublisher("JPN")
    evs = [decode_event(b) for b in pub.events(node, None, 100.0)]
    by_kind = {e.kind: e for e in evs if e.kind in ("track", "fused")}
    assert by_kind["track"].rel_to == ["JPN"] and by_kind["fused"].rel_to == ["JPN"]
    assert [decode_event(b).kind for b in pub.events(node, None, 100.5)] == []  # no news
    # Japan's own track joins it: the object goes only where both sources may.
    node.picture.update([SourceTrack("JPN", "T1", 100.0, x, P, 0.0)])
    evs = [decode_event(b) for b in pub.events(node, None, 101.5)]
    own = [e for e in evs if e.kind == "track" and e.item.nation == "JPN"]
    assert own and own[0].rel_to == ["JPN", "KOR", "USA"]
    fused = [e for e in evs if e.kind == "fused"]
    assert fused and len(fused[-1].item.sources) == 2 and fused[-1].rel_to == ["JPN"]
