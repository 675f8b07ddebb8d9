"""What "Collect from <host>" stages, and where: a collection resolved against the task.

:func:`prepare` takes a :class:`~publisher.hosts.collect.items.Collection` and the task id
(``FTRACK_CONTEXTID``, ``--context`` or the window's selection), asks the server what the task
is and the shot's range, and returns a :class:`StagePlan`: the task, the files to stage and every
note for the artist (frames missing, ranges off the shot, what was skipped). Qt-free; it talks to
the server, so the window calls it from a worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from publisher.hosts import context as contexts
from publisher.hosts.collect import shot_range
from publisher.hosts.collect.items import Collection


@dataclass(frozen=True)
class StagePlan:
    """Stage ``paths`` as a new version in ``context``, and show ``notes``."""

    host: str
    context: contexts.TaskContext
    paths: list[str]
    notes: list[str] = field(default_factory=list)


def prepare(session: Any, collection: Collection, context_id: str, *,
            source: str = contexts.ENVIRONMENT_VARIABLE) -> StagePlan:
    """Resolve ``context_id`` and check ``collection`` against its shot. Raises
    :class:`~publisher.hosts.context.ContextNotFound` when the id names nothing."""
    context = contexts.resolve(session, context_id, source=source)
    notes = list(collection.notes)
    if context.shot_id is None:
        notes.append(f"{context.label} is not under a shot: the render ranges were not checked.")
    else:
        found = shot_range.read(session, context.shot_id, context.shot_name or context.shot_id)
        if isinstance(found, str):
            notes.append(found)
        else:
            notes.extend(shot_range.check(collection, found))
    if not collection.stageable():
        notes.insert(0, f"Nothing from {collection.host} is on disk to stage.")
    return StagePlan(collection.host, context, collection.paths(), notes)


__all__ = ["StagePlan", "prepare"]
