"""Custom attributes as ftrack serves them: every entity carries a value for each configuration
that applies to it (its own value, or the configuration's default), so that
``select custom_attributes from Shot`` lists all of them and ``custom_attributes any (key is
fstart and value is 1001)`` finds entities still at the default.

(Hierarchical configurations apply to every context, version and asset, as the stock client's
factory has it.) The server keeps that "dense" view by writing a value row for each applying configuration when
an entity or a configuration is created; an update of a value then always finds its row. Which
configuration applies to which entity follows the stock client's own rule
(``ftrack_api.collection.CustomAttributeCollectionProxy``): the configuration's ``entity_type``
(``task`` with the context's object type, ``show`` for projects, ``assetversion``, ``asset``,
``user``), its project (or none, for all projects); a hierarchical one applies to every context.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from publisher.server.entities import VARIABLE_JSON_SUFFIX
from publisher.server.storage import q

#: Entity table -> the configuration ``entity_type`` that names it (contexts: see ``_applies``).
ENTITY_KINDS = {"asset_version": "assetversion", "asset": "asset", "users": "user", "list": "list"}
#: Tables whose entities also take hierarchical configurations (besides contexts).
HIERARCHICAL_TABLES = {"asset_version", "asset"}
ENTITY_TABLES = ("context", *ENTITY_KINDS)


def _applies(config: dict, table: str, row: dict) -> bool:
    project = config.get("project_id")
    if table == "context":
        if project is not None and project != row.get("project_id"):
            return False
        if config.get("is_hierarchical"):
            return True
        if row.get("entity_type") == "Project":
            return config.get("entity_type") == "show"
        return config.get("entity_type") == "task" and config.get("object_type_id") == row.get("object_type_id")
    if config.get("is_hierarchical") and table in HIERARCHICAL_TABLES:
        return project is None or project == row.get("project_id")
    if config.get("entity_type") != ENTITY_KINDS.get(table):
        return False
    return project is None or table == "users" or project == row.get("project_id")


def _value_row(config: dict, entity_id: str) -> dict[str, Any]:
    return {
        "configuration_id": config["id"], "entity_id": entity_id, "key": config["key"],
        "value": config.get("default"),
        "value" + VARIABLE_JSON_SUFFIX: config.get("default" + VARIABLE_JSON_SUFFIX),
    }


def _insert(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    names = list(rows[0])
    conn.executemany(
        f'INSERT OR IGNORE INTO "custom_attribute_value" ({", ".join(q(n) for n in names)}) '
        f'VALUES ({", ".join("?" * len(names))})',
        [[r[n] for n in names] for r in rows],
    )


def on_entity_created(conn: sqlite3.Connection, table: str, row: dict) -> None:
    """Give a new context, version, asset or user a value row for each applying configuration."""
    if table not in ENTITY_TABLES:
        return
    configs = [dict(r) for r in conn.execute('SELECT * FROM "custom_attribute_configuration"')]
    _insert(conn, [_value_row(c, row["id"]) for c in configs if _applies(c, table, row)])


def on_configuration_created(conn: sqlite3.Connection, config: dict) -> None:
    """Give every existing entity the new configuration applies to its default value."""
    for table in ENTITY_TABLES:
        hierarchical = config.get("is_hierarchical") and table in HIERARCHICAL_TABLES
        if table != "context" and not hierarchical and config.get("entity_type") != ENTITY_KINDS[table]:
            continue
        columns = '"id", "project_id", "entity_type", "object_type_id"' if table == "context" else (
            '"id"' if table == "users" else '"id", "project_id"')
        rows = (dict(r) for r in conn.execute(f'SELECT {columns} FROM "{table}"'))
        _insert(conn, [_value_row(config, r["id"]) for r in rows if _applies(config, table, r)])


def on_value_written(conn: sqlite3.Connection, row: dict) -> None:
    """A value written directly (create) takes its ``key`` from its configuration."""
    found = conn.execute('SELECT "key" FROM "custom_attribute_configuration" WHERE "id" = ?',
                         (row.get("configuration_id"),)).fetchone()
    if found is not None:
        row["key"] = found[0]
