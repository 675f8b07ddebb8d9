"""Benchmark: "Collect from Nuke" over a render of 10,000 frames (publisher.hosts.collect.nuke).

    python benchmarks/bench_collect.py [--frames 10000] [--runs 5]

A stand-in Nuke script with one Write node whose folder holds ``--frames`` frames less one. The
collector expands the Write's pattern over its range and looks the frames up on disk; baseline
in the same run: ``publisher.api.sequences.scan`` of that folder (the one listing the collector
makes). Then what the window does next with the result: ``stage_paths`` of the collected files,
against ``stage_paths`` of the folder dropped by hand.
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
for path in (REPO, REPO / "tests" / "hosts"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from publisher.api import sequences  # noqa: E402
from publisher.hosts.collect import nuke  # noqa: E402
from publisher.publish.staging import stage_paths  # noqa: E402
from scene_stand_ins import make_nuke, render_folder, write_node  # noqa: E402


def median_time(func, runs: int) -> float:
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    first, last = 1001, 1000 + args.frames
    with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
        root = Path(tmp)
        script = root / "comp.nk"
        script.write_text("Root {}\n")
        folder = render_folder(root / "render", "comp", first, last, missing=(first + 16,))
        module = make_nuke(str(script), first, last, [write_node("Write1", str(folder / "comp.%04d.exr"))])
        found = nuke.collect(module)
        (render,) = [item for item in found.items if item.source == "Write1"]
        assert len(render.files) == args.frames - 1 and render.missing == (first + 16,), render.missing
        paths = found.paths()
        print(f"machine: {os.cpu_count()} cores; one Write over {args.frames} frames, one missing\n")
        print(f"{'step':<34} {'baseline ms':>12} {'ours ms':>9} {'ratio':>7}")
        for name, base, ours in (
            ("collect (vs scan of the folder)", lambda: sequences.scan(str(folder)), lambda: nuke.collect(module)),
            ("stage collected (vs the folder)", lambda: stage_paths([str(folder)]), lambda: stage_paths(paths)),
        ):
            b = median_time(base, args.runs)
            o = median_time(ours, args.runs)
            print(f"{name:<34} {b * 1000:>12.1f} {o * 1000:>9.1f} {o / b:>6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
