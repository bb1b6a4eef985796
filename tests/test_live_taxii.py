"""A live node's TAXII 2.1 server (`trilink node --cyber --taxii-port`): what its book
holds from partners over NATS, served to each nation as released; a TAXII add by its own
analysts goes out to the partners; refused callers are audited by the node.

Three in-process live nodes on a real nats-server under ``cyber-trilateral-2024``;
Japan's node serves TAXII on loopback (:func:`trilink.live.taxii.serve_taxii`, what the
command runs), read with ``taxii2-client``."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from cyber_helpers import indicator
from taxii2client.v21 import Server, as_pages
from test_live_cyber import KEYS, NATIONS, REGISTRY, held, plugin, records, stop, until

from trilink.bus.server import nats_server
from trilink.cli import main
from trilink.cyber.corpus import shipped_corpus
from trilink.cyber.regimes import cyber_policy
from trilink.cyber.store import collection_id
from trilink.cyber.taxii import USERS_FILE, Credentials, read_taxii_secret
from trilink.live.client import request
from trilink.live.node import LiveNode, live_cyber_node
from trilink.live.taxii import serve_taxii
from trilink.sharing.audit import AuditLog, Direction

TRI = frozenset(NATIONS)


def test_a_live_nodes_taxii_serves_what_it_holds_and_sends_what_is_added(
        tmp_path: Path) -> None:
    assert main(["keys", "taxii", "--nations", "USA,JPN,KOR", "--out",
                 str(tmp_path / "taxii")]) == 0
    creds = Credentials.from_file(tmp_path / "taxii" / USERS_FILE)
    secret = {n: read_taxii_secret(tmp_path / "taxii" / n / "taxii.secret") for n in NATIONS}
    assert (tmp_path / "taxii" / "KOR" / "taxii.secret").stat().st_mode & 0o777 == 0o600
    bundle = shipped_corpus().bundle()
    kor_ids = {o["id"] for o in bundle["objects"] if o["type"] != "marking-definition"}
    added = indicator(7001, "JPN")

    async def go(url: str) -> None:
        policy = cyber_policy("cyber-trilateral-2024")
        nodes = {n: LiveNode(live_cyber_node(n, KEYS[n], REGISTRY, policy, NATIONS,
                                             AuditLog(tmp_path / f"{n}.sqlite", durable=False)),
                             url, ack_wait_s=5.0) for n in NATIONS}
        for live in nodes.values():
            await live.start()
        jpn = nodes["JPN"]
        taxii = serve_taxii(plugin(jpn), creds,
                            lambda: jpn.node.epoch + dt.timedelta(seconds=jpn.now_s()))
        try:
            reply = await request(url, "KOR", {"op": "cyber_submit", "bundle": bundle},
                                  timeout_s=20.0)
            assert reply["ok"], reply
            await until("JPN holds KOR's bundle", lambda: held(jpn) >= kor_ids)

            def read(reader: str) -> set[str]:
                server = Server(f"{taxii.url}/taxii2/", user=secret[reader][0],
                                password=secret[reader][1])
                coll = next(c for c in server.api_roots[0].collections
                            if c.id == collection_id(TRI))
                return {o["id"] for env in as_pages(coll.get_objects, per_request=20)
                        for o in env.get("objects", [])}

            for reader in ("USA", "KOR"):
                assert await asyncio.to_thread(read, reader) >= kor_ids, reader
            # No credentials, or a wrong secret: refused before anything is read.
            async with httpx.AsyncClient() as client:
                anon = await client.get(f"{taxii.url}/taxii2/")
                wrong = await client.get(f"{taxii.url}/taxii2/",
                                         auth=(secret["KOR"][0], "not-the-secret-at-all"))
            assert anon.status_code == 401 and wrong.status_code == 401
            await until("JPN's node audits the refusals", lambda: sum(
                1 for r in records(jpn) if r.direction == Direction.REJECTED
                and "TAXII request" in (r.detail or "")) >= 2)

            def add() -> dict[str, Any]:
                server = Server(f"{taxii.url}/taxii2/", user=secret["JPN"][0],
                                password=secret["JPN"][1])
                coll = next(c for c in server.api_roots[0].collections
                            if c.id == collection_id(TRI))
                status = coll.add_objects({"objects": [added]})
                return {"status": status.status, "successes": status.success_count}

            done = await asyncio.to_thread(add)
            assert done == {"status": "complete", "successes": 1}, done
            # Japan's analysts' add leaves with the node's next tick, to both partners.
            await until("KOR and USA get Japan's TAXII add", lambda: all(
                added["id"] in held(nodes[n], "JPN") for n in ("KOR", "USA")))
        finally:
            taxii.stop()
            await stop(nodes)

    with nats_server(tmp_path / "js") as url:
        asyncio.run(asyncio.wait_for(go(url), 120.0))


def test_taxii_flags_of_trilink_node_are_checked_first(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "new", "--nations", "USA,JPN,KOR", "--out", str(tmp_path / "k")]) == 0
    capsys.readouterr()
    base = ["node", "--nation", "JPN", "--keys", str(tmp_path / "k")]
    bad = tmp_path / "users.json"
    bad.write_text('{"users": {"jpn-taxii": {"nation": "JPN", "secret_sha256": "abc"}}}')
    for args, needle in (
            (["--taxii-port", "0", "--taxii-users", str(bad)], "only with --cyber"),
            (["--cyber", "--taxii-port", "0"], "go together"),
            (["--cyber", "--taxii-port", "70000", "--taxii-users", str(bad)], "0-65535"),
            (["--cyber", "--taxii-port", "0", "--taxii-users", str(bad)],
             "users.jpn-taxii.secret_sha256: expected 64 hex digits"),
            (["--cyber", "--taxii-port", "0", "--taxii-users", str(tmp_path / "none.json")],
             "cannot read as JSON")):
        assert main([*base, *args]) == 2, args
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0] and "Traceback" not in err[0], (args, err)
