"""Sign in with the browser, as ftrack Connect does: no API key to copy and paste.

The flow: :class:`LoopbackListener` binds a free port on this machine; the browser opens
:func:`sign_in_url` (``{server}/user/api_credentials?identifier=ftrack-publisher-<user>@<host>
&redirect_url=http://localhost:<port>``); the artist signs in to ftrack there and grants the
key; ftrack sends the browser back to the listener with ``api_user`` and ``api_key``;
:meth:`LoopbackListener.wait` returns them as :class:`SignedIn` (or raises :class:`SignInError`
saying what happened: no answer in time, cancelled, an answer without a key). The caller keeps
the key in the keyring (:mod:`publisher.credentials`). Qt-free: :meth:`LoopbackListener.wait`
blocks, so the window calls it from a worker.
"""

from __future__ import annotations

import getpass
import html
import http.server
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

#: How long the listener waits for the browser by default, seconds.
DEFAULT_TIMEOUT = 180.0


class SignInError(Exception):
    """The sign-in did not give a key; the message says what happened and what to do."""


class SignInTimeout(SignInError):
    """No answer came from the browser in time."""


class SignInCancelled(SignInError):
    """The sign-in was stopped from the application."""


@dataclass(frozen=True)
class SignedIn:
    """What the browser handed back: the server signed in to, the user and the key."""

    server_url: str
    api_user: str
    api_key: str

    def __repr__(self) -> str:  # the key stays out of logs and tracebacks
        return f"SignedIn(server_url={self.server_url!r}, api_user={self.api_user!r}, api_key='***')"


def identifier() -> str:
    """Who asks for the key, as ftrack shows it: ``ftrack-publisher-<user>@<host>``."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in the environment or the password database
        user = "user"
    return f"ftrack-publisher-{user}@{socket.gethostname()}"


def sign_in_url(server_url: str, port: int, who: str | None = None) -> str:
    """The page of ``server_url`` that grants a key and sends the browser to ``localhost:port``."""
    query = urlencode({"identifier": who or identifier(), "redirect_url": f"http://localhost:{port}"})
    return f"{server_url.rstrip('/')}/user/api_credentials?{query}"


class _Answer:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.user = ""
        self.key = ""


def _handler(answer: _Answer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            query = parse_qs(urlsplit(self.path).query)
            user = (query.get("api_user") or [""])[0]
            key = (query.get("api_key") or [""])[0]
            if urlsplit(self.path).path not in ("", "/"):
                self._reply(404, "Not here", "This address only receives the ftrack sign-in.")
                return
            answer.user, answer.key = user, key
            answer.event.set()
            if user and key:
                self._reply(200, "Signed in", f"The ftrack publisher is signed in as {user}. You can close this tab.")
            else:
                self._reply(400, "Not signed in", "ftrack sent no API key back. Sign in again from the publisher.")

        def _reply(self, status: int, title: str, text: str) -> None:
            body = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
                    f"<body style='font-family: sans-serif'><h1>{html.escape(title)}</h1>"
                    f"<p>{html.escape(text)}</p></body></html>").encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # the query holds the key: never log it

    return Handler


class LoopbackListener:
    """A one-answer HTTP listener on ``127.0.0.1:<port>`` for the browser's redirect."""

    def __init__(self, server_url: str, port: int = 0) -> None:
        self.server_url = server_url
        self._answer = _Answer()
        try:
            self._server = http.server.HTTPServer(("127.0.0.1", port), _handler(self._answer))
        except OSError as exc:
            raise SignInError(f"Could not listen on this machine for the browser's answer ({exc.strerror or exc}); "
                              "sign in again, or paste the API key instead.") from None
        self._server.timeout = 0.2
        self.port = int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The page to open in the browser."""
        return sign_in_url(self.server_url, self.port)

    def wait(self, timeout: float = DEFAULT_TIMEOUT, cancelled: threading.Event | None = None) -> SignedIn:
        """Serve until the browser comes back (then close); raises :class:`SignInError`."""
        deadline = time.monotonic() + timeout
        try:
            while not self._answer.event.is_set():
                if cancelled is not None and cancelled.is_set():
                    raise SignInCancelled("The sign-in was cancelled.")
                if time.monotonic() >= deadline:
                    raise SignInTimeout(
                        f"No answer from the browser within {timeout:.0f} seconds: finish signing in to "
                        f"{self.server_url} in the browser sooner, or paste the API key instead.")
                self._server.handle_request()
        finally:
            self._server.server_close()
        if not (self._answer.user and self._answer.key):
            raise SignInError(f"{self.server_url} sent the browser back without an API key: sign in again "
                              "and grant access, or paste the API key instead.")
        return SignedIn(self.server_url, self._answer.user, self._answer.key)

    def close(self) -> None:
        self._server.server_close()


__all__ = ["DEFAULT_TIMEOUT", "LoopbackListener", "SignInCancelled", "SignInError", "SignInTimeout", "SignedIn",
           "identifier", "sign_in_url"]
