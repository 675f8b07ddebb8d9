"""Errors the embedded server answers with, as ftrack's ``{exception, content, error_code}`` object."""

from __future__ import annotations

import json


class ServerError(Exception):
    """An error that becomes one JSON error object; ``status`` is used under ``ftrack-strict-api``."""

    exception = "ServerError"
    status = 500

    def __init__(self, content: str, *, exception: str | None = None, status: int | None = None) -> None:
        super().__init__(content)
        self.content = content
        if exception is not None:
            self.exception = exception
        if status is not None:
            self.status = status

    def payload(self) -> dict:
        """The wire object. Braces are replaced because the stock client formats the message."""
        text = self.content.replace("{", "(").replace("}", ")")
        return {"exception": self.exception, "content": text, "error_code": None}

    def body(self) -> bytes:
        return json.dumps(self.payload()).encode()


class ValidationError(ServerError):
    """The request is malformed or names something that does not exist in the schemas."""

    exception = "ValidationError"
    status = 400


class QueryError(ValidationError):
    """A query expression that cannot be parsed or compiled."""

    exception = "ParseError"


class AuthenticationError(ServerError):
    """Missing or wrong user name or API key."""

    exception = "InvalidCredentialsError"
    status = 401


class NotFoundError(ServerError):
    """The entity or file asked for does not exist."""

    exception = "NotFoundError"
    status = 404


class IntegrityError(ServerError):
    """The batch would break a uniqueness or reference rule."""

    exception = "IntegrityError"
    status = 409


class InvalidAction(ServerError):
    """An action this server does not implement; the text is what the stock client looks for."""

    exception = "ServerError"
    status = 400

    def __init__(self, name: object) -> None:
        super().__init__(f"Invalid action u'{name}'")


class DiskFullError(ServerError):
    """The server's disk (or quota) is full: nothing was stored; space must be freed on the server."""

    exception = "DiskFullError"
    status = 507

    def __init__(self, what: str = "The request") -> None:
        super().__init__(f"{what} could not be stored: the server's disk is full. Nothing was kept; free space "
                         "on the server (or ask its administrator to), then try again.")


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (an OSError or an SQLite error) says that the disk or a quota is full."""
    import errno
    import sqlite3

    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return False
