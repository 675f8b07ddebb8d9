"""dock_into any QMainWindow, the connection a docked widget owns, and what happens without a host."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QWidget

from publisher.api import Session
from publisher.hosts import dock
from publisher.ui.window import PublisherWidget

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def session(embedded_server):
    s = Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key)
    yield s
    s.close()


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def _projects_loaded(widget: PublisherWidget) -> bool:
    return widget.browser.view.model().rowCount() > 0


def test_dock_into_a_main_window_docks_the_publisher_widget(qtbot, session, settings):
    app = QApplication.instance()
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(QWidget())
    window.show()

    result = dock.dock_into(window, session=session, settings=settings)

    assert isinstance(result, QDockWidget)
    assert window.findChildren(QDockWidget) == [result]
    assert result.objectName() == dock.DOCK_OBJECT_NAME
    assert result.windowTitle() == dock.TITLE
    assert window.dockWidgetArea(result) == Qt.DockWidgetArea.RightDockWidgetArea
    widget = result.widget()
    assert isinstance(widget, PublisherWidget)
    assert result.isVisible() and widget.isVisible()
    for w in (window, result, widget):
        assert not w.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert QApplication.instance() is app
    # It works: the demo project's contexts load into the docked widget.
    qtbot.waitUntil(lambda: _projects_loaded(widget), timeout=30000)
    # A second call raises the same dock rather than adding another.
    result.hide()
    again = dock.dock_into(window, session=session, settings=settings)
    assert again is result and again.isVisible()
    assert window.findChildren(QDockWidget) == [result]
    widget.shutdown()


def test_dock_into_takes_the_area_and_title(qtbot, session, settings):
    window = QMainWindow()
    qtbot.addWidget(window)
    result = dock.dock_into(window, area=Qt.DockWidgetArea.LeftDockWidgetArea, title="Publish",
                            session=session, settings=settings)
    assert window.dockWidgetArea(result) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert result.windowTitle() == "Publish"
    result.widget().shutdown()


def test_dock_into_a_plain_widget_says_what_to_pass(qtbot, session):
    host = QWidget()
    qtbot.addWidget(host)
    with pytest.raises(dock.HostError, match="needs a QMainWindow"):
        dock.dock_into(host, session=session)  # type: ignore[arg-type]


def test_a_docked_widget_closes_its_own_connection_when_destroyed(qtbot, host_env):
    window = QMainWindow()
    window.show()
    result = dock.dock_into(window)
    widget = result.widget()
    connection = widget.connection
    assert connection in dock._live and not connection.closed
    qtbot.waitUntil(lambda: _projects_loaded(widget), timeout=30000)
    widget.shutdown()
    with qtbot.waitSignal(window.destroyed, timeout=5000):
        window.deleteLater()
    assert connection.closed
    assert connection not in dock._live


def test_an_unreachable_server_is_a_clear_error(qapp, monkeypatch, settings):
    monkeypatch.setenv("FTRACK_SERVER", "http://127.0.0.1:9")
    monkeypatch.setenv("FTRACK_API_USER", "demo")
    monkeypatch.setenv("FTRACK_API_KEY", "x")
    before = list(dock._live)
    with pytest.raises(dock.HostError, match="Could not connect to http://127.0.0.1:9"):
        dock.create_widget(settings=settings)
    assert dock._live == before


def test_inside_a_dcc_without_a_server_or_a_python_it_says_what_to_set(qapp, monkeypatch, settings, tmp_path):
    for name in ("FTRACK_SERVER", "FTRACK_API_USER", "FTRACK_API_KEY", "FTRACK_PUBLISHER_PYTHON"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "maya.bin"))
    with pytest.raises(dock.HostError, match="FTRACK_SERVER.*FTRACK_PUBLISHER_PYTHON"):
        dock.connect(settings=settings)


def test_a_demo_server_that_does_not_start_says_so(qapp, monkeypatch, settings, tmp_path):
    for name in ("FTRACK_SERVER", "FTRACK_API_USER", "FTRACK_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    before = list(dock._live)
    with pytest.raises(dock.HostError, match="The embedded demo server did not start"):
        dock.connect(python=str(tmp_path / "no-such-python"), settings=settings)
    assert dock._live == before


def test_the_demo_server_runs_with_the_given_python_and_stops_with_the_connection(
        qapp, monkeypatch, settings, tmp_path):
    for name in ("FTRACK_SERVER", "FTRACK_API_USER", "FTRACK_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    connection = dock.connect(python=sys.executable, settings=settings)
    try:
        assert connection.server is not None
        assert connection.server.process.args[:4] == [sys.executable, "-m", "publisher", "server"]
        assert str(tmp_path / "data") in str(connection.server.data_dir)
        # The server's Python finds the publisher even when the host put it on sys.path only.
        assert connection.server.env["PYTHONPATH"].split(os.pathsep)[0] == str(REPO)
        assert connection.session.query("Project").first() is not None
    finally:
        connection.close()
    assert connection.server.process.poll() is not None


def test_find_python_prefers_the_variable_then_the_hosts_own(monkeypatch, tmp_path):
    host = tmp_path / "bin"
    host.mkdir()
    mayapy = host / ("mayapy.exe" if sys.platform == "win32" else "mayapy")
    mayapy.write_text("#!/bin/sh\n")
    mayapy.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(host / "maya.bin"))
    monkeypatch.delenv("FTRACK_PUBLISHER_PYTHON", raising=False)
    assert dock.find_python(("mayapy",)) == str(mayapy)
    monkeypatch.setenv("FTRACK_PUBLISHER_PYTHON", "/opt/py/bin/python3")
    assert dock.find_python(("mayapy",)) == "/opt/py/bin/python3"


def test_without_a_qapplication_nothing_makes_one(tmp_path):
    """In a process with no QApplication, show() refuses with a clear message and makes none."""
    script = (
        "import sys, types\n"
        "for n in ('maya', 'maya.cmds', 'maya.utils', 'maya.OpenMayaUI'):\n"
        "    sys.modules[n] = types.ModuleType(n)\n"
        "sys.modules['maya.utils'].executeInMainThreadWithResult = lambda f: f()\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from publisher.hosts import maya, dock\n"
        "for call in (maya.show, dock.create_widget):\n"
        "    try:\n"
        "        call()\n"
        "    except dock.HostError as exc:\n"
        "        print('refused:', exc)\n"
        "print('instance:', QApplication.instance())\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("refused: No Qt application is running here.") == 2
    assert "instance: None" in proc.stdout
