"""`trilink serve` and `trilink keys token` as a user runs them (real nats-server)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from trilink.bus.server import nats_server

TRILINK = [sys.executable, "-m", "trilink.cli"]


def test_bad_flags_get_one_line_and_status_2(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from trilink.cli import main

    keys = str(tmp_path / "keys")
    assert main(["keys", "new", "--nations", "USA,JPN,KOR", "--out", keys]) == 0
    cases = [
        (["serve", "--nation", "JPN", "--keys", str(tmp_path / "nowhere")], "registry.json"),
        (["serve", "--nation", "JAPAN", "--keys", keys], "--nation"),
        (["serve", "--nation", "AUS", "--keys", keys], "--nation"),
        (["serve", "--nation", "JPN", "--keys", keys, "--nats", "http://x"], "--nats"),
        (["serve", "--nation", "JPN", "--keys", keys, "--port", "70000"], "--port"),
        (["keys", "token", "--nation", "JPN", "--keys", keys, "--user", "kim",
          "--user-nation", "KOR", "--role", "operator"], "cannot operate"),
        (["keys", "token", "--nation", "JPN", "--keys", keys, "--user", "a b"], "--user"),
        (["keys", "token", "--nation", "JPN", "--keys", keys, "--user", "a",
          "--authority", "king"], "--authority"),
    ]
    capsys.readouterr()
    for args, what in cases:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and what in lines[0] and "Traceback" not in err, (args, err)


def test_serve_prints_its_url_and_lets_a_token_in(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from trilink.cli import main

    keys = str(tmp_path / "keys")
    assert main(["keys", "new", "--nations", "USA,JPN,KOR", "--out", keys]) == 0
    capsys.readouterr()
    assert main(["keys", "token", "--nation", "JPN", "--keys", keys, "--user", "aiko",
                 "--role", "operator", "--authority", "defence_ministry"]) == 0
    token = capsys.readouterr().out.strip()
    with nats_server(tmp_path / "js") as url:
        proc = subprocess.Popen([*TRILINK, "serve", "--nation", "JPN", "--keys", "keys",
                                 "--nats", url, "--port", "0"], cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert "dashboard at http://127.0.0.1:" in line, line
            base = line.split("dashboard at ")[1].split()[0]
            me = httpx.get(base + "api/me", headers={"Authorization": f"Bearer {token}"},
                           timeout=10.0)
            assert me.status_code == 200 and me.json()["may_operate"] is True
            assert httpx.get(base + "api/me", timeout=10.0).status_code == 401
            page = httpx.get(base, timeout=10.0)
            assert page.status_code == 200 and "/static/leaflet/leaflet.js" in page.text
            assert "cdn" not in page.text.lower()
            assert httpx.get(base + "static/leaflet/leaflet.js", timeout=10.0).status_code == 200
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        assert proc.returncode in (0, 130, -signal.SIGINT)
        assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
