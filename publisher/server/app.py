"""The WSGI application: ``POST /api``, the upload ``PUT /file/<id>``, the multipart part
``PUT /upload/<upload_id>/<part_number>`` and the ``/component/get|thumbnail|remove`` file
endpoints. Every answer, errors included, is JSON
(or the file asked for); an unexpected exception becomes a JSON ``ServerError``, never HTML.
"""

from __future__ import annotations

import hmac
import json
import logging
import mimetypes
import re
from typing import Any, BinaryIO, Callable, Iterable, Iterator
from urllib.parse import parse_qs

from publisher.server import auth
from publisher.server.actions import Api
from publisher.server.errors import AuthenticationError, NotFoundError, ServerError, ValidationError
from publisher.server.files import CHUNK, check_component_id, parse_checksum
from publisher.server.record import Recorder
from publisher.server.wan import WanModel

log = logging.getLogger(__name__)

_STATUS_TEXT = {200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized", 404: "404 Not Found",
                405: "405 Method Not Allowed", 409: "409 Conflict", 413: "413 Payload Too Large",
                500: "500 Internal Server Error"}
_FILE_ROUTE = re.compile(r"^/file/(?P<id>[^/]*)$")
_PART_ROUTE = re.compile(r"^/upload/(?P<upload>[^/]*)/(?P<part>[^/]*)$")
_MAX_API_BODY = 256 * 1024 * 1024


def _json(start_response: Callable, status: int, obj: Any, extra: list | None = None) -> list[bytes]:
    body = json.dumps(obj).encode()
    start_response(_STATUS_TEXT.get(status, f"{status} Error"),
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *(extra or [])])
    return [body]


class Application:
    """The embedded server's WSGI callable."""

    def __init__(self, api: Api, recorder: Recorder | None = None, wan: WanModel | None = None) -> None:
        self.api = api
        self.store = api.store
        self.storage = api.storage
        self.recorder = recorder
        self.wan = wan

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            response = self._dispatch(environ, start_response)
        finally:
            # An answer given before the body was read (a refused upload, a wrong route): read
            # the rest away in bounded pieces, so the client gets to read the answer on a
            # connection that stays in step, and the WSGI server never buffers a whole body.
            _discard_unread_body(environ)
        if environ.get("REQUEST_METHOD") == "HEAD":
            close = getattr(response, "close", None)
            if close is not None:
                close()
            return []
        return response

    def _dispatch(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        strict = environ.get("HTTP_FTRACK_STRICT_API", "").strip().lower() == "true"
        if self.wan is not None:
            self.wan.delay()
            environ["wsgi.input"] = self.wan.reader(environ["wsgi.input"])
        try:
            if path == "/api":
                if method != "POST":
                    raise ServerError("Use POST for /api.", exception="MethodNotAllowed", status=405)
                return self._api(environ, start_response)
            if self.recorder is not None and path.startswith(("/component/", "/file/", "/upload/")):
                self.recorder.write({"method": method, "path": path})
            match = _PART_ROUTE.match(path)
            if match:
                if method != "PUT":
                    raise ServerError("Use PUT to upload a part.", exception="MethodNotAllowed", status=405)
                return self._put_part(environ, start_response, match["upload"], match["part"])
            match = _FILE_ROUTE.match(path)
            if match:
                if method != "PUT":
                    raise ServerError("Use PUT to upload a file.", exception="MethodNotAllowed", status=405)
                return self._put(environ, start_response, match["id"])
            if path == "/component/remove":
                # Only a request meant to change something removes: POST, and GET, which the
                # stock client sends. A HEAD (a link checker, a proxy probing) never deletes.
                if method not in ("POST", "GET"):
                    raise ServerError("Use POST for /component/remove.", exception="MethodNotAllowed", status=405)
                return self._remove(environ, start_response)
            if path in ("/component/get", "/component/thumbnail"):
                if method not in ("GET", "HEAD"):
                    raise ServerError(f"Use GET for {path}.", exception="MethodNotAllowed", status=405)
                return getattr(self, "_" + path.rsplit("/", 1)[1])(environ, start_response)
            if path in ("", "/"):
                return _json(start_response, 200, {"server": "ftrack-publisher embedded server", "api": "/api"})
            raise NotFoundError(f"Nothing is served at {path}.")
        except ServerError as exc:
            status = exc.status if (strict or path != "/api") else 200
            return _json(start_response, status, exc.payload())
        except Exception as exc:  # a bug: still answer JSON the clients can read
            log.exception("request %s %s failed", method, path)
            error = ServerError(f"The server failed to handle the request: {type(exc).__name__}: {exc}")
            status = 500 if (strict or path != "/api") else 200
            return _json(start_response, status, error.payload())

    # POST /api ----------------------------------------------------------------------------
    def _api(self, environ: dict, start_response: Callable) -> list[bytes]:
        too_large = ServerError("The request body is too large for /api.", exception="ValidationError", status=413)
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            raw = _read_chunked(environ["wsgi.input"], _MAX_API_BODY, too_large)
        else:
            length = _content_length(environ, default=0)
            if length is None:
                raise ValidationError(f"Content-Length '{environ.get('CONTENT_LENGTH', '')[:40]}' is not a whole number of bytes.")
            if length > _MAX_API_BODY:
                raise too_large
            raw = environ["wsgi.input"].read(length) if length else b""
        try:
            operations = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            if self.recorder is not None:
                self.recorder.write({"method": "POST", "path": "/api", "operations": None})
            raise ValidationError(f"The request body is not valid JSON: {exc}. Send a JSON list of operations.") from None
        if self.recorder is not None:
            self.recorder.write({"method": "POST", "path": "/api", "operations": operations})
        results = self.api.handle(
            operations, environ.get("HTTP_FTRACK_USER"), environ.get("HTTP_FTRACK_API_KEY"), self._base_url(environ)
        )
        return _json(start_response, 200, results)

    @staticmethod
    def _base_url(environ: dict) -> str:
        host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
        return f"{environ.get('wsgi.url_scheme', 'http')}://{host}"

    # Files --------------------------------------------------------------------------------
    def _query(self, environ: dict) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}

    def _authenticate(self, params: dict[str, str]) -> dict:
        return auth.authenticate(self.storage.connection(), params.get("username"), params.get("apiKey"))

    def _put(self, environ: dict, start_response: Callable, raw_id: str) -> list[bytes]:
        component_id = check_component_id(raw_id)
        params = self._query(environ)
        conn = self.storage.connection()
        upload = conn.execute('SELECT * FROM "upload" WHERE "component_id" = ?', (component_id,)).fetchone()
        token = params.get("token", "")
        if upload is None or not hmac.compare_digest(upload["token"].encode(), token.encode()):
            raise AuthenticationError("This upload URL is not valid; ask get_upload_metadata for a new one.")
        if self.api._stored_in_server(conn, component_id):
            raise ServerError(f"Component {component_id} already has its data in ftrack.server; its data cannot be "
                              "replaced. Publish the file as a new component.", exception="IntegrityError", status=409)
        length = _content_length(environ)
        if length is None:
            raise ValidationError("The upload needs a Content-Length header (a whole number of bytes).")
        if length != upload["size"]:
            raise ValidationError(
                f"The upload is {length} bytes but get_upload_metadata announced {upload['size']}; the file was not stored."
            )
        announced = upload["checksum"] or None
        header_md5 = environ.get("HTTP_CONTENT_MD5")
        if header_md5 and announced and header_md5 != announced:
            raise ValidationError("The Content-MD5 header differs from the checksum given to get_upload_metadata.")
        checksum = announced or header_md5
        expected = parse_checksum(checksum) if checksum else None
        try:
            size = self.store.receive(component_id, environ["wsgi.input"], length, expected)
        except OSError as exc:
            # The connection broke or stalled mid-body: nothing more will arrive in step.
            environ["publisher.input_broken"] = True
            raise ServerError(f"The upload stopped before the whole file arrived ({exc}); "
                              "nothing was stored. Send the file again.", status=400) from None
        return _json(start_response, 200, {"component_id": component_id, "size": size})

    def _put_part(self, environ: dict, start_response: Callable, upload_id: str, part: str) -> list[bytes]:
        """One part of a multipart upload, written in place; answered with its MD5 as ETag.
        Needs no API headers: the signed URL is the permission."""
        conn = self.storage.connection()
        try:
            e_tag = self.api.uploads.receive_part(conn, upload_id, part, self._query(environ),
                                                  _content_length(environ), environ["wsgi.input"])
        except OSError as exc:
            environ["publisher.input_broken"] = True
            raise ServerError(f"Part {part} stopped before it all arrived ({exc}); it was not stored. "
                              "Send it again.", status=400) from None
        body = b""
        start_response("200 OK", [("ETag", f'"{e_tag}"'), ("Content-Length", "0")])
        return [body]

    def _component(self, params: dict[str, str]) -> tuple[str, dict | None]:
        self._authenticate(params)
        component_id = check_component_id(params.get("id"), "id")
        row = self.storage.connection().execute('SELECT * FROM "component" WHERE "id" = ?', (component_id,)).fetchone()
        return component_id, (dict(row) if row else None)

    def _get(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        component_id, row = self._component(self._query(environ))
        path = self.store.path(component_id)
        if not path.is_file():
            raise NotFoundError(f"The server holds no file for component {component_id}.")
        file_type = (row or {}).get("file_type") or ""
        name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{(row or {}).get('name') or component_id}{file_type}")
        mime = mimetypes.guess_type("x" + file_type)[0] or "application/octet-stream"
        size = path.stat().st_size
        start_response("200 OK", [("Content-Type", mime), ("Content-Length", str(size)),
                                  ("Content-Disposition", f'attachment; filename="{name}"')])
        fh = open(path, "rb", buffering=0)
        wrapper = environ.get("wsgi.file_wrapper")
        return wrapper(fh, CHUNK) if wrapper else FileChunks(fh)

    def _thumbnail(self, environ: dict, start_response: Callable) -> list[bytes]:
        params = self._query(environ)
        component_id, _row = self._component(params)
        path = self.store.path(component_id)
        if not path.is_file():
            raise NotFoundError(f"The server holds no thumbnail file for component {component_id}.")
        size_text = params.get("size")
        if size_text:
            if not size_text.isdigit() or not 0 < int(size_text) <= 8192:
                raise ValidationError(f"size must be a whole number of pixels from 1 to 8192, not '{size_text}'.")
            data = _scaled(str(path), int(size_text))
        else:
            data = path.read_bytes()
        start_response("200 OK", [("Content-Type", "image/jpeg"), ("Content-Length", str(len(data)))])
        return [data]

    def _remove(self, environ: dict, start_response: Callable) -> list[bytes]:
        component_id, _row = self._component(self._query(environ))
        removed = self.api.remove_component_data(component_id)
        return _json(start_response, 200, {"component_id": component_id, "removed": removed})


class FileChunks:
    """The WSGI response body of a file download: reads of :data:`CHUNK` bytes, closed by the
    server when the answer is sent or the client went away (where no ``wsgi.file_wrapper``
    is offered)."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh

    def __iter__(self) -> Iterator[bytes]:
        while block := self._fh.read(CHUNK):
            yield block

    def close(self) -> None:
        self._fh.close()


def _content_length(environ: dict, default: int | None = None) -> int | None:
    """The request's Content-Length; ``default`` when there is none, None when it is not a
    plain count of bytes (a sign, spaces or other digits than 0-9)."""
    text = environ.get("CONTENT_LENGTH") or ""
    if not text:
        return default
    return int(text) if text.isascii() and text.isdigit() else None


def _read_chunked(stream: BinaryIO, limit: int, too_large: Exception) -> bytes:
    """A body sent without Content-Length (chunked), read whole; ``too_large`` past ``limit``."""
    parts, size = [], 0
    while block := stream.read(CHUNK):
        size += len(block)
        if size > limit:
            raise too_large
        parts.append(block)
    return b"".join(parts)


def _discard_unread_body(environ: dict) -> None:
    """Read and drop what is left of the request body (pieces of :data:`CHUNK` bytes)."""
    stream = environ.get("wsgi.input")
    if stream is None or environ.get("publisher.input_broken"):
        return
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    # wsgi.input answers b"" once the body is used up; the length bounds servers that do not.
    left = None if chunked else _content_length(environ)
    if not chunked and left is None:
        return
    try:
        while left is None or left > 0:
            block = stream.read(CHUNK if left is None else min(CHUNK, left))
            if not block:
                break
            if left is not None:
                left -= len(block)
    except OSError:  # the client went away or stalled: nothing left to keep in step with
        pass


def _scaled(path: str, size: int) -> bytes:
    """JPEG bytes of the image at ``path`` with its longest side ``size`` pixels."""
    from publisher.server.encoder import EncodeError, make_thumbnail

    try:
        return make_thumbnail(path, size)
    except EncodeError as exc:
        raise ValidationError(f"The thumbnail cannot be scaled: {exc}") from None
