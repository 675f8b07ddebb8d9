"""The longest GUI-thread stall of the window while a 1 GiB file uploads and a 100-frame encode runs.

An offscreen :class:`~publisher.ui.window.MainWindow` on an embedded server (a child process, as
in the app). A ``QTimer`` heartbeat on the GUI thread ticks every 5 ms and records the gaps
between ticks during three phases of the same run:

- idle (the baseline): the window loaded and doing nothing;
- upload: a 1 GiB file (sparse, in a temp folder, deleted after) dropped on the selected version
  and published through the window (``--size`` in MiB for quick runs);
- encode: "Make reviewable" with a 100-frame movie (``--width``x``--height``, made with PyAV
  before the phase): the movie is uploaded, the server encodes it, the job poller follows it.

For each phase it prints the longest gap, the 99th percentile and their ratios to the idle
baseline. Goal: the longest stall under 50 ms while uploading and encoding.

    python benchmarks/bench_gui_stall.py [--size 1024] [--frames 100] [--idle 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_note, table, verdict  # noqa: E402

from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from publisher.embedded import EmbeddedServer  # noqa: E402

GOAL_MS = 50.0
TICK_MS = 5


class Heartbeat:
    """A GUI-thread timer that records the time between its ticks."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self.at: list[float] = []
        self._last: float | None = None
        self._start = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append(now - self._last)
            self.at.append(self._last - self._start)
        self._last = now

    def start(self) -> None:
        self.gaps = []
        self.at = []
        self._last = None
        self._start = time.perf_counter()
        self.timer.start()

    def worst(self, n: int = 5) -> str:
        """The ``n`` longest gaps and when (seconds into the phase) they began."""
        pairs = sorted(zip(self.gaps, self.at), reverse=True)[:n]
        return ", ".join(f"{1000 * g:.0f} ms at {t:.2f} s" for g, t in pairs)

    def stop(self) -> list[float]:
        self.timer.stop()
        return self.gaps


def wait_for(signal, timeout_s: float, start=None) -> bool:
    """Run the event loop until ``signal`` fires (True) or the timeout passes (False)."""
    loop = QEventLoop()
    fired = {"ok": False}

    def done(*_args) -> None:
        fired["ok"] = True
        loop.quit()

    signal.connect(done)
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)
    guard.start(int(timeout_s * 1000))
    if start is not None:
        QTimer.singleShot(0, start)
    loop.exec()
    signal.disconnect(done)
    return fired["ok"]


def run_for(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def make_movie(path: Path, frames: int, width: int, height: int) -> Path:
    """A ``frames``-frame H.264 movie with moving gradients (so the encoder has real work)."""
    import av
    import numpy as np

    ys, xs = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "18"}
        for i in range(frames):
            rgb = np.stack([(xs + 7 * i) % 256, (ys + 3 * i) % 256, ((xs + ys) // 4 + i) % 256], axis=-1)
            frame = av.VideoFrame.from_ndarray(rgb.astype("uint8"), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def stats(gaps: list[float]) -> tuple[float, float, int]:
    if not gaps:
        return float("nan"), float("nan"), 0
    ordered = sorted(gaps)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return 1000 * ordered[-1], 1000 * p99, len(gaps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="file size in MiB (1024)")
    parser.add_argument("--frames", type=int, default=100, help="frames of the review movie (100)")
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle baseline (5)")
    parser.add_argument("--verbose", action="store_true", help="also print each phase's longest gaps and when")
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="sys.setswitchinterval for this process (seconds; Python's default 0.005)")
    args = parser.parse_args(argv)
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("ftrack-publisher")
    from publisher.api import Session
    from publisher.ui.drop_zone import DropTarget
    from publisher.ui.window import MainWindow

    results: dict[str, tuple[float, float, int]] = {}
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-gui-stall-") as tmp_name:
        tmp = Path(tmp_name)
        server = EmbeddedServer(tmp / "server")
        server.start()
        window = None
        try:
            session = Session(server.url, server.api_user, server.api_key)
            settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
            from publisher.publish.outbox import Outbox

            window = MainWindow(session, settings=settings, outbox=Outbox(tmp / "outbox"))
            window.show()
            c = window.controller
            errors: list[str] = []
            c.errorRaised.connect(errors.append)
            if not wait_for(c.versionsLoaded, 60, window.start):
                raise SystemExit("the window did not load its versions within 60 s")
            while c.details is None:
                run_for(0.1)
            version = c.details.row
            heart = Heartbeat()

            def measure(phase: str, run):
                """``run()`` with the heartbeat on, keeping the phase's gap figures; (seconds, result)."""
                heart.start()
                t0 = time.perf_counter()
                result = run()
                elapsed = time.perf_counter() - t0
                results[phase] = stats(heart.stop())
                if args.verbose:
                    print(phase, "worst gaps:", heart.worst(), file=sys.stderr)
                return elapsed, result

            # Idle baseline.
            measure("idle (baseline)", lambda: run_for(args.idle))

            # Upload through the window.
            big = tmp / "plate_1GiB.bin"
            with open(big, "wb") as fh:
                fh.truncate(args.size * 1024 * 1024)
            c.select_version(version)
            if not wait_for(c.staged, 30, lambda: c.drop([str(big)], DropTarget("current"))):
                raise SystemExit("the drop was not staged")
            timings["upload"], ok = measure(f"upload {args.size} MiB", lambda: wait_for(
                c.publishFinished, 1800, lambda: c.publish("bench")))
            big.unlink()
            if not ok:
                raise SystemExit(f"the publish did not finish: {errors[-1:] or 'timeout'}")

            # Encode, followed by the job poller.
            movie = make_movie(tmp / "review.mp4", args.frames, args.width, args.height)
            timings["encode"], ok = measure(f"encode {args.frames} frames {args.width}x{args.height}", lambda: wait_for(
                c.jobFinished, 1800, lambda: c.make_reviewable(version.id, str(movie))))
            if not ok:
                raise SystemExit(f"the encode did not finish: {errors[-1:] or 'timeout'}")
            encode_row = next(i for i in c.activity_model.publishes() if i.kind == "review")
            if encode_row.state != "done":
                raise SystemExit(f"the encode failed: {encode_row.detail}")
        finally:
            if window is not None:
                window.close()
            server.stop()

    idle_max, idle_p99, _ = results["idle (baseline)"]
    rows = []
    for name, (longest, p99, ticks) in results.items():
        rows.append([name, ticks, f"{longest:.1f}", f"{p99:.1f}", f"{longest / idle_max:.2f}", f"{p99 / idle_p99:.2f}"])
    print(f"GUI-thread heartbeat every {TICK_MS} ms (gaps between ticks, ms)")
    print(table(["phase", "ticks", "longest", "p99", "longest / idle", "p99 / idle"], rows))
    print(f"upload took {timings['upload']:.1f} s ({args.size / timings['upload']:.0f} MiB/s), "
          f"encode (upload of the movie + server encode + poll) {timings['encode']:.1f} s")
    worst = max(v[0] for k, v in results.items() if not k.startswith("idle"))
    print(f"goal: longest stall under {GOAL_MS:.0f} ms while uploading and encoding -> "
          f"{verdict(worst < GOAL_MS)} (worst {worst:.1f} ms)")
    print(machine_note())
    return 0 if worst < GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
