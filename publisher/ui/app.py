"""Start the publisher window: the Qt application, the server it talks to, screenshot mode.

:func:`run` is what ``ftrack-publisher`` (no subcommand) calls. With no server configured (no
``FTRACK_SERVER`` and none in the settings) it starts the embedded server as a child process,
opens the window on its demo project and stops the server when the window closes. Called from
the main thread, before or instead of any Qt event loop.

The server comes from :mod:`publisher.settings` (``FTRACK_*`` variables > the active server
profile, its key in the keyring > the demo server). Logs go to :mod:`publisher.logs`' rotating file.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
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
    """Where to connect; ``embedded`` when the app must start its own server.

    ``source`` says where the choice came from (``"environment"``, ``"profile"``, ``"legacy"`` for
    an address left in the old Qt settings, ``"demo"``), ``label`` names it for the status bar and
    ``problem`` says what is missing (a key not stored, say) and what to do.
    """

    url: str | None
    api_user: str | None
    api_key: str | None
    embedded: bool
    source: str = field(default="", compare=False)
    label: str = field(default="", compare=False)
    problem: str = field(default="", compare=False)


def configured_server(env: dict[str, str] | None = None, settings: Any = None, store: Any = None) -> ServerChoice:
    """The server from ``FTRACK_SERVER``/``FTRACK_API_USER``/``FTRACK_API_KEY``, else the active
    profile of ``store`` (a :class:`publisher.settings.SettingsStore`, the user's by default), else
    an address left in the old ``QSettings`` keys ``server/url``/``server/api_user`` (never a key
    from there), else the embedded one. Reads only: :func:`migrate_legacy_settings` moves old keys."""
    from publisher.settings import SettingsStore

    env = dict(os.environ if env is None else env)
    store = store if store is not None else SettingsStore()
    loaded = store.load()
    chosen = store.resolve(env, loaded)
    if chosen.embedded and settings is not None and not loaded.profiles and not loaded.use_demo_server:
        url = str(settings.value("server/url", "") or "")
        if url:
            return ServerChoice(url, str(settings.value("server/api_user", "") or "") or None, None, False,
                                source="legacy", label=url)
    return ServerChoice(chosen.url, chosen.api_user, chosen.api_key, chosen.embedded, source=chosen.source,
                        label=chosen.label, problem=chosen.problem)


def migrate_legacy_settings(settings: Any, store: Any) -> None:
    """Move a server kept in the old ``QSettings`` (``server/url``, ``server/api_user``,
    ``server/api_key``) into a profile of ``store``, its key into the keyring, and delete the old
    keys: no API key stays in the settings file. Without a keyring the old key is dropped (the
    user enters it again and chooses where it goes)."""
    from publisher import logs
    from publisher.credentials import CredentialError
    from publisher.settings import ServerProfile

    key = str(settings.value("server/api_key", "") or "")
    url = str(settings.value("server/url", "") or "")
    user = str(settings.value("server/api_user", "") or "")
    logs.register_secret(key)
    if key:
        settings.remove("server/api_key")
    if url:
        loaded = store.load()
        known = any((p.url.rstrip("/"), p.api_user) == (url.rstrip("/"), user) for p in loaded.profiles)
        try:
            if not known:
                from urllib.parse import urlsplit

                profile = ServerProfile(urlsplit(url).hostname or url, url, user)
                try:
                    store.save_profile(loaded, profile, key or None)
                except CredentialError as exc:
                    log.warning("The API key of %s could not be moved to the keyring (%s); enter it in Settings.",
                                url, exc)
                    store.save_profile(loaded, profile)
                if loaded.active is None:
                    loaded.active = profile.label
                    store.save(loaded)
            settings.remove("server/url")
            settings.remove("server/api_user")
        except (ValueError, OSError) as exc:  # a bad address or an unwritable folder: keep the old keys
            log.warning("Could not move the server %s from the old settings: %s", url, exc)
    settings.sync()


def _connect(choice: ServerChoice) -> Any:
    """A session on ``choice`` (not the embedded server); raises ``FtrackError`` saying why not."""
    from publisher.api import ConfigurationError, Session

    if choice.problem and not choice.api_key:
        raise ConfigurationError(choice.problem)
    return Session(choice.url, choice.api_user, choice.api_key)


def _connect_or_ask(choice: ServerChoice, settings: Any, store: Any, interactive: bool) -> tuple[Any, ServerChoice]:
    """A session on ``choice``; when that fails for a saved profile and ``interactive``, the settings
    dialog says why and the new choice is tried. Returns ``(None, choice)`` when the user switched to
    the demo server; raises ``FtrackError`` when the user cancels or nothing can be asked."""
    from publisher.api import FtrackError

    while True:
        log.info("Connecting to %s as %s (%s)", choice.url, choice.api_user, choice.source)
        try:
            return _connect(choice), choice
        except FtrackError as exc:
            if not (interactive and choice.source == "profile" and _ask_settings(str(exc), store)):
                raise
        choice = configured_server(settings=settings, store=store)
        if choice.embedded:
            return None, choice


def _ask_settings(message: str, store: Any) -> bool:
    """Show the settings dialog with ``message`` on top; True when the user saved. Main thread,
    before the event loop (the dialog runs its own modal loop)."""
    from PySide6.QtWidgets import QDialog

    from publisher.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(store)
    from publisher import logs

    dialog.load_notice.setText(f"{logs.redact(message)}\n\nFix the server below, or tick \"Use the local demo server\".")
    dialog.load_notice.show()
    return dialog.exec() == QDialog.DialogCode.Accepted


def _fail(message: str, *, dialog: bool = False) -> int:
    """Say why the publisher cannot start (and, for a windowed start, in a message box too)."""
    print(f"ftrack-publisher: {message}", file=sys.stderr)
    if dialog:
        from PySide6.QtWidgets import QApplication, QMessageBox

        if QApplication.instance() is not None and QApplication.platformName() not in ("offscreen", "minimal"):
            QMessageBox.critical(None, "ftrack publisher", message)
    return 1


def run(argv: list[str] | None = None, *, screenshot: str | os.PathLike[str] | None = None,
        launch: Any = None) -> int:
    """Run the window until it closes (or, with ``screenshot``, save it to that PNG and return).

    Returns the process exit status.
    """
    if screenshot is not None:
        # Rendered without a display: the offscreen platform must be chosen before Qt starts.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from publisher import logs, paths
    from publisher.embedded import EmbeddedServer, EmbeddedServerError
    from publisher.settings import SettingsStore

    app = QApplication.instance()
    owns_app = app is None
    if app is None:
        from publisher.ui.preflight import display_problem

        problem = display_problem()
        if problem:  # Qt would abort the process without saying which package to install
            return _fail(problem)
        app = QApplication(list(argv) if argv else [sys.argv[0]])
        app.setApplicationName("ftrack-publisher")
        app.setOrganizationName("ftrack")
    # Inside someone else's application (a DCC) only our own loggers go to our file.
    level = getattr(logging, os.environ.get("FTRACK_PUBLISHER_LOG_LEVEL", "INFO").upper(), logging.INFO)
    try:
        log_path = logs.setup(level if isinstance(level, int) else logging.INFO, logger="" if owns_app else "publisher")
        log.info("ftrack publisher starting; log file %s", log_path)
    except OSError as exc:  # an unwritable log folder must not stop the app
        print(f"ftrack-publisher: cannot write the log ({exc}); continuing without it.", file=sys.stderr)
    settings = QSettings("ftrack", "ftrack-publisher")
    store = SettingsStore()
    if screenshot is None:
        migrate_legacy_settings(settings, store)
    choice = configured_server(settings=settings, store=store)
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
        from publisher.api import FtrackError, Session

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
                return _fail(logs.redact(str(exc)), dialog=screenshot is None)
        if choice.embedded:
            data_dir = Path(scratch.name) / "server" if scratch is not None else paths.embedded_server_dir()
            server = EmbeddedServer(data_dir)
            print("Starting the embedded ftrack server with the demo project…", file=sys.stderr)
            try:
                info = server.start()
            except EmbeddedServerError as exc:
                return _fail(logs.redact(str(exc)), dialog=screenshot is None)
            logs.register_secret(info.api_key)
            label = f"embedded demo server {info.url}"
            log.info("Using the embedded demo server at %s", info.url)
            try:
                session = Session(info.url, info.api_user, info.api_key)
            except FtrackError as exc:
                return _fail(logs.redact(str(exc)), dialog=screenshot is None)
        else:
            label = {"profile": f"{choice.label} · {choice.url}",
                     "environment": f"{choice.url} (FTRACK_SERVER)"}.get(choice.source, choice.url or "")
            if choice.source == "profile":
                try:
                    store.mark_used(store.load(), choice.label)
                except OSError as exc:
                    log.warning("Could not record the use of %s: %s", choice.label, exc)
        from publisher.hosts.standalone import open_window
        from publisher.ui.window import USER_OUTBOX

        outbox: Any = USER_OUTBOX
        if scratch is not None:
            # The picture's scratch server must never resume the user's own unfinished publishes.
            from publisher.publish.outbox import Outbox

            outbox = Outbox(Path(scratch.name) / "outbox")
        window = open_window(session, server_label=label, show=screenshot is None, settings=settings,
                             outbox=outbox, launch=launch)
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
        return _fail(f"Could not write the screenshot to {path}: check the folder exists and is writable.")
    if state["timeout"]:
        return _fail(f"The data did not load within {timeout_ms // 1000} s; saved what was shown to {path}."
                     + (f" Last error: {errors[-1]}" if errors else ""))
    if errors:
        return _fail(f"Saved {path}, but the window reported: {errors[-1]}")
    print(f"Saved the window to {path}")
    return 0
