"""The words the window shows for an exception a worker sent, chosen by the exception's type.

Workers send the exception object itself (see :mod:`publisher.ui.workers`); this module picks
what to tell the artist for each kind of failure, from ``publisher.api``'s error hierarchy and
the transport's. Never carries an API key: a library's text (a URL with ``apiKey=``, say) is
redacted. Pure functions, callable from any thread (the window calls them in the GUI thread).
"""

from __future__ import annotations

from typing import Callable

import requests

from publisher.api.exceptions import AuthenticationError, ServerConnectionError
from publisher.logs import redact

_RETRY = "Check that it is running and that FTRACK_SERVER is right, then press F5 to retry."


#: The addresses of embedded servers this app started (see :func:`mark_embedded`).
_EMBEDDED: set[str] = set()


def mark_embedded(url: str) -> None:
    """Say that ``url`` is the embedded server the app started and watches: a failure to reach it
    is then worded as that, not as a wrong FTRACK_SERVER or a network problem."""
    _EMBEDDED.add(url.rstrip("/"))


def _is_embedded(exc: BaseException, where: str) -> bool:
    url = getattr(exc, "server_url", None) or where.removeprefix(" at ")
    return bool(url) and url.rstrip("/") in _EMBEDDED


def _unreachable(exc: BaseException, text: str, where: str) -> str:
    if _is_embedded(exc, where):
        return ("The embedded ftrack server stopped answering; the publisher restarts it on its own. "
                "Publishes wait and carry on when it is back.")
    return f"Cannot reach the ftrack server{where}: {text}. {_RETRY}"


def _connection_lost(exc: BaseException, text: str, where: str) -> str:
    if _is_embedded(exc, where):
        return _unreachable(exc, text, where)
    return f"Cannot reach the ftrack server{where}. {_RETRY}"


def _timeout(_exc: BaseException, _text: str, _where: str) -> str:
    return "The ftrack server took too long to answer. Press F5 to retry."


def _refused(_exc: BaseException, text: str, _where: str) -> str:
    # The client's message already names the user and the settings to check.
    return f"{text}, then restart the publisher."


def _unreadable(exc: BaseException, text: str, _where: str) -> str:
    if isinstance(exc, ConnectionError):  # the OS's own connection errors are not about a path
        return text
    return f"{text}. Check the path exists and that you may read it."


#: First match wins: subclasses before their bases.
_BY_TYPE: list[tuple[type[BaseException], Callable[[BaseException, str, str], str]]] = [
    (ServerConnectionError, _unreachable),
    (requests.ConnectionError, _connection_lost),
    (requests.Timeout, _timeout),
    (AuthenticationError, _refused),
    (OSError, _unreadable),
]


def describe_error(exc: BaseException, server_url: str | None = None) -> str:
    """A message an artist can act on for ``exc``, raised by a server call or the engine."""
    text = str(exc).strip().rstrip(".") or type(exc).__name__
    where = f" at {server_url}" if server_url else ""
    for kind, words in _BY_TYPE:
        if isinstance(exc, kind):
            return redact(words(exc, text, where))
    return redact(str(exc).strip() or type(exc).__name__)


def is_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the server could not be reached."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (ServerConnectionError, requests.ConnectionError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
