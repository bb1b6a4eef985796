"""The dashboard in a real browser: headless Chromium (Debian's, /usr/bin/chromium)
driven by Playwright, on the 2022-10-04 replay over a real nats-server.

Without Chromium these tests skip, saying why (CI installs it). No timing is asserted:
waits poll for what must appear, and the order of arrivals is checked.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from trilink.bus.server import nats_server
from trilink.live.keys import load_keys_dir, write_keys
from trilink.web.auth import make_token
from trilink.web.publish import ensure_picture_stream
from trilink.web.replay import Replay, Timed, cached_replay, publish
from trilink.web.server import Background, serve_in_background

CHROMIUM = os.environ.get("TRILINK_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SCENARIO = "2022-10-04-irbm-overflight"
RELEASE = {"JPN": ("JPN", "USA")}  # Japan's own tracks: to the United States only
NATIONS = ("USA", "JPN", "KOR")
WAIT_MS = 45_000  # generous: CI machines are slow; nothing here is a timing check
T = TypeVar("T")


def chromium_or_skip() -> str:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = (f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install "
                  "chromium; or set TRILINK_CHROMIUM)")
        print(f"SKIPPED: {reason}", file=sys.stderr)
        pytest.skip(reason)
    return CHROMIUM


class Loop:
    """An asyncio loop on a thread of its own (Playwright's sync API owns this one)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5.0)


@dataclass
class Env:
    url: str
    nats_url: str
    replay: Replay
    keys: Path
    dashboard: Background
    loop: Loop
    js: Any
    published: int = 0

    def token(self, user: str, nation: str, role: str = "viewer",
              authority: str | None = None) -> str:
        key, _ = load_keys_dir(self.keys, "JPN")
        return make_token(key, user, nation, role, time.time(), authority=authority)

    def publish_until(self, t_s: float) -> list[Timed]:
        """Publish Japan's events up to node time ``t_s`` (those not yet published)."""
        events = self.replay.of("JPN")
        todo = [e for e in events[self.published:] if e.t_s <= t_s]
        self.loop.run(publish(self.js, todo))
        self.published += len(todo)
        return todo


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    chromium_or_skip()
    replay = cached_replay(SCENARIO, tmp_path_factory.getbasetemp().parent
                           / "trilink-web-replays", rel_to=RELEASE)
    tmp = tmp_path_factory.mktemp("browser")
    write_keys(NATIONS, tmp / "keys")
    loop = Loop()
    with nats_server(tmp / "js") as url:
        async def connect() -> Any:
            import nats

            nc = await nats.connect(url)
            js = nc.jetstream()
            for n in NATIONS:
                await ensure_picture_stream(js, n)
            return nc, js

        nc, js = loop.run(connect())
        dash = serve_in_background("JPN", url, tmp / "keys")
        try:
            yield Env(dash.url, url, replay, tmp / "keys", dash, loop, js)
        finally:
            dash.stop()
            loop.run(nc.close())
            loop.close()


@pytest.fixture(scope="module")
def browser(env: Env) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_or_skip(), args=ARGS)
        try:
            yield b
        finally:
            b.close()


def log_in(browser: Any, env: Env, token: str) -> Any:
    # bypass_csp: Playwright's own probes evaluate strings, which the page's CSP forbids.
    page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(env.url)
    page.fill("#token", token)
    page.click("#login-go")
    page.wait_for_function("window.trilink && window.trilink.ready === true", timeout=WAIT_MS)
    page.errors = errors
    return page


def caught_up(page: Any, seq: int) -> None:
    page.wait_for_function(f"window.trilink.lastSeq >= {seq}", timeout=WAIT_MS)


def api(env: Env, token: str, path: str) -> Any:
    import httpx

    return httpx.get(env.url + path, headers={"Authorization": f"Bearer {token}"},
                     timeout=10.0).json()


def test_map_shows_the_tracks_and_a_warning_arrives_as_it_is_issued(browser: Any,
                                                                       env: Env) -> None:
    first_warning = env.replay.first_warning_s["JPN"]
    env.publish_until(first_warning - 5.0)
    token = env.token("aiko", "JPN")
    page = log_in(browser, env, token)
    status = api(env, token, "api/status")
    caught_up(page, status["last_seq"])
    page.wait_for_function("document.querySelectorAll('#objects tbody tr').length > 0")
    fused = {e["id"] for e in api(env, token, "api/fused")["items"]}
    shown = set(page.eval_on_selector_all("#objects tbody tr", "rs => rs.map(r => r.dataset.id)"))
    assert fused and shown == fused
    # Every fused object and source track is drawn on the map (an SVG path each, at least).
    drawn = page.eval_on_selector_all("#map path.leaflet-interactive", "ps => ps.length")
    assert drawn >= len(fused)
    assert page.locator("#warnings li").count() == 0
    before = page.evaluate("window.trilink.arrivals.length")

    issued = env.publish_until(first_warning + 2.0)
    alert = next(json.loads(e.data) for e in issued if json.loads(e.data)["kind"] == "warning")
    page.wait_for_selector(f"#warnings li[data-id='{alert['id']}']", timeout=WAIT_MS)
    # Simulated warnings are CAP status Exercise: the page says EXERCISE, not in colour only.
    assert page.inner_text("#exercise-banner:not([hidden])").startswith("EXERCISE")
    arrivals = page.evaluate("window.trilink.arrivals")[before:]
    kinds = [a["kind"] for a in arrivals]
    assert "warning" in kinds
    seqs = [a["seq"] for a in arrivals]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))  # in order, once each
    page.click(f"#warnings li[data-id='{alert['id']}']")
    assert "<cap:alert" in page.inner_text("#cap") or "alert" in page.inner_text("#cap")
    assert alert["item"]["identifier"] in page.inner_text("#cap")
    # The warning's area is on the map.
    assert page.eval_on_selector_all("#map path.leaflet-interactive", "ps => ps.length") > drawn
    assert page.errors == []
    page.close()


def test_a_korean_login_does_not_show_a_japan_only_item(browser: Any, env: Env) -> None:
    env.publish_until(env.replay.first_warning_s["JPN"] + 60.0)
    jpn = env.token("aiko", "JPN")
    kor = env.token("minji", "KOR")
    everything = api(env, jpn, "api/picture")
    jpn_only = {e["id"] for kind in everything["items"].values() for e in kind
                if "KOR" not in e["rel_to"]}
    assert any(i.startswith("fused:") for i in jpn_only)  # not vacuous
    page = log_in(browser, env, kor)
    caught_up(page, everything["last_seq"])
    held = set(page.evaluate("[...window.trilink.items.keys()]"))
    assert held and not held & jpn_only
    shown = set(page.eval_on_selector_all("#objects tbody tr", "rs => rs.map(r => r.dataset.id)"))
    assert not shown & jpn_only
    assert shown == {e["id"] for e in api(env, kor, "api/fused")["items"]}
    assert "Hotline actions need an operator token" in page.inner_text("#hotline-panel")
    page.close()


def test_the_hotline_panel_opens_a_consultation_and_signs_a_statement(browser: Any,
                                                                      env: Env) -> None:
    from trilink.hotline.desk import DeskConfig
    from trilink.live import LiveNode, live_national_node, request
    from trilink.sharing.policy import policy_for

    async def start() -> dict[str, LiveNode]:
        nodes = {}
        for n in NATIONS:
            key, registry = load_keys_dir(env.keys, n)
            node = live_national_node(n, key, registry, policy_for(), NATIONS, None,
                                      DeskConfig(ack_deadline_s=30.0))
            nodes[n] = LiveNode(node, env.nats_url, ack_wait_s=5.0)
            await nodes[n].start()
        return nodes

    nodes = env.loop.run(start())
    try:
        page = log_in(browser, env, env.token("aiko", "JPN", "operator", "foreign_ministry"))
        page.wait_for_selector("#hotline:not([hidden])", timeout=WAIT_MS)
        page.click("#open-form summary")
        page.fill("#open-parties", "USA,KOR")
        page.fill("#open-topic", "Launch over Tohoku")
        page.click("#open-go")
        page.wait_for_function("document.querySelector('#consultations').value !== ''",
                               timeout=WAIT_MS)
        cid = page.eval_on_selector("#consultations", "s => s.value")
        # The United States joins and drafts (its operator, on its own node's control API);
        # Japan's operator approves — signs — the US draft on the panel.
        async def us_drafts() -> str:
            for _ in range(400):
                if cid in nodes["USA"].node.hotline.consultations:
                    break
                await asyncio.sleep(0.05)
            for req in ({"op": "join", "consultation": cid},
                        {"op": "draft", "consultation": cid,
                         "text": "The three governments condemn the launch."}):
                reply = await request(env.nats_url, "USA", req)
                assert reply["ok"], reply
            for _ in range(400):
                st = nodes["JPN"].node.hotline.consultations[cid].folded.board.statements
                # The draft and the drafter's approval are two messages: wait for both.
                if st and "USA" in next(iter(st.values())).approvals:
                    return next(iter(st))
                await asyncio.sleep(0.05)
            raise AssertionError("the US draft or its approval never reached Japan's node")

        sid = env.loop.run(us_drafts())
        page.click("#refresh")
        approve = f"#statements li[data-statement='{sid}'] button.approve"
        page.wait_for_selector(approve, timeout=WAIT_MS)
        page.click(approve)
        page.wait_for_function(
            "[...document.querySelectorAll('#statements li .status')]"
            ".some(s => s.textContent.trim().endsWith('awaiting approval of KOR'))",
            timeout=WAIT_MS)
        shown = env.loop.run(request(env.nats_url, "JPN", {"op": "show", "consultation": cid}))
        assert shown["ok"] and shown["topic"] == "Launch over Tohoku"
        (statement,) = shown["statements"]
        # Signed by Japan's node, as the operator's authority, beside the drafter's.
        assert statement["approved_by"] == ["JPN", "USA"]
        approvals = [p for p in shown["transcript"] if p["what"] == "approve"]
        assert ("JPN", "foreign_ministry") in [(p["origin"], p["authority"]) for p in approvals]
        # A draft of Japan's own is signed by drafting it.
        page.fill("#draft-text", "Japan will keep its people informed.")
        page.click("#draft-go")
        page.wait_for_function(
            "document.querySelectorAll('#statements li').length === 2", timeout=WAIT_MS)
        assert page.errors == []
        page.close()
    finally:
        async def stop() -> None:
            for live in nodes.values():
                await live.stop()

        env.loop.run(stop())
