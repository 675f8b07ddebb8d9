"""Paints the activity rows' progress column as a bar coloured by the row's state. GUI thread only."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from publisher.ui import roles

#: Bar colours by row state.
COLOURS = {
    "running": "#4a90c8",
    "queued": "#6b7078",
    "waiting": "#c9a227",
    "done": "#5faa5f",
    "failed": "#c75050",
    "cancelled": "#6b7078",
}


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
        painter.setBrush(QColor("#16181b"))
        painter.drawRoundedRect(box, 3, 3)
        if fraction is not None and fraction > 0:
            filled = QRect(box)
            filled.setWidth(max(4, int(box.width() * float(fraction))))
            painter.setBrush(QColor(COLOURS.get(state, COLOURS["running"])))
            painter.drawRoundedRect(filled, 3, 3)
        painter.setPen(QColor("#f2f4f6") if fraction else QColor("#a0a4ab"))
        painter.drawText(box.adjusted(6, 0, -6, 0), int(Qt.AlignmentFlag.AlignCenter), text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), 200), max(hint.height(), 24))
