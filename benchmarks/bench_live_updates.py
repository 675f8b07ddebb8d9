"""Live updates through the event hub: how soon the window shows a version another session
committed, and how many requests the job poller sends for a 30 s job with the hub up and down.

1. Latency: the window (``MainWindow``, offscreen) is open on a demo task with live updates on;
   another session, in a helper thread, creates a version on that task and commits, 100 times
   one after the other. Measured: from the moment ``commit()`` returned to the moment the row is
   in the window's version model (``rowsInserted``). Baseline in the same run: the one request
   the push makes the window send (``browse.version_details`` of that version, straight from a
   session), so the ratio says what the hub adds to the reload itself.
2. Poller: a Job is created over the API; a helper session moves its progress every second and
   sets it ``done`` after ``--seconds`` (30), as ``bench_poller.py`` does. Two pollers follow it at
   once: the window's, woken and fed by the hub (``live``), and a plain one (the hub down, as
   before). Requests are each poller's own counter; also printed: the progress reports each gave
   the window and how long after the end each saw it.

    python benchmarks/bench_live_updates.py [--commits 100] [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_note, start_server, table  # noqa: E402

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from publisher.api import Session  # noqa: E402
from publisher.publish import browse  # noqa: E402
from publisher.ui.job_poller import JobPoller  # noqa: E402


def _wait(condition, timeout: float) -> bool:
    """Run the Qt event loop until ``condition()`` or ``timeout`` seconds."""
    loop = QEventLoop()
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        QTimer.singleShot(5, loop.quit)
        loop.exec()
    return bool(condition())


def latency(server, commits: int, tmp: Path) -> tuple[list[float], list[float]]:
    from publisher.ui.window import MainWindow

    session = Session(server.url, server.api_user, server.api_key)
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(session, settings=settings, outbox=None)
    window.show()
    controller = window.controller
    window.start()
    if not _wait(lambda: window.live.on and controller.version_model.rowCount() > 0, 60):
        raise SystemExit(f"the window did not load or live updates are off: {window.live.text}")
    model = controller.version_model
    first = model.row_at(0)
    seen: dict[str, float] = {}

    def inserted(_parent, start: int, end: int) -> None:
        for row in range(start, end + 1):
            seen.setdefault(model.row_at(row).id, time.perf_counter())

    model.rowsInserted.connect(inserted)
    other = Session(server.url, server.api_user, server.api_key)
    lags, reloads = [], []
    for _ in range(commits):
        done: dict[str, float | str] = {}

        def commit() -> None:
            version = other.create("AssetVersion", {"asset_id": first.asset_id, "task_id": first.task_id})
            other.commit()
            done["at"] = time.perf_counter()
            done["id"] = version["id"]

        helper = threading.Thread(target=commit)
        helper.start()
        if not _wait(lambda: "id" in done and done["id"] in seen, 10):
            raise SystemExit("a committed version did not appear in the window within 10 s")
        helper.join()
        lags.append(seen[done["id"]] - done["at"])
        began = time.perf_counter()
        browse.version_details(other, str(done["id"]))
        reloads.append(time.perf_counter() - began)
    window.close()
    other.close()
    session.close()
    return lags, reloads


def _update(session: Session, job_id: str, status: str, progress: int) -> None:
    data = json.dumps({"output": [], "progress": progress})
    session.call([{"action": "update", "entity_type": "Job", "entity_key": [job_id],
                   "entity_data": {"__entity_type__": "Job", "status": status, "data": data}}])


def poller_requests(server, seconds: float, tmp: Path) -> list[list]:
    from publisher.ui.window import MainWindow

    session = Session(server.url, server.api_user, server.api_key)
    settings = QSettings(str(tmp / "settings-jobs.ini"), QSettings.Format.IniFormat)
    window = MainWindow(session, settings=settings, outbox=None)
    controller = window.controller
    window.start()
    if not _wait(lambda: window.live.on and controller.live_jobs, 60):
        raise SystemExit(f"live updates are off: {window.live.text}")
    user = session.query(f'User where username is "{server.api_user}"').one()
    job = session.create("Job", {"user": user, "status": "running", "data": json.dumps({"output": [], "progress": 0})})
    session.commit()
    job_id = str(job["id"])
    mover = Session(server.url, server.api_user, server.api_key)

    controller._follow_job(job_id, None)  # the window's own path: a live poller
    live = controller.job_poller(job_id)
    plain = JobPoller(session, job_id)  # the hub down: polls as before
    reports = {"live": 0, "plain": 0}
    ends: dict[str, float] = {}
    live.signals.progress.connect(lambda *_a: reports.__setitem__("live", reports["live"] + 1))
    plain.signals.progress.connect(lambda *_a: reports.__setitem__("plain", reports["plain"] + 1))
    live.signals.finished.connect(lambda *_a: ends.setdefault("live", time.perf_counter()))
    plain.signals.finished.connect(lambda *_a: ends.setdefault("plain", time.perf_counter()))
    controller.long_pool.start(plain)
    ended = {}

    def move() -> None:
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            _update(mover, job_id, "running", int(100 * elapsed / seconds))
            time.sleep(min(1.0, seconds - elapsed))
        _update(mover, job_id, "done", 100)
        ended["at"] = time.perf_counter()

    helper = threading.Thread(target=move, daemon=True)
    helper.start()
    _wait(lambda: len(ends) == 2, seconds + 60)
    helper.join(10)
    end = ended.get("at", float("nan"))
    rows = [["hub up (live: pushed, woken)", live.requests, reports["live"], ends.get("live", float("nan")) - end],
            ["hub down (polls as before)", plain.requests, reports["plain"], ends.get("plain", float("nan")) - end]]
    plain.cancel()
    window.close()
    mover.close()
    session.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=100, help="versions committed by another session (100)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the job runs (30)")
    args = parser.parse_args(argv)

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("ftrack-publisher-bench")
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp_name:
        tmp = Path(tmp_name)
        server = start_server(tmp / "server", tmp / "record.jsonl")
        try:
            lags, reloads = latency(server, args.commits, tmp)
            rows = poller_requests(server, args.seconds, tmp)
        finally:
            server.stop()

    lag, reload = statistics.median(lags), statistics.median(reloads)
    print(f"Commit -> window update, {len(lags)} versions committed by another session")
    print(table(["", "median (ms)", "p90 (ms)", "max (ms)"], [
        ["commit -> row in the window (hub)", lag * 1000, sorted(lags)[int(len(lags) * 0.9) - 1] * 1000, max(lags) * 1000],
        ["baseline: the one reload request", reload * 1000, sorted(reloads)[int(len(reloads) * 0.9) - 1] * 1000,
         max(reloads) * 1000],
    ]))
    print(f"ratio latency / reload: {lag / reload:.2f}")
    print()
    print(f"Job poller for a job that runs {args.seconds:g} s (progress moved every second)")
    print(table(["poller", "requests", "progress reports", "saw the end after (s)"], rows))
    live_requests, plain_requests = rows[0][1], rows[1][1]
    print(f"ratio requests hub up / hub down: {live_requests / plain_requests:.2f}  ({live_requests} vs {plain_requests})")
    print(machine_note())
    return 0


if __name__ == "__main__":
    sys.exit(main())
