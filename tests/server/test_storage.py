"""The SQLite storage: WAL, all-or-nothing transactions, indexes, older databases upgraded."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from publisher.server.storage import Storage


def test_wal_mode_and_indexes(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite")
    conn = storage.connection()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexed = storage.leading_index_columns()
    for pair in [("asset_version", "asset_id"), ("asset", "context_id"), ("context", "parent_id"),
                 ("component", "version_id"), ("component", "container_id"), ("component_location", "component_id")]:
        assert pair in indexed, pair
    plan = conn.execute('EXPLAIN QUERY PLAN SELECT * FROM "asset_version" WHERE "asset_id" = ? ORDER BY "version" DESC',
                        ("x",)).fetchall()
    assert any("USING INDEX" in row[3] for row in plan) and not any("TEMP B-TREE" in row[3] for row in plan)
    storage.close()


def test_transaction_is_all_or_nothing(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "db.sqlite")
    with pytest.raises(RuntimeError):
        with storage.transaction() as conn:
            storage.insert(conn, "location", {"id": "l1", "name": "first"})
            raise RuntimeError("the third operation failed")
    assert storage.connection().execute('SELECT COUNT(*) FROM "location"').fetchone()[0] == 0
    with storage.transaction() as conn:
        storage.insert(conn, "location", {"id": "l1", "name": "first"})
    assert storage.connection().execute('SELECT name FROM "location"').fetchone()[0] == "first"
    with pytest.raises(KeyError):
        with storage.transaction() as conn:
            storage.insert(conn, "location", {"id": "l2", "colour": "red"})
    storage.close()


def test_unique_version_per_asset(tmp_path: Path) -> None:
    import sqlite3

    storage = Storage(tmp_path / "db.sqlite")
    with storage.transaction() as conn:
        storage.insert(conn, "asset_version", {"id": str(uuid.uuid4()), "asset_id": "a", "version": 1})
    with pytest.raises(sqlite3.IntegrityError):
        with storage.transaction() as conn:
            storage.insert(conn, "asset_version", {"id": str(uuid.uuid4()), "asset_id": "a", "version": 1})
    storage.close()


def test_older_database_gains_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    storage = Storage(path)
    storage.connection().execute('ALTER TABLE "asset_version" DROP COLUMN "comment"')
    storage.close()
    upgraded = Storage(path)
    columns = {r[1] for r in upgraded.connection().execute('PRAGMA table_info("asset_version")')}
    assert "comment" in columns
    upgraded.close()
