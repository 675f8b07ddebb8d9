"""The publisher as a standalone app (outside any DCC): its start-up, and its window.

:func:`run` is what ``ftrack-publisher`` (no subcommand) calls. The server comes from
:func:`publisher.connection.configured_server` (``FTRACK_*`` variables > the active server
profile, its key in the keyring > the demo server). With none configured it starts the embedded
server as a child process, opens the window on its demo project and stops the server when the
window closes. Logs go to :mod:`publisher.logs`' rotating file. Main thread, before or instead
of any Qt event loop.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from publisher import logs, paths
from publisher.api.exceptions import FtrackError
from publisher.api.session import Session
from publisher.connection import (
    Connection,
    ConnectionFailure,
    ServerChoice,
    configured_server,
    migrate_legacy_settings,
    open_session,
    start_demo_server,
)
from publisher.publish.outbox import Outbox
from publisher.settings import SettingsStore
from publisher.ui import app as qt_app
from publisher.ui.preflight import display_problem
from publisher.ui.window import USER_OUTBOX, MainWindow

log = logging.getLogger(__name__)

#: Windows opened inside an application someone else runs (a DCC, a test): kept alive here
#: until they close, since :func:`run` returns at once there.
_open_windows: list[Any] = []


def open_window(session: Any, *, server_label: str = "", show: bool = True, settings: Any = None,
                outbox: Any = USER_OUTBOX, launch: Any = None) -> MainWindow:
    """Create the main window on ``session``; with ``show`` show it and start loading.

    ``outbox`` is where publishes wait and are resumed from (default: the user's own); ``launch``
    (:class:`~publisher.hosts.launch_options.LaunchOptions`) the task to open at and the items
    to stage (default: ``FTRACK_CONTEXTID``). A
    ``QApplication`` must exist; call from the GUI thread. The caller keeps the window alive.
    """
    window = MainWindow(session, server_label=server_label, settings=settings, outbox=outbox)
    if show:
        window.show()
        from publisher.hosts import opening

        opening.start(window.widget, options=launch, window=window)
    return window


def _connect_or_ask(choice: ServerChoice, settings: Any, store: SettingsStore,
                    interactive: bool) -> tuple[Session | None, ServerChoice]:
    """A session on ``choice``; when that fails for a saved profile and ``interactive``, the settings
    dialog says why and the new choice is tried. Returns ``(None, choice)`` when the user switched to
    the demo server; raises ``FtrackError`` when the user cancels or nothing can be asked."""
    while True:
        log.info("Connecting to %s as %s (%s)", choice.url, choice.api_user, choice.source)
        try:
            return open_session(choice), choice
        except FtrackError as exc:
            if not (interactive and choice.source == "profile" and qt_app.ask_settings(str(exc), store)):
                raise
        choice = configured_server(settings=settings, store=store)
        if choice.embedded:
            return None, choice


def _start_logging(owns_app: bool) -> None:
    # Inside someone else's application (a DCC) only our own loggers go to our file.
    level = getattr(logging, os.environ.get("FTRACK_PUBLISHER_LOG_LEVEL", "INFO").upper(), logging.INFO)
    try:
        log_path = logs.setup(level if isinstance(level, int) else logging.INFO, logger="" if owns_app else "publisher")
        log.info("ftrack publisher starting; log file %s", log_path)
    except OSError as exc:  # an unwritable log folder must not stop the app
        print(f"ftrack-publisher: cannot write the log ({exc}); continuing without it.", file=sys.stderr)


def run(argv: list[str] | None = None, *, screenshot: str | os.PathLike[str] | None = None,
        launch: Any = None) -> int:
    """Run the window until it closes (or, with ``screenshot``, save it to that PNG and return).

    ``launch`` (:class:`~publisher.hosts.launch_options.LaunchOptions`): the task to open at and
    the items to stage (``--context``, ``--stage``; default ``FTRACK_CONTEXTID``).

    Returns the process exit status.
    """
    if screenshot is not None:
        # Rendered without a display: the offscreen platform must be chosen before Qt starts.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance()
    owns_app = app is None
    if app is None:
        problem = display_problem()
        if problem:  # Qt would abort the process without saying which package to install
            return qt_app.fail(problem)
        app = QApplication(list(argv) if argv else [sys.argv[0]])
        app.setApplicationName("ftrack-publisher")
        app.setOrganizationName("ftrack")
    _start_logging(owns_app)
    settings = QSettings("ftrack", "ftrack-publisher")
    store = SettingsStore()
    if screenshot is not None:
        # The picture shows the demo project as a new user sees it: a fresh embedded server and
        # fresh settings, whatever this machine is configured for.
        scratch: tempfile.TemporaryDirectory[str] | None = tempfile.TemporaryDirectory(
            prefix="ftrack-publisher-screenshot-")
        assert scratch is not None
        settings = QSettings(str(Path(scratch.name) / "settings.ini"), QSettings.Format.IniFormat)
        choice = ServerChoice(None, None, None, True)
    else:
        scratch = None
        migrate_legacy_settings(settings, store)
        choice = configured_server(settings=settings, store=store)
    connection: Connection | None = None
    try:
        session = None
        if not choice.embedded:
            # A saved server that fails can be fixed there and then in the settings; the FTRACK_*
            # variables are not ours to change, so those just fail.
            interactive = (owns_app and screenshot is None
                           and QApplication.platformName() not in ("offscreen", "minimal"))
            try:
                session, choice = _connect_or_ask(choice, settings, store, interactive)
            except FtrackError as exc:
                log.error("Could not connect: %s", exc)
                return qt_app.fail(logs.redact(str(exc)), dialog=screenshot is None)
        if session is None:
            data_dir = Path(scratch.name) / "server" if scratch is not None else paths.embedded_server_dir()
            print("Starting the embedded ftrack server with the demo project…", file=sys.stderr)
            try:
                connection = start_demo_server(data_dir)
            except ConnectionFailure as failure:
                return qt_app.fail(logs.redact(str(failure.cause)), dialog=screenshot is None)
        else:
            connection = Connection(session, None, choice.status_label)
            if choice.source == "profile":
                try:
                    store.mark_used(store.load(), choice.label)
                except OSError as exc:
                    log.warning("Could not record the use of %s: %s", choice.label, exc)
        outbox: Any = USER_OUTBOX
        if scratch is not None:
            # The picture's scratch server must never resume the user's own unfinished publishes.
            outbox = Outbox(Path(scratch.name) / "outbox")
        window = open_window(connection.session, server_label=connection.label, show=screenshot is None,
                             settings=settings, outbox=outbox, launch=launch)
        window.embedded_server = connection.server  # the child process this window's close stops (or None)
        if screenshot is not None:
            assert scratch is not None
            return qt_app.save_screenshot(window, Path(screenshot),
                                          drop_paths=qt_app.example_drop(Path(scratch.name) / "drop"))
        owned = connection

        def closed() -> None:
            owned.close()
            if window in _open_windows:
                _open_windows.remove(window)

        window.closed.connect(closed)
        if not owns_app:
            # Someone else runs the event loop: the window lives on after we return.
            _open_windows.append(window)
            connection = None  # closed by closed(), not now
            return 0
        return int(qt_app.exec_until_closed_or_signalled(app))
    finally:
        if connection is not None and connection.server is not None:
            connection.server.stop()
        if scratch is not None:
            scratch.cleanup()


def main(argv: list[str] | None = None) -> int:
    """Run the standalone publisher (what ``ftrack-publisher`` runs)."""
    return run(argv)


__all__ = ["main", "open_window", "run"]
