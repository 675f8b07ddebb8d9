"""Put the publisher inside an application someone else runs: any Qt 6 host, and the pieces the
Maya, Nuke and Houdini adapters share.

:func:`dock_into` docks a :class:`~publisher.ui.window.PublisherWidget` into any ``QMainWindow``.
:func:`create_widget` makes the widget on the configured server (``FTRACK_SERVER``/the settings)
or, with none configured, on an embedded demo server started with the host's own Python.
:func:`on_main_thread` runs a host call on the host's main thread.

Everything here is for the GUI (main) thread of a running ``QApplication``, except
:func:`on_main_thread`, which may be called from any thread. Nothing here creates a
``QApplication``, calls ``exec()`` or sets a stay-on-top flag: the host owns all of that.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path
from typing import Any, Callable, TypeVar

from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QWidget

import publisher
from publisher import paths
from publisher.api.exceptions import FtrackError
from publisher.connection import (
    Connection,
    ConnectionFailure,
    FailureKind,
    configured_server,
    open_session,
    start_demo_server,
)
from publisher.ui.window import PublisherWidget

T = TypeVar("T")

#: Object name of the dock :func:`dock_into` makes; a second call finds and raises it.
DOCK_OBJECT_NAME = "ftrackPublisherDock"
#: Title of the dock, panel or workspace control in every host.
TITLE = "ftrack publisher"

#: Connections whose widget is still open, so their session and server outlive the call.
_live: list["HostConnection"] = []


class HostError(RuntimeError):
    """The publisher cannot be opened in this host; the message says what to do."""


class HostConnection(Connection):
    """A session (and, for the demo, the embedded server) owned by one docked widget; kept in
    ``_live`` until it is closed, so the session and server outlive the call that made them."""

    def close(self) -> None:
        """Close the session and stop the embedded server (once)."""
        try:
            super().close()
        finally:
            if self in _live:
                _live.remove(self)


def require_application() -> QApplication:
    """The host's ``QApplication``; never makes one (a second one would crash the host)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise HostError(
            "No Qt application is running here. Open the publisher from inside the host "
            "(Maya, Nuke, Houdini or another Qt 6 application), or run the standalone "
            "`ftrack-publisher` instead.")
    return app


def on_main_thread(call: Callable[[], T], executor: Callable[[Callable[[], T]], T] | None = None) -> T:
    """Run ``call`` on the main thread and return its result. Any thread.

    On the main thread ``call`` runs at once. Elsewhere it goes through ``executor``, the host's
    own ``executeInMainThreadWithResult`` (maya.utils, nuke, hdefereval), which blocks until the
    host's main thread has run it.
    """
    if threading.current_thread() is threading.main_thread():
        return call()
    if executor is None:
        raise HostError("Host calls must run on the main thread; this host offers no way to get there "
                        "from a worker thread. Call show() from the main thread.")
    return executor(call)


def find_python(names: tuple[str, ...]) -> str | None:
    """A Python interpreter able to run ``python -m publisher server`` next to the host.

    ``FTRACK_PUBLISHER_PYTHON`` wins; else the first of ``names`` found beside the host's
    executable (``mayapy``, ``hython``...) or on ``PATH``.
    """
    chosen = os.environ.get("FTRACK_PUBLISHER_PYTHON")
    if chosen:
        return chosen
    here = Path(sys.executable).parent
    suffixes = (".exe", "") if sys.platform == "win32" else ("",)
    for name in names:
        for suffix in suffixes:
            candidate = here / f"{name}{suffix}"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def host_settings() -> QSettings:
    """The publisher's settings (the same ``QSettings`` the standalone app uses)."""
    return QSettings("ftrack", "ftrack-publisher")


def connect(*, python: str | None = None, settings: Any = None) -> HostConnection:
    """Open a session on the configured server, or on an embedded demo server.

    ``python`` runs the embedded server when one is needed (inside a DCC ``sys.executable`` is
    the DCC, not a Python). Raises :class:`HostError` saying what to do when it cannot connect.
    """
    settings = settings if settings is not None else host_settings()
    choice = configured_server(settings=settings)
    if choice.embedded:
        if python is None and not _can_run_server_here():
            raise HostError(
                "No ftrack server is configured and no Python was found to run the embedded demo "
                "server. Set FTRACK_SERVER, FTRACK_API_USER and FTRACK_API_KEY to use your studio's "
                "ftrack, or FTRACK_PUBLISHER_PYTHON to a Python that has the publisher installed.")
        try:
            demo = start_demo_server(paths.embedded_server_dir(), python=python, env=_server_env())
        except ConnectionFailure as failure:
            if failure.kind is FailureKind.SERVER_DID_NOT_START:
                raise HostError(f"The embedded demo server did not start: {failure.cause}") from failure
            raise HostError(f"Could not connect to {failure.url}: {failure.cause}") from failure
        connection = HostConnection(demo.session, demo.server, demo.label)
    else:
        try:
            session = open_session(choice)
        except FtrackError as exc:
            raise HostError(f"Could not connect to {choice.url}: {exc}") from exc
        connection = HostConnection(session, None, choice.url or "")
    _live.append(connection)
    return connection


def _server_env() -> dict[str, str]:
    """This environment, with the folder holding the ``publisher`` package first on PYTHONPATH.

    Hosts often add that folder to ``sys.path`` only (Nuke's ``pluginAddPath``, a shelf script):
    the server's Python would not find the publisher without it.
    """
    env = dict(os.environ)
    root = str(Path(publisher.__file__).resolve().parent.parent)
    rest = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != root]
    env["PYTHONPATH"] = os.pathsep.join([root, *rest])
    return env


def _can_run_server_here() -> bool:
    # A plain Python (a test, a Qt app written in Python) or the frozen app can run the server
    # itself; a DCC binary cannot.
    if getattr(sys, "frozen", False):
        return True
    return Path(sys.executable).name.lower().startswith("python")


class _Closer(QObject):
    """Ends a widget's work when the host quits or the widget goes away. GUI thread."""

    def __init__(self, widget: QWidget, connection: HostConnection) -> None:
        super().__init__(widget)
        self._connection = connection
        self._controller = widget.controller  # type: ignore[attr-defined]
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        # When the widget is destroyed its controller goes with it: only the session and the
        # server are left to close.
        widget.destroyed.connect(lambda *_: connection.close())

    def shutdown(self) -> None:
        try:
            self._controller.shutdown()
        except RuntimeError:
            pass  # already deleted with its widget
        self._connection.close()


def create_widget(parent: QWidget | None = None, *, session: Any = None, python: str | None = None,
                  settings: Any = None, start: bool = True, host: str | None = None) -> QWidget:
    """A :class:`~publisher.ui.window.PublisherWidget` that follows the host's look.

    With ``session`` it uses that session (the caller closes it); without, it opens one with
    :func:`connect` and closes it, and stops any embedded server, when the widget is destroyed
    or the application quits. ``start`` loads the projects at once, at ``FTRACK_CONTEXTID`` when
    set; ``host`` ("Maya", "Nuke", "Houdini") adds its "Collect from" action. GUI thread only.
    """
    require_application()
    settings = settings if settings is not None else host_settings()
    connection = None
    if session is None:
        connection = connect(python=python, settings=settings)
        session = connection.session
    try:
        widget = PublisherWidget(session, parent, follow_host=True, settings=settings)
    except Exception:
        if connection is not None:
            connection.close()
        raise
    widget.setObjectName("PublisherWidget")
    widget.setWindowTitle(TITLE)
    if connection is not None:
        widget.connection = connection  # type: ignore[attr-defined]
        _Closer(widget, connection)
    if start:
        from publisher.hosts import opening

        opening.start(widget, host=host)
    return widget


def dock_into(main_window: QMainWindow, *, area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
              title: str = TITLE, widget: QWidget | None = None, session: Any = None,
              settings: Any = None) -> QDockWidget:
    """Dock the publisher into ``main_window`` (any Qt 6 host's ``QMainWindow``) and return the dock.

    A second call raises the dock already there instead of making another. ``widget`` docks a
    widget you made; else one is made with :func:`create_widget` (on ``session`` when given).
    GUI thread only.
    """
    require_application()
    if not isinstance(main_window, QMainWindow):
        raise HostError(f"dock_into needs a QMainWindow, not {type(main_window).__name__}: "
                        "pass the host's main window (for a plain QWidget host, parent the widget "
                        "from create_widget() yourself).")
    existing = main_window.findChild(QDockWidget, DOCK_OBJECT_NAME)
    if existing is not None and existing.widget() is not None:
        existing.show()
        existing.raise_()
        return existing
    dock = existing or QDockWidget(title, main_window)
    dock.setObjectName(DOCK_OBJECT_NAME)
    dock.setWindowTitle(title)
    dock.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
    if widget is None:
        widget = create_widget(dock, session=session, settings=settings)
    dock.setWidget(widget)
    main_window.addDockWidget(area, dock)
    dock.show()
    dock.raise_()
    return dock


__all__ = ["DOCK_OBJECT_NAME", "HostConnection", "HostError", "TITLE", "connect", "create_widget",
           "dock_into", "find_python", "host_settings", "on_main_thread", "require_application"]
