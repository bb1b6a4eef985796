"""The dashboard's timeline: the alliance record, the exercise programme's schedule and
the node's picture (launches, warnings) on one time axis, behind the dashboard's login.

A real nats-server (127.0.0.1, free port) carries a few hand-made picture events of
Japan's node — one object released to all, one warning to Japan only, one warning whose
headline is hostile markup — read by a real dashboard (`serve_in_background`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from trilink.bus.server import nats_server
from trilink.live.keys import load_keys_dir, write_keys
from trilink.web.auth import make_token
from trilink.web.publish import (
    SCHEMA_VERSION,
    Ellipse,
    FusedItem,
    PictureEvent,
    SourceRef,
    WarningItem,
    encode_event,
    ensure_picture_stream,
    picture_subject,
)
from trilink.web.server import serve_in_background

NATIONS = ("USA", "JPN", "KOR")
EPOCH_UTC = "2024-08-06T20:00:00.000Z"  # node second 0
HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=1</script>'


def _utc(t_s: float) -> str:
    return f"2024-08-06T20:{int(t_s // 60):02d}:{t_s % 60:06.3f}Z"


def _events() -> list[bytes]:
    fused = FusedItem("F1", 120.0, 21.0, -161.0, 9e4, 2e3, 250.0, Ellipse(2e3, 1e3, 0.0), 0.0,
                      [SourceRef("JPN/T1", "JPN", 120.0)], None, 15.0,
                      exercise="Pacific Dragon 2024 ballistic targets, PMRF")

    def warning(ident: str, t_s: float, headline: str) -> WarningItem:
        return WarningItem(ident, "Alert", "take_shelter", "F1", t_s, headline, "", [],
                           "<alert/>", status="Exercise", exercise="Pacific Dragon")

    everyone = ["JPN", "KOR", "USA"]
    return [encode_event(PictureEvent(SCHEMA_VERSION, "fused", "fused:F1", "JPN", 120.0,
                                      _utc(120.0), everyone, [], fused)),
            encode_event(PictureEvent(SCHEMA_VERSION, "warning", "warning:JPN-00001", "JPN",
                                      50.0, _utc(50.0), ["JPN"], [],
                                      warning("JPN-00001", 50.0, "EXERCISE — take shelter"))),
            encode_event(PictureEvent(SCHEMA_VERSION, "warning", "warning:JPN-00002", "JPN",
                                      70.0, _utc(70.0), everyone, [],
                                      warning("JPN-00002", 70.0, HOSTILE)))]


@dataclass
class Dash:
    url: str
    tokens: dict[str, str]

    def get(self, path: str, who: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.get(self.url + path, headers=headers, timeout=30.0)


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dash]:
    tmp = tmp_path_factory.mktemp("timeline")
    write_keys(NATIONS, tmp / "keys")
    key, _ = load_keys_dir(tmp / "keys", "JPN")
    now = time.time()
    tokens = {"JPN": make_token(key, "aiko", "JPN", "viewer", now),
              "KOR": make_token(key, "minji", "KOR", "viewer", now)}

    async def load(url: str) -> None:
        import nats

        nc = await nats.connect(url)
        js = nc.jetstream()
        for n in NATIONS:
            await ensure_picture_stream(js, n)
        for data in _events():
            await js.publish(picture_subject("JPN"), data)
        await nc.close()

    with nats_server(tmp / "js") as url:
        asyncio.run(load(url))
        bg = serve_in_background("JPN", url, tmp / "keys")
        try:
            d = Dash(bg.url, tokens)
            deadline = time.monotonic() + 30.0
            while d.get("api/status", "JPN").json()["last_seq"] < 3:
                assert time.monotonic() < deadline, "the dashboard never read the stream"
                time.sleep(0.05)
            yield d
        finally:
            bg.stop()


def _foreign_key() -> Any:
    from trilink.sharing.envelope import generate_keys

    keys, _ = generate_keys(NATIONS, seed=b"not-this-dashboards-keys")
    return keys["JPN"]  # a JPN key, but not the one this dashboard's registry holds


def test_the_timeline_needs_the_dashboards_login(dash: Dash) -> None:
    assert dash.get("api/timeline").status_code == 401
    forged = make_token(_foreign_key(), "eve", "KOR", "viewer", time.time())
    r = httpx.get(dash.url + "api/timeline", headers={"Authorization": f"Bearer {forged}"},
                  timeout=10.0)
    assert r.status_code == 401  # signed with a key the registry does not hold
    page = dash.get("timeline")
    assert page.status_code == 200 and "JPN" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    # Nothing fetched from elsewhere: every script and stylesheet is the server's own.
    assert 'src="/static/app/timeline.js"' in page.text
    assert "http:" not in page.text and "https:" not in page.text and '="//' not in page.text
    assert dash.get("static/app/timeline.js").status_code == 200


def test_the_record_the_programme_and_the_picture_share_one_axis(dash: Dash) -> None:
    from trilink.alliance.timeline import mark_json, timeline_marks

    doc = dash.get("api/timeline", "JPN").json()
    assert doc["lanes"] == ["agreements", "meetings", "frameworks", "exercises", "launches",
                            "picture"]
    record = doc["record"]
    # The record is trilink.alliance.timeline's own data, not a second copy.
    assert [m for m in record if not m["planned"]] == [mark_json(m) for m in timeline_marks()]
    assert any("GSOMIA" in m["title"] and m["lane"] == "agreements" for m in record)
    assert any(m["lane"] == "exercises" and "Freedom Edge" in m["title"] and not m["planned"]
               for m in record)
    assert any(m["lane"] == "launches" for m in record)
    planned = [m for m in record if m["planned"]]
    assert doc["plan"] == "programme-2026-2028" and doc["plan_error"] is None
    assert planned and all(m["lane"] == "exercises" for m in planned)
    assert all("2026-01-01" <= m["start_utc"][:10] <= "2028-12-31" for m in planned)
    # The picture: the object from when it entered it (node second 15) to its latest
    # update, and the warnings at their issue, in order.
    pic = {m["id"]: m for m in doc["picture"]}
    assert set(pic) == {"fused:F1", "warning:JPN-00001", "warning:JPN-00002"}
    f1 = pic["fused:F1"]
    assert (f1["kind"], f1["start_utc"], f1["end_utc"]) == (
        "launch", "2024-08-06T20:00:15.000Z", _utc(120.0))
    assert f1["exercise"] is True and "EXERCISE" in f1["title"]
    assert pic["warning:JPN-00001"]["start_utc"] == _utc(50.0)
    assert "Alert JPN-00001 (take_shelter, Exercise)" in pic["warning:JPN-00001"]["title"]
    assert [m["id"] for m in doc["picture"]] == ["fused:F1", "warning:JPN-00001",
                                                 "warning:JPN-00002"]  # by start


def test_a_liaison_sees_the_record_but_only_what_is_released_to_them(dash: Dash) -> None:
    jpn, kor = (dash.get("api/timeline", n).json() for n in ("JPN", "KOR"))
    assert kor["viewer"] == "KOR" and kor["record"] == jpn["record"]
    assert {m["id"] for m in kor["picture"]} == {"fused:F1", "warning:JPN-00002"}


def test_the_page_draws_every_mark_as_text_in_chromium(dash: Dash) -> None:
    chromium = os.environ.get("TRILINK_CHROMIUM", "/usr/bin/chromium")
    if not (Path(chromium).exists() or shutil.which(chromium)):
        pytest.skip(f"needs Chromium at {chromium} (or set TRILINK_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    from trilink.web.server import COOKIE

    doc = dash.get("api/timeline", "KOR").json()
    host = dash.url.split("//")[1].split(":")[0]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            ctx = b.new_context(bypass_csp=True, viewport={"width": 1600, "height": 900})
            ctx.add_cookies([{"name": COOKIE, "value": dash.tokens["KOR"], "url": dash.url}])
            page = ctx.new_page()
            errors: list[str] = []
            elsewhere: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: None if f"//{host}:" in r.url
                    else elsewhere.append(r.url))
            page.goto(dash.url + "timeline")
            page.wait_for_function("window.trilinkTimeline && window.trilinkTimeline.ready",
                                   timeout=45_000)
            in_view = page.eval_on_selector_all("#tl-chart svg .mark", "ms => ms.length")
            assert in_view == len(doc["record"]) + len(doc["picture"])
            page.click("#zoom-picture")
            tips = page.eval_on_selector_all("#tl-chart svg .mark title",
                                             "ts => ts.map(t => t.textContent)")
            # The picture's hours fall in the record's Pacific Dragon 2024: on one axis.
            assert len(tips) == 3 and any("Pacific Dragon 2024" in t and "PMRF" in t
                                          for t in tips)
            assert any(t.endswith(HOSTILE + " [EXERCISE]") for t in tips)  # as text
            assert page.evaluate("window.pwned") is None
            assert page.locator("#tl-chart img, #tl-chart script").count() == 0
            rows = page.eval_on_selector_all("#tl-picture tbody tr", "rs => rs.length")
            assert rows == 2
            assert errors == [] and elsewhere == []
        finally:
            b.close()
