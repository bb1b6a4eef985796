"""The thin JetStream adapter: ``PICTURE_<NATION>`` → :class:`~trilink.web.view.PictureView`.

An ordered push consumer reads the stream from its first message; each message is
applied with its stream sequence (which becomes the SSE event id). Waiters are woken
after every message (:meth:`PictureFeed.wait_change`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from trilink.web.publish import ensure_picture_stream, picture_stream, picture_subject
from trilink.web.view import PictureView


class PictureFeed:
    """Keeps ``view`` up to date with a node's picture stream."""

    def __init__(self, view: PictureView, url: str,
                 nats_options: dict[str, Any] | None = None) -> None:
        self.view = view
        self.url = url
        self.nats_options = dict(nats_options or {})  # the dashboard's NATS user, if any
        self._nc: Any = None
        self._sub: Any = None
        self._changed = asyncio.Event()
        self.version = 0  # messages applied so far
        self.closing = False
        self.connected = False

    @property
    def nc(self) -> Any:
        return self._nc

    async def start(self) -> None:
        from nats.js.api import DeliverPolicy

        from trilink.live.client import connect

        self._nc = await connect(self.url, name=f"trilink-web-{self.view.nation}",
                                 reconnect_forever=True, **self.nats_options)
        js = self._nc.jetstream()
        await ensure_picture_stream(js, self.view.nation)
        self._sub = await js.subscribe(picture_subject(self.view.nation),
                                       stream=picture_stream(self.view.nation),
                                       ordered_consumer=True, deliver_policy=DeliverPolicy.ALL,
                                       cb=self._on_msg, pending_msgs_limit=1_000_000)
        self.connected = True

    async def _on_msg(self, msg: Any) -> None:
        self.view.apply(int(msg.metadata.sequence.stream), msg.data)
        self.version += 1
        ev, self._changed = self._changed, asyncio.Event()
        ev.set()

    async def wait_change(self, seen_version: int, timeout_s: float) -> None:
        """Until ``version`` moves past ``seen_version`` or ``timeout_s`` passes."""
        if self.version != seen_version or self.closing:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout_s)

    def close_waiters(self) -> None:
        """Wake every waiter for good: the server is stopping."""
        self.closing = True
        self._changed.set()

    async def stop(self) -> None:
        self.close_waiters()
        self.connected = False
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
        self._sub = self._nc = None
