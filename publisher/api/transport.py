"""HTTP for the ftrack JSON API: one ``requests.Session``, JSON coding, errors, retries.

A :class:`Transport` posts a list of operations to ``{server}/api`` and returns the decoded list
of results. It knows nothing about entities beyond turning them into references (through the
``encode_entity`` callable it is given) and leaving ``__entity_type__`` objects as plain dicts
for the session to turn into entities. Used from one thread at a time, like its session.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import threading
import time
from typing import Any, Callable

import requests

from . import exceptions

#: Exception names a server uses for a refused user or key.
_AUTH_EXCEPTIONS = {"InvalidCredentialsError", "FTAuthenticationError", "AuthenticationError"}

#: HTTP statuses worth retrying for a read: the server or a proxy in front of it is busy.
RETRY_STATUSES = {502, 503, 504}

#: Added to a connection error when a commit was sent but no answer confirmed it.
_UNCONFIRMED = (" The changes were not confirmed: they may or may not have been saved. "
                "They are kept in the session; check the server before committing again.")


def encode_datetime(value: _dt.date) -> dict[str, str]:
    """The wire form of a date or datetime (aware datetimes are sent in UTC)."""
    if isinstance(value, _dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc)
    return {"__type__": "datetime", "value": value.isoformat()}


_FRACTION_RE = re.compile(r"(\.\d+)")


def decode_datetime(text: str) -> _dt.datetime:
    """An aware UTC datetime from the server's ISO text (naive text is UTC)."""
    text = text.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Python 3.10 only reads 3 or 6 fraction digits.
    text = _FRACTION_RE.sub(lambda m: (m[1] + "000000")[:7], text, count=1)
    value = _dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc)


def _object_hook(obj: dict[str, Any]) -> Any:
    kind = obj.get("__type__")
    if kind == "datetime" and "value" in obj:
        return decode_datetime(obj["value"])
    if kind == "date" and "value" in obj:
        return _dt.date.fromisoformat(obj["value"][:10])
    return obj


def decode(text: str) -> Any:
    """Decode a JSON answer, turning ``{"__type__": "datetime"}`` objects into datetimes."""
    return json.loads(text, object_hook=_object_hook)


#: Failures worth another try for a read: the request may not have reached the server, or
#: its answer was lost on the way.
_TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)

_REASONS = (
    "Connection refused", "Name or service not known", "nodename nor servname provided",
    "Temporary failure in name resolution", "No route to host", "Network is unreachable",
    "Remote end closed connection", "Connection reset", "Connection aborted",
    "certificate verify failed", "timed out",
)


def _reason(error: Exception) -> str:
    """A short human reason for a requests failure (its text is often a long nested repr)."""
    text = str(error).lower()
    for phrase in _REASONS:
        if phrase.lower() in text:
            return phrase.lower() if phrase[0].islower() else phrase
    return type(error).__name__


class Transport:
    """Posts operation lists to ``{server_url}/api`` and maps failures to :mod:`exceptions`."""

    def __init__(
        self,
        server_url: str,
        api_user: str,
        api_key: str,
        *,
        timeout: float = 60,
        encode_entity: Callable[[Any], Any] | None = None,
        retries: int = 3,
        backoff: tuple[float, ...] = (0.2, 1.0),
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.api_user = api_user
        self.api_key = api_key
        self.timeout = timeout
        self.retries = max(1, retries)
        self.backoff = backoff
        self._encode_entity = encode_entity
        self.request_count = 0
        self._count_lock = threading.Lock()
        self.http = requests.Session()
        # Counted in a hook so that uploads and downloads made through ``http`` count too.
        self.http.hooks["response"].append(self._count_response)
        self._closed = False

    # Counting ---------------------------------------------------------------------------
    def _count_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        with self._count_lock:
            self.request_count += 1

    def count_request(self, n: int = 1) -> None:
        """Count requests made outside ``http`` (from any thread, e.g. upload workers)."""
        with self._count_lock:
            self.request_count += n

    # Encoding ---------------------------------------------------------------------------
    def _default(self, value: Any) -> Any:
        if isinstance(value, (_dt.datetime, _dt.date)):
            return encode_datetime(value)
        if self._encode_entity is not None:
            encoded = self._encode_entity(value)
            if encoded is not None:
                return encoded
        if isinstance(value, (set, frozenset, tuple)):
            return list(value)
        raise TypeError(f"Cannot send a {type(value).__name__} to the ftrack server: {value!r}")

    def encode(self, operations: list[dict[str, Any]]) -> str:
        """The JSON body for ``operations``, keys sorted as the stock client sends them."""
        return json.dumps(operations, sort_keys=True, default=self._default)

    @property
    def api_headers(self) -> dict[str, str]:
        """The headers of a request to ``/api`` (credentials are sent to the server only)."""
        return {
            "content-type": "application/json",
            "accept": "application/json",
            "ftrack-user": self.api_user,
            "ftrack-api-key": self.api_key,
            "ftrack-strict-api": "false",
        }

    # Calling ----------------------------------------------------------------------------
    def call(self, operations: list[dict[str, Any]], *, retry: bool = False) -> list[Any]:
        """Send ``operations`` in one request and return one result per operation.

        ``retry`` allows re-sending after a connection failure or a 502/503/504: only for reads,
        never for a commit, which the server may have applied before the answer was lost.
        """
        if self._closed:
            raise exceptions.FtrackError("This session is closed; make a new one (or clone another).")
        body = self.encode(operations)
        url = f"{self.server_url}/api"
        attempts = self.retries if retry else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self.http.post(url, data=body.encode("utf-8"), headers=self.api_headers,
                                          timeout=self.timeout)
            except _TRANSIENT as error:
                if not last:
                    self._sleep(attempt)
                    continue
                raise self._connection_error(error, sent=not retry) from error
            except requests.RequestException as error:  # a bad URL or the like: retrying won't help
                raise self._connection_error(error, sent=False) from error
            if response.status_code in RETRY_STATUSES and not last:
                self._sleep(attempt)
                continue
            return self._read(response, len(operations), unconfirmed=not retry)
        raise AssertionError("unreachable")  # pragma: no cover

    def _sleep(self, attempt: int) -> None:
        time.sleep(self.backoff[min(attempt, len(self.backoff) - 1)])

    def _connection_error(self, error: requests.RequestException, *, sent: bool) -> exceptions.ServerConnectionError:
        if isinstance(error, requests.Timeout) and not isinstance(error, requests.ConnectTimeout):
            what = f"did not answer within {self.timeout:g} s"
        elif isinstance(error, requests.exceptions.SSLError):
            what = "could not be reached over a secure connection (TLS/SSL error)"
        else:
            what = "could not be reached"
        message = (
            f"The ftrack server at {self.server_url} {what} ({_reason(error)}). "
            "Check the server address (FTRACK_SERVER or the settings), your network or VPN, "
            "and that the server is running."
        )
        if sent:
            return exceptions.CommitUnconfirmedError(message + _UNCONFIRMED, server_url=self.server_url,
                                                     reason=message)
        return exceptions.ServerConnectionError(message, server_url=self.server_url)

    def _read(self, response: requests.Response, expected: int, *, unconfirmed: bool = False) -> list[Any]:
        url = f"{self.server_url}/api"
        try:
            data = decode(response.text)
        except ValueError:
            if response.status_code in RETRY_STATUSES:
                message = (
                    f"The ftrack server at {self.server_url} is unavailable (HTTP {response.status_code}: "
                    "a proxy could not reach it or it is overloaded). Try again in a moment; if it "
                    "lasts, check that the server is running."
                )
                if unconfirmed:
                    raise exceptions.CommitUnconfirmedError(message + _UNCONFIRMED, server_url=self.server_url,
                                                            reason=message)
                raise exceptions.ServerConnectionError(message, server_url=self.server_url)
            snippet = response.text[:200].strip().replace("\n", " ")
            raise exceptions.ServerResponseError(
                f"The server at {self.server_url} did not answer like an ftrack server "
                f"(HTTP {response.status_code}, not JSON: {snippet!r}). "
                "Check that FTRACK_SERVER is the address of an ftrack server.",
                server_url=self.server_url, status_code=response.status_code,
            ) from None
        if isinstance(data, dict) and "exception" in data:
            raise self._server_error(data, response.status_code)
        if response.status_code == 401 or response.status_code == 403:
            raise exceptions.AuthenticationError(
                f"The ftrack server at {self.server_url} refused user {self.api_user!r} "
                f"(HTTP {response.status_code}). Check FTRACK_API_USER and FTRACK_API_KEY or the settings.",
                exception_name="AuthenticationError", content=str(data)[:200],
            )
        if response.status_code >= 400 or not isinstance(data, list) or len(data) != expected:
            raise exceptions.ServerResponseError(
                f"The server at {url} answered HTTP {response.status_code} with "
                f"{type(data).__name__} instead of a list of {expected} result(s). "
                "Check that FTRACK_SERVER is the address of an ftrack server.",
                server_url=self.server_url, status_code=response.status_code,
            )
        return data

    def _server_error(self, data: dict[str, Any], status: int) -> exceptions.ServerError:
        name = str(data.get("exception") or "ServerError")
        content = data.get("content")
        content_text = "" if content is None else str(content)
        code = data.get("error_code")
        if name in _AUTH_EXCEPTIONS or status == 401:
            return exceptions.AuthenticationError(
                f"The ftrack server at {self.server_url} refused the login of {self.api_user!r}: "
                f"{content_text} Check FTRACK_API_USER and FTRACK_API_KEY or the settings.",
                exception_name=name, content=content_text, error_code=code,
            )
        return exceptions.ServerError(
            f"Server reported error: {name}({content_text})",
            exception_name=name, content=content_text, error_code=code,
        )

    def close(self) -> None:
        """Close the connection pool; further calls raise. Safe to call twice."""
        if not self._closed:
            self._closed = True
            self.http.close()
