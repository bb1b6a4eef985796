"""`trilink keys`, `trilink node` and `trilink hotline` as users call them.

Offline: key generation and statement verification. Live: three `trilink node`
subprocesses on a real nats-server (127.0.0.1, free port), driven by the hotline
commands; the nodes are always terminated (then killed if need be) in teardown.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hotline_net import NATIONS, make_net

from trilink.bus.server import nats_server
from trilink.cli import main
from trilink.hotline.simulated import Delay, ResponseModel
from trilink.hotline.statement import release_document
from trilink.live.keys import load_keys_dir

FAST = ResponseModel(read=Delay(20.0, 0.3), join=Delay(60.0, 0.3), draft=Delay(300.0, 0.3),
                     approve=Delay(200.0, 0.3), conclude=Delay(60.0, 0.3))

# ------------------------------------------------------------------ helpers


@dataclass
class Result:
    code: int
    out: str
    err: str


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    code = main(list(args))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def one_line_error(r: Result, needle: str, code: int = 2) -> None:
    assert r.code == code, r
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    assert needle in lines[0], lines[0]
    assert "Traceback" not in r.err


def poll(check: Callable[[], Any], what: str, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what} (last: {last!r})")


# ------------------------------------------------------------------ keys


def test_keys_new_writes_private_keys_0600_and_a_registry(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    out = tmp_path / "keys"
    r = cli(capsys, "keys", "new", "--nations", "USA,JPN,KOR", "--out", str(out))
    assert r.code == 0, r.err
    assert r.out.split() == [str(out / f) for f in
                             ("USA.key", "JPN.key", "KOR.key", "registry.json")]
    for n in ("USA", "JPN", "KOR"):
        assert stat.S_IMODE(os.stat(out / f"{n}.key").st_mode) == 0o600
        key, registry = load_keys_dir(out, n)
        assert key.nation == n and registry.nations() == ["JPN", "KOR", "USA"]
    keys_before = (out / "JPN.key").read_text()
    one_line_error(cli(capsys, "keys", "new", "--nations", "JPN", "--out", str(out)),
                   "exists; refusing to overwrite")
    assert (out / "JPN.key").read_text() == keys_before
    assert cli(capsys, "keys", "new", "--nations", "JPN,KOR,USA", "--out", str(out),
               "--force").code == 0
    assert (out / "JPN.key").read_text() != keys_before


@pytest.mark.parametrize(("nations", "needle"), [
    ("USA,JP", "--nations: expected comma-separated ISO alpha-3 codes"),
    ("USA,USA", "--nations: a nation is listed twice"),
    ("", "--nations: expected"),
])
def test_keys_new_refuses_bad_nations(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      nations: str, needle: str) -> None:
    one_line_error(cli(capsys, "keys", "new", "--nations", nations, "--out",
                       str(tmp_path / "k")), needle)
    assert not (tmp_path / "k").exists()


# ------------------------------------------------------------------ verify (offline)


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A statement released by three simulated desks, and their key registry."""
    folder = tmp_path_factory.mktemp("released")
    net = make_net(models={n: FAST for n in NATIONS})
    cid = net.open("JPN", ["USA", "KOR"])
    net.run()
    c = net.desk("KOR").consultations[cid]
    (st,) = c.folded.board.statements.values()
    assert st.released is not None
    doc = release_document(c.id, c.parties, st.released, st.released_t_s)
    statement = folder / "statement.json"
    statement.write_text(json.dumps(doc, indent=2))
    registry = folder / "registry.json"
    c.registry.save(registry)
    return statement, registry


def test_verify_a_released_statement(released: tuple[Path, Path],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    statement, registry = released
    r = cli(capsys, "hotline", "verify", str(statement), "--keys", str(registry))
    assert r.code == 0, r.err
    assert r.out.strip().splitlines() == [
        "valid: JPN-1/S1 v1 of JPN-1 signed by JPN, KOR, USA"]


@pytest.mark.parametrize(("change", "needle"), [
    (lambda d: d.update(text=d["text"] + " (edited)"), "does not verify over version 1"),
    (lambda d: d.update(parties=["JPN", "USA"]), "JPN's signature (JPN-"),
    (lambda d: d.update(approvals=d["approvals"][:2]), "no approval or decline from USA"),
    (lambda d: d["approvals"][0].update(signature="00" * 64), "JPN's signature"),
    (lambda d: d.update(version=2), "does not verify over version 2"),
])
def test_verify_refuses_a_tampered_statement(tmp_path: Path, released: tuple[Path, Path],
                                             capsys: pytest.CaptureFixture[str],
                                             change: Callable[[dict[str, Any]], None],
                                             needle: str) -> None:
    statement, registry = released
    doc = json.loads(statement.read_text())
    change(doc)
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(doc))
    one_line_error(cli(capsys, "hotline", "verify", str(bad), "--keys", str(registry)),
                   needle, code=1)


def test_verify_with_other_keys_is_invalid(tmp_path: Path, released: tuple[Path, Path],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    statement, _ = released
    assert cli(capsys, "keys", "new", "--nations", "USA,JPN,KOR", "--out",
               str(tmp_path / "k")).code == 0
    one_line_error(cli(capsys, "hotline", "verify", str(statement), "--keys",
                       str(tmp_path / "k")), "does not verify", code=1)


@pytest.mark.parametrize(("content", "needle"), [
    ('{"format": "trilink-statement/1", "text": ', "not JSON"),
    ("[1, 2]", "format: expected 'trilink-statement/1'"),
    ('{"format": "trilink-statement/1"}', "consultation: expected str"),
    (None, "no such file"),
    (b"\xff\xfe\x00", "unreadable"),
])
def test_verify_garbled_statement_files_get_one_line_and_status_2(
        tmp_path: Path, released: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
        content: str | bytes | None, needle: str) -> None:
    _, registry = released
    bad = tmp_path / "statement.json"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    elif content is not None:
        bad.write_text(content)
    r = cli(capsys, "hotline", "verify", str(bad), "--keys", str(registry))
    one_line_error(r, needle)
    assert str(bad) in r.err


def test_verify_with_a_garbled_registry_gets_one_line_and_status_2(
        tmp_path: Path, released: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    statement, _ = released
    bad = tmp_path / "registry.json"
    bad.write_text('{"format": "trilink-keys/1", "keys": [{"nation": "JPN"}]}')
    one_line_error(cli(capsys, "hotline", "verify", str(statement), "--keys", str(bad)),
                   "--keys: ")
    one_line_error(cli(capsys, "hotline", "verify", str(statement), "--keys",
                       str(tmp_path / "none.json")), "no such file")


# ------------------------------------------------------------------ live nodes


@dataclass
class Cluster:
    url: str
    keys: Path
    procs: dict[str, subprocess.Popen[bytes]]
    logs: dict[str, Path]

    def log(self, nation: str) -> str:
        return self.logs[nation].read_text(errors="replace")


def _start_node(nation: str, url: str, keys: Path, folder: Path
                ) -> tuple[subprocess.Popen[bytes], Path]:
    log = folder / f"{nation}.log"
    with log.open("wb") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "trilink.cli", "node", "--nation", nation, "--nats", url,
             "--keys", str(keys), "--audit", str(folder / f"{nation}.sqlite"),
             "--state", str(folder / f"{nation}.journal"),
             "--ack-deadline-s", "30"], stdout=f, stderr=subprocess.STDOUT)
    return proc, log


@pytest.fixture
def cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Cluster]:
    keys = tmp_path / "keys"
    assert main(["keys", "new", "--nations", "USA,JPN,KOR", "--out", str(keys)]) == 0
    capsys.readouterr()
    with nats_server(tmp_path / "js") as url:
        procs: dict[str, subprocess.Popen[bytes]] = {}
        logs: dict[str, Path] = {}
        try:
            for n in ("USA", "JPN", "KOR"):
                procs[n], logs[n] = _start_node(n, url, keys, tmp_path)
            c = Cluster(url, keys, procs, logs)
            for n in procs:
                def up(n: str = n) -> bool:
                    assert procs[n].poll() is None, c.log(n)
                    code = main(["hotline", "status", "--node", n, "--nats", url])
                    capsys.readouterr()
                    return code == 0
                poll(up, f"node {n} to answer")
            yield c
        finally:
            for p in procs.values():
                if p.poll() is None:
                    p.terminate()
            for p in procs.values():
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def test_a_restarted_node_resumes_its_consultations_from_its_journal(
        cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = cluster.url

    def ok(*args: str) -> str:
        r = cli(capsys, "hotline", *args)
        assert r.code == 0, r.err
        return r.out

    cid = ok("open", "--node", "JPN", "--nats", url, "--parties", "USA,KOR",
             "--topic", "launch").strip()
    poll(lambda: cid in ok("list", "--node", "KOR", "--nats", url), f"{cid} at KOR")
    joined = ok("join", "--node", "KOR", "--nats", url, cid).strip()
    poll(lambda: joined in ok("show", "--node", "JPN", "--nats", url, cid), "KOR's join")
    # JPN's process stops and starts again, on the same journal.
    proc = cluster.procs["JPN"]
    proc.terminate()
    assert proc.wait(timeout=20) == 0
    cluster.procs["JPN"], cluster.logs["JPN"] = _start_node("JPN", url, cluster.keys,
                                                             tmp_path)

    def up() -> bool:
        assert cluster.procs["JPN"].poll() is None, cluster.log("JPN")
        return cli(capsys, "hotline", "status", "--node", "JPN", "--nats", url).code == 0

    poll(up, "JPN to answer again")
    assert "resumed from" in cluster.log("JPN")
    view = ok("show", "--node", "JPN", "--nats", url, cid)
    assert joined in view  # the transcript survived the restart
    sent = ok("send", "--node", "JPN", "--nats", url, cid, "back online").strip()
    assert sent.startswith("JPN-") and sent not in view  # a new id, never reused
    poll(lambda: sent in ok("show", "--node", "KOR", "--nats", url, cid), "the post at KOR")
    # Its counters did too: the next consultation is a new id, not JPN-1 again.
    assert ok("open", "--node", "JPN", "--nats", url, "--parties", "USA",
              "--topic", "another").strip() == "JPN-2"


def test_a_consultation_through_three_running_nodes(cluster: Cluster, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    url = cluster.url

    def run(*args: str) -> Result:
        return cli(capsys, "hotline", *args)

    def ok(*args: str) -> str:
        r = run(*args)
        assert r.code == 0, r.err
        return r.out

    def show(n: str, cid: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(ok("show", "--node", n, "--nats", url, cid, "--json"))
        return data

    cid = ok("open", "--node", "JPN", "--nats", url, "--parties", "USA,KOR",
             "--topic", "ICBM launch toward the Sea of Japan").strip()
    assert cid == "JPN-1"
    for n in ("USA", "KOR"):
        poll(lambda n=n: cid in ok("list", "--node", n, "--nats", url), f"{cid} at {n}")
        assert ok("join", "--node", n, "--nats", url, cid).strip().startswith(f"{n}-")
    said = ok("say", "--node", "KOR", "--nats", url, cid, "ROK JCS confirms the launch",
              "--authority", "nsa").strip()

    def same(posts: int) -> list[Any] | None:
        views = [[(p["msg_id"], p["what"], p["text"]) for p in show(n, cid)["transcript"]]
                 for n in ("USA", "JPN", "KOR")]
        return views[0] if len(views[0]) == posts and views.count(views[0]) == 3 else None

    transcript = poll(lambda: same(4), "identical transcripts")
    assert (said, "say", "ROK JCS confirms the launch") in transcript
    table = ok("show", "--node", "JPN", "--nats", url, cid)
    assert "ROK JCS confirms the launch" in table and "unread" in table
    assert ok("read", "--node", "JPN", "--nats", url, said).strip() == (
        f"{said}: read by defence_ministry")
    assert "already read" in ok("read", "--node", "JPN", "--nats", url, said)

    sid = ok("draft", "--node", "JPN", "--nats", url, cid, "The parties condemn the launch."
             ).strip()
    assert sid == f"{cid}/S1"
    for n in ("USA", "KOR"):
        poll(lambda n=n: show(n, cid)["statements"], f"the draft at {n}")
        ok("approve", "--node", n, "--nats", url, cid, "S1")
    poll(lambda: show("USA", cid)["statements"][0]["released"], "the release at USA")
    file = tmp_path / "statement.json"
    assert ok("statement", "--node", "USA", "--nats", url, cid, str(file)).strip() == (
        f"{file}: {sid} v1 signed by JPN, KOR, USA")
    r = cli(capsys, "hotline", "verify", str(file), "--keys", str(cluster.keys))
    assert r.code == 0 and r.out.startswith(f"valid: {sid} v1 of {cid} signed by JPN, KOR, USA")
    # Prior consent: USA may not authorise combat operations from Japan without JPN.
    ok("propose", "--node", "USA", "--nats", url, cid, "A1", "--tag",
       "combat-operations-from-japan", "--description", "strike from Kadena")
    early = ok("authorise", "--node", "USA", "--nats", url, cid, "A1").strip()
    # An authorisation carries the consents it relies on: the early one stays refused
    # however the consent that follows is ordered.
    poll(lambda: "A1" in {a["action_id"] for a in show("JPN", cid)["actions"]},
         "the proposal at JPN")
    ok("consent", "--node", "JPN", "--nats", url, cid, "A1")
    poll(lambda: show("USA", cid)["actions"][0]["consents"] == ["JPN"], "JPN's consent at USA")
    ok("authorise", "--node", "USA", "--nats", url, cid, "A1")
    (action,) = show("USA", cid)["actions"]
    assert action["authorised"] and action["requires"] == ["JPN"]
    refused = {p["msg_id"]: p["refused"] for p in show("USA", cid)["transcript"]}
    assert "without the signed consent of JPN" in refused[early]
    ok("conclude", "--node", "KOR", "--nats", url, cid, "--reason", "statement released")
    poll(lambda: all(show(n, cid)["state"] == "concluded" for n in ("USA", "JPN", "KOR")),
         "the conclusion everywhere")

    # Bad input: one line, status 2, no traceback.
    one_line_error(run("show", "--node", "KOR", "--nats", url, "JPN-9"),
                   "KOR: consultation: no consultation 'JPN-9' at KOR (held: JPN-1)")
    one_line_error(run("say", "--node", "KOR", "--nats", url, cid, "x", "--authority", "king"),
                   "authority: expected one of joint_staff")
    one_line_error(run("read", "--node", "KOR", "--nats", url, "USA-99"),
                   "msg_id: no post 'USA-99' was delivered to KOR")
    one_line_error(run("statement", "--node", "KOR", "--nats", url, cid, str(file),
                       "--statement-id", "S2"), "no statement 'JPN-1/S2' in JPN-1")
    one_line_error(run("list", "--node", "AUS", "--nats", url), "no node AUS answers")
    one_line_error(run("list", "--node", "CHN", "--nats", url), "CHN (People's Republic")
    one_line_error(run("list", "--node", "Japan", "--nats", url), "--node: expected")
    one_line_error(run("open", "--node", "JPN", "--nats", url, "--parties", "USA,XX",
                       "--topic", "t"), "--parties: expected")
    one_line_error(run("open", "--node", "JPN", "--nats", url, "--parties", "AUS",
                       "--topic", "t"), "AUS not known to this desk")

    # SIGTERM: the nodes stop cleanly and their audit logs are intact.
    for n, p in cluster.procs.items():
        p.terminate()
        assert p.wait(timeout=15) == 0, cluster.log(n)
        assert f"{n}: stopped" in cluster.log(n)
        assert "Traceback" not in cluster.log(n)
        r = cli(capsys, "audit", "verify", str(tmp_path / f"{n}.sqlite"))
        assert r.code == 0 and "intact" in r.out


def test_node_and_hotline_without_a_server_or_keys_get_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "keys"
    assert main(["keys", "new", "--nations", "USA,JPN", "--out", str(keys)]) == 0
    capsys.readouterr()
    dead = "nats://127.0.0.1:1"
    one_line_error(cli(capsys, "hotline", "list", "--node", "JPN", "--nats", dead),
                   f"--nats: cannot reach a NATS server at {dead}")
    one_line_error(cli(capsys, "hotline", "list", "--node", "JPN", "--nats", "http://x"),
                   "--nats: expected a URL like nats://127.0.0.1:4222")
    one_line_error(cli(capsys, "node", "--nation", "JPN", "--keys", str(keys), "--nats", dead),
                   f"--nats: cannot reach a NATS server at {dead}")
    one_line_error(cli(capsys, "node", "--nation", "KOR", "--keys", str(keys)),
                   "--nation: KOR has no key")
    one_line_error(cli(capsys, "node", "--nation", "JPN", "--keys", str(tmp_path / "none")),
                   "--keys: ")
    one_line_error(cli(capsys, "node", "--nation", "JPN", "--keys", str(keys), "--date",
                       "2024-02-30"), "--date: '2024-02-30' is not a date")
    one_line_error(cli(capsys, "node", "--nation", "JPN", "--keys", str(keys), "--regime",
                       "nope"), "--regime: ")
    one_line_error(cli(capsys, "node", "--nation", "JPN", "--keys", str(keys),
                       "--ack-deadline-s", "-1"), "--ack-deadline-s: expected a positive")
    for bad in ("0", "nan", "inf", "86400"):
        one_line_error(cli(capsys, "node", "--nation", "JPN", "--keys", str(keys),
                           "--ack-wait-s", bad), "--ack-wait-s: expected seconds in (0, 3600]")
    (keys / "JPN.key").write_text("not a key\n")
    one_line_error(cli(capsys, "node", "--nation", "JPN", "--keys", str(keys)),
                   f"{keys / 'JPN.key'}: expected 64 hex characters")
    (keys / "JPN.key").write_text((keys / "USA.key").read_text())
    one_line_error(cli(capsys, "node", "--nation", "JPN", "--keys", str(keys)),
                   "is not one of JPN's keys in the registry")
    (keys / "registry.json").write_text("{")
    one_line_error(cli(capsys, "node", "--nation", "JPN", "--keys", str(keys)),
                   f"{keys / 'registry.json'}: not JSON")
