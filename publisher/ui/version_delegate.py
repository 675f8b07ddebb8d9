"""Paints the version thumbnails at their own size while other cells keep small icons.

GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

THUMB_W, THUMB_H = 56, 32


class ThumbnailDelegate(QStyledItemDelegate):
    """Draws the decoration of the thumbnail column as a 16:9 picture, letterboxed."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        style = option.widget.style() if option.widget else None
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.icon = QIcon()
        opt.text = ""
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, option.widget)
        box = QRect(0, 0, THUMB_W, THUMB_H)
        box.moveCenter(option.rect.center())
        painter.save()
        painter.fillRect(box, QColor("#161719"))
        value = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(value, QPixmap) and not value.isNull():
            scaled = value.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(box.center())
            painter.drawPixmap(target, scaled)
        elif isinstance(value, QIcon):
            size = QSize(20, 20)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(box.center())
            value.paint(painter, target)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(THUMB_W + 8, THUMB_H + 6)
