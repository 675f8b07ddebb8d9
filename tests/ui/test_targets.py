"""New versions land where the artist meant (issue 11, points 2-4), checked through the API.

Shift+drop on a version row and a drop on a task make a version linked to its task; the target
line names the full path, then the version made; New version… offers the shot's assets with
their types; proposed asset names drop version and frame tokens.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtWidgets import QApplication

from dnd import drag_enter_event, drop_event
from publisher.api import Session
from publisher.publish.new_version_place import AssetChoice, proposed_asset
from publisher.ui import roles


def _mime(paths: list[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def _drop(widget, pos, paths, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    mime = _mime(paths)
    QApplication.sendEvent(widget, drag_enter_event(pos, mime, modifiers))
    event = drop_event(pos, mime, modifiers)
    QApplication.sendEvent(widget, event)
    assert event.isAccepted()


@pytest.fixture
def own_window(qtbot, server_factory, settings, outbox):
    """A window on a server of this test's own (it publishes), on the demo's first task."""
    from publisher.ui.window import MainWindow

    server = server_factory()
    session = Session(server.url, server.api_user, server.api_key)
    win = MainWindow(session, settings=settings, outbox=outbox)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.controller.versionsLoaded, timeout=30000):
        win.start()
    qtbot.waitUntil(lambda: win.controller.details is not None, timeout=30000)
    yield win, server
    win.controller.shutdown()
    session.close()


def _check(server):
    return Session(server.url, server.api_user, server.api_key)


def _path_of(server, context_id: str) -> list[str]:
    check = _check(server)
    try:
        link = check.query(f'select link from Context where id is "{context_id}"').first()["link"]
        return [item["name"] for item in link]
    finally:
        check.close()


def test_shift_drop_on_a_version_row_links_the_new_version_to_its_task(qtbot, own_window, tmp_path):
    win, server = own_window
    c = win.controller
    task = c.context
    assert task.entity_type == "Task"
    view = win.widget.versions.view
    index = view.model().index(0, 1)
    base = index.data(roles.ROW)
    clip = tmp_path / "next_take.mov"
    clip.write_bytes(b"n" * 50)
    with qtbot.waitSignal(c.staged, timeout=20000):
        _drop(view.viewport(), QPointF(view.visualRect(index).center()), [clip], Qt.KeyboardModifier.ShiftModifier)
    path = _path_of(server, base.task_id or task.id)
    expected = " / ".join(path) + f" / {base.asset_name} (new version)"
    target = win.widget.staging.target
    qtbot.waitUntil(lambda: expected in target.text(), timeout=20000)
    assert target.text().startswith("→ ")
    qtbot.waitUntil(lambda: bool(c.target_new.asset_type_id), timeout=20000)
    with qtbot.waitSignal(c.versionPublished, timeout=120000) as published:
        assert c.publish("next take")
    check = _check(server)
    try:
        new = check.get("AssetVersion", published.args[0])
        assert new["task_id"] == (base.task_id or task.id), "the new version is linked to its task"
        assert new["asset_id"] == base.asset_id
        number = new["version"]
    finally:
        check.close()
    made = f"{path[-2]} / {path[-1]} / {base.asset_name} v{number:03d}"
    qtbot.waitUntil(lambda: made in target.text(), timeout=20000)


def test_drop_on_a_task_makes_a_version_of_the_shot_asset_linked_to_the_task(
        qtbot, own_window, tmp_path, make_sequence):
    win, server = own_window
    c = win.controller
    w = win.widget
    task = c.context
    make_sequence(tmp_path / "render", "sh010_comp_v003", [1001, 1002, 1003])
    check = _check(server)
    try:
        shot_id = check.get("Task", task.id)["parent_id"]
        before = {a["id"]: a["name"] for a in check.query(
            f'select id, name from Asset where context_id in ("{shot_id}", "{task.id}")').all()}
    finally:
        check.close()
    tree = w.browser.view
    index = w.browser.proxy.mapFromSource(c.context_model.index_for_id(task.id))
    with qtbot.waitSignal(c.staged, timeout=20000):
        _drop(tree.viewport(), QPointF(tree.visualRect(index).center()), [tmp_path / "render"])
    path = " / ".join(_path_of(server, task.id))
    target = w.staging.target
    # The asset is named after the drop without its version and frame tokens.
    qtbot.waitUntil(lambda: f"→ {path} / sh010_comp (new version)" in target.text(), timeout=20000)
    qtbot.waitUntil(lambda: bool(c.target_new.asset_type_id), timeout=20000)
    with qtbot.waitSignal(c.versionPublished, timeout=120000) as published:
        assert c.publish("")
    check = _check(server)
    try:
        new = check.get("AssetVersion", published.args[0])
        assert new["task_id"] == task.id
        assert new["asset"]["name"] == "sh010_comp"
        assert new["asset"]["context_id"] == shot_id, "a task's assets live on its shot"
        assert new["asset_id"] not in before
        components = [comp["name"] for comp in check.query(
            f'select name from Component where version_id is "{new["id"]}"').all()]
        assert components
    finally:
        check.close()
    short = " / ".join(path.split(" / ")[-2:])
    qtbot.waitUntil(lambda: f"{short} / sh010_comp v001" in target.text(), timeout=20000)


def test_new_version_dialog_offers_the_shot_assets_with_their_types(qtbot, own_window, tmp_path):
    win, server = own_window
    c = win.controller
    task = c.context
    check = _check(server)
    try:
        shot_id = check.get("Task", task.id)["parent_id"]
        assets = {a["name"]: a for a in check.query(
            f'select id, name, type.name, type_id from Asset where context_id is "{shot_id}"').all()}
    finally:
        check.close()
    assert "comp" in assets, "the demo keeps its assets on the shot"
    clip = tmp_path / "comp_v007.mov"
    clip.write_bytes(b"c" * 10)
    with qtbot.waitSignal(c.staged, timeout=20000):
        c.drop([str(clip)], _context_target(c))
    with qtbot.waitSignal(c.newVersionListsLoaded, timeout=20000):
        win.widget.staging.new_version_button.click()
    dialog = win.widget.dialog
    shown = [dialog.asset.itemText(i) for i in range(dialog.asset.count())]
    assert f"comp — {assets['comp']['type']['name']}" in shown
    assert " / ".join(_path_of(server, task.id)) == dialog.where.text()
    # The dropped "comp_v007" matches the existing "comp": it is the default, with its type.
    assert dialog.asset_name() == "comp"
    assert dialog.asset_type.currentData() == assets["comp"]["type_id"] and not dialog.asset_type.isEnabled()
    dialog.accept()
    assert c.target_new.asset_id == assets["comp"]["id"]
    assert c.target_new.task_id == task.id
    # Typing an existing name picks it, never a second asset of that name.
    request = c.staging.build_request(c.staging_model.components(), "")
    assert request.new_version.asset_id == assets["comp"]["id"]
    assert request.new_version.task_id == task.id


def _context_target(c):
    from publisher.ui.drop_target import DropTarget

    return DropTarget("context", c.context.id, label=c.context.name)


def test_proposed_asset_names_drop_version_and_frame_tokens():
    comp = AssetChoice("a1", "comp", "t1", "Compositing")
    assert proposed_asset(["sh010_comp_v003"], []) == ("sh010_comp", None)
    assert proposed_asset(["comp_v003.%04d"], [comp]) == ("comp", comp)
    assert proposed_asset(["COMP_v2"], [comp]) == ("comp", comp)
    assert proposed_asset(["plate.####"], [comp]) == ("plate", None)
