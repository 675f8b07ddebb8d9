"""SQLite storage of the embedded server: one database file in WAL mode, one connection per
thread, DDL made from the type model, and the transaction every ``POST /api`` batch runs in.

Every statement here is parameterised; table and column names come only from the type model,
never from client text.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator

from publisher.server.entities import Model, model

SCHEMA_VERSION = "1"

_SQL_TYPES = {"string": "TEXT", "datetime": "TEXT", "integer": "INTEGER", "number": "REAL", "boolean": "INTEGER",
              # No declared type: SQLite keeps each value as it was given (1001, 24.0, 'text').
              "variable": ""}

_PRIMARY_KEYS = {"metadata": ("parent_id", "key"), "job_component": ("component_id", "job_id"),
                 "custom_attribute_value": ("configuration_id", "entity_id"),
                 "schema_status": ("schema_id", "status_id"), "schema_type": ("schema_id", "type_id"),
                 "workflow_schema_status": ("workflow_schema_id", "status_id"),
                 "task_type_schema_type": ("task_type_schema_id", "type_id"),
                 "recipient": ("note_id", "resource_id")}

INDEXES = [
    'CREATE UNIQUE INDEX IF NOT EXISTS "ix_version_asset" ON "asset_version" ("asset_id", "version")',
    'CREATE INDEX IF NOT EXISTS "ix_version_task" ON "asset_version" ("task_id")',
    # Newest-first version lists walk this index and stop at the end of the page.
    'CREATE INDEX IF NOT EXISTS "ix_version_date" ON "asset_version" ("date", "id")',
    'CREATE INDEX IF NOT EXISTS "ix_version_number" ON "asset_version" ("version", "id")',
    'CREATE INDEX IF NOT EXISTS "ix_asset_context" ON "asset" ("context_id")',
    'CREATE INDEX IF NOT EXISTS "ix_context_parent" ON "context" ("parent_id")',
    'CREATE INDEX IF NOT EXISTS "ix_context_project" ON "context" ("project_id")',
    'CREATE INDEX IF NOT EXISTS "ix_component_version" ON "component" ("version_id")',
    'CREATE INDEX IF NOT EXISTS "ix_component_container" ON "component" ("container_id")',
    'CREATE INDEX IF NOT EXISTS "ix_cl_component" ON "component_location" ("component_id", "location_id")',
    'CREATE INDEX IF NOT EXISTS "ix_cl_location" ON "component_location" ("location_id")',
    'CREATE INDEX IF NOT EXISTS "ix_job_component_job" ON "job_component" ("job_id")',
    'CREATE INDEX IF NOT EXISTS "ix_note_parent" ON "note" ("parent_id")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "ix_user_name" ON "users" ("username")',
    'CREATE INDEX IF NOT EXISTS "ix_ca_value_entity" ON "custom_attribute_value" ("entity_id")',
    'CREATE INDEX IF NOT EXISTS "ix_ca_value_key" ON "custom_attribute_value" ("key", "value")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "ix_timer_user" ON "timer" ("user_id")',
    'CREATE INDEX IF NOT EXISTS "ix_timelog_user" ON "timelog" ("user_id")',
]

INTERNAL_DDL = [
    # Context.scopes (many-to-many; ftrack has no entity type for the link).
    'CREATE TABLE IF NOT EXISTS "context_scope" ("context_id" TEXT NOT NULL, "scope_id" TEXT NOT NULL,'
    ' PRIMARY KEY ("context_id", "scope_id"))',
    'CREATE TABLE IF NOT EXISTS "server_meta" ("key" TEXT PRIMARY KEY, "value" TEXT)',
    'CREATE TABLE IF NOT EXISTS "api_key" ("key" TEXT PRIMARY KEY, "user_id" TEXT NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "ix_api_key_user" ON "api_key" ("user_id")',
    'CREATE TABLE IF NOT EXISTS "upload" ("component_id" TEXT PRIMARY KEY, "size" INTEGER NOT NULL,'
    ' "checksum" TEXT NOT NULL, "token" TEXT NOT NULL, "created_at" TEXT NOT NULL)',
]


def q(name: str) -> str:
    """Quote an identifier that comes from the type model."""
    if '"' in name:
        raise ValueError(f"bad identifier {name!r}")
    return f'"{name}"'


def utcnow() -> str:
    """Now as the naive UTC text stored for datetimes."""
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")


def ddl(m: Model) -> list[str]:
    """CREATE statements for every table of the model plus the server's own tables."""
    out = []
    for table, cols in m.table_columns.items():
        pk = _PRIMARY_KEYS.get(table, ("id",))
        parts = []
        for col, kind in cols.items():
            part = f"{q(col)} {_SQL_TYPES[kind]}"
            if pk == ("id",) and col == "id":
                part += " PRIMARY KEY NOT NULL"
            parts.append(part)
        if pk != ("id",):
            parts.append(f"PRIMARY KEY ({', '.join(q(c) for c in pk)})")
        out.append(f"CREATE TABLE IF NOT EXISTS {q(table)} ({', '.join(parts)})")
    return out + INDEXES + INTERNAL_DDL


class Storage:
    """The database of one data folder. Thread-safe: each thread gets its own connection."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.model = model()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        conn = self.connection()
        conn.execute("PRAGMA journal_mode=WAL")
        with self.transaction():
            for stmt in ddl(self.model):
                conn.execute(stmt)
            self._add_missing_columns(conn)
            conn.execute(
                'INSERT OR IGNORE INTO "server_meta" ("key", "value") VALUES (?, ?)', ("schema_version", SCHEMA_VERSION)
            )

    def _add_missing_columns(self, conn: sqlite3.Connection) -> None:
        """A database made by an older server gains the columns the model has since added."""
        for table, cols in self.model.table_columns.items():
            present = {r[1] for r in conn.execute(f"PRAGMA table_info({q(table)})")}
            for col, kind in cols.items():
                if col not in present:
                    conn.execute(f"ALTER TABLE {q(table)} ADD COLUMN {q(col)} {_SQL_TYPES[kind]}")

    def leading_index_columns(self) -> set[tuple[str, str]]:
        """(table, column) pairs that some index starts with: orders SQLite can read pre-sorted."""
        conn = self.connection()
        out = set()
        for table in self.model.table_columns:
            for index in conn.execute(f"PRAGMA index_list({q(table)})").fetchall():
                info = conn.execute(f"PRAGMA index_info({q(index[1])})").fetchall()
                if info:
                    out.add((table, min(info, key=lambda r: r[0])[2]))
        return out

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (autocommit; transactions are explicit)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=OFF")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextlib.contextmanager
    def transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """Run the block as one transaction: committed when it ends, rolled back on any error.

        ``write`` takes the write lock at once (``BEGIN IMMEDIATE``) so that values computed
        inside (version numbers) cannot race with another writer.
        """
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    # Small helpers used by actions, demo seeding and benchmarks ------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.connection().execute('SELECT "value" FROM "server_meta" WHERE "key" = ?', (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute('INSERT OR REPLACE INTO "server_meta" ("key", "value") VALUES (?, ?)', (key, value))

    def insert(self, conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
        """Insert one row; keys must be columns of ``table``."""
        cols = self.model.table_columns.get(table)
        if cols is not None:
            unknown = set(row) - set(cols)
            if unknown:
                raise KeyError(f"{table} has no column {sorted(unknown)}")
        names = list(row)
        conn.execute(
            f"INSERT INTO {q(table)} ({', '.join(q(n) for n in names)}) VALUES ({', '.join('?' * len(names))})",
            [row[n] for n in names],
        )

    def insert_many(self, conn: sqlite3.Connection, table: str, rows: Iterable[dict[str, Any]]) -> int:
        """Insert rows that all have the same keys (bulk loads: demo data, benchmarks)."""
        rows = list(rows)
        if not rows:
            return 0
        names = list(rows[0])
        conn.executemany(
            f"INSERT INTO {q(table)} ({', '.join(q(n) for n in names)}) VALUES ({', '.join('?' * len(names))})",
            [[r[n] for n in names] for r in rows],
        )
        return len(rows)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                with contextlib.suppress(Exception):
                    conn.close()
            self._all.clear()
