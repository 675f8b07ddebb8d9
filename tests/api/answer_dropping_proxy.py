"""An HTTP proxy in front of a real server that forwards every request and, for the requests a
test picks, lets the server apply them but drops the answer (closes the connection unanswered):
what a proxy 504, a lost network link or a client time-out does to a commit in the field."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable

import requests

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class AnswerDroppingProxy:
    """Forwards to ``upstream``; ``drop(method, path, body)`` true: apply upstream, answer nothing
    (with ``apply=False``: do not even forward it, as when the request itself is lost).

    ``dropped`` counts the answers dropped. Use as a context manager; ``url`` is the proxy's.
    """

    def __init__(self, upstream: str, drop: Callable[[str, str, bytes], bool], *,
                 apply: bool = True) -> None:
        self.upstream = upstream.rstrip("/")
        self.drop = drop
        self.apply = apply
        self.dropped = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
                dropping = proxy.drop(self.command, self.path, body)
                if dropping and not proxy.apply:
                    proxy.dropped += 1
                    self.close_connection = True
                    return  # lost on the way: the server never sees it
                answer = requests.request(self.command, proxy.upstream + self.path, data=body,
                                          headers=headers, timeout=60, allow_redirects=False)
                if dropping:
                    proxy.dropped += 1
                    self.close_connection = True
                    return  # the server applied it; the client never hears
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _forward

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "AnswerDroppingProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
