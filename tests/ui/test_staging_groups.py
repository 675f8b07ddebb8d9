"""Several staging targets at once (issue 17): one group per target in the staging panel, each
publishable alone or all together; a drop onto another target is never thrown away."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtWidgets import QApplication

from dnd import drag_enter_event, drop_event
from publisher.api import Session
from publisher.ui import roles


def _drop(widget, pos, paths) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    QApplication.sendEvent(widget, drag_enter_event(QPointF(pos), mime))
    event = drop_event(QPointF(pos), mime)
    QApplication.sendEvent(widget, event)
    assert event.isAccepted()


def _components(server, version_id):
    check = Session(server.url, server.api_user, server.api_key)
    try:
        return sorted(c["name"] for c in check.query(
            f'select name from Component where version_id is "{version_id}"').all())
    finally:
        check.close()


def test_two_targets_staged_at_once_then_published_all_together(qtbot, server_factory, settings, outbox, tmp_path):
    from publisher.ui.window import MainWindow

    server = server_factory()
    session = Session(server.url, server.api_user, server.api_key)
    win = MainWindow(session, settings=settings, outbox=outbox)
    qtbot.addWidget(win)
    win.show()
    c = win.controller
    try:
        with qtbot.waitSignal(c.versionsLoaded, timeout=30000):
            win.start()
        qtbot.waitUntil(lambda: c.details is not None, timeout=30000)
        view = win.widget.versions.view
        first_index, second_index = view.model().index(0, 1), view.model().index(1, 1)
        first, second = first_index.data(roles.ROW), second_index.data(roles.ROW)
        a, b, t = tmp_path / "for_first.txt", tmp_path / "for_second.txt", tmp_path / "for_task.txt"
        for p in (a, b, t):
            p.write_bytes(p.name.encode())
        with qtbot.waitSignal(c.staged, timeout=20000):
            _drop(view.viewport(), view.visualRect(first_index).center(), [a])
        with qtbot.waitSignal(c.staged, timeout=20000):
            _drop(view.viewport(), view.visualRect(second_index).center(), [b])
        assert c.target_version.id == second.id
        assert [r.path for r in c.staging_model.components()] == [str(b)]
        panel = win.widget.staging
        assert panel.groups.isVisible() and panel.groups.count() == 2 and panel.publish_all_button.isVisible()

        # A drop onto a task is kept as a third group, not thrown away.
        tree = win.widget.browser.view
        task_index = win.widget.browser.proxy.mapFromSource(c.context_model.index_for_id(c.context.id))
        with qtbot.waitSignal(c.staged, timeout=20000):
            _drop(tree.viewport(), tree.visualRect(task_index).center(), [t])
        assert panel.groups.count() == 3 and c.target_new is not None

        # Back to the first group: its file and target come back.
        panel.groups.setCurrentIndex(0)
        assert c.target_version.id == first.id
        assert [r.path for r in c.staging_model.components()] == [str(a)]

        qtbot.waitUntil(lambda: all(g.target_new is None or g.target_new.asset_type_id for g in c.staging.parked),
                        timeout=20000)
        done: list = []
        c.publishFinished.connect(done.append)
        qtbot.mouseClick(panel.publish_all_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(done) == 3, timeout=120000)
        assert "for_first" in _components(server, first.id)
        assert "for_second" in _components(server, second.id)
        made = {r.version_id for r in done} - {first.id, second.id}
        assert len(made) == 1 and "for_task" in _components(server, made.pop())
        qtbot.waitUntil(lambda: not panel.groups.isVisible(), timeout=10000)
    finally:
        c.shutdown()
        session.close()
