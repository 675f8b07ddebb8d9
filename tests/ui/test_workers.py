"""The worker base: outcomes cross the thread as objects, and the window words errors by type."""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from PySide6.QtCore import QThreadPool

import publisher.ui
from publisher.api.exceptions import AuthenticationError, ServerConnectionError
from publisher.publish import events as ev
from publisher.publish.errors import PublishError
from publisher.ui.activity_model import ActivityModel
from publisher.ui.error_messages import describe_error, is_unreachable
from publisher.ui.workers import Worker, WorkerPool


def _raise(_session, error: BaseException):
    raise error


def test_the_exception_object_crosses_the_thread(qtbot):
    error = AuthenticationError("The ftrack server at http://h refused user 'ann'. Check FTRACK_API_USER "
                                "and FTRACK_API_KEY or the settings.")
    pool = WorkerPool()
    worker = Worker(_raise, error)
    with qtbot.waitSignal(worker.signals.errored, timeout=5000) as errored:
        pool.start(worker)
    assert errored.args[0] is error
    qtbot.waitUntil(lambda: pool.active() == 0, timeout=5000)


def test_a_worker_reports_progress_then_its_result_in_the_gui_thread(qtbot):
    seen: list[tuple[object, bool]] = []
    gui = threading.current_thread()

    def body(_session, *, worker):
        worker.report(1)
        worker.report(2)
        return "done"

    worker = Worker(body, pass_worker=True)
    worker.signals.reported.connect(lambda v: seen.append((v, threading.current_thread() is gui)))
    with qtbot.waitSignal(worker.signals.ended, timeout=5000):
        with qtbot.waitSignal(worker.signals.returned, timeout=5000) as returned:
            QThreadPool.globalInstance().start(worker)
    assert returned.args[0] == "done"
    assert seen == [(1, True), (2, True)]


def test_a_cancelled_worker_sends_no_outcome_but_still_ends(qtbot):
    release = threading.Event()
    outcomes: list[object] = []

    def body(_session, *, worker):
        release.wait(5)
        raise RuntimeError("too late")

    worker = Worker(body, pass_worker=True)
    worker.signals.returned.connect(outcomes.append)
    worker.signals.errored.connect(outcomes.append)
    with qtbot.waitSignal(worker.signals.ended, timeout=5000):
        QThreadPool.globalInstance().start(worker)
        worker.cancel()
        release.set()
    qtbot.wait(50)
    assert outcomes == [] and worker.wait_ended(1)


@pytest.mark.parametrize("error, expected", [
    (ServerConnectionError("The ftrack server at http://h could not be reached (refused)."),
     "Cannot reach the ftrack server at http://h: The ftrack server at http://h could not be reached (refused). "
     "Check that it is running"),
    (requests.ConnectionError("boom"), "Cannot reach the ftrack server at http://h. Check that it is running"),
    (requests.Timeout("slow"), "The ftrack server took too long to answer. Press F5 to retry."),
    (AuthenticationError("The ftrack server at http://h refused user 'ann'. Check FTRACK_API_USER and "
                         "FTRACK_API_KEY or the settings."),
     "or the settings, then restart the publisher."),
    (FileNotFoundError(2, "No such file or directory", "/gone/plate.exr"),
     "Check the path exists and that you may read it."),
])
def test_errors_are_worded_by_their_type(error, expected):
    assert expected in describe_error(error, "http://h")


def test_words_in_a_message_do_not_change_its_kind():
    # A publish failure whose text happens to say "auth" or "connection refused" is no
    # authentication or connection error: it is shown as the engine worded it.
    error = PublishError("The author field of 'plate' was refused by the connection rules: rename it.")
    assert describe_error(error, "http://h") == str(error)
    assert not is_unreachable(error)


def test_an_unreachable_server_is_found_behind_the_engines_error():
    try:
        try:
            raise ServerConnectionError("down", server_url="http://h")
        except ServerConnectionError as cause:
            raise PublishError("The publish stopped: the server went away.") from cause
    except PublishError as error:
        assert is_unreachable(error)


@dataclass(frozen=True)
class _NotAnEngineEvent:
    name: str


def test_activity_rows_follow_events_by_their_type(qtmodeltester):
    model = ActivityModel()
    qtmodeltester.check(model)
    top = model.add_publish("p", "Publish to plate v001", components=[("plate", 100)])
    assert model.apply_event("p", ev.PublishStarted(100, ["plate"])) is None
    assert model.apply_event("p", ev.ComponentStarted("plate", 100)) is None
    assert model.apply_event("p", _NotAnEngineEvent("plate")) is None  # shown nowhere, changes nothing
    assert model.item(f"{top.key}/transfer:plate").state == "running"
    assert model.apply_event("p", ev.EncodeQueued("job-1")) == "job-1"
    assert model.encode_for_job("job-1") is not None
    model.apply_event("p", ev.PublishCancelledEvent("Cancelled; nothing is left on the server."))
    assert top.state == "cancelled" and top.detail == "Cancelled; nothing is left on the server."
    model.apply_event("p", ev.PublishFailed("Cancelled; nothing is left on the server."))
    assert top.state == "cancelled", "the failure that follows a cancel does not turn it into a failure"
    qtmodeltester.check(model)


CONTROLLERS = ["browse_controller.py", "staging_controller.py", "publish_queue.py", "review_controller.py",
               "controller.py", "workers.py", "job_poller.py", "error_messages.py", "controller_tasks.py"]


@pytest.mark.parametrize("name", CONTROLLERS)
def test_controllers_and_workers_hold_no_widgets(name):
    tree = ast.parse((Path(publisher.ui.__file__).parent / name).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not any("QtWidgets" in (module or "") for module in imported)
    assert not any(m and m.startswith("publisher.ui.") and m.endswith(("_panel", "_zone", "_dialog", "window"))
                   for m in imported)
