"""The HTTP application: ``POST /api``, the upload ``PUT /file/<id>`` and the
``/component/get|thumbnail|remove`` file endpoints (multipart parts: the ``multipart`` extension), as an aiohttp application. Every answer,
errors included, is JSON (or the file asked for); an unexpected exception becomes a JSON
``ServerError``, never HTML.

The route table is :data:`ROUTES`. Other modules add routes without editing this one: see
:mod:`publisher.server.extensions` (the event hub and multipart uploads live there). Handlers
run on the event loop and must not block it: they hand SQLite work, encodes and file writes to
:meth:`ServerContext.run`, a bounded pool of worker threads.
"""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable, TypeVar

from aiohttp import web

from publisher.server import auth
from publisher.server.actions import SERVER_LOCATION_ID, Api
from publisher.server.errors import (AuthenticationError, DiskFullError, NotFoundError, ServerError, ValidationError,
                                     disk_full)
from publisher.server.files import CHUNK, ContentStore, check_component_id, parse_checksum
from publisher.server.record import Recorder
from publisher.server.json_limits import loads_bounded
from publisher.server.storage import Storage
from publisher.server.throttle import LoginThrottle
from publisher.server.thumbnails import ThumbnailScaler
from publisher.server.update_events import component_added_event
from publisher.server.wan import WanModel

log = logging.getLogger(__name__)

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Worker threads: request work done at the same time (SQLite, thumbnails, upload writes).
WORKERS = 16
#: Largest ``/api`` body accepted (a 413 above it).
MAX_API_BODY = 64 * 1024 * 1024
#: ``/api`` bodies up to this size are read before the key is checked (both on one trip to a
#: worker thread): a thousand connections sending one cost 64 MiB at most.
SMALL_BODY = 64 * 1024
#: ``/api`` bodies above this size (and chunked ones) are read and parsed :data:`BIG_BODIES` at a time.
BIG_BODY = 1024 * 1024
BIG_BODIES = 2
#: Seconds an upload or ``/api`` body may stall before the request is dropped.
BODY_TIMEOUT = 120.0
#: Seconds a connection may stay idle, or take to send a request's head, before it is closed.
IDLE_TIMEOUT = 120.0
#: Content types ``/api`` takes: JSON only, so that no web page can post to it with a form.
JSON_TYPES = ("application/json",)


@dataclass
class ServerContext:
    """What request handlers (the core's and the extensions') work with: the API, the data, the
    recorder and the worker pool. Made once per server; handlers may use it from the event loop.
    """

    api: Api
    recorder: Recorder | None = None
    #: ``--throttle``/``--latency`` (testing only): each request waits, each body is paced.
    wan: WanModel | None = None
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="request"))
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    thumbnails: ThumbnailScaler = field(default_factory=ThumbnailScaler)
    #: Seconds a request body may stall (see :data:`BODY_TIMEOUT`).
    body_timeout: float = BODY_TIMEOUT
    big_bodies: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(BIG_BODIES))

    @property
    def storage(self) -> Storage:
        return self.api.storage

    @property
    def store(self) -> ContentStore:
        return self.api.store

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on a worker thread: what blocks (SQLite, files, images) runs there."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    def authenticate(self, username: object, api_key: object) -> dict:
        """The user row for this user name and key, or AuthenticationError; blocks (SQLite):
        call it through :meth:`run`."""
        return auth.authenticate(self.storage.connection(), username, api_key)

    def close(self) -> None:
        """Stop the worker pool (work not started is dropped)."""
        self.executor.shutdown(wait=False, cancel_futures=True)


class CoreRoutes:
    """The handlers of :data:`ROUTES`."""

    def __init__(self, context: ServerContext) -> None:
        self.ctx = context

    # / ------------------------------------------------------------------------------------
    async def root(self, request: web.Request) -> web.Response:
        return json_response(200, {"server": "ftrack-publisher embedded server", "api": "/api"})

    # POST /api ----------------------------------------------------------------------------
    async def api(self, request: web.Request) -> web.Response:
        username, key = request.headers.get("ftrack-user"), request.headers.get("ftrack-api-key")
        base_url = f"{request.scheme}://{request.host}"
        length = request.content_length
        if length is not None and length <= SMALL_BODY:
            # A small body costs less to read than a trip to a worker thread and back: it is read
            # first, and the key is checked on the worker, before the body is even decoded.
            raw = await read_body(request, SMALL_BODY, "/api", self.ctx.body_timeout)
            results = await self.ctx.run(self._api, raw, None, username, key, request.content_type, base_url)
            return web.Response(body=results, content_type="application/json")
        # Bigger bodies: who is calling and what they send are checked before a byte is read.
        user = await self.ctx.run(self.ctx.authenticate, username, key)
        _check_json(request.content_type)
        if length is not None and length <= BIG_BODY:
            raw = await read_body(request, MAX_API_BODY, "/api", self.ctx.body_timeout)
            results = await self.ctx.run(self._api, raw, user, username, key, request.content_type, base_url)
        else:
            # Big (or chunked) bodies are read and parsed a few at a time: memory stays bounded
            # however many arrive at once.
            async with self.ctx.big_bodies:
                raw = await read_body(request, MAX_API_BODY, "/api", self.ctx.body_timeout)
                results = await self.ctx.run(self._api, raw, user, username, key, request.content_type, base_url)
                del raw
        return web.Response(body=results, content_type="application/json")

    def _api(self, raw: bytes | bytearray, user: dict | None, username: str | None, key: str | None,
             content_type: str, base_url: str) -> bytes:
        """Authenticate (unless ``user`` is given), check the content type, parse and apply."""
        if user is None:
            user = self.ctx.authenticate(username, key)
            _check_json(content_type)
        recorder = self.ctx.recorder
        try:
            operations = loads_bounded(raw)
        except ValidationError:
            if recorder is not None:
                recorder.write({"method": "POST", "path": "/api", "operations": None})
            raise
        if recorder is not None:
            recorder.write({"method": "POST", "path": "/api", "operations": operations})
        return json.dumps(self.ctx.api.handle(operations, user["username"], key, base_url, user=user)).encode()

    # PUT /file/<id> -----------------------------------------------------------------------
    async def upload(self, request: web.Request) -> web.Response:
        component_id, expected = await self.ctx.run(
            self._check_upload, request.match_info["id"], request.query.get("token", ""),
            request.content_length, request.headers.get("Content-MD5"),
        )
        size = await receive_upload(self.ctx, request, component_id, request.content_length or 0, expected)
        await self.ctx.run(self.ctx.api.use_upload_grant, component_id)
        if self.ctx.api.events is not None:  # the event hub announces the stored file, as ftrack's does
            self.ctx.api.events(component_added_event(component_id, SERVER_LOCATION_ID))
        return json_response(200, {"component_id": component_id, "size": size})

    def _check_upload(self, raw_id: str, token: str, length: int | None,
                      header_md5: str | None) -> tuple[str, bytes | None]:
        component_id = check_component_id(raw_id)
        upload = self.ctx.api.upload_grant(component_id, token)
        if length is None:
            raise ValidationError("The upload needs a Content-Length header (a whole number of bytes).")
        if self.ctx.api.stored_in_server(self.ctx.storage.connection(), component_id):
            raise ServerError(f"Component {component_id} already has its data in ftrack.server; its data cannot be "
                              "replaced. Publish the file as a new component.", exception="IntegrityError", status=409)
        if length != upload["size"]:
            raise ValidationError(
                f"The upload is {length} bytes but get_upload_metadata announced {upload['size']}; the file was not stored."
            )
        announced = upload["checksum"] or None
        if header_md5 and announced and header_md5 != announced:
            raise ValidationError("The Content-MD5 header differs from the checksum given to get_upload_metadata.")
        checksum = announced or header_md5
        return component_id, (parse_checksum(checksum) if checksum else None)

    # /component/get|thumbnail|remove ------------------------------------------------------
    def _component(self, params: dict[str, str]) -> tuple[str, dict | None]:
        self.ctx.authenticate(params.get("username"), params.get("apiKey"))
        component_id = check_component_id(params.get("id"), "id")
        row = self.ctx.storage.connection().execute(
            'SELECT * FROM "component" WHERE "id" = ?', (component_id,)).fetchone()
        return component_id, (dict(row) if row else None)

    async def get(self, request: web.Request) -> web.StreamResponse:
        component_id, row = await self.ctx.run(self._component, dict(request.query))
        path = self.ctx.store.path(component_id)
        if not await self.ctx.run(path.is_file):
            raise NotFoundError(f"The server holds no file for component {component_id}.")
        file_type = (row or {}).get("file_type") or ""
        name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{(row or {}).get('name') or component_id}{file_type}")
        mime = mimetypes.guess_type("x" + file_type)[0] or "application/octet-stream"
        return web.FileResponse(path, chunk_size=CHUNK, headers={
            "Content-Type": mime, "Content-Disposition": f'attachment; filename="{name}"'})

    async def thumbnail(self, request: web.Request) -> web.Response:
        data = await self.ctx.run(self._thumbnail, dict(request.query))
        return web.Response(body=data, content_type="image/jpeg")

    def _thumbnail(self, params: dict[str, str]) -> bytes:
        component_id, _row = self._component(params)
        path = self.ctx.store.path(component_id)
        if not path.is_file():
            raise NotFoundError(f"The server holds no thumbnail file for component {component_id}.")
        size_text = params.get("size")
        if size_text:
            if not size_text.isdigit() or not 0 < int(size_text) <= 8192:
                raise ValidationError(f"size must be a whole number of pixels from 1 to 8192, not '{size_text}'.")
            return self.ctx.thumbnails.scaled(path, component_id, int(size_text))
        return path.read_bytes()

    async def remove(self, request: web.Request) -> web.Response:
        """The component's file, its ftrack.server location row and any open upload of it.
        POST, or GET as the stock client sends it; never HEAD (a probe must not delete)."""
        def remove() -> dict:
            component_id, _row = self._component(dict(request.query))
            return {"component_id": component_id, "removed": self.ctx.api.remove_component_data(component_id)}

        return json_response(200, await self.ctx.run(remove))


#: The core route table: (method, path, handler name of :class:`CoreRoutes`). GET routes answer
#: HEAD too. Extensions add theirs through :mod:`publisher.server.extensions`.
ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/", "root"),
    ("POST", "/api", "api"),
    ("PUT", r"/file/{id:[^/]*}", "upload"),
    ("GET", "/component/get", "get"),
    ("GET", "/component/thumbnail", "thumbnail"),
    ("GET", "/component/remove", "remove"),
    ("POST", "/component/remove", "remove"),
]
#: GET routes that do not answer HEAD: they change something.
_NO_HEAD = {"remove"}

#: Paths whose requests ``--record`` lists (``/api`` records its operations itself).
_RECORDED_PREFIXES = ("/component/", "/file/", "/upload/")


def make_app(context: ServerContext, extensions: Iterable[Callable[[web.Application, ServerContext], None]] | None = None
             ) -> web.Application:
    """The aiohttp application: :data:`ROUTES`, then each extension's ``routes(app, context)``
    (by default those of :func:`publisher.server.extensions.route_hooks`)."""
    from publisher.server import extensions as extension_modules

    app = web.Application(middlewares=[_errors_middleware(context)], client_max_size=MAX_API_BODY)
    core = CoreRoutes(context)
    for method, path, name in ROUTES:
        if method == "GET":
            app.router.add_get(path, getattr(core, name), allow_head=name not in _NO_HEAD)
        else:
            app.router.add_route(method, path, getattr(core, name))
    for add_routes in (extension_modules.route_hooks() if extensions is None else extensions):
        add_routes(app, context)
    app.on_cleanup.append(lambda _app: _close(context))
    return app


async def _close(context: ServerContext) -> None:
    context.close()


def _errors_middleware(context: ServerContext) -> Any:
    @web.middleware
    async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        path, method = request.path, request.method
        strict = request.headers.get("ftrack-strict-api", "").strip().lower() == "true"
        address = request.remote or ""
        if context.recorder is not None and path.startswith(_RECORDED_PREFIXES):
            context.recorder.write({"method": method, "path": path})
        if context.wan is not None:
            await context.wan.delay()
        try:
            wait = context.throttle.retry_after(address) if path != "/" else 0.0
            if wait > 0:
                raise ServerError(f"Too many failed logins from {address}; wait {wait:.0f} s, then check the "
                                  "user name and API key.", exception="InvalidCredentialsError", status=429)
            return await handler(request)
        except AuthenticationError as exc:
            context.throttle.failed(address)
            error = exc
        except ServerError as exc:
            error = exc
        except web.HTTPMethodNotAllowed as exc:
            allowed = " or ".join(sorted(m for m in exc.allowed_methods if m != "HEAD"))
            error = ServerError(f"Use {allowed} for {path}.", exception="MethodNotAllowed", status=405)
        except web.HTTPNotFound:
            error = NotFoundError(f"Nothing is served at {path}.")
        except web.HTTPException:
            raise  # an extension's own answer (a websocket refusal, a redirect)
        except Exception as exc:  # a full disk, or a bug: still answer JSON the clients can read
            if disk_full(exc):
                log.error("request %s %s: the disk is full", method, path)
                error = DiskFullError()
            else:
                # The message names no file: server paths stay in the server's own log.
                log.exception("request %s %s failed", method, path)
                error = ServerError(f"The server failed to handle the request ({type(exc).__name__}); "
                                    "its log says more.")
        # The ftrack API answers errors of /api with 200 unless the client asks for strict codes.
        status = error.status if (strict or path != "/api") else 200
        payload = error.payload()
        # The traceback's frames hold the request's data (a 64 MiB body) and this frame holds the
        # error: a cycle that would keep it all until the garbage collector happens to run.
        error.__traceback__ = error.__context__ = None
        return json_response(status, payload)

    return errors


def _check_json(content_type: str) -> None:
    if content_type not in JSON_TYPES:
        raise ServerError(f"/api takes a JSON body: send it with 'Content-Type: application/json', "
                          f"not '{content_type[:60]}'.", exception="ValidationError", status=415)


def json_response(status: int, obj: Any) -> web.Response:
    """A JSON answer."""
    return web.Response(status=status, body=json.dumps(obj).encode(), content_type="application/json")


async def read_body(request: web.Request, limit: int, what: str, timeout: float = BODY_TIMEOUT) -> bytearray:
    """The whole request body (chunked or not), at most ``limit`` bytes: a 413 ValidationError
    above it, before reading it when Content-Length announces it. A body of announced length is
    read into one buffer of that size (no list of pieces joined afterwards: half the memory)."""
    too_large = ServerError(f"The request body is larger than {limit // (1024 * 1024)} MiB, the limit of {what}.",
                            exception="ValidationError", status=413)
    announced = request.content_length
    if announced is not None and announced > limit:
        raise too_large
    body = bytearray(announced or 0)
    view = memoryview(body)
    size = 0
    while True:
        try:
            block = await asyncio.wait_for(request.content.readany(), timeout)
        except asyncio.TimeoutError:  # not yet the built-in TimeoutError on Python 3.10
            raise ValidationError(f"The request body stalled for {timeout:.0f} s; send it again.") from None
        if not block:
            break
        end = size + len(block)
        if end > limit:
            raise too_large
        if announced is not None and end <= announced:
            view[size:end] = block
        else:
            view.release()
            body[size:] = block
            view = memoryview(body)
        size = end
    view.release()
    if size < len(body):
        del body[size:]
    return body


async def receive_upload(context: ServerContext, request: web.Request, component_id: str, length: int,
                         expected_md5: bytes | None) -> int:
    """Stream the request body (``length`` bytes) into the content store; returns the size stored.

    The event loop reads pieces of :data:`CHUNK` bytes while a worker thread hashes and writes the
    piece before (so an upload that stalls holds no thread). Nothing is kept when the body is
    short, its MD5 differs, the client leaves or the request is cancelled.
    """
    loop = asyncio.get_running_loop()
    pacer = context.wan.pacer() if context.wan is not None else None
    sink = await context.run(context.store.open_upload, component_id, length, expected_md5)
    writing: asyncio.Future | None = None
    try:
        remaining = length
        while remaining > 0:
            try:
                block = await asyncio.wait_for(_read_up_to(request, min(CHUNK, remaining)), context.body_timeout)
            except (OSError, asyncio.TimeoutError) as exc:  # the connection broke, or it stalled
                reason = "it stalled" if isinstance(exc, asyncio.TimeoutError) else "the connection broke"
                raise ServerError(f"The upload stopped before the whole file arrived ({reason}); "
                                  "nothing was stored. Send the file again.", status=400) from None
            if not block:
                break
            if pacer is not None:
                await pacer.take(len(block))
            if writing is not None:
                await writing
            writing = loop.run_in_executor(context.executor, sink.write, block)
            remaining -= len(block)
        if writing is not None:
            await writing
            writing = None
        return await context.run(sink.finish)
    except OSError as exc:
        sink.abort()
        if disk_full(exc):
            raise DiskFullError("The upload") from None
        raise
    except BaseException:
        sink.abort()  # waits for a write in progress on a worker thread
        raise


async def _read_up_to(request: web.Request, size: int) -> bytes:
    """``size`` bytes of the body, fewer only at its end."""
    try:
        return await request.content.readexactly(size)
    except asyncio.IncompleteReadError as exc:
        return exc.partial
