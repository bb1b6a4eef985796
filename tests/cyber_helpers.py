"""Shared set-up of the cyber tests: STIX objects, books, a TAXII server on loopback."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from trilink.cyber.identity import nation_identity_id, stable_id
from trilink.cyber.tlp import TLP2_IDS, Tlp

EPOCH = dt.datetime(2025, 2, 21, 14, 13, tzinfo=dt.UTC)
T0 = "2025-02-21T14:13:00.000Z"


def indicator(n: int, nation: str = "JPN", tlp: Tlp = Tlp.GREEN,
              address: str = "0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2") -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1",
            "id": stable_id("indicator", "test", nation, str(n)),
            "created": T0, "modified": T0, "name": f"test indicator {n}",
            "description": "test object", "indicator_types": ["malicious-activity"],
            "pattern": f"[cryptocurrency-wallet:value = '{address}']",
            "pattern_type": "stix", "valid_from": T0,
            "created_by_ref": nation_identity_id(nation),
            "object_marking_refs": [TLP2_IDS[tlp]]}


def sighting(indicator_id: str, nation: str, n: int = 0, tlp: Tlp = Tlp.GREEN,
             count: int = 1) -> dict[str, Any]:
    return {"type": "sighting", "spec_version": "2.1",
            "id": stable_id("sighting", nation, indicator_id, str(n)),
            "created": T0, "modified": T0, "first_seen": T0, "last_seen": T0,
            "count": count, "sighting_of_ref": indicator_id,
            "where_sighted_refs": [nation_identity_id(nation)],
            "created_by_ref": nation_identity_id(nation),
            "object_marking_refs": [TLP2_IDS[tlp]]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn on 127.0.0.1 and a free port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
