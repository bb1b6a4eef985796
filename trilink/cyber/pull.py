"""Pull a peer TAXII 2.1 collection into a node (adapter: network I/O via taxii2-client).

Pages with ``next`` only, so objects sharing one ``date_added`` are neither lost nor
repeated; a server that says ``more`` without a ``next`` is refused rather than paged by
``X-TAXII-Date-Added-Last`` (the OpenCTI issue 4537 loss). What was pulled goes through
the node's book like anything else: objects of the node's own nation (its CERT's server)
are published under the agreements; a partner's are received and checked at this end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from taxii2client.v21 import Collection  # type: ignore[import-untyped]

from trilink.cyber.book import BookOutput, CyberBook
from trilink.errors import TrilinkError


class PullError(TrilinkError):
    """A peer TAXII server cannot be pulled safely."""


@dataclass(frozen=True)
class Pulled:
    objects: list[dict[str, Any]]
    pages: int


def fetch_all(collection: Any, per_request: int = 100, added_after: str | None = None,
              max_pages: int = 10_000) -> Pulled:
    """Every object of a collection, page by page."""
    objs: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    kwargs: dict[str, Any] = {} if added_after is None else {"added_after": added_after}
    pages = 0
    envelope = collection.get_objects(limit=per_request, **kwargs)
    while True:
        pages += 1
        for o in envelope.get("objects", []) or []:
            key = (str(o.get("id")), str(o.get("modified", o.get("created", ""))))
            if key not in seen:
                seen.add(key)
                objs.append(o)
        if not envelope.get("more") or pages >= max_pages:
            break
        nxt = envelope.get("next")
        if nxt:
            envelope = collection.get_objects(limit=per_request, next=nxt, **kwargs)
        else:
            raise PullError(f"{getattr(collection, 'url', '?')}: the server says more=true "
                            "but gives no next; paging by date could lose objects")
    return Pulled(objs, pages)


def pull_into(book: CyberBook, url: str, *, user: str, password: str, originator: str,
              rel_to: Iterable[str], now_s: float, per_request: int = 100) -> BookOutput:
    """Pull collection ``url`` into ``book`` as objects of ``originator`` released
    ``rel_to``."""
    collection = Collection(url, user=user, password=password)
    pulled = fetch_all(collection, per_request)
    if originator == book.nation:
        return book.publish(pulled.objects, rel_to, now_s)
    return book.receive_objects(pulled.objects, originator=originator, sender=originator,
                                via=(), rel_to=rel_to, now_s=now_s)
