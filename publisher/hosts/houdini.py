"""The publisher docked in Houdini (21 and newer, PySide6) as a Python Panel.

``import publisher.hosts.houdini as p; p.show()`` from a shelf tool. A Python Panel interface
(``ftrack_publisher``) is Houdini's own mechanism for Qt widgets in panes: it is written once to
the user's cache folder and installed with ``hou.pypanel.installFile``; :func:`show` opens it in a
floating pane tab, and it can then be docked anywhere and saved with desktops (New Pane Tab Type
> Misc > Python Panel > ftrack publisher).

All Houdini calls run on Houdini's main thread (through
``hdefereval.executeInMainThreadWithResult`` when :func:`show` is called from another thread).
The embedded demo server, when no ftrack server is configured, is run by ``hython``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from publisher import paths
from publisher.hosts import dock
from publisher.hosts.floating import dock_or_float

#: The Python Panel interface name.
INTERFACE = "ftrack_publisher"

PYPANEL_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<pythonPanelDocument>
  <interface name="{INTERFACE}" label="{dock.TITLE}" icon="MISC_python" showNetworkNavigationBar="false" help_url="">
    <script><![CDATA[
import publisher.hosts.houdini as _ftrack_publisher_houdini


def onCreateInterface():
    return _ftrack_publisher_houdini.create_interface()
]]></script>
    <includeInPaneTabMenu menu_position="0" create_separator="false"/>
    <includeInToolbarMenu menu_position="0" create_separator="false"/>
    <help><![CDATA[]]></help>
  </interface>
</pythonPanelDocument>
"""


def _executor() -> Any:
    import hdefereval

    return hdefereval.executeInMainThreadWithResult


def pypanel_file() -> Path:
    """Write the Python Panel definition (if changed) and return its path."""
    path = paths.cache_dir() / "houdini" / "ftrack_publisher.pypanel"
    if not path.exists() or path.read_text(encoding="utf-8") != PYPANEL_XML:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PYPANEL_XML, encoding="utf-8")
    return path


def install() -> Any:
    """Install the Python Panel interface in this Houdini session and return it. Any thread."""
    return dock.on_main_thread(_install, _executor())


def _install() -> Any:
    import hou

    interface = hou.pypanel.interfaceByName(INTERFACE)
    if interface is None:
        hou.pypanel.installFile(str(pypanel_file()))
        interface = hou.pypanel.interfaceByName(INTERFACE)
    if interface is None:
        raise dock.HostError(f"Houdini did not load the Python Panel {pypanel_file()}: check the file is readable.")
    return interface


def show() -> Any:
    """Open the publisher in a floating Python Panel pane tab and return the pane tab. Any thread."""
    return dock.on_main_thread(lambda: dock_or_float("Houdini", _show, ("hython",)), _executor())




def _show() -> Any:
    import hou

    dock.require_application()
    interface = _install()
    desktop = hou.ui.curDesktop()
    for tab in desktop.paneTabs():
        if tab.type() == hou.paneTabType.PythonPanel and _interface_name(tab) == INTERFACE:
            tab.setIsCurrentTab()
            return tab
    tab = desktop.createFloatingPaneTab(hou.paneTabType.PythonPanel, size=(1200, 720))
    tab.setActiveInterface(interface)
    tab.showToolbar(False)
    return tab


def _interface_name(tab: Any) -> str | None:
    current = tab.activeInterface()
    return current.name() if current is not None else None


def create_interface() -> Any:
    """The panel's widget (what the panel's ``onCreateInterface`` returns). Main thread."""
    dock.require_application()
    return dock.create_widget(None, python=dock.find_python(("hython",)), host="Houdini")


__all__ = ["INTERFACE", "create_interface", "install", "pypanel_file", "show"]
