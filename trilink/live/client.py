"""NATS connections of live nodes and of the command line, with one-line errors.

:func:`connect` checks the URL and turns every way a connection can fail into a
:class:`LiveError`; :func:`request` asks a node's control API (``trilink.ctl.<NATION>``)
and returns its JSON reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
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
    async def open(cls, url: str | Mapping[str, str], nations: Sequence[str], name: str,
                   options: Callable[[str], dict[str, Any]]) -> PerNation:
        """``url``: one server for all, or each nation's own server (one per nation)."""
        conns: dict[str, Any] = {}
        try:
            for n in nations:
                conns[n] = await connect(url if isinstance(url, str) else url[n],
                                         name=f"{name}-{n}", **options(n))
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


FEED_BUFFER_SCANS: Final = 10_000  # per nation: ~10 min of a nation's radars at full rate
RETRY_S: Final = 0.2
CONFIRM_S: Final = 0.05  # at most one confirming ping per connection this often


async def _heard(nc: Any, subject: str, data: bytes) -> bool:
    """Publish ``data`` with a reply subject and tell whether a subscriber took it. With
    no interest the server answers a status 503 ("no responders") on the reply subject
    while it handles the publish, so before the PONG of the ping sent after it: no 503
    by then means it was delivered. (A bare request's timeout could not tell a slow
    server's 503 from a node that takes the scan and never replies.)"""
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox, max_msgs=1)
    try:
        await nc.publish(subject, data, reply=inbox)
        await nc.flush(timeout=10)
        try:
            msg = await sub.next_msg(timeout=0.02)  # already here if it came at all
        except (TimeoutError, NatsTimeoutError):
            return True
        return (msg.headers or {}).get("Status") != "503"
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


class _Lane:
    """One nation's sensor connection of a :class:`SensorFeed`."""

    def __init__(self, nation: str, limit: int) -> None:
        from trilink.live.feed import ScanBuffer

        self.nation = nation
        self.nc: Any = None
        self.buffer = ScanBuffer(limit)
        self.task: asyncio.Task[None] | None = None
        self.listened = False  # a subscriber took a scan since the last reconnect
        self.dropping = False  # the buffer overflowed in this outage (said once)
        self.sent = 0  # handed to the connection
        self.confirmed = 0  # of those, known to have reached the server (a PONG after)
        self.at_risk = 0  # handed over but unconfirmed when the connection went
        self.confirm: asyncio.Task[None] | None = None


class SensorFeed:
    """Per-nation sensor publishers (as :class:`PerNation`: each nation's scans on its own
    connection, as its own sensor user) that ride out an outage of their server.

    Core NATS is at most once: a scan published while the server is down, or before the
    node has subscribed again after the server came back, is gone. So while a connection
    is down its scans go to a bounded :class:`~trilink.live.feed.ScanBuffer` (oldest
    dropped when full, counted, said once per outage); after the reconnect, the oldest
    is sent with a reply subject until the server stops answering "no responders" (a node
    subscribes to the subject again; it takes the scan and does not reply: :func:`_heard`),
    then the rest in order. Scans handed to the connection just before the server died
    (not yet confirmed by a PONG) may be lost: they are counted (:attr:`at_risk`), not
    sent again, since a node that did get one would take it twice."""

    def __init__(self, lanes: dict[str, _Lane], log: Callable[[str], None]) -> None:
        self.lanes = lanes
        self._log = log
        self._closing = False  # a close is not an outage to report
        self.published = 0  # handed to a live connection (directly or from the buffer)

    @classmethod
    async def open(cls, url: str | Mapping[str, str], nations: Sequence[str], name: str,
                   options: Callable[[str], dict[str, Any]], *,
                   buffer_scans: int = FEED_BUFFER_SCANS,
                   log: Callable[[str], None] | None = None) -> SensorFeed:
        feed = cls({n: _Lane(n, buffer_scans) for n in nations}, log or (lambda line: None))
        try:
            for n in nations:
                lane = feed.lanes[n]
                lane.nc = await connect(
                    url if isinstance(url, str) else url[n], name=f"{name}-{n}",
                    reconnect_forever=True, disconnected_cb=feed._down_cb(lane),
                    reconnected_cb=feed._up_cb(lane), **options(n))
        except BaseException:
            await feed.close()
            raise
        return feed

    @property
    def buffered(self) -> int:
        """Scans that went through the buffer (an outage), over every nation."""
        return sum(lane.buffer.held for lane in self.lanes.values())

    @property
    def dropped(self) -> int:
        """Scans dropped unsent because a nation's buffer was full."""
        return sum(lane.buffer.dropped for lane in self.lanes.values())

    @property
    def at_risk(self) -> int:
        """Scans handed to a connection but not confirmed by the server when it went
        (core NATS: each either reached the node or is lost; the feed cannot tell)."""
        return sum(lane.at_risk for lane in self.lanes.values())

    @property
    def waiting(self) -> int:
        """Scans in the buffers now."""
        return sum(len(lane.buffer) for lane in self.lanes.values())

    def _down_cb(self, lane: _Lane) -> Callable[[], Any]:
        async def down() -> None:
            lane.listened = False
            risk, lane.confirmed = lane.sent - lane.confirmed, lane.sent
            lane.at_risk += risk
            if self._closing:
                return
            self._log(f"feed {lane.nation}: server connection lost ({risk} scan(s) sent "
                      "just before not confirmed: they may be lost); keeping scans (up to "
                      f"{lane.buffer.limit}) until it is back")
        return down

    def _up_cb(self, lane: _Lane) -> Callable[[], Any]:
        async def up() -> None:
            self._log(f"feed {lane.nation}: reconnected; {len(lane.buffer)} scan(s) kept "
                      f"to send")
            self._start(lane)
        return up

    def _start(self, lane: _Lane) -> None:
        if lane.buffer and (lane.task is None or lane.task.done()):
            lane.task = asyncio.create_task(self._drain(lane), name=f"feed-{lane.nation}")

    def _keep(self, lane: _Lane, subject: str, data: bytes) -> None:
        if lane.buffer.push(subject, data) and not lane.dropping:
            lane.dropping = True
            self._log(f"feed {lane.nation}: buffer full ({lane.buffer.limit} scans); "
                      "dropping the oldest")

    async def publish(self, subject: str, data: bytes) -> None:
        lane = self.lanes[subject.split(".")[2]]  # trilink.sensor.<NATION>.<ID>
        if lane.buffer or not lane.nc.is_connected:
            self._keep(lane, subject, data)  # behind what is kept: the order holds
            if lane.nc.is_connected:
                self._start(lane)
            return
        try:
            await lane.nc.publish(subject, data)
        except NatsError:  # closed under us: keep it for the reconnect
            self._keep(lane, subject, data)
            return
        self._sent(lane)

    def _sent(self, lane: _Lane) -> None:
        self.published += 1
        lane.sent += 1
        if lane.confirm is None or lane.confirm.done():
            lane.confirm = asyncio.create_task(self._confirm(lane))

    async def _confirm(self, lane: _Lane) -> None:
        """A ping after what was sent: its PONG says the server has all of it."""
        while lane.confirmed < lane.sent and lane.nc.is_connected:
            upto = lane.sent
            try:
                await lane.nc.flush(timeout=5)
            except Exception:  # the connection went: `down` counts what is at risk
                return
            lane.confirmed = max(lane.confirmed, upto)
            await asyncio.sleep(CONFIRM_S)

    async def _drain(self, lane: _Lane) -> None:
        while lane.buffer and lane.nc.is_connected:
            subject, data = lane.buffer.peek()
            if not lane.listened:
                try:
                    heard = await _heard(lane.nc, subject, data)
                except (NatsError, TimeoutError):  # the connection went again
                    heard = False
                if not heard:  # nobody subscribed yet: a node still away
                    await asyncio.sleep(RETRY_S)
                    continue
                lane.listened = True
            else:
                try:
                    await lane.nc.publish(subject, data)
                except NatsError:
                    await asyncio.sleep(RETRY_S)
                    continue
            lane.buffer.pop()
            self._sent(lane)
        if not lane.buffer:
            if lane.dropping:
                self._log(f"feed {lane.nation}: {lane.buffer.dropped} scan(s) dropped so far "
                          "(buffer full)")
            lane.dropping = False
            with contextlib.suppress(Exception):
                await lane.nc.flush()

    async def flush(self, timeout_s: float = 30.0) -> None:
        """Until every kept scan is out (or ``timeout_s``), then flush the connections."""
        end = asyncio.get_running_loop().time() + timeout_s
        while self.waiting and asyncio.get_running_loop().time() < end:
            for lane in self.lanes.values():
                if lane.nc.is_connected:
                    self._start(lane)
            await asyncio.sleep(0.05)
        for lane in self.lanes.values():
            with contextlib.suppress(Exception):
                await lane.nc.flush()

    async def close(self) -> None:
        self._closing = True
        for lane in self.lanes.values():
            for task in (lane.task, lane.confirm):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            if lane.nc is not None:
                with contextlib.suppress(Exception):
                    await lane.nc.close()
