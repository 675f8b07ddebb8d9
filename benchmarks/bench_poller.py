"""How many requests the window's job poller sends for an encode job that takes 30 s.

A Job is created over the API (status ``running``); a helper thread on another session moves its
``progress`` every second and sets it ``done`` after ``--seconds`` (30). Two pollers follow the
same job at the same time: the window's :class:`~publisher.ui.job_poller.JobPoller` (0.5 s rising
by 1.5x to 5 s) and, as the baseline, the same poller with a fixed 0.5 s delay. Requests are
counted from the server's ``--record`` file (queries naming the job; the helper only sends
updates) and by each poller's own counter. Also printed: how long after the job ended each
poller saw it (the price of backing off). Goal: at most 20 requests.

    python benchmarks/bench_poller.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RecordFile, machine_note, start_server, table, verdict  # noqa: E402

from PySide6.QtCore import QCoreApplication, QEventLoop, QThreadPool, QTimer  # noqa: E402

from publisher.api import Session  # noqa: E402
from publisher.ui.job_poller import JobPoller  # noqa: E402

GOAL = 20


def _update(session: Session, job_id: str, status: str, progress: int) -> None:
    data = json.dumps({"output": [], "progress": progress})
    session.call([{"action": "update", "entity_type": "Job", "entity_key": [job_id],
                   "entity_data": {"__entity_type__": "Job", "status": status, "data": data}}])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the job runs (30)")
    args = parser.parse_args(argv)

    app = QCoreApplication.instance() or QCoreApplication([sys.argv[0]])
    app.setApplicationName("ftrack-publisher")
    with tempfile.TemporaryDirectory(prefix="bench-poller-") as tmp:
        record = RecordFile(Path(tmp) / "record.jsonl")
        server = start_server(Path(tmp) / "server", record.path)
        try:
            owner = Session(server.url, server.api_user, server.api_key)
            user = owner.query(f'User where username is "{server.api_user}"').one()
            job = owner.create("Job", {"user": user, "status": "running",
                                       "data": json.dumps({"output": [], "progress": 0})})
            owner.commit()
            job_id = str(job["id"])
            mover = Session(server.url, server.api_user, server.api_key)

            pool = QThreadPool()
            pool.setMaxThreadCount(4)
            pollers = {
                "backoff 0.5 s x1.5 to 5 s (JobPoller)": JobPoller(owner, job_id),
                "fixed 0.5 s (baseline)": JobPoller(owner, job_id, backoff=1.0, max_delay=0.5),
            }
            seen_end: dict[str, float] = {}
            loop = QEventLoop()
            for name, poller in pollers.items():
                poller.signals.finished.connect(
                    lambda *_a, n=name: (seen_end.setdefault(n, time.perf_counter()),
                                         len(seen_end) == len(pollers) and loop.quit()))
                poller.signals.failed.connect(lambda _j, m: (print("poller failed:", m), loop.quit()))
            ended = {}

            def move() -> None:
                start = time.perf_counter()
                while True:
                    elapsed = time.perf_counter() - start
                    if elapsed >= args.seconds:
                        break
                    _update(mover, job_id, "running", int(100 * elapsed / args.seconds))
                    time.sleep(min(1.0, args.seconds - elapsed))
                _update(mover, job_id, "done", 100)
                ended["at"] = time.perf_counter()

            mark = record.lines()
            started = time.perf_counter()
            for poller in pollers.values():
                pool.start(poller)
            helper = threading.Thread(target=move, daemon=True)
            helper.start()
            guard = QTimer()
            guard.setSingleShot(True)
            guard.timeout.connect(loop.quit)
            guard.start(int((args.seconds + 60) * 1000))
            loop.exec()
            helper.join(10)
            for poller in pollers.values():
                poller.cancel()
                poller.wait_ended(10)
            entries = record.entries(mark)
            queries = sum(1 for e in entries for op in (e.get("operations") or [])
                          if op.get("action") == "query" and job_id in op.get("expression", ""))
            mover.close()
            owner.close()
        finally:
            server.stop()

    end = ended.get("at", float("nan"))
    rows = []
    for name, poller in pollers.items():
        lag = seen_end.get(name, float("nan")) - end
        rows.append([name, poller.requests, f"{lag:.2f}"])
    ours, base = (p.requests for p in pollers.values())
    print(f"Job poller requests for a job that runs {args.seconds:g} s (the job ended "
          f"{end - started:.1f} s after the pollers started)")
    print(table(["poller", "requests", "saw the end after (s)"], rows))
    print(f"server record: {queries} job queries from both pollers (counters say {ours + base})")
    print(f"ratio backoff / fixed 0.5 s: {ours / base:.2f}  ({ours} vs {base})")
    print(f"goal: at most {GOAL} requests -> {verdict(ours <= GOAL)}")
    print(machine_note())
    return 0 if ours <= GOAL and queries == ours + base else 1


if __name__ == "__main__":
    sys.exit(main())
