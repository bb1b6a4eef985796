"""`trilink live --serve`: a dashboard per nation over a live replay's picture streams.

The replay is the parity test's (tests/live_run.py: one run serves both), with
three dashboards on BASE, BASE+1, BASE+2. Once they listen, before the replay: each
printed URL serves /openapi.json and, with a token minted by the printed `trilink keys
token` command, /api/tracks; a KOR token on the JPN dashboard is refused. At the end
(``hold``): each dashboard shows the partner tracks its node's record says it received,
read from the PICTURE_<NATION> stream the live node published, and (the nodes stopped) a
hotline request is answered 502. Afterwards no dashboard thread is left and the ports
are free again. The bad-flag tests need no replay.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from live_run import SCENARIO, LiveRun

from trilink.cli import main


def check_dashboards(live_run: LiveRun) -> None:
    """The dashboards of a replay run with ``serve=True`` (called by the parity test,
    which runs the one replay)."""
    out, seen, base = live_run.out, live_run.seen, live_run.serve_port
    assert live_run.dashboards == list(seen) == ["USA", "JPN", "KOR"]
    for i, (nation, (url, command)) in enumerate(seen.items()):
        assert url == live_run.urls[nation] == f"http://127.0.0.1:{base + i}/"
        assert f"--keys {out / 'keys'}" in command
        status, api = live_run.at_start[nation]["openapi"]
        assert status == 200 and "/api/tracks" in api["paths"]
        assert live_run.at_start[nation]["tracks_without_token"] == 401  # no token, no picture
        status, tracks = live_run.at_start[nation]["tracks"]
        assert status == 200 and isinstance(tracks["items"], list)
    assert live_run.kor_token_on["JPN"] in (401, 403)
    assert live_run.kor_token_on["KOR"] == 200
    assert live_run.summary_written_before_stop
    # The nodes have stopped: the picture stays, the hotline answers "no node".
    assert live_run.hotline_after_stop == 502
    end = live_run.at_end
    assert set(end) == {"USA", "JPN", "KOR"}
    assert sum(len(ids) for ids in end.values()) > 0, "the live nodes published no tracks"
    for n, ids in end.items():
        rec = json.loads((out / "nodes" / f"{n}.node.json").read_text())
        own = {f"{n}/{u[1]}" for u in rec["updates"]}
        assert {k for k in ids if not k.startswith(f"{n}/")} == set(rec["first_seen"]), n
        assert {k for k in ids if k.startswith(f"{n}/")} <= own, n
    assert live_run.web_threads_after == []
    for port in range(base, base + 3):  # stopped: the ports can be taken again
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))


@pytest.mark.parametrize(("port", "needle"), [("70000", "got 70000"), ("-1", "got -1"),
                                              ("65534", "1-65533")])
def test_bad_serve_port_is_one_line(tmp_path: Path, port: str, needle: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "live"
    assert main(["live", SCENARIO, "--out", str(out), "--serve-port", port]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("trilink: error: --serve-port:"), err
    assert needle in err[0]
    assert not out.exists()


def test_serve_port_in_use_is_one_line_before_anything_starts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "live"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = int(busy.getsockname()[1])  # an ephemeral port: taken + 2 ≤ 65535
        assert main(["live", SCENARIO, "--out", str(out), "--serve-port", str(taken)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert f"--serve-port: cannot listen on 127.0.0.1:{taken}:" in err[0]
    assert "Traceback" not in err[0]
    assert not out.exists()  # refused before keys, nodes or the nats-server
