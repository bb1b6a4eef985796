"""One live replay with dashboards, shared by the parity and ``--serve`` tests.

Three node processes take about 13 s to start: one ``run_live`` of the parity scenario
(x20) with ``serve=True`` serves both tests, and the hotline test (test_live_hotline.py):
the scenario is the shipped one with quicker simulated authorities (:data:`QUICK_HOTLINE`,
seconds where the defaults take hours), so the nodes' people join, draft, approve and
release a joint statement before the replay's end. The callbacks only record what they see;
the tests assert on it (an assertion raised inside ``run_live`` would fail both).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import socket
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from trilink.cli import main
from trilink.live.launch import Dashboard, run_live
from trilink.sim.scenario import shipped_scenario_path

SCENARIO = "2022-11-02-srbm-south-of-nll"
SPEED = 20.0
# The scenario's simulated authorities, quick (median s, sigma): a joint statement some
# 190 s after the launch, inside the 426 s replay, instead of after two hours.
QUICK_HOTLINE = {"response": {name: {"median_s": m, "sigma": 0.3} for name, m in (
    ("read", 5.0), ("join", 20.0), ("draft", 30.0), ("approve", 20.0), ("conclude", 10.0))}}
PRINTED = re.compile(r"^([A-Z]{3}): dashboard at (http://\S+/) \(log in with a token from "
                     r"`(trilink keys token [^`]+)`\)$")


def quick_hotline_scenario(path: Path) -> Path:
    """The parity scenario with :data:`QUICK_HOTLINE`, written to ``path``."""
    shipped = shipped_scenario_path(SCENARIO)
    assert shipped is not None
    data = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    data["hotline"] = QUICK_HOTLINE
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class LiveRun:
    out: Path
    serve_port: int
    scenario: Path
    summary: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    dashboards: list[str] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    seen: dict[str, tuple[str, str]] = field(default_factory=dict)  # printed url, command
    at_start: dict[str, dict[str, Any]] = field(default_factory=dict)
    kor_token_on: dict[str, int] = field(default_factory=dict)
    at_end: dict[str, list[str]] = field(default_factory=dict)
    summary_written_before_stop: bool = False
    hotline_after_stop: int | None = None
    web_threads_after: list[str] = field(default_factory=list)


def three_free_ports() -> int:
    """A BASE with BASE..BASE+2 free on 127.0.0.1 (at the time of asking)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        if base + 2 > 65535:
            continue
        with contextlib.ExitStack() as stack:
            try:
                for p in (base + 1, base + 2):
                    t = stack.enter_context(socket.socket())
                    t.bind(("127.0.0.1", p))
            except OSError:
                continue
        return base
    raise RuntimeError("no three consecutive free ports")


def mint(command: str, user: str) -> str:
    """Run the printed token command (as a user would), with NAME filled in."""
    args = shlex.split(command.replace("NAME", user))
    assert args[:3] == ["trilink", "keys", "token"]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(args[1:]) == 0
    return buf.getvalue().strip()


def get(url: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def web_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("trilink-web-")]


def replay_with_dashboards(out: Path) -> LiveRun:
    out.mkdir(parents=True, exist_ok=True)
    scenario = quick_hotline_scenario(out.parent / "scenario.yaml")
    run = LiveRun(out, three_free_ports(), scenario)

    def on_serve(dashboards: list[Dashboard]) -> None:
        run.dashboards = [d.nation for d in dashboards]
        run.urls = {d.nation: d.url for d in dashboards}
        for line in run.lines:
            if m := PRINTED.match(line):
                run.seen[m[1]] = (m[2], m[3])
        for nation, (url, command) in run.seen.items():
            run.at_start[nation] = {
                "openapi": get(url + "openapi.json"),
                "tracks_without_token": get(url + "api/tracks")[0],
                "tracks": get(url + "api/tracks", mint(command, "aiko"))}
        if {"JPN", "KOR"} <= set(run.seen):
            kor = mint(run.seen["KOR"][1], "minji")
            run.kor_token_on = {n: get(run.seen[n][0] + "api/tracks", kor)[0]
                                for n in ("JPN", "KOR")}

    def hold(summary: dict[str, Any]) -> None:
        run.summary_written_before_stop = (out / "summary.json").is_file()
        for n, (url, command) in run.seen.items():
            status, tracks = get(url + "api/tracks", mint(command, "end"))
            if status == 200:
                run.at_end[n] = [item["id"].removeprefix("track:") for item in tracks["items"]]
        if "JPN" in run.seen:
            url, command = run.seen["JPN"]
            req = urllib.request.Request(
                url + "api/hotline/request", data=b'{"op": "list"}', method="POST",
                headers={"Content-Type": "application/json", "Authorization":
                         f"Bearer {mint(command + ' --role operator', 'aiko')}"})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    run.hotline_after_stop = r.status
            except urllib.error.HTTPError as exc:
                run.hotline_after_stop = exc.code

    run.summary = run_live(str(scenario), out, speed=SPEED, log=run.lines.append, serve=True,
                           serve_port=run.serve_port, on_serve=on_serve, hold=hold)
    run.web_threads_after = web_threads()
    return run
