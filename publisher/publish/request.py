"""What a publish is asked to do, and what it made: plain data shared by the engine, the outbox,
the window and the ``publish`` command. No Qt.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from publisher.publish.staging import StagedComponent


@dataclass
class NewVersion:
    """A version to create: on the asset ``asset_name`` (made if missing) under ``context_id``."""

    context_id: str
    asset_name: str
    asset_type_id: str
    comment: str = ""
    task_id: str | None = None
    asset_id: str | None = None  # an existing asset, when known


@dataclass
class PublishRequest:
    """What to publish: components onto an existing version (``version_id``) or a new one.

    Exactly one of ``version_id`` and ``new_version``. ``comment`` (when not None) is a new
    version's comment; on an existing version it becomes a Note (its own comment is kept).
    ``review_path`` is a movie or image to encode for review afterwards.
    """

    components: list[StagedComponent]
    version_id: str | None = None
    new_version: NewVersion | None = None
    comment: str | None = None
    review_path: str | None = None


@dataclass
class PublishResult:
    """What a finished publish made."""

    version_id: str
    component_ids: list[str]
    job_id: str | None
    version_number: int | None = None
    created_version: bool = False


@dataclass
class CheckedRequest:
    """A request that passed :func:`publisher.publish.steps.check_request`, with what the steps need."""

    request: PublishRequest
    locations: dict[str, Any]  # location name -> Location entity
    moved_bytes: dict[str, int]  # component name -> bytes the transfer moves (0 when unmanaged)

    @property
    def total_bytes(self) -> int:
        return sum(self.moved_bytes.values())


def request_to_dict(request: PublishRequest) -> dict[str, Any]:
    """A JSON-ready dict of ``request`` (round-trips with :func:`request_from_dict`)."""
    return dataclasses.asdict(request)


def request_from_dict(data: Any) -> PublishRequest:
    """The :class:`PublishRequest` stored by :func:`request_to_dict`; ValueError when malformed."""
    if not isinstance(data, dict):
        raise ValueError("the request is not an object")
    try:
        components = [StagedComponent(**c) for c in data.get("components") or []]
        new = data.get("new_version")
        return PublishRequest(
            components=components,
            version_id=data.get("version_id"),
            new_version=NewVersion(**new) if new else None,
            comment=data.get("comment"),
            review_path=data.get("review_path"),
        )
    except TypeError as error:
        raise ValueError(f"the request does not have the expected fields ({error})") from None


__all__ = ["CheckedRequest", "NewVersion", "PublishRequest", "PublishResult", "request_from_dict",
           "request_to_dict"]
