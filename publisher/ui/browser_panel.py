"""The context browser (projects down to tasks) with its debounced filter box. GUI thread only."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSortFilterProxyModel, QTimer, Signal
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTreeView, QVBoxLayout, QWidget

from publisher.ui import icons, roles
from publisher.ui.context_model import ContextModel

FILTER_DELAY_MS = 250


class ContextBrowser(QWidget):
    """Tree of contexts. Emits :attr:`contextSelected` with the ``ContextRow`` clicked."""

    contextSelected = Signal(object)

    def __init__(self, model: ContextModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.proxy.setFilterRole(roles.FILTER_TEXT)
        self.proxy.setFilterCaseSensitivity(self.proxy.filterCaseSensitivity().CaseInsensitive)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter contexts")
        self.filter.setClearButtonEnabled(True)
        self.filter.addAction(icons.icon("filter"), QLineEdit.ActionPosition.LeadingPosition)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(FILTER_DELAY_MS)
        self._debounce.timeout.connect(self._apply_filter)
        self.filter.textChanged.connect(lambda _t: self._debounce.start())

        self.view = QTreeView()
        self.view.setObjectName("ContextView")
        self.view.setModel(self.proxy)
        self.view.setHeaderHidden(True)
        self.view.setUniformRowHeights(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.view.selectionModel().currentChanged.connect(self._current_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.view, 1)

    def _apply_filter(self) -> None:
        self.proxy.setFilterFixedString(self.filter.text().strip())
        if self.filter.text().strip():
            self.view.expandAll()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = current.data(roles.ROW) if current.isValid() else None
        if row is not None:
            self.contextSelected.emit(row)

    def row_at(self, pos: Any) -> Any:
        """The ``ContextRow`` under viewport position ``pos`` or ``None``."""
        index = self.view.indexAt(pos)
        return index.data(roles.ROW) if index.isValid() else None

    def select_id(self, context_id: str) -> None:
        """Select and reveal a loaded context (after a restore)."""
        source = self.model.index_for_id(context_id)
        if not source.isValid():
            return
        index = self.proxy.mapFromSource(source)
        parent = index.parent()
        while parent.isValid():
            self.view.expand(parent)
            parent = parent.parent()
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.view.scrollTo(index)
