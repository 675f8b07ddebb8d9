"""The shot's frame range (``fstart``, ``fend``, ``handles`` custom attributes) and the check of
collected ranges against it.

A studio keeps a shot's cut range in custom attributes; ftrack's own studio template names them
``fstart``, ``fend`` and ``handles``. :func:`read` asks the server for them and says, as a note,
why the check is skipped when a server has no such attributes (the embedded demo server until
they are added) or the shot has no values. :func:`check` compares each collected sequence with
the shot: frames of the cut not rendered, or rendered beyond the handles. Qt-free; :func:`read`
talks to the server (call it from a worker).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from publisher.hosts.collect.items import Collection, Role

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShotRange:
    """The cut of ``shot``: ``first``-``last``, with ``handles`` frames either side."""

    shot: str
    first: int
    last: int
    handles: int = 0


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _values(attributes: Any) -> dict[str, Any]:
    if isinstance(attributes, Mapping):
        return dict(attributes)
    values: dict[str, Any] = {}
    for entry in attributes or []:  # CustomAttributeValue rows: key (or configuration.key), value
        key = entry.get("key") or (entry.get("configuration") or {}).get("key")
        if key:
            values[str(key)] = entry.get("value")
    return values


def read(session: Any, shot_id: str, shot_name: str) -> ShotRange | str:
    """The range of the shot, or a note saying why the ranges cannot be checked."""
    try:
        shot = session.query(f"select id, custom_attributes from Shot where id is {_quote(shot_id)}").first()
        values = _values(shot["custom_attributes"]) if shot is not None else {}
    except Exception as exc:  # an old server or one without custom attributes on shots
        log.info("No custom attributes on shot %s: %s", shot_name, exc)
        return (f"The shot {shot_name} has no frame range on this server (no fstart/fend custom "
                "attributes): the render ranges were not checked against it.")
    try:
        first, last = int(values["fstart"]), int(values["fend"])
    except (KeyError, TypeError, ValueError):
        return (f"The shot {shot_name} has no fstart/fend set: the render ranges were not checked "
                "against it (ask production to fill them in).")
    try:
        handles = int(values.get("handles") or 0)
    except (TypeError, ValueError):
        handles = 0
    return ShotRange(shot_name, first, last, handles)


def check(collection: Collection, shot: ShotRange) -> list[str]:
    """Notes for each collected sequence that misses frames of the cut or goes past the handles."""
    notes: list[str] = []
    low, high = shot.first - shot.handles, shot.last + shot.handles
    with_handles = f" with {shot.handles} handles ({low}-{high})" if shot.handles else ""
    for item in collection.items:
        if item.expected is None or item.role is Role.SCENE:
            continue
        first, last = item.expected
        if first > shot.first or last < shot.last:
            notes.append(f"{item.source}: renders {first}-{last}, but the shot {shot.shot} is "
                         f"{shot.first}-{shot.last}: part of the cut is not rendered.")
        elif first < low or last > high:
            notes.append(f"{item.source}: renders {first}-{last}, past the shot {shot.shot}'s "
                         f"{shot.first}-{shot.last}{with_handles}.")
    return notes


__all__ = ["ShotRange", "check", "read"]
