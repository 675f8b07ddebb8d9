"""Fixtures for the window tests: a session on the embedded server and an opened window."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from publisher.api import Session
from publisher.embedded import EmbeddedServer


@pytest.fixture(scope="package")
def embedded_server(tmp_path_factory: pytest.TempPathFactory):
    """A server of the window tests' own: they look at the demo project as it is seeded, and
    other test packages add projects and versions to the session-wide server."""
    server = EmbeddedServer(tmp_path_factory.mktemp("ui-server"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ui_session(embedded_server):
    session = Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key)
    yield session
    session.close()


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, ui_session, settings):
    """The main window on the demo project, shown offscreen, with its first versions loaded."""
    from publisher.ui.window import MainWindow

    win = MainWindow(ui_session, settings=settings)
    qtbot.addWidget(win)
    win.show()
    controller = win.controller
    with qtbot.waitSignal(controller.versionsLoaded, timeout=30000):
        win.start()
    qtbot.waitUntil(lambda: controller.details is not None, timeout=30000)
    yield win
    controller.shutdown()


def _make_sequence(folder: Path, head: str, frames: list[int], tail: str = ".exr", size: int = 64) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for frame in frames:
        path = folder / f"{head}.{frame:04d}{tail}"
        path.write_bytes(bytes([frame % 251]) * size)
        paths.append(path)
    return paths


@pytest.fixture
def make_sequence():
    """``make_sequence(folder, head, frames, tail=".exr", size=64)`` writes frame files."""
    return _make_sequence
