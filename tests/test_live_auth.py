"""Authenticated control, attacked over a real nats-server: the attacker's tests first.

An anonymous client, a KOR operator acting for JPN, an operator beyond its role or its
authority, a stale or replayed request, a forged signature and a request nested 5,000
levels deep are each refused with a reply (never silence) and audited; then a properly
signed request works.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import IO, Any

import nats
import pytest

from trilink.bus.server import nats_server
from trilink.cli import main
from trilink.hotline.desk import DeskConfig
from trilink.live import LiveNode, live_national_node
from trilink.live.auth import (
    ControlGuard,
    OperatorFileError,
    OperatorRegistry,
    new_operator,
    sign_request,
)
from trilink.sharing.audit import AuditLog, verify_audit_file
from trilink.sharing.envelope import generate_keys
from trilink.sharing.policy import policy_for

NATIONS = ("USA", "JPN", "KOR")
JPN_JS, JPN_JS_KEY = new_operator("jpn-js-1", "JPN", "joint_staff", ["read", "open", "post"])
JPN_RO, JPN_RO_KEY = new_operator("jpn-watch", "JPN", "joint_staff", ["read"])
KOR_JS, KOR_JS_KEY = new_operator("kor-js-1", "KOR", "joint_staff", ["read", "open", "post"])
REGISTRY = OperatorRegistry([JPN_JS, JPN_RO, KOR_JS])
OPEN = {"op": "open", "parties": "USA,KOR", "topic": "launch"}


async def ask(url: str, nation: str, data: bytes) -> dict[str, Any]:
    nc = await nats.connect(url)
    try:
        msg = await nc.request(f"trilink.ctl.{nation}", data, timeout=10)
    finally:
        await nc.close()
    reply = json.loads(msg.data)
    assert isinstance(reply, dict)
    return reply


def signed(req: dict[str, Any], who: str, key: Any, skew_s: float = 0.0) -> bytes:
    return json.dumps(sign_request(req, who, key, time.time_ns() + int(skew_s * 1e9))).encode()


def test_the_control_api_refuses_attackers_and_serves_its_operator(tmp_path: Path) -> None:
    keys, registry = generate_keys(NATIONS, seed=b"auth-test")
    audits = {n: AuditLog(tmp_path / f"{n}.sqlite", durable=False) for n in NATIONS}
    nodes = {n: LiveNode(live_national_node(n, keys[n], registry, policy_for(), NATIONS,
                                            audits[n], DeskConfig(ack_deadline_s=5.0)),
                         "", ack_wait_s=5.0, control_guard=ControlGuard(n, REGISTRY))
             for n in NATIONS}

    async def go(url: str) -> dict[str, dict[str, Any]]:
        for live in nodes.values():
            live.url = url
            await live.start()
        replies = {
            "anonymous": await ask(url, "JPN", json.dumps(OPEN).encode()),
            "kor_for_jpn": await ask(url, "JPN", signed(OPEN, "kor-js-1", KOR_JS_KEY)),
            "beyond_role": await ask(url, "JPN", signed(OPEN, "jpn-watch", JPN_RO_KEY)),
            "other_authority": await ask(url, "JPN", signed(
                {**OPEN, "authority": "leader_office"}, "jpn-js-1", JPN_JS_KEY)),
            "stale": await ask(url, "JPN", signed(OPEN, "jpn-js-1", JPN_JS_KEY, -300.0)),
            "future": await ask(url, "JPN", signed(OPEN, "jpn-js-1", JPN_JS_KEY, 300.0)),
            "nested": await ask(url, "JPN", b"[" * 5000 + b"]" * 5000),
            "nested_object": await ask(url, "JPN", b'{"op":' * 5000 + b"1" + b"}" * 5000),
            "huge": await ask(url, "JPN", b'{"op": "' + b"x" * 200_000 + b'"}'),
        }
        forged = sign_request(OPEN, "jpn-js-1", JPN_JS_KEY, time.time_ns())
        forged["topic"] = "something else"  # changed after signing
        replies["forged"] = await ask(url, "JPN", json.dumps(forged).encode())
        # KOR's own operator on its own node, unsigned fields included in the signature.
        once = signed(OPEN, "jpn-js-1", JPN_JS_KEY)
        replies["good"] = await ask(url, "JPN", once)
        replies["replayed"] = await ask(url, "JPN", once)
        replies["status"] = await ask(url, "JPN", signed({"op": "status"}, "jpn-watch",
                                                         JPN_RO_KEY))
        replies["kor_own"] = await ask(url, "KOR", signed({"op": "list"}, "kor-js-1",
                                                          KOR_JS_KEY))
        for live in nodes.values():
            await live.stop()
        return replies

    with nats_server(tmp_path / "js") as url:
        replies = asyncio.run(go(url))
    for a in audits.values():
        a.close()
    expect = {
        "anonymous": "signed requests only", "kor_for_jpn": "operator of KOR, not of JPN",
        "beyond_role": "may not 'open'", "other_authority": "acts for joint_staff",
        "stale": "from this node's clock", "future": "from this node's clock",
        "nested": "nested too deep", "nested_object": "nested too deep",
        "huge": "bytes", "forged": "not jpn-js-1's signature", "replayed": "already used",
    }
    for case, needle in expect.items():
        assert replies[case]["ok"] is False, (case, replies[case])
        assert needle in replies[case]["error"], (case, replies[case])
    assert replies["good"]["ok"] is True and replies["good"]["consultation"] == "JPN-1"
    assert replies["status"]["ok"] is True and replies["kor_own"]["ok"] is True
    held = nodes["JPN"].node.hotline.consultations
    assert list(held) == ["JPN-1"]  # nothing an attacker sent opened anything
    assert held["JPN-1"].opener == "JPN"
    assert nodes["JPN"].control_refused == len(expect)
    import sqlite3

    with sqlite3.connect(tmp_path / "JPN.sqlite") as db:
        rows = db.execute("SELECT peer, detail FROM audit WHERE kind='control' AND "
                          "direction='rejected'").fetchall()
    assert len(rows) == len(expect)
    assert ("anonymous", "auth: this node answers signed requests only") in rows
    assert any(peer == "operator:kor-js-1" for peer, _ in rows)
    assert verify_audit_file(tmp_path / "JPN.sqlite").ok


def test_publishing_cyber_objects_is_a_role_of_its_own() -> None:
    """A watch officer may read what the node holds, not publish STIX as the nation's."""
    analyst, _ = new_operator("jpn-cyber-1", "JPN", "joint_staff", ["read", "cyber"])
    assert JPN_RO.may("cyber_status") and not JPN_RO.may("cyber_submit")
    assert not JPN_JS.may("cyber_submit")  # opening and posting on the hotline is not it
    assert analyst.may("cyber_submit") and analyst.may("cyber_status")


def test_operator_files_are_checked_field_by_field() -> None:
    text = REGISTRY.to_json()
    assert OperatorRegistry.from_json(text).get("jpn-js-1") == JPN_JS
    bad = json.loads(text)
    bad["operators"][0]["roles"] = ["root"]
    with pytest.raises(OperatorFileError, match=r"operators\[0\]: roles"):
        OperatorRegistry.from_json(json.dumps(bad))
    bad["operators"][0]["roles"] = ["read"]
    bad["operators"][0]["public_key"] = "00"
    with pytest.raises(OperatorFileError, match="public_key"):
        OperatorRegistry.from_json(json.dumps(bad))
    with pytest.raises(OperatorFileError, match="not JSON"):
        OperatorRegistry.from_json("[" * 5000)
    with pytest.raises(OperatorFileError, match="twice"):
        OperatorRegistry([JPN_JS, JPN_JS])


def test_the_command_line_signs_with_an_operator_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`trilink keys operator`, `trilink node --operators`, and `trilink hotline` with
    TRILINK_OPERATOR_KEY: signed requests work, unsigned ones are refused.

    The node is a process of its own; the other commands run in this one (`main`, as
    tests/test_cli_hotline.py does): a Python start costs ~2 s of CPU per command."""
    import subprocess
    import sys

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        said = capsys.readouterr()
        return code, said.out, said.err

    monkeypatch.delenv("TRILINK_OPERATOR_KEY", raising=False)
    assert run("keys", "new", "--nations", "USA,JPN,KOR", "--out", str(tmp_path / "k")
               )[0] == 0
    code, _, err = run("keys", "operator", "--id", "jpn-js-1", "--nation", "JPN",
                       "--authority", "joint_staff", "--roles", "read,open", "--out",
                       str(tmp_path / "ops"))
    assert code == 0, err
    assert oct((tmp_path / "ops" / "jpn-js-1.operator").stat().st_mode & 0o777) == "0o600"
    code, _, err = run("keys", "operator", "--id", "x", "--nation", "JPN", "--authority",
                       "king", "--roles", "read", "--out", str(tmp_path / "ops"))
    assert code == 2 and err.count("\n") == 1 and "king" in err
    with nats_server(tmp_path / "js") as url, (tmp_path / "node.err").open("w+") as errors:
        node = subprocess.Popen([sys.executable, "-m", "trilink.cli", "node", "--nation",
                                 "JPN", "--keys", str(tmp_path / "k"), "--nats", url,
                                 "--operators", str(tmp_path / "ops" / "operators.json")],
                                stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            # Up once it says so: its control subscription is made before that line (a
            # poll with `hotline status` would compete with the node's own start). Killed
            # if it stays silent: the loop then ends.
            assert node.stdout is not None
            watchdog = threading.Timer(60.0, node.kill)
            watchdog.start()
            said: list[str] = []
            for line in node.stdout:
                said.append(line)
                if "node running" in line:
                    break
            watchdog.cancel()
            assert said and "node running" in said[-1], "".join(said) + _read(errors)
            code, _, err = run("hotline", "status", "--node", "JPN", "--nats", url)
            assert code == 2 and "signed requests only" in err
            assert err.count("\n") == 1
            monkeypatch.setenv("TRILINK_OPERATOR_KEY",
                               str(tmp_path / "ops" / "jpn-js-1.operator"))
            code, _, err = run("hotline", "status", "--node", "JPN", "--nats", url)
            assert code == 0, err
            code, _, err = run("hotline", "open", "--node", "JPN", "--nats", url,
                               "--parties", "USA", "--topic", "t", "--authority",
                               "leader_office")
            assert code == 2 and "acts for joint_staff" in err
        finally:
            node.terminate()
            rest, _ = node.communicate(timeout=20)
        out, err = "".join(said) + rest, _read(errors)
        assert node.returncode == 0, err
        assert "control request refused" in out and "private_key" not in out + err


def _read(f: IO[str]) -> str:
    f.seek(0)
    return f.read()
