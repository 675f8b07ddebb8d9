"""Benchmark: what the outbox costs a publish (publisher.publish.outbox / journal).

    python benchmarks/bench_outbox.py [--components 30] [--frames 10000] [--runs 5]

1. ``Outbox.save`` of an entry holding one ``--frames``-frame sequence (its file list is the
   bulk of the entry), against the same JSON written with a plain ``open().write()`` (no temp
   file, no fsync): the price of an atomic, durable write.
2. A publish of ``--components`` small files (20 KB) to a new version on an embedded server,
   through the outbox against the same publish without it (the baseline, measured in the same
   run, alternating). Small files make the per-step cost visible; with real files it is lost in
   the transfer.
Printed: medians and ratios to the baselines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from publisher.api.session import Session  # noqa: E402
from publisher.embedded import EmbeddedServer  # noqa: E402
from publisher.publish.outbox import Outbox, entry_to_dict  # noqa: E402
from publisher.publish.runner import NewVersion, PublishRequest, run_publish  # noqa: E402
from publisher.publish.staging import stage_paths  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=30)
    parser.add_argument("--frames", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-outbox-"))

    seq = tmp / "seq"
    seq.mkdir()
    for f in range(args.frames):
        (seq / f"p.{f:05d}.exr").write_bytes(b"x")
    box = Outbox(tmp / "box")
    entry = box.add(PublishRequest(stage_paths([str(seq)]).components, version_id="v"),
                    server_url="http://x", api_user="demo")
    saves, plain = [], []
    for _ in range(max(args.runs, 5) * 4):
        t = time.perf_counter()
        box.save(entry)
        saves.append(time.perf_counter() - t)
        t = time.perf_counter()
        with open(tmp / "plain.json", "w", encoding="utf-8") as out:
            out.write(json.dumps(entry_to_dict(entry)))
        plain.append(time.perf_counter() - t)
    size = (box.root / f"{entry.id}.json").stat().st_size
    s, p = statistics.median(saves), statistics.median(plain)
    print(f"save of a {args.frames}-frame entry ({size / 1e6:.2f} MB): {s * 1000:.1f} ms; "
          f"plain json.dumps+write {p * 1000:.1f} ms; ratio {s / p:.2f}")

    files = tmp / "files"
    files.mkdir()
    for i in range(args.components):
        (files / f"f{i:03d}.bin").write_bytes(os.urandom(20000))
    with EmbeddedServer(tmp / "server") as server:
        session = Session(server_url=server.url, api_user=server.api_user, api_key=server.api_key)
        context = session.query("select id from Shot").first()["id"]
        asset_type = session.query("select id from AssetType").first()["id"]

        def one(outbox: Outbox | None) -> float:
            request = PublishRequest(stage_paths([str(files)]).components,
                                     new_version=NewVersion(context, f"b{uuid.uuid4().hex[:6]}", asset_type))
            t = time.perf_counter()
            run_publish(session, request, outbox=outbox)
            return time.perf_counter() - t

        one(None)  # warm up connections and caches
        without, through = [], []
        for _ in range(args.runs):
            without.append(one(None))
            through.append(one(Outbox(tmp / "box2")))
        session.close()
    w, b = statistics.median(without), statistics.median(through)
    print(f"{args.components}-component publish: without outbox {w:.3f} s, through the outbox {b:.3f} s; "
          f"ratio {b / w:.2f} ({(b - w) / args.components * 1000:.1f} ms per component)")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
