"""A project schema's workflows, as ftrack keeps them: the statuses a task and a version may
take (``WorkflowSchema``), the task types (``TaskTypeSchema``), and per object type (Shot,
Sequence, Asset Build...) its statuses and types (``Schema`` with ``SchemaStatus`` and
``SchemaType`` rows). The stock client's ``ProjectSchema.get_statuses`` / ``get_types`` read
exactly these.

Rows are named here by status and type names and stored by id; ids are derived from the
project schema's id, so every data folder names them alike.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass, field

from publisher.server.storage import Storage

NAMESPACE = uuid.UUID("0b3c7a52-6f0e-4a53-9a0c-2f4d7e1c5b90")


@dataclass(frozen=True)
class Workflow:
    """What one project schema allows, by names of existing statuses and types."""

    task_statuses: list[str]
    version_statuses: list[str]
    task_types: list[str]
    #: object type id -> its statuses / its types
    object_statuses: dict[str, list[str]] = field(default_factory=dict)
    object_types: dict[str, list[str]] = field(default_factory=dict)


def _uid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _ids(conn: sqlite3.Connection, table: str, names: list[str]) -> list[str]:
    found = {}
    for row in conn.execute(f'SELECT "id", "name" FROM "{table}" ORDER BY rowid'):
        found.setdefault(row[1], row[0])
    missing = [n for n in names if n not in found]
    if missing:
        raise KeyError(f"{table} has no {', '.join(missing)}")
    return [found[n] for n in names]


def add_workflow(storage: Storage, conn: sqlite3.Connection, project_schema_id: str, workflow: Workflow) -> None:
    """Store ``workflow`` for the (existing) project schema and point the schema at it."""
    task_workflow = _uid(project_schema_id, "task workflow")
    version_workflow = _uid(project_schema_id, "version workflow")
    type_schema = _uid(project_schema_id, "task types")
    for workflow_id, name, statuses in ((task_workflow, "Task workflow", workflow.task_statuses),
                                        (version_workflow, "Version workflow", workflow.version_statuses)):
        storage.insert(conn, "workflow_schema", {"id": workflow_id, "name": name})
        for status_id in _ids(conn, "status", statuses):
            storage.insert(conn, "workflow_schema_status", {"workflow_schema_id": workflow_id, "status_id": status_id})
    storage.insert(conn, "task_type_schema", {"id": type_schema, "name": "Task types"})
    for type_id in _ids(conn, "type", workflow.task_types):
        storage.insert(conn, "task_type_schema_type", {"task_type_schema_id": type_schema, "type_id": type_id})
    for object_type_id in sorted(set(workflow.object_statuses) | set(workflow.object_types)):
        schema_id = _uid(project_schema_id, "object type", object_type_id)
        storage.insert(conn, "object_type_schema", {"id": schema_id, "project_schema_id": project_schema_id,
                                                    "type_id": object_type_id, "object_type_id": object_type_id})
        for sort, status_id in enumerate(_ids(conn, "status", workflow.object_statuses.get(object_type_id, []))):
            storage.insert(conn, "schema_status", {"schema_id": schema_id, "status_id": status_id, "sort": sort})
        for sort, type_id in enumerate(_ids(conn, "type", workflow.object_types.get(object_type_id, []))):
            storage.insert(conn, "schema_type", {"schema_id": schema_id, "type_id": type_id, "sort": sort})
    conn.execute(
        'UPDATE "project_schema" SET "task_workflow_schema_id" = ?, "asset_version_workflow_schema_id" = ?,'
        ' "task_type_schema_id" = ? WHERE "id" = ?',
        (task_workflow, version_workflow, type_schema, project_schema_id),
    )
