"""Benchmark: review encode of a PNG sequence, as a server job vs. a plain PyAV loop.

    python benchmarks/bench_encode.py [--frames 100] [--size 1920x1080] [--repeat 3]
                                      [--threads N] [--skip-server]

Measures in one run, each ``--repeat`` times (interleaved), and prints the medians:

  (a) baseline: a plain PyAV decode -> reformat -> libx264 loop over the same frames with the
      same encoder settings (written here, not through publisher.server.encoder);
  (b) ``publisher.server.encoder.encode_review`` called directly;
  (c) the same encode as an ``encode_media`` job of a real embedded server, driven over raw
      HTTP (``requests``): timed from the encode_media request to the Job reading ``done``,
      the frame uploads excluded.

Goal: (c)/(a) <= 1.3. The frames (gradients, grain, moving shapes) are cached in the system's
temporary folder between runs.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from fractions import Fraction
from io import BytesIO
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from publisher.server.encoder import PIXEL_FORMAT, X264_OPTIONS, encode_review  # noqa: E402

SERVER_LOCATION_ID = "3a372bde-05bc-11e4-8908-20c9d081909b"
RATE = 24


# -- frames ----------------------------------------------------------------------------------

def make_frames(count: int, width: int, height: int) -> list[str]:
    """A cached PNG sequence with natural-ish content: gradients, grain and moving discs."""
    folder = Path(tempfile.gettempdir()) / "ftrack-publisher-bench" / f"png-{width}x{height}-{count}"
    paths = [str(folder / f"plate.{i + 1001:04d}.png") for i in range(count)]
    if (folder / ".complete").exists():
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    print(f"making {count} frames of {width}x{height} in {folder} (once) ...", flush=True)
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [40 + 150 * xx / width, 30 + 120 * yy / height, 90 + 60 * np.sin(xx / width * 6.0)], axis=-1
    )
    grain = rng.normal(0, 4, (height + 64, width + 64, 3)).astype(np.float32)
    for i, path in enumerate(paths):
        frame = base.copy()
        for k in range(5):
            cx = (0.1 + 0.8 * ((i * (k + 1) * 0.01 + k * 0.2) % 1.0)) * width
            cy = (0.5 + 0.35 * np.sin(i * 0.05 + k)) * height
            radius = (0.05 + 0.03 * k) * height
            disc = (xx - cx) ** 2 + (yy - cy) ** 2 < radius**2
            frame[disc] = (60 + 40 * k, 200 - 30 * k, 120 + 20 * k)
        off = i % 64
        frame += grain[off:off + height, off:off + width]
        Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8)).save(path, format="PNG", compress_level=1)
    (folder / ".complete").write_text("ok")
    return paths


# -- (a) baseline ----------------------------------------------------------------------------

def baseline(paths: list[str], mp4: str, threads: int | None) -> None:
    """The plain loop: what encoding these frames costs with nothing around it."""
    with av.open(paths[0]) as first:
        width, height = first.streams.video[0].width, first.streams.video[0].height
    with av.open(mp4, "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=RATE, options=dict(X264_OPTIONS))
        stream.width, stream.height, stream.pix_fmt = width, height, PIXEL_FORMAT
        stream.codec_context.thread_count = threads or 0
        for i, path in enumerate(paths):
            with av.open(path) as source:
                frame = next(source.decode(video=0))
            frame = frame.reformat(
                width, height, PIXEL_FORMAT, dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG
            )
            frame.pts = i
            frame.time_base = Fraction(1, RATE)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


# -- (b) direct call -------------------------------------------------------------------------

def direct(paths: list[str], mp4: str, jpeg: str, threads: int | None) -> None:
    encode_review(paths, mp4, jpeg, frame_rate=RATE, threads=threads, progress=lambda f: None,
                  cancelled=lambda: False)


# -- (c) encode_media job on a real embedded server ------------------------------------------

class ServerBench:
    """Raw-HTTP ftrack calls against an embedded server (no client library on purpose)."""

    def __init__(self, data_dir: Path, threads: int | None) -> None:
        import requests

        from publisher.embedded import EmbeddedServer

        extra = ["--encode-threads", str(threads)] if threads else []
        self.server = EmbeddedServer(data_dir, extra_args=extra)
        self.server.start()
        self.http = requests.Session()
        self.http.headers.update({
            "content-type": "application/json", "accept": "application/json",
            "ftrack-api-key": self.server.api_key, "ftrack-user": self.server.api_user,
            "ftrack-strict-api": "false",
        })

    def call(self, ops: list[dict]) -> list:
        response = self.http.post(f"{self.server.url}/api", data=json.dumps(ops), timeout=120)
        try:
            body = response.json()
        except ValueError:
            raise RuntimeError(f"HTTP {response.status_code}, not JSON: {response.text[:500]}") from None
        if isinstance(body, dict) and "exception" in body:
            names = [op.get("action") for op in ops]
            raise RuntimeError(f"server error for {names}: {body['exception']}: {body.get('content')}")
        return body

    def query(self, expression: str) -> list[dict]:
        return self.call([{"action": "query", "expression": expression}])[0]["data"]

    def publish_sequence(self, paths: list[str]) -> tuple[str, str]:
        """Asset + version + SequenceComponent with uploaded members; returns (seq id, version id)."""
        tasks = self.query("select id, parent_id from Task limit 1")
        if not tasks:
            raise RuntimeError("the demo project has no Task")
        task = tasks[0]
        asset_types = self.query("select id from AssetType limit 1")
        if not asset_types:
            raise RuntimeError("the server has no AssetType")
        asset_id, version_id, seq_id = (str(uuid.uuid4()) for _ in range(3))
        self.call([
            {"action": "create", "entity_type": "Asset", "entity_key": [asset_id],
             "entity_data": {"__entity_type__": "Asset", "id": asset_id, "name": f"bench-{asset_id[:8]}",
                             "context_id": task["parent_id"], "type_id": asset_types[0]["id"]}},
            {"action": "create", "entity_type": "AssetVersion", "entity_key": [version_id],
             "entity_data": {"__entity_type__": "AssetVersion", "id": version_id, "asset_id": asset_id,
                             "task_id": task["id"], "comment": "encode benchmark", "is_published": True}},
        ])
        members = []
        for path in paths:
            member_id = str(uuid.uuid4())
            name = Path(path).name.split(".")[-2]  # plate.1001.png -> 1001
            data = Path(path).read_bytes()
            meta = self.call([{
                "action": "get_upload_metadata", "component_id": member_id, "file_name": f"{name}.png",
                "file_size": len(data), "checksum": base64.b64encode(hashlib.md5(data).digest()).decode(),
            }])[0]
            put = self.http.put(meta["url"], data=data, headers=meta.get("headers") or {}, timeout=120)
            if put.status_code >= 400:
                raise RuntimeError(f"upload of {path} failed: HTTP {put.status_code} {put.text[:300]}")
            members.append((member_id, name, len(data)))
        ops = [{"action": "create", "entity_type": "SequenceComponent", "entity_key": [seq_id],
                "entity_data": {"__entity_type__": "SequenceComponent", "id": seq_id, "name": "plate",
                                "padding": 4, "file_type": ".png", "version_id": version_id,
                                "size": sum(m[2] for m in members)}}]
        for member_id, name, size in members:
            ops.append({"action": "create", "entity_type": "FileComponent", "entity_key": [member_id],
                        "entity_data": {"__entity_type__": "FileComponent", "id": member_id, "name": name,
                                        "file_type": ".png", "size": size, "container_id": seq_id}})
        ops.append({"action": "update", "entity_type": "SequenceComponent", "entity_key": [seq_id],
                    "entity_data": {"__entity_type__": "SequenceComponent",
                                    "members": [{"__entity_type__": "FileComponent", "id": m[0]} for m in members]}})
        for component_id in [m[0] for m in members] + [seq_id]:
            cl_id = str(uuid.uuid4())
            ops.append({"action": "create", "entity_type": "ComponentLocation", "entity_key": [cl_id],
                        "entity_data": {"__entity_type__": "ComponentLocation", "id": cl_id,
                                        "component_id": component_id, "location_id": SERVER_LOCATION_ID,
                                        "resource_identifier": component_id}})
        self.call(ops)
        return seq_id, version_id

    def encode(self, component_id: str, version_id: str, timeout: float = 1800) -> tuple[float, str]:
        """(seconds from the encode_media request to the Job reading done, job id)."""
        start = time.perf_counter()
        job_id = self.call([{"action": "encode_media", "component_id": component_id,
                             "version_id": version_id, "keep_original": True}])[0]["job_id"]
        while True:
            job = self.query(f"select status, data from Job where id is {job_id}")[0]
            if job["status"] == "done":
                return time.perf_counter() - start, job_id
            if job["status"] == "failed":
                raise RuntimeError(f"encode job failed: {job.get('data')}")
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"encode job not done after {timeout} s: {job}")
            time.sleep(0.05)

    def check_outputs(self, job_id: str, frames: int) -> str:
        """Download the job's MP4 and describe it, to prove the job really encoded."""
        job = self.query(f"select data from Job where id is {job_id}")[0]
        outputs = {o["format"]: o["component_id"] for o in json.loads(job["data"])["output"]}
        response = self.http.get(f"{self.server.url}/component/get", timeout=120, params={
            "id": outputs["video/mp4"], "username": self.server.api_user, "apiKey": self.server.api_key})
        response.raise_for_status()
        with av.open(BytesIO(response.content)) as container:
            stream = container.streams.video[0]
            count = sum(1 for _ in container.decode(stream))
            described = (f"{stream.codec_context.name} {stream.codec_context.pix_fmt} "
                         f"{stream.width}x{stream.height} {count} frames, {len(response.content) / 1e6:.1f} MB")
        if count != frames:
            raise RuntimeError(f"the job's MP4 has {count} frames, not {frames}: {described}")
        return described

    def cpu_seconds(self) -> float | None:
        """User + system CPU seconds used so far by the server process (Linux /proc only)."""
        try:
            fields = Path(f"/proc/{self.server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, AttributeError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.server.stop()


# -- main ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="decoder/x264 threads (default: auto)")
    parser.add_argument("--skip-server", action="store_true", help="measure (a) and (b) only")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    paths = make_frames(args.frames, width, height)

    work = Path(tempfile.mkdtemp(prefix="bench-encode-"))
    server = None
    sequence = None
    if not args.skip_server:
        try:
            server = ServerBench(work / "server", args.threads)
            t0 = time.perf_counter()
            sequence = server.publish_sequence(paths)
            print(f"server: {server.server.url}, uploaded {len(paths)} frames in "
                  f"{time.perf_counter() - t0:.1f} s (not timed)", flush=True)
        except Exception as exc:  # report and still measure (a) and (b)
            print(f"(c) unavailable: {type(exc).__name__}: {exc}", flush=True)
            if server is not None:
                server.close()
            server = None

    times: dict[str, list[float]] = {"a": [], "b": [], "c": []}
    cpu: dict[str, list[float]] = {"a": [], "b": [], "c": []}
    try:
        for run in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            baseline(paths, str(work / "baseline.mp4"), args.threads)
            times["a"].append(time.perf_counter() - t0)
            cpu["a"].append(time.process_time() - c0)
            t0, c0 = time.perf_counter(), time.process_time()
            direct(paths, str(work / "direct.mp4"), str(work / "direct.jpg"), args.threads)
            times["b"].append(time.perf_counter() - t0)
            cpu["b"].append(time.process_time() - c0)
            if server is not None and sequence is not None:
                try:
                    c0 = server.cpu_seconds()
                    seconds, job_id = server.encode(*sequence)
                    times["c"].append(seconds)
                    if c0 is not None:
                        cpu["c"].append(server.cpu_seconds() - c0)
                    if run == 0:
                        print(f"job output: {server.check_outputs(job_id, len(paths))}", flush=True)
                except Exception as exc:
                    print(f"(c) failed: {type(exc).__name__}: {exc}", flush=True)
                    server.close()
                    server = None
            line = ", ".join(f"({k}) {v[-1]:.2f} s" for k, v in times.items() if len(v) > run)
            print(f"run {run + 1}: {line}", flush=True)
    finally:
        if server is not None:
            server.close()

    print(f"\n{len(paths)} frames {width}x{height}, libx264 {X264_OPTIONS}, threads={args.threads or 'auto'},"
          f" medians of {args.repeat} (wall time; CPU seconds of the encoding process in brackets):")
    a, a_cpu = statistics.median(times["a"]), statistics.median(cpu["a"])
    print(f"  (a) plain PyAV loop      {a:7.2f} s [{a_cpu:6.1f} cpu]  ({len(paths) / a:.1f} fps)")
    b, b_cpu = statistics.median(times["b"]), statistics.median(cpu["b"])
    print(f"  (b) encode_review        {b:7.2f} s [{b_cpu:6.1f} cpu]  ratio (b)/(a) = {b / a:.2f}"
          f"  cpu ratio {b_cpu / a_cpu:.2f}")
    if times["c"]:
        c = statistics.median(times["c"])
        verdict = "OK" if c / a <= 1.3 else "ABOVE GOAL"
        c_cpu = f"[{statistics.median(cpu['c']):6.1f} cpu]" if cpu["c"] else "[  n/a  cpu]"
        cpu_ratio = f"  cpu ratio {statistics.median(cpu['c']) / a_cpu:.2f}" if cpu["c"] else ""
        print(f"  (c) encode_media job     {c:7.2f} s {c_cpu}  ratio (c)/(a) = {c / a:.2f}"
              f"  (goal <= 1.3: {verdict}){cpu_ratio}")
    else:
        print("  (c) encode_media job     not measured (see above)")
    # Same-run pairs cancel slow drifts of the machine's load better than medians of each.
    pairs = {k: statistics.median(x / y for x, y in zip(times[k], times["a"])) for k in ("b", "c") if times[k]}
    print("  median of per-run ratios: " + ", ".join(f"({k})/(a) = {v:.2f}" for k, v in pairs.items()))
    if hasattr(os, "getloadavg"):
        print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
