"""The components of the selected version, for the details panel. GUI thread only.

A ``QAbstractTableModel`` over ``publisher.publish.browse.ComponentRow`` values.
"""

from __future__ import annotations

from typing import Any, Iterable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from publisher.ui import icons, roles
from publisher.units import format_size
from publisher.ui.rows_model import RowsTableModel

Index = QModelIndex | QPersistentModelIndex

COLUMNS = ["Component", "Kind", "Frames", "Holes", "Size", "Locations", "Available"]
NAME, KIND, FRAMES, HOLES, SIZE, LOCATIONS, AVAILABLE = range(len(COLUMNS))

HOLE_COLOR = QColor("#ffb74d")


class ComponentModel(RowsTableModel):
    """Read-only table of a version's components."""

    columns = COLUMNS

    def set_rows(self, rows: Iterable[Any]) -> None:
        """Show ``rows`` instead of what is there."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def clear(self) -> None:
        self.set_rows([])

    def names(self) -> set[str]:
        """The component names of the version (staged names must differ from these)."""
        return {r.name for r in self._rows}

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, roles.SORT):
            if col == NAME:
                return row.name
            if col == KIND:
                return f"{row.kind} ({row.file_type})" if row.file_type else row.kind
            if col == FRAMES:
                return row.frame_range or ""
            if col == HOLES:
                return (str(row.holes) if row.holes else "") if role == Qt.ItemDataRole.DisplayRole else row.holes
            if col == SIZE:
                return format_size(row.size) if role == Qt.ItemDataRole.DisplayRole else row.size
            if col == LOCATIONS:
                return ", ".join(row.locations)
            if col == AVAILABLE:
                return f"{row.availability:.0f}%" if role == Qt.ItemDataRole.DisplayRole else row.availability
        if role == Qt.ItemDataRole.DecorationRole and col == NAME:
            return icons.icon(row.kind)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == HOLES and row.holes:
                return QBrush(HOLE_COLOR)
            if col == AVAILABLE and row.availability < 100:
                return QBrush(HOLE_COLOR)
        if role == Qt.ItemDataRole.ToolTipRole:
            where = ", ".join(row.locations) or "no location"
            return f"{row.name}: {row.kind}, {format_size(row.size)}, in {where} ({row.availability:.0f}% available)"
        if role == roles.ROW:
            return row
        if role == roles.ID:
            return row.id
        return None
