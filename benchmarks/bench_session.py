"""Benchmark: the client core (``publisher.api.Session``) on an embedded server over loopback.

    python benchmarks/bench_session.py [--versions 200] [--repeat 3]

Each figure has a baseline measured in the same run, and the ratio is printed:

* start-up: a Session with a warm schema cache (one request) against a cold cache (two
  requests: server information and schemas, plus writing the cache);
* reading one attribute of N AssetVersions: ``session.populate(versions, 'comment')`` (one
  request) against touching ``version['comment']`` one by one (N requests, the N+1 pattern);
* listing N AssetVersions with ``session.query``: page size 500 against page size 50;
* building a sequence of ``--members`` FileComponents in memory, each appended to the
  container's ``members``, against creating the same components without the appends (the
  collection bookkeeping should stay a small fraction: no per-append copy of pending edits).

Times are medians of ``--repeat`` runs, wall-clock, on this machine; the server shares the cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from publisher.api import Session  # noqa: E402
from publisher.embedded import EmbeddedServer  # noqa: E402


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def row(name: str, ours: float, base: float, req_ours: int, req_base: int) -> str:
    return (f"{name:<44} {ours * 1000:9.1f} ms {base * 1000:9.1f} ms {ours / base:7.2f}x"
            f"   requests {req_ours} vs {req_base}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--members", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedServer(Path(tmp) / "server") as server:
        creds = (server.url, server.api_user, server.api_key)
        setup = Session(*creds, schema_cache_path=False)
        name = "bench" + uuid.uuid4().hex[:6]
        project = setup.create("Project", {"name": name, "full_name": name, "status": "active",
                                           "project_schema": setup.query("ProjectSchema").first()})
        asset_type = setup.create("AssetType", {"name": "Bench", "short": name})
        asset = setup.create("Asset", {"name": "bench", "parent": project, "type": asset_type})
        ids = [setup.create("AssetVersion", {"asset": asset, "comment": f"v{i}"})["id"]
               for i in range(args.versions)]
        setup.commit()
        expression = f'select id from AssetVersion where asset_id is "{asset["id"]}"'

        cold, warm, lazy, populate, page50, page500, appended, plain = [], [], [], [], [], [], [], []
        version = setup.get("AssetVersion", ids[0])

        def build(session: Session, append: bool) -> None:
            sequence = session.create("SequenceComponent", {"name": "plate", "version": version, "padding": 4})
            for i in range(args.members):
                member = session.create("FileComponent", {"name": str(1001 + i), "container": sequence,
                                                          "size": 1, "file_type": ".exr"})
                if append:
                    sequence["members"].append(member)
            session.rollback()

        req = {}
        for n in range(args.repeat):
            cache = Path(tmp) / f"cache{n}"
            t, s = timed(lambda: Session(*creds, schema_cache_path=cache))
            cold.append(t); req["cold"] = s.request_count; s.close()
            t, s = timed(lambda: Session(*creds, schema_cache_path=cache))
            warm.append(t); req["warm"] = s.request_count

            def one_by_one(session=s):
                versions = [session.get("AssetVersion", i) for i in ids]  # from the query below
                before = session.request_count
                [v["comment"] for v in versions]
                return session.request_count - before

            def together(session):
                versions = [session.get("AssetVersion", i) for i in ids]
                before = session.request_count
                session.populate(versions, "comment")
                [v["comment"] for v in versions]
                return session.request_count - before

            other = s.clone()
            other.query(expression).all()  # identities only (default projection: id)
            t, r = timed(lambda: one_by_one(other)); lazy.append(t); req["lazy"] = r
            other.close()
            other = s.clone()
            other.query(expression).all()
            t, r = timed(lambda: together(other)); populate.append(t); req["populate"] = r
            other.close()
            for size, store in ((50, page50), (500, page500)):
                other = s.clone()
                t, r = timed(lambda: len(other.query(expression, page_size=size).all()))
                assert r == args.versions
                store.append(t); req[f"page{size}"] = other.request_count
                other.close()
            for append, store in ((True, appended), (False, plain)):
                other = s.clone()
                other.get("AssetVersion", ids[0])
                t, _ = timed(lambda: build(other, append))
                store.append(t)
                other.close()
            s.close()
        med = statistics.median
        print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; "
              f"{args.versions} versions, median of {args.repeat}")
        print(f"{'':<44} {'ours':>12} {'baseline':>12} {'ratio':>8}")
        print(row("start, warm schema cache vs cold", med(warm), med(cold), req["warm"], req["cold"]))
        print(row(f"read comment of {args.versions}: populate vs one by one", med(populate), med(lazy),
                  req["populate"], req["lazy"]))
        print(row(f"list {args.versions}: page size 500 vs 50", med(page500), med(page50),
                  req["page500"], req["page50"]))
        print(row(f"build {args.members} members: append vs create only", med(appended), med(plain), 0, 0))
        setup.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
