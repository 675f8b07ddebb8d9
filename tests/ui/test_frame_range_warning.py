"""A staged sequence shows the shot's range next to the range on disk, and the window warns,
with the frames named, when they differ (the demo shot sh020: 1009-1040 with 8 handles)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from publisher.publish.frame_range import ShotRange
from publisher.ui import staging_model as sm
from publisher.ui.drop_zone import DropTarget


def _sh020_task(session) -> str:
    return session.query('select id from Task where name is "Compositing" and parent.name is "sh020"').one()["id"]


def _drop(qtbot, controller, paths, target) -> None:
    with qtbot.waitSignal(controller.staged, timeout=20000):
        controller.drop([str(p) for p in paths], target)


def test_a_short_sequence_is_flagged_with_the_missing_frames(qtbot, window, ui_session, tmp_path, make_sequence):
    c = window.controller
    model = c.staging_model
    make_sequence(tmp_path / "short", "plate", list(range(1001, 1041)))
    target = DropTarget("context", id=_sh020_task(ui_session), label="Compositing")
    with qtbot.waitSignal(model.rangeWarningsChanged, timeout=20000,
                          check_params_cb=lambda warnings: bool(warnings)) as blocker:
        _drop(qtbot, c, [tmp_path / "short"], target)
    assert model.shot_range() == ShotRange("sh020", 1009, 1040, 8, 24)
    warning = blocker.args[0][0]
    assert warning == ("plate: frames 1001-1040 on disk, but shot sh020 is 1001-1048 (1009-1040 with 8 handles): "
                       "frames 1041-1048 of the shot are not on disk.")
    frames = model.index(0, sm.FRAMES)
    assert frames.data() == "1001-1040 ≠ shot 1001-1048"
    assert frames.data(Qt.ItemDataRole.ToolTipRole) == warning
    assert frames.data(Qt.ItemDataRole.DecorationRole) is not None
    qtbot.waitUntil(lambda: "frames 1041-1048 of the shot are not on disk" in window.widget.staging.messages_text(),
                    timeout=5000)

    # Removing the sequence takes its warning away.
    with qtbot.waitSignal(model.rangeWarningsChanged, timeout=5000) as cleared:
        window.widget.staging.view.removeRequested.emit([0])
    assert cleared.args[0] == []


def test_a_sequence_covering_the_handles_matches(qtbot, window, ui_session, tmp_path, make_sequence):
    c = window.controller
    model = c.staging_model
    make_sequence(tmp_path / "full", "plate", list(range(1001, 1049)))
    target = DropTarget("context", id=_sh020_task(ui_session), label="Compositing")
    _drop(qtbot, c, [tmp_path / "full"], target)
    qtbot.waitUntil(lambda: model.shot_range() is not None, timeout=20000)
    frames = model.index(0, sm.FRAMES)
    assert frames.data() == "1001-1048"
    assert frames.data(Qt.ItemDataRole.ToolTipRole) == "Matches shot sh020 (1001-1048 (1009-1040 with 8 handles))"
    assert model.range_warnings() == []
    assert "shot" not in window.widget.staging.messages_text()
