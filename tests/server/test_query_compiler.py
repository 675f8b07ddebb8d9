"""Query compilation against a real SQLite database: both query plans give the same pages."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from publisher.server.actions import MANY_MATCHES, Api, Batch
from publisher.server.files import ContentStore
from publisher.server.payloads import RequestContext
from publisher.server.query_compiler import compile_expression
from publisher.server.storage import Storage


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory):
    """A database with one asset holding more versions than MANY_MATCHES, and a small one."""
    root: Path = tmp_path_factory.mktemp("compiler")
    storage = Storage(root / "db.sqlite")
    api = Api(storage, ContentStore(root / "files"))
    big, small, shot, other = (str(uuid.uuid4()) for _ in range(4))
    count = MANY_MATCHES + 500
    with storage.transaction() as conn:
        storage.insert(conn, "context", {"id": shot, "entity_type": "Shot", "name": "sh"})
        storage.insert(conn, "context", {"id": other, "entity_type": "Shot", "name": "other"})
        storage.insert(conn, "asset", {"id": big, "name": "big", "context_id": shot})
        storage.insert(conn, "asset", {"id": small, "name": "small", "context_id": other})
        rows = []
        for n in range(1, count + 1):
            # Dates repeat so that the id decides between equal dates.
            rows.append({"id": str(uuid.uuid4()), "asset_id": big, "version": n, "comment": f"c{n % 7}",
                         "date": f"2026-01-{1 + n % 28:02d}T00:00:00", "task_id": None})
        rows += [{"id": str(uuid.uuid4()), "asset_id": small, "version": n, "comment": "s",
                  "date": "2026-02-01T00:00:00", "task_id": shot} for n in range(1, 4)]
        storage.insert_many(conn, "asset_version", rows)
    yield api, storage, rows, {"big": big, "small": small, "shot": shot}
    storage.close()


def _page(api: Api, storage: Storage, expression: str) -> dict:
    ctx = RequestContext(storage.connection(), storage.model, "http://x", "demo", "k")
    return api.do_query(Batch(ctx, {"id": "u"}), {"expression": expression})


def _ids(storage: Storage, expression: str, ordered_scan: bool) -> list[str]:
    compiled, _ = compile_expression(storage.model, expression, ordered_scan=ordered_scan)
    sql, params = compiled.sql()
    return [r["id"] for r in storage.connection().execute(sql, params)]


@pytest.mark.parametrize("tail", [
    "order by date descending, id descending offset 0 limit 50",
    "order by date descending, id descending offset 1200 limit 50",
    "order by version descending offset 10 limit 20",
    "offset 0 limit 100",
    "offset 2400 limit 1000",
])
def test_both_plans_give_the_same_rows(loaded, tail: str) -> None:
    api, storage, rows, ids = loaded
    expression = (f'select id from AssetVersion where (asset.context_id is "{ids["shot"]}" '
                  f'or task_id is "{ids["shot"]}") {tail}')
    assert _ids(storage, expression, False) == _ids(storage, expression, True)


def test_pages_follow_the_requested_order(loaded) -> None:
    api, storage, rows, ids = loaded
    matching = [r for r in rows]  # every version is under the shot: by asset or by task
    expected = [r["id"] for r in sorted(matching, key=lambda r: (r["date"], r["id"]), reverse=True)]
    got: list[str] = []
    offset = 0
    while offset is not None:
        page = _page(api, storage, f'select id from AssetVersion where (asset.context_id is "{ids["shot"]}" or '
                                   f'task_id is "{ids["shot"]}") order by date descending, id descending '
                                   f'offset {offset} limit 700')
        got += [r["id"] for r in page["data"]]
        offset = page["metadata"]["next"]["offset"]
    assert got == expected
    # The default order is the order rows were stored in, page after page.
    got = []
    offset = 0
    while offset is not None:
        page = _page(api, storage, f'select id from AssetVersion where asset_id is "{ids["big"]}" offset {offset} limit 999')
        got += [r["id"] for r in page["data"]]
        offset = page["metadata"]["next"]["offset"]
    assert got == [r["id"] for r in rows if r["asset_id"] == ids["big"]]


def test_negative_conditions_through_references_keep_rows_without_them(loaded) -> None:
    api, storage, rows, ids = loaded
    with storage.transaction() as conn:
        storage.insert(conn, "asset_version", {"id": "orphan", "asset_id": None, "version": 1})
    found = [r["id"] for r in _page(api, storage, 'select id from AssetVersion where asset.name is_not "big"')["data"]]
    assert "orphan" in found and len(found) == 4
    found = [r["id"] for r in _page(api, storage, 'select id from AssetVersion where asset.name is "small"')["data"]]
    assert len(found) == 3 and "orphan" not in found
    with storage.transaction() as conn:
        conn.execute('DELETE FROM "asset_version" WHERE id = ?', ("orphan",))
