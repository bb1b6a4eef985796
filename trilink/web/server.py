"""``trilink serve``: one nation's dashboard and REST/SSE API (FastAPI + uvicorn).

The app reads the node's picture stream (:class:`~trilink.web.feed.PictureFeed` →
:class:`~trilink.web.view.PictureView`) and serves, to logged-in users only, what the
agreements release to each user's nation:

- ``GET /`` the page (Leaflet from the installed XStatic-Leaflet package, no CDN);
  ``GET /timeline`` the record's time axis with the picture on it, from
  ``GET /api/timeline`` (:mod:`trilink.alliance.timeline`'s marks and the picture's
  launches and warnings);
- ``GET /api/picture`` everything visible now (and the stream sequence it is as of);
  ``/api/tracks``, ``/api/fused``, ``/api/warnings``, ``/api/warnings/{id}/cap.xml``,
  ``/api/consultations``, ``/api/hotline``, ``/api/agreements``; ``/api/map`` the map layers;
- ``GET /api/stream`` Server-Sent Events, one per change, the JetStream sequence as the
  event id: a client reconnecting with ``Last-Event-ID`` (browsers do this themselves)
  or ``?after=SEQ`` gets every later change once, in order;
- ``POST /api/hotline`` a hotline request, passed to the node's control API
  (:mod:`trilink.live.control`) as the logged-in operator's authority;
- ``POST /api/login`` (a token from ``trilink keys token``) sets an HttpOnly cookie;
  the API also takes ``Authorization: Bearer <token>``.

Every refused request (bad token, a viewer trying to act, a malformed hotline request)
is logged on the ``trilink.web`` logger and counted in ``/api/status``.

For other drivers: :func:`serve_in_background` runs a dashboard on a thread of its own
(``trilink live --serve`` uses it), :func:`run` in the current event loop.
"""


import asyncio
import collections
import contextlib
import dataclasses
import functools
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final

import msgspec
from fastapi import (
    APIRouter,
    Body,
    Depends,
    FastAPI,
    Header,
    HTTPException,
    Query,
    Request,
    Response,
)
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sse_starlette.sse import EventSourceResponse

from trilink.sharing.envelope import KeyRegistry
from trilink.web.auth import TokenError, User, verify_token
from trilink.web.view import PictureView

log = logging.getLogger("trilink.web")
COOKIE: Final = "trilink_session"
# What a dashboard operator may ask of the node's hotline (the control API's ops minus
# none: the node checks each request itself; the list only keeps unknown ops out early).
HOTLINE_OPS: Final = ("list", "show", "open", "join", "say", "read", "draft", "amend",
                      "approve", "decline", "conclude", "statement")
MAX_BODY_BYTES: Final = 64 * 1024
# The exercise programme whose CP-SAT schedule the timeline shows (None: none).
TIMELINE_PLAN: Final = "programme-2026-2028"
Control = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
_JSON = msgspec.json.Encoder()


@dataclasses.dataclass
class Refusals:
    """Refused requests, for /api/status and the log (never raises)."""

    count: int = 0
    recent: collections.deque[str] = dataclasses.field(
        default_factory=lambda: collections.deque(maxlen=200))

    def note(self, request: Request | None, why: str) -> None:
        self.count += 1
        peer = request.client.host if request is not None and request.client else "-"
        path = request.url.path if request is not None else "-"
        line = f"refused {path} from {peer}: {why}"
        self.recent.append(line)
        log.warning(line)


def _json(obj: object) -> Response:
    return Response(_JSON.encode(obj), media_type="application/json")


def create_app(nation: str, registry: KeyRegistry, view: PictureView,
               wait_change: Callable[[int, float], Awaitable[None]],
               version: Callable[[], int], control: Control | None = None,
               clock: Callable[[], float] = time.time,
               closing: Callable[[], bool] = lambda: False,
               routers: Sequence[APIRouter] = (),
               timeline_plan: str | None = TIMELINE_PLAN) -> FastAPI:
    """The dashboard app of ``nation`` over ``view`` (see the module docstring).

    ``wait_change(version, timeout_s)`` returns when the view has changed since
    ``version()`` was read; ``control`` asks the node's control API (None: no hotline);
    streams end once ``closing()`` (the server is stopping). ``routers`` are mounted as
    they are (e.g. the node's TAXII server, :func:`trilink.cyber.taxii.taxii_router`,
    which authenticates its own callers). ``timeline_plan``: the exercise programme
    scheduled on the timeline (None: the record and the picture only).
    """
    about: dict[str, Any] = dict(
        title=f"trilink dashboard — {nation}",
        description="The national node's common picture: tracks, fused objects, CAP "
                    "warnings, hotline consultations and the agreements in force, filtered "
                    "by releasability to the logged-in user's nation. The stream's event "
                    "ids are JetStream sequences.",
        version="1")
    try:  # FastAPI ≥ 0.165 also caps bodies sent without a Content-Length (chunked)
        app = FastAPI(**about, max_body_size=MAX_BODY_BYTES)
    except TypeError:
        app = FastAPI(**about)
    refusals = Refusals()
    static = resources.files("trilink.web").joinpath("static")
    import xstatic.pkg.leaflet as leaflet  # type: ignore[import-untyped]

    app.mount("/static/leaflet", StaticFiles(directory=leaflet.BASE_DIR), name="leaflet")
    app.mount("/static/app", StaticFiles(directory=str(static)), name="app")

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                      ) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            refusals.note(request, "body too large")
            return JSONResponse({"detail": "request body too large"}, status_code=413)
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'none'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def user_of(request: Request,
                authorization: Annotated[str | None, Header()] = None) -> User:
        token = None
        if authorization is not None:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "bearer" or not value:
                refusals.note(request, "authorization: expected 'Bearer <token>'")
                raise HTTPException(401, "authorization: expected 'Bearer <token>'")
            token = value.strip()
        else:
            token = request.cookies.get(COOKIE)
        if not token:
            raise HTTPException(401, "log in with a token from `trilink keys token`")
        try:
            return verify_token(token, registry, nation, clock())
        except TokenError as exc:
            refusals.note(request, str(exc))
            raise HTTPException(401, str(exc)) from None

    Viewer = Annotated[User, Depends(user_of)]

    def me(user: User) -> dict[str, Any]:
        return {"user": user.name, "nation": user.nation, "role": user.role,
                "authority": user.authority, "dashboard": nation,
                "may_operate": user.may_operate, "expires_unix": user.expires_unix,
                "hotline": control is not None and user.may_operate}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        html = static.joinpath("index.html").read_text("utf-8")
        return HTMLResponse(html.replace("{{NATION}}", nation))

    @app.get("/timeline", response_class=HTMLResponse, include_in_schema=False)
    async def timeline_page() -> HTMLResponse:
        html = static.joinpath("timeline.html").read_text("utf-8")
        return HTMLResponse(html.replace("{{NATION}}", nation))

    @app.get("/api/timeline", summary="The record (agreements, meetings, frameworks, "
             "exercises, the reference launches), the programme's scheduled exercises and "
             "the picture's launches and warnings, as marks on one time axis")
    async def timeline(user: Viewer) -> Response:
        from trilink.web.view import picture_timeline

        record, plan_error = await asyncio.to_thread(_timeline_record, timeline_plan)
        return _json({"node": nation, "viewer": user.nation, "lanes": _TIMELINE_LANES,
                      "plan": timeline_plan, "plan_error": plan_error, "record": record,
                      "picture": picture_timeline(view, user.nation)})

    @app.post("/api/login", summary="Log in with a token; sets an HttpOnly session cookie")
    async def login(request: Request, token: Annotated[str, Body(embed=True)]) -> Response:
        try:
            user = verify_token(token, registry, nation, clock())
        except TokenError as exc:
            refusals.note(request, str(exc))
            raise HTTPException(401, str(exc)) from None
        response = _json(me(user))
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                            max_age=max(1, int(user.expires_unix - clock())), path="/")
        return response

    @app.post("/api/logout", summary="Forget the session cookie")
    async def logout() -> Response:
        response = _json({"ok": True})
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/api/me", summary="Who the token says the caller is")
    async def whoami(user: Viewer) -> Response:
        return _json(me(user))

    @app.get("/api/status", summary="The feed's state and refusal count")
    async def status(user: Viewer) -> Response:
        return _json({"node": nation, "last_seq": view.last_seq,
                      "events": len(view.entries), "rejected_events": view.rejected,
                      "refused_requests": refusals.count})

    @app.get("/api/map", summary="Map layers: coastlines, 12/200 nm zones, sensors, launch "
                                 "sites (GeoJSON and lists)")
    async def map_layers(user: Viewer) -> Response:
        from trilink.web.geodata import map_layers as layers

        data = await asyncio.to_thread(layers)
        return Response(data, media_type="application/json",
                        headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/api/picture", summary="Everything the caller may see, as of last_seq")
    async def picture(user: Viewer) -> Response:
        return _json(view.snapshot(user.nation))

    def kind_route(path: str, kind: str, summary: str) -> None:
        async def items(user: Viewer) -> Response:
            return _json({"last_seq": view.last_seq, "items": view.items(user.nation, kind)})

        app.get(path, summary=summary, name=f"list_{kind}")(items)

    @app.get("/api/exercise", summary="Whether the picture is exercise traffic (the page's "
             "EXERCISE banner), and its drill items and Exercise warnings")
    async def exercise(user: Viewer) -> Response:
        return _json(view.exercise(user.nation))

    kind_route("/api/tracks", "track", "Source tracks (own and partners') the caller may see")
    kind_route("/api/fused", "fused", "Fused objects the caller may see")
    kind_route("/api/warnings", "warning", "CAP messages the node issued")
    kind_route("/api/consultations", "consultation", "Hotline consultations")
    kind_route("/api/hotline", "hotline", "Hotline posts")
    kind_route("/api/agreements", "agreement", "The agreements in force")

    @app.get("/api/warnings/{identifier}/cap.xml", summary="One CAP 1.2 message (XML)")
    async def cap_xml(identifier: str, user: Viewer) -> Response:
        item = view.warning(user.nation, identifier)
        if item is None:
            raise HTTPException(404, f"no warning {identifier!r}")
        return Response(item.cap_xml, media_type="application/cap+xml")

    @app.get("/api/stream", summary="Server-Sent Events: every change the caller may see; "
                                    "id = JetStream sequence")
    async def stream(request: Request, user: Viewer,
                     last_event_id: Annotated[str | None, Header()] = None,
                     after: Annotated[int | None, Query(ge=0)] = None) -> EventSourceResponse:
        start = after if after is not None else 0
        if last_event_id is not None:
            if not last_event_id.isdigit() or len(last_event_id) > 19:
                refusals.note(request, "last-event-id: expected a sequence number")
                raise HTTPException(400, "Last-Event-ID: expected a sequence number")
            start = int(last_event_id)
        viewer = user.nation
        expires = user.expires_unix

        async def events() -> AsyncIterator[dict[str, str]]:
            seq = start
            while not closing():
                if clock() >= expires:
                    yield {"event": "expired", "data": "{}"}
                    return
                seen = version()
                top = view.last_seq
                changes = list(view.changes_after(seq, viewer, limit=1000))
                for ch in changes:
                    yield {"id": str(ch.seq), "event": ch.kind, "data": ch.data.decode()}
                    if ch.kind == "reset":
                        return
                seq = changes[-1].seq if len(changes) >= 1000 else top
                if len(changes) < 1000:
                    await wait_change(seen, 15.0)

        return EventSourceResponse(events(), ping=15, headers={"Cache-Control": "no-store"})

    @app.post("/api/hotline/request", summary="A hotline request to the node's control API "
                                      "(operators of this nation only)")
    async def hotline(request: Request, user: Viewer,
                      body: Annotated[dict[str, Any], Body()]) -> Response:
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            refusals.note(request, "hotline: expected application/json")
            raise HTTPException(415, "expected application/json")
        if not user.may_operate:
            refusals.note(request, f"hotline: {user.nation} {user.role} {user.name} may not "
                                   f"act on {nation}'s hotline")
            raise HTTPException(403, f"{user.name} ({user.nation}, {user.role}) may not act "
                                     f"on {nation}'s hotline")
        if control is None:
            raise HTTPException(503, "this dashboard has no control connection to its node")
        op = body.get("op")
        if op not in HOTLINE_OPS:
            refusals.note(request, f"hotline: op {op!r}")
            raise HTTPException(422, f"op: expected one of {', '.join(HOTLINE_OPS)}")
        req = dict(body)
        if user.authority is not None:
            req["authority"] = user.authority  # an operator acts as the token says
        try:
            reply = await control(req)
        except Exception as exc:  # the node is unreachable: one line, no traceback
            raise HTTPException(502, " ".join(str(exc).split()) or type(exc).__name__) from None
        if not reply.get("ok"):
            refusals.note(request, f"hotline: {reply.get('error')}")
        return _json(reply)

    for router in routers:
        app.include_router(router)
    app.state.refusals = refusals
    return app


_TIMELINE_LANES: Final = ("agreements", "meetings", "frameworks", "exercises", "launches",
                           "picture")


@functools.cache
def _timeline_record(plan: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The record's marks (the same data as ``trilink record timeline``), once per
    process: the schedule's solve takes a second or two."""
    from trilink.alliance.timeline import mark_json, timeline_marks
    from trilink.errors import TrilinkError

    try:
        marks, error = timeline_marks(programme=plan), None
    except TrilinkError as exc:  # a bad programme: the record alone, and why
        marks, error = timeline_marks(), " ".join(str(exc).split())
    return [mark_json(m) for m in marks], error


# ------------------------------------------------------------------ running it


@dataclasses.dataclass(frozen=True)
class ServeConfig:
    nation: str
    nats_url: str
    keys_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    # `trilink keys nats` folder: the feed reads as the nation's dashboard user, hotline
    # requests go as its operator user (None: a development server without users).
    nats_creds: Path | None = None
    # The exercise programme scheduled on the timeline page (None: the record only).
    timeline_plan: str | None = TIMELINE_PLAN


def nats_control(url: str, nation: str, options: dict[str, Any] | None = None) -> Control:
    """The node's control API over NATS (``trilink.live.client.request``)."""
    from trilink.live.client import request

    async def ask(req: dict[str, Any]) -> dict[str, Any]:
        return await request(url, nation, req, **(options or {}))

    return ask


async def run(config: ServeConfig, started: Callable[[str], None] | None = None,
              stop: asyncio.Event | None = None) -> None:
    """Serve ``config.nation``'s dashboard until ``stop`` is set (or forever)."""
    import uvicorn

    from trilink.live.keys import load_registry
    from trilink.web.feed import PictureFeed

    registry = load_registry(config.keys_dir / "registry.json")
    view = PictureView(config.nation)
    reader, operator = _nats_users(config)
    feed = PictureFeed(view, config.nats_url, reader)
    await feed.start()
    app = create_app(config.nation, registry, view, feed.wait_change,
                     lambda: feed.version,
                     nats_control(config.nats_url, config.nation, operator),
                     closing=lambda: feed.closing, timeline_plan=config.timeline_plan)
    server = uvicorn.Server(uvicorn.Config(app, host=config.host, port=config.port,
                                           log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=1))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                await task  # raises why it could not start
                raise OSError(f"--port: cannot listen on {config.host}:{config.port}")
            await asyncio.sleep(0.02)
        if started is not None:
            port = server.servers[0].sockets[0].getsockname()[1] if server.servers else \
                config.port
            started(f"http://{config.host}:{port}/")
        if stop is None:
            await task
        else:
            await stop.wait()
            feed.close_waiters()  # open streams end first, then the server
            await asyncio.sleep(0.05)
            server.should_exit = True
            await task
    finally:
        if not task.done():
            server.should_exit = True
            with contextlib.suppress(Exception):
                await task
        await feed.stop()


def _nats_users(config: ServeConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Connection options of the feed (dashboard user) and of hotline requests (operator
    user; the dashboard's own if the folder has no operator seed: the node refuses)."""
    if config.nats_creds is None:
        return {}, {}
    from trilink.live import natsconf as nc

    reader = nc.creds_options(config.nats_creds, config.nation, nc.ROLE_DASHBOARD)
    try:
        operator = nc.creds_options(config.nats_creds, config.nation, nc.ROLE_OPERATOR)
    except nc.NatsConfError:
        operator = reader
    return reader, operator


class Background:
    """A dashboard on a thread of its own (see :func:`serve_in_background`)."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.url = ""
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, daemon=True,
                                        name=f"trilink-web-{config.nation}")

    def _main(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()

            def started(url: str) -> None:
                self.url = url
                self._ready.set()

            await run(self.config, started, self._stop)

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by start()
            self.error = exc
        finally:
            self._ready.set()

    def start(self, timeout_s: float = 30.0) -> "Background":
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError(f"dashboard {self.config.nation} did not start in {timeout_s} s")
        if self.error is not None:
            raise self.error
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        self._thread.join(timeout_s)


def serve_in_background(nation: str, nats_url: str, keys_dir: Path, port: int = 0,
                        host: str = "127.0.0.1",
                        nats_creds: Path | None = None) -> Background:
    """Start ``nation``'s dashboard on a daemon thread; returns once it listens.

    ``port=0`` picks a free port (``.url`` says which). ``.stop()`` ends it. This is the
    entry point for ``trilink live --serve``: one call per nation, after the nodes'
    picture streams exist (or before: the feed creates the stream and waits)."""
    return Background(ServeConfig(nation, nats_url, keys_dir, host, port,
                                  nats_creds)).start()
