"""The start-up dialogs and error boxes wear the window's dark theme (they come before it)."""

from __future__ import annotations

from PySide6.QtGui import QPalette

from publisher.settings import SettingsStore
from publisher.ui import app as qt_app


def _dark(widget) -> bool:
    widget.resize(420, 200)
    image = widget.grab().toImage()
    background = image.pixelColor(5, image.height() - 5)
    return (widget.palette().color(QPalette.ColorRole.Window).lightnessF() < 0.25
            and background.lightnessF() < 0.25)


def test_error_box_and_settings_dialog_at_start_up_are_dark(qtbot, tmp_path):
    box = qt_app.error_box("The server at https://example.invalid does not answer.")
    qtbot.addWidget(box)
    assert box.styleSheet() and _dark(box)
    dialog = qt_app.settings_dialog_for("Wrong API key.", SettingsStore(tmp_path / "servers.json"))
    qtbot.addWidget(dialog)
    assert dialog.styleSheet() and _dark(dialog)
    assert "Wrong API key." in dialog.load_notice.text()
