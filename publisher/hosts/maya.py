"""The publisher docked in Maya (2025 and newer, PySide6) as a workspace control.

``import publisher.hosts.maya as p; p.show()`` from a shelf button or the Script Editor. The
workspace control ``ftrackPublisherWorkspaceControl`` is Maya's own docking mechanism: it can be
docked anywhere in Maya's layout, tabbed, or floated, and Maya saves where it was. Its
``uiScript`` calls :func:`restore`, which builds the widget into the control (also when Maya
rebuilds the layout at startup).

All Maya calls run on Maya's main thread (through ``maya.utils.executeInMainThreadWithResult``
when :func:`show` is called from another thread). The embedded demo server, when no ftrack server
is configured, is run by ``mayapy``.
"""

from __future__ import annotations

from typing import Any

from publisher.hosts import dock
from publisher.hosts.floating import dock_or_float

#: The workspace control's name (unique in a Maya session).
CONTROL = "ftrackPublisherWorkspaceControl"
#: What Maya runs to fill the control, at creation and when it restores a saved layout.
UI_SCRIPT = "import publisher.hosts.maya as _ftrack_publisher_maya; _ftrack_publisher_maya.restore()"

#: The widget in the control, while it is open.
_widget: Any = None


def _executor() -> Any:
    from maya import utils

    return utils.executeInMainThreadWithResult


def show() -> Any:
    """Open (or bring back) the publisher in its workspace control; return the widget. Any thread."""
    return dock.on_main_thread(lambda: dock_or_float("Maya", _show, ("mayapy",)), _executor())




def _show() -> Any:
    from maya import cmds

    dock.require_application()
    if cmds.workspaceControl(CONTROL, query=True, exists=True):
        if _alive(_widget):
            cmds.workspaceControl(CONTROL, edit=True, restore=True)
            cmds.workspaceControl(CONTROL, edit=True, visible=True)
            return _widget
        # A control left from a saved layout, without our widget: start it afresh.
        cmds.deleteUI(CONTROL)
    # Creating the control runs UI_SCRIPT, which builds the widget (restore()).
    cmds.workspaceControl(
        CONTROL,
        label=dock.TITLE,
        retain=False,
        floating=True,
        initialWidth=1200,
        initialHeight=720,
        minimumWidth=420,
        uiScript=UI_SCRIPT,
    )
    return _widget


def restore() -> Any:
    """Build the widget into the workspace control Maya is filling (``uiScript``). Main thread."""
    global _widget
    from maya import OpenMayaUI
    from PySide6.QtWidgets import QWidget
    from shiboken6 import getCppPointer, wrapInstance

    dock.require_application()
    pointer = OpenMayaUI.MQtUtil.getCurrentParent()
    if not pointer:
        raise dock.HostError("Maya gave no workspace control to fill: call publisher.hosts.maya.show().")
    control = wrapInstance(int(pointer), QWidget)
    widget = dock.create_widget(control, python=dock.find_python(("mayapy",)), host="Maya")
    widget.setObjectName("ftrackPublisherWidget")
    # Maya's own call parents the widget into the control's layout, so Maya manages its size.
    OpenMayaUI.MQtUtil.addWidgetToMayaLayout(int(getCppPointer(widget)[0]), int(pointer))
    _widget = widget
    return widget


def _alive(widget: Any) -> bool:
    if widget is None:
        return False
    from shiboken6 import isValid

    return bool(isValid(widget))


__all__ = ["CONTROL", "UI_SCRIPT", "restore", "show"]
