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
import hmac
import json
import logging
import mimetypes
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable, TypeVar

from aiohttp import web

from publisher.server import auth
from publisher.server.actions import Api
from publisher.server.errors import AuthenticationError, NotFoundError, ServerError, ValidationError
from publisher.server.files import CHUNK, ContentStore, check_component_id, parse_checksum
from publisher.server.record import Recorder
from publisher.server.storage import Storage
from publisher.server.wan import WanModel

log = logging.getLogger(__name__)

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Worker threads: request work done at the same time (SQLite, thumbnails, upload writes).
WORKERS = 16
#: Largest ``/api`` body accepted.
MAX_API_BODY = 256 * 1024 * 1024
#: Seconds an upload or ``/api`` body may stall before the request is dropped.
BODY_TIMEOUT = 120.0


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
        raw = await read_body(request, MAX_API_BODY, "/api")
        results = await self.ctx.run(
            self._api, raw, request.headers.get("ftrack-user"), request.headers.get("ftrack-api-key"),
            f"{request.scheme}://{request.host}",
        )
        return web.Response(body=results, content_type="application/json")

    def _api(self, raw: bytes, user: str | None, key: str | None, base_url: str) -> bytes:
        recorder = self.ctx.recorder
        try:
            operations = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            if recorder is not None:
                recorder.write({"method": "POST", "path": "/api", "operations": None})
            raise ValidationError(f"The request body is not valid JSON: {exc}. Send a JSON list of operations.") from None
        if recorder is not None:
            recorder.write({"method": "POST", "path": "/api", "operations": operations})
        return json.dumps(self.ctx.api.handle(operations, user, key, base_url)).encode()

    # PUT /file/<id> -----------------------------------------------------------------------
    async def upload(self, request: web.Request) -> web.Response:
        component_id, expected = await self.ctx.run(
            self._check_upload, request.match_info["id"], request.query.get("token", ""),
            request.content_length, request.headers.get("Content-MD5"),
        )
        size = await receive_upload(self.ctx, request, component_id, request.content_length or 0, expected)
        return json_response(200, {"component_id": component_id, "size": size})

    def _check_upload(self, raw_id: str, token: str, length: int | None,
                      header_md5: str | None) -> tuple[str, bytes | None]:
        component_id = check_component_id(raw_id)
        conn = self.ctx.storage.connection()
        upload = conn.execute('SELECT * FROM "upload" WHERE "component_id" = ?', (component_id,)).fetchone()
        if upload is None or not hmac.compare_digest(upload["token"].encode(), token.encode()):
            raise AuthenticationError("This upload URL is not valid; ask get_upload_metadata for a new one.")
        if length is None:
            raise ValidationError("The upload needs a Content-Length header (a whole number of bytes).")
        if self.ctx.api.stored_in_server(conn, component_id):
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
            return _scaled(str(path), int(size_text))
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
        if context.recorder is not None and path.startswith(_RECORDED_PREFIXES):
            context.recorder.write({"method": method, "path": path})
        if context.wan is not None:
            await context.wan.delay()
        try:
            return await handler(request)
        except ServerError as exc:
            error = exc
        except web.HTTPMethodNotAllowed as exc:
            allowed = " or ".join(sorted(m for m in exc.allowed_methods if m != "HEAD"))
            error = ServerError(f"Use {allowed} for {path}.", exception="MethodNotAllowed", status=405)
        except web.HTTPNotFound:
            error = NotFoundError(f"Nothing is served at {path}.")
        except web.HTTPException:
            raise  # an extension's own answer (a websocket refusal, a redirect)
        except Exception as exc:  # a bug: still answer JSON the clients can read
            log.exception("request %s %s failed", method, path)
            error = ServerError(f"The server failed to handle the request: {type(exc).__name__}.")
        # The ftrack API answers errors of /api with 200 unless the client asks for strict codes.
        status = error.status if (strict or path != "/api") else 200
        return json_response(status, error.payload())

    return errors


def json_response(status: int, obj: Any) -> web.Response:
    """A JSON answer."""
    return web.Response(status=status, body=json.dumps(obj).encode(), content_type="application/json")


async def read_body(request: web.Request, limit: int, what: str) -> bytes:
    """The whole request body (chunked or not), at most ``limit`` bytes: a 413 ValidationError
    above it, before reading it when Content-Length announces it."""
    too_large = ServerError(f"The request body is larger than {limit // (1024 * 1024)} MiB, the limit of {what}.",
                            exception="ValidationError", status=413)
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    parts, size = [], 0
    while True:
        try:
            async with asyncio.timeout(BODY_TIMEOUT):
                block = await request.content.readany()
        except TimeoutError:
            raise ValidationError(f"The request body stalled for {BODY_TIMEOUT:.0f} s; send it again.") from None
        if not block:
            break
        size += len(block)
        if size > limit:
            raise too_large
        parts.append(block)
    return b"".join(parts)


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
                async with asyncio.timeout(BODY_TIMEOUT):
                    block = await _read_up_to(request, min(CHUNK, remaining))
            except OSError as exc:  # the connection broke (TimeoutError: it stalled)
                reason = "it stalled" if isinstance(exc, TimeoutError) else "the connection broke"
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
    except BaseException:
        sink.abort()  # waits for a write in progress on a worker thread
        raise


async def _read_up_to(request: web.Request, size: int) -> bytes:
    """``size`` bytes of the body, fewer only at its end."""
    try:
        return await request.content.readexactly(size)
    except asyncio.IncompleteReadError as exc:
        return exc.partial


def _scaled(path: str, size: int) -> bytes:
    """JPEG bytes of the image at ``path`` with its longest side ``size`` pixels."""
    from publisher.server.encoder import EncodeError, make_thumbnail

    try:
        return make_thumbnail(path, size)
    except EncodeError as exc:
        raise ValidationError(f"The thumbnail cannot be scaled: {exc}") from None
