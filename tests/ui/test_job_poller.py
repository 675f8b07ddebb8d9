"""The job poller against a real server: progress, the end of a job, backoff, and giving up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool

from publisher.api import Session
from publisher.ui.job_poller import JobPoller


def _job_requests(record: Path, job_id: str) -> int:
    """Requests in the server's record that asked about ``job_id``."""
    if not record.exists():
        return 0
    count = 0
    for line in record.read_text().splitlines():
        entry = json.loads(line)
        if any(job_id in json.dumps(op) and op.get("action") == "query" for op in entry.get("operations") or []):
            count += 1
    return count


@pytest.fixture
def recorded(server_factory, tmp_path):
    record = tmp_path / "record.jsonl"
    server = server_factory(extra_args=["--record", str(record)])
    session = Session(server.url, server.api_user, server.api_key)
    yield server, session, record
    session.close()


def _create_job(session, status: str = "running", progress: int = 0) -> str:
    user = session.query(f'User where username is "{session.api_user}"').one()
    job = session.create("Job", {"user": user, "status": status,
                                 "data": json.dumps({"progress": progress, "output": []})})
    session.commit()
    return str(job["id"])


def _set(session, job_id: str, status: str, **data) -> None:
    job = session.get("Job", job_id)
    job["status"] = status
    job["data"] = json.dumps({"output": [], **data})
    session.commit()


def test_poller_reports_progress_then_the_end_and_stops_polling(qtbot, recorded):
    server, session, record = recorded
    job_id = _create_job(session, progress=10)
    poller = JobPoller(session, job_id, first_delay=0.05, max_delay=0.2)
    seen: list[tuple[str, int]] = []
    poller.signals.progress.connect(lambda _j, status, pct: seen.append((status, pct)))
    with qtbot.waitSignal(poller.signals.progress, timeout=10000):
        QThreadPool.globalInstance().start(poller)
    _set(session, job_id, "running", progress=60)
    qtbot.waitUntil(lambda: ("running", 60) in seen, timeout=10000)
    with qtbot.waitSignal(poller.signals.finished, timeout=10000) as finished:
        _set(session, job_id, "done", progress=100)
    assert finished.args[0] == job_id and finished.args[1] == "done"
    assert seen[0] == ("running", 10) and seen[-1] == ("done", 100)
    assert poller.wait_ended(5)
    after_end = _job_requests(record, job_id)
    assert after_end == poller.requests > 0, "every poll is one request, and only the poller asked"
    qtbot.wait(800)  # four times the longest delay: a poller still running would have asked again
    assert _job_requests(record, job_id) == after_end


def test_failed_job_reports_the_servers_message(qtbot, recorded):
    _server, session, _record = recorded
    job_id = _create_job(session)
    _set(session, job_id, "failed", error="The movie is damaged: re-export it.")
    poller = JobPoller(session, job_id, first_delay=0.05)
    with qtbot.waitSignal(poller.signals.finished, timeout=10000) as finished:
        QThreadPool.globalInstance().start(poller)
    assert finished.args[1] == "failed"
    assert finished.args[2]["error"] == "The movie is damaged: re-export it."


def test_cancel_stops_a_poller_that_is_waiting(qtbot, recorded):
    _server, session, record = recorded
    job_id = _create_job(session)
    poller = JobPoller(session, job_id, first_delay=30.0)  # would sleep 30 s after the first poll
    with qtbot.waitSignal(poller.signals.progress, timeout=10000):
        QThreadPool.globalInstance().start(poller)
    with qtbot.waitSignal(poller.signals.stopped, timeout=2000):
        poller.cancel()
    assert poller.requests == 1 == _job_requests(record, job_id)


def test_unknown_job_and_unreachable_server_end_with_a_message(qtbot, recorded):
    server, session, _record = recorded
    missing = JobPoller(session, "00000000-0000-0000-0000-000000000000", first_delay=0.05)
    with qtbot.waitSignal(missing.signals.failed, timeout=10000) as lost:
        QThreadPool.globalInstance().start(missing)
    assert "no longer exists" in lost.args[1]

    job_id = _create_job(session)
    server.kill()
    poller = JobPoller(session, job_id, first_delay=0.02, max_delay=0.05, max_errors=3)
    with qtbot.waitSignal(poller.signals.failed, timeout=20000) as failed:
        QThreadPool.globalInstance().start(poller)
    assert "Cannot reach the ftrack server" in failed.args[1]
    assert poller.requests == 3


def test_backoff_delays_rise_to_the_cap():
    poller = JobPoller(None, "x")
    delays = poller.delays()
    first = [next(delays) for _ in range(10)]
    assert first[0] == 0.5 and first[1] == 0.75
    assert first == sorted(first) and first[-1] == 5.0
    # A job of 30 s is seen with at most this many polls (the goal is 20).
    elapsed, polls = 0.0, 1
    delays = poller.delays()
    while elapsed < 30:
        elapsed += next(delays)
        polls += 1
    assert polls <= 12
