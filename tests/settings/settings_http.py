"""Tiny local web servers for the connection tests: canned answers, never an ftrack server."""

from __future__ import annotations

import http.server
import threading
from typing import Callable, Iterator


def serve(handler_factory: Callable[..., http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_factory)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def canned_handler(status: int, body: bytes, content_type: str = "text/html",
                   headers: dict[str, str] | None = None) -> type[http.server.BaseHTTPRequestHandler]:
    """A request handler that answers every request with the same status and body."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

    return Handler
