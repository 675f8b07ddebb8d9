"""Benchmark: listing the versions of one asset that has 100,000 versions, over HTTP.

    python benchmarks/bench_server_query.py [--versions 100000] [--runs 50] [--page 200]

The versions (each with one component, as a publish leaves them) are inserted straight into the
embedded server's database through its storage module, then the real server
(``python -m publisher server``) is started on that data folder and asked, over loopback HTTP,
for one page of versions the way the publisher asks for it:

* ``client page``: the query ``publisher.publish.browse.list_versions`` sends for the shot that
  holds the asset (its projection, ``(asset.context_id is S or task_id is S)``, newest first);
* ``asset page``: ``select ... from AssetVersion where asset_id is A order by version descending``.

Baseline in the same run: the same queries for an asset with 10 versions in the same database;
also the big asset asked for a page of 10 rows, which shows what the cost follows (rows sent,
not versions stored).
Printed: median and p95 wall time per request (client to server and back) and the ratio to the
baseline. Goal: median under 50 ms with 100,000 versions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402
from publisher.embedded import EmbeddedServer  # noqa: E402
from publisher.server import demo  # noqa: E402

#: The projection of publisher.publish.browse (_VERSION_PROJECTION), copied so that the figure
#: stays comparable if that module changes; the script checks they still agree when it can.
CLIENT_PROJECTION = (
    "id, version, comment, date, asset_id, asset.name, asset.type.name, asset.context_id, "
    "status.name, status.color, user.first_name, user.last_name, user.username, "
    "thumbnail_id, task_id, components.name"
)
STATUSES = list(demo.STATUS_IDS.values())


def populate(data_dir: Path, versions: int) -> dict[str, dict[str, str]]:
    """A seeded data folder plus a big and a small asset; returns their ids."""
    storage = _common.seeded_storage(data_dir)
    conn = storage.connection()
    shots = {r["name"]: r["id"] for r in conn.execute('SELECT id, name FROM "context" WHERE entity_type = \'Shot\'')}
    user = conn.execute('SELECT id FROM "users" WHERE username = ?', (demo.DEMO_USERNAME,)).fetchone()[0]
    asset_type = conn.execute('SELECT id FROM "asset_type" WHERE short = \'render\'').fetchone()[0]
    project = conn.execute('SELECT id FROM "context" WHERE entity_type = \'Project\'').fetchone()[0]
    made = {}
    start = datetime(2026, 1, 1)
    for label, shot, count in (("big", shots["sh050"], versions), ("small", shots["sh040"], 10)):
        asset = str(uuid.uuid4())
        task = conn.execute('SELECT id FROM "context" WHERE parent_id = ? AND name = \'Lighting\'', (shot,)).fetchone()[0]
        with storage.transaction() as tx:
            storage.insert(tx, "asset", {"id": asset, "name": f"{label}_renders", "context_id": shot,
                                         "project_id": project, "type_id": asset_type})
            _common.insert_versions(storage, tx, count, asset=asset, statuses=STATUSES, start=start,
                                    project_id=project, task_id=task, user_id=user, thumbnail_id=None)
        made[label] = {"asset": asset, "shot": shot}
    storage.close()
    return made


def expressions(ids: dict[str, str], page: int) -> dict[str, str]:
    shot, asset = ids["shot"], ids["asset"]
    return {
        "client page": (f"select {CLIENT_PROJECTION} from AssetVersion where "
                        f"(asset.context_id is \"{shot}\" or task_id is \"{shot}\") "
                        f"order by date descending, id descending offset 0 limit {page}"),
        "asset page": (f"select {CLIENT_PROJECTION} from AssetVersion where asset_id is \"{asset}\" "
                       f"order by version descending offset 0 limit {page}"),
    }


def check_projection() -> str:
    try:
        from publisher.publish import browse

        same = getattr(browse, "_VERSION_PROJECTION", CLIENT_PROJECTION) == CLIENT_PROJECTION
        return "same projection as publisher.publish.browse" if same else "NOTE: browse's projection has changed"
    except Exception as exc:  # the benchmark does not need the client package
        return f"publisher.publish.browse not importable ({exc})"


def measure(http: requests.Session, server: EmbeddedServer, expression: str, runs: int, page: int) -> tuple[list[float], int]:
    body = json.dumps([{"action": "query", "expression": expression}])
    headers = {"content-type": "application/json", "ftrack-user": server.api_user, "ftrack-api-key": server.api_key}
    times = []
    rows = 0
    for i in range(runs + 3):
        start = time.perf_counter()
        response = http.post(f"{server.url}/api", data=body, headers=headers, timeout=120)
        result = response.json()
        elapsed = time.perf_counter() - start
        if not isinstance(result, list):
            raise SystemExit(f"query failed: {result}")
        rows = len(result[0]["data"])
        if i >= 3:  # the first requests warm the page cache and the connection
            times.append(elapsed)
    if rows == 0:
        raise SystemExit(f"the query found no versions: {expression}")
    return times, rows


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--page", type=int, default=200, help="rows per page (the window asks for 200)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-server-query-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        start = time.perf_counter()
        ids = populate(data_dir, args.versions)
        load = time.perf_counter() - start
        size_mb = (data_dir / "ftrack.sqlite").stat().st_size / 1e6
        print(f"inserted {args.versions} versions (+1 component each) of one asset in {load:.1f} s; "
              f"database {size_mb:.0f} MB")
        print(_common.machine_note())
        print(check_projection())
        server = EmbeddedServer(data_dir)
        server.start()
        try:
            with requests.Session() as http:
                print(f"\n{'query':<12} {'asset':<22} {'rows':>5} {'median ms':>10} {'p95 ms':>8} {'ratio':>7}")
                for name in ("client page", "asset page"):
                    results = {}
                    for label, key, page in (("small", "small", args.page), ("big", "big", args.page),
                                             ("big, page of 10", "big", 10)):
                        times, rows = measure(http, server, expressions(ids[key], page)[name], args.runs, page)
                        results[label] = (statistics.median(times), p95(times), rows)
                    base = results["small"][0]
                    for label, shown in (("small", "10 versions"), ("big", f"{args.versions} versions"),
                                         ("big, page of 10", f"{args.versions}, 10 rows")):
                        med, p, rows = results[label]
                        print(f"{name:<12} {shown:<22} {rows:>5} {med * 1000:>10.1f} {p * 1000:>8.1f} "
                              f"{med / base:>6.2f}x")
                    verdict = "meets" if results["big"][0] < 0.050 else "MISSES"
                    print(f"{'':<12} goal: median under 50 ms with {args.versions} versions: {verdict}")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
