"""Bad drops give clear messages in the window and never crash it or lose what was staged."""

from __future__ import annotations

import os

from PySide6.QtCore import QMimeData, QPoint, QUrl

from publisher.publish import staging
from publisher.ui.drop_zone import DropTarget, paths_from_mime


def drop_and_wait(qtbot, window, paths) -> tuple[list[str], list[str]]:
    """Drop ``paths`` on the details panel; returns the (errors, warnings) the window shows."""
    c = window.controller
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    with qtbot.waitSignal(c.stagingMessages, timeout=60000) as blocker:
        assert window.widget.details_drop.handle_drop(mime, QPoint(5, 5))
    return blocker.args[0], blocker.args[1]


def test_missing_path(qtbot, window, tmp_path):
    errors, _ = drop_and_wait(qtbot, window, [tmp_path / "gone.exr"])
    assert len(errors) == 1 and "gone.exr" in errors[0] and "does not exist" in errors[0]
    assert window.controller.staging_model.rowCount() == 0
    assert "does not exist" in window.widget.staging.messages.text()
    assert window.isVisible()


def test_empty_folder(qtbot, window, tmp_path):
    (tmp_path / "empty").mkdir()
    errors, _ = drop_and_wait(qtbot, window, [tmp_path / "empty"])
    assert errors and "empty" in errors[0].lower()
    assert window.controller.staging_model.rowCount() == 0


def test_unreadable_folder_keeps_the_rest_of_the_drop(qtbot, window, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.exr").write_bytes(b"a")
    locked.chmod(0)
    good = tmp_path / "good.mov"
    good.write_bytes(b"g" * 10)
    if os.access(locked, os.R_OK):
        # Running as root, permissions are not enforced: make the folder listing fail the way
        # an unreadable folder does for an artist.
        real = staging._open_dir

        def open_dir(path: str):
            if os.path.abspath(path) == str(locked):
                raise PermissionError(13, "Permission denied", path)
            return real(path)

        monkeypatch.setattr(staging, "_open_dir", open_dir)
    try:
        errors, _ = drop_and_wait(qtbot, window, [locked, good])
    finally:
        locked.chmod(0o755)
    assert errors and "permission denied" in errors[0].lower() and "locked" in errors[0]
    assert [r.path for r in window.controller.staging_model.components()] == [str(good)]


def test_ten_thousand_files(qtbot, window, tmp_path, make_sequence):
    frames = list(range(1, 10001))
    paths = make_sequence(tmp_path / "big", "huge", frames, ".exr", size=1)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    assert len(paths_from_mime(mime).paths) == 10000
    c = window.controller
    with qtbot.waitSignal(c.staged, timeout=120000) as blocker:
        assert window.widget.details_drop.handle_drop(mime, QPoint(5, 5))
    result = blocker.args[0]
    assert not result.errors
    rows = c.staging_model.components()
    assert len(rows) == 1 and rows[0].kind == "sequence"
    assert rows[0].frame_range == "1-10000" and rows[0].size == 10000 and rows[0].holes == []


def test_remote_urls_and_no_files(qtbot, window):
    c = window.controller
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/plate.exr")])
    with qtbot.waitSignal(c.stagingMessages, timeout=10000) as blocker:
        window.widget.details_drop.handle_drop(mime, QPoint(1, 1))
    assert "not a file on this computer" in blocker.args[0][0]
    assert c.staging_model.rowCount() == 0
    empty = QMimeData()
    assert not window.widget.details_drop.handle_drop(empty, QPoint(1, 1))


def test_drop_with_nothing_selected_says_what_to_do(qtbot, ui_session, settings, tmp_path):
    from publisher.ui.controller import Controller

    c = Controller(ui_session, settings=settings)
    f = tmp_path / "x.mov"
    f.write_bytes(b"x")
    with qtbot.waitSignal(c.stagingMessages, timeout=5000) as blocker:
        c.drop([str(f)], DropTarget("current"))
    assert "Select a task or a version first" in blocker.args[0][0]
    with qtbot.waitSignal(c.errorRaised, timeout=5000) as err:
        c.publish()
    assert "Nothing is staged" in err.args[0]
    c.shutdown()
