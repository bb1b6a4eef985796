"""TAXII 2.1 for one node (FastAPI): discovery, API root, collections per releasability,
objects (``added_after``, ``next``/``limit`` pagination, ``match[...]`` filters), one object
and its versions, manifests, status of an add request. Authenticated per nation.

:func:`taxii_router` returns an :class:`fastapi.APIRouter` that the dashboard app
(:mod:`trilink.web`) can include; :func:`taxii_app` serves it alone. The router is a thin
adapter: who sees what is decided by the backend (:class:`trilink.cyber.book.CyberBook`),
under a lock because the node and the web server run on different threads.

Hostile input: a caller is authenticated (HTTP Basic; each credential belongs to one
nation; secrets compared in constant time) before any parameter is read; every parameter
is checked and a bad one gets a 400 with one line saying which and what was expected; a
collection the caller may not read is a 404, as if it did not exist. Every refusal is
passed to ``on_reject`` for the audit log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from trilink.cyber.store import (
    DEFAULT_PAGE,
    MAX_PAGE,
    ObjectStore,
    Page,
    Query,
    Stored,
    parse_time,
    rel_marking,
    taxii_time,
)
from trilink.errors import TrilinkError
from trilink.fileio import write_text_atomic
from trilink.sharing.releasability import check_nation

MEDIA_TAXII: Final = "application/taxii+json;version=2.1"
MEDIA_STIX: Final = "application/stix+json;version=2.1"
MAX_CONTENT_LENGTH: Final = 10 * 1024 * 1024
API_ROOT: Final = "api21"
_OBJECT_ID = re.compile(r"^[a-z][a-z0-9-]{0,62}--[0-9a-fA-F-]{36}$")
_SEQ = re.compile(r"^[0-9]{1,18}$")


class TaxiiBackend(Protocol):
    """What the TAXII adapter needs from a node's cyber holdings."""

    nation: str
    store: ObjectStore

    def collections_for(self, reader: str) -> list[tuple[str, frozenset[str]]]: ...

    def visible(self, item: Stored, reader: str, now: dt.datetime | None = None) -> bool: ...

    def ingest(self, objects: list[object], writer: str, rel_to: frozenset[str],
               now: dt.datetime) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]: ...


@dataclass(frozen=True)
class Credential:
    nation: str
    secret_sha256: str


class Credentials:
    """Who may call: user name → nation and the SHA-256 of its secret (secrets are random
    tokens, not passwords, so a fast hash suffices)."""

    def __init__(self, entries: Mapping[str, Credential]) -> None:
        for c in entries.values():
            check_nation(c.nation)
        self._entries = dict(entries)

    @classmethod
    def issue(cls, nations: list[str]) -> tuple[Credentials, dict[str, tuple[str, str]]]:
        """New random credentials, one per nation: the registry and ``{nation: (user,
        secret)}`` to hand to each nation."""
        handed: dict[str, tuple[str, str]] = {}
        entries: dict[str, Credential] = {}
        for n in nations:
            user, secret = f"{n.lower()}-taxii", secrets.token_urlsafe(24)
            handed[n] = (user, secret)
            entries[user] = Credential(n, hashlib.sha256(secret.encode()).hexdigest())
        return cls(entries), handed

    def to_json(self) -> str:
        return json.dumps({"users": {u: {"nation": c.nation, "secret_sha256": c.secret_sha256}
                                     for u, c in sorted(self._entries.items())}},
                          indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_file(cls, path: Path) -> Credentials:
        """A ``taxii_users.json`` (see :func:`write_taxii_users`), checked field by field."""
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise TaxiiUsersError(f"{path}: cannot read as JSON ({exc})") from None
        users = doc.get("users") if isinstance(doc, dict) else None
        if not isinstance(users, dict) or not users:
            raise TaxiiUsersError(f"{path}: users: expected an object of user names")
        entries: dict[str, Credential] = {}
        for user, entry in users.items():
            where = f"{path}: users.{user}"
            if not isinstance(user, str) or not _USER_NAME.match(user):
                raise TaxiiUsersError(f"{path}: users: {user!r} is not a user name")
            if not isinstance(entry, dict) or set(entry) != {"nation", "secret_sha256"}:
                raise TaxiiUsersError(f"{where}: expected exactly nation and secret_sha256")
            nation, digest = entry["nation"], entry["secret_sha256"]
            if not isinstance(digest, str) or not _SHA256.match(digest):
                raise TaxiiUsersError(f"{where}.secret_sha256: expected 64 hex digits")
            try:
                entries[user] = Credential(check_nation(str(nation)), digest)
            except ValueError as exc:
                raise TaxiiUsersError(f"{where}.nation: {exc}") from None
        return cls(entries)

    def nation_of(self, user: str, secret: str) -> str | None:
        entry = self._entries.get(user)
        digest = hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()
        expected = entry.secret_sha256 if entry else "0" * 64
        ok = hmac.compare_digest(digest, expected)
        return entry.nation if entry is not None and ok else None


class TaxiiUsersError(TrilinkError):
    """A TAXII users or secret file that cannot be used (one line: file, field, why)."""


USERS_FILE: Final = "taxii_users.json"
SECRET_FILE: Final = "taxii.secret"


def write_taxii_users(folder: Path, nations: list[str]) -> Path:
    """New credentials, one per nation: ``folder/taxii_users.json`` (user names, nations
    and SHA-256 digests only: what a server needs) and ``folder/<NATION>/taxii.secret``
    (``user:secret``, mode 0600: what that nation's analysts need). Returns the users
    file."""
    creds, handed = Credentials.issue(nations)
    folder.mkdir(parents=True, exist_ok=True)
    for nation, (user, secret) in handed.items():
        (folder / nation).mkdir(mode=0o700, exist_ok=True)
        write_text_atomic(folder / nation / SECRET_FILE, f"{user}:{secret}\n", mode=0o600)
    return write_text_atomic(folder / USERS_FILE, creds.to_json(), mode=0o644)


def read_taxii_secret(path: Path) -> tuple[str, str]:
    """``(user, secret)`` from a ``taxii.secret`` file."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxiiUsersError(f"{path}: cannot read ({exc})") from None
    user, sep, secret = text.partition(":")
    if not sep or not _USER_NAME.match(user) or len(secret) < 16:
        raise TaxiiUsersError(f"{path}: expected one line USER:SECRET (secret >= 16 chars)")
    return user, secret


_USER_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_SHA256: Final = re.compile(r"^[0-9a-f]{64}$")


class TaxiiError(TrilinkError):
    def __init__(self, status: int, title: str, description: str) -> None:
        super().__init__(description)
        self.status, self.title, self.description = status, title, description


def _taxii(body: Mapping[str, Any], status: int = 200, page: Page | None = None) -> Response:
    headers: dict[str, str] = {}
    if page is not None and page.first_added is not None and page.last_added is not None:
        headers["X-TAXII-Date-Added-First"] = taxii_time(page.first_added)
        headers["X-TAXII-Date-Added-Last"] = taxii_time(page.last_added)
    return Response(json.dumps(body), status_code=status, media_type=MEDIA_TAXII,
                    headers=headers)


def _error(exc: TaxiiError) -> Response:
    headers = {"WWW-Authenticate": 'Basic realm="trilink TAXII"'} if exc.status == 401 else {}
    body = {"title": exc.title, "description": exc.description, "http_status": str(exc.status)}
    return Response(json.dumps(body), status_code=exc.status, media_type=MEDIA_TAXII,
                    headers=headers)


def _parse_query(params: Mapping[str, str]) -> Query:
    known = {"added_after", "limit", "next", "match[id]", "match[type]", "match[version]",
             "match[spec_version]"}
    for key in params:
        if key not in known:
            raise TaxiiError(400, "bad parameter", f"unknown query parameter {key[:40]!r}")
    try:
        added_after = parse_time(params["added_after"]) if "added_after" in params else None
    except ValueError:
        raise TaxiiError(400, "bad parameter",
                         "added_after: expected a timestamp like 2025-02-21T14:13:00.000Z"
                         ) from None
    limit = DEFAULT_PAGE
    if "limit" in params:
        text = params["limit"]
        if not text.isdigit() or not 1 <= int(text) <= 10**6:
            raise TaxiiError(400, "bad parameter", "limit: expected a positive integer")
        limit = min(int(text), MAX_PAGE)
    after_seq = -1
    if params.get("next"):
        if not _SEQ.match(params["next"]):
            raise TaxiiError(400, "bad parameter", "next: expected the value a page returned")
        after_seq = int(params["next"])

    def listed(key: str) -> tuple[str, ...]:
        raw = params.get(key, "")
        items = tuple(x.strip() for x in raw.split(",") if x.strip())
        if len(items) > 100 or any(len(x) > 200 for x in items):
            raise TaxiiError(400, "bad parameter", f"{key}: at most 100 values of 200 chars")
        return items

    ids = listed("match[id]")
    for oid in ids:
        if not _OBJECT_ID.match(oid):
            raise TaxiiError(400, "bad parameter", f"match[id]: {oid!r} is not a STIX id")
    versions = listed("match[version]") or ("last",)
    for v in versions:
        if v not in ("last", "first", "all"):
            try:
                parse_time(v)
            except ValueError:
                raise TaxiiError(400, "bad parameter",
                                 "match[version]: expected last, first, all or a timestamp"
                                 ) from None
    return Query(added_after, frozenset(ids), frozenset(listed("match[type]")), versions,
                 frozenset(listed("match[spec_version]")), limit, after_seq)


@dataclass
class _StatusRecord:
    body: dict[str, Any]
    owner: str


def taxii_router(backend: TaxiiBackend, credentials: Credentials,
                 clock: Callable[[], dt.datetime],
                 on_reject: Callable[[str, str], None] | None = None,
                 lock: AbstractContextManager[object] | None = None,
                 title: str | None = None) -> APIRouter:
    """The TAXII 2.1 routes of one node. ``clock`` gives the current UTC time;
    ``on_reject(caller, reason)`` is told of every refused request."""
    router = APIRouter()
    guard = lock or threading.Lock()
    statuses: dict[str, _StatusRecord] = {}
    name = title or f"trilink {backend.nation} TAXII 2.1"

    def reject(caller: str, exc: TaxiiError) -> Response:
        if on_reject is not None:
            on_reject(caller, f"{exc.status} {exc.title}: {exc.description}")
        return _error(exc)

    def caller_of(request: Request) -> str:
        import base64

        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            raise TaxiiError(401, "unauthenticated", "HTTP Basic credentials required")
        try:
            user, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode(
                "utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            raise TaxiiError(401, "unauthenticated", "malformed Basic credentials") from None
        nation = credentials.nation_of(user[:100], secret[:200])
        if nation is None:
            raise TaxiiError(401, "unauthenticated", "unknown user or wrong secret")
        accept = request.headers.get("accept", MEDIA_TAXII)
        if "application/taxii+json" not in accept and "*/*" not in accept:
            raise TaxiiError(406, "not acceptable", f"Accept must allow {MEDIA_TAXII}")
        return nation

    def collection_of(cid: str, reader: str) -> frozenset[str]:
        for c, rel in backend.collections_for(reader):
            if c == cid:
                return rel
        raise TaxiiError(404, "not found", "no such collection")

    def describe(cid: str, rel: frozenset[str], reader: str) -> dict[str, Any]:
        return {"id": cid, "title": rel_marking(rel),
                "description": f"STIX objects {backend.nation} holds, released "
                               f"{rel_marking(rel)}; each one shown only where its TLP allows",
                "can_read": True, "can_write": reader == backend.nation,
                "media_types": [MEDIA_STIX]}

    def handle(request: Request, body: Callable[[str], Response]) -> Response:
        caller = "(unauthenticated)"
        try:
            caller = caller_of(request)
            with guard:
                return body(caller)
        except TaxiiError as exc:
            return reject(caller, exc)

    @router.get("/taxii2/")
    def discovery(request: Request) -> Response:
        base = str(request.base_url).rstrip("/") + router.prefix
        return handle(request, lambda c: _taxii({
            "title": name, "description": "trilink national node: cyber threat sharing "
            "under the US-Japan-ROK agreements", "default": f"{base}/{API_ROOT}/",
            "api_roots": [f"{base}/{API_ROOT}/"]}))

    @router.get(f"/{API_ROOT}/")
    def api_root(request: Request) -> Response:
        return handle(request, lambda c: _taxii({
            "title": name, "versions": [MEDIA_TAXII],
            "max_content_length": MAX_CONTENT_LENGTH}))

    @router.get(f"/{API_ROOT}/collections/")
    def collections(request: Request) -> Response:
        return handle(request, lambda c: _taxii({"collections": [
            describe(cid, rel, c) for cid, rel in backend.collections_for(c)]}))

    @router.get(f"/{API_ROOT}/collections/{{cid}}/")
    def collection(request: Request, cid: str) -> Response:
        return handle(request, lambda c: _taxii(describe(cid, collection_of(cid, c), c)))

    def page_of(cid: str, reader: str, q: Query) -> Page:
        collection_of(cid, reader)
        now = clock()
        return backend.store.query(cid, reader, q, lambda i, r: backend.visible(i, r, now))

    @router.get(f"/{API_ROOT}/collections/{{cid}}/objects/")
    def objects(request: Request, cid: str) -> Response:
        def run(c: str) -> Response:
            page = page_of(cid, c, _parse_query(request.query_params))
            body: dict[str, Any] = {"more": page.more,
                                    "objects": [dict(i.obj) for i in page.items]}
            if page.next is not None:
                body["next"] = page.next
            return _taxii(body, page=page)
        return handle(request, run)

    @router.get(f"/{API_ROOT}/collections/{{cid}}/manifest/")
    def manifest(request: Request, cid: str) -> Response:
        def run(c: str) -> Response:
            page = page_of(cid, c, _parse_query(request.query_params))
            body: dict[str, Any] = {"more": page.more, "objects": [
                {"id": i.id, "date_added": taxii_time(i.date_added), "version": i.version,
                 "media_type": MEDIA_STIX} for i in page.items]}
            if page.next is not None:
                body["next"] = page.next
            return _taxii(body, page=page)
        return handle(request, run)

    def one_object(request: Request, cid: str, oid: str, all_versions: bool) -> Response:
        def run(c: str) -> Response:
            if not _OBJECT_ID.match(oid):
                raise TaxiiError(400, "bad parameter", "object id: expected type--uuid")
            params = dict(request.query_params)
            params["match[id]"] = oid
            if all_versions:
                params.setdefault("match[version]", "all")
            page = page_of(cid, c, _parse_query(params))
            if not page.items:
                raise TaxiiError(404, "not found", "no such object")
            if all_versions:
                body: dict[str, Any] = {"more": page.more,
                                        "versions": [i.version for i in page.items]}
            else:
                body = {"more": page.more, "objects": [dict(i.obj) for i in page.items]}
            if page.next is not None:
                body["next"] = page.next
            return _taxii(body, page=page)
        return handle(request, run)

    @router.get(f"/{API_ROOT}/collections/{{cid}}/objects/{{oid}}/")
    def get_object(request: Request, cid: str, oid: str) -> Response:
        return one_object(request, cid, oid, all_versions=False)

    @router.get(f"/{API_ROOT}/collections/{{cid}}/objects/{{oid}}/versions/")
    def versions(request: Request, cid: str, oid: str) -> Response:
        return one_object(request, cid, oid, all_versions=True)

    @router.post(f"/{API_ROOT}/collections/{{cid}}/objects/")
    async def add_objects(request: Request, cid: str) -> Response:
        raw = await request.body()

        def run(c: str) -> Response:
            rel = collection_of(cid, c)
            if c != backend.nation:
                raise TaxiiError(403, "forbidden", f"only {backend.nation} writes here")
            ctype = request.headers.get("content-type", "")
            if not ctype.startswith("application/taxii+json"):
                raise TaxiiError(415, "unsupported media type", f"send {MEDIA_TAXII}")
            if len(raw) > MAX_CONTENT_LENGTH:
                raise TaxiiError(413, "too large", f"at most {MAX_CONTENT_LENGTH} bytes")
            try:
                envelope = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise TaxiiError(400, "bad body", "not JSON") from None
            objs = envelope.get("objects") if isinstance(envelope, dict) else None
            if not isinstance(objs, list):
                raise TaxiiError(400, "bad body", "expected an envelope with 'objects'")
            now = clock()
            ok, failed = backend.ingest(objs, c, rel, now)
            sid = str(_uuid4())
            record = {"id": sid, "status": "complete", "request_timestamp": taxii_time(now),
                      "total_count": len(ok) + len(failed), "success_count": len(ok),
                      "successes": [{"id": i, "version": v} for i, v in ok][:1000],
                      "failure_count": len(failed),
                      "failures": [{"id": i, "message": m} for i, m in failed][:1000],
                      "pending_count": 0, "pendings": []}
            statuses[sid] = _StatusRecord(record, c)
            return _taxii(record, status=202)
        return handle(request, run)

    @router.get(f"/{API_ROOT}/status/{{sid}}/")
    def status(request: Request, sid: str) -> Response:
        def run(c: str) -> Response:
            rec = statuses.get(sid[:64])
            if rec is None or rec.owner != c:
                raise TaxiiError(404, "not found", "no such status")
            return _taxii(rec.body)
        return handle(request, run)

    return router


def _uuid4() -> str:
    import uuid

    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))


def taxii_app(backend: TaxiiBackend, credentials: Credentials,
              clock: Callable[[], dt.datetime],
              on_reject: Callable[[str, str], None] | None = None,
              lock: AbstractContextManager[object] | None = None) -> FastAPI:
    """A FastAPI app serving one node's TAXII 2.1 alone (discovery at ``/taxii2/``)."""
    app = FastAPI(title=f"trilink {backend.nation} TAXII 2.1", docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.include_router(taxii_router(backend, credentials, clock, on_reject, lock))
    return app
