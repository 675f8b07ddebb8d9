"""A full publish through the window against the embedded server, checked on the server after."""

from __future__ import annotations

import uuid

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtWidgets import QApplication

from publisher.api import Session
from publisher.ui import roles
from publisher.ui.drop_zone import DropTarget
from dnd import drag_enter_event, drop_event


def drop(widget, pos, paths) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = drag_enter_event(pos, mime)
    QApplication.sendEvent(widget, enter)
    event = drop_event(pos, mime)
    QApplication.sendEvent(widget, event)
    assert event.isAccepted()


def test_publish_new_version_then_add_to_it(qtbot, window, tmp_path, embedded_server, make_sequence):
    c = window.controller
    w = window.widget
    task = c.context
    assert task.entity_type == "Task"
    asset = f"ui_{uuid.uuid4().hex[:8]}"
    frames = [1, 2, 3, 5, 6]
    make_sequence(tmp_path / "render", asset, frames, ".exr", size=4096)
    movie = tmp_path / "preview.mov"
    movie.write_bytes(b"m" * 20000)

    # Drop onto the task in the browser: a new version there.
    tree = w.browser.view
    index = w.browser.proxy.mapFromSource(c.context_model.index_for_id(task.id))
    with qtbot.waitSignal(c.staged, timeout=20000):
        drop(tree.viewport(), tree.visualRect(index).center(), [tmp_path / "render", movie])
    assert c.target_new is not None and c.target_new.context_id == task.id
    qtbot.waitUntil(lambda: bool(c.target_new.asset_type_id), timeout=20000)
    c.target_new.asset_name = asset
    staged = {r.name: r for r in c.staging_model.components()}
    assert len(staged) == 2
    seq_name = next(n for n, r in staged.items() if r.kind == "sequence")
    assert staged[seq_name].holes == [4]

    w.staging.publish.comment.setText("published from the window test")
    assert w.staging.publish.publish_button.isEnabled()
    progress: list[tuple[int, int]] = []
    c.publishProgress.connect(lambda d, t, _s: progress.append((d, t)))
    refused: list[list[str]] = []
    c.stagingMessages.connect(lambda errors, _w: refused.append(errors))
    with qtbot.waitSignal(c.versionPublished, timeout=120000) as published:
        qtbot.mouseClick(w.staging.publish.publish_button, Qt.MouseButton.LeftButton)
        assert c.publishing() and w.staging.publish.progress.isVisible()
        assert not w.staging.view.isEnabled(), "the staged list is frozen while it is published"
        c.drop([str(movie)], DropTarget("current"))
        assert "publish is running" in refused[-1][0]
    version_id = published.args[0]
    assert progress and progress[-1][0] == progress[-1][1] > 0

    # The window shows the result without a refresh: row in the list, selected, details, empty staging.
    row = c.version_model.row_for_id(version_id)
    assert row >= 0
    assert c.version_model.index(row, 1).data() == asset
    assert w.versions.view.currentIndex().data(roles.ID) == version_id
    assert {comp.name for comp in c.details.components} >= set(staged)
    assert c.staging_model.rowCount() == 0 and not c.publishing() and w.staging.view.isEnabled()
    assert c.target_version is not None and c.target_version.id == version_id

    # On the server: the version, its components, and the files in ftrack.server.
    check = Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key)
    try:
        version = check.get("AssetVersion", version_id)
        assert version["asset"]["name"] == asset
        assert version["task_id"] == task.id or version["asset"]["parent"]["id"] in (task.id, task.parent_id)
        assert version["comment"] == "published from the window test"
        components = {comp["name"]: comp for comp in check.query(
            f'select name, size from Component where version_id is "{version_id}"').all()}
        assert set(staged) <= set(components)
        server = check.get_location("ftrack.server")
        for name in staged:
            assert check.get_component_availability(components[name], [server])[server["id"]] == 100.0
        assert components[seq_name]["size"] == 4096 * len(frames)
    finally:
        check.close()

    # A second drop onto the published version's row adds a component to it.
    extra = tmp_path / "notes.txt"
    extra.write_bytes(b"n" * 10)
    view = w.versions.view
    proxy_row = w.versions.proxy.mapFromSource(c.version_model.index(row, 1))
    with qtbot.waitSignal(c.staged, timeout=20000):
        drop(view.viewport(), view.visualRect(proxy_row).center(), [extra])
    assert c.target_version.id == version_id
    with qtbot.waitSignal(c.versionPublished, timeout=120000):
        assert c.publish("")
    names = {comp.name for comp in c.details.components}
    assert "notes" in names and set(staged) <= names
    assert c.version_model.row_at(c.version_model.row_for_id(version_id)).component_count >= len(staged) + 1


def test_failed_publish_keeps_the_staged_files_and_says_why(qtbot, window, tmp_path):
    c = window.controller
    w = window.widget
    doomed = tmp_path / "doomed.mov"
    doomed.write_bytes(b"d" * 100)
    with qtbot.waitSignal(c.staged, timeout=20000):
        c.drop([str(doomed)], DropTarget("current"))
    target = c.target_version
    doomed.unlink()  # the file goes away between the drop and the publish
    with qtbot.waitSignal(c.publishFailed, timeout=60000) as failed:
        assert c.publish("")
    message = failed.args[0]
    assert "doomed.mov" in message
    assert w.banner.isVisible() and "doomed.mov" in w.banner.message()
    assert [r.path for r in c.staging_model.components()] == [str(doomed)], "nothing staged is lost"
    assert c.target_version.id == target.id and not c.publishing()
    assert w.staging.publish.publish_button.isVisible() and w.staging.view.isEnabled()


def test_drop_with_shift_on_a_version_makes_a_new_version_of_its_asset(qtbot, window, tmp_path, embedded_server):
    c = window.controller
    w = window.widget
    view = w.versions.view
    index = view.model().index(0, 1)
    base = index.data(roles.ROW)
    clip = tmp_path / "next.mov"
    clip.write_bytes(b"n" * 50)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(clip))])
    pos = QPointF(view.visualRect(index).center())
    QApplication.sendEvent(view.viewport(), drag_enter_event(pos, mime, Qt.KeyboardModifier.ShiftModifier))
    with qtbot.waitSignal(c.staged, timeout=20000):
        shift_drop = drop_event(pos, mime, Qt.KeyboardModifier.ShiftModifier)
        QApplication.sendEvent(view.viewport(), shift_drop)
        assert shift_drop.isAccepted()
    assert c.target_new is not None and c.target_new.asset_id == base.asset_id
    assert c.target_new.asset_name == base.asset_name
    qtbot.waitUntil(lambda: bool(c.target_new.asset_type_id), timeout=20000)
    with qtbot.waitSignal(c.versionPublished, timeout=120000) as published:
        assert c.publish("next take")
    check = Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key)
    try:
        new = check.get("AssetVersion", published.args[0])
        assert new["asset_id"] == base.asset_id
        latest = max(v["version"] for v in check.query(
            f'select version from AssetVersion where asset_id is "{base.asset_id}"').all())
        assert new["version"] == latest > base.version
    finally:
        check.close()
