"""Start the publisher window: the Qt application, the server it talks to, screenshot mode.

:func:`run` is what ``ftrack-publisher`` (no subcommand) calls. With no server configured (no
``FTRACK_SERVER`` and none in the settings) it starts the embedded server as a child process,
opens the window on its demo project and stops the server when the window closes. Called from
the main thread, before or instead of any Qt event loop.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Windows opened inside an application someone else runs (a DCC, a test): kept alive here
#: until they close, since :func:`run` returns at once there.
_open_windows: list[Any] = []

#: How long screenshot mode waits for the data before it gives up.
SCREENSHOT_TIMEOUT_MS = 90_000


@dataclass(frozen=True)
class ServerChoice:
    """Where to connect; ``embedded`` when the app must start its own server."""

    url: str | None
    api_user: str | None
    api_key: str | None
    embedded: bool


def configured_server(env: dict[str, str] | None = None, settings: Any = None) -> ServerChoice:
    """The server from ``FTRACK_SERVER``/``FTRACK_API_USER``/``FTRACK_API_KEY``, else the settings,
    else the embedded one."""
    env = dict(os.environ if env is None else env)
    if env.get("FTRACK_SERVER"):
        return ServerChoice(env["FTRACK_SERVER"], env.get("FTRACK_API_USER"),
                            env.get("FTRACK_API_KEY") or env.get("FTRACK_APIKEY"), False)
    if settings is not None:
        url = settings.value("server/url", "")
        if url:
            return ServerChoice(str(url), str(settings.value("server/api_user", "") or "") or None,
                                str(settings.value("server/api_key", "") or "") or None, False)
    return ServerChoice(None, None, None, True)


def _fail(message: str, *, dialog: bool = False) -> int:
    """Say why the publisher cannot start (and, for a windowed start, in a message box too)."""
    print(f"ftrack-publisher: {message}", file=sys.stderr)
    if dialog:
        from PySide6.QtWidgets import QApplication, QMessageBox

        if QApplication.instance() is not None and QApplication.platformName() not in ("offscreen", "minimal"):
            QMessageBox.critical(None, "ftrack publisher", message)
    return 1


def run(argv: list[str] | None = None, *, screenshot: str | os.PathLike[str] | None = None) -> int:
    """Run the window until it closes (or, with ``screenshot``, save it to that PNG and return).

    Returns the process exit status.
    """
    if screenshot is not None:
        # Rendered without a display: the offscreen platform must be chosen before Qt starts.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from publisher import paths
    from publisher.embedded import EmbeddedServer, EmbeddedServerError

    app = QApplication.instance()
    owns_app = app is None
    if app is None:
        app = QApplication(list(argv) if argv else [sys.argv[0]])
        app.setApplicationName("ftrack-publisher")
        app.setOrganizationName("ftrack")
    settings = QSettings("ftrack", "ftrack-publisher")
    choice = configured_server(settings=settings)
    server = None
    scratch = None
    if screenshot is not None:
        # The picture shows the demo project as a new user sees it: a fresh embedded server and
        # fresh settings, whatever this machine is configured for.
        import tempfile

        scratch = tempfile.TemporaryDirectory(prefix="ftrack-publisher-screenshot-")
        settings = QSettings(str(Path(scratch.name) / "settings.ini"), QSettings.Format.IniFormat)
        choice = ServerChoice(None, None, None, True)
    try:
        if choice.embedded:
            data_dir = Path(scratch.name) / "server" if scratch is not None else paths.embedded_server_dir()
            server = EmbeddedServer(data_dir)
            print("Starting the embedded ftrack server with the demo project…", file=sys.stderr)
            try:
                info = server.start()
            except EmbeddedServerError as exc:
                return _fail(str(exc), dialog=screenshot is None)
            url, user, key = info.url, info.api_user, info.api_key
            label = f"embedded demo server {url}"
        else:
            url, user, key = choice.url, choice.api_user, choice.api_key
            label = url or ""
        from publisher.api import FtrackError, Session

        try:
            session = Session(url, user, key)
        except FtrackError as exc:
            return _fail(str(exc), dialog=screenshot is None)
        from publisher.hosts.standalone import open_window

        window = open_window(session, server_label=label, show=screenshot is None, settings=settings)
        window.embedded_server = server  # the child process this window's close stops (or None)
        if screenshot is not None:
            assert scratch is not None
            return save_screenshot(window, Path(screenshot), drop_paths=example_drop(Path(scratch.name) / "drop"))
        stop_server = server

        def closed() -> None:
            session.close()
            if stop_server is not None:
                stop_server.stop()
            if window in _open_windows:
                _open_windows.remove(window)

        window.closed.connect(closed)
        if not owns_app:
            # Someone else runs the event loop: the window lives on after we return.
            _open_windows.append(window)
            server = None  # stopped by closed(), not now
            return 0
        return int(_exec_until_closed_or_signalled(app))
    finally:
        if server is not None:
            server.stop()
        if scratch is not None:
            scratch.cleanup()


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


def _exec_until_closed_or_signalled(app: Any) -> int:
    """``app.exec()``, but Ctrl+C or SIGTERM quit it cleanly so the embedded server is stopped
    (a child left behind would hold its port and data folder)."""
    import signal

    from PySide6.QtCore import QTimer

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
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    from publisher.ui.drop_zone import DropTarget

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
        return _fail(f"Could not write the screenshot to {path}: check the folder exists and is writable.")
    if state["timeout"]:
        return _fail(f"The data did not load within {timeout_ms // 1000} s; saved what was shown to {path}."
                     + (f" Last error: {errors[-1]}" if errors else ""))
    if errors:
        return _fail(f"Saved {path}, but the window reported: {errors[-1]}")
    print(f"Saved the window to {path}")
    return 0
