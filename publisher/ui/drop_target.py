"""What a drop lands on, as data: the drop zones send it, the staging controller reads it. No Qt."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DropTarget:
    """What a drop lands on.

    ``kind`` is ``"version"`` (``id`` is an AssetVersion id), ``"context"`` (``id`` is a task,
    shot, folder... : stage a new version there), ``"asset"`` (``id`` is an Asset id, ``context_id``
    its parent: a new version of that asset) or ``"current"`` (the version shown in the details
    panel, or a new version when none is shown). ``task_id``: the task a new version is linked to
    when it is not ``id`` itself (a Shift+drop on a version row: that version's task).
    """

    kind: str
    id: str | None = None
    context_id: str | None = None
    label: str = ""
    task_id: str | None = None
