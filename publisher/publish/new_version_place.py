"""Where a new version goes: the asset's parent, the task it is linked to, the full path, and the
assets already there (so an artist picks "comp" instead of making a second one).

A drop on a task makes a version of an asset that lives on the task's shot (where ftrack keeps
a shot's assets) and links the version to the task; a drop on a shot or folder makes one on an
asset of that context, with no task. No Qt; callable from any thread (with its own session).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from publisher.api.quoting import quote
from publisher.publish import asset_names, browse


@dataclass(frozen=True)
class AssetChoice:
    """An existing asset a new version can go on: its id, name and type."""

    id: str
    name: str
    type_id: str
    type_name: str


@dataclass(frozen=True)
class NewVersionPlace:
    """Where a new version of a drop goes.

    ``context_id``: the asset's parent (the task's parent for a task); ``task_id``: the task the
    version is linked to (``None`` for a shot or folder); ``path``: names from the project down
    to the dropped-on context; ``assets``: those on ``context_id`` and on the task, by name.
    """

    context_id: str
    task_id: str | None
    path: tuple[str, ...]
    assets: tuple[AssetChoice, ...]

    @property
    def label(self) -> str:
        """The full path, e.g. ``lighthouse / sq010 / sh010 / Compositing``."""
        return " / ".join(self.path)

    @property
    def short_label(self) -> str:
        """The last two levels, e.g. ``sh010 / Compositing`` (for a version just made)."""
        return " / ".join(self.path[-2:])


def new_version_place(session: Any, context_id: str) -> NewVersionPlace:
    """The place of a new version dropped on ``context_id``; ``PublishError`` when it is gone."""
    path = browse.context_path(session, context_id)
    names = tuple(row.name for row in path)
    here = path[-1] if path else None
    task_id = None
    parent_id = context_id
    if here is not None and here.entity_type == "Task" and here.parent_id:
        task_id, parent_id = here.id, here.parent_id
    where = [parent_id] + ([task_id] if task_id else [])
    ids = ", ".join(quote(i) for i in where)
    rows = session.query(f"select id, name, type_id, type.name from Asset where context_id in ({ids})").all()
    assets = sorted((AssetChoice(r["id"], r["name"], r["type_id"] or "", r["type"]["name"] if r["type"] else "")
                     for r in rows), key=lambda a: (a.name.lower(), a.id))
    return NewVersionPlace(parent_id, task_id, names, tuple(assets))


def proposed_asset(names: Iterable[str], assets: Iterable[AssetChoice]) -> tuple[str, AssetChoice | None]:
    """The asset name to propose for staged components ``names`` (version and frame tokens
    dropped, :func:`asset_names.propose`) and the existing asset of that name (case aside), if
    any. Only the same name matches: ``sh010_comp`` next to ``comp`` is proposed as it is, since
    guessing would put work on an asset the artist did not name."""
    first = next(iter(names), "")
    proposal = asset_names.propose(first) if first else ""
    by_name = {a.name.lower(): a for a in assets}
    match = by_name.get(proposal.lower())
    return (match.name, match) if match is not None else (proposal, None)


__all__ = ["AssetChoice", "NewVersionPlace", "new_version_place", "proposed_asset"]
