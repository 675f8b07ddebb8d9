"""maya.show(), nuke.show(), houdini.show() against stand-in host modules that record the calls."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from publisher.hosts import dock
from publisher.ui.window import PublisherWidget


def _in_worker(qtbot, call: Callable[[], Any]) -> Any:
    """Run ``call`` on a worker thread while the main thread keeps its event loop going."""
    out: dict[str, Any] = {}

    def work() -> None:
        try:
            out["result"] = call()
        except BaseException as exc:
            out["error"] = exc

    thread = threading.Thread(target=work)
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=60000)
    if "error" in out:
        raise out["error"]
    return out["result"]


def _check_no_stay_on_top(widget: QWidget) -> None:
    w: QWidget | None = widget
    while w is not None:
        assert not w.windowFlags() & Qt.WindowType.WindowStaysOnTopHint, w
        w = w.parentWidget()


def _publisher_in(container: QWidget) -> PublisherWidget:
    found = container.findChildren(PublisherWidget)
    assert len(found) == 1, found
    return found[0]


# Maya ------------------------------------------------------------------------------------------
@pytest.fixture
def maya_host(stand_in, monkeypatch):
    recorder = stand_in("maya")
    from publisher.hosts import maya

    monkeypatch.setattr(maya, "_widget", None)
    return recorder, maya


def test_maya_show_makes_a_workspace_control_filled_by_its_ui_script(qtbot, maya_host):
    recorder, maya = maya_host
    app = QApplication.instance()
    widget = maya.show()

    create = [c for c in recorder.named("workspaceControl") if "uiScript" in c.kwargs]
    assert len(create) == 1
    call = create[0]
    assert call.args == (maya.CONTROL,)
    assert call.kwargs["label"] == dock.TITLE
    assert call.kwargs["uiScript"] == maya.UI_SCRIPT
    assert call.kwargs["retain"] is False
    assert "floating" in call.kwargs
    control = __import__("maya.cmds").cmds.controls[maya.CONTROL]
    # restore() ran from the uiScript: the widget sits in the control's layout through Maya's call.
    assert recorder.names().index("MQtUtil.getCurrentParent") < recorder.names().index("MQtUtil.addWidgetToMayaLayout")
    assert isinstance(widget, PublisherWidget)
    assert _publisher_in(control) is widget
    assert control.layout().indexOf(widget) >= 0
    _check_no_stay_on_top(widget)
    assert QApplication.instance() is app
    qtbot.waitUntil(lambda: widget.browser.view.model().rowCount() > 0, timeout=30000)
    assert all(c.on_main_thread for c in recorder.calls)

    # Shown again: the same control is restored, nothing new is made.
    recorder.calls.clear()
    assert maya.show() is widget
    assert [c.kwargs.get("edit") for c in recorder.named("workspaceControl")] == [None, True, True]
    assert not any("uiScript" in c.kwargs for c in recorder.calls)
    assert "MQtUtil.getCurrentParent" not in recorder.names()


def test_maya_show_from_a_worker_thread_runs_maya_calls_on_the_main_thread(qtbot, maya_host):
    recorder, maya = maya_host
    widget = _in_worker(qtbot, maya.show)
    assert recorder.calls[0].name == "maya.utils.executeInMainThreadWithResult"
    assert recorder.calls[0].on_main_thread is False
    host_calls = recorder.calls[1:]
    assert {c.name for c in host_calls} >= {"workspaceControl", "MQtUtil.getCurrentParent",
                                            "MQtUtil.addWidgetToMayaLayout"}
    assert all(c.on_main_thread for c in host_calls)
    assert widget.thread() is QApplication.instance().thread()


def test_maya_a_control_left_without_the_widget_is_rebuilt(qtbot, maya_host):
    recorder, maya = maya_host
    cmds = __import__("maya.cmds").cmds
    cmds.workspaceControl(maya.CONTROL, label="left from a saved layout")  # no uiScript run
    recorder.calls.clear()
    widget = maya.show()
    assert recorder.named("deleteUI")[0].args == (maya.CONTROL,)
    assert _publisher_in(cmds.controls[maya.CONTROL]) is widget


def test_maya_restore_outside_a_control_says_what_to_call(maya_host):
    _recorder, maya = maya_host
    with pytest.raises(dock.HostError, match=r"publisher.hosts.maya.show\(\)"):
        maya.restore()


# Nuke ------------------------------------------------------------------------------------------
@pytest.fixture
def nuke_host(stand_in):
    recorder = stand_in("nuke")
    from publisher.hosts import nuke

    return recorder, nuke


def test_nuke_register_adds_the_panel_to_the_pane_menu(nuke_host):
    recorder, nuke = nuke_host
    nuke.register()
    assert [c.args for c in recorder.named("registerWidgetAsPanel")] == [
        ("publisher.hosts.nuke.PublisherPanel", dock.TITLE, "com.ftrack.publisher", False)]
    assert all(c.on_main_thread for c in recorder.calls)


def test_nuke_show_adds_the_registered_panel_to_the_properties_pane(qtbot, nuke_host):
    recorder, nuke = nuke_host
    app = QApplication.instance()
    panel = nuke.show()
    assert [c.args for c in recorder.named("registerWidgetAsPanel")] == [
        (nuke.WIDGET_PATH, dock.TITLE, nuke.PANEL_ID, True)]
    assert recorder.named("getPaneFor")[0].args == ("Properties.1",)
    assert recorder.named("panel.addToPane")[0].args == ("Properties.1",)
    pane = __import__("nuke").panes["Properties.1"]
    assert isinstance(panel.widget, nuke.PublisherPanel)
    widget = _publisher_in(pane)
    assert widget is panel.widget.publisher
    _check_no_stay_on_top(widget)
    assert QApplication.instance() is app
    qtbot.waitUntil(lambda: widget.browser.view.model().rowCount() > 0, timeout=30000)


def test_nuke_show_from_a_worker_thread_runs_nuke_calls_on_the_main_thread(qtbot, nuke_host):
    recorder, nuke = nuke_host
    panel = _in_worker(qtbot, nuke.show)
    assert recorder.calls[0].name == "nuke.executeInMainThreadWithResult"
    assert not recorder.calls[0].on_main_thread
    assert [c.name for c in recorder.calls[1:]] == ["registerWidgetAsPanel", "getPaneFor", "panel.addToPane"]
    assert all(c.on_main_thread for c in recorder.calls[1:])
    assert isinstance(panel.widget.publisher, PublisherWidget)


# Houdini ---------------------------------------------------------------------------------------
@pytest.fixture
def houdini_host(stand_in):
    recorder = stand_in("houdini")
    from publisher.hosts import houdini

    return recorder, houdini


def test_houdini_show_opens_the_python_panel_in_a_floating_pane_tab(qtbot, houdini_host, host_env):
    recorder, houdini = houdini_host
    app = QApplication.instance()
    tab = houdini.show()
    installed = recorder.named("hou.pypanel.installFile")
    assert len(installed) == 1
    path = Path(installed[0].args[0])
    assert path.is_relative_to(host_env / "cache")
    assert f'<interface name="{houdini.INTERFACE}"' in path.read_text(encoding="utf-8")
    create = recorder.named("desktop.createFloatingPaneTab")
    assert len(create) == 1 and create[0].args == ("PythonPanel",)
    assert recorder.named("paneTab.setActiveInterface")[0].args == (houdini.INTERFACE,)
    widget = tab.widget
    assert isinstance(widget, PublisherWidget)
    assert _publisher_in(tab.container) is widget
    _check_no_stay_on_top(widget)
    assert QApplication.instance() is app
    qtbot.waitUntil(lambda: widget.browser.view.model().rowCount() > 0, timeout=30000)

    # Shown again: the open tab is brought forward, the panel file is not installed twice.
    recorder.calls.clear()
    assert houdini.show() is tab
    assert "desktop.createFloatingPaneTab" not in recorder.names()
    assert "hou.pypanel.installFile" not in recorder.names()
    assert "paneTab.setIsCurrentTab" in recorder.names()


def test_houdini_show_from_a_worker_thread_runs_hou_calls_on_the_main_thread(qtbot, houdini_host):
    recorder, houdini = houdini_host
    tab = _in_worker(qtbot, houdini.show)
    assert recorder.calls[0].name == "hdefereval.executeInMainThreadWithResult"
    assert not recorder.calls[0].on_main_thread
    assert len(recorder.calls) > 3
    assert all(c.on_main_thread for c in recorder.calls[1:])
    assert isinstance(tab.widget, PublisherWidget)


def test_houdini_unreadable_panel_file_is_a_clear_error(houdini_host, monkeypatch, tmp_path):
    _recorder, houdini = houdini_host
    hou = __import__("hou")
    monkeypatch.setattr(hou.pypanel, "installFile", lambda path: None)  # Houdini loaded nothing
    with pytest.raises(dock.HostError, match="did not load the Python Panel"):
        houdini.show()


# Docking that fails floats ---------------------------------------------------------------------
def test_maya_docking_that_fails_opens_a_floating_window_with_collect(qtbot, maya_host, monkeypatch):
    recorder, maya = maya_host
    cmds = __import__("maya.cmds").cmds

    def broken(name, **kw):
        recorder.record("workspaceControl", name, **kw)
        if kw.get("query"):
            return False
        raise RuntimeError("workspaceControl: flag 'uiScript' changed in this version")

    monkeypatch.setattr(cmds, "workspaceControl", broken)
    widget = maya.show()
    assert isinstance(widget, PublisherWidget)
    assert widget.isWindow() and widget.isVisible()
    assert widget.windowTitle() == dock.TITLE
    _check_no_stay_on_top(widget)
    from PySide6.QtWidgets import QToolButton

    assert widget.findChild(QToolButton, "CollectButton").text() == "Collect from Maya"
    qtbot.waitUntil(lambda: widget.browser.view.model().rowCount() > 0, timeout=30000)
    # Asked again, the floating window comes forward instead of a second one.
    assert maya.show() is widget
    qtbot.waitUntil(lambda: not widget.controller.busy(), timeout=30000)
    widget.shutdown()
    widget.close()
