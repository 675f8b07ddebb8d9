"""The "Test connection" check: one request to a server that says exactly what is wrong, or that it works.

:func:`check_connection` posts ``query_server_information`` and a query for the user to
``{url}/api`` with the given credentials, as any ftrack client does first, and sorts the outcome
into a :class:`ConnectionReport`: the address is malformed, the host cannot be found, nothing
listens, it timed out, the TLS handshake or certificate failed, the server refused the user or
key, the answer is not the ftrack API (an HTML page, garbage, no version), or it works and the
server's version. Uses ``requests`` directly (no Session: nothing here needs the schemas). The
key is sent in the ``ftrack-api-key`` header only and never appears in a report. No Qt; callable
from any thread (it blocks for up to ``timeout`` seconds: call it from a worker in a UI).
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

#: Report kinds.
OK = "ok"
INVALID_INPUT = "invalid_input"
DNS = "dns"
REFUSED = "refused"
UNREACHABLE = "unreachable"
TIMEOUT = "timeout"
TLS = "tls"
WRONG_KEY = "wrong_key"
NOT_FTRACK = "not_ftrack"
REDIRECT = "redirect"
SERVER_ERROR = "server_error"

#: Kinds that mean the server could not be reached at all.
UNREACHABLE_KINDS = frozenset({DNS, REFUSED, UNREACHABLE, TIMEOUT})

_AUTH_EXCEPTIONS = {"InvalidCredentialsError", "FTAuthenticationError", "AuthenticationError",
                    "PermissionError"}


@dataclass(frozen=True)
class ConnectionReport:
    """The outcome of :func:`check_connection`.

    ``kind`` is one of the module's constants (``OK``, ``DNS``, ``REFUSED``, ``UNREACHABLE``,
    ``TIMEOUT``, ``TLS``, ``WRONG_KEY``, ``NOT_FTRACK``, ``REDIRECT``, ``SERVER_ERROR``,
    ``INVALID_INPUT``); ``message`` says what happened and what to do; ``server_version`` is set
    when the server said it; ``http_status`` when it answered at all.
    """

    url: str
    kind: str
    message: str
    server_version: str | None = None
    http_status: int | None = None

    @property
    def ok(self) -> bool:
        return self.kind == OK

    @property
    def unreachable(self) -> bool:
        return self.kind in UNREACHABLE_KINDS


def _quote(value: str) -> str:
    # As publisher.api.quoting.quote; this module stays free of imports from the rest of the client.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        nxt = current.__cause__ or current.__context__
        if nxt is None and current.args and isinstance(current.args[0], BaseException):
            nxt = current.args[0]
        if nxt is None:
            reason = getattr(current, "reason", None)
            nxt = reason if isinstance(reason, BaseException) else None
        current = nxt
    return seen


def _tls_detail(error: BaseException) -> str:
    text = " ".join(str(e) for e in _chain(error))
    lowered = text.lower()
    if "certificate verify failed" in lowered or "certificate_verify_failed" in lowered:
        if "self-signed" in lowered or "self signed" in lowered:
            return "its certificate is self-signed, so it cannot be trusted"
        if "hostname mismatch" in lowered or "doesn't match" in lowered or "not valid for" in lowered:
            return "its certificate is for another host name"
        if "expired" in lowered:
            return "its certificate has expired"
        return "its certificate could not be verified"
    if "wrong version number" in lowered or "record layer failure" in lowered or "packet length too long" in lowered \
            or "unknown protocol" in lowered or "http request" in lowered:
        return "it does not speak TLS on that port (is it a plain http:// server?)"
    return "the secure connection could not be set up"


def _connection_kind(error: BaseException, host: str) -> tuple[str, str]:
    chain = _chain(error)
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, socket.gaierror) for e in chain) or "name or service not known" in text \
            or "nodename nor servname" in text or "temporary failure in name resolution" in text \
            or "getaddrinfo failed" in text or "failed to resolve" in text or "nameresolutionerror" in text:
        return DNS, f"The host name {host!r} could not be found (DNS). Check the spelling of the address and your network or VPN."
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
        return REFUSED, (f"Nothing answers at {host!r} on that port: the connection was refused. Check the port "
                         "in the address and that the server is running.")
    if "no route to host" in text or "network is unreachable" in text:
        return UNREACHABLE, f"{host!r} cannot be reached from this machine (no route). Check your network or VPN."
    return UNREACHABLE, f"{host!r} could not be reached ({type(error).__name__}). Check the address, your network or VPN."


def check_connection(url: str, api_user: str, api_key: str, timeout: float = 10.0) -> ConnectionReport:
    """Try logging in to the ftrack server at ``url``; never raises for a bad server or input."""
    base = (url or "").strip().rstrip("/")
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return ConnectionReport(base, INVALID_INPUT, f"{base!r} is not a valid address ({exc}).")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ConnectionReport(base, INVALID_INPUT,
                                f"{base!r} is not a server address: it must start with https:// (or http://) and "
                                "name a host, for example https://yourstudio.ftrackapp.com.")
    if not (api_user or "").strip():
        return ConnectionReport(base, INVALID_INPUT, "Enter the API user (your ftrack user name).")
    if not api_key:
        return ConnectionReport(base, INVALID_INPUT,
                                "Enter the API key (in ftrack: your user menu > Security settings > API key).")
    host = parts.hostname
    report = _check(base, host, api_user.strip(), api_key, timeout)
    if api_key in report.message:  # a server echoing the request back must not leak the key
        report = ConnectionReport(report.url, report.kind, report.message.replace(api_key, "***"),
                                  report.server_version, report.http_status)
    return report


def _check(base: str, host: str, api_user: str, api_key: str, timeout: float) -> ConnectionReport:
    operations = [
        {"action": "query_server_information"},
        # Some servers answer the information without checking the key: a query makes them check.
        {"action": "query", "expression": f"select id, username from User where username is {_quote(api_user)}"},
    ]
    headers = {
        "content-type": "application/json",
        "accept": "application/json",
        "ftrack-user": api_user,
        "ftrack-api-key": api_key,
        "ftrack-strict-api": "false",
    }
    try:
        with requests.Session() as http:
            response = http.post(f"{base}/api", data=json.dumps(operations), headers=headers,
                                 timeout=timeout, allow_redirects=False)
            body = response.text
    except requests.exceptions.SSLError as exc:
        return ConnectionReport(base, TLS, f"The secure connection to {host!r} failed: {_tls_detail(exc)}. "
                                           "Check the address (https:// or http://) and, for a studio server with its "
                                           "own certificate, that the certificate is trusted on this machine.")
    except requests.exceptions.ConnectTimeout:
        return ConnectionReport(base, TIMEOUT, f"{host!r} did not accept a connection within {timeout:g} s. "
                                               "Check the address, your network or VPN, and any firewall.")
    except requests.exceptions.Timeout:
        hint = (" If it is a plain http:// server, the https:// address makes it wait for a request "
                "it cannot read: try http://." if base.startswith("https://") else "")
        return ConnectionReport(base, TIMEOUT, f"{host!r} accepted the connection but did not answer within "
                                               f"{timeout:g} s.{hint} Otherwise the server may be overloaded: try again.")
    except requests.exceptions.ConnectionError as exc:
        kind, message = _connection_kind(exc, host)
        return ConnectionReport(base, kind, message)
    except requests.RequestException as exc:
        return ConnectionReport(base, UNREACHABLE, f"The request to {base} failed ({type(exc).__name__}). "
                                                   "Check the address.")
    status = response.status_code
    if 300 <= status < 400:
        target = response.headers.get("location", "")
        return ConnectionReport(base, REDIRECT,
                                f"{base} redirects to {target or 'another address'} (HTTP {status}). "
                                "Enter the address it redirects to (for example with https://).", http_status=status)
    return _read(base, status, response.headers.get("content-type", ""), body)


def _not_ftrack(base: str, status: int, why: str) -> ConnectionReport:
    return ConnectionReport(base, NOT_FTRACK,
                            f"{base} answered, but not as an ftrack server: {why} (HTTP {status}). "
                            "Check that the address is the one you open ftrack with in a browser, "
                            "without a page path such as /#/ or /login.", http_status=status)


def _read(base: str, status: int, content_type: str, body: str) -> ConnectionReport:
    try:
        data = json.loads(body)
    except ValueError:
        lowered = body.lstrip()[:200].lower()
        if status in (401, 403):
            return _not_ftrack(base, status, "access was refused before reaching ftrack (a proxy or a login page)")
        if status in (502, 503, 504):
            return ConnectionReport(base, SERVER_ERROR,
                                    f"{base} is unavailable (HTTP {status}: a proxy cannot reach the server or it is "
                                    "overloaded). Try again in a moment.", http_status=status)
        if lowered.startswith("<!doctype html") or lowered.startswith("<html") or "html" in content_type:
            return _not_ftrack(base, status, "it sent a web page instead of API data")
        if not body.strip():
            return _not_ftrack(base, status, "it sent an empty answer")
        return _not_ftrack(base, status, "its answer is not JSON")
    if isinstance(data, dict) and "exception" in data:
        name = str(data.get("exception") or "")
        content = str(data.get("content") or "")
        if name in _AUTH_EXCEPTIONS or status in (401, 403) or "api key" in content.lower() \
                or "credential" in content.lower():
            return ConnectionReport(base, WRONG_KEY,
                                    f"The server refused the login: {(content or name).rstrip('.')}. Check the API user and key "
                                    "(in ftrack: your user menu > Security settings > API key).", http_status=status)
        return ConnectionReport(base, SERVER_ERROR, f"The server reported an error: {name}: {content}",
                                http_status=status)
    if status in (401, 403):
        return ConnectionReport(base, WRONG_KEY, f"The server refused the login (HTTP {status}). Check the API user and key.",
                                http_status=status)
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        return _not_ftrack(base, status, f"it sent JSON of another shape ({type(data).__name__})")
    version = data[0].get("version")
    if not version:
        return _not_ftrack(base, status, "it did not say which ftrack version it runs")
    if status >= 400:
        return ConnectionReport(base, SERVER_ERROR, f"The server answered HTTP {status}.", str(version), status)
    return ConnectionReport(base, OK, f"Connected to ftrack {version} at {base}.", str(version), status)
