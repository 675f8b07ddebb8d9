"""The errors the client raises. Each message says what happened and, where it can, what to do.

Everything derives from :class:`FtrackError`, so callers that only want to show a message can
catch that one class.
"""

from __future__ import annotations

from typing import Any


class FtrackError(Exception):
    """Base of every error raised by :mod:`publisher.api`."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(FtrackError):
    """The session cannot start because a setting is missing (server URL, user or key)."""


class ServerError(FtrackError):
    """The server answered with an error object: ``{"exception", "content", "error_code"}``."""

    def __init__(
        self,
        message: str = "",
        *,
        exception_name: str | None = None,
        content: str | None = None,
        error_code: Any = None,
    ) -> None:
        if not message:
            message = f"Server reported error: {exception_name or 'ServerError'}({content or ''})"
        super().__init__(message)
        self.exception_name = exception_name
        self.content = content
        self.error_code = error_code


class AuthenticationError(ServerError):
    """The server refused the API user or key."""


class ServerConnectionError(FtrackError):
    """The server could not be reached (refused, timed out, DNS, TLS...)."""

    def __init__(self, message: str = "", *, server_url: str | None = None) -> None:
        super().__init__(message)
        self.server_url = server_url


class CommitUnconfirmedError(ServerConnectionError):
    """A commit was sent but no answer came back (time-out, dropped connection, proxy 502/504):
    the server may or may not have applied it. Settle it by asking the server what exists,
    never by undoing blindly; the edits stay pending in the session until then.

    ``reason``: what went wrong, without the advice the message adds about the unsettled edits
    (for callers that settle them themselves and say so in their own words).
    """

    def __init__(self, message: str = "", *, server_url: str | None = None, reason: str = "") -> None:
        super().__init__(message, server_url=server_url)
        self.reason = reason or message


class ServerResponseError(FtrackError):
    """The server answered something that is not the ftrack JSON API (HTML, garbage, wrong shape)."""

    def __init__(self, message: str = "", *, server_url: str | None = None, status_code: int | None = None) -> None:
        super().__init__(message)
        self.server_url = server_url
        self.status_code = status_code


class UnrecognisedEntityTypeError(FtrackError):
    """An entity type that the server's schemas do not define."""

    def __init__(self, entity_type: str, known: list[str] | None = None) -> None:
        hint = ""
        if known:
            import difflib

            close = difflib.get_close_matches(entity_type, known, n=3)
            if close:
                hint = " Did you mean " + " or ".join(repr(c) for c in close) + "?"
        super().__init__(f"Entity type {entity_type!r} is not known to this ftrack server.{hint}")
        self.entity_type = entity_type


class UnknownAttributeError(FtrackError, KeyError):
    """An attribute name that the entity type does not have (also a ``KeyError``)."""

    def __init__(self, entity_type: str, name: str) -> None:
        FtrackError.__init__(self, f"{entity_type} has no attribute {name!r}.")
        self.entity_type = entity_type
        self.name = name

    def __str__(self) -> str:
        return self.message


class NotFoundError(FtrackError):
    """A query that had to return exactly one result returned none."""


#: The stock client's name for :class:`NotFoundError`.
NoResultFoundError = NotFoundError


class MultipleResultsFoundError(FtrackError):
    """A query that had to return exactly one result returned several."""


class ImmutableAttributeError(FtrackError):
    """An attribute that cannot change once set (for example ``id``)."""

    def __init__(self, entity_type: str, name: str) -> None:
        super().__init__(f"{entity_type} attribute {name!r} cannot be changed once set.")
        self.entity_type = entity_type
        self.name = name


class TransferCancelled(FtrackError):
    """A transfer was cancelled by the caller; nothing was committed for it."""


class LocationError(FtrackError):
    """A location could not store, find or remove data."""


class ComponentInLocationError(LocationError):
    """The component is already in that location."""


class ComponentNotInLocationError(LocationError):
    """The component is not in that location."""


class AccessorError(LocationError):
    """Reading or writing the data of a location failed (disk, upload, download)."""


class EncodeError(FtrackError):
    """The server could not start encoding media."""


class JobFailedError(EncodeError):
    """A server job ended with status ``failed``; the message carries the server's reason."""
