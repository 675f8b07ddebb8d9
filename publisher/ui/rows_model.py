"""What the publisher's flat table models share: a list of plain rows under named columns.

Models built on it keep their rows in ``self._rows`` and name their columns in ``columns``; they
add ``data``, ``flags`` and their own ways of changing the rows. GUI thread only, like every model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex


def column_header(columns: Sequence[str], section: int, orientation: Qt.Orientation, role: int) -> str | None:
    """The title of column ``section`` for ``headerData`` (``None`` for anything else asked)."""
    if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(columns):
        return columns[section]
    return None


class RowsTableModel(QAbstractTableModel):
    """A table of ``self._rows`` (plain Python objects, one a row) under ``columns``."""

    columns: Sequence[str] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def row_at(self, row: int) -> Any:
        """The plain row object shown on ``row``."""
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return column_header(self.columns, section, orientation, role)
