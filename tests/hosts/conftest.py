"""Stand-in host modules (maya, nuke, nukescripts, hou, hdefereval) that record the calls made.

Each stand-in does what the real host does with the calls the adapters make, in Qt: a workspace
control or pane is a real ``QWidget`` the publisher widget is parented into; the host's
``executeInMainThreadWithResult`` really hands the call to the main thread through a queued
signal and waits. Every recorded call carries the thread it ran on.
"""

from __future__ import annotations

import sys
import threading
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget
from shiboken6 import getCppPointer, wrapInstance

HOST_MODULES = ("maya", "maya.cmds", "maya.OpenMayaUI", "maya.utils", "nuke", "nukescripts",
                "nukescripts.panels", "hou", "hdefereval")


@dataclass
class Call:
    name: str
    args: tuple
    kwargs: dict
    on_main_thread: bool


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)
    widgets: list[QWidget] = field(default_factory=list)  # host-side containers, kept alive here

    def record(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append(Call(name, args, kwargs,
                               threading.current_thread() is threading.main_thread()))

    def names(self) -> list[str]:
        return [c.name for c in self.calls]

    def named(self, name: str) -> list[Call]:
        return [c for c in self.calls if c.name == name]


class _MainThreadRunner(QObject):
    """What a host's executeInMainThreadWithResult does: run on the main thread, wait, return."""

    request = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.request.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def _run(self, job: dict) -> None:
        try:
            job["result"] = job["call"]()
        except BaseException as exc:  # handed back to the waiting thread
            job["error"] = exc
        job["done"].set()

    def run(self, call: Callable[[], Any]) -> Any:
        if threading.current_thread() is threading.main_thread():
            return call()
        job = {"call": call, "done": threading.Event()}
        self.request.emit(job)
        if not job["done"].wait(60):
            raise TimeoutError("the main thread did not run the call")
        if "error" in job:
            raise job["error"]
        return job.get("result")


def _pointer(widget: QWidget) -> int:
    return int(getCppPointer(widget)[0])


def _container(recorder: Recorder, name: str) -> QWidget:
    widget = QWidget()
    widget.setObjectName(name)
    QVBoxLayout(widget)
    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    widget.show()
    recorder.widgets.append(widget)
    return widget


def make_maya(recorder: Recorder, runner: _MainThreadRunner) -> dict[str, types.ModuleType]:
    maya = types.ModuleType("maya")
    cmds = types.ModuleType("maya.cmds")
    omui = types.ModuleType("maya.OpenMayaUI")
    utils = types.ModuleType("maya.utils")
    controls: dict[str, QWidget] = {}
    state: dict[str, Any] = {"parent": None}

    def workspaceControl(name: str, **kw: Any) -> Any:  # noqa: N802 (Maya's name)
        recorder.record("workspaceControl", name, **kw)
        if kw.get("query") or kw.get("q"):
            if kw.get("exists"):
                return name in controls
            raise AssertionError(f"unexpected query {kw}")
        if kw.get("edit") or kw.get("e"):
            if name not in controls:
                raise RuntimeError(f"Object '{name}' not found.")
            if kw.get("restore") or kw.get("visible"):
                controls[name].show()
            return name
        if name in controls:
            raise RuntimeError(f"Object's name '{name}' is not unique.")
        control = _container(recorder, name)
        control.setWindowTitle(kw.get("label", name))
        controls[name] = control
        if kw.get("uiScript"):
            # Maya runs the uiScript with the new control as the current parent.
            state["parent"] = control
            try:
                exec(kw["uiScript"], {})
            finally:
                state["parent"] = None
        return name

    def deleteUI(name: str) -> None:  # noqa: N802
        recorder.record("deleteUI", name)
        controls.pop(name).deleteLater()

    class MQtUtil:
        @staticmethod
        def getCurrentParent() -> int:  # noqa: N802
            recorder.record("MQtUtil.getCurrentParent")
            return _pointer(state["parent"]) if state["parent"] is not None else 0

        @staticmethod
        def addWidgetToMayaLayout(widget_ptr: int, parent_ptr: int) -> None:  # noqa: N802
            recorder.record("MQtUtil.addWidgetToMayaLayout", widget_ptr, parent_ptr)
            parent = wrapInstance(int(parent_ptr), QWidget)
            child = wrapInstance(int(widget_ptr), QWidget)
            parent.layout().addWidget(child)

    def executeInMainThreadWithResult(call: Callable[[], Any], *args: Any) -> Any:  # noqa: N802
        recorder.record("maya.utils.executeInMainThreadWithResult")
        return runner.run(lambda: call(*args))

    cmds.workspaceControl = workspaceControl
    cmds.deleteUI = deleteUI
    cmds.controls = controls
    omui.MQtUtil = MQtUtil
    utils.executeInMainThreadWithResult = executeInMainThreadWithResult
    maya.cmds, maya.OpenMayaUI, maya.utils = cmds, omui, utils
    return {"maya": maya, "maya.cmds": cmds, "maya.OpenMayaUI": omui, "maya.utils": utils}


def make_nuke(recorder: Recorder, runner: _MainThreadRunner) -> dict[str, types.ModuleType]:
    nuke = types.ModuleType("nuke")
    nukescripts = types.ModuleType("nukescripts")
    panels = types.ModuleType("nukescripts.panels")
    registered: dict[str, dict] = {}
    panes: dict[str, QWidget] = {}

    class Panel:
        """What registerWidgetAsPanel returns with create=True: the widget is made on addToPane."""

        def __init__(self, widget_path: str, name: str, panel_id: str) -> None:
            self.widget_path, self.name, self.panel_id = widget_path, name, panel_id
            self.widget: QWidget | None = None

        def addToPane(self, pane: QWidget) -> None:  # noqa: N802
            recorder.record("panel.addToPane", pane.objectName())
            # Nuke evaluates the registered path in its global namespace to make the widget.
            module_name, _, class_name = self.widget_path.rpartition(".")
            __import__(module_name)
            cls = getattr(sys.modules[module_name], class_name)
            self.widget = cls()
            pane.layout().addWidget(self.widget)

    def registerWidgetAsPanel(widget: str, name: str, panel_id: str, create: bool = False) -> Any:  # noqa: N802
        recorder.record("registerWidgetAsPanel", widget, name, panel_id, create)
        registered[panel_id] = {"widget": widget, "name": name}
        return Panel(widget, name, panel_id) if create else None

    def getPaneFor(name: str) -> QWidget:  # noqa: N802
        recorder.record("getPaneFor", name)
        if name not in panes:
            panes[name] = _container(recorder, name)
        return panes[name]

    def executeInMainThreadWithResult(call: Callable[..., Any], args: tuple = (), kwargs: dict | None = None) -> Any:  # noqa: N802
        recorder.record("nuke.executeInMainThreadWithResult")
        return runner.run(lambda: call(*args, **(kwargs or {})))

    panels.registerWidgetAsPanel = registerWidgetAsPanel
    panels.registered = registered
    nukescripts.panels = panels
    nuke.getPaneFor = getPaneFor
    nuke.executeInMainThreadWithResult = executeInMainThreadWithResult
    nuke.panes = panes
    return {"nuke": nuke, "nukescripts": nukescripts, "nukescripts.panels": panels}


def make_houdini(recorder: Recorder, runner: _MainThreadRunner) -> dict[str, types.ModuleType]:
    hou = types.ModuleType("hou")
    hdefereval = types.ModuleType("hdefereval")
    interfaces: dict[str, Any] = {}
    tabs: list[Any] = []

    class Interface:
        def __init__(self, name: str, script: str) -> None:
            self._name, self.script = name, script

        def name(self) -> str:
            return self._name

    class PaneTabType:
        PythonPanel = "PythonPanel"
        NetworkEditor = "NetworkEditor"

    class PythonPanelTab:
        def __init__(self, size: tuple) -> None:
            self.container = _container(recorder, "floatingPythonPanel")
            self.interface: Interface | None = None
            self.widget: QWidget | None = None
            self.size = size

        def type(self) -> str:
            return PaneTabType.PythonPanel

        def activeInterface(self) -> Interface | None:  # noqa: N802
            return self.interface

        def setActiveInterface(self, interface: Interface) -> None:  # noqa: N802
            recorder.record("paneTab.setActiveInterface", interface.name())
            self.interface = interface
            # Houdini runs the interface script and parents what onCreateInterface returns.
            namespace: dict[str, Any] = {}
            exec(interface.script, namespace)
            self.widget = namespace["onCreateInterface"]()
            self.container.layout().addWidget(self.widget)

        def showToolbar(self, on: bool) -> None:  # noqa: N802
            recorder.record("paneTab.showToolbar", on)

        def setIsCurrentTab(self) -> None:  # noqa: N802
            recorder.record("paneTab.setIsCurrentTab")

    class Desktop:
        def paneTabs(self) -> list:  # noqa: N802
            recorder.record("desktop.paneTabs")
            return list(tabs)

        def createFloatingPaneTab(self, tab_type: str, position: tuple = (), size: tuple = ()) -> PythonPanelTab:  # noqa: N802
            recorder.record("desktop.createFloatingPaneTab", tab_type, size=size)
            assert tab_type == PaneTabType.PythonPanel
            tab = PythonPanelTab(size)
            tabs.append(tab)
            return tab

    desktop = Desktop()

    def installFile(path: str) -> None:  # noqa: N802
        recorder.record("hou.pypanel.installFile", path)
        import re

        text = Path(path).read_text(encoding="utf-8")
        name = re.search(r'<interface name="([^"]+)"', text).group(1)
        script = re.search(r"<script><!\[CDATA\[(.*?)\]\]></script>", text, re.S).group(1)
        interfaces[name] = Interface(name, script)

    def interfaceByName(name: str) -> Any:  # noqa: N802
        recorder.record("hou.pypanel.interfaceByName", name)
        return interfaces.get(name)

    def curDesktop() -> Desktop:  # noqa: N802
        recorder.record("hou.ui.curDesktop")
        return desktop

    def executeInMainThreadWithResult(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:  # noqa: N802
        recorder.record("hdefereval.executeInMainThreadWithResult")
        return runner.run(lambda: call(*args, **kwargs))

    hou.pypanel = types.SimpleNamespace(installFile=installFile, interfaceByName=interfaceByName)
    hou.ui = types.SimpleNamespace(curDesktop=curDesktop)
    hou.paneTabType = PaneTabType
    hou.tabs = tabs
    hdefereval.executeInMainThreadWithResult = executeInMainThreadWithResult
    return {"hou": hou, "hdefereval": hdefereval}


@pytest.fixture
def host_env(qapp, monkeypatch, embedded_server, tmp_path):
    """Point the adapters at the embedded server, with settings and cache in ``tmp_path``."""
    monkeypatch.setenv("FTRACK_SERVER", embedded_server.url)
    monkeypatch.setenv("FTRACK_API_USER", embedded_server.api_user)
    monkeypatch.setenv("FTRACK_API_KEY", embedded_server.api_key)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    from publisher.hosts import dock

    settings_file = str(tmp_path / "settings.ini")
    monkeypatch.setattr(dock, "host_settings", lambda: QSettings(settings_file, QSettings.Format.IniFormat))
    yield tmp_path
    # Close what the adapters opened, as the host quitting would.
    for connection in list(dock._live):
        connection.close()


@pytest.fixture
def stand_in(monkeypatch, host_env):
    """``stand_in(kind)`` installs the stand-in modules of one host; returns its Recorder."""
    recorder = Recorder()
    runner = _MainThreadRunner()
    makers = {"maya": make_maya, "nuke": make_nuke, "houdini": make_houdini}

    def install(kind: str) -> Recorder:
        for name in HOST_MODULES:
            monkeypatch.delitem(sys.modules, name, raising=False)
        for name, module in makers[kind](recorder, runner).items():
            monkeypatch.setitem(sys.modules, name, module)
        return recorder

    yield install
    from publisher.ui.window import PublisherWidget

    from PySide6.QtWidgets import QApplication

    for widget in recorder.widgets:
        for publisher_widget in widget.findChildren(PublisherWidget):
            publisher_widget.shutdown()
    # Results a worker sent just before it was cancelled are still queued: deliver them while
    # their models exist, not after (they would reach deleted models in the next test).
    QApplication.processEvents()
    for widget in recorder.widgets:
        widget.close()
        widget.deleteLater()
    runner.deleteLater()
