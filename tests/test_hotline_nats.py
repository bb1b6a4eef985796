"""The hotline between live nodes over a real nats-server (127.0.0.1, free port).

Three :class:`trilink.live.LiveNode` s on the wall clock, driven through their control
API over NATS request/reply as the command line drives them. Short deadlines keep each
test to seconds; every wait polls a condition with a timeout (never a bare sleep).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from trilink.bus.server import nats_server
from trilink.hotline.desk import DeskConfig
from trilink.hotline.statement import check_release, parse_release_document
from trilink.live import LiveNode, live_national_node, request
from trilink.sharing.audit import AuditLog, verify_audit_file
from trilink.sharing.envelope import generate_keys
from trilink.sharing.policy import policy_for

NATIONS = ("USA", "JPN", "KOR")
TIMEOUT_S = 30.0


def make_nodes(url: str, config: DeskConfig, audit_dir: Path | None = None
               ) -> dict[str, LiveNode]:
    keys, registry = generate_keys(NATIONS, seed=b"live-test")
    policy = policy_for()  # the record, read at the real date (as `trilink node` does)
    nodes = {}
    for n in NATIONS:
        audit = AuditLog(audit_dir / f"{n}.sqlite", durable=False) if audit_dir else None
        node = live_national_node(n, keys[n], registry, policy, NATIONS, audit, config)
        nodes[n] = LiveNode(node, url, ack_wait_s=5.0)
    return nodes


async def until(check: Callable[[], Awaitable[Any]], what: str,
                timeout_s: float = TIMEOUT_S) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    last: Any = None
    while loop.time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what} (last: {last!r})")


async def ctl(url: str, nation: str, **req: Any) -> dict[str, Any]:
    reply = await request(url, nation, req)
    assert reply["ok"], reply
    return reply


def rows(show: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(p["msg_id"], p["origin"], p["authority"], p["what"], p["text"], p["refused"])
            for p in show["transcript"]]


async def transcripts(url: str, cid: str) -> dict[str, list[tuple[Any, ...]]]:
    return {n: rows(await ctl(url, n, op="show", consultation=cid)) for n in NATIONS}


async def held_by_all(url: str, cid: str) -> bool:
    for n in NATIONS:
        listed = (await ctl(url, n, op="list"))["consultations"]
        if cid not in {c["consultation"] for c in listed}:
            return False
    return True


async def converged(url: str, cid: str, posts: int) -> dict[str, list[tuple[Any, ...]]] | None:
    seen = await transcripts(url, cid)
    first = seen["JPN"]
    if len(first) >= posts and all(seen[n] == first for n in NATIONS):
        return seen
    return None


async def read_all(url: str, nation: str, cid: str) -> None:
    show = await ctl(url, nation, op="show", consultation=cid)
    unread = [p["msg_id"] for p in show["transcript"] if "unread" in p]
    if unread:
        await ctl(url, nation, op="read", msg_ids=unread)


def test_three_live_nodes_open_join_release_and_conclude_identically(tmp_path: Path) -> None:
    async def scenario(url: str) -> None:
        nodes = make_nodes(url, DeskConfig(ack_deadline_s=5.0))
        for live in nodes.values():
            await live.start()
        try:
            opened = await ctl(url, "JPN", op="open", parties=["USA", "KOR"],
                               topic="ICBM launch toward the Sea of Japan")
            cid = opened["consultation"]
            assert opened["msg_ids"] == ["JPN-1"]
            await until(lambda: held_by_all(url, cid), "the opening to reach USA and KOR")
            for n in ("USA", "KOR"):
                await ctl(url, n, op="join", consultation=cid)
            await until(lambda: converged(url, cid, 3), "three identical transcripts")
            for n in NATIONS:
                await read_all(url, n, cid)
            sid = (await ctl(url, "JPN", op="draft", consultation=cid,
                             text="The three parties condemn the launch."))["statement_id"]

            async def drafted_everywhere() -> bool:
                for n in ("USA", "KOR"):
                    show = await ctl(url, n, op="show", consultation=cid)
                    if sid not in {s["statement_id"] for s in show["statements"]}:
                        return False
                return True

            await until(drafted_everywhere, "the draft to reach USA and KOR")
            for n in ("USA", "KOR"):
                await ctl(url, n, op="approve", consultation=cid, statement_id=sid)

            async def released() -> bool:
                show = await ctl(url, "KOR", op="show", consultation=cid)
                return any(s["released"] for s in show["statements"])

            await until(released, "the statement's release to reach KOR")
            doc = (await ctl(url, "USA", op="statement", consultation=cid))["document"]
            cons, parties, release = parse_release_document(json.dumps(doc))
            assert check_release(cons, parties, release, nodes["USA"].node.hotline.registry) == ""
            assert [a["nation"] for a in doc["approvals"]] == ["JPN", "KOR", "USA"]
            await ctl(url, "USA", op="conclude", consultation=cid, reason="done")

            async def concluded() -> dict[str, list[tuple[Any, ...]]] | None:
                states = {(await ctl(url, n, op="show", consultation=cid))["state"]
                          for n in NATIONS}
                return await converged(url, cid, 3) if states == {"concluded"} else None

            seen = await until(concluded, "all three to hold the concluded consultation")
            whats = [r[3] for r in seen["JPN"]]
            assert whats[0] == "open" and whats.count("join") == 2 and whats[-1] == "conclude"
            assert "release" in whats
            assert all(r[5] is None for r in seen["JPN"])  # nothing refused
            for live in nodes.values():
                assert list(live.rejected) == [], live.nation
        finally:
            for live in nodes.values():
                await live.stop()

    with nats_server(tmp_path / "js") as url:
        asyncio.run(scenario(url))


def test_unread_posts_climb_the_ladder_over_nats_and_the_audit_log_records_it(
        tmp_path: Path) -> None:
    async def scenario(url: str) -> dict[str, LiveNode]:
        nodes = make_nodes(url, DeskConfig(ack_deadline_s=1.0), audit_dir=tmp_path)
        for live in nodes.values():
            await live.start()
        try:
            cid = (await ctl(url, "JPN", op="open", parties=["USA", "KOR"], topic="launch",
                             authority="defence_ministry"))["consultation"]

            async def climbed() -> list[str] | None:
                # USA's authorities read what they get; KOR's never do.
                if cid in nodes["USA"].node.hotline.consultations:
                    await read_all(url, "USA", cid)
                steps = (await ctl(url, "JPN", op="show", consultation=cid))["escalations"]
                done = any("raised to KOR/leader_office" in s for s in steps)
                return steps if done else None

            steps = await until(climbed, "JPN to raise its post to KOR's leader's office")
            assert any("raised to KOR/nsa" in s for s in steps)

            async def on_the_leaders_desk() -> bool:
                kor = await ctl(url, "KOR", op="show", consultation=cid)
                return bool(kor["transcript"][0].get("unread") == "leader_office")

            await until(on_the_leaders_desk, "KOR's node to put the post before its leader")
            usa = await ctl(url, "USA", op="show", consultation=cid)
            assert "read_by" in usa["transcript"][0]
        finally:
            for live in nodes.values():
                await live.stop()
        return nodes

    with nats_server(tmp_path / "js") as url:
        nodes = asyncio.run(scenario(url))
    audit = nodes["JPN"].node.audit
    assert audit is not None
    audit.close()
    assert verify_audit_file(tmp_path / "JPN.sqlite").ok
    with AuditLog(tmp_path / "JPN.sqlite") as log:
        escalated = [r.detail for r in log.records() if r.direction == "escalated"]
    assert any("raised to KOR/nsa" in d for d in escalated)
    assert any("raised to KOR/leader_office" in d for d in escalated)


def test_a_node_cut_off_and_restarted_converges_without_loss_or_duplicates(
        tmp_path: Path) -> None:
    async def scenario(url: str) -> None:
        nodes = make_nodes(url, DeskConfig(ack_deadline_s=1.0))
        for live in nodes.values():
            await live.start()
        kor = nodes["KOR"]
        try:
            cid = (await ctl(url, "JPN", op="open", parties=["USA", "KOR"],
                             topic="launch"))["consultation"]
            await until(lambda: held_by_all(url, cid), "the opening to reach USA and KOR")
            for n in ("USA", "KOR"):
                await ctl(url, n, op="join", consultation=cid)
            await until(lambda: converged(url, cid, 3), "three identical transcripts")

            await kor.stop()  # cut off: no connection at all
            said = {}
            for n in ("JPN", "USA"):
                said[n] = (await ctl(url, n, op="say", consultation=cid,
                                     text=f"{n}: assessing"))["msg_ids"][0]
            local = await kor.control({"op": "say", "consultation": cid,
                                       "text": "KOR: we are cut off"})
            assert local["ok"] and local["queued"] >= 2  # to JPN and to USA
            said["KOR"] = local["msg_ids"][0]

            async def jpn_escalates_to_kor() -> bool:
                steps = (await ctl(url, "JPN", op="show", consultation=cid))["escalations"]
                return any(s.startswith(f"{said['JPN']} to KOR") for s in steps)

            await until(jpn_escalates_to_kor, "JPN to escalate its unacknowledged post")
            cut = await kor.control({"op": "show", "consultation": cid})
            held = {p["msg_id"] for p in cut["transcript"]}
            assert said["JPN"] not in held and said["USA"] not in held
            jpn = await ctl(url, "JPN", op="show", consultation=cid)
            assert said["KOR"] not in {p["msg_id"] for p in jpn["transcript"]}

            await kor.start()  # the partition heals
            seen = await until(lambda: converged(url, cid, 6), "the transcripts to converge")
            ids = [r[0] for r in seen["KOR"]]
            assert len(ids) == len(set(ids))
            assert set(said.values()) <= set(ids)
            texts = {r[4] for r in seen["JPN"] if r[3] == "say"}
            assert texts == {"JPN: assessing", "USA: assessing", "KOR: we are cut off"}
            assert kor.queued == 0
        finally:
            for live in nodes.values():
                await live.stop()

    with nats_server(tmp_path / "js") as url:
        asyncio.run(scenario(url))
