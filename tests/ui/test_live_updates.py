"""Live updates in the window: other people's versions appear, change and go without a
refresh, job updates wake the poller, ftrack Actions open the window at a context, and a
server without a hub is not an error."""

from __future__ import annotations

import http.server
import json
import threading
import uuid

import pytest

from publisher.api import Session
from publisher.api.event_hub import EventHub, make_event
from publisher.ui.live_events import ACTION_IDENTIFIER, ACTION_LABEL
from publisher.ui.live_updates import HubConnection


@pytest.fixture
def other(embedded_server):
    """Another person's session on the same server."""
    with Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key) as session:
        yield session


@pytest.fixture
def live_window(qtbot, window):
    qtbot.waitUntil(lambda: window.live.on, timeout=10000)
    return window


def test_status_bar_says_live_updates_are_on(live_window) -> None:
    assert "Live updates on" in live_window.live.label.text()
    assert live_window.statusBar().isAncestorOf(live_window.live.label)


def test_a_version_committed_elsewhere_appears_changes_and_goes_without_a_refresh(qtbot, live_window, other) -> None:
    controller = live_window.controller
    model = controller.version_model
    generation = model.generation  # a refresh (F5, a new context) would start a new one
    first = model.row_at(0)
    version = other.create("AssetVersion", {"asset_id": first.asset_id, "task_id": first.task_id,
                                            "comment": "from another artist"})
    other.commit()
    qtbot.waitUntil(lambda: model.row_for_id(version["id"]) >= 0, timeout=1000)
    assert model.row_at(model.row_for_id(version["id"])).comment == "from another artist"

    status = other.query('select id, name from Status where name is "Approved"').first() or \
        other.query("select id, name from Status").all()[-1]
    version["status_id"] = status["id"]
    other.commit()
    qtbot.waitUntil(lambda: model.row_at(model.row_for_id(version["id"])).status_name == status["name"], timeout=2000)

    other.delete(version)
    other.commit()
    qtbot.waitUntil(lambda: model.row_for_id(version["id"]) < 0, timeout=2000)
    assert model.generation == generation


def test_a_job_update_wakes_its_poller(qtbot, live_window, other) -> None:
    controller = live_window.controller
    qtbot.waitUntil(lambda: controller.live_jobs, timeout=5000)
    job = other.create("Job", {"status": "queued", "data": json.dumps({"progress": 0})})
    other.commit()
    controller.review.follow_job(job["id"], None)
    poller = controller.job_poller(job["id"])
    assert poller is not None and poller.live
    qtbot.waitUntil(lambda: poller.requests == 1 and poller.status == "queued", timeout=5000)

    # Live: the poller now waits 10 s between polls; the hub's push shows the change at once.
    # (The first poll's "queued" report may still be on its way to the GUI thread: skip it.)
    with qtbot.waitSignal(poller.signals.progress, timeout=2000,
                          check_params_cb=lambda _job, status, _percent: status != "queued") as progress:
        job["status"] = "running"
        job["data"] = json.dumps({"progress": 40})
        other.commit()
    assert progress.args == [job["id"], "running", 40]
    assert poller.requests == 1  # shown from the push, no request

    with qtbot.waitSignal(poller.signals.finished, timeout=3000) as finished:
        job["status"] = "done"
        job["data"] = json.dumps({"progress": 100})
        other.commit()
    assert finished.args[1] == "done"
    assert poller.requests == 2  # a finished status is confirmed by one poll


def test_actions_discover_and_launch_open_the_window_at_a_context(qtbot, live_window, embedded_server, other) -> None:
    controller = live_window.controller
    version = other.query("select id, task_id from AssetVersion where task_id != null").first()
    task_id = version["task_id"]
    actions = EventHub(embedded_server.url, embedded_server.api_user, embedded_server.api_key)
    actions.connect()
    try:
        replies = []
        selection = [{"entityType": "task", "entityId": task_id}]
        actions.publish(make_event("ftrack.action.discover", {"selection": selection}), on_reply=replies.append)
        qtbot.waitUntil(lambda: (actions.wait(0.05), bool(replies))[1], timeout=5000)
        assert replies[0]["data"]["items"][0]["label"] == ACTION_LABEL

        nothing = []
        project = [{"entityType": "show", "entityId": other.query("select id from Project").first()["id"]}]
        actions.publish(make_event("ftrack.action.discover", {"selection": project}), on_reply=nothing.append)

        launched = []
        selection = [{"entityType": "assetversion", "entityId": version["id"]}]
        actions.publish(make_event("ftrack.action.launch", {"actionIdentifier": ACTION_IDENTIFIER,
                                                            "selection": selection}), on_reply=launched.append)
        qtbot.waitUntil(lambda: controller.context is not None and controller.context.id == task_id
                        and controller.version_id == version["id"], timeout=10000)
        qtbot.waitUntil(lambda: (actions.wait(0.05), bool(launched))[1], timeout=5000)
        assert launched[0]["data"]["success"] is True
        assert nothing == []
    finally:
        actions.disconnect()


class _NoHub(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_a_server_without_a_hub_turns_live_updates_off_quietly(qtbot) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NoHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        connection = HubConnection(f"http://127.0.0.1:{server.server_address[1]}", "u", "k")
        states = []
        connection.stateChanged.connect(lambda on, text: states.append((on, text)))
        with qtbot.waitSignal(connection.finished, timeout=5000):
            connection.run()
        assert states == [(False, "Live updates off: this server has no event hub")]
    finally:
        server.shutdown()
        server.server_close()


def test_a_hub_that_does_not_answer_is_tried_again_until_stopped(qtbot) -> None:
    connection = HubConnection("http://127.0.0.1:9", "u", "k")
    states = []
    connection.stateChanged.connect(lambda on, text: states.append((on, text)))
    worker = threading.Thread(target=connection.run, daemon=True)
    worker.start()
    try:
        qtbot.waitUntil(lambda: bool(states), timeout=10000)
    finally:
        connection.stop()
        worker.join(5)
    assert not worker.is_alive()
    assert states[0][0] is False and "trying again" in states[0][1]


def test_wrong_key_turns_live_updates_off_with_the_reason(qtbot, server_factory) -> None:
    # A server of its own: wrong keys count towards the server's login throttle per address.
    server = server_factory()
    connection = HubConnection(server.url, server.api_user, "wrong-" + uuid.uuid4().hex)
    states = []
    connection.stateChanged.connect(lambda on, text: states.append((on, text)))
    with qtbot.waitSignal(connection.finished, timeout=10000):
        connection.run()
    assert states[-1][0] is False and "API key" in states[-1][1]


def test_after_the_hub_comes_back_the_list_catches_up(qtbot, tmp_path, settings) -> None:
    from publisher.embedded import EmbeddedServer
    from publisher.ui.window import MainWindow

    server = EmbeddedServer(tmp_path / "data")
    server.start()
    port = int(server.url.rsplit(":", 1)[1])
    again = None
    session = Session(server.url, server.api_user, server.api_key)
    win = MainWindow(session, settings=settings, outbox=None)
    qtbot.addWidget(win)
    try:
        controller = win.controller
        with qtbot.waitSignal(controller.versionsLoaded, timeout=30000):
            win.start()
        qtbot.waitUntil(lambda: win.live.on, timeout=10000)
        first = controller.version_model.row_at(0)
        generation = controller.version_model.generation
        server.stop()
        qtbot.waitUntil(lambda: not win.live.on, timeout=10000)
        assert "reconnecting" in win.live.label.text()
        assert not controller.live_jobs  # pollers poll as before while the hub is away

        again = EmbeddedServer(tmp_path / "data", port=port)
        again.start()
        # Committed while this window's hub connection was not back yet: never announced to it.
        with Session(again.url, again.api_user, again.api_key) as other:
            missed = other.create("AssetVersion", {"asset_id": first.asset_id, "task_id": first.task_id})
            other.commit()
        qtbot.waitUntil(lambda: win.live.on, timeout=30000)
        # Back on after a drop: the list is read again (a refresh), and shows what was missed.
        qtbot.waitUntil(lambda: controller.version_model.generation > generation, timeout=5000)
        qtbot.waitUntil(lambda: controller.version_model.row_for_id(missed["id"]) >= 0, timeout=10000)
    finally:
        win.close()
        session.close()
        server.stop()
        if again is not None:
            again.stop()


def test_the_standalone_app_window_turns_live_updates_on(qtbot, ui_session, settings, tmp_path) -> None:
    """The app's own start-up (hosts.standalone.open_window, as `python -m publisher` runs it)
    connects the hub, not only a window started by hand."""
    from publisher.hosts.standalone import open_window
    from publisher.publish.outbox import Outbox

    window = open_window(ui_session, settings=settings, outbox=Outbox(tmp_path / "outbox"))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.live.on, timeout=15000)
    assert "Live updates on" in window.live.label.text()
