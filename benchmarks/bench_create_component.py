"""Benchmark: ``create_component`` of an image sequence, this client against the stock client.

    python benchmarks/bench_create_component.py [--frames 2000] [--frame-size 65536]
                                                [--repeat 1] [--stock-python PATH]

One embedded server (started with ``--record``) and one sequence of ``--frames`` files of
``--frame-size`` random bytes in a temporary folder. Four runs, each on a fresh AssetVersion:
the stock ``ftrack-python-api`` 3.1.0 client into ``ftrack.unmanaged`` and into
``ftrack.server``, then this client (``publisher.api``) into the same two locations.

Fairness: both clients run the same worker script in a fresh subprocess of their own Python
(the stock one in its own virtual environment), which builds its Session, fetches the version
and the location first, and times only ``version.create_component(sequence, location=...)``
followed by ``session.commit()``. Interpreter start-up, imports and the schema download are
outside the timing for both. Requests are counted from the server's record file between two
marks the worker takes around the timed part. With ``--repeat`` > 1 the runs are interleaved
(stock, ours, stock, ours ...) and the median time is reported.

Goals (issue 3): ours takes at most half the stock client's time in each location; into
``ftrack.unmanaged`` in at most 3 requests; into ``ftrack.server`` in at most one PUT per file
plus 5 other requests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402

# Runs in the stock client's venv and in ours, so only the standard library and the client.
WORKER = r'''
import json, sys, time
cfg = json.loads(sys.argv[1])

def marks():
    with open(cfg["record"], "rb") as fh:
        return sum(1 for _ in fh)

if cfg["client"] == "stock":
    import ftrack_api
    session = ftrack_api.Session(auto_connect_event_hub=False, schema_cache_path=False)
    # Built-in locations are configured at construction; get() answers from the identity map.
    location = session.get("Location", cfg["location_id"])
else:
    from publisher.api import Session
    session = Session(schema_cache_path=False)
    location = session.get_location(cfg["location"])
version = session.get("AssetVersion", cfg["version_id"])
assert location is not None and version is not None

start = marks()
t0 = time.perf_counter()
component = version.create_component(cfg["path"], data={"name": "plate"}, location=location)
session.commit()
elapsed = time.perf_counter() - t0
stop = marks()
print(json.dumps({"seconds": elapsed, "start": start, "stop": stop, "component_id": component["id"]}))
'''


def make_sequence(folder: Path, frames: int, frame_size: int) -> str:
    """Write ``frames`` files of random bytes; return the clique sequence string."""
    folder.mkdir(parents=True, exist_ok=True)
    block = os.urandom(frame_size + frames)
    for index in range(frames):
        # A different slice per frame, so no two files (and no two checksums) are alike.
        (folder / f"plate.{1001 + index:04d}.exr").write_bytes(block[index:index + frame_size])
    return f"{folder}/plate.%04d.exr [1001-{1000 + frames}]"


def check_published(server, location: str, component_id: str, frames: int) -> None:
    """Fail loudly unless the run left a SequenceComponent of ``frames`` members in ``location``."""
    from publisher.api import Session

    location_id = _common.LOCATION_IDS[location]
    with Session(server.url, server.api_user, server.api_key, schema_cache_path=False) as session:
        members = session.query(f'select id from FileComponent where container_id is "{component_id}"').all()
        registered = session.query(
            f'select id from ComponentLocation where location_id is "{location_id}" '
            f'and component.container_id is "{component_id}"').all()
        if len(members) != frames or len(registered) != frames:
            raise SystemExit(f"run into {location} left {len(members)} members, {len(registered)} "
                             f"registered in the location; expected {frames} of each")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--frame-size", type=int, default=64 * 1024, help="bytes per frame (default 64 KiB)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per client and location (median reported)")
    parser.add_argument("--stock-python", default=None, help="Python of a venv with ftrack-python-api==3.1.0")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    stock_python = _common.find_stock_python(args.stock_python)
    if stock_python is None:
        print("No Python with ftrack-python-api 3.1.0 found; pass --stock-python "
              "(e.g. /opt/stock-ftrack/bin/python).", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="bench-create-component-"))
    record = _common.RecordFile(workdir / "requests.jsonl")
    print(_common.machine_note())
    print(f"stock client: {stock_python}; ours: {sys.executable} (both in a subprocess, timing create_component + commit)")
    print(f"writing {args.frames} frames of {args.frame_size} bytes into {workdir} ...", flush=True)
    sequence = make_sequence(workdir / "frames", args.frames, args.frame_size)
    server = _common.start_server(workdir / "server", record.path)
    try:
        env = _common.server_env(server)
        stock_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
        locations = ["ftrack.unmanaged", "ftrack.server"]
        clients = [("stock", stock_python, stock_env), ("ours", sys.executable, env)]
        runs = len(locations) * len(clients) * args.repeat
        version_ids = iter(_common.make_versions(server, runs, "bench_cc"))
        results: dict[tuple[str, str], list[dict]] = {}
        for location in locations:
            for _ in range(args.repeat):
                for client, python, client_env in clients:
                    config = {"client": client, "location": location, "location_id": _common.LOCATION_IDS[location],
                              "version_id": next(version_ids), "path": sequence, "record": str(record.path)}
                    print(f"  {client:5s} -> {location} ...", end="", flush=True)
                    result = _common.run_worker(python, WORKER, config, client_env)
                    result["counts"] = _common.RequestCounts.of(record.entries(result["start"], result["stop"]))
                    check_published(server, location, result["component_id"], args.frames)
                    print(f" {result['seconds']:.2f} s, {result['counts'].total} requests", flush=True)
                    results.setdefault((client, location), []).append(result)
    finally:
        server.stop()

    print()
    print(f"create_component of a {args.frames}-frame sequence of {args.frame_size // 1024} KiB files "
          f"({args.frames * args.frame_size / 2**20:.0f} MiB), median of {args.repeat} run(s)")
    rows = []
    verdicts = []
    for location in locations:
        stock_time = statistics.median(r["seconds"] for r in results[("stock", location)])
        for client in ("stock", "ours"):
            runs_ = results[(client, location)]
            seconds = statistics.median(r["seconds"] for r in runs_)
            counts = runs_[len(runs_) // 2]["counts"]
            ratio = seconds / stock_time
            rows.append([f"{client} -> {location}", seconds, counts.total, counts.puts, counts.non_put,
                         f"{ratio:.2f}x", " ".join(f"{k}:{v}" for k, v in sorted(counts.actions.items()))])
        ours = results[("ours", location)]
        ours_time = statistics.median(r["seconds"] for r in ours)
        counts = ours[len(ours) // 2]["counts"]
        verdicts.append((f"{location}: ours <= 0.5x stock time", f"{ours_time / stock_time:.2f}x",
                         ours_time <= 0.5 * stock_time))
        if location == "ftrack.unmanaged":
            verdicts.append((f"{location}: ours in <= 3 requests", str(counts.total), counts.total <= 3))
        else:
            verdicts.append((f"{location}: ours <= {args.frames} PUTs + 5 other requests",
                             f"{counts.puts} PUTs + {counts.non_put}",
                             counts.puts <= args.frames and counts.non_put <= 5))
    print(_common.table(["run", "wall s", "requests", "PUTs", "non-PUT", "vs stock", "operations sent"], rows))
    print()
    print(_common.table(["goal", "measured", "verdict"], [[g, m, _common.verdict(ok)] for g, m, ok in verdicts]))
    if args.keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(ok for _, _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
