"""Errors the publishing engine raises, each with a message an artist can act on. No Qt."""

from __future__ import annotations


class PublishError(Exception):
    """A publish (or the staging before it) cannot go on; ``message`` says why and what to do.

    When a failed publish left something on the server (no rollback, or a rollback that could
    not finish), ``version_id`` and ``component_ids`` say what, so it can be resumed or cleaned.
    """

    def __init__(self, message: str, *, version_id: str | None = None,
                 component_ids: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.version_id = version_id
        self.component_ids = list(component_ids or [])

    def __str__(self) -> str:
        return self.message


class PublishCancelled(PublishError):
    """The artist cancelled the publish; what was already sent is listed in the message."""
