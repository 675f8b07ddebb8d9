"""The events a commit announces on the hub: ``ftrack.update`` with one ``entities`` entry per
created, changed or deleted entity, ``ftrack.location.component-added`` for a finished upload.

An entry has the keys ftrack's own server sends: ``entityType`` (ftrack's legacy lower-case
type name: ``show`` for a project, ``task`` for every other context, ``assetversion``...),
``entity_type`` (the schema name), ``entityId``, ``action`` (``add``, ``update``, ``remove``),
``keys`` and ``changes`` (``{key: {"old": .., "new": ..}}``) under the legacy column names
(``status_id`` is ``statusid``), ``parents`` (the entity itself first, up to its project, each
with ``entityId``, ``entityType``, ``entity_type`` and ``parentId``), ``parentId`` and, for
contexts, ``objectTypeId``.

Entries are built inside the batch's transaction (a removed entity's parents must be read
before the rows go) and published only after the commit. Plain functions over a SQLite
connection; called from the thread that runs the batch.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any, Mapping

#: ``source`` of the events the server publishes itself.
SERVER_SOURCE_ID = "ftrack.server"
_LEGACY_TYPES = {"Project": "show", "Folder": "task", "Sequence": "task", "Shot": "task", "Task": "task",
                 "FileComponent": "component", "ContainerComponent": "component", "SequenceComponent": "component"}
#: Columns that are not attribute values (bookkeeping of the storage).
_HIDDEN = {"entity_type", "context_type", "system_type"}
_MAX_PARENTS = 32
#: Entries per ``ftrack.update`` event: a batch of thousands of rows (a long image sequence) is
#: announced in several events, none too big for a client's queue.
ENTRIES_PER_EVENT = 100


def legacy_type(entity_type: str) -> str:
    """ftrack's lower-case ``entityType`` for a schema type name."""
    return _LEGACY_TYPES.get(entity_type, entity_type.lower())


def legacy_key(column: str) -> str:
    """ftrack's legacy name of an attribute column in ``keys``/``changes`` (``statusid``)."""
    return column.replace("_", "")


def _parent_of(conn: sqlite3.Connection, table: str, row: Mapping[str, Any]) -> tuple[str, str] | None:
    """(table, id) of the entity ``row`` hangs under, or None at the top."""
    if table == "asset_version":
        return ("asset", row.get("asset_id")) if row.get("asset_id") else None
    if table == "asset":
        return ("context", row.get("context_id")) if row.get("context_id") else None
    if table == "component":
        if row.get("container_id"):
            return ("component", row["container_id"])
        return ("asset_version", row["version_id"]) if row.get("version_id") else None
    if table == "context":
        return ("context", row["parent_id"]) if row.get("parent_id") else None
    if table == "note":
        parent = row.get("parent_id")
        if parent:
            for candidate in ("asset_version", "context"):
                if conn.execute(f'SELECT 1 FROM "{candidate}" WHERE "id" = ?', (parent,)).fetchone():
                    return (candidate, parent)
    return None


_TYPE_OF_TABLE = {"asset_version": "AssetVersion", "asset": "Asset", "note": "Note", "job": "Job", "users": "User"}


def _type_of(table: str, row: Mapping[str, Any]) -> str:
    return row.get("entity_type") or _TYPE_OF_TABLE.get(table, table)


def parents(conn: sqlite3.Connection, table: str, row: Mapping[str, Any],
            cache: dict | None = None) -> list[dict]:
    """The ``parents`` list of an entry: the entity itself, then each parent up to its project.

    ``cache`` (one per batch) keeps the parent rows already read: the frames of a sequence share
    their container, version, asset and contexts.
    """
    cache = {} if cache is None else cache
    chain, seen = [], set()
    current: Mapping[str, Any] | None = row
    current_table = table
    while current is not None and len(chain) < _MAX_PARENTS:
        up = _parent_of(conn, current_table, current)
        entity_type = _type_of(current_table, current)
        item = {"entityId": current.get("id"), "entityType": legacy_type(entity_type),
                "entity_type": entity_type, "parentId": up[1] if up else None}
        chain.append(item)
        seen.add(current.get("id"))
        if up is None or up[1] in seen:
            break
        if up not in cache:
            found = conn.execute(f'SELECT * FROM "{up[0]}" WHERE "id" = ?', (up[1],)).fetchone()
            cache[up] = dict(found) if found else None
        current, current_table = cache[up], up[0]
    return chain


def entry(conn: sqlite3.Connection, table: str, action: str, before: Mapping[str, Any] | None,
          after: Mapping[str, Any] | None, cache: dict | None = None) -> dict | None:
    """The ``entities`` entry of one create (``before`` None), update or delete (``after``
    None); None for an update that changed nothing or a row without an ``id``."""
    row = after if after is not None else before
    if row is None or not row.get("id"):
        return None
    before = before or {}
    after = after or {}
    columns = [c for c in dict.fromkeys([*before, *after]) if c not in _HIDDEN]
    if action == "update":
        columns = [c for c in columns if before.get(c) != after.get(c)]
        if not columns:
            return None
    changes = {legacy_key(c): {"old": before.get(c) if action != "add" else None,
                               "new": after.get(c) if action != "remove" else None} for c in columns}
    chain = parents(conn, table, row, cache)
    entity_type = _type_of(table, row)
    result = {
        "entityId": row["id"], "entityType": legacy_type(entity_type), "entity_type": entity_type,
        "action": action, "keys": list(changes), "changes": changes, "parents": chain,
        "parentId": chain[0]["parentId"] if chain else None,
    }
    if table == "context" and row.get("object_type_id"):
        result["objectTypeId"] = row["object_type_id"]
    return result


def update_events(entries: list[dict], user: Mapping[str, Any]) -> list[dict]:
    """The ``ftrack.update`` events announcing ``entries``, :data:`ENTRIES_PER_EVENT` a piece."""
    return [update_event(entries[i:i + ENTRIES_PER_EVENT], user) for i in range(0, len(entries), ENTRIES_PER_EVENT)]


def update_event(entries: list[dict], user: Mapping[str, Any]) -> dict:
    """The ``ftrack.update`` event announcing ``entries`` (committed by ``user``)."""
    parent_ids = list(dict.fromkeys(p["entityId"] for e in entries for p in e["parents"]))
    return {
        "id": uuid.uuid4().hex, "topic": "ftrack.update", "target": "", "in_reply_to_event": None, "sent": None,
        "data": {"entities": entries, "parents": parent_ids, "pushToken": uuid.uuid4().hex,
                 "user": {"userid": user.get("id"), "name": user.get("username")}},
        "source": {"id": SERVER_SOURCE_ID, "applicationId": "ftrack.server",
                   "user": {"id": user.get("id"), "username": user.get("username")}},
    }


def component_added_event(component_id: str, location_id: str) -> dict:
    """The ``ftrack.location.component-added`` event of a component stored in a location."""
    return {
        "id": uuid.uuid4().hex, "topic": "ftrack.location.component-added", "target": "",
        "in_reply_to_event": None, "sent": None,
        "data": {"component_id": component_id, "location_id": location_id},
        "source": {"id": SERVER_SOURCE_ID, "applicationId": "ftrack.server"},
    }
