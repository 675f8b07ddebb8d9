"""The context browser's model: projects down to tasks, loaded lazily one level at a time.

:class:`ContextNode` is a plain-Python tree node holding a ``publisher.publish.browse.ContextRow``;
:class:`ContextModel` is a thin ``QAbstractItemModel`` over it. The model never talks to the
server: ``fetchMore`` emits :attr:`ContextModel.childrenRequested` and whoever loads the rows (the
controller, in a worker) hands them back with :meth:`ContextModel.set_children`. GUI thread only.
"""

from __future__ import annotations

from typing import Any, Iterable

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from publisher.ui import icons, roles

Index = QModelIndex | QPersistentModelIndex


class ContextNode:
    """One context (or the invisible root) and the children loaded so far."""

    __slots__ = ("row", "parent", "children", "fetched", "loading")

    def __init__(self, row: Any = None, parent: "ContextNode | None" = None) -> None:
        self.row = row
        self.parent = parent
        self.children: list[ContextNode] = []
        self.fetched = False
        self.loading = False

    @property
    def id(self) -> str | None:
        return None if self.row is None else self.row.id

    def may_have_children(self) -> bool:
        """True until the children are loaded and found empty (the root always may)."""
        if self.row is None:
            return True
        if self.fetched:
            return bool(self.children)
        return bool(self.row.has_children)

    def index_in_parent(self) -> int:
        return 0 if self.parent is None else self.parent.children.index(self)


class ContextModel(QAbstractItemModel):
    """Lazy tree of ftrack contexts. One column: the name, with type and status as tooltip."""

    #: ``(context_id or None for the projects)``: load the children of this node.
    childrenRequested = Signal(object)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._root = ContextNode()
        self._by_id: dict[str, ContextNode] = {}

    # Loading ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every loaded node; the view asks for the projects again."""
        self.beginResetModel()
        self._root = ContextNode()
        self._by_id.clear()
        self.endResetModel()

    def set_children(self, parent_id: str | None, rows: Iterable[Any], *, replace: bool = False) -> None:
        """Put the loaded children ``rows`` under ``parent_id`` (``None``: the projects).

        Children already loaded are kept unless ``replace`` is true, so a late answer to a
        ``fetchMore`` cannot wipe a subtree that a restore loaded meanwhile.
        """
        node = self._root if parent_id is None else self._by_id.get(parent_id)
        if node is None:
            return  # the tree was reset while the rows were on their way
        if node.fetched and not replace:
            node.loading = False
            return
        rows = list(rows)
        parent_index = self._index_of(node)
        if node.children:
            self.beginRemoveRows(parent_index, 0, len(node.children) - 1)
            for child in node.children:
                self._forget(child)
            node.children = []
            self.endRemoveRows()
        node.fetched = True
        node.loading = False
        if rows:
            self.beginInsertRows(parent_index, 0, len(rows) - 1)
            for row in rows:
                child = ContextNode(row, node)
                node.children.append(child)
                self._by_id[row.id] = child
            self.endInsertRows()
        if node is not self._root:
            self.dataChanged.emit(parent_index, parent_index)

    def mark_loading(self, parent_id: str | None) -> None:
        """Someone else is loading the children of ``parent_id``: do not ask again meanwhile."""
        node = self._root if parent_id is None else self._by_id.get(parent_id)
        if node is not None and not node.fetched:
            node.loading = True

    def set_failed(self, parent_id: str | None) -> None:
        """Loading the children of ``parent_id`` failed: allow a retry on the next expand."""
        node = self._root if parent_id is None else self._by_id.get(parent_id)
        if node is not None:
            node.loading = False
            node.fetched = False

    def _forget(self, node: ContextNode) -> None:
        for child in node.children:
            self._forget(child)
        if node.id is not None:
            self._by_id.pop(node.id, None)

    # Lookup -------------------------------------------------------------------------------
    def node(self, index: Index) -> ContextNode:
        if index.isValid():
            return index.internalPointer()
        return self._root

    def path_label(self, context_id: str) -> str:
        """``lighthouse / sq010 / sh010 / Compositing`` for a loaded context ("" when it is not)."""
        names: list[str] = []
        index = self.index_for_id(context_id)
        while index.isValid():
            row = self.data(index, roles.ROW)
            names.append(row.name if row is not None else "")
            index = index.parent()
        return " / ".join(reversed(names))

    def index_for_id(self, context_id: str) -> QModelIndex:
        """The index of a loaded context, or an invalid index."""
        node = self._by_id.get(context_id)
        return QModelIndex() if node is None else self._index_of(node)

    def is_loaded(self, context_id: str | None) -> bool:
        """True when the children of ``context_id`` are loaded."""
        node = self._root if context_id is None else self._by_id.get(context_id)
        return node is not None and node.fetched

    def _index_of(self, node: ContextNode) -> QModelIndex:
        if node is self._root or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.index_in_parent(), 0, node)

    # QAbstractItemModel -------------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        if column != 0 or row < 0:
            return QModelIndex()
        node = self.node(parent)
        if row >= len(node.children):
            return QModelIndex()
        return self.createIndex(row, 0, node.children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        node: ContextNode = index.internalPointer()
        parent = node.parent
        if parent is None or parent is self._root:
            return QModelIndex()
        return self._index_of(parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if parent.column() > 0:
            return 0
        return len(self.node(parent).children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 1

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:
        if parent.column() > 0:
            return False
        node = self.node(parent)
        return bool(node.children) or (not node.fetched and node.may_have_children())

    def canFetchMore(self, parent: Index) -> bool:
        if parent.column() > 0:
            return False
        node = self.node(parent)
        return not node.fetched and not node.loading and node.may_have_children()

    def fetchMore(self, parent: Index) -> None:
        node = self.node(parent)
        if node.fetched or node.loading:
            return
        node.loading = True
        self.childrenRequested.emit(node.id)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and section == 0:
            return "Context"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDropEnabled)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node: ContextNode = index.internalPointer()
        row = node.row
        if role == Qt.ItemDataRole.DisplayRole:
            return row.name
        if role == Qt.ItemDataRole.DecorationRole:
            return icons.icon(row.entity_type)
        if role == Qt.ItemDataRole.ToolTipRole:
            kind = row.type_name or row.entity_type
            status = f" — {row.status_name}" if getattr(row, "status_name", None) else ""
            return f"{row.name} ({kind}){status}"
        if role == roles.ROW:
            return row
        if role == roles.ID:
            return row.id
        if role == roles.ENTITY_TYPE:
            return row.entity_type
        if role == roles.LOADING:
            return node.loading
        if role in (roles.FILTER_TEXT, roles.SORT):
            return f"{row.name} {row.type_name or ''}"
        return None
