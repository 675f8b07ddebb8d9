"""The context browser (projects down to tasks) with its debounced filter box. GUI thread only."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (QItemSelectionModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel,
                            QTimer, Signal)
from PySide6.QtWidgets import QAbstractItemView, QLabel, QLineEdit, QTreeView, QVBoxLayout, QWidget

from publisher.ui import icons, roles
from publisher.ui.context_model import ContextModel

FILTER_DELAY_MS = 250


class ContextFilterProxy(QSortFilterProxyModel):
    """Keeps the contexts whose path (the row and its parents) holds every word typed.

    "sh010 comp" finds the Compositing task of sh010; a matching shot keeps its tasks (the
    children of an accepted row are accepted), and a matching task keeps its parents.
    GUI thread only.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.words: list[str] = []
        self.setRecursiveFilteringEnabled(True)
        self.setAutoAcceptChildRows(True)

    def set_words(self, text: str) -> None:
        """Filter on the words of ``text`` (case-insensitive); empty shows everything."""
        self.words = text.casefold().split()
        # Also the proxy's own pattern, so filterRegularExpression() says what is filtered on;
        # filterAcceptsRow below is what applies it, word by word.
        self.setFilterFixedString(text)
        self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        if not self.words:
            return True
        model = self.sourceModel()
        index = model.index(source_row, 0, source_parent)
        parts: list[str] = []
        while index.isValid():
            parts.append(str(index.data(roles.FILTER_TEXT) or ""))
            index = index.parent()
        path = " ".join(parts).casefold()
        return all(word in path for word in self.words)


class ContextBrowser(QWidget):
    """Tree of contexts. Emits :attr:`contextSelected` with the ``ContextRow`` clicked."""

    contextSelected = Signal(object)

    def __init__(self, model: ContextModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = ContextFilterProxy(self)
        self.proxy.setSourceModel(model)
        #: Ids of the contexts expanded before a filter began, expanded again when it is cleared.
        self._expanded_before: list[str] | None = None
        #: The context the artist chose last (kept while a filter hides it).
        self._chosen_id: str | None = None
        self._filtering = False
        self.no_match = QLabel()
        self.no_match.setObjectName("Muted")
        self.no_match.setWordWrap(True)
        self.no_match.hide()
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
        # Project > sequence > shot > task in a narrow column: a task's name stays whole.
        self.view.setIndentation(14)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.view.selectionModel().currentChanged.connect(self._current_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.no_match)
        layout.addWidget(self.view, 1)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                       self.proxy.layoutChanged):
            signal.connect(self._update_no_match)

    def _expanded_ids(self) -> list[str]:
        ids: list[str] = []
        pending = [QModelIndex()]
        while pending:
            parent = pending.pop()
            for row in range(self.proxy.rowCount(parent)):
                index = self.proxy.index(row, 0, parent)
                if self.view.isExpanded(index):
                    ids.append(str(index.data(roles.ID)))
                    pending.append(index)
        return ids

    def _apply_filter(self) -> None:
        text = self.filter.text().strip()
        if text and self._expanded_before is None:
            self._expanded_before = self._expanded_ids()
        # Hiding the selected row moves Qt's current index to a neighbour: that is not the
        # artist's choice, so it selects nothing (the chosen context comes back when cleared).
        self._filtering = True
        try:
            self.proxy.set_words(text)
        finally:
            self._filtering = False
        if text:
            self.view.expandAll()
        elif self._expanded_before is not None:
            # Back to the tree as the artist left it, with the selection (maybe chosen while
            # filtering) still in view.
            expanded, self._expanded_before = self._expanded_before, None
            self.view.collapseAll()
            for context_id in expanded:
                source = self.model.index_for_id(context_id)
                if source.isValid():
                    self.view.expand(self.proxy.mapFromSource(source))
            current = self.view.currentIndex()
            if self._chosen_id and (not current.isValid() or current.data(roles.ID) != self._chosen_id):
                self.select_id(self._chosen_id)
                current = self.view.currentIndex()
            if current.isValid():
                parent = current.parent()
                while parent.isValid():
                    self.view.expand(parent)
                    parent = parent.parent()
                self.view.scrollTo(current)
        self._update_no_match()

    def _update_no_match(self, *_args: Any) -> None:
        text = self.filter.text().strip()
        empty = bool(text) and self.proxy.rowCount() == 0
        self.no_match.setText(f"No context matches '{text}'. Check the spelling, or clear the filter."
                              if empty else "")
        self.no_match.setVisible(empty)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = current.data(roles.ROW) if current.isValid() else None
        if row is not None and not self._filtering:
            self._chosen_id = row.id
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
