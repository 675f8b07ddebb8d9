"""The task the artist works on: ``FTRACK_CONTEXTID`` (set by ftrack Connect) or ``--context ID``.

ftrack Connect starts a DCC, and ftrack Actions start applications, with the id of the selected
task in ``FTRACK_CONTEXTID``. :func:`from_environment` reads it; :func:`resolve` asks the server
what it is (a task, a shot or folder, or a version, which stands for its task) and returns a
:class:`TaskContext` with the shot it belongs to, or raises :class:`ContextNotFound` saying what
to do. Qt-free; :func:`resolve` talks to the server, so call it from a worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

#: The variable ftrack Connect and ftrack Actions set to the selected task's id.
ENVIRONMENT_VARIABLE = "FTRACK_CONTEXTID"


class ContextNotFound(LookupError):
    """The context id names nothing on the server; the message says which id and what to do."""


@dataclass(frozen=True)
class TaskContext:
    """Where collected items are staged: ``id`` (a task, or a shot/folder), its ``name``, its
    ``entity_type``, the shot above it (``shot_id``/``shot_name``, None when it is not under a
    shot) and ``label``, the path from the project (``lighthouse / sq010 / sh010 / Compositing``)."""

    id: str
    name: str
    entity_type: str
    shot_id: str | None
    shot_name: str | None
    label: str

    @property
    def is_task(self) -> bool:
        return self.entity_type == "Task"


def from_environment(env: Mapping[str, str] | None = None) -> str | None:
    """The id in ``FTRACK_CONTEXTID``, or None when it is unset or blank."""
    value = (os.environ if env is None else env).get(ENVIRONMENT_VARIABLE, "").strip()
    return value or None


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _link(entity: Any) -> list[dict]:
    link = entity["link"] or []
    return [dict(item) for item in link]


def resolve(session: Any, context_id: str, *, source: str = ENVIRONMENT_VARIABLE) -> TaskContext:
    """What ``context_id`` is on ``session``'s server. ``source`` names where the id came from in
    the error (``FTRACK_CONTEXTID`` or ``--context``). Raises :class:`ContextNotFound`."""
    context_id = context_id.strip()
    found = session.query(f"select id, name, link from Context where id is {_quote(context_id)}").first()
    if found is None:
        version = session.query(
            f"select id, task_id, asset.parent.id from AssetVersion where id is {_quote(context_id)}").first()
        if version is not None:
            target = version["task_id"] or version["asset"]["parent"]["id"]
            return resolve(session, str(target), source=source)
        raise ContextNotFound(
            f"{source}={context_id} names no task, shot, folder or version on {session.server_url}: "
            "start the application again from the task in ftrack Connect, or pick the task in the window.")
    link = _link(found)
    entity_type = str(getattr(found, "entity_type", "") or "")
    if entity_type in ("", "Context", "TypedContext"):
        typed = session.query(f"select id from Task where id is {_quote(context_id)}").first()
        entity_type = "Task" if typed is not None else entity_type or "Context"
    shot_id = shot_name = None
    ancestors = link[:-1]
    for item in reversed(ancestors):
        candidate = session.query(f"select id, name from Shot where id is {_quote(str(item['id']))}").first()
        if candidate is not None:
            shot_id, shot_name = str(candidate["id"]), str(candidate["name"])
            break
    if entity_type == "Shot":
        shot_id, shot_name = str(found["id"]), str(found["name"])
    label = " / ".join(str(item.get("name", "")) for item in link) or str(found["name"])
    return TaskContext(str(found["id"]), str(found["name"]), entity_type, shot_id, shot_name, label)


__all__ = ["ContextNotFound", "ENVIRONMENT_VARIABLE", "TaskContext", "from_environment", "resolve"]
