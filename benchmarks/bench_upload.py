"""Benchmark: upload of one big file into ``ftrack.server`` against ``cp`` of it on the same disk.

    python benchmarks/bench_upload.py [--size 2048] [--repeat 3] [--dir DIR]

Writes one file of ``--size`` MiB (default 2048 = 2 GiB) of random bytes (a 16 MiB random
block repeated, each copy stamped with its own counter) into a temporary folder under ``--dir``
(default: the system's temporary folder), next to the embedded server's data folder, so that
``cp`` and the upload read and write the same disk. Then, ``--repeat`` times, interleaved:

  (a) baseline: ``cp SOURCE COPY`` in a subprocess, timed; the copy is deleted afterwards.
      One untimed ``cp`` runs first so both sides start from a warm page cache.
  (b) ``version.create_component(SOURCE, location=session.get_location('ftrack.server'))``
      with this client, in a fresh subprocess that times only that call and samples its own
      resident memory (``VmRSS`` from ``/proc/self/status``, every 5 ms) to get the peak growth
      over the resident size just before the call. The stored file is removed from the server
      afterwards (``/component/remove``) to keep the disk free.

Neither side syncs to disk inside the timing (``cp`` does not, the server does not); a
``sync`` runs between runs, outside the timing. The server runs on the same machine and shares
its cores with the client: an upload costs a client-side MD5 pass, the HTTP transfer over
loopback and the server's own MD5 check and write, all on those cores.

Goals (issue 3): upload rate at least 70% of ``cp``'s rate; peak memory growth of the uploading
process under 100 MiB.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402

MIB = 1024 * 1024
BLOCK = 16 * MIB

WORKER = r'''
import json, sys, threading, time
from publisher.api import Session

cfg = json.loads(sys.argv[1])

def rss_kib():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

session = Session(schema_cache_path=False)
location = session.get_location("ftrack.server")
version = session.get("AssetVersion", cfg["version_id"])
version["id"]

first_byte, last_byte = [], [None]
def progress(done, total):
    now = time.perf_counter()
    if not first_byte:
        first_byte.append(now)
    if done >= total:
        last_byte[0] = now

def marks():
    with open(cfg["record"], "rb") as fh:
        return sum(1 for _ in fh)

peak = [0]
stop = threading.Event()
def sample():
    while not stop.is_set():
        peak[0] = max(peak[0], rss_kib())
        stop.wait(0.005)

start = marks()
baseline = rss_kib()
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
t0 = time.perf_counter()
component = version.create_component(cfg["path"], {"name": "big"}, location=location, progress=progress)
session.commit()
elapsed = time.perf_counter() - t0
stop.set()
sampler.join()
peak[0] = max(peak[0], rss_kib())
stop_mark = marks()
print(json.dumps({"seconds": elapsed, "baseline_kib": baseline, "peak_kib": peak[0],
                  "start": start, "stop": stop_mark,
                  "to_first_byte": (first_byte[0] - t0) if first_byte else None,
                  "to_last_byte": (last_byte[0] - t0) if last_byte[0] else None,
                  "component_id": component["id"]}))
'''


def write_source(path: Path, size: int) -> None:
    """``size`` bytes: a random block repeated, each copy stamped with its index."""
    block = bytearray(os.urandom(BLOCK))
    written = 0
    with open(path, "wb") as fh:
        index = 0
        while written < size:
            block[:8] = index.to_bytes(8, "little")
            chunk = memoryview(block)[: min(BLOCK, size - written)]
            fh.write(chunk)
            written += len(chunk)
            index += 1


def timed_cp(source: Path, target: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)
    elapsed = time.perf_counter() - started
    target.unlink()
    os.sync()
    return elapsed


def timed_md5(source: Path) -> float:
    """One plain hashlib MD5 pass over the file: the checksum the protocol asks for up front."""
    digest = hashlib.md5()
    buffer = bytearray(MIB)
    view = memoryview(buffer)
    started = time.perf_counter()
    with open(source, "rb", buffering=0) as fh:
        while count := fh.readinto(buffer):
            digest.update(view[:count])
    return time.perf_counter() - started


def vm_hwm_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=2048, help="file size in MiB (default 2048 = 2 GiB)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side (median reported)")
    parser.add_argument("--dir", default=None, help="where to put the file and the server data (same disk)")
    args = parser.parse_args()

    size = args.size * MIB
    workdir = Path(tempfile.mkdtemp(prefix="bench-upload-", dir=args.dir))
    print(_common.machine_note())
    source = workdir / "big.bin"
    record = _common.RecordFile(workdir / "requests.jsonl")
    server = None
    try:
        print(f"writing {args.size} MiB into {source} ...", flush=True)
        write_source(source, size)
        os.sync()
        server = _common.start_server(workdir / "server", record.path)
        env = _common.server_env(server)
        version_ids = iter(_common.make_versions(server, args.repeat, "bench_upload"))
        timed_cp(source, workdir / "warm.bin")  # warms the page cache for both sides; not counted

        cp_times: list[float] = []
        md5_times: list[float] = []
        uploads: list[dict] = []
        for run in range(args.repeat):
            cp_times.append(timed_cp(source, workdir / "copy.bin"))
            print(f"  cp      {cp_times[-1]:6.2f} s  {size / MIB / cp_times[-1]:7.0f} MiB/s", flush=True)
            result = _common.run_worker(sys.executable, WORKER, {"version_id": next(version_ids),
                                                                 "path": str(source),
                                                                 "record": str(record.path)}, env)
            result["counts"] = _common.RequestCounts.of(record.entries(result["start"], result["stop"]))
            check_stored(server, result["component_id"], size)
            remove_stored(server, result["component_id"])
            os.sync()
            uploads.append(result)
            growth = (result["peak_kib"] - result["baseline_kib"]) / 1024
            print(f"  upload  {result['seconds']:6.2f} s  {size / MIB / result['seconds']:7.0f} MiB/s  "
                  f"(body sent from {result['to_first_byte'] or 0:.2f} s to {result['to_last_byte'] or 0:.2f} s)  "
                  f"memory +{growth:.1f} MiB  requests {result['counts'].total}", flush=True)
            md5_times.append(timed_md5(source))
        server_hwm = vm_hwm_kib(server.process.pid) if server.process else None
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    cp_time = statistics.median(cp_times)
    md5_time = statistics.median(md5_times)
    up_time = statistics.median(r["seconds"] for r in uploads)
    growth = max((r["peak_kib"] - r["baseline_kib"]) / 1024 for r in uploads)
    cp_rate, up_rate, md5_rate = size / MIB / cp_time, size / MIB / up_time, size / MIB / md5_time
    ratio = up_rate / cp_rate
    middle = sorted(uploads, key=lambda r: r["seconds"])[len(uploads) // 2]
    first, last = middle["to_first_byte"] or 0.0, middle["to_last_byte"] or 0.0
    print()
    print(f"one file of {args.size} MiB, median of {args.repeat} interleaved run(s); page cache warm for both")
    print(_common.table(
        ["run", "wall s", "MiB/s", "vs cp", "peak memory growth", "requests (PUTs)"],
        [["cp (baseline)", cp_time, f"{cp_rate:.0f}", "1.00", "-", "-"],
         ["ours -> ftrack.server", up_time, f"{up_rate:.0f}", f"{ratio:.2f}", f"{growth:.1f} MiB (worst run)",
          f"{middle['counts'].total} ({middle['counts'].puts})"],
         ["(reference: one MD5 pass)", md5_time, f"{md5_rate:.0f}", f"{md5_rate / cp_rate:.2f}", "-", "-"]]))
    print(f"median upload split: checksum + get_upload_metadata {first:.2f} s, body sent {last - first:.2f} s, "
          f"server's answer to the PUT + commit {middle['seconds'] - last:.2f} s (the run of median time)")
    if server_hwm is not None:
        print(f"(server process peak resident size over the whole run: {server_hwm / 1024:.0f} MiB)")
    verdicts = [("upload rate >= 70% of cp's", f"{ratio:.0%}", ratio >= 0.70),
                ("peak memory growth < 100 MiB", f"{growth:.1f} MiB", growth < 100)]
    print()
    print(_common.table(["goal", "measured", "verdict"], [[g, m, _common.verdict(ok)] for g, m, ok in verdicts]))
    return 0 if all(ok for _, _, ok in verdicts) else 1


def check_stored(server, component_id: str, size: int) -> None:
    """Fail loudly unless the server holds the component, of the right size, in ftrack.server."""
    from publisher.api import Session

    with Session(server.url, server.api_user, server.api_key, schema_cache_path=False) as session:
        component = session.get("FileComponent", component_id)
        rows = session.query(f'select id from ComponentLocation where component_id is "{component_id}" '
                             f'and location_id is "{_common.SERVER_LOCATION_ID}"').all()
        if component is None or component["size"] != size or len(rows) != 1:
            raise SystemExit(f"upload {component_id} is not stored as expected "
                             f"(size {component and component['size']}, {len(rows)} location rows)")


def remove_stored(server, component_id: str) -> None:
    response = requests.get(f"{server.url}/component/remove", timeout=60,
                            params={"id": component_id, "username": server.api_user, "apiKey": server.api_key})
    if response.status_code >= 400:
        print(f"  (could not remove {component_id} from the server: HTTP {response.status_code})")


if __name__ == "__main__":
    sys.exit(main())
