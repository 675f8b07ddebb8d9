"""The embedded server killed under the window (issue 11, point 8): restarted on the same folder
and port, said once in the status bar, and a publish started while it was down completes."""

from __future__ import annotations

from publisher.api import Session
from publisher.embedded import EmbeddedServer
from publisher.ui.drop_target import DropTarget
from publisher.ui.error_messages import describe_error


def test_killed_embedded_server_is_restarted_and_the_publish_completes(qtbot, tmp_path, settings, outbox):
    from publisher.hosts.embedded_watch import EmbeddedServerWatch
    from publisher.ui.window import MainWindow

    server = EmbeddedServer(tmp_path / "server")
    server.start()
    session = Session(server.url, server.api_user, server.api_key)
    win = MainWindow(session, settings=settings, outbox=outbox)
    qtbot.addWidget(win)
    c = win.controller
    c.queue.wait_first_ms, c.queue.wait_max_ms = 60000, 60000  # only the restart may wake it
    watch = EmbeddedServerWatch(server, win, delays=(0.5, 0.5, 1.0))
    said: list[str] = []
    watch.announced.connect(said.append)
    watch.start()
    try:
        with qtbot.waitSignal(c.versionsLoaded, timeout=30000):
            win.start()
        qtbot.waitUntil(lambda: c.details is not None, timeout=30000)
        version = c.details.row
        note = tmp_path / "during_outage.txt"
        note.write_bytes(b"o" * 3000)
        with qtbot.waitSignal(c.staged, timeout=20000):
            c.drop([str(note)], DropTarget("current"))
        name = c.staging_model.components()[0].name
        url = server.url
        process = server.process
        process.kill()  # a crash: the keeper reaps it and starts it again
        with qtbot.waitSignal(c.publishFinished, timeout=90000):
            assert c.publish("")
        assert process.poll() is not None, "the dead child was reaped"
        assert server.url == url, "restarted on the same port"
        assert len([s for s in said if "restarted" in s]) == 1, said
        assert "embedded ftrack server" in said[0]
        check = Session(server.url, server.api_user, server.api_key)
        try:
            names = [comp["name"] for comp in check.query(
                f'select name from Component where version_id is "{version.id}"').all()]
        finally:
            check.close()
        assert names.count(name) == 1
        # The versions list loads again after the restart (not stuck on "loading…").
        qtbot.waitUntil(lambda: c.version_model.rowCount() > 0, timeout=30000)
    finally:
        c.shutdown()
        watch.stop()
        session.close()


def test_unreachable_embedded_server_is_named_as_such():
    from publisher.api.exceptions import ServerConnectionError
    from publisher.ui.error_messages import mark_embedded

    mark_embedded("http://127.0.0.1:5999")
    error = ServerConnectionError("The ftrack server at http://127.0.0.1:5999 could not be reached (refused). "
                                  "Check the server address (FTRACK_SERVER or the settings), your network or VPN.",
                                  server_url="http://127.0.0.1:5999")
    message = describe_error(error, "http://127.0.0.1:5999")
    assert "embedded ftrack server" in message
    assert "FTRACK_SERVER" not in message and "VPN" not in message and ".." not in message
    other = describe_error(ServerConnectionError("x", server_url="http://studio:80"), "http://studio:80")
    assert "embedded" not in other
