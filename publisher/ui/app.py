"""The Qt side of the publisher's application: what the start-up shows, and screenshot mode.

:mod:`publisher.hosts.standalone` launches the app and decides which server to use; the pieces
here need widgets: the message box of a failed start, the settings dialog asked when a saved
server fails, the event loop that Ctrl+C can stop, and the rendered screenshot. Main thread
only, before or inside the application's event loop.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from publisher import logs
from publisher.settings import SettingsStore
from publisher.ui import theme
from publisher.ui.drop_zone import DropTarget
from publisher.ui.settings_dialog import SettingsDialog

#: How long screenshot mode waits for the data before it gives up.
SCREENSHOT_TIMEOUT_MS = 90_000


def use_dark_theme(widget: QWidget | None = None) -> None:
    """Give the application the window's dark theme before the window exists (the start-up
    dialogs and error boxes come first) and ``widget`` the theme's style sheet."""
    theme.use_dark_application()
    if widget is not None:
        widget.setStyleSheet(theme.style_sheet())


def error_box(message: str) -> QMessageBox:
    """The themed message box saying why the publisher cannot start (not shown yet)."""
    box = QMessageBox(QMessageBox.Icon.Critical, "ftrack publisher", message, QMessageBox.StandardButton.Ok)
    use_dark_theme(box)
    return box


def fail(message: str, *, dialog: bool = False) -> int:
    """Say why the publisher cannot start (and, for a windowed start, in a message box too);
    returns the exit status 1."""
    print(f"ftrack-publisher: {message}", file=sys.stderr)
    if dialog and QApplication.instance() is not None and QApplication.platformName() not in ("offscreen", "minimal"):
        error_box(message).exec()
    return 1


def settings_dialog_for(message: str, store: SettingsStore) -> SettingsDialog:
    """The themed settings dialog shown when the configured server fails at start-up."""
    dialog = SettingsDialog(store)
    use_dark_theme(dialog)
    dialog.load_notice.setText(f"{logs.redact(message)}\n\nFix the server below, or tick \"Use the local demo server\".")
    dialog.load_notice.show()
    return dialog


def ask_settings(message: str, store: SettingsStore) -> bool:
    """Show the settings dialog with ``message`` on top; True when the user saved. Main thread,
    before the event loop (the dialog runs its own modal loop)."""
    return settings_dialog_for(message, store).exec() == QDialog.DialogCode.Accepted


def example_drop(folder: Path) -> list[str]:
    """Files as an artist would drop them: a render with a missing frame and a movie.

    Sparse files, so they look real in the staging list without using the disk.
    """
    render = folder / "comp_v003"
    render.mkdir(parents=True, exist_ok=True)
    for frame in range(1001, 1049):
        if frame == 1017:
            continue  # a hole, shown highlighted in the staging list
        with open(render / f"comp_v003.{frame:04d}.exr", "wb") as handle:
            handle.truncate(12_400_000)
    movie = folder / "comp_v003_preview.mov"
    with open(movie, "wb") as handle:
        handle.truncate(38_700_000)
    return [str(render), str(movie)]


def exec_until_closed_or_signalled(app: Any) -> int:
    """``app.exec()``, but Ctrl+C or SIGTERM quit it cleanly so the embedded server is stopped
    (a child left behind would hold its port and data folder)."""
    def quit_app(*_args: Any) -> None:
        app.quit()

    previous = {sig: signal.signal(sig, quit_app) for sig in (signal.SIGINT, signal.SIGTERM)}
    # Python runs signal handlers only between bytecodes: a timer gives it that chance while
    # Qt's event loop is waiting.
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(250)
    try:
        return app.exec()
    finally:
        wake.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def save_screenshot(window: Any, path: Path, timeout_ms: int = SCREENSHOT_TIMEOUT_MS,
                    drop_paths: list[str] | None = None) -> int:
    """Render ``window`` to ``path`` once its data has loaded; 0 on success. Main thread.

    With ``drop_paths``, they are dropped on the details panel first and the staged result is in
    the picture. Waits on the controller's signals (versions, details, staging, thumbnails) in
    an event loop, never on sleeps.
    """
    # The picture has the README's size whatever screen (or none) the window would fit.
    window.resize(1600, 900)
    window.resizeDocks([window.activity_dock], [230], Qt.Orientation.Vertical)
    controller = window.controller
    state = {"versions": False, "details": False, "grabbed_once": False, "done": False, "timeout": False,
             "dropped": not drop_paths, "staged": not drop_paths}
    loop = QEventLoop()

    def on_staged(_result: Any) -> None:
        state["staged"] = True
        check()

    controller.staged.connect(on_staged)

    def check(*_args: Any) -> None:
        if state["done"]:
            return
        if not state["versions"]:
            return
        total = controller.version_model.total
        if total and not state["details"]:
            return
        if not state["dropped"]:
            state["dropped"] = True
            controller.drop(list(drop_paths or []), DropTarget("current"))
            return
        if not state["staged"]:
            return
        if not state["grabbed_once"]:
            # A first render asks for the visible thumbnails; the second one shows them.
            state["grabbed_once"] = True
            window.grab()
        if controller.thumbnails.pending() or controller.busy():
            return
        state["done"] = True
        QTimer.singleShot(0, loop.quit)

    def on_versions(_total: int) -> None:
        state["versions"] = True
        check()

    def on_details(_d: Any) -> None:
        state["details"] = True
        check()

    def on_timeout() -> None:
        state["timeout"] = True
        loop.quit()

    controller.versionsLoaded.connect(on_versions)
    controller.detailsLoaded.connect(on_details)
    controller.thumbnails.thumbnailReady.connect(check)
    poll = QTimer(window)  # workers finishing without a signal of their own (failed thumbnails)
    poll.setInterval(100)
    poll.timeout.connect(check)
    poll.start()
    guard = QTimer(window)
    guard.setSingleShot(True)
    guard.timeout.connect(on_timeout)
    guard.start(timeout_ms)
    errors: list[str] = []
    controller.errorRaised.connect(errors.append)
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    window.show()
    window.start()
    loop.exec()
    poll.stop()
    guard.stop()
    path.parent.mkdir(parents=True, exist_ok=True)
    ok = window.grab().save(str(path), "PNG")
    window.close()
    if not ok:
        return fail(f"Could not write the screenshot to {path}: check the folder exists and is writable.")
    if state["timeout"]:
        return fail(f"The data did not load within {timeout_ms // 1000} s; saved what was shown to {path}."
                     + (f" Last error: {errors[-1]}" if errors else ""))
    if errors:
        return fail(f"Saved {path}, but the window reported: {errors[-1]}")
    print(f"Saved the window to {path}")
    return 0
