"""The publisher docked in Nuke (16 and newer, PySide6) as a registered panel.

In ``menu.py``: ``import publisher.hosts.nuke; publisher.hosts.nuke.register()`` adds
"ftrack publisher" to Nuke's Pane menu (Nuke's own mechanism: ``nukescripts.panels``), so it can
be docked in any pane and is saved with workspaces. :func:`show` registers it if needed and adds
it next to the Properties pane.

All Nuke calls run on Nuke's main thread (through ``nuke.executeInMainThreadWithResult`` when
:func:`show` is called from another thread). The embedded demo server, when no ftrack server is
configured, is run by the Python shipped beside Nuke (or ``FTRACK_PUBLISHER_PYTHON``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QVBoxLayout, QWidget

from publisher.hosts import dock
from publisher.hosts.floating import dock_or_float

#: The panel id Nuke stores in workspaces.
PANEL_ID = "com.ftrack.publisher"
#: What Nuke evaluates to make the panel's widget (this module's :class:`PublisherPanel`).
WIDGET_PATH = "publisher.hosts.nuke.PublisherPanel"
#: The pane the panel joins when shown, as Nuke names it.
PANE = "Properties.1"

_panel: Any = None


class PublisherPanel(QWidget):
    """The widget Nuke puts in the panel (Nuke makes it, with no arguments). Main thread."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ftrackPublisherPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.publisher = dock.create_widget(self, python=dock.find_python(("python3", "python")), host="Nuke")
        layout.addWidget(self.publisher)


def _executor() -> Any:
    import nuke

    return nuke.executeInMainThreadWithResult


def register() -> Any:
    """Add the panel to Nuke's Pane menu (call from ``menu.py``). Any thread."""
    return dock.on_main_thread(_register, _executor())


def _register(create: bool = False) -> Any:
    from nukescripts import panels

    return panels.registerWidgetAsPanel(WIDGET_PATH, dock.TITLE, PANEL_ID, create)


def show() -> Any:
    """Open the panel next to the Properties pane and return it. Any thread."""
    return dock.on_main_thread(lambda: dock_or_float("Nuke", _show, ("python3", "python")), _executor())




def _show() -> Any:
    global _panel
    import nuke

    dock.require_application()
    _panel = _register(True)
    pane = nuke.getPaneFor(PANE)
    _panel.addToPane(pane)
    return _panel


__all__ = ["PANEL_ID", "PublisherPanel", "WIDGET_PATH", "register", "show"]
