"""Errors the publishing engine raises, each with a message an artist can act on. No Qt."""

from __future__ import annotations


class PublishError(Exception):
    """A publish (or the staging before it) cannot go on; ``message`` says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class PublishCancelled(PublishError):
    """The artist cancelled the publish; what was already sent is listed in the message."""
