"""Dashboard latency: a fused-picture change → its arrival in a browser's event stream.

The 2022-11-02 day (23 missiles) is simulated once (the sim federation, every node step
converted with ``picture_events``); the busiest window of Japan's, the United States'
and Korea's picture events is then published on their JetStream streams on the wall
clock at ``--speed`` (1 = real time), to three dashboards (``trilink serve`` processes),
each with one headless
Chromium logged in as its own nation. For every event: publish time (wall clock, just
before ``js.publish``) to arrival in the page's EventSource handler (``Date.now()``, the
same clock on this machine). Peers measured in the same run, on the same events:

- a raw NATS subscriber on the picture subjects (the transport alone);
- an SSE client in Python (httpx) on each dashboard (the server without the browser).

Two browser figures: arrival in the page's stream handler, and the end of the batch that
put the change on the map (the page applies events once per animation frame).

Also reported: the cost of ``picture_events`` per node step during the simulation.

    python bench/bench_dashboard.py [--speed 1] [--window-s 120] [--json]
    python bench/bench_dashboard.py --screenshots docs/img   # the docs' screenshots

Results go to bench/results/dashboard.json. Timings vary between runs on a shared
machine; ratios (browser / raw NATS) are steadier.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from trilink.bus.server import nats_server
from trilink.live.keys import load_keys_dir, write_keys
from trilink.web.auth import make_token
from trilink.web.publish import ensure_picture_stream, picture_subject
from trilink.web.replay import Replay, Timed, cached_replay
from trilink.web.server import serve_in_background

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
NATIONS = ("USA", "JPN", "KOR")
RESULTS = Path(__file__).parent / "results"
T = TypeVar("T")


class Loop:
    """An asyncio loop on its own thread (Playwright's sync API owns the main one)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 600.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def start(self, coro: Coroutine[Any, Any, T]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)


def busiest_window(events: list[Timed], window_s: float) -> list[Timed]:
    times = np.array([e.t_s for e in events])
    ends = np.searchsorted(times, times + window_s)
    i = int(np.argmax(ends - np.arange(len(times))))
    return events[i:int(ends[i])]


def pct(values: list[float]) -> dict[str, float]:
    a = np.asarray(values)
    return {"n": len(values), "p50_ms": round(float(np.percentile(a, 50)), 2),
            "p99_ms": round(float(np.percentile(a, 99)), 2),
            "max_ms": round(float(a.max()), 2)}


def launch(p: Any) -> Any:
    return p.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def log_in(browser: Any, url: str, token: str) -> Any:
    page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    page.goto(url)
    page.fill("#token", token)
    page.click("#login-go")
    page.wait_for_function("window.trilink && window.trilink.ready === true", timeout=60_000)
    return page


def tokens(keys: Path, nation: str, role: str = "viewer") -> str:
    key, _ = load_keys_dir(keys, nation)
    return make_token(key, f"bench-{nation.lower()}", nation, role, time.time(),
                      authority="defence_ministry" if role == "operator" else None)


async def connect_js(url: str) -> tuple[Any, Any]:
    import nats

    nc = await nats.connect(url)
    js = nc.jetstream()
    for n in NATIONS:
        await ensure_picture_stream(js, n)
    return nc, js


def latency(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    cache = Path(tempfile.gettempdir()) / "trilink-bench-replays"
    t0 = time.perf_counter()
    replay = cached_replay("2022-11-02-day", cache)
    sim_s = time.perf_counter() - t0
    window = busiest_window(replay.events, args.window_s)
    span = window[-1].t_s - window[0].t_s
    loop = Loop()
    tmp = Path(tempfile.mkdtemp(prefix="trilink-bench-dash-"))
    write_keys(NATIONS, tmp / "keys")
    out: dict[str, Any] = {}
    with nats_server(tmp / "js") as url:
        nc, js = loop.run(connect_js(url))
        # Everything before the window first: the dashboards start on a full picture.
        before = [e for e in replay.events if e.t_s < window[0].t_s]
        loop.run(_publish(js, before, None, {}))
        # Each dashboard in a process of its own, as `trilink serve` runs in production.
        procs = {n: _serve_process(n, url, tmp / "keys") for n in NATIONS}
        dashes = {n: _Url(u) for n, (_, u) in procs.items()}
        sent: dict[tuple[str, int], float] = {}
        raw: dict[tuple[str, int], float] = {}
        raw_subs = loop.run(_raw_subscriber(nc, raw))
        sse_proc = _sse_process([(n, dashes[n].url, tokens(tmp / "keys", n))
                                 for n in NATIONS])
        with sync_playwright() as p:
            browsers = [launch(p) for _ in NATIONS]
            pages = {n: log_in(b, dashes[n].url, tokens(tmp / "keys", n))
                     for n, b in zip(NATIONS, browsers, strict=True)}
            time.sleep(2.0)  # every client connected and caught up
            marks = {n: pages[n].evaluate("window.trilink.arrivals.length") for n in NATIONS}
            painted0 = {n: pages[n].evaluate("window.trilink.painted.length") for n in NATIONS}
            wall0 = time.perf_counter()
            loop.run(_publish(js, window, args.speed, sent))
            wall = time.perf_counter() - wall0
            last = {n: max(s for (m, s) in sent if m == n) for n in NATIONS}
            for n in NATIONS:
                pages[n].wait_for_function(f"window.trilink.lastSeq >= {last[n]}",
                                           timeout=120_000)
            time.sleep(1.0)
            browser_lat: list[float] = []
            painted_lat: list[float] = []
            per_nation: dict[str, dict[str, float]] = {}
            for n in NATIONS:
                arrivals = pages[n].evaluate("window.trilink.arrivals")[marks[n]:]
                lat = [a["at_ms"] - sent[(n, a["seq"])] for a in arrivals
                       if (n, a["seq"]) in sent]
                per_nation[n] = pct(lat)
                browser_lat += lat
                painted = pages[n].evaluate("window.trilink.painted")[painted0[n]:]
                painted_lat += [a["at_ms"] - sent[(n, a["seq"])] for a in painted
                                if (n, a["seq"]) in sent]
            for b in browsers:
                b.close()
        sse = _sse_results(sse_proc)
        for sub in raw_subs:
            loop.run(sub.unsubscribe())
        for proc, _ in procs.values():
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=15)
        loop.run(nc.close())
    raw_lat = [raw[k] - sent[k] for k in sent if k in raw]
    sse_lat = [sse[k] - sent[k] for k in sent if k in sse]
    costs_ms = [c * 1e3 for c in replay.step_costs_s] or [float("nan")]
    out = {
        "scenario": "2022-11-02-day", "missiles": 23, "browsers": 3,
        "window_node_s": round(span, 1), "speed": args.speed, "events": len(window),
        "events_per_s": round(len(window) / wall, 1), "wall_s": round(wall, 1),
        "browser": pct(browser_lat), "browser_by_nation": per_nation,
        "browser_on_map": pct(painted_lat),
        "sse_client_httpx": pct(sse_lat), "raw_nats_subscriber": pct(raw_lat),
        "ratio_browser_to_raw_p50": round(statistics.median(browser_lat)
                                          / max(statistics.median(raw_lat), 1e-3), 1),
        "picture_events_per_step_ms": {"p50": round(float(np.percentile(costs_ms, 50)), 3),
                                       "p99": round(float(np.percentile(costs_ms, 99)), 3),
                                       "steps": len(replay.step_costs_s)},
        "simulation_s": round(sim_s, 1),
        "machine": f"{platform.machine()}, {platform.python_version()}, shared 2-core host",
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    return out


class _Url:
    def __init__(self, url: str) -> None:
        self.url = url


def _serve_process(nation: str, url: str, keys: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "trilink.cli", "serve", "--nation", nation,
                             "--keys", str(keys), "--nats", url, "--port", "0"],
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "dashboard at " not in line:
        proc.kill()
        raise RuntimeError(f"trilink serve {nation} did not start: {line!r}")
    return proc, line.split("dashboard at ")[1].split()[0]


async def _publish(js: Any, events: list[Timed], speed: float | None,
                   sent: dict[tuple[str, int], float]) -> None:
    if not events:
        return
    start_node, start_wall = events[0].t_s, time.monotonic()
    for e in events:
        if speed is not None:
            delay = (e.t_s - start_node) / speed - (time.monotonic() - start_wall)
            if delay > 0:
                await asyncio.sleep(delay)
        t = time.time() * 1e3
        ack = await js.publish(picture_subject(e.nation), e.data)
        sent[(e.nation, int(ack.seq))] = t


async def _raw_subscriber(nc: Any, got: dict[tuple[str, int], float]) -> list[Any]:
    from nats.js.api import DeliverPolicy

    js = nc.jetstream()

    async def on_msg(msg: Any) -> None:
        got[(msg.subject.rsplit(".", 1)[1], int(msg.metadata.sequence.stream))] = \
            time.time() * 1e3

    return [await js.subscribe(picture_subject(n), stream=f"PICTURE_{n}",
                               ordered_consumer=True, deliver_policy=DeliverPolicy.NEW,
                               cb=on_msg) for n in NATIONS]


# The httpx SSE clients run in a process of their own (not competing with the browsers'
# driver and the publisher for this process's interpreter lock): one asyncio task per
# dashboard; "nation seq at_ms" per event on stdout when stdin closes.
SSE_CLIENTS = """
import asyncio, sys, time, httpx
async def one(nation, url, token, out):
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=None)) as c:
        async with c.stream("GET", url + "api/stream",
                            headers={"Authorization": "Bearer " + token}) as r:
            async for line in r.aiter_lines():
                if line.startswith("id:"):
                    out.append((nation, int(line[3:].strip()), time.time() * 1e3))
async def main():
    out, tasks = [], []
    for arg in sys.argv[1:]:
        nation, url, token = arg.split("|")
        tasks.append(asyncio.create_task(one(nation, url, token, out)))
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for t in tasks:
        t.cancel()
    for n, s, t in out:
        print(n, s, t)
asyncio.run(main())
"""


def _sse_process(targets: list[tuple[str, str, str]]) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", SSE_CLIENTS,
                             *("|".join(t) for t in targets)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    return proc


def _sse_results(proc: subprocess.Popen[str]) -> dict[tuple[str, int], float]:
    out, _ = proc.communicate(timeout=60)
    got: dict[tuple[str, int], float] = {}
    for line in out.splitlines():
        n, seq, at = line.split()
        got[(n, int(seq))] = float(at)
    return got


def screenshots(folder: Path) -> list[Path]:
    """Each nation's page at three moments of the 2022-10-04 replay."""
    from playwright.sync_api import sync_playwright

    replay: Replay = cached_replay("2022-10-04-irbm-overflight",
                                   Path(tempfile.gettempdir()) / "trilink-bench-replays")
    moments = {"launch": 100.0, "warning": replay.first_warning_s.get("JPN", 130.0) + 75.0,
               "after": 900.0}
    loop = Loop()
    tmp = Path(tempfile.mkdtemp(prefix="trilink-shots-"))
    write_keys(NATIONS, tmp / "keys")
    written = []
    folder.mkdir(parents=True, exist_ok=True)
    with nats_server(tmp / "js") as url:
        nc, js = loop.run(connect_js(url))
        dashes = {n: serve_in_background(n, url, tmp / "keys") for n in NATIONS}
        done = 0
        with sync_playwright() as p:
            b = launch(p)
            pages = {n: log_in(b, dashes[n].url, tokens(tmp / "keys", n)) for n in NATIONS}
            for name, t_s in moments.items():
                todo = [e for e in replay.events[done:] if e.t_s <= t_s]
                sent: dict[tuple[str, int], float] = {}
                loop.run(_publish(js, todo, None, sent))
                done += len(todo)
                for n in NATIONS:
                    last = max([s for (m, s) in sent if m == n], default=0)
                    pages[n].wait_for_function(f"window.trilink.lastSeq >= {last}",
                                               timeout=60_000)
                time.sleep(1.0)
                for n in NATIONS:
                    path = folder / f"dashboard_{n.lower()}_{name}.png"
                    pages[n].screenshot(path=str(path))
                    written.append(path)
            b.close()
        for d in dashes.values():
            d.stop()
        loop.run(nc.close())
    return written


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--window-s", type=float, default=120.0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--screenshots", type=Path, default=None)
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"bench_dashboard: needs Chromium at {CHROMIUM}", file=sys.stderr)
        return 2
    if args.screenshots is not None:
        for path in screenshots(args.screenshots):
            print(path)
        return 0
    res = latency(args)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dashboard.json").write_text(json.dumps(res, indent=2) + "\n")
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        b, s, r = res["browser"], res["sse_client_httpx"], res["raw_nats_subscriber"]
        print(f"{res['events']} events in {res['wall_s']} s ({res['events_per_s']}/s), "
              f"23 missiles, 3 browsers")
        m = res["browser_on_map"]
        print(f"browser  p50 {b['p50_ms']} ms  p99 {b['p99_ms']} ms (in the stream)")
        print(f"on map   p50 {m['p50_ms']} ms  p99 {m['p99_ms']} ms (applied to the map)")
        print(f"httpx    p50 {s['p50_ms']} ms  p99 {s['p99_ms']} ms")
        print(f"raw NATS p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms")
        c = res["picture_events_per_step_ms"]
        print(f"picture_events per node step: p50 {c['p50']} ms, p99 {c['p99']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
