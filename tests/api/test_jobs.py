"""Job.reload / Job.wait against a real embedded server, with jobs moved on by a second session."""

from __future__ import annotations

import json
import threading

import pytest

from publisher.api import JobFailedError, Session
from publisher.api.job import JobTimeoutError, decode_data, job_progress


def _api_job(session: Session, status: str = "running", **data) -> object:
    user = session.query(f'select id from User where username is "{session.api_user}"').first()
    values = {"status": status, "data": json.dumps(data)}
    if user is not None:
        values["user"] = user
    job = session.create("Job", values)
    session.commit()
    return job


def _set_job(other: Session, job_id: str, status: str, **data) -> None:
    job = other.get("Job", job_id)
    job["status"] = status
    job["data"] = json.dumps(data)
    other.commit()


def test_reload_fetches_status_and_data_changed_elsewhere(session):
    job = _api_job(session, progress=10)
    other = session.clone()
    _set_job(other, job["id"], "running", progress=55, output=[{"format": "video/mp4", "component_id": "c1"}])
    job.reload()
    assert job["status"] == "running"
    assert job.progress == 55
    assert job.outputs == [{"format": "video/mp4", "component_id": "c1"}]
    assert not job.is_finished


def test_wait_polls_until_done_and_reports_progress(session):
    job = _api_job(session, progress=40)
    other = session.clone()
    seen: list[tuple[int, str]] = []
    first_poll = threading.Event()

    def on_progress(percent: int, status: str) -> None:
        seen.append((percent, status))
        first_poll.set()

    def finish_later() -> None:
        first_poll.wait(30)
        _set_job(other, job["id"], "done", progress=100)

    worker = threading.Thread(target=finish_later)
    worker.start()
    try:
        assert job.wait(timeout=60, on_progress=on_progress) is job
    finally:
        worker.join(30)
    assert seen[0] == (40, "running")
    assert seen[-1] == (100, "done")
    assert job.is_done and job.error is None


def test_wait_raises_with_the_servers_reason_when_the_job_fails(session):
    job = _api_job(session, progress=0)
    _set_job(session.clone(), job["id"], "failed", error="the source is not a movie or an image")
    with pytest.raises(JobFailedError, match="not a movie or an image"):
        job.wait(timeout=30)
    assert job.is_failed
    assert job.error == "the source is not a movie or an image"


def test_wait_times_out_with_a_clear_error(session):
    job = _api_job(session, progress=5)
    with pytest.raises(JobTimeoutError, match="still running") as raised:
        job.wait(timeout=0.8)
    assert isinstance(raised.value, TimeoutError)


def test_wait_stops_early_when_cancelled(session):
    job = _api_job(session, progress=5)
    cancel = threading.Event()
    cancel.set()
    assert job.wait(timeout=30, cancel=cancel) is job
    assert job["status"] == "running"


def test_progress_and_outputs_tolerate_missing_or_bad_data(session):
    job = _api_job(session, status="queued")
    _set_job(session.clone(), job["id"], "queued")
    other = session.clone()
    raw = other.get("Job", job["id"])
    raw["data"] = "not json"
    other.commit()
    job.reload()
    assert job.progress == 0 and job.outputs == [] and job.payload == {}


@pytest.mark.parametrize("raw, expected", [
    (None, {}), ("", {}), ("not json", {}), ("[1, 2]", {}), ('{"progress": 40}', {"progress": 40}),
    ({"progress": 7}, {"progress": 7}),
])
def test_decode_data_gives_a_dict_for_any_data(raw, expected):
    assert decode_data(raw) == expected


@pytest.mark.parametrize("status, payload, expected", [
    ("done", {}, 100), ("running", {"progress": 40}, 40), ("running", {"progress": 140}, 100),
    ("running", {"progress": -3}, 0), ("running", {"progress": "lots"}, 0), ("queued", {}, 0),
])
def test_job_progress_is_clamped_and_full_once_done(status, payload, expected):
    assert job_progress(status, payload) == expected
