"""The HTTP server under the WSGI application: cheroot's multi-threaded WSGI server.

Chosen because it hands the request body to the application as a stream (``wsgi.input`` reads
from the socket), so an upload is written once, straight into the content store, instead of
being spooled to a temporary file by the server first. Called from the thread that runs
:func:`publisher.server.run` (the main thread, for signal handling).
"""

from __future__ import annotations

import os
import socket
from typing import Callable

from cheroot import wsgi

#: Worker threads: requests served at the same time (uploads of sequence frames, UI queries).
THREADS = 16
#: Seconds a connection may stay silent (idle keep-alive, or a stalled upload) before it is
#: closed; as long as waitress kept them, so clients holding pooled connections see no change.
SOCKET_TIMEOUT = 120
#: Idle keep-alive connections kept open (cheroot's default of 10 is less than one client's
#: upload workers plus its window's loaders; past it answers close their connection).
KEEP_ALIVE_CONNECTIONS = 100
#: Connections the kernel queues before they are accepted.
BACKLOG = 128
#: Request line and headers together; a bigger head gets an error instead of filling memory.
MAX_HEADER_BYTES = 256 * 1024


class _Server(wsgi.Server):
    """cheroot's server with SO_REUSEADDR on every listening socket, a free port's included.

    cheroot leaves it off for port 0. The connections of a server killed mid-upload then sit in
    TIME_WAIT without it, and a server restarted on the same data folder and port cannot listen
    for a minute. On POSIX the option never lets a second server take a port that is listening.
    """

    @classmethod
    def prepare_socket(cls, bind_addr, family, type, proto, *args, **kwargs):  # noqa: A002
        sock = super().prepare_socket(bind_addr, family, type, proto, *args, **kwargs)
        if os.name != "nt" and family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        return sock


class HttpServer:
    """A listening socket serving ``app`` until :meth:`stop`."""

    def __init__(self, app: Callable, host: str, port: int, *, threads: int = THREADS) -> None:
        """Bind ``host:port`` (port 0: any free port) and start the worker threads.

        Raises OSError when the address cannot be used.
        """
        # cheroot wants all interfaces spelt out; "" meant that to waitress and to the CLI.
        self._server = _Server(
            (host or "0.0.0.0", port), app, numthreads=threads, server_name="ftrack-publisher",
            request_queue_size=BACKLOG, timeout=SOCKET_TIMEOUT, shutdown_timeout=5,
        )
        # 0 means "no limit": upload sizes are checked by the application against what
        # get_upload_metadata announced, and /api bodies by the application too.
        self._server.max_request_body_size = 0
        self._server.max_request_header_size = MAX_HEADER_BYTES
        self._server.keep_alive_conn_limit = KEEP_ALIVE_CONNECTIONS
        self._server.prepare()

    @property
    def port(self) -> int:
        """The port actually bound (the free one picked when asked for port 0)."""
        return self._server.socket.getsockname()[1]

    def serve(self) -> None:
        """Serve until :meth:`stop` or a KeyboardInterrupt raised in this thread (the signal
        handler of :func:`publisher.server.run`)."""
        self._server.serve()

    def stop(self) -> None:
        """Stop accepting, close connections and wait (up to 5 s) for requests in progress."""
        self._server.stop()
