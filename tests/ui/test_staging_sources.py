"""Staging without a drag (issue 17): "Add files…" and pasting paths with Ctrl+V."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtWidgets import QApplication, QFileDialog

from publisher.ui.staging_sources import NOTHING_TO_PASTE, paste, pasted_paths


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
    # What Ctrl+V hands over for a file manager's copy (the clipboard itself is left alone: it
    # would take this Python-made object over).
    with qtbot.waitSignal(c.staged, timeout=20000):
        paste(c.staging, mime)
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


def _luminance(colour) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def test_invalid_name_hint_is_readable_and_enter_says_why(qtbot, window, tmp_path):
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QLineEdit

    from publisher.ui import staging_model as sm
    from publisher.ui.drop_target import DropTarget

    c = window.controller
    first, second = tmp_path / "one.txt", tmp_path / "two.txt"
    first.write_bytes(b"1")
    second.write_bytes(b"2")
    with qtbot.waitSignal(c.staged, timeout=20000):
        c.drop([str(first), str(second)], DropTarget("current"))
    view = window.widget.staging.view
    names = [r.name for r in c.staging_model.components()]
    index = c.staging_model.index(0, sm.NAME)
    view.setCurrentIndex(index)
    view.edit(index)
    editor = view.findChild(QLineEdit, "StagedNameEditor")
    assert editor is not None
    editor.setFocus()
    editor.clear()
    qtbot.keyClicks(editor, names[1])  # a clash with the other staged name
    status = window.widget.staging.publish.status
    assert status.text()
    colour = QColor(status.palette().color(QPalette.ColorRole.WindowText))
    background = window.palette().color(QPalette.ColorRole.Window)
    light, dark = sorted((_luminance(colour), _luminance(background)), reverse=True)
    assert (light + 0.05) / (dark + 0.05) >= 4.5, "the hint must be readable"
    muted = window.widget.staging.target.palette().color(QPalette.ColorRole.WindowText)
    assert colour != muted, "a problem is not shown in the grey of news"
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert editor.isVisible(), "Enter on an invalid name keeps the editor open"
    assert "Esc" in status.text()
    assert [r.name for r in c.staging_model.components()] == names


def test_long_sequence_names_lose_their_head_not_the_frame_pattern(qtbot, window):
    from PySide6.QtGui import QFontMetrics

    from publisher.ui.staging_view import elide_keeping_frames

    metrics = QFontMetrics(window.font())
    name = "lighthouse_sq010_sh010_comp_main_v003.%04d.exr"
    width = metrics.horizontalAdvance(name) // 2
    shown = elide_keeping_frames(name, metrics, width)
    assert shown.endswith("_v003.%04d.exr") or shown.endswith(".%04d.exr")
    assert shown.startswith("…") and metrics.horizontalAdvance(shown) <= width
    plain = "a_very_long_file_name_without_any_frames_in_it.mov"
    cut = elide_keeping_frames(plain, metrics, metrics.horizontalAdvance(plain) // 2)
    assert "…" in cut and cut.endswith(".mov") and cut.startswith("a_")
    assert elide_keeping_frames("short.%04d.exr", metrics, 1000) == "short.%04d.exr"
