"""Benchmark: what the window waits for when a shot has 100,000 versions (publisher.publish.browse).

    python benchmarks/bench_browse.py [--versions 100000] [--runs 10] [--page 100]

A shot with ``--versions`` versions (one component each) is written straight into a fresh
embedded server's database, the real server is started on it, and the browse functions run over
loopback HTTP through ``publisher.api.Session``, as the window's workers call them:

* ``list_versions`` pages at offsets 0, the middle and the end (one request each);
* ``count_versions`` (1000 ids, then about 2*log2(n) one-row probes);
* ``version_details`` of one version.

Baseline in the same run: the same calls on a shot with 10 versions in the same database.
Printed: median wall time, requests per call, and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402
from publisher.api.session import Session  # noqa: E402
from publisher.embedded import EmbeddedServer  # noqa: E402
from publisher.publish import browse  # noqa: E402
from publisher.server import demo  # noqa: E402


def populate(data_dir: Path, counts: dict[str, int]) -> dict[str, str]:
    """Seed a data folder with the demo project plus one new shot per ``counts`` entry."""
    storage = _common.seeded_storage(data_dir)
    conn = storage.connection()
    project = conn.execute('SELECT id FROM "context" WHERE entity_type = \'Project\'').fetchone()[0]
    user = conn.execute('SELECT id FROM "users" WHERE username = ?', (demo.DEMO_USERNAME,)).fetchone()[0]
    asset_type = conn.execute('SELECT id FROM "asset_type"').fetchone()[0]
    statuses = list(demo.STATUS_IDS.values())
    start = datetime(2026, 1, 1)
    shots = {}
    for label, count in counts.items():
        shot, asset = str(uuid.uuid4()), str(uuid.uuid4())
        with storage.transaction() as tx:
            storage.insert(tx, "context", {"id": shot, "entity_type": "Shot", "name": f"bench_{label}",
                                           "parent_id": project, "project_id": project,
                                           "object_type_id": "bad911de-3bd6-47b9-8b46-3476e237cb36"})
            storage.insert(tx, "asset", {"id": asset, "name": f"{label}_renders", "context_id": shot,
                                         "project_id": project, "type_id": asset_type})
            _common.insert_versions(storage, tx, count, asset=asset, statuses=statuses, start=start,
                                    project_id=project, user_id=user)
        shots[label] = shot
    storage.close()
    return shots


def timed(session: Session, runs: int, func) -> tuple[float, int, object]:
    times, requests, result = [], 0, None
    for i in range(runs + 1):
        before = session.request_count
        start = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - start
        requests = session.request_count - before
        if i:  # the first call warms the connection and the server's page cache
            times.append(elapsed)
    return statistics.median(times), requests, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--page", type=int, default=100)
    args = parser.parse_args()
    n, page = args.versions, args.page

    with tempfile.TemporaryDirectory(prefix="bench-browse-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        shots = populate(data_dir, {"small": 10, "big": n})
        print(_common.machine_note())
        server = EmbeddedServer(data_dir)
        server.start()
        try:
            session = Session(server_url=server.url, api_user=server.api_user, api_key=server.api_key)
            cases = [
                ("list_versions first page", lambda shot, total: browse.list_versions(session, shot, offset=0, limit=page)),
                ("list_versions middle page", lambda shot, total: browse.list_versions(session, shot, offset=total // 2, limit=page)),
                ("list_versions last page", lambda shot, total: browse.list_versions(session, shot, offset=max(0, total - page), limit=page)),
                ("count_versions", lambda shot, total: browse.count_versions(session, shot)),
                ("version_details", lambda shot, total: browse.version_details(
                    session, browse.list_versions(session, shot, offset=0, limit=1)[0].id)),
            ]
            print(f"\n{'call':<28} {'10 versions ms':>15} {f'{n} versions ms':>20} {'requests':>9} {'ratio':>7}")
            for name, call in cases:
                small_t, _, _ = timed(session, args.runs, lambda: call(shots["small"], 10))
                big_t, big_requests, result = timed(session, args.runs, lambda: call(shots["big"], n))
                if name == "count_versions":
                    assert result == n, result
                print(f"{name:<28} {small_t * 1000:>15.1f} {big_t * 1000:>20.1f} {big_requests:>9} {big_t / small_t:>6.1f}x")
            session.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
