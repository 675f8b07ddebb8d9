"""The HTTP server under the application: aiohttp on an asyncio event loop.

Chosen because a connection costs no thread while it is idle, slow or stalled: the event loop
reads every socket, and only the work of a request that has fully arrived (SQLite, an image
scale, a piece of an upload to write) goes to the bounded worker pool of
:class:`publisher.server.app.ServerContext`. The same loop carries the event hub's websocket.
Called from the thread that runs :func:`publisher.server.run` (the main thread, for signals).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
import ssl
import threading
from typing import Callable

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger(__name__)

#: Connections the kernel queues before they are accepted.
BACKLOG = 128
#: Request line and each header line; a bigger head gets an error instead of filling memory.
MAX_LINE_BYTES = 64 * 1024
#: Header lines per request.
MAX_HEADERS = 128
#: Seconds that requests in progress get to finish when the server stops.
SHUTDOWN_TIMEOUT = 5.0


class _RequestHandler(RequestHandler):
    """aiohttp's connection handler, answering requests it cannot parse in JSON, like every other
    answer, with the status the problem deserves (aiohttp says 400 to all of them)."""

    __slots__ = ()

    def handle_error(self, request, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if isinstance(exc, LineTooLong):
            status, name, text = 413, "ValidationError", "The request line or a header is too long."
        elif isinstance(exc, BadHttpMessage) and "version" in str(exc).lower():
            status, name, text = 505, "ValidationError", "Only HTTP/1.0 and HTTP/1.1 are served."
        elif isinstance(exc, BadHttpMessage):
            status, name = exc.code or 400, "ValidationError"
            text = f"The request is not valid HTTP: {exc.message}"
        else:
            response = super().handle_error(request, status, exc, message)
            if status != 500:
                return response
            name, text = "ServerError", "The server failed to handle the request."
        body = json.dumps({"exception": name, "content": text, "error_code": None}).encode()
        response = web.Response(status=status, body=body, content_type="application/json")
        response.force_close()
        return response


class _WebServer(web.Server):
    """aiohttp's low-level server making :class:`_RequestHandler` connections."""

    def __call__(self) -> RequestHandler:
        handler = super().__call__()
        handler.__class__ = _RequestHandler  # same slots: only handle_error differs
        return handler


class _AppRunner(web.AppRunner):
    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _WebServer
        return server


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port`` (port 0: any free port), with SO_REUSEADDR.

    The connections of a server killed mid-upload sit in TIME_WAIT; without the option a server
    restarted on the same data folder and port could not listen for a minute. On POSIX it never
    lets a second server take a port that is listening. Raises OSError when the address cannot
    be used.
    """
    host = host or "0.0.0.0"
    family = socket.AF_INET
    with contextlib.suppress(socket.gaierror):
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    # create_server sets SO_REUSEADDR on POSIX.
    sock = socket.create_server((host, port), family=family, backlog=BACKLOG)
    sock.setblocking(False)
    return sock


class HttpServer:
    """A listening socket serving an aiohttp application until SIGINT/SIGTERM or :meth:`stop`."""

    def __init__(self, make_app: Callable[[], web.Application], host: str, port: int,
                 *, ssl_context: ssl.SSLContext | None = None, idle_timeout: float = 120.0) -> None:
        """Bind ``host:port`` now (raises OSError when the address cannot be used); the event loop
        and ``make_app()`` only run in :meth:`serve`. A connection that stays silent, or does not
        finish a request's head, for ``idle_timeout`` seconds is closed."""
        self._idle_timeout = idle_timeout
        self._make_app = make_app
        self._socket = listening_socket(host, port)
        self._ssl = ssl_context
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    @property
    def port(self) -> int:
        """The port actually bound (the free one picked when asked for port 0)."""
        return self._socket.getsockname()[1]

    def serve(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve until SIGINT/SIGTERM (when called in the main thread) or :meth:`stop`, then let
        requests in progress finish for up to :data:`SHUTDOWN_TIMEOUT` seconds.

        ``on_ready`` runs once the server accepts connections (it prints the ready line).
        """
        asyncio.run(self._serve(on_ready))

    def stop(self) -> None:
        """Ask :meth:`serve` to stop; callable from any thread."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                loop.call_soon_threadsafe(stopping.set)

    async def _serve(self, on_ready: Callable[[], None] | None) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._loop.add_signal_handler(signum, self._stopping.set)
        runner = _AppRunner(
            self._make_app(), handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT,
            keepalive_timeout=self._idle_timeout, max_line_size=MAX_LINE_BYTES, max_field_size=MAX_LINE_BYTES,
            max_headers=MAX_HEADERS, lingering_time=10.0,
        )
        await runner.setup()
        try:
            site = web.SockSite(runner, self._socket, ssl_context=self._ssl, backlog=BACKLOG)
            await site.start()
            if on_ready is not None:
                on_ready()
            await self._stopping.wait()
            # A second signal must not interrupt the clean-up below.
            if threading.current_thread() is threading.main_thread():
                for signum in (signal.SIGINT, signal.SIGTERM):
                    self._loop.add_signal_handler(signum, lambda: None)
        finally:
            await runner.cleanup()
            self._socket.close()
