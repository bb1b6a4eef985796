"""Carry a node's releasable picture to a TAK server (CoT XML over TCP).

:class:`CotFilter` (sans-I/O) decides, per picture event, the CoT bytes for one audience
nation: the encoded events, or — when an object the audience was shown stops being
releasable to it — a TAK delete (``t-x-d-d``) naming only its uid. :func:`stream_to_tak`
reads the node's picture stream (JetStream ``PICTURE_<NATION>``) and writes what the
filter gives to the TAK server, reconnecting when the server goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import msgspec

from trilink.cot.encode import cot_events
from trilink.errors import TrilinkError
from trilink.web.publish import FusedItem, decode_event, picture_stream, picture_subject


class TakUrlError(TrilinkError):
    """A --tak URL that is not tcp://HOST:PORT."""


def parse_tak_url(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        port = None
        parts = urlsplit("")
    if parts.scheme != "tcp" or not parts.hostname or port is None:
        raise TakUrlError(f"--tak: expected a URL like tcp://127.0.0.1:8087, got {url!r}")
    return parts.hostname, port


class CotFilter:
    """Picture events in, CoT bytes for ``audience`` out (see the module docstring)."""

    def __init__(self, audience: str, stale_s: float = 60.0,
                 restamp: Callable[[], dt.datetime] | None = None) -> None:
        self.audience = audience
        self.stale_s = stale_s
        self.restamp = restamp
        self.shown: set[str] = set()  # uids sent to this audience and not deleted
        self.sent = 0
        self.withheld = 0

    def feed(self, data: bytes) -> list[bytes]:
        try:
            ev = decode_event(data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return []
        if not isinstance(ev.item, FusedItem):
            return []
        uid = f"trilink.{ev.node}.{ev.item.fused_id}"
        now = self.restamp() if self.restamp is not None else None
        out = cot_events(ev, self.audience, self.stale_s, now)
        if out:
            self.shown.add(uid)
            self.sent += len(out)
            return out
        self.withheld += 1
        if uid in self.shown:
            self.shown.discard(uid)
            return [delete_event(uid, now or dt.datetime.now(dt.UTC)),
                    delete_event(f"{uid}.impact", now or dt.datetime.now(dt.UTC))]
        return []


def delete_event(uid: str, when: dt.datetime) -> bytes:
    """A TAK delete of the item ``uid`` (no position, nothing else about it)."""
    stamp = when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    ev = ET.Element("event", {"version": "2.0", "uid": f"{uid}.delete", "type": "t-x-d-d",
                              "how": "h-g-i-g-o", "time": stamp, "start": stamp,
                              "stale": stamp})
    ET.SubElement(ev, "point", {"lat": "0.0", "lon": "0.0", "hae": "0.0",
                                "ce": "9999999.0", "le": "9999999.0"})
    detail = ET.SubElement(ev, "detail")
    ET.SubElement(detail, "link", {"uid": uid, "relation": "none", "type": "none"})
    ET.SubElement(detail, "__forcedelete")
    return bytes(ET.tostring(ev, encoding="utf-8"))


class TakConnection:
    """A TCP connection to a TAK server that reconnects on the next write after a loss."""

    def __init__(self, host: str, port: int, connect_timeout_s: float = 5.0) -> None:
        self.host, self.port = host, port
        self.connect_timeout_s = connect_timeout_s
        self._writer: asyncio.StreamWriter | None = None
        self.written = 0

    async def _open(self) -> asyncio.StreamWriter:
        if self._writer is not None and not self._writer.is_closing():
            return self._writer
        _, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port),
                                           self.connect_timeout_s)
        self._writer = writer
        return writer

    async def send(self, events: list[bytes]) -> None:
        """Write ``events``; on a broken connection, reconnect once and write again."""
        if not events:
            return
        data = b"".join(events)
        for attempt in (0, 1):
            try:
                w = await self._open()
                w.write(data)
                await w.drain()
                self.written += len(events)
                return
            except (OSError, TimeoutError):
                await self.close()
                if attempt:
                    raise

    async def close(self) -> None:
        w, self._writer = self._writer, None
        if w is not None:
            w.close()
            with contextlib.suppress(Exception):
                await w.wait_closed()


async def stream_to_tak(nats_url: str, nation: str, audience: str, tak_url: str,
                        stop: asyncio.Event, restamp: bool = False,
                        started: Callable[[CotFilter], None] | None = None) -> CotFilter:
    """Send ``nation``'s picture stream, as released to ``audience``, to the TAK server at
    ``tak_url`` until ``stop`` is set. ``restamp``: CoT times are the sender's clock
    (a replay shown live); else the picture's."""
    from nats.js.api import DeliverPolicy

    from trilink.live.client import connect
    from trilink.web.publish import ensure_picture_stream

    host, port = parse_tak_url(tak_url)
    filt = CotFilter(audience, restamp=(lambda: dt.datetime.now(dt.UTC)) if restamp else None)
    tak = TakConnection(host, port)
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    nc = await connect(nats_url, name=f"trilink-cot-{nation}", reconnect_forever=True)
    sub: Any = None
    try:
        js = nc.jetstream()
        await ensure_picture_stream(js, nation)

        async def on_msg(msg: Any) -> None:
            await queue.put(msg.data)

        sub = await js.subscribe(picture_subject(nation), stream=picture_stream(nation),
                                 ordered_consumer=True, deliver_policy=DeliverPolicy.ALL,
                                 cb=on_msg)
        if started is not None:
            started(filt)
        while not stop.is_set():
            try:
                data = await asyncio.wait_for(queue.get(), 0.2)
            except TimeoutError:
                continue
            try:
                await tak.send(filt.feed(data))
            except (OSError, TimeoutError):
                await asyncio.sleep(1.0)  # the TAK server is down: later events go later
    finally:
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        await nc.close()
        await tak.close()
    return filt
