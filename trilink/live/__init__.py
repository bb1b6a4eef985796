"""Live mode: national nodes on the wall clock over NATS, and their control API.

- :mod:`trilink.live.node` — :class:`LiveNode`, the asyncio adapter around a
  :class:`~trilink.node.NationalNode` (loop, control API, stop/start);
- :mod:`trilink.live.control` — the control requests and the views they return;
- :mod:`trilink.live.client` — connections and requests with one-line errors;
- :mod:`trilink.live.keys` — key files (``trilink keys new``) and their loading;
- :mod:`trilink.live.feed` — the versioned sensor-feed schema (``trilink.sensor.*``);
- :mod:`trilink.live.replay` — the scenario clock and ``trilink feed``;
- :mod:`trilink.live.launch` — ``trilink live``: three node processes and the feed;
- :mod:`trilink.live.record`, :mod:`trilink.live.summary` — a replay's records and
  its ``summary.json``;
- :mod:`trilink.live.auth` — signed control requests, operators and roles.

See ``docs/live.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trilink.live.client import LiveError, request
    from trilink.live.keys import KeyFileError, load_keys_dir, write_keys
    from trilink.live.node import UNIX_EPOCH, LiveNode, LivePolicy, live_national_node

__all__ = ["UNIX_EPOCH", "KeyFileError", "LiveError", "LiveNode", "LivePolicy",
           "live_national_node", "load_keys_dir", "request", "write_keys"]

# Imported on first use: `trilink keys` needs the key files, not the node stack (fusion,
# tracking, numba), which costs a command about a second to import.
_HOME = {"LiveError": "client", "request": "client", "KeyFileError": "keys",
         "load_keys_dir": "keys", "write_keys": "keys", "UNIX_EPOCH": "node",
         "LiveNode": "node", "LivePolicy": "node", "live_national_node": "node"}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'trilink.live' has no attribute {name!r}")
    return getattr(importlib.import_module(f"trilink.live.{_HOME[name]}"), name)
