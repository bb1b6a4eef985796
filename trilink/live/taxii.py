"""A live node's TAXII 2.1 server: its cyber book, over HTTP, beside the node.

:func:`serve_taxii` runs :func:`trilink.cyber.taxii.taxii_app` on the node's cyber
plug-in with uvicorn, on a thread of its own (the routes are synchronous and would
otherwise block the node's event loop). The plug-in's lock is the one lock both sides
hold while they touch the book; a TAXII add goes out to the partners the agreements
allow on the node's next tick, and every refused request is audited by the node (the
plug-in queues it; the node writes it). The server listens on 127.0.0.1 unless told
otherwise; callers authenticate per nation (HTTP Basic, ``trilink keys taxii``).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trilink.errors import TrilinkError

if TYPE_CHECKING:  # the cyber stack loads only when a node serves TAXII
    from trilink.cyber.plugin import CyberPlugin
    from trilink.cyber.taxii import Credentials


class TaxiiServeError(TrilinkError):
    """The node's TAXII server could not start (one line)."""


@dataclass
class TaxiiServer:
    """A running TAXII server; ``url`` is its discovery endpoint's base."""

    url: str
    _server: Any  # uvicorn.Server (uvicorn is imported only when a node serves TAXII)
    _thread: threading.Thread

    def stop(self, timeout_s: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout_s)


def serve_taxii(plugin: CyberPlugin, credentials: Credentials,
                clock: Callable[[], dt.datetime], host: str = "127.0.0.1", port: int = 0,
                start_timeout_s: float = 20.0) -> TaxiiServer:
    """Start the node's TAXII server; returns once it listens (``port=0``: a free one)."""
    import socket

    import uvicorn

    from trilink.cyber.taxii import taxii_app

    if port == 0:
        with socket.socket() as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
    app = taxii_app(plugin.book, credentials, clock, on_reject=plugin.taxii_refused,
                    lock=plugin.lock)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True,
                              name=f"trilink-taxii-{plugin.book.nation}")
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if not thread.is_alive():
            raise TaxiiServeError(f"--taxii-port: cannot listen on {host}:{port}")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TaxiiServeError(f"--taxii-port: no server on {host}:{port} after "
                                  f"{start_timeout_s:g} s")
        time.sleep(0.02)
    return TaxiiServer(f"http://{host}:{port}", server, thread)
