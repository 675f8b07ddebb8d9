"""The publisher as a floating window over a Qt 6 host, when docking it failed. GUI thread only.

Docking goes through each host's own mechanism (a Maya workspace control, a Nuke panel, a
Houdini Python Panel); when that raises (a host version that changed the call, a broken saved
layout), the artist still gets the publisher: the same widget as a top-level window parented to
the host's active window (so it stays above it without a stay-on-top flag), with the host's
"Collect from" action.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from publisher.hosts import dock

log = logging.getLogger(__name__)

#: Floating widgets kept alive while open (the host holds no Python reference to them).
_open: list[QWidget] = []


def show_floating(host: str, error: BaseException | None = None, **create: Any) -> QWidget:
    """Show the publisher for ``host`` in its own window; ``error`` is why docking failed."""
    app = dock.require_application()
    for widget in list(_open):
        try:
            if widget.isVisible():
                widget.raise_()
                widget.activateWindow()
                return widget
        except RuntimeError:  # deleted with its window
            pass
        _open.remove(widget)
    if error is not None:
        log.warning("Docking the publisher in %s failed (%s); it opens as a floating window.", host, error)
    widget = dock.create_widget(None, host=host, **create)
    parent = app.activeWindow()
    if parent is not None:
        widget.setParent(parent, Qt.WindowType.Window)
    widget.setWindowFlag(Qt.WindowType.Window, True)
    widget.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    widget.setWindowTitle(dock.TITLE)
    widget.resize(1200, 720)
    widget.show()
    _open.append(widget)
    return widget


__all__ = ["show_floating"]


def dock_or_float(host: str, dock_it: Callable[[], Any], pythons: tuple[str, ...]) -> Any:
    """Dock with ``dock_it`` (the host's own calls); when they fail, float the publisher instead
    of leaving the artist with nothing (a :class:`~publisher.hosts.dock.HostError`, which says
    what to fix, still raises). ``pythons``: the host's own interpreters, for the server. Main
    thread."""
    try:
        return dock_it()
    except dock.HostError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of the host's docking calls
        return show_floating(host, exc, python=dock.find_python(pythons))
