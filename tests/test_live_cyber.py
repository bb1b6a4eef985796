"""Three live nodes over a real nats-server exchange the shipped STIX corpus under two
regimes, releasability checked at both ends.

KOR's operator publishes the corpus bundle to its own live node (the control API's
``cyber_submit``, once through ``trilink cyber publish``). Under
``cyber-trilateral-2024`` both partners get it; under ``cyber-bilateral-2023`` (no
Japan-ROK channel, and the USA does not pass KOR's items on) only the USA does, and
nothing for Japan is ever on the wire (sender side). A KOR-signed envelope forged past
KOR's node to Japan — the regime's agreements refuse it, or its REL TO list leaves Japan
out — is refused and audited by Japan's node (receiver side); so is a TLP:RED object
inside an envelope the agreements allow (the plug-in's own check).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import nats
import pytest
from cyber_helpers import indicator

from trilink.bus.server import nats_server
from trilink.cli import main
from trilink.cyber.corpus import shipped_corpus
from trilink.cyber.plugin import CyberPlugin, mounted
from trilink.cyber.regimes import cyber_policy
from trilink.cyber.tlp import Tlp
from trilink.live.client import request
from trilink.live.node import LiveNode, live_cyber_node
from trilink.sharing.audit import AuditLog, AuditRecord, Direction
from trilink.sharing.envelope import Kind, Signer, encode, generate_keys

NATIONS = ("USA", "JPN", "KOR")
KEYS, REGISTRY = generate_keys(NATIONS, seed=b"live-cyber-test")
CYBER = str(Kind.CYBER_INDICATOR)


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return shipped_corpus().bundle()


def shared_ids(bundle: dict[str, Any]) -> set[str]:
    """What a partner stores of the bundle: every object (marking definitions travel with
    the objects that reference them, and are not stored as objects)."""
    return {o["id"] for o in bundle["objects"] if o["type"] != "marking-definition"}


def plugin(live: LiveNode) -> CyberPlugin:
    p = mounted(live.node.plugins)
    assert p is not None
    return p


def held(live: LiveNode, originator: str = "KOR") -> set[str]:
    return {i.id for i in plugin(live).book.store.items if i.originator == originator}


def records(live: LiveNode) -> list[AuditRecord]:
    audit = live.node.audit
    assert audit is not None
    return audit.records()


async def until(what: str, cond: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what}")
        await asyncio.sleep(0.02)


def forged(to: str, objects: Iterable[dict[str, Any]], rel_to: tuple[str, ...]) -> tuple[
        int, bytes]:
    """A KOR-signed cyber envelope that never went through KOR's node (its key misused)."""
    payload = json.dumps({"type": "bundle", "id": "bundle--5e6f1a2b-3c4d-4e5f-8a9b-"
                          "0c1d2e3f4a5b", "objects": list(objects)}).encode()
    signer = Signer(KEYS["KOR"], first_seq=time.time_ns() // 1000 + 10**12)
    env = signer.seal(kind=Kind.CYBER_INDICATOR, originator="KOR", rel_to=rel_to,
                      recipient=to, payload=payload, created_ns=time.time_ns())
    return env.seq, encode(env)


async def inject(url: str, sender: str, to: str, data: bytes, msg_id: str) -> None:
    """Put bytes on the wire as if ``sender``'s node had sent them to ``to``."""
    nc = await nats.connect(url)
    try:
        await nc.jetstream().publish(f"trilink.{sender}.{to}.p0", data,
                                     stream=f"OUTBOX_{sender}",
                                     headers={"Nats-Msg-Id": msg_id})
    finally:
        await nc.close()


async def on_wire(url: str, sender: str, to: str) -> int:
    """Messages ``sender``'s outbox stream ever held for ``to``."""
    nc = await nats.connect(url)
    try:
        info = await nc.jetstream().stream_info(f"OUTBOX_{sender}",
                                                subjects_filter=f"trilink.{sender}.{to}.>")
        return sum((info.state.subjects or {}).values())
    finally:
        await nc.close()


def refusal(live: LiveNode, seq: int) -> AuditRecord | None:
    return next((r for r in records(live) if r.direction == Direction.REJECTED
                 and r.seq == seq), None)


async def federation(url: str, regime: str, tmp: Path) -> dict[str, LiveNode]:
    policy = cyber_policy(regime)
    nodes = {n: LiveNode(live_cyber_node(n, KEYS[n], REGISTRY, policy, NATIONS,
                                         AuditLog(tmp / f"{n}.sqlite", durable=False)),
                         url, ack_wait_s=5.0) for n in NATIONS}
    for live in nodes.values():
        await live.start()
    return nodes


async def stop(nodes: dict[str, LiveNode]) -> None:
    for live in nodes.values():
        await asyncio.wait_for(live.stop(), 30.0)  # a hang is a failure, not a stall
        assert live.node.audit is not None
        live.node.audit.close()


def test_trilateral_2024_every_partner_gets_the_bundle_and_checks_it(
        tmp_path: Path, bundle: dict[str, Any]) -> None:
    want = shared_ids(bundle)

    async def go(url: str) -> None:
        nodes = await federation(url, "cyber-trilateral-2024", tmp_path)
        try:
            reply = await request(url, "KOR", {"op": "cyber_submit", "bundle": bundle},
                                  timeout_s=20.0)
            assert reply["ok"], reply
            assert reply["sent"] == {"JPN": len(want), "USA": len(want)}
            assert reply["withheld"] == {} and reply["refused"] == []
            await until("USA and JPN hold the bundle",
                        lambda: all(held(nodes[n]) >= want for n in ("USA", "JPN")))
            for n in ("USA", "JPN"):  # exactly the bundle (and KOR's identity object)
                assert {i for i in held(nodes[n]) if not i.startswith("identity--")} == want
            assert held(nodes["KOR"]) == want
            # receiver side: a KOR-signed envelope whose REL TO leaves Japan out
            seq, data = forged("JPN", bundle["objects"], ("KOR", "USA"))
            await inject(url, "KOR", "JPN", data, f"KOR:{seq}")
            await until("JPN refuses it", lambda: refusal(nodes["JPN"], seq) is not None)
            rec = refusal(nodes["JPN"], seq)
            assert rec is not None and rec.reason == "not_releasable" and rec.kind == CYBER
            assert "excludes JPN" in rec.detail
            # allowed by the agreements, but a TLP:RED object: the plug-in refuses it alone
            red, green = indicator(1, "KOR", Tlp.RED), indicator(2, "KOR", Tlp.GREEN)
            seq, data = forged("JPN", [red, green], NATIONS)
            await inject(url, "KOR", "JPN", data, f"KOR:{seq}")
            await until("JPN stores the GREEN one", lambda: green["id"] in held(nodes["JPN"]))
            assert red["id"] not in held(nodes["JPN"])
            assert any(r.direction == Direction.REJECTED and r.kind == CYBER
                       and "TLP:RED" in r.detail and red["id"] in r.detail
                       for r in records(nodes["JPN"]))
        finally:
            await stop(nodes)

    with nats_server(tmp_path / "js") as url:
        asyncio.run(asyncio.wait_for(go(url), 120.0))


def test_bilateral_2023_japan_is_released_nothing_at_either_end(
        tmp_path: Path, bundle: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    want = shared_ids(bundle)
    src = tmp_path / "corpus.json"
    src.write_text(json.dumps(bundle), encoding="utf-8")

    async def go(url: str) -> None:
        nodes = await federation(url, "cyber-bilateral-2023", tmp_path)
        try:
            # KOR's operator publishes with the command line, to its own node
            code = await asyncio.to_thread(main, ["cyber", "publish", str(src), "--nation",
                                                  "KOR", "--nats", url, "--json"])
            assert code == 0
            report = json.loads(capsys.readouterr().out)
            assert report["sent"] == {"USA": len(want)}
            assert list(report["withheld"]) == ["JPN"]
            assert "lets KOR send this cyber indicator to JPN" in report["withheld"]["JPN"][0]
            await until("USA holds the bundle", lambda: held(nodes["USA"]) >= want)
            # sender side: nothing for Japan was sealed, audited as sent, or put on the wire
            assert not any(r.direction == Direction.SENT and r.peer == "JPN" and r.kind == CYBER
                           for r in records(nodes["KOR"]))
            assert await on_wire(url, "KOR", "USA") >= 1  # (the count sees what was sent)
            assert await on_wire(url, "KOR", "JPN") == 0
            assert await on_wire(url, "USA", "JPN") == 0  # the USA does not pass it on
            assert held(nodes["JPN"]) == set()
            # receiver side: the same bundle forged to Japan, REL TO Japan included
            seq, data = forged("JPN", bundle["objects"], NATIONS)
            await inject(url, "KOR", "JPN", data, f"KOR:{seq}")
            await until("JPN refuses it", lambda: refusal(nodes["JPN"], seq) is not None)
            rec = refusal(nodes["JPN"], seq)
            assert rec is not None and rec.reason == "policy" and rec.kind == CYBER
            assert "2023-06-01" in rec.detail
            assert held(nodes["JPN"]) == set() and plugin(nodes["JPN"]).book.store.items == []
            assert not any(r.direction == Direction.RECEIVED and r.kind == CYBER
                           for r in records(nodes["JPN"]))
            status = await request(url, "JPN", {"op": "cyber_status"})
            assert status["ok"] and status["objects"] == 0
        finally:
            await stop(nodes)

    with nats_server(tmp_path / "js") as url:
        asyncio.run(asyncio.wait_for(go(url), 120.0))


def test_a_node_without_the_cyber_kind_says_so(tmp_path: Path) -> None:
    from trilink.live.node import live_national_node
    from trilink.sharing.policy import policy_for

    live = LiveNode(live_national_node("JPN", KEYS["JPN"], REGISTRY, policy_for(), NATIONS),
                    "")
    reply = asyncio.run(live.control({"op": "cyber_submit", "objects": [indicator(1)]}))
    assert not reply["ok"] and "does not carry the cyber kind" in reply["error"]
    cyber = LiveNode(live_cyber_node("JPN", KEYS["JPN"], REGISTRY, policy_for(), NATIONS), "")
    bads: list[tuple[dict[str, Any], str]] = [
                    ({"objects": []}, "expected 1 to"),
                    ({"bundle": {"type": "nope"}}, "expected a STIX bundle"),
                    ({"objects": [indicator(1)], "rel_to": "JPN,XXX"}, "rel_to"),
                    ({"objects": [indicator(1)], "rel_to": ["AUS"]}, "not in this federation")]
    for bad, why in bads:
        reply = asyncio.run(cyber.control({"op": "cyber_submit", **bad}))
        assert not reply["ok"] and why in reply["error"], (bad, reply)
    # disconnected: stored, and the envelopes wait for the connection
    reply = asyncio.run(cyber.control({"op": "cyber_submit", "objects": [indicator(1)],
                                       "rel_to": ["USA"]}))
    assert reply["ok"] and reply["sent"] == {"USA": 1} and reply["queued"] == 1
    assert reply["withheld"]["KOR"][0].startswith("1 object(s): ")


def test_publish_says_in_one_line_what_is_wrong(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "one.json"
    src.write_text(json.dumps({"type": "bundle", "id": "bundle--5e6f1a2b-3c4d-4e5f-8a9b-"
                               "0c1d2e3f4a5b", "objects": [indicator(1, "KOR")]}))
    with nats_server(tmp_path / "js") as url:  # a server, but no KOR node on it
        assert main(["cyber", "publish", str(src), "--nation", "KOR", "--nats", url,
                     "--timeout-s", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--nation: no node KOR answers" in err[0], err
    assert main(["cyber", "publish", str(tmp_path / "missing.json"), "--nation", "KOR"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_trilink_node_cyber_reads_cyber_regimes() -> None:
    import datetime as dt

    from trilink.cli.node import _cyber_policy

    policy = _cyber_policy("cyber-bilateral-2023", None)
    assert policy.name == "cyber-bilateral-2023" and policy.as_of is not None
    assert policy.as_of.date() == dt.date(2023, 6, 1)
    later = _cyber_policy("cyber-bilateral-2023", dt.date(2024, 6, 1))
    assert later.as_of is not None and later.as_of.date() == dt.date(2024, 6, 1)
    assert _cyber_policy("trilateral-realtime", None).name == "trilateral-realtime"
