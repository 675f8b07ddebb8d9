"""Drops of file URLs onto the version view and the details panel, staged through the engine."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtWidgets import QApplication

from publisher.ui import roles
from dnd import drag_enter_event, drop_event
from publisher.ui import staging_model as sm



def mime_for(paths: list[Path | str]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def send_drop(widget, pos: QPoint, mime: QMimeData) -> bool:
    """A real drag-enter then drop on ``widget`` at ``pos``; returns whether the drop was taken."""
    enter = drag_enter_event(pos, mime)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), "a drag with file URLs must be accepted"
    drop = drop_event(pos, mime)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def version_row_pos(window, row: int = 0) -> tuple[QPoint, object]:
    view = window.widget.versions.view
    index = view.model().index(row, 1)
    return view.visualRect(index).center(), index.data(roles.ROW)


def staged_rows(window) -> list:
    return window.controller.staging_model.components()


def test_drop_file_sequence_and_mix_on_version_row(qtbot, window, tmp_path, make_sequence):
    c = window.controller
    file_path = tmp_path / "notes.mov"
    file_path.write_bytes(b"\0" * 1000)
    frames = [f for f in range(1001, 1011) if f != 1005]
    make_sequence(tmp_path / "plate_folder", "plate", frames)
    view = window.widget.versions.view
    pos, target = version_row_pos(window, 1)

    # one file onto the second row
    with qtbot.waitSignal(c.staged, timeout=20000):
        assert send_drop(view.viewport(), pos, mime_for([file_path]))
    assert c.target_version is not None and c.target_version.id == target.id
    assert c.version_id == target.id, "the dropped-on version is shown in the details"
    rows = staged_rows(window)
    assert [(r.kind, r.path, r.size) for r in rows] == [("file", str(file_path), 1000)]
    assert window.widget.staging.view.isVisible()

    # a folder holding a sequence with a hole is scanned into one sequence component
    with qtbot.waitSignal(c.staged, timeout=20000):
        assert send_drop(view.viewport(), pos, mime_for([tmp_path / "plate_folder"]))
    seq = staged_rows(window)[1]
    assert seq.kind == "sequence" and seq.frame_range == "1001-1010" and seq.holes == [1005]
    model = c.staging_model
    assert model.index(1, sm.HOLES).data() == "1"
    assert "1005" in model.index(1, sm.HOLES).data(Qt.ItemDataRole.ToolTipRole)

    # a mix: loose frames of another sequence plus a file, in one drop
    comp = make_sequence(tmp_path / "loose", "comp", list(range(1, 6)), ".png")
    other = tmp_path / "ref.jpg"
    other.write_bytes(b"\xff" * 10)
    with qtbot.waitSignal(c.staged, timeout=20000):
        assert send_drop(view.viewport(), pos, mime_for([*comp, other]))
    rows = staged_rows(window)
    assert len(rows) == 4
    kinds = sorted((r.kind, r.frame_range) for r in rows[2:])
    assert kinds == [("file", None), ("sequence", "1-5")]
    names = [r.name for r in rows]
    assert len(set(n.lower() for n in names)) == len(names), "suggested names are unique"

    # the staged list shows it all and removing works
    window.widget.staging.view.removeRequested.emit([0])
    assert len(staged_rows(window)) == 3


def test_drop_on_details_panel_targets_the_shown_version(qtbot, window, tmp_path, make_sequence):
    c = window.controller
    shown = c.details.row
    make_sequence(tmp_path / "seq", "render", list(range(10, 20)))
    single = tmp_path / "single.exr"
    single.write_bytes(b"1" * 5)
    panel = window.widget.details
    with qtbot.waitSignal(c.staged, timeout=20000):
        assert send_drop(panel, panel.rect().center(), mime_for([tmp_path / "seq", single]))
    assert c.target_version.id == shown.id
    rows = staged_rows(window)
    assert sorted(r.kind for r in rows) == ["file", "sequence"]
    seq = next(r for r in rows if r.kind == "sequence")
    assert seq.frame_range == "10-19" and seq.holes == []
    existing = {comp.name for comp in c.details.components}
    assert not existing & {r.name for r in rows}, "staged names avoid the version's components"
    assert "existing version" in window.widget.staging.target.text()


def test_drop_onto_another_version_while_staged_keeps_both(qtbot, window, tmp_path):
    # Issue 17 (several staging targets): this drop used to be refused; now the first
    # target's files are kept as a group of their own and the second drop is staged too.
    c = window.controller
    a = tmp_path / "a.mov"
    a.write_bytes(b"a")
    view = window.widget.versions.view
    pos0, first = version_row_pos(window, 0)
    pos1, second = version_row_pos(window, 1)
    with qtbot.waitSignal(c.staged, timeout=20000):
        send_drop(view.viewport(), pos0, mime_for([a]))
    with qtbot.waitSignal(c.staged, timeout=20000):
        send_drop(view.viewport(), pos1, mime_for([a]))
    assert len(staged_rows(window)) == 1 and c.target_version.id == second.id
    assert [g.target_version.id for g in c.staging.parked] == [first.id]
    assert [r.path for r in c.staging.parked[0].components] == [str(a)]


def test_name_editor_checks_live(qtbot, window, tmp_path):
    c = window.controller
    f = tmp_path / "clip.mov"
    f.write_bytes(b"x")
    g = tmp_path / "other.mov"
    g.write_bytes(b"y")
    with qtbot.waitSignal(c.staged, timeout=20000):
        c.drop([str(f), str(g)], window.widget.details_drop.target_at(QPoint(), Qt.KeyboardModifier.NoModifier))
    view = window.widget.staging.view
    index = c.staging_model.index(1, sm.NAME)
    view.setCurrentIndex(index)
    view.edit(index)
    from PySide6.QtWidgets import QLineEdit

    editor = view.findChild(QLineEdit, "StagedNameEditor")

    assert isinstance(editor, QLineEdit)
    messages: list[str] = []
    view.name_delegate.validationMessage.connect(messages.append)
    editor.clear()
    qtbot.keyClicks(editor, c.staging_model.row_at(0).name)
    assert editor.property("invalid") is True and "already has" in messages[-1]
    editor.clear()
    qtbot.keyClicks(editor, "clip_b")
    assert editor.property("invalid") is False and messages[-1] == ""
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # Qt commits through a queued call
    qtbot.waitUntil(lambda: c.staging_model.row_at(1).name == "clip_b", timeout=5000)
