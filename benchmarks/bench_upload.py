"""Benchmark: uploads of one big file into ``ftrack.server``, in one run.

    python benchmarks/bench_upload.py [--size 2048] [--wan-size 256] [--dir DIR] [--stock-python PATH]

Writes one file of ``--size`` MiB (default 2048 = 2 GiB) of random bytes (a 16 MiB random block
repeated, each copy stamped with its own counter) into a temporary folder under ``--dir``, next to
the embedded servers' data folders, so every side reads and writes the same disk. Then, once each:

1. Loopback (an embedded server on this machine):
   (a) baseline: ``cp SOURCE COPY`` then ``fsync(COPY)``, timed together (the server fsyncs the
       parts it stores, so the baseline does too). One untimed ``cp`` runs first so every side
       starts from a warm page cache.
   (b) ours, multipart: ``version.create_component(SOURCE, location=ftrack.server)`` in a fresh
       subprocess that times only that call and samples its own resident memory (``VmRSS``,
       every 5 ms) for the peak growth over the size just before the call.
   (c) the stock ``ftrack-python-api`` 3.1.0 client, the same call in its own interpreter.
   (d) ours, single part: (b) with the multipart plan turned off in the worker (one MD5 pass,
       then one PUT), the path servers without multipart get.
2. WAN model: a server started with ``--throttle 50 --latency 40`` (each connection capped to
   50 Mbit/s, 40 ms per request); a ``--wan-size`` MiB file (default 256) uploaded by ours with
   ``FTRACK_UPLOAD_MAX_CONNECTIONS=1`` (one stream) and with the default 6 connections.
3. Resume: a publish of the ``--size`` file through the outbox (``run_publish``) whose server is
   killed (SIGKILL) once half the file was acknowledged; the server is restarted on its data
   folder and the publish resumed (``retry``); the bytes of the parts PUT after the restart are
   counted in the server's own record.

Stored files are removed after each run (``/component/remove``) to keep the disk free; a ``sync``
runs between runs, outside the timings. The machine is shared: the load average is printed.

Goals (issue 15): ours at most 0.35x the stock client's time and at least 0.8x the rate of
``cp`` + ``fsync``; peak memory growth under 100 MiB; on the WAN model 6 connections at least
4x the single-stream rate; bytes sent after the resume at most 55 % of the file.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
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
cfg = json.loads(sys.argv[1])

def rss_kib():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

if cfg["client"] == "stock":
    import ftrack_api
    session = ftrack_api.Session(auto_connect_event_hub=False, schema_cache_path=False)
    location = session.get("Location", "3a372bde-05bc-11e4-8908-20c9d081909b")
else:
    from publisher.api import Session, multipart
    if cfg.get("single"):
        multipart.part_count = lambda size: None  # the path of a server without multipart uploads
    session = Session(schema_cache_path=False)
    location = session.get_location("ftrack.server")
version = session.get("AssetVersion", cfg["version_id"])
version["id"]

first_byte, last_byte = [], [None]
def progress(done, total):
    now = time.perf_counter()
    if not first_byte and done > 0:
        first_byte.append(now)
    if done >= total:
        last_byte[0] = now

peak = [0]
stop = threading.Event()
def sample():
    while not stop.is_set():
        peak[0] = max(peak[0], rss_kib())
        stop.wait(0.005)

baseline = rss_kib()
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
t0 = time.perf_counter()
if cfg["client"] == "stock":
    component = version.create_component(cfg["path"], {"name": "big"}, location=location)
else:
    component = version.create_component(cfg["path"], {"name": "big"}, location=location, progress=progress)
session.commit()
elapsed = time.perf_counter() - t0
stop.set()
sampler.join()
peak[0] = max(peak[0], rss_kib())
print(json.dumps({"seconds": elapsed, "baseline_kib": baseline, "peak_kib": peak[0],
                  "to_first_byte": (first_byte[0] - t0) if first_byte else None,
                  "to_last_byte": (last_byte[0] - t0) if last_byte[0] else None,
                  "component_id": component["id"]}))
'''

PUBLISH_WORKER = r'''
import json, os, signal, sys, time
from publisher.api import Session
from publisher.publish import events
from publisher.publish.errors import PublishError
from publisher.publish.outbox import Outbox
from publisher.publish.runner import PublishRequest, retry, run_publish
from publisher.publish.staging import stage_paths

cfg = json.loads(sys.argv[1])
session = Session(schema_cache_path=False)
box = Outbox(cfg["outbox"])
killed = []
first = []

def on_event(event):
    if isinstance(event, events.BytesProgress):
        if not first:
            first.append((time.perf_counter(), event.done))
        if cfg.get("kill_pid") and not killed and event.done >= event.total // 2:
            killed.append(event.done)
            os.kill(cfg["kill_pid"], signal.SIGKILL)

t0 = time.perf_counter()
try:
    if cfg.get("entry_id"):
        retry(session, box, cfg["entry_id"], on_event=on_event)
    else:
        request = PublishRequest(stage_paths([cfg["path"]]).components, version_id=cfg["version_id"])
        run_publish(session, request, on_event=on_event, outbox=box)
    state = "done"
except PublishError as error:
    state = "failed: " + str(error)[:200]
entry = box.entries()[0]
print(json.dumps({"seconds": time.perf_counter() - t0, "state": state, "entry_id": entry.id,
                  "killed_at": killed[0] if killed else None,
                  "resumed_from": first[0][1] if first else None,
                  "component_id": entry.steps["components"]["big"].get("component_id")}))
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


def timed_cp_fsync(source: Path, target: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    elapsed = time.perf_counter() - started
    target.unlink()
    os.sync()
    return elapsed


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def remove_stored(server, component_id: str) -> None:
    response = requests.post(f"{server.url}/component/remove", timeout=60,
                             params={"id": component_id, "username": server.api_user, "apiKey": server.api_key})
    if response.status_code >= 400:
        print(f"  (could not remove {component_id} from the server: HTTP {response.status_code})")
    os.sync()


def check_stored(server, component_id: str, size: int, source: Path | None = None) -> None:
    """Fail loudly unless the server holds the component, of the right size (and bytes), in ftrack.server."""
    from publisher.api import Session

    with Session(server.url, server.api_user, server.api_key, schema_cache_path=False) as session:
        component = session.get("FileComponent", component_id)
        rows = session.query(f'select id from ComponentLocation where component_id is "{component_id}" '
                             f'and location_id is "{_common.SERVER_LOCATION_ID}"').all()
        if component is None or component["size"] != size or len(rows) != 1:
            raise SystemExit(f"upload {component_id} is not stored as expected "
                             f"(size {component and component['size']}, {len(rows)} location rows)")
    if source is not None:
        stored = server.data_dir / "files" / component_id[:2] / component_id
        if _md5(stored) != _md5(source):
            raise SystemExit(f"upload {component_id}: the stored bytes differ from the source")


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while block := fh.read(8 * MIB):
            digest.update(block)
    return digest.hexdigest()


def upload_run(label: str, python: str, server, env: dict, cfg: dict, size: int, source: Path) -> dict:
    print(f"  {label} ... ({load_average()})", flush=True)
    result = _common.run_worker(python, WORKER, cfg, env)
    check_stored(server, result["component_id"], size)
    remove_stored(server, result["component_id"])
    growth = (result["peak_kib"] - result["baseline_kib"]) / 1024
    result["growth_mib"] = growth
    print(f"  {label:28s} {result['seconds']:7.2f} s  {size / MIB / result['seconds']:7.0f} MiB/s  "
          f"memory +{growth:.1f} MiB", flush=True)
    return result


def part_bytes(entries: list[dict], file_size: int) -> int:
    """Bytes of the part PUTs in ``entries`` (ftrack's part size for the file)."""
    from publisher.api.multipart import chunk_size_for

    chunk = chunk_size_for(file_size)
    total = 0
    for entry in entries:
        if entry.get("method") == "PUT" and entry.get("path", "").startswith("/upload/"):
            number = int(entry["path"].rsplit("/", 1)[1])
            total += min(chunk, file_size - (number - 1) * chunk)
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=2048, help="file size in MiB (default 2048 = 2 GiB)")
    parser.add_argument("--wan-size", type=int, default=256, help="file size in MiB on the WAN model (default 256)")
    parser.add_argument("--dir", default=None, help="where to put the files and the server data (same disk)")
    parser.add_argument("--stock-python", default=None, help="a Python with ftrack-python-api 3.1.0")
    args = parser.parse_args()

    stock_python = _common.find_stock_python(args.stock_python)
    size, wan_size = args.size * MIB, args.wan_size * MIB
    workdir = Path(tempfile.mkdtemp(prefix="bench-upload-", dir=args.dir))
    print(_common.machine_note())
    print(load_average())
    source = workdir / "big.bin"
    wan_source = workdir / "wan.bin"
    record = _common.RecordFile(workdir / "requests.jsonl")
    servers = []
    results: dict[str, dict] = {}
    try:
        print(f"writing {args.size} MiB into {source} ...", flush=True)
        write_source(source, size)
        write_source(wan_source, wan_size)
        os.sync()

        # 1. Loopback ---------------------------------------------------------------------------------
        server = _common.start_server(workdir / "server", record.path)
        servers.append(server)
        env = _common.server_env(server)
        stock_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
        versions = iter(_common.make_versions(server, 4, "bench_upload"))
        timed_cp_fsync(source, workdir / "warm.bin")  # warms the page cache; not counted
        print(f"  cp + fsync ... ({load_average()})", flush=True)
        cp_time = timed_cp_fsync(source, workdir / "copy.bin")
        print(f"  {'cp + fsync':28s} {cp_time:7.2f} s  {size / MIB / cp_time:7.0f} MiB/s", flush=True)
        cfg = {"client": "ours", "path": str(source)}
        results["ours"] = upload_run("ours, multipart (6 conn.)", sys.executable, server, env,
                                     dict(cfg, version_id=next(versions)), size, source)
        if stock_python:
            results["stock"] = upload_run("stock 3.1.0", stock_python, server, stock_env,
                                          dict(cfg, client="stock", version_id=next(versions)), size, source)
        else:
            print("  (no Python with ftrack-python-api 3.1.0 found: pass --stock-python; the stock run is skipped)")
        results["single"] = upload_run("ours, single part", sys.executable, server, env,
                                       dict(cfg, single=True, version_id=next(versions)), size, source)
        server.stop()

        # 2. WAN model --------------------------------------------------------------------------------
        wan = _common.start_server(workdir / "server-wan", record.path, ["--throttle", "50", "--latency", "40"])
        servers.append(wan)
        wan_env = _common.server_env(wan)
        wan_versions = iter(_common.make_versions(wan, 2, "bench_upload_wan"))
        wan_cfg = {"client": "ours", "path": str(wan_source)}
        results["wan1"] = upload_run("WAN, 1 connection", sys.executable, wan, dict(wan_env, FTRACK_UPLOAD_MAX_CONNECTIONS="1"),
                                     dict(wan_cfg, version_id=next(wan_versions)), wan_size, wan_source)
        results["wan6"] = upload_run("WAN, 6 connections", sys.executable, wan, dict(wan_env, FTRACK_UPLOAD_MAX_CONNECTIONS="6"),
                                     dict(wan_cfg, version_id=next(wan_versions)), wan_size, wan_source)
        wan.stop()

        # 3. Killed at 50 %, resumed ------------------------------------------------------------------
        print(f"  kill at 50 % and resume ... ({load_average()})", flush=True)
        crash_dir = workdir / "server-crash"
        crash = _common.start_server(crash_dir, record.path)
        servers.append(crash)
        crash_env = _common.server_env(crash)
        outbox = workdir / "outbox"
        version_id = _common.make_versions(crash, 1, "bench_upload_resume")[0]
        first = _common.run_worker(sys.executable, PUBLISH_WORKER, {
            "path": str(source), "version_id": version_id, "outbox": str(outbox), "kill_pid": crash.process.pid},
            crash_env)
        crash.stop()
        if first["killed_at"] is None or first["state"] == "done":
            raise SystemExit(f"the first publish was not cut by the server's kill: {first}")
        mark = record.lines()
        back = _common.start_server(crash_dir, record.path)
        servers.append(back)
        second = _common.run_worker(sys.executable, PUBLISH_WORKER, {
            "path": str(source), "outbox": str(outbox), "entry_id": first["entry_id"]}, _common.server_env(back))
        if second["state"] != "done":
            raise SystemExit(f"the resumed publish did not finish: {second}")
        check_stored(back, second["component_id"], size, source)
        resent = part_bytes(record.entries(mark), size)
        results["resume"] = {"killed_at": first["killed_at"], "resumed_from": second["resumed_from"],
                             "resent": resent, "seconds": second["seconds"]}
        print(f"  killed at {first['killed_at'] / MIB:.0f} MiB acknowledged; resumed from "
              f"{(second['resumed_from'] or 0) / MIB:.0f} MiB; {resent / MIB:.0f} MiB sent after the restart "
              f"in {second['seconds']:.2f} s", flush=True)
        remove_stored(back, second["component_id"])
        back.stop()
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(load_average())
    ours, single = results["ours"], results["single"]
    cp_rate = size / MIB / cp_time
    rows = [["cp + fsync (baseline)", cp_time, f"{cp_rate:.0f}", "1.00", "-", "-"]]
    for key, label in (("ours", "ours, multipart"), ("stock", "stock 3.1.0"), ("single", "ours, single part")):
        if key in results:
            r = results[key]
            rate = size / MIB / r["seconds"]
            first_byte = f"{r['to_first_byte']:.2f}" if r.get("to_first_byte") is not None else "-"
            rows.append([label, r["seconds"], f"{rate:.0f}", f"{rate / cp_rate:.2f}", f"{r['growth_mib']:.1f} MiB",
                         first_byte])
    print(f"one file of {args.size} MiB on loopback, one run each; page cache warm")
    print(_common.table(["run", "wall s", "MiB/s", "vs cp+fsync", "peak memory growth", "first byte acked at s"],
                        rows))
    wan1, wan6 = results["wan1"], results["wan6"]
    wan_gain = wan1["seconds"] / wan6["seconds"]
    print()
    print(f"WAN model (--throttle 50 --latency 40), one file of {args.wan_size} MiB")
    print(_common.table(["run", "wall s", "MiB/s"],
                        [["1 connection", wan1["seconds"], f"{wan_size / MIB / wan1['seconds']:.1f}"],
                         ["6 connections", wan6["seconds"], f"{wan_size / MIB / wan6['seconds']:.1f}"]]))
    resume = results["resume"]
    resent_share = resume["resent"] / size

    ours_rate = size / MIB / ours["seconds"]
    verdicts = [("upload rate >= 0.8x cp + fsync", f"{ours_rate / cp_rate:.2f}x", ours_rate / cp_rate >= 0.8),
                ("peak memory growth < 100 MiB", f"{ours['growth_mib']:.1f} MiB", ours["growth_mib"] < 100),
                ("6 connections >= 4x one (WAN)", f"{wan_gain:.2f}x", wan_gain >= 4),
                ("sent after resume <= 55 % of file", f"{resent_share:.0%}", resent_share <= 0.55)]
    if "stock" in results:
        share = ours["seconds"] / results["stock"]["seconds"]
        verdicts.insert(0, ("time <= 0.35x the stock client's", f"{share:.2f}x", share <= 0.35))
    print()
    print(_common.table(["goal", "measured", "verdict"], [[g, m, _common.verdict(ok)] for g, m, ok in verdicts]))
    return 0 if all(ok for _, _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
