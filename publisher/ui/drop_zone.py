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

from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QAbstractItemView, QWidget

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


#: The drop highlight's colours: a translucent fill over the row (or panel) that receives the
#: drop, an opaque border, and the label naming the target (dark text on the light blue:
#: 8.9:1).
HIGHLIGHT_FILL = QColor(90, 169, 230, 90)
HIGHLIGHT_BORDER = QColor("#5aa9e6")
LABEL_BACKGROUND = QColor("#5aa9e6")
LABEL_TEXT = QColor("#0d0e0f")


def target_words(target: DropTarget) -> str:
    """What the highlight's label says a drop on ``target`` does."""
    if target.kind == "version":
        return f"Add to {target.label or 'this version'}"
    if target.kind == "asset":
        return f"New version of {target.label or 'this asset'}"
    if target.kind == "context":
        return f"New version in {target.label or 'this context'}"
    return "Add to the version shown"


class DropHighlight(QWidget):
    """The overlay painted over the row or panel a drag would drop on, naming the target.

    A child of the zone's widget that lets every mouse and drag event through. GUI thread only.
    """

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setObjectName("DropHighlight")
        self.area = QRect()
        self.text = ""
        self.hide()

    def show_over(self, area: QRect, text: str) -> None:
        """Highlight ``area`` (in the parent's coordinates) with ``text`` as its label."""
        self.area = QRect(area)
        self.text = text
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        self.show()
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        box = self.area.adjusted(1, 1, -1, -1)
        painter.fillRect(box, HIGHLIGHT_FILL)
        painter.setPen(QPen(HIGHLIGHT_BORDER, 2))
        painter.drawRect(box)
        if self.text:
            metrics = painter.fontMetrics()
            width = min(metrics.horizontalAdvance(self.text) + 12, max(40, self.width() - 8))
            label = QRect(box.right() - width - 4, box.top() + 2, width, metrics.height() + 4)
            if label.left() < 4:
                label.moveLeft(4)
            painter.fillRect(label, LABEL_BACKGROUND)
            painter.setPen(LABEL_TEXT)
            painter.drawText(label.adjusted(6, 0, -6, 0), Qt.AlignmentFlag.AlignVCenter,
                             metrics.elidedText(self.text, Qt.TextElideMode.ElideRight, label.width() - 12))
        painter.end()


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
        self.overlay = DropHighlight(widget)
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

    def _set_active(self, active: bool, pos: QPoint | None = None,
                    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
        if bool(self.highlight.property("dropActive")) != active:
            self.highlight.setProperty("dropActive", active)
            style = self.highlight.style()
            style.unpolish(self.highlight)
            style.polish(self.highlight)
        if not active or pos is None:
            self.overlay.hide()
            return
        target = self.target_at(pos, modifiers) or DropTarget("current")
        self.overlay.show_over(self._area_at(pos, target), target_words(target))

    def _area_at(self, pos: QPoint, target: DropTarget) -> QRect:
        """The row under ``pos`` when the zone is an item view's viewport and the drop lands on
        that row; otherwise the whole widget."""
        view = self.highlight
        if isinstance(view, QAbstractItemView) and target.kind != "current":
            index = view.indexAt(pos)
            if index.isValid():
                rect = view.visualRect(index)
                return QRect(0, rect.top(), self.widget.width(), rect.height())
        return self.widget.rect()

    def highlighted_area(self) -> QRect | None:
        """The area highlighted now (widget coordinates), or None when no drag is over it."""
        return QRect(self.overlay.area) if self.overlay.isVisible() else None

    def highlighted_text(self) -> str:
        """The label of the highlight shown now ("" when none)."""
        return self.overlay.text if self.overlay.isVisible() else ""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if watched is not self.widget or not self.enabled:
            return False
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, (QDragEnterEvent, QDragMoveEvent))
            if event.mimeData().hasUrls():
                event.acceptProposedAction()
                self._set_active(True, event.position().toPoint(), event.modifiers())
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
