"""The staging list's view and its editors. GUI thread only.

:class:`NameDelegate` edits a staged name with a live check (red border and the reason as the
editor's tooltip and in :attr:`NameDelegate.validationMessage` while the name is invalid);
:class:`LocationDelegate` offers the locations in a combo box; :class:`StagingView` shows the
list and emits :attr:`StagingView.removeRequested` from the remove column or the Delete key.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHeaderView, QLineEdit,
                               QStyledItemDelegate, QStyleOptionViewItem, QTableView, QWidget)

from publisher.ui import staging_model as sm

Index = QModelIndex | QPersistentModelIndex


class NameDelegate(QStyledItemDelegate):
    """A line edit that checks the name on every keystroke against the staging model."""

    #: ``message``: the name being typed is invalid (``""`` once it is valid again).
    validationMessage = Signal(str)

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        editor = QLineEdit(parent)
        editor.setObjectName("StagedNameEditor")
        row = index.row()
        model = index.model()

        def check(text: str) -> None:
            message = model.validate_name(row, text.strip()) if hasattr(model, "validate_name") else None
            editor.setProperty("invalid", bool(message))
            editor.setToolTip(message or "")
            editor.style().unpolish(editor)
            editor.style().polish(editor)
            self.validationMessage.emit(message or "")

        editor.textEdited.connect(check)
        # The open editor and its row, for Enter (one editor at a time; kept here, not as a Qt
        # property, so no Python object is stored inside Qt).
        self._open = (editor, model, row)
        editor.destroyed.connect(self._editor_gone)
        return editor

    def _editor_gone(self, *_args: Any) -> None:
        self._open = None

    def eventFilter(self, editor: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        # Enter on an invalid name: keep the editor open and say why, instead of letting the
        # model refuse it and the old name come back without a word.
        if (event.type() == QEvent.Type.KeyPress and isinstance(editor, QLineEdit)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            opened = getattr(self, "_open", None)
            message = None
            if opened is not None and opened[0] is editor and hasattr(opened[1], "validate_name"):
                message = opened[1].validate_name(opened[2], editor.text().strip())
            if message:
                self.validationMessage.emit(f"{message} Fix the name, or press Esc to keep the old one.")
                return True
        return super().eventFilter(editor, event)

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        assert isinstance(editor, QLineEdit)
        editor.setText(index.data(Qt.ItemDataRole.EditRole) or "")

    def setModelData(self, editor: QWidget, model: Any, index: Index) -> None:
        assert isinstance(editor, QLineEdit)
        # An invalid name is refused by the model (editRejected tells the window why).
        model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)
        self.validationMessage.emit("")


#: What each built-in location does with a file, shown on its entry in the location combo box.
LOCATION_HINTS = {
    "ftrack.server": "Upload the files to the ftrack server",
    "ftrack.unmanaged": "Register the files where they are, without copying them: keep them there",
}


# A frame pattern and what follows it: ".%04d.exr", "_####.dpx", ".$F4.exr [1001-1010]".
_FRAME_TAIL = re.compile(r"[._\-]?(?:%0?\d*d|#+|@+|\$F\d?)(?:\.[A-Za-z0-9]+)*(?: \[[^\]]*\])?$")


def elide_keeping_frames(text: str, metrics: QFontMetrics, width: int) -> str:
    """``text`` fitted into ``width`` pixels: a name with a frame pattern loses its head, never
    the pattern (``…_comp_v003.%04d.exr``), anything else is cut in the middle."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    match = _FRAME_TAIL.search(text)
    if match is None or match.start() == 0:
        return metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, width)
    tail, head = text[match.start():], text[:match.start()]
    room = width - metrics.horizontalAdvance(tail)
    if room <= metrics.horizontalAdvance("…x"):
        return metrics.elidedText(text, Qt.TextElideMode.ElideLeft, width)
    return metrics.elidedText(head, Qt.TextElideMode.ElideLeft, room) + tail


class FramesKeptDelegate(QStyledItemDelegate):
    """Shows a name with :func:`elide_keeping_frames` (the frame pattern stays visible)."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: Index) -> None:  # noqa: N802 (Qt name)
        super().initStyleOption(option, index)
        margin = 2 * (self.parent().style().pixelMetric(self.parent().style().PixelMetric.PM_FocusFrameHMargin) + 1) \
            if isinstance(self.parent(), QWidget) else 6
        width = option.rect.width() - margin - (option.decorationSize.width() + 4 if not option.icon.isNull() else 0)
        option.text = elide_keeping_frames(option.text, option.fontMetrics, max(width, 0))
        option.textElideMode = Qt.TextElideMode.ElideNone


class LocationDelegate(QStyledItemDelegate):
    """A combo box of the locations the staging model offers."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        combo = QComboBox(parent)
        for at, name in enumerate(getattr(index.model(), "locations", [])):
            combo.addItem(name)
            combo.setItemData(at, LOCATION_HINTS.get(name, f"Copy the files to the {name} location"),
                              Qt.ItemDataRole.ToolTipRole)
        combo.activated.connect(lambda _i, c=combo: self.commitData.emit(c))
        return combo

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        assert isinstance(editor, QComboBox)
        at = editor.findText(index.data(Qt.ItemDataRole.EditRole) or "")
        editor.setCurrentIndex(max(at, 0))

    def setModelData(self, editor: QWidget, model: Any, index: Index) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)


class StagingView(QTableView):
    """The staged components, one per row, editable in place."""

    #: ``rows``: the artist asked to remove these staged rows.
    removeRequested = Signal(list)
    #: ``row``: the artist asked to use this staged movie or still as the version's review.
    useAsReviewRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StagingView")
        self.name_delegate = NameDelegate(self)
        self.location_delegate = LocationDelegate(self)
        self.setItemDelegateForColumn(sm.NAME, self.name_delegate)
        self.setItemDelegateForColumn(sm.LOCATION, self.location_delegate)
        self.source_delegate = FramesKeptDelegate(self)
        self.setItemDelegateForColumn(sm.SOURCE, self.source_delegate)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.SelectedClicked)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(24)
        self.clicked.connect(self._clicked)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)

    def setModel(self, model: Any) -> None:  # type: ignore[override]
        super().setModel(model)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(sm.SOURCE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(sm.REMOVE, QHeaderView.ResizeMode.Fixed)
        header.setMinimumSectionSize(24)
        header.resizeSection(sm.NAME, 170)
        header.resizeSection(sm.FRAMES, 80)
        header.resizeSection(sm.HOLES, 48)
        header.resizeSection(sm.SIZE, 72)
        header.resizeSection(sm.LOCATION, 104)
        header.resizeSection(sm.REMOVE, 26)

    def selected_rows(self) -> list[int]:
        return sorted({i.row() for i in self.selectionModel().selectedRows()}) if self.selectionModel() else []

    def remove_selected(self) -> None:
        """Ask to remove the selected rows (the Delete shortcut)."""
        rows = self.selected_rows()
        if not rows and self.currentIndex().isValid():
            rows = [self.currentIndex().row()]
        if rows:
            self.removeRequested.emit(rows)

    def review_action_text(self, row: int) -> str | None:
        """The "use as review" entry for ``row``, or ``None`` when it is no movie or still."""
        from publisher.publish.review_media import ReviewUse, review_use

        model = self.model()
        rows = model.components() if model is not None and hasattr(model, "components") else []
        if not 0 <= row < len(rows) or rows[row].kind != "file":
            return None
        use = review_use(rows[row].path)
        if use is None:
            return None
        return "Use as review (encode it on the server)" if use is ReviewUse.ENCODE else "Use as review"

    def _context_menu(self, pos: Any) -> None:
        from PySide6.QtWidgets import QMenu

        index = self.indexAt(pos)
        text = self.review_action_text(index.row()) if index.isValid() else None
        if text is None:
            return
        menu = QMenu(self)
        menu.addAction(text, lambda r=index.row(): self.useAsReviewRequested.emit(r))
        menu.addAction("Remove", lambda r=index.row(): self.removeRequested.emit([r]))
        menu.popup(self.viewport().mapToGlobal(pos))
        self.context_menu = menu

    def _clicked(self, index: QModelIndex) -> None:
        if index.column() == sm.REMOVE:
            self.removeRequested.emit([index.row()])
