"""Paints the activity rows' progress column as a bar coloured by the row's state. GUI thread only."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from publisher.ui import contrast, roles

#: Bar colours by row state; the text over a bar is dark, over the empty track light, each with
#: at least 4.5:1 contrast (``tests/ui/test_contrast.py`` checks every state).
COLOURS = {
    "running": "#5a9fd6",
    "queued": "#8a9099",
    "waiting": "#d4ad35",
    "done": "#66b866",
    "failed": "#e27070",
    "cancelled": "#8a9099",
}
#: The empty part of a bar, and the text on it.
TRACK = "#16181b"
TRACK_TEXT = "#f2f4f6"
TRACK_TEXT_IDLE = "#a0a4ab"


class ProgressDelegate(QStyledItemDelegate):
    """A flat progress bar with the row's progress text on it."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, option.widget)
        fraction = index.data(roles.PROGRESS)
        state = index.data(roles.STATE) or "queued"
        box = option.rect.adjusted(3, 4, -3, -4)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(TRACK))
        painter.drawRoundedRect(box, 3, 3)
        text_box = box.adjusted(6, 0, -6, 0)
        align = int(Qt.AlignmentFlag.AlignCenter)
        painter.setPen(QColor(TRACK_TEXT) if fraction else QColor(TRACK_TEXT_IDLE))
        painter.drawText(text_box, align, text)
        if fraction is not None and fraction > 0:
            # The filled part is painted over the text, then the text again in the colour that
            # reads on the fill, clipped to it: every letter keeps its contrast, wherever it is.
            filled = QRect(box)
            filled.setWidth(max(4, int(box.width() * float(fraction))))
            fill = QColor(COLOURS.get(state, COLOURS["running"]))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(filled, 3, 3)
            painter.setClipRect(filled)
            painter.setPen(contrast.text_on(fill))
            painter.drawText(text_box, align, text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), 200), max(hint.height(), 24))
