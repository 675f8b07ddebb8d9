"""An encode can be cancelled and retried from its activity row, against the real embedded server."""

from __future__ import annotations

import json

from publisher.api import Session


def _job(server, job_id: str) -> tuple[str, dict]:
    check = Session(server.url, server.api_user, server.api_key)
    try:
        job = check.query(f'select status, data from Job where id is "{job_id}"').one()
        return job["status"], json.loads(job["data"])
    finally:
        check.close()


def _components(server, ids: list[str]) -> int:
    check = Session(server.url, server.api_user, server.api_key)
    try:
        quoted = ", ".join(f'"{i}"' for i in ids)
        return len(check.query(f"select id from Component where id in ({quoted})").all())
    finally:
        check.close()


def test_cancel_an_encode_from_its_row_then_retry_it(qtbot, window, tmp_path, make_movie, embedded_server):
    c = window.controller
    w = window.widget
    row = c.details.row
    # Long enough to be cancelled while it runs (the server checks four times a second).
    movie = make_movie(tmp_path / "long.mov", frames=900, size=(1280, 720))
    news: list[str] = []
    errors: list[str] = []
    c.statusMessage.connect(news.append)
    c.errorRaised.connect(errors.append)
    key = c.review.make_reviewable(row.id, str(movie), "long")
    item = c.activity_model.item(key)
    def running() -> bool:
        encode = c.activity_model.encode_for_job(str(item.data.get("job_id") or ""))
        return encode is not None and encode.state == "running"

    qtbot.waitUntil(running, timeout=120000)
    job_id = item.data["job_id"]
    # While it runs, the row says how long it has left, from the pace of its progress.
    encode = c.activity_model.encode_for_job(job_id)
    qtbot.waitUntil(lambda: "left" in encode.detail, timeout=60000)
    assert encode.detail.startswith("encoding on the server, about ") and item.detail == encode.detail
    with qtbot.waitSignal(c.jobFinished, timeout=120000) as ended:
        w.activity.cancelRequested.emit(key)  # the activity row's Cancel
    assert ended.args[0] == job_id and ended.args[1] == "failed"
    status, data = _job(embedded_server, job_id)
    assert status == "failed" and data["error"] == f"cancelled by {embedded_server.api_user}"
    # The encode stops at its next check and its half-made outputs go; the row says why, and
    # no error banner is raised for it.
    outputs = [o["component_id"] for o in data["output"]]
    qtbot.waitUntil(lambda: _components(embedded_server, outputs) == 0, timeout=30000)
    final_status, final_data = _job(embedded_server, job_id)
    assert final_status == "failed" and final_data["error"] == data["error"], "the server kept the client's reason"
    assert item.state == "failed" and "cancelled by" in c.activity_model.encode_for_job(job_id).detail
    assert "Review encode cancelled" in news
    assert not any("long.mov" in e or "cancelled" in e for e in errors)

    # Retry: a new encode of the same file, to the end.
    with qtbot.waitSignal(c.jobFinished, timeout=300000) as again:
        w.activity.retryRequested.emit(key)
    new_job, new_status, payload = again.args
    assert new_job != job_id and new_status == "done", payload
    retried = next(r for r in c.activity_model.publishes() if r.data.get("job_id") == new_job)
    assert retried.key != key and retried.data["media"] == str(movie) and retried.data["version_id"] == row.id
    assert _job(embedded_server, new_job)[0] == "done"


def test_cancel_and_retry_ignore_rows_that_are_not_running_or_failed_encodes(qtbot, window):
    c = window.controller
    assert c.review.cancel_encode("no such row") is False
    assert c.review.retry_encode("no such row") is None


def test_encode_time_left_follows_the_pace_of_progress():
    from publisher.ui.activity_model import ActivityItem
    from publisher.ui.review_controller import encode_time_left

    encode = ActivityItem("job", "encode", "Review encode", total=100)
    assert encode_time_left(encode) is None, "no pace yet"
    encode.set_done(10, now=100.0)
    encode.set_done(30, now=104.0)  # 5 % a second
    assert encode_time_left(encode) == 14.0
