"""Real drag-and-drop events for the window tests, on PySide6 6.5 as on the newest."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent


def drag_enter_event(pos: QPoint | QPointF, mime: QMimeData,
                     modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> QDragEnterEvent:
    """A drag-enter at ``pos``. PySide6 6.5 takes only a ``QPoint`` here; newer ones prefer ``QPointF``."""
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, modifiers)
    try:
        return QDragEnterEvent(QPointF(pos), *args)
    except TypeError:
        return QDragEnterEvent(QPointF(pos).toPoint(), *args)


def drop_event(pos: QPoint | QPointF, mime: QMimeData,
               modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> QDropEvent:
    """A drop at ``pos`` (``QPointF`` works on every supported PySide6)."""
    return QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, modifiers)
