"""The staging list: the components a publish will create, editable before it runs.

A ``QAbstractTableModel`` over ``publisher.publish.staging.StagedComponent`` values. Names are
editable and checked live (unique within the version, valid characters) with the engine's
``validate_name``; the location is chosen from ``staging.STAGE_LOCATIONS``. GUI thread only.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Iterable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from publisher.ui import icons, roles
from publisher.units import format_holes, format_size
from publisher.ui.rows_model import RowsTableModel

Index = QModelIndex | QPersistentModelIndex

COLUMNS = ["Name", "Source", "Frames", "Holes", "Size", "Location", ""]
NAME, SOURCE, FRAMES, HOLES, SIZE, LOCATION, REMOVE = range(len(COLUMNS))

ERROR_COLOR = QColor("#ff8a80")
HOLE_COLOR = QColor("#ffb74d")


def _default_validator(name: str, taken: set[str]) -> str | None:
    from publisher.publish.staging import validate_name

    return validate_name(name, taken)


def source_label(row: Any) -> str:
    """The file name (a sequence without its frame list, which has its own column)."""
    text = row.path.split(" [", 1)[0] if row.kind == "sequence" else row.path
    return os.path.basename(text.rstrip("/\\")) or text


def default_locations() -> list[str]:
    """The locations a staged component may go to (the engine's list)."""
    from publisher.publish.staging import STAGE_LOCATIONS

    return list(STAGE_LOCATIONS)


class StagingModel(RowsTableModel):
    """Staged components of one target version (existing or new)."""

    columns = COLUMNS

    #: ``message``: an edit was refused (the name is invalid or taken).
    editRejected = Signal(str)
    #: Emitted whenever the staged list or a name changes (the publish button follows it).
    stagingChanged = Signal()
    #: ``warnings``: the staged sequences whose frames on disk differ from the target shot's
    #: range (one sentence each, the frames named); emitted when the list or the shot changes.
    rangeWarningsChanged = Signal(list)

    def __init__(self, parent: Any = None, *,
                 validator: Callable[[str, set[str]], str | None] | None = None,
                 locations: list[str] | None = None) -> None:
        super().__init__(parent)
        self._existing: set[str] = set()
        self._shot: Any = None  # the target shot's ShotRange (publisher.publish.frame_range)
        self._range_warnings: list[str] = []
        self._validate = validator or _default_validator
        self.locations = list(locations) if locations is not None else default_locations()
        self.modelReset.connect(self.stagingChanged)
        self.rowsInserted.connect(self.stagingChanged)
        self.rowsRemoved.connect(self.stagingChanged)
        self.dataChanged.connect(self.stagingChanged)
        self.stagingChanged.connect(self._update_range_warnings)

    # Content ------------------------------------------------------------------------------
    def components(self) -> list[Any]:
        """The staged components, in order (the objects the publish takes)."""
        return list(self._rows)

    def set_existing_names(self, names: Iterable[str]) -> None:
        """Names the target version already has; staged names must differ from them."""
        self._existing = set(names)
        if self._rows:
            self.dataChanged.emit(self.index(0, NAME), self.index(len(self._rows) - 1, NAME))

    def set_shot_range(self, shot: Any) -> None:
        """The target shot's range (a ``ShotRange``), or ``None`` when the target is in no shot
        with a range; staged sequences are compared with it."""
        if shot == self._shot:
            return
        self._shot = shot
        if self._rows:
            self.dataChanged.emit(self.index(0, FRAMES), self.index(len(self._rows) - 1, FRAMES))
        else:
            self._update_range_warnings()

    def shot_range(self) -> Any:
        return self._shot

    def range_check(self, row: int) -> Any:
        """The ``RangeCheck`` of the sequence at ``row`` against the shot, or ``None``."""
        from publisher.publish.frame_range import compare, disk_range

        component = self._rows[row]
        found = disk_range(component.frame_range) if component.kind == "sequence" else None
        if self._shot is None or found is None:
            return None
        return compare(self._shot, *found)

    def range_warning(self, row: int) -> str | None:
        check = self.range_check(row)
        return None if check is None else check.warning(self._rows[row].name)

    def range_warnings(self) -> list[str]:
        """One warning per staged sequence whose range on disk differs from the shot's."""
        return list(self._range_warnings)

    def _update_range_warnings(self) -> None:
        warnings = [w for w in (self.range_warning(i) for i in range(len(self._rows))) if w]
        if warnings != self._range_warnings:
            self._range_warnings = warnings
            self.rangeWarningsChanged.emit(list(warnings))

    def existing_names(self) -> set[str]:
        return set(self._existing)

    def taken_names(self, except_row: int | None = None) -> set[str]:
        """Every name already used, besides the one at ``except_row``."""
        names = set(self._existing)
        names.update(r.name for i, r in enumerate(self._rows) if i != except_row)
        return names

    def add(self, components: Iterable[Any]) -> None:
        """Append staged components (from a drop)."""
        components = list(components)
        if not components:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(components) - 1)
        self._rows.extend(components)
        self.endInsertRows()

    def remove_rows(self, rows: Iterable[int]) -> None:
        """Remove the staged components at ``rows``."""
        for row in sorted(set(rows), reverse=True):
            if 0 <= row < len(self._rows):
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows = []
        self.endResetModel()

    def name_error(self, row: int) -> str | None:
        """Why the name at ``row`` cannot be published, or ``None``."""
        from publisher.publish.staging import is_review_component

        taken = self.taken_names(except_row=row)
        if is_review_component(self._rows[row]) and self._rows[row].name.lower() not in {t.lower() for t in taken}:
            return None  # staged as the version's review ("use as review")
        return self._validate(self._rows[row].name, taken)

    def set_review(self, row: int, name: str, metadata: dict[str, str]) -> None:
        """Make ``row`` the version's review component ``name`` with ``metadata`` (``ftr_meta``)."""
        self._set(row, name=name, metadata=dict(metadata))
        self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(COLUMNS) - 1))

    def validate_name(self, row: int, name: str) -> str | None:
        """Why ``name`` cannot be given to ``row``, or ``None`` (live checks in the editor)."""
        return self._validate(name, self.taken_names(except_row=row))

    def errors(self) -> list[str]:
        """Every problem that stops a publish (empty list: ready)."""
        problems = []
        for i, r in enumerate(self._rows):
            message = self.name_error(i)
            if message:
                problems.append(f"{r.name or '(no name)'}: {message}")
        return problems

    # QAbstractTableModel ------------------------------------------------------------------
    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() in (NAME, LOCATION):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == NAME:
                return row.name
            if col == SOURCE:
                return source_label(row) if role == Qt.ItemDataRole.DisplayRole else row.path
            if col == FRAMES:
                check = self.range_check(index.row()) if role == Qt.ItemDataRole.DisplayRole else None
                if check is not None:
                    # The range on disk, then the shot's (handles counted) when they differ.
                    mark = "" if check.matches else f" ≠ shot {check.shot.first}-{check.shot.last}"
                    return f"{row.frame_range}{mark}"
                return row.frame_range or ""
            if col == HOLES:
                return str(row.hole_count) if row.holes else ""
            if col == SIZE:
                return format_size(row.size)
            if col == LOCATION:
                return row.location
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            if col == NAME:
                return icons.icon("error") if self.name_error(index.row()) else icons.icon(row.kind)
            if col == HOLES and row.holes:
                return icons.icon("warning")
            if col == FRAMES and self.range_warning(index.row()):
                return icons.icon("warning")
            if col == REMOVE:
                return icons.icon("remove")
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == NAME and self.name_error(index.row()):
                return QBrush(ERROR_COLOR)
            if col == HOLES and row.holes:
                return QBrush(HOLE_COLOR)
            if col == FRAMES and self.range_warning(index.row()):
                return QBrush(HOLE_COLOR)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == NAME:
                return self.name_error(index.row()) or "Double-click to rename"
            if col == HOLES and row.holes:
                return format_holes(row.holes, count=row.hole_count)
            if col == FRAMES:
                warning = self.range_warning(index.row())
                if warning:
                    return warning
                check = self.range_check(index.row())
                return f"Matches shot {check.shot.shot_name} ({check.shot.describe()})" if check else None
            if col == REMOVE:
                return "Remove from the publish (Del)"
            if col == SOURCE:
                return row.path
            if col == LOCATION:
                return "Double-click to choose where the files go"
            return None
        if role == roles.NAME_ERROR and col == NAME:
            return self.name_error(index.row())
        if role == roles.ROW:
            return row
        if role == roles.SORT:
            return row.size if col == SIZE else self.data(index, Qt.ItemDataRole.DisplayRole)
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        col = index.column()
        if col == NAME:
            name = str(value).strip()
            message = self.validate_name(index.row(), name)
            if message:
                self.editRejected.emit(f"Cannot rename to “{name}”: {message}")
                return False
            self._set(index.row(), name=name)
        elif col == LOCATION:
            location = str(value)
            if location not in self.locations:
                self.editRejected.emit(f"Unknown location “{location}”. Pick one of: {', '.join(self.locations)}.")
                return False
            self._set(index.row(), location=location)
        else:
            return False
        # A rename may clear (or cause) a clash on other rows too.
        self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(COLUMNS) - 1))
        return True

    def _set(self, row: int, **changes: Any) -> None:
        current = self._rows[row]
        if dataclasses.is_dataclass(current) and not getattr(type(current), "__dataclass_params__").frozen:
            for key, val in changes.items():
                setattr(current, key, val)
        else:
            self._rows[row] = dataclasses.replace(current, **changes)
