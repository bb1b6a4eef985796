"""TAXII 2.1 per node, driven by taxii2-client over loopback; medallion as a peer server."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from cyber_helpers import EPOCH, free_port, indicator, serve
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from trilink.cyber.book import CyberBook
from trilink.cyber.pull import pull_into
from trilink.cyber.regimes import cyber_policy
from trilink.cyber.store import collection_id
from trilink.cyber.taxii import Credentials, taxii_app
from trilink.cyber.tlp import Tlp

MEDIA = "application/taxii+json;version=2.1"
TRI = frozenset({"USA", "JPN", "KOR"})


def _book(nation: str = "JPN") -> CyberBook:
    return CyberBook(nation, ["USA", "JPN", "KOR"], cyber_policy("cyber-trilateral-2024"),
                     EPOCH, declared=[TRI, {"USA", nation}])


def _app(book: CyberBook) -> tuple[Any, dict[str, tuple[str, str]], list[str]]:
    creds, handed = Credentials.issue(["USA", "JPN", "KOR", "AUS"])
    rejected: list[str] = []
    app = taxii_app(book, creds, clock=lambda: EPOCH + dt.timedelta(hours=1),
                    on_reject=lambda who, why: rejected.append(f"{who}: {why}"))
    return app, handed, rejected


def test_2500_objects_with_one_date_added_page_through_whole() -> None:
    book = _book()
    objs = [indicator(i) for i in range(2500)]
    # straight into the store: the server side of the test, one date_added for all
    book.store.add(objs, originator="JPN", rel_to=TRI, date_added=EPOCH)
    app, handed, _ = _app(book)
    with serve(app) as base:
        for reader in ("KOR", "USA"):
            user, secret = handed[reader]
            server = Server(f"{base}/taxii2/", user=user, password=secret)
            root = server.api_roots[0]
            coll = next(c for c in root.collections if c.id == collection_id(TRI))
            assert coll.title == "REL TO USA, JPN, KOR"
            ids: list[str] = []
            pages = 0
            for env in as_pages(coll.get_objects, per_request=100):
                pages += 1
                ids += [o["id"] for o in env.get("objects", [])]
            assert pages == 25
            assert len(ids) == len(set(ids)) == 2500
            assert set(ids) == {o["id"] for o in objs}
            # manifests page the same way; added_after the shared instant returns nothing
            man = [m["id"] for env in as_pages(coll.get_manifest, per_request=700)
                   for m in env.get("objects", [])]
            assert len(man) == len(set(man)) == 2500
            after = coll.get_objects(added_after="2025-02-21T14:13:00.000000Z")
            assert after.get("objects", []) == [] and after["more"] is False
            before = coll.get_objects(added_after="2025-02-21T14:12:59.999999Z", limit=10)
            assert len(before["objects"]) == 10 and before["more"] is True


def test_each_nation_sees_only_what_it_is_released() -> None:
    book = _book("JPN")
    t = EPOCH
    book.store.add([indicator(1)], originator="JPN", rel_to=TRI, date_added=t)
    book.store.add([indicator(2)], originator="JPN", rel_to={"USA"}, date_added=t)
    # an AMBER object of the USA held by JPN: JPN may not hand it on to KOR
    book.store.add([indicator(3, "USA", Tlp.AMBER)], originator="USA", rel_to=TRI,
                   date_added=t)
    # a RED object: no partner ever gets it
    book.store.add([indicator(4, tlp=Tlp.RED)], originator="JPN", rel_to=TRI, date_added=t)
    app, handed, rejected = _app(book)
    with serve(app) as base:
        seen: dict[str, set[str]] = {}
        for reader in ("USA", "JPN", "KOR", "AUS"):
            user, secret = handed[reader]
            root = ApiRoot(f"{base}/api21/", user=user, password=secret)
            seen[reader] = {o["name"] for c in root.collections
                            for o in c.get_objects().get("objects", [])}
        assert seen["JPN"] == {"test indicator 1", "test indicator 2", "test indicator 3",
                               "test indicator 4"}
        assert seen["USA"] == {"test indicator 1", "test indicator 2", "test indicator 3"}
        assert seen["KOR"] == {"test indicator 1"}
        assert seen["AUS"] == set()
        # a collection not released to the caller does not exist for it
        user, secret = handed["KOR"]
        r = httpx.get(f"{base}/api21/collections/{collection_id({'USA', 'JPN'})}/",
                      auth=(user, secret), headers={"Accept": MEDIA})
        assert r.status_code == 404
        assert any("404" in r for r in rejected)


def test_hostile_requests_are_refused_and_audited() -> None:
    book = _book()
    book.store.add([indicator(1)], originator="JPN", rel_to=TRI, date_added=EPOCH)
    app, handed, rejected = _app(book)
    cid = collection_id(TRI)
    with serve(app) as base:
        url = f"{base}/api21/collections/{cid}/objects/"
        h = {"Accept": "application/taxii+json;version=2.1"}
        assert httpx.get(url, headers=h).status_code == 401
        assert httpx.get(url, headers=h, auth=("kor-taxii", "wrong")).status_code == 401
        user, secret = handed["KOR"]
        for params in ({"limit": "-1"}, {"added_after": "yesterday"}, {"next": "abc"},
                       {"match[id]": "not-an-id"}, {"evil": "1"}):
            r = httpx.get(url, headers=h, auth=(user, secret), params=params)
            assert r.status_code == 400, params
            assert r.headers["content-type"].startswith("application/taxii+json")
        # KOR may read but not write JPN's node
        r = httpx.post(url, headers={**h, "Content-Type": h["Accept"]}, auth=(user, secret),
                       content=json.dumps({"objects": [indicator(9, "KOR")]}))
        assert r.status_code == 403
        # a later good request still works
        r = httpx.get(url, headers=h, auth=(user, secret))
        assert r.status_code == 200 and len(r.json()["objects"]) == 1
    assert len(rejected) >= 8
    assert all(":" in line for line in rejected)


def test_add_objects_validates_and_reports_status() -> None:
    book = _book()
    app, handed, _ = _app(book)
    user, secret = handed["JPN"]
    bad = {"type": "indicator", "spec_version": "2.1", "id": "indicator--0000",
           "pattern": "[nonsense"}
    with serve(app) as base:
        coll = Collection(f"{base}/api21/collections/{collection_id(TRI)}/",
                          user=user, password=secret)
        status = coll.add_objects({"objects": [indicator(1), bad]}, wait_for_completion=False)
        assert status.success_count == 1 and status.failure_count == 1
        assert "indicator--0000" in status.failures[0]["message"]
        status.refresh()
        assert status.status == "complete"
    assert [s.to for s in book.pending] == ["KOR", "USA"]


def test_node_pulls_from_medallion(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cid = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
    data = {
        "/discovery": {"title": "peer", "default": f"{base}/peer/", "api_roots": [
            f"{base}/peer/"]},
        "peer": {"information": {"title": "peer", "versions": [
            "application/taxii+json;version=2.1"], "max_content_length": 10_000_000},
            "status": [], "collections": [{"id": cid, "title": "JPCERT feed",
                                          "can_read": True, "can_write": True,
                                          "media_types": ["application/stix+json;version=2.1"],
                                          "objects": [], "manifest": []}]}}
    (tmp_path / "data.json").write_text(json.dumps(data), encoding="utf-8")
    config = {"backend": {"module": "medallion.backends.memory_backend",
                          "module_class": "MemoryBackend",
                          "filename": str(tmp_path / "data.json")},
              "users": {"cert": "secret"}, "taxii": {"max_page_size": 50}}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    exe = Path(sys.executable).with_name("medallion")
    proc = subprocess.Popen([str(exe), "--host", "127.0.0.1", "--port", str(port),
                             str(tmp_path / "config.json")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        coll_url = f"{base}/peer/collections/{cid}/"
        deadline = time.monotonic() + 30
        while True:
            try:
                coll = Collection(coll_url, user="cert", password="secret")
                coll.refresh()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        objs = [indicator(i) for i in range(120)]
        coll.add_objects({"objects": objs})
        book = _book("JPN")
        out = pull_into(book, coll_url, user="cert", password="secret", originator="JPN",
                        rel_to=TRI, now_s=60.0, per_request=50)
        stored = [i for i in book.store.items if i.originator == "JPN"]
        assert len(stored) == 120 and len({i.id for i in stored}) == 120
        assert sorted(s.to for s in out.shares) == ["KOR", "USA"]
        assert all(len(s.object_ids) == 120 for s in out.shares)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
