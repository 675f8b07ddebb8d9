"""The versions of the selected context, as a table loaded page by page.

:class:`VersionModel` is a ``QAbstractTableModel`` over a list of
``publisher.publish.browse.VersionRow``. It never talks to the server: when the view scrolls near
the end, ``fetchMore`` emits :attr:`VersionModel.pageRequested` and the loader (the controller, in
a worker) hands the page back with :meth:`VersionModel.add_page`. Each load carries a generation
number so a page that arrives after the context changed is dropped. GUI thread only.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Callable, Iterable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPixmap

from publisher.ui import contrast, icons, roles, theme
from publisher.ui.rows_model import RowsTableModel

Index = QModelIndex | QPersistentModelIndex

PAGE_SIZE = 200

COLUMNS = ["", "Asset", "Version", "Status", "Published by", "Date", "Files", "Review"]
THUMB, ASSET, VERSION, STATUS, USER, DATE, COMPONENTS, REVIEW = range(len(COLUMNS))

HEADER_TIPS = ["Thumbnail", "Asset", "Version number", "Status", "Who published it", "When",
               "Number of components", "Review media: playable, encoding, failed or none"]

#: Columns the server can sort by (``browse.VERSION_ORDER`` keys).
SERVER_ORDER = {THUMB: "date", ASSET: "asset", VERSION: "version", STATUS: "status", USER: "user", DATE: "date"}

REVIEW_TEXT = {"none": "—", "encoding": "encoding", "playable": "playable", "failed": "failed"}


def format_date(value: datetime | None) -> str:
    """A short local date and time for a table cell."""
    if value is None:
        return ""
    try:
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    except (ValueError, OSError):
        return value.strftime("%Y-%m-%d %H:%M")


def format_short_date(value: datetime | None) -> str:
    """A compact local date for the versions table ("3 Dec 16:20"; the year when not this one):
    the full date is in the details panel."""
    if value is None:
        return ""
    try:
        local = value.astimezone()
    except (ValueError, OSError):
        local = value
    if local.year == datetime.now().year:
        return f"{local.day} {local.strftime('%b %H:%M')}"
    return f"{local.day} {local.strftime('%b %Y')}"


class VersionModel(RowsTableModel):
    """AssetVersions of one context. Rows arrive in pages; ``canFetchMore`` asks for the next."""

    columns = COLUMNS

    #: ``(context_id, offset, limit, generation)``: load this page.
    pageRequested = Signal(str, int, int, int)
    #: ``thumbnail_id``: a visible row needs this thumbnail.
    thumbnailRequested = Signal(str)
    #: ``(order_key, descending)``: the rows must come from the server in this order.
    orderRequested = Signal(str, bool)

    def __init__(self, parent: Any = None, page_size: int = PAGE_SIZE) -> None:
        super().__init__(parent)
        self.page_size = page_size
        self.context_id: str | None = None
        self.text_filter = ""
        self.total = 0
        self.generation = 0
        self._row_of: dict[str, int] = {}
        self._loading = False
        self.thumbnail_lookup: Callable[[str], QPixmap | None] | None = None
        self.order_by = "date"
        self.descending = True
        #: version id -> encode percent while a job this window follows runs.
        self._review_progress: dict[str, int] = {}

    # Loading ------------------------------------------------------------------------------
    def set_context(self, context_id: str | None, text_filter: str = "") -> int:
        """Empty the table for ``context_id``; returns the generation the first page must carry."""
        self.beginResetModel()
        self.generation += 1
        self.context_id = context_id
        self.text_filter = text_filter
        self.total = 0
        self._rows = []
        self._row_of = {}
        self._loading = context_id is not None
        self.endResetModel()
        return self.generation

    def set_first_page(self, generation: int, total: int, rows: Iterable[Any]) -> None:
        """The count and the first page of the context set by :meth:`set_context`."""
        if generation != self.generation:
            return
        self.total = total
        # Still "loading" while rows go in: a view reacting to rowsInserted may call fetchMore,
        # which must see the new rows, not ask for the same page again.
        self._append(list(rows))
        self._loading = False

    def add_page(self, generation: int, offset: int, rows: Iterable[Any]) -> None:
        """A page loaded after ``pageRequested``; stale or out-of-order pages are ignored."""
        if generation != self.generation:
            return
        if offset != len(self._rows):
            self._loading = False
            return
        rows = list(rows)
        if not rows:
            self.total = len(self._rows)  # the server has fewer than it counted: stop asking
        else:
            self._append(rows)
        self._loading = False

    def page_failed(self, generation: int) -> None:
        """A page could not be loaded; the next scroll retries it."""
        if generation == self.generation:
            self._loading = False

    def _append(self, rows: list[Any]) -> None:
        rows = [r for r in rows if r.id not in self._row_of]
        if not rows:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        for i, row in enumerate(rows, first):
            self._row_of[row.id] = i
        self._rows.extend(rows)
        self.total = max(self.total, len(self._rows))
        self.endInsertRows()

    def upsert(self, row: Any) -> QModelIndex:
        """Add a version published from this window (at the top) or refresh an existing one."""
        at = self._row_of.get(row.id)
        if at is not None:
            self._rows[at] = row
            self.dataChanged.emit(self.index(at, 0), self.index(at, len(COLUMNS) - 1))
            return self.index(at, 0)
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._rows.insert(0, row)
        self._row_of = {r.id: i for i, r in enumerate(self._rows)}
        self.total += 1
        self.endInsertRows()
        return self.index(0, 0)

    def remove(self, version_id: str) -> bool:
        """Take ``version_id`` out of the table (deleted, or moved to another context by
        someone else); False when it is not loaded."""
        at = self._row_of.get(version_id)
        if at is None:
            return False
        self.beginRemoveRows(QModelIndex(), at, at)
        del self._rows[at]
        self._row_of = {r.id: i for i, r in enumerate(self._rows)}
        self.total = max(0, self.total - 1)
        self.endRemoveRows()
        return True

    def set_review_progress(self, version_id: str, percent: int | None) -> None:
        """Show ``encoding N %`` in the review column of ``version_id`` (``None``: stop showing it)."""
        if percent is None:
            self._review_progress.pop(version_id, None)
        else:
            self._review_progress[version_id] = int(percent)
        at = self._row_of.get(version_id)
        if at is None:
            return
        if percent is not None and self._rows[at].review_state != "encoding":
            self._rows[at] = replace(self._rows[at], review_state="encoding")
        idx = self.index(at, REVIEW)
        self.dataChanged.emit(idx, idx)

    def set_review_state(self, version_id: str, state: str) -> None:
        """Set the review state of a loaded row (``playable``, ``encoding``, ``failed``, ``none``)."""
        at = self._row_of.get(version_id)
        if at is None or self._rows[at].review_state == state:
            return
        self._rows[at] = replace(self._rows[at], review_state=state)
        idx = self.index(at, REVIEW)
        self.dataChanged.emit(idx, idx)

    def review_text(self, version_id: str) -> str:
        """What the review column shows for ``version_id`` (empty when not loaded)."""
        at = self._row_of.get(version_id)
        return "" if at is None else str(self.data(self.index(at, REVIEW)))

    def thumbnail_ready(self, thumbnail_id: str) -> None:
        """Repaint the rows that show ``thumbnail_id``."""
        for i, row in enumerate(self._rows):
            if row.thumbnail_id == thumbnail_id:
                idx = self.index(i, THUMB)
                self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])

    def request_order(self, column: int, descending: bool) -> None:
        """Sort by ``column``: when not every row is loaded, the server must order the pages.

        Fully loaded tables are sorted by the proxy alone (no request).
        """
        key = SERVER_ORDER.get(column)
        if key is None or (key == self.order_by and descending == self.descending):
            return
        self.order_by, self.descending = key, descending
        if self.context_id is not None and len(self._rows) < self.total:
            self.orderRequested.emit(key, descending)

    # Lookup -------------------------------------------------------------------------------
    def row_for_id(self, version_id: str) -> int:
        """The row of ``version_id`` or -1."""
        return self._row_of.get(version_id, -1)

    def loaded(self) -> int:
        return len(self._rows)

    def is_loading(self) -> bool:
        return self._loading

    # QAbstractTableModel ------------------------------------------------------------------
    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        if parent.isValid() or self.context_id is None or self._loading:
            return False
        return len(self._rows) < self.total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        self._loading = True
        assert self.context_id is not None
        self.pageRequested.emit(self.context_id, len(self._rows), self.page_size, self.generation)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return HEADER_TIPS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDropEnabled

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == REVIEW and row.review_state == "encoding" and row.id in self._review_progress:
                return f"encoding {self._review_progress[row.id]} %"
            return self._display(row, col)
        if role == roles.SORT:
            return self._sort_key(row, col)
        if role == Qt.ItemDataRole.DecorationRole:
            if col == THUMB:
                if row.thumbnail_id:
                    pixmap = self.thumbnail_lookup(row.thumbnail_id) if self.thumbnail_lookup else None
                    if pixmap is not None:
                        return pixmap
                    self.thumbnailRequested.emit(row.thumbnail_id)
                return icons.icon("version")
            if col == REVIEW:
                return icons.icon(row.review_state) if row.review_state in ("playable", "encoding", "failed") else None
            return None
        if role == Qt.ItemDataRole.ForegroundRole and col == STATUS and row.status_color:
            # The server picks status colours for its light web page: keep the hue, make it
            # readable on the dark table.
            return QBrush(contrast.readable(QColor(row.status_color), QColor(theme.BASE)))
        if role == Qt.ItemDataRole.ToolTipRole:
            comment = f"\n{row.comment}" if row.comment else ""
            return f"{row.asset_name} v{row.version:03d} ({row.asset_type}){comment}"
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (VERSION, COMPONENTS):
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == roles.ROW:
            return row
        if role == roles.ID:
            return row.id
        if role == roles.THUMBNAIL_ID:
            return row.thumbnail_id
        return None

    @staticmethod
    def _display(row: Any, col: int) -> Any:
        if col == ASSET:
            return row.asset_name
        if col == VERSION:
            return f"v{row.version:03d}"
        if col == STATUS:
            return row.status_name or ""
        if col == USER:
            return row.user_name or ""
        if col == DATE:
            return format_short_date(row.date)
        if col == COMPONENTS:
            return str(row.component_count)
        if col == REVIEW:
            return REVIEW_TEXT.get(row.review_state, row.review_state)
        return None

    @staticmethod
    def _sort_key(row: Any, col: int) -> Any:
        if col == VERSION:
            return row.version
        if col == COMPONENTS:
            return row.component_count
        if col in (DATE, THUMB):
            return row.date.timestamp() if row.date else 0.0
        if col == ASSET:
            return (row.asset_name.lower(), row.version)
        value = VersionModel._display(row, col)
        return (value or "").lower()
