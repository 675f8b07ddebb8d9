"""Drops of files, folders and sequences onto the window's views. GUI thread only.

A :class:`DropZone` is an event filter installed on a widget (a view's viewport or the details
panel). It accepts drags that carry file URLs, works out what the drop lands on through a
``target_at(pos, modifiers)`` callback (a version row, a task or asset in the browser, or the panel's
current version) and emits :attr:`DropZone.dropped` with the local paths and that target. It
does no disk work itself: the controller stages the paths in a worker, so a folder of 10,000
frames never stalls the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QWidget

from publisher.ui.drop_target import DropTarget


@dataclass(frozen=True)
class MimePaths:
    """Local paths in a drag, and why other entries were left out."""

    paths: list[str]
    problems: list[str]


def paths_from_mime(mime: QMimeData) -> MimePaths:
    """Local file paths of the URLs in ``mime`` (remote URLs are reported, not fetched)."""
    paths: list[str] = []
    problems: list[str] = []
    if mime.hasUrls():
        for url in mime.urls():
            if url.isLocalFile():
                local = url.toLocalFile()
                if local:
                    paths.append(local.rstrip("/") or local)
            else:
                problems.append(f"{url.toString()} is not a file on this computer: download it first, then drop the file.")
    elif mime.hasText():
        # Some file managers send plain paths as text.
        for line in mime.text().splitlines():
            line = line.strip()
            if line.startswith("/") or (len(line) > 2 and line[1] == ":"):
                paths.append(line)
    return MimePaths(paths, problems)


def mime_has_files(mime: QMimeData) -> bool:
    return mime.hasUrls() and any(u.isLocalFile() for u in mime.urls())


class DropZone(QObject):
    """Event filter turning file drops on ``widget`` into :attr:`dropped` signals."""

    #: ``(paths: list[str], target: DropTarget, problems: list[str])``
    dropped = Signal(list, object, list)

    def __init__(self, widget: QWidget, target_at: Callable[[QPoint, Qt.KeyboardModifier], DropTarget | None],
                 highlight: QWidget | None = None) -> None:
        super().__init__(widget)
        self.widget = widget
        self.target_at = target_at
        self.highlight = highlight or widget
        self.enabled = True
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def handle_drop(self, mime: QMimeData, pos: QPoint | None = None,
                    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> bool:
        """Emit :attr:`dropped` for ``mime`` landing at ``pos`` with ``modifiers`` held;
        ``False`` if it holds no paths."""
        found = paths_from_mime(mime)
        if not found.paths and not found.problems:
            return False
        target = self.target_at(pos if pos is not None else QPoint(-1, -1), modifiers) or DropTarget("current")
        self.dropped.emit(found.paths, target, found.problems)
        return True

    def _set_active(self, active: bool) -> None:
        self.highlight.setProperty("dropActive", active)
        style = self.highlight.style()
        style.unpolish(self.highlight)
        style.polish(self.highlight)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if watched is not self.widget or not self.enabled:
            return False
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, (QDragEnterEvent, QDragMoveEvent))
            if event.mimeData().hasUrls():
                event.acceptProposedAction()
                self._set_active(True)
                return True
            return False
        if kind == QEvent.Type.DragLeave:
            self._set_active(False)
            return False
        if kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            self._set_active(False)
            if self.handle_drop(event.mimeData(), event.position().toPoint(), event.modifiers()):
                event.acceptProposedAction()
                return True
            return False
        return False
