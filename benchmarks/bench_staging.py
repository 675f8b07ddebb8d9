"""Benchmark: staging a drop of 10,000 frames (publisher.publish.staging.stage_paths).

    python benchmarks/bench_staging.py [--files 10000] [--runs 5]

Two drops of the same ``--files`` frames: the folder, and every file dropped on its own.
Baseline in the same run: ``publisher.api.sequences.scan`` / ``detect`` of the same files, which
only group names (staging adds sizes, read checks, names and hole reports).
Printed: median wall time and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from publisher.api import sequences  # noqa: E402
from publisher.publish.staging import stage_paths  # noqa: E402


def median_time(func, runs: int) -> float:
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-staging-") as tmp:
        folder = Path(tmp) / "render"
        folder.mkdir()
        for f in range(1, args.files + 1):
            (folder / f"beauty.{f:05d}.exr").write_bytes(b"x" * 64)
        paths = [str(p) for p in folder.iterdir()]
        result = stage_paths([str(folder)])
        assert len(result.components) == 1 and len(result.components[0].files) == args.files, result
        print(f"machine: {os.cpu_count()} cores; {args.files} files of 64 bytes in one folder\n")
        print(f"{'drop':<22} {'baseline ms':>12} {'stage_paths ms':>15} {'ratio':>7}")
        for name, base, staged in (
            ("the folder", lambda: sequences.scan(str(folder)), lambda: stage_paths([str(folder)])),
            ("every file", lambda: sequences.detect(paths), lambda: stage_paths(paths)),
        ):
            b = median_time(base, args.runs)
            s = median_time(staged, args.runs)
            print(f"{name:<22} {b * 1000:>12.1f} {s * 1000:>15.1f} {s / b:>6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
