"""Fixtures for the window tests: a session on the embedded server and an opened window."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from publisher.api import Session
from publisher.embedded import EmbeddedServer


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows opened without an outbox use the user's one: keep it in the test's folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture(autouse=True)
def _collect_qt_garbage():
    """Collect each test's cyclic garbage (windows, controllers, their Qt wrappers) right after
    it, while the QApplication lives and in the GUI thread: left to the interpreter's final
    collection, PySide may free Qt wrappers after Qt is gone and abort the run at exit."""
    yield
    import gc

    gc.collect()


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
def window(qtbot, ui_session, settings, outbox):
    """The main window on the demo project, shown offscreen, with its first versions loaded."""
    from publisher.ui.window import MainWindow

    win = MainWindow(ui_session, settings=settings, outbox=outbox)
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


def _write_movie(path: Path, frames: int = 24, size: tuple[int, int] = (64, 48), rate: int = 24) -> Path:
    import av
    from PIL import Image

    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            image = Image.new("RGB", (width, height), ((i * 20) % 256, 40, 90))
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture
def make_movie():
    """``make_movie(path, frames=24, size=(64, 48))`` writes a small MPEG-4 movie (PyAV)."""
    return _write_movie


@pytest.fixture
def outbox(tmp_path: Path):
    """An outbox of the test's own (never the user's), or ``None`` before the engine has one."""
    try:
        from publisher.publish.outbox import Outbox
    except ImportError:
        return None
    return Outbox(tmp_path / "outbox")
