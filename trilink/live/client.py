"""NATS connections of live nodes and of the command line, with one-line errors.

:func:`connect` checks the URL and turns every way a connection can fail into a
:class:`LiveError`; :func:`request` asks a node's control API (``trilink.ctl.<NATION>``)
and returns its JSON reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

import nats
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

from trilink.errors import TrilinkError
from trilink.live.natsconf import CONTROL_PREFIX as CONTROL_PREFIX
from trilink.live.natsconf import control_subject as control_subject

SCHEMES: Final = ("nats", "tls", "ws", "wss")


class LiveError(TrilinkError, RuntimeError):
    """Live mode could not do what was asked (one line: the flag or file and why)."""


def check_url(url: str) -> str:
    """``url`` if it looks like a NATS server URL, else :class:`LiveError`."""
    expected = f"--nats: expected a URL like nats://127.0.0.1:4222, got {url!r}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise LiveError(expected) from None
    if parts.scheme not in SCHEMES or not parts.hostname or (port is not None and port <= 0):
        raise LiveError(expected)
    return url


async def _quiet(exc: Exception) -> None:
    """nats-py prints every connection error with a traceback by default; we report them
    ourselves, once, as one line."""


async def connect(url: str, *, name: str, timeout_s: float = 5.0,
                  reconnect_forever: bool = False, **options: Any) -> Any:
    """A connection to the NATS server at ``url`` (``LiveError`` if unreachable).

    ``reconnect_forever`` (live nodes): once connected, ride out server restarts.
    ``options`` go to ``nats.connect``: callbacks, and the user's credentials
    (``nkeys_seed``, ``inbox_prefix``: :func:`trilink.live.natsconf.creds_options`).
    """
    check_url(url)
    if reconnect_forever:  # fail fast (and say why) if there is no server to begin with
        creds = {k: v for k, v in options.items() if not k.endswith("_cb")}
        await (await connect(url, name=name, timeout_s=timeout_s, **creds)).close()
    on_error = options.pop("error_cb", _quiet)
    seen: list[str] = []

    async def error_cb(exc: Exception) -> None:
        # A refused key surfaces here; connect itself then only says "no servers".
        if len(seen) < 10:
            seen.append(str(exc))
        await on_error(exc)

    try:
        return await asyncio.wait_for(nats.connect(
            url, name=name, connect_timeout=min(timeout_s, 2.0),
            max_reconnect_attempts=-1 if reconnect_forever else 2,
            reconnect_time_wait=1.0 if reconnect_forever else 0.25,
            error_cb=error_cb, **options), timeout_s)
    except (TimeoutError, NatsError, OSError) as exc:
        why = (f"no answer within {timeout_s:g} s" if isinstance(exc, TimeoutError)
               else str(exc) or type(exc).__name__)
        refused = next((s for s in seen if "authorization" in s.lower()), None)
        if refused is not None or "authorization" in why.lower():
            why = refused or why
            who = options.get("nkeys_seed")
            raise LiveError(f"--nats-creds: the NATS server at {url} refused "
                            + (f"the key in {who}" if who else "a client without credentials "
                               "(give --nats-creds)")
                            + f" ({why.removeprefix('nats: ')})") from None
        raise LiveError(f"--nats: cannot reach a NATS server at {url} "
                        f"({why.removeprefix('nats: ')})") from None


async def request(url: str, nation: str, req: dict[str, Any],
                  timeout_s: float = 5.0, **options: Any) -> dict[str, Any]:
    """Send one control request to ``nation``'s node; its JSON reply. ``options``: as
    for :func:`connect` (an operator's credentials)."""
    nc = await connect(url, name="trilink-cli", timeout_s=timeout_s, **options)
    try:
        msg = await nc.request(control_subject(nation), json.dumps(req).encode("utf-8"),
                               timeout=timeout_s)
    except NoRespondersError:
        raise LiveError(f"--node: no node {nation} answers at {url} (is `trilink node "
                        f"--nation {nation}` running there?)") from None
    except (TimeoutError, NatsTimeoutError):
        raise LiveError(f"--node: node {nation} did not answer within {timeout_s:g} s") from None
    except NatsError as exc:
        raise LiveError(f"--nats: {url}: {exc}") from None
    finally:
        await nc.close()
    try:
        reply = json.loads(msg.data)
    except ValueError:
        reply = None
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        raise LiveError(f"--node: node {nation} sent a reply that is not a control reply")
    return reply


class PerNation:
    """One connection per nation, each as that nation's own user, behind one ``publish``
    (what :func:`trilink.live.replay.publish_feed` calls): a scan on
    ``trilink.sensor.<NATION>.<ID>`` goes out on ``NATION``'s connection, as that nation's
    sensor user, which may speak for that nation's sensors only."""

    def __init__(self, conns: dict[str, Any]) -> None:
        self.conns = conns

    @classmethod
    async def open(cls, url: str, nations: Sequence[str], name: str,
                   options: Callable[[str], dict[str, Any]]) -> PerNation:
        conns: dict[str, Any] = {}
        try:
            for n in nations:
                conns[n] = await connect(url, name=f"{name}-{n}", **options(n))
        except BaseException:
            await cls(conns).close()
            raise
        return cls(conns)

    async def publish(self, subject: str, data: bytes) -> None:
        nation = subject.split(".")[2]  # trilink.sensor.<NATION>.<ID>
        await self.conns[nation].publish(subject, data)

    async def flush(self) -> None:
        for nc in self.conns.values():
            await nc.flush()

    async def close(self) -> None:
        for nc in self.conns.values():
            with contextlib.suppress(Exception):
                await nc.close()
