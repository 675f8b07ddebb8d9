"""The activity model on its own: a valid Qt model while rows come and go, and the engine's events."""

from __future__ import annotations

from publisher.publish import events
from publisher.ui import roles
from publisher.ui.activity_model import ActivityModel, format_duration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_model_stays_valid_while_it_changes(qtmodeltester):
    clock = Clock()
    model = ActivityModel(clock=clock)
    model.add_publish("a", "Publish to plate v001", components=[("plate", 1000), ("preview", 500)])
    model.add_publish("b", "Publish to comp v002", components=[("comp", 10)])
    qtmodeltester.check(model, force_py=True)

    # Mutate with the tester still watching the model's signals.
    model.apply_event("a", events.PublishStarted(1500, ["plate", "preview"]))
    model.apply_event("a", events.ComponentStarted("plate", 1000))
    for done in (100, 400, 700):
        clock.now += 0.5
        model.apply_event("a", events.BytesProgress("plate", done, 1000, done, 1500))
    plate = model.item("publish:a/transfer:plate")
    assert plate.state == "running" and plate.done == 700
    # 200, 600, 600 B/s over the three half seconds, smoothed (0.7 old + 0.3 new): 320, then 404.
    assert abs(plate.rate - 404.0) < 1e-6
    index = model.index_of(plate, 1)
    # Sizes read in decimal units everywhere (publisher.units.format_size): 1000 B is 1.0 KB.
    assert index.data() == "700 B of 1.0 KB (70 %)"
    assert index.data(roles.PROGRESS) == 0.7
    assert model.index_of(plate, 3).data() == format_duration(300 / plate.rate)

    model.apply_event("a", events.ComponentDone("plate", "c1"))
    assert model.apply_event("a", events.EncodeQueued("job-1")) == "job-1"
    model.apply_event("a", events.PublishFinished("v1", ["c1"]))
    model.job_progress("job-1", "running", 40)
    encode = model.encode_for_job("job-1")
    assert model.index_of(encode, 1).data() == "encoding 40 %"
    model.job_finished("job-1", "failed", {"error": "The movie is damaged."})
    assert encode.state == "failed" and model.index_of(encode, 4).data() == "The movie is damaged."

    model.apply_event("b", events.PublishStarted(10, ["comp"]))
    model.apply_event("b", events.PublishFailed("Cannot reach the server."))
    top_b = model.item("publish:b")
    assert top_b.state == "failed" and model.item("publish:b/transfer:comp").state == "failed"
    model.reset_children(top_b, keep=lambda c: c.state == "done")
    assert model.item("publish:b/transfer:comp").state == "queued"

    # Clear finished: "a" has ended (its encode too), "b" failed and stays for a retry.
    assert model.clear_finished() == 1
    assert [i.key for i in model.publishes()] == ["publish:b"]
    model.add_publish("c", "Make reviewable: plate v001", kind="review")
    model.add_encode(model.item("publish:c"), "job-2")
    model.remove(model.item("publish:b"))
    assert model.rowCount() == 1 and model.rowCount(model.index(0, 0)) == 1
    qtmodeltester.check(model, force_py=True)


def test_the_phase_before_the_first_byte_shows_and_the_rate_starts_with_the_bytes(qtmodeltester):
    clock = Clock()
    model = ActivityModel(clock=clock)
    model.add_publish("a", "Publish to plate v001", components=[("plate", 1000)])
    model.apply_event("a", events.PublishStarted(1000, ["plate"]))
    model.apply_event("a", events.ComponentStarted("plate", 1000))
    model.apply_event("a", events.TransferPhase("plate", "reading", 3_000_000, 20_000_000))
    plate = model.item("publish:a/transfer:plate")
    assert model.index_of(plate, 4).data() == "reading 3.0 MB of 20.0 MB…"
    model.apply_event("a", events.TransferPhase("plate", "planning", 0, 1))
    assert model.index_of(plate, 4).data() == "planning…"
    clock.now += 30.0  # a long set-up: not part of the speed
    model.apply_event("a", events.BytesProgress("plate", 400, 1000, 400, 1000))
    assert model.index_of(plate, 4).data() == "uploading"
    clock.now += 1.0
    model.apply_event("a", events.BytesProgress("plate", 600, 1000, 600, 1000))
    assert abs(plate.rate - 200.0) < 1e-6, "bytes a resumed upload had already sent, and set-up, are left out"
    qtmodeltester.check(model, force_py=True)


def test_unknown_publish_and_job_are_ignored():
    model = ActivityModel()
    assert model.apply_event("nope", events.PublishStarted(1, [])) is None
    assert model.job_progress("nope", "running", 5) is None
    assert model.rowCount() == 0


# Through the window, against real servers -----------------------------------------------------

def _sparse(path, size: int):
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def _components_named(server, version_id: str) -> list[str]:
    from publisher.api import Session

    check = Session(server.url, server.api_user, server.api_key)
    try:
        return sorted(c["name"] for c in check.query(
            f'select name from Component where version_id is "{version_id}"').all())
    finally:
        check.close()


def _stage(qtbot, c, paths):
    from publisher.ui.drop_zone import DropTarget

    with qtbot.waitSignal(c.staged, timeout=20000):
        c.drop([str(p) for p in paths], DropTarget("current"))


def test_cancel_mid_transfer_from_the_panel_leaves_nothing_on_the_server(qtbot, window, tmp_path, embedded_server):
    from PySide6.QtCore import Qt

    c = window.controller
    panel = window.widget.activity
    version = c.details.row
    before = _components_named(embedded_server, version.id)
    big = _sparse(tmp_path / "cancel_me.bin", 600 * 1024 * 1024)
    _stage(qtbot, c, [big])
    assert c.publish("")
    top = c.activity_model.publishes()[-1]
    transfer = top.children[0]
    qtbot.waitUntil(lambda: transfer.state == "running" and transfer.done > 0, timeout=60000)
    assert panel.cancel_button.isEnabled() and panel.selected_top() is top
    with qtbot.waitSignal(c.publishFailed, timeout=60000):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert top.state == "cancelled" and transfer.state == "cancelled"
    assert transfer.done < transfer.total, "cancelled mid-transfer"
    assert _components_named(embedded_server, version.id) == before
    assert big.stat().st_size == 600 * 1024 * 1024, "the artist's file is untouched"
    assert [r.path for r in c.staging_model.components()] == [str(big)], "still staged, to publish later"
    assert not panel.retry_button.isEnabled() and panel.clear_button.isEnabled()
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert c.activity_model.item(top.key) is None


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_server_killed_mid_upload_then_retry_completes_without_duplicates(
        qtbot, tmp_path, settings, outbox):
    from PySide6.QtCore import Qt

    from publisher.api import Session
    from publisher.embedded import EmbeddedServer
    from publisher.ui.window import MainWindow

    # A fixed port, so the restarted server can listen where the window's session points (with
    # SO_REUSEADDR on both, which the server sets for fixed ports only).
    port = _free_port()
    server = EmbeddedServer(tmp_path / "server", port=port)
    server.start()
    session = Session(server.url, server.api_user, server.api_key)
    win = MainWindow(session, settings=settings, outbox=outbox)
    qtbot.addWidget(win)
    win.show()
    c = win.controller
    c.queue.wait_first_ms = 600_000  # no retry on its own during the test: the artist presses Retry
    restarted = None
    try:
        with qtbot.waitSignal(c.versionsLoaded, timeout=30000):
            win.start()
        qtbot.waitUntil(lambda: c.details is not None, timeout=30000)
        version = c.details.row
        before = _components_named(server, version.id)
        small = tmp_path / "a_notes.txt"
        small.write_bytes(b"n" * 2048)
        big = _sparse(tmp_path / "b_plate.bin", 800 * 1024 * 1024)
        _stage(qtbot, c, [small, big])
        names = [comp.name for comp in c.staging_model.components()]
        assert c.publish("")
        top = c.activity_model.publishes()[-1]
        first, second = (c.activity_model.item(f"{top.key}/transfer:{n}") for n in names)
        qtbot.waitUntil(lambda: first.state == "done" and second.done > 0, timeout=60000)
        server.kill()
        qtbot.waitUntil(lambda: top.state == "waiting", timeout=60000)
        assert "Cannot reach the server" in top.detail, top.detail
        assert first.state == "done" and second.state != "done"
        status = win.widget.staging.publish.status.text()
        assert "tries again on its own" in status and "failed" not in status, status
        panel = win.widget.activity
        assert panel.selected_top() is top and panel.retry_button.isEnabled()

        restarted = EmbeddedServer(server.data_dir, port=port)
        restarted.start()
        with qtbot.waitSignal(c.publishFinished, timeout=120000):
            qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
        assert top.state == "done" and second.state == "done"
        after = _components_named(restarted, version.id)
        assert after == sorted(before + names), "each component once: the retry skipped the done one"
        check = Session(restarted.url, restarted.api_user, restarted.api_key)
        try:
            location = check.get_location("ftrack.server")
            for comp in check.query(f'select name from Component where version_id is "{version.id}"').all():
                if comp["name"] in names:
                    assert check.get_component_availability(comp, [location])[location["id"]] == 100.0
        finally:
            check.close()
        assert c.staging_model.rowCount() == 0, "published: the staged list is empty again"
    finally:
        c.shutdown()
        session.close()
        server.stop()
        if restarted is not None:
            restarted.stop()


def test_unfinished_outbox_entry_shows_and_resumes_when_the_window_starts(
        qtbot, ui_session, settings, outbox, tmp_path, embedded_server):
    from publisher.publish import runner, staging
    from publisher.ui.window import MainWindow

    version_id = ui_session.query("select id from AssetVersion").first()["id"]
    left = tmp_path / "left_behind.txt"
    left.write_bytes(b"l" * 5000)
    staged = staging.stage_paths([str(left)], set()).components
    # What a publisher that died before it could run leaves: an entry, nothing on the server.
    entry = outbox.add(runner.PublishRequest(components=staged, version_id=version_id),
                       server_url=embedded_server.url, api_user=embedded_server.api_user)
    win = MainWindow(ui_session, settings=settings, outbox=outbox)
    qtbot.addWidget(win)
    c = win.controller
    try:
        with qtbot.waitSignal(c.publishFinished, timeout=60000) as finished:
            win.start()
            qtbot.waitUntil(lambda: c.activity_model.item(f"publish:{entry.id}") is not None, timeout=30000)
            row = c.activity_model.item(f"publish:{entry.id}")
            assert row.title.startswith("Resume: ")
        assert finished.args[0].version_id == version_id
        assert row.state == "done"
        assert staged[0].name in _components_named(embedded_server, version_id)
        assert outbox.get(entry.id).state == "done"
    finally:
        c.shutdown()


def test_publish_waits_while_the_server_is_down_and_runs_when_it_is_back(qtbot, tmp_path, settings, outbox):
    from publisher.api import Session
    from publisher.embedded import EmbeddedServer
    from publisher.ui.window import MainWindow

    port = _free_port()
    server = EmbeddedServer(tmp_path / "server", port=port)
    server.start()
    session = Session(server.url, server.api_user, server.api_key)
    win = MainWindow(session, settings=settings, outbox=outbox)
    qtbot.addWidget(win)
    c = win.controller
    c.queue.wait_first_ms, c.queue.wait_max_ms = 200, 400
    back = None
    try:
        with qtbot.waitSignal(c.versionsLoaded, timeout=30000):
            win.start()
        qtbot.waitUntil(lambda: c.details is not None, timeout=30000)
        version = c.details.row
        note = tmp_path / "late_note.txt"
        note.write_bytes(b"x" * 3000)
        _stage(qtbot, c, [note])
        name = c.staging_model.components()[0].name
        server.kill()
        assert c.publish("")
        top = c.activity_model.publishes()[-1]
        qtbot.waitUntil(lambda: top.state == "waiting", timeout=30000)
        assert "Cannot reach the server" in top.detail
        # Publish again with the same staged files: that same publish is tried, not a second one.
        assert c.publish("")
        assert c.activity_model.publishes() == [top]
        qtbot.waitUntil(lambda: top.state == "waiting", timeout=30000)

        back = EmbeddedServer(tmp_path / "server", port=port)
        with qtbot.waitSignal(c.publishFinished, timeout=60000):
            back.start()  # the next try, on its own timer, finds the server
        assert top.state == "done"
        assert _components_named(back, version.id).count(name) == 1
    finally:
        c.shutdown()
        session.close()
        server.stop()
        if back is not None:
            back.stop()


_KILLED_PUBLISHER = r"""
import sys
from publisher.api import Session
from publisher.publish import runner, staging
from publisher.publish.events import BytesProgress
from publisher.publish.outbox import Outbox

url, user, key, outbox_dir, version_id, *paths = sys.argv[1:]
session = Session(url, user, key)
request = runner.PublishRequest(components=staging.stage_paths(paths, set()).components, version_id=version_id)

def on_event(event):
    if isinstance(event, BytesProgress) and 0 < event.done < event.total:
        print("moving", event.name, flush=True)

runner.run_publish(session, request, on_event=on_event, outbox=Outbox(outbox_dir))
"""


def test_publisher_killed_mid_publish_is_resumed_by_the_next_window(
        qtbot, ui_session, settings, outbox, tmp_path, embedded_server):
    import signal
    import subprocess
    import sys

    from publisher.ui.window import MainWindow

    version_id = ui_session.query("select id from AssetVersion").first()["id"]
    before = _components_named(embedded_server, version_id)
    first = tmp_path / "killed_a.txt"
    first.write_bytes(b"a" * 4000)
    big = _sparse(tmp_path / "killed_b.bin", 700 * 1024 * 1024)
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_PUBLISHER, embedded_server.url, embedded_server.api_user,
         embedded_server.api_key, str(outbox.root), version_id, str(first), str(big)],
        stdout=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("moving killed_b"):
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    entry = outbox.unfinished()[0]
    names = sorted(comp.name for comp in entry.request.components)
    assert entry.steps["components"][names[0]]["state"] == "done", "killed after the first component"

    win = MainWindow(ui_session, settings=settings, outbox=outbox)
    qtbot.addWidget(win)
    c = win.controller
    try:
        with qtbot.waitSignal(c.publishFinished, timeout=120000):
            win.start()
        row = c.activity_model.item(f"publish:{entry.id}")
        assert row.state == "done" and row.title.startswith("Resume: ")
        assert _components_named(embedded_server, version_id) == sorted(before + names)
        assert outbox.get(entry.id).state == "done"
    finally:
        c.shutdown()
