"""Staging without a drag (issue 17): "Add files…" and pasting paths with Ctrl+V."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtWidgets import QApplication, QFileDialog

from publisher.ui.staging_sources import NOTHING_TO_PASTE, pasted_paths


def test_ctrl_v_of_newline_separated_paths_stages_them(qtbot, window, tmp_path):
    c = window.controller
    a, b = tmp_path / "pasted_a.txt", tmp_path / "pasted_b.txt"
    a.write_bytes(b"a")
    b.write_bytes(b"b")
    QApplication.clipboard().setText(f"{a}\n{b}\n")
    window.widget.versions.view.setFocus()
    with qtbot.waitSignal(c.staged, timeout=20000):
        window.widget.shortcut_paste.activated.emit()
    assert sorted(r.path for r in c.staging_model.components()) == [str(a), str(b)]


def test_ctrl_v_of_a_uri_list_and_of_no_paths(qtbot, window, tmp_path):
    c = window.controller
    movie = tmp_path / "pasted.mov"
    movie.write_bytes(b"m")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(movie))])
    QApplication.clipboard().setMimeData(mime)
    with qtbot.waitSignal(c.staged, timeout=20000):
        window.widget.shortcut_paste.activated.emit()
    assert [r.path for r in c.staging_model.components()] == [str(movie)]
    QApplication.clipboard().setText("just some words")
    with qtbot.waitSignal(c.stagingMessages, timeout=5000) as said:
        window.widget.shortcut_paste.activated.emit()
    assert said.args[0] == [NOTHING_TO_PASTE]
    assert len(c.staging_model.components()) == 1, "nothing staged is lost"


def test_file_uri_lines_as_text_are_paths(tmp_path):
    mime = QMimeData()
    mime.setText(f"{QUrl.fromLocalFile(str(tmp_path / 'x.exr')).toString()}\n")
    assert pasted_paths(mime) == ([str(tmp_path / "x.exr")], [])


def test_add_files_button_opens_a_dialog_whose_files_are_staged(qtbot, window, tmp_path):
    c = window.controller
    chosen = tmp_path / "chosen.exr"
    chosen.write_bytes(b"c" * 10)
    qtbot.mouseClick(window.widget.staging.add_files_button, Qt.MouseButton.LeftButton)
    dialog = window.widget.add_files_dialog
    assert isinstance(dialog, QFileDialog) and dialog.isVisible()
    assert dialog.fileMode() == QFileDialog.FileMode.ExistingFiles
    with qtbot.waitSignal(c.staged, timeout=20000):
        dialog.filesSelected.emit([str(chosen)])
    assert [r.path for r in c.staging_model.components()] == [str(chosen)]
    dialog.reject()


def test_after_cancel_the_staging_panel_does_not_say_failed(qtbot, window, tmp_path):
    c = window.controller
    big = tmp_path / "cancel_me.bin"
    with open(big, "wb") as fh:
        fh.truncate(400 * 1024 * 1024)
    with qtbot.waitSignal(c.staged, timeout=20000):
        from publisher.ui.drop_target import DropTarget

        c.drop([str(big)], DropTarget("current"))
    assert c.publish("")
    top = c.activity_model.publishes()[-1]
    qtbot.waitUntil(lambda: top.children[0].done > 0, timeout=60000)
    with qtbot.waitSignal(c.publishFailed, timeout=60000):
        c.queue.cancel_publish()
    status = window.widget.staging.publish.status.text()
    assert "Cancelled" in status and "failed" not in status.lower()
    # The next publish starts with a clean status line.
    window.widget.staging.view.removeRequested.emit([0])
    small = tmp_path / "small.txt"
    small.write_bytes(b"s")
    with qtbot.waitSignal(c.staged, timeout=20000):
        c.drop([str(small)], DropTarget("current"))
    with qtbot.waitSignal(c.publishStarted, timeout=5000):
        assert c.publish("")
    assert window.widget.staging.publish.status.text() == ""
    qtbot.waitUntil(lambda: not c.publishing(), timeout=60000)
