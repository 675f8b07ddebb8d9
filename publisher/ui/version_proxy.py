"""Sorting and filtering of the loaded versions (``QSortFilterProxyModel``). GUI thread only."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from publisher.publish import version_filter
from publisher.ui import roles


class VersionProxy(QSortFilterProxyModel):
    """Sorts by :data:`roles.SORT` and keeps rows that match every word of the filter text by
    :mod:`publisher.publish.version_filter`'s rule, the one the server query applies too. An
    optional review-state filter keeps only those rows."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(roles.SORT)
        self.setDynamicSortFilter(True)
        self._words: list[str] = []
        self._review_state: str | None = None

    def set_filter_text(self, text: str) -> None:
        """Keep rows matching every word of ``text``."""
        words = version_filter.words(text)
        if words == self._words:
            return
        self._refilter(lambda: setattr(self, "_words", words))

    def set_review_state(self, state: str | None) -> None:
        """Keep only rows in this review state (``None``: all)."""
        if state == self._review_state:
            return
        self._refilter(lambda: setattr(self, "_review_state", state))

    def _refilter(self, change: Any) -> None:
        # Qt 6.10 added begin/endFilterChange; DCCs ship older Qt, where invalidateFilter does it.
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            change()
            self.invalidateFilter()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the loaded rows, and ask the source to load in that order when it is paged."""
        source = self.sourceModel()
        if column >= 0 and hasattr(source, "request_order"):
            source.request_order(column, order == Qt.SortOrder.DescendingOrder)
        super().sort(column, order)

    def filter_text(self) -> str:
        return " ".join(self._words)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        index = model.index(source_row, 0, source_parent)
        if self._review_state is None and not self._words:
            return True
        row = model.data(index, roles.ROW)
        if row is None:
            return False
        if self._review_state is not None and row.review_state != self._review_state:
            return False
        return version_filter.matches(row.search_values(), self._words)

    def lessThan(self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex) -> bool:
        a = left.data(roles.SORT)
        b = right.data(roles.SORT)
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)
