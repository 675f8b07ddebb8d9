"""Progress events a publish reports to ``on_event`` (plain dataclasses, no Qt).

``run_publish`` calls ``on_event(event)`` from the thread that runs the publish (a worker in the
window); the window turns them into queued signals. Byte progress may also come from a transfer
thread, so a handler must be thread-safe and quick.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PublishStarted:
    """The request was checked; ``total_bytes`` will be moved for ``components`` (names)."""

    total_bytes: int
    components: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class VersionReady:
    """The version exists on the server (created now when ``created`` is true)."""

    version_id: str
    created: bool


@dataclass(frozen=True)
class ComponentStarted:
    """A component starts: it is created, then ``total_bytes`` are transferred."""

    name: str
    total_bytes: int


@dataclass(frozen=True)
class BytesProgress:
    """Bytes moved so far for component ``name`` and for the whole publish."""

    name: str
    done: int
    total: int
    overall_done: int
    overall_total: int


@dataclass(frozen=True)
class TransferPhase:
    """Component ``name`` is getting ready before its first byte moves: ``label`` says how
    (``reading``: small files read for their checksums, ``done`` of ``total`` bytes;
    ``planning``: asking the server where to send ``total`` files)."""

    name: str
    label: str
    done: int
    total: int


@dataclass(frozen=True)
class ComponentDone:
    """Component ``name`` is on the server and in its location."""

    name: str
    component_id: str


@dataclass(frozen=True)
class EncodeQueued:
    """The server accepted the review media; poll Job ``job_id`` for its progress."""

    job_id: str


@dataclass(frozen=True)
class PublishFinished:
    """Everything was published."""

    version_id: str
    component_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PublishFailed:
    """The publish stopped; ``message`` says why and what to do."""

    message: str


@dataclass(frozen=True)
class PublishCancelled:
    """The artist cancelled the publish; what it had created was removed (``message`` says so).

    Sent just before the final :class:`PublishFailed` with the same message, so a handler that
    only knows ``PublishFailed`` still sees the end of the publish.
    """

    message: str


#: The event's other name, for code that also imports ``errors.PublishCancelled``.
PublishCancelledEvent = PublishCancelled


PublishEvent = (
    PublishStarted | VersionReady | ComponentStarted | TransferPhase | BytesProgress | ComponentDone
    | EncodeQueued | PublishFinished | PublishFailed | PublishCancelled
)
