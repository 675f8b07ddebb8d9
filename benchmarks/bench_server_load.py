"""Benchmark: the embedded server under load, and beside idle and slow connections (issue 12).

    python benchmarks/bench_server_load.py [--seconds 60] [--pythonpath DIR] [--hostile] [--no-load]

Load (three runs of ``--seconds`` each, on one server, clients in 5 processes):

  A. 50 clients: 70 % queries (a page of versions), 30 % small commits (one AssetVersion each).
  B. 10 uploaders (a FileComponent and its 1 MiB file each time) beside 40 queriers.
  C. B again with 100 idle connections and 20 slow ones open (10 trickle a request head, 10 an
     ``/api`` body, a byte a second).

For each run: requests per second, errors, p50/p99 per kind, the server's resident memory before
and after (and its peak during the run). Afterwards every acknowledged commit is looked for (once,
and once only) and every acknowledged upload's stored file is checked against its MD5.
Goal: query p99 of C within 1.5x of B (the baseline, measured in the same run).

``--hostile`` then runs the hostile cases of the issue, each on a fresh server, and prints the
server's peak resident memory (``VmHWM``) and its answer for each: an unauthenticated 256 MiB
``[{},...]`` body, four 64 MB bodies at once (with the key), six concurrent 8192 px thumbnails of a
12000 x 12000 PNG, a 16000 x 16000 PNG thumbnail.

``--pythonpath DIR`` runs the server from another checkout (e.g. the old one, for comparison).
The server shares this machine's cores with the clients; the load average is printed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402

from publisher.embedded import EmbeddedServer  # noqa: E402

MIB = 1024 * 1024
PROCESSES = 5
UPLOAD_SIZE = MIB


# -- the server ------------------------------------------------------------------------------
def start(data_dir: Path, pythonpath: str | None) -> EmbeddedServer:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(pythonpath) if pythonpath else str(_common.REPO))
    server = EmbeddedServer(data_dir, env=env)
    server.start()
    return server


def memory_kib(pid: int, field: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PeakSampler:
    """Samples a process's resident memory every ``interval`` s; ``peak`` in KiB."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, memory_kib(self.pid))
            except OSError:
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# -- clients (in worker processes) -------------------------------------------------------------
def _headers(key: str) -> dict[str, str]:
    return {"content-type": "application/json", "ftrack-user": "demo", "ftrack-api-key": key}


def _client(cfg: dict, role: str, tag: str, out: dict) -> None:
    """One client thread: loops on its role's requests until ``cfg['until']``."""
    http = requests.Session()
    url, headers = cfg["url"], _headers(cfg["key"])
    query = json.dumps([{"action": "query", "expression":
                         f'select id, version, comment from AssetVersion where asset_id is "{cfg["asset"]}" '
                         "order by version descending limit 20"}])
    rng = random.Random(tag)
    block = bytearray(os.urandom(UPLOAD_SIZE))
    n = 0
    while time.time() < cfg["until"]:
        kind = role if role != "mixed" else ("query" if rng.random() < 0.7 else "commit")
        n += 1
        started = time.perf_counter()
        try:
            if kind == "query":
                answer = http.post(f"{url}/api", data=query, headers=headers, timeout=120).json()
                ok = isinstance(answer, list)
            elif kind == "commit":
                vid = str(uuid.uuid4())
                op = [{"action": "create", "entity_type": "AssetVersion", "entity_key": [vid],
                       "entity_data": {"__entity_type__": "AssetVersion", "id": vid, "asset_id": cfg["asset"],
                                       "comment": f"load {tag}-{n}"}}]
                answer = http.post(f"{url}/api", data=json.dumps(op), headers=headers, timeout=120).json()
                ok = isinstance(answer, list)
                if ok:
                    out["commits"].append(vid)
            else:
                cid = str(uuid.uuid4())
                block[:16] = uuid.UUID(cid).bytes
                data = bytes(block)
                checksum = base64.b64encode(hashlib.md5(data).digest()).decode()
                ops = [{"action": "create", "entity_type": "FileComponent", "entity_key": [cid],
                        "entity_data": {"__entity_type__": "FileComponent", "id": cid, "name": "main",
                                        "file_type": ".bin", "size": len(data)}},
                       {"action": "get_upload_metadata", "component_id": cid, "file_name": "main.bin",
                        "file_size": len(data), "checksum": checksum}]
                answer = http.post(f"{url}/api", data=json.dumps(ops), headers=headers, timeout=120).json()
                ok = isinstance(answer, list)
                if ok:
                    meta = answer[1]
                    put = http.put(meta["url"], data=data, headers=meta["headers"], timeout=120)
                    ok = put.status_code == 200
                    if ok:
                        out["uploads"].append((cid, hashlib.md5(data).hexdigest()))
        except (requests.RequestException, ValueError):
            ok = False
        elapsed = time.perf_counter() - started
        if ok:
            out["times"].setdefault(kind, []).append(elapsed)
        else:
            out["errors"][kind] = out["errors"].get(kind, 0) + 1


def _merged(outs: list[dict]) -> dict:
    """One result from several clients' (or processes') results: times and errors per kind,
    acknowledged commits and uploads."""
    merged: dict = {"times": {}, "errors": {}, "commits": [], "uploads": []}
    for out in outs:
        for kind, values in out["times"].items():
            merged["times"].setdefault(kind, []).extend(values)
        for kind, count in out["errors"].items():
            merged["errors"][kind] = merged["errors"].get(kind, 0) + count
        merged["commits"] += out["commits"]
        merged["uploads"] += out["uploads"]
    return merged


def client_process(cfg: dict, roles: list[str], index: int, queue) -> None:
    outs = [{"times": {}, "errors": {}, "commits": [], "uploads": []} for _ in roles]
    while time.time() < cfg["start"]:
        time.sleep(0.01)
    threads = [threading.Thread(target=_client, args=(cfg, role, f"{index}.{i}", out))
               for i, (role, out) in enumerate(zip(roles, outs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    merged = _merged(outs)
    queue.put(merged)


# -- idle and slow connections ---------------------------------------------------------------
class Nuisance:
    """``idle`` connections that send nothing and ``slow`` ones trickling a byte a second."""

    def __init__(self, url: str, key: str, idle: int, slow: int) -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        self.address = (host, int(port))
        self.key, self.idle, self.slow = key, idle, slow
        self._stop = threading.Event()
        self._socks: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    def _trickle(self, body: bool) -> None:
        head = (b"POST /api HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nftrack-user: demo\r\n"
                b"ftrack-api-key: " + self.key.encode() + b"\r\nContent-Length: 100000\r\n\r\n")
        while not self._stop.is_set():
            try:
                with socket.create_connection(self.address, timeout=5) as sock:
                    sock.sendall(head + b"[" if body else head[:30])
                    while not self._stop.wait(1.0):
                        sock.sendall(b" " if body else b"X")
            except OSError:
                self._stop.wait(0.5)

    def __enter__(self) -> "Nuisance":
        self._socks = [socket.create_connection(self.address, timeout=5) for _ in range(self.idle)]
        for i in range(self.slow):
            thread = threading.Thread(target=self._trickle, args=(i % 2 == 0,), daemon=True)
            thread.start()
            self._threads.append(thread)
        time.sleep(1.0)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for sock in self._socks:
            sock.close()
        for thread in self._threads:
            thread.join(5)


# -- one run ---------------------------------------------------------------------------------
def run_load(server: EmbeddedServer, asset: str, roles: list[str], seconds: float) -> dict:
    start_at = time.time() + 1.0
    cfg = {"url": server.url, "key": server.api_key, "asset": asset, "start": start_at, "until": start_at + seconds}
    queue = multiprocessing.Queue()
    chunks = [roles[i::PROCESSES] for i in range(PROCESSES)]
    procs = [multiprocessing.Process(target=client_process, args=(cfg, chunk, i, queue)) for i, chunk in enumerate(chunks)]
    pid = server.process.pid
    before = memory_kib(pid)
    cpu_before = cpu_seconds(pid)
    with PeakSampler(pid) as sampler:
        for proc in procs:
            proc.start()
        results = [queue.get() for _ in procs]
        for proc in procs:
            proc.join()
    merged = _merged(results)
    merged.update(seconds=seconds, cpu=cpu_seconds(pid) - cpu_before, mem_before=before, mem_after=memory_kib(pid), mem_peak=sampler.peak,
                  load=os.getloadavg()[0])
    return merged


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def check_kept(server: EmbeddedServer, asset: str, commits: list[str],
               uploads: list[tuple[str, str]]) -> tuple[int, int, int, int]:
    """(acknowledged commits found, missing, versions there more than once, files whose stored
    bytes do not match their MD5 or are missing)."""
    expression = f'select id, comment from AssetVersion where asset_id is "{asset}"'
    rows = requests.post(f"{server.url}/api", data=json.dumps([{"action": "query", "expression": expression}]),
                         headers=_headers(server.api_key), timeout=300).json()[0]["data"]
    ids = [r["id"] for r in rows]
    comments = [r["comment"] for r in rows]
    present = set(ids)
    found = sum(1 for c in commits if c in present)
    doubled = (len(ids) - len(present)) + (len(comments) - len(set(comments)))
    bad_files = 0
    for cid, md5 in uploads:
        path = server.data_dir / "files" / cid[:2] / cid
        try:
            bad_files += hashlib.md5(path.read_bytes()).hexdigest() != md5
        except OSError:
            bad_files += 1
    return found, len(commits) - found, doubled, bad_files


def make_asset(server: EmbeddedServer) -> str:
    headers = _headers(server.api_key)
    shot = requests.post(f"{server.url}/api", headers=headers, timeout=60, data=json.dumps(
        [{"action": "query", "expression": 'select id from Shot where name is "sh010"'}])).json()[0]["data"][0]["id"]
    asset = str(uuid.uuid4())
    answer = requests.post(f"{server.url}/api", headers=headers, timeout=60, data=json.dumps([{
        "action": "create", "entity_type": "Asset", "entity_key": [asset],
        "entity_data": {"__entity_type__": "Asset", "id": asset, "name": f"load_{asset[:6]}", "context_id": shot}}])).json()
    assert isinstance(answer, list), answer
    return asset


def load_runs(args: argparse.Namespace, workdir: Path) -> None:
    server = start(workdir / "load", args.pythonpath)
    try:
        asset = make_asset(server)
        runs = {}
        print(f"A: 50 clients, 70 % queries / 30 % commits, {args.seconds:.0f} s ...", flush=True)
        runs["A"] = run_load(server, asset, ["mixed"] * 50, args.seconds)
        if args.only_a:
            run = runs["A"]
            count = sum(len(v) for v in run["times"].values())
            print({k: (round(len(v) / run["seconds"]), round(percentile(v, 0.5) * 1000, 1), round(percentile(v, 0.99) * 1000, 1))
                   for k, v in run["times"].items()}, "errors", run["errors"], "load", round(run["load"], 1),
                  f"server CPU {run['cpu'] * 1000 / max(count, 1):.2f} ms/request")
            return
        print(f"B: 10 uploaders beside 40 queriers, {args.seconds:.0f} s ...", flush=True)
        runs["B"] = run_load(server, asset, ["upload"] * 10 + ["query"] * 40, args.seconds)
        print(f"C: as B, with 100 idle and 20 slow connections open, {args.seconds:.0f} s ...", flush=True)
        with Nuisance(server.url, server.api_key, 100, 20):
            runs["C"] = run_load(server, asset, ["upload"] * 10 + ["query"] * 40, args.seconds)
        commits = [c for run in runs.values() for c in run["commits"]]
        uploads = [u for run in runs.values() for u in run["uploads"]]
        kept = check_kept(server, asset, commits, uploads)
    finally:
        server.stop()

    rows = []
    for name, run in runs.items():
        total = sum(len(v) for v in run["times"].values())
        errors = sum(run["errors"].values())
        for kind in ("query", "commit", "upload"):
            values = run["times"].get(kind, [])
            if not values and not run["errors"].get(kind):
                continue
            rows.append([f"{name} {kind}", f"{len(values) / run['seconds']:.0f}", run["errors"].get(kind, 0),
                         f"{percentile(values, 0.5) * 1000:.1f}", f"{percentile(values, 0.99) * 1000:.1f}", "", ""])
        rows.append([f"{name} all", f"{total / run['seconds']:.0f}", errors, "", f"{run['cpu'] * 1000 / max(total, 1):.2f}",
                     f"{run['mem_before'] / 1024:.0f} -> {run['mem_after'] / 1024:.0f} (peak {run['mem_peak'] / 1024:.0f})",
                     f"{run['load']:.1f}"])
    print()
    print(_common.table(["run / kind", "req/s", "errors", "p50 ms", "p99 ms (all: server CPU ms/req)", "server MiB before -> after", "load"], rows))
    print(f"\nafterwards: {kept[0]} of {len(commits)} acknowledged commits found ({kept[1]} missing, {kept[2]} doubled); "
          f"{len(uploads) - kept[3]} of {len(uploads)} acknowledged files match their MD5 ({kept[3]} missing or wrong)")
    p99_b = percentile(runs["B"]["times"].get("query", []), 0.99)
    p99_c = percentile(runs["C"]["times"].get("query", []), 0.99)
    ratio = p99_c / p99_b if p99_b else float("inf")
    print()
    print(_common.table(["goal", "measured", "verdict"], [
        ["query p99 with idle+slow (C) <= 1.5x without (B)", f"{ratio:.2f}x", _common.verdict(ratio <= 1.5)],
        ["nothing lost or doubled", f"{kept[1] + kept[2] + kept[3]} bad", _common.verdict(kept[1] + kept[2] + kept[3] == 0)],
    ]))


# -- hostile cases ---------------------------------------------------------------------------
def _png_of_zeros(width: int, height: int, channels: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    packer = zlib.compressobj(9)
    row = b"\0" * (width * channels + 1)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    colour = {1: 0, 3: 2}[channels]
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def _post_body(server: EmbeddedServer, body: bytes, key: str) -> str:
    headers = {"content-type": "application/json", "ftrack-user": "demo", "ftrack-api-key": key,
               "ftrack-strict-api": "true"}
    try:
        response = requests.post(f"{server.url}/api", data=body, headers=headers, timeout=600)
        return f"{response.status_code} {response.json().get('exception', '') if response.headers.get('content-type', '').startswith('application/json') and isinstance(response.json(), dict) else ''}"
    except requests.RequestException as exc:
        return f"connection: {type(exc).__name__}"


def _upload(server: EmbeddedServer, data: bytes) -> str:
    cid = str(uuid.uuid4())
    checksum = base64.b64encode(hashlib.md5(data).digest()).decode()
    meta = requests.post(f"{server.url}/api", headers=_headers(server.api_key), timeout=60, data=json.dumps([
        {"action": "get_upload_metadata", "component_id": cid, "file_name": "x.png", "file_size": len(data),
         "checksum": checksum}])).json()[0]
    assert requests.put(meta["url"], data=data, headers=meta["headers"], timeout=120).status_code == 200
    return cid


def _thumbnail(server: EmbeddedServer, cid: str, size: int) -> str:
    params = {"id": cid, "username": "demo", "apiKey": server.api_key, "size": str(size)}
    response = requests.get(f"{server.url}/component/thumbnail", params=params, timeout=600)
    return str(response.status_code)


def hostile_cases(args: argparse.Namespace, workdir: Path) -> None:
    print("\nhostile cases (each on a fresh server; peak = the server's VmHWM) ...", flush=True)
    big_list = b"[" + b"{}," * (256 * MIB // 3 - 1) + b"{}]"
    body_64mb = b"[" + b"{}," * (64_000_000 // 3 - 1) + b"{}]"
    png_12k = _png_of_zeros(12000, 12000, 3)
    png_16k = _png_of_zeros(16000, 16000, 3)

    def unauthenticated(server):
        return _post_body(server, big_list, "wrong-key-123")

    def four_bodies(server):
        with ThreadPoolExecutor(4) as pool:
            return ", ".join(sorted(set(pool.map(lambda _i: _post_body(server, body_64mb, server.api_key), range(4)))))

    def six_thumbnails(server):
        cid = _upload(server, png_12k)
        with ThreadPoolExecutor(6) as pool:
            return ", ".join(sorted(set(pool.map(lambda _i: _thumbnail(server, cid, 8192), range(6)))))

    def bomb(server):
        return _thumbnail(server, _upload(server, png_16k), 256)

    cases = [("unauthenticated 256 MiB [{},...] body", unauthenticated),
             ("four 64 MB [{},...] bodies at once, with the key", four_bodies),
             (f"six 8192 px thumbnails of a 12000x12000 PNG ({len(png_12k) // 1024} KiB)", six_thumbnails),
             (f"256 px thumbnail of a 16000x16000 PNG ({len(png_16k) // 1024} KiB)", bomb)]
    rows = []
    for n, (name, case) in enumerate(cases):
        server = start(workdir / f"hostile{n}", args.pythonpath)
        try:
            idle = memory_kib(server.process.pid)
            started = time.perf_counter()
            answer = case(server)
            elapsed = time.perf_counter() - started
            peak = memory_kib(server.process.pid, "VmHWM")
            after = memory_kib(server.process.pid)
        finally:
            server.stop()
        rows.append([name, answer, f"{elapsed:.1f}", f"{idle / 1024:.0f}", f"{peak / 1024:.0f}", f"{after / 1024:.0f}"])
        print(f"  {name}: {answer}, peak {peak / 1024:.0f} MiB", flush=True)
    print()
    print(_common.table(["case", "answer", "s", "MiB idle", "MiB peak", "MiB after"], rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each load run (default 60)")
    parser.add_argument("--pythonpath", default=None, help="run the server from this checkout (default: this one)")
    parser.add_argument("--hostile", action="store_true", help="also run the hostile cases")
    parser.add_argument("--no-load", action="store_true", help="skip the load runs")
    parser.add_argument("--only-a", action="store_true", help="only run A (for quick comparisons)")
    args = parser.parse_args()
    print(_common.machine_note())
    print(f"server code: {args.pythonpath or _common.REPO}")
    workdir = Path(tempfile.mkdtemp(prefix="bench-server-load-"))
    # ``python -m`` puts the working folder first on the server's path: from a checkout, its
    # code would win over --pythonpath.
    os.chdir(workdir)
    try:
        if not args.no_load:
            load_runs(args, workdir)
        if args.hostile:
            hostile_cases(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n" + _common.machine_note())
    return 0


if __name__ == "__main__":
    sys.exit(main())
