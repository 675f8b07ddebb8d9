"""Errors the publishing engine raises, each with a message an artist can act on, and the data
behind the message (what kind of failure, what was left on the server). No Qt.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FailureKind(enum.Enum):
    """Why a publish stopped."""

    #: The request is not publishable as it stands (names, target, files gone...); nothing changed.
    INVALID = "invalid"
    #: The server could not be reached before anything was created; an outbox entry waits.
    UNREACHABLE = "unreachable"
    #: A step failed on the server or in a transfer.
    STEP_FAILED = "step failed"
    #: The artist cancelled.
    CANCELLED = "cancelled"
    #: The components are published; only the review encode could not be queued.
    REVIEW_NOT_QUEUED = "review not queued"
    #: Another run holds the outbox entry, or the outbox cannot be read or written.
    OUTBOX = "outbox"


class LeftoverKind(enum.Enum):
    """What a rollback could not remove."""

    COMPONENT = "component"
    VERSION = "version"
    #: Everything an outbox entry created (the server could not even be asked what is there).
    ALL = "all"


@dataclass(frozen=True)
class Leftover:
    """Something a failed or cancelled publish created and could not remove, and why not.

    ``name`` is the component's name (for a component), ``entity_id`` its id or the version's.
    """

    kind: LeftoverKind
    name: str | None
    entity_id: str | None
    reason: str
    #: The server could not be reached to remove it (so the reason is the same as a failure's
    #: that also lost the server, and a message need not repeat it).
    unreachable: bool = False

    @property
    def label(self) -> str:
        """How a message names it: ``component 'plate'``, ``the new version (id)``."""
        if self.kind is LeftoverKind.COMPONENT:
            return f"component '{self.name}'"
        if self.kind is LeftoverKind.VERSION:
            return f"the new version ({self.entity_id})"
        return "what this publish created"


class PublishError(Exception):
    """A publish (or the staging before it) cannot go on; ``message`` says why and what to do.

    When a failed publish left something on the server (no rollback, or a rollback that could
    not finish), ``version_id`` and ``component_ids`` say what, so it can be resumed or cleaned;
    ``leftovers`` lists what a rollback could not remove and why. ``kind`` says what failed.
    """

    def __init__(self, message: str, *, version_id: str | None = None,
                 component_ids: list[str] | None = None, kind: FailureKind = FailureKind.STEP_FAILED,
                 leftovers: list[Leftover] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.version_id = version_id
        self.component_ids = list(component_ids or [])
        self.kind = kind
        self.leftovers = list(leftovers or [])

    def __str__(self) -> str:
        return self.message


class PublishCancelled(PublishError):
    """The artist cancelled the publish; what was already sent is listed in the message."""

    def __init__(self, message: str, *, version_id: str | None = None,
                 component_ids: list[str] | None = None, kind: FailureKind = FailureKind.CANCELLED,
                 leftovers: list[Leftover] | None = None) -> None:
        super().__init__(message, version_id=version_id, component_ids=component_ids, kind=kind,
                         leftovers=leftovers)


__all__ = ["FailureKind", "Leftover", "LeftoverKind", "PublishCancelled", "PublishError"]
