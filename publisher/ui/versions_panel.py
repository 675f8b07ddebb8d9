"""The versions table of the selected context with its filter box. GUI thread only.

The filter narrows the loaded rows at once (the proxy) and, after a pause in typing, asks the
controller to filter on the server too (:attr:`VersionsPanel.serverFilterChanged`), so a filter
over 100,000 versions does not need them all loaded.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QMenu, QTableView, QToolButton, QVBoxLayout, QWidget)

from publisher.ui import icons, roles
from publisher.ui import version_model as vm
from publisher.ui.compact_header import CompactHeader
from publisher.ui.version_delegate import THUMB_W, ThumbnailDelegate
from publisher.ui.version_model import VersionModel
from publisher.ui.version_proxy import VersionProxy

FILTER_DELAY_MS = 300


class VersionsPanel(QWidget):
    """Versions of one context; emits :attr:`versionSelected` with the ``VersionRow``."""

    versionSelected = Signal(object)
    serverFilterChanged = Signal(str)
    #: ``VersionRow``: choose a movie or image and encode it for review on this version.
    makeReviewableRequested = Signal(object)
    #: ``VersionRow``: play this version's review movie.
    playRequested = Signal(object)

    def __init__(self, model: VersionModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = VersionProxy(self)
        self.proxy.setSourceModel(model)

        self.title = QLabel("Versions")
        self.title.setObjectName("PanelTitle")
        # The whole path of the context: wrapped on a narrow screen, never widening the window.
        self.title.setWordWrap(True)
        self.count = QLabel("")
        self.count.setObjectName("Muted")
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter (Ctrl+F)")
        self.filter.setToolTip("Show only the versions whose asset, version, status, user or comment "
                               "hold every word typed (Ctrl+F)")
        self.filter.setClearButtonEnabled(True)
        # Wide enough for its placeholder, so the shortcut it names is not cut off.
        self.filter.setMinimumWidth(self.filter.fontMetrics().horizontalAdvance(self.filter.placeholderText()) + 60)
        self.filter.addAction(icons.icon("filter"), QLineEdit.ActionPosition.LeadingPosition)
        self.review = QComboBox()
        self.review.addItem("All reviews", None)
        for state in ("playable", "encoding", "failed", "none"):
            self.review.addItem(icons.icon(state), state if state != "none" else "no review", state)
        self.review.currentIndexChanged.connect(lambda _i: self.proxy.set_review_state(self.review.currentData()))
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(FILTER_DELAY_MS)
        self._debounce.timeout.connect(lambda: self.serverFilterChanged.emit(self.filter.text()))
        self.filter.textChanged.connect(self._filter_typed)

        self.view = QTableView()
        self.view.setObjectName("VersionView")
        self.view.setHorizontalHeader(CompactHeader(self.view))
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # server order (newest first) until asked
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.setIconSize(QSize(16, 16))
        self.thumbnail_delegate = ThumbnailDelegate(self.view)
        self.view.setItemDelegateForColumn(vm.THUMB, self.thumbnail_delegate)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(42)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        # The short columns take the width of their words ("Pending Review", "Sam Compositor")
        # and the Asset column the rest, eliding a long name rather than any other column.
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(36)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(vm.THUMB, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(vm.THUMB, THUMB_W + 8)
        header.setSectionResizeMode(vm.ASSET, QHeaderView.ResizeMode.Stretch)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)
        self.view.doubleClicked.connect(self._double_clicked)
        self.review_button = QToolButton()
        self.review_button.setIcon(icons.icon("make_reviewable"))
        self.review_button.setToolTip("Make reviewable: encode a movie or image for the selected version")
        self.review_button.setAutoRaise(True)
        self.review_button.clicked.connect(lambda: self._emit_current(self.makeReviewableRequested))
        self.play_button = QToolButton()
        self.play_button.setIcon(icons.icon("playable"))
        self.play_button.setToolTip("Play the selected version's review movie")
        self.play_button.setAutoRaise(True)
        self.play_button.clicked.connect(lambda: self._emit_current(self.playRequested))
        for signal in (model.rowsInserted, model.modelReset, self.proxy.rowsInserted, self.proxy.rowsRemoved,
                       self.proxy.modelReset, self.proxy.layoutChanged):
            signal.connect(self.update_count)
        # Play only has something to play once the selected version's review movie is ready.
        for signal in (self.view.selectionModel().currentRowChanged, self.proxy.dataChanged,
                       self.proxy.rowsRemoved, self.proxy.modelReset, self.proxy.layoutChanged):
            signal.connect(self._update_buttons)
        self._update_buttons()

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.count, 1)
        top.addWidget(self.review)
        top.addWidget(self.filter, 1)
        top.addWidget(self.review_button)
        top.addWidget(self.play_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)

    def _update_buttons(self, *_args: Any) -> None:
        row = self.current_row()
        self.review_button.setEnabled(row is not None)
        self.play_button.setEnabled(row is not None and row.review_state == "playable")

    def _filter_typed(self, text: str) -> None:
        self.proxy.set_filter_text(text)
        self._debounce.start()

    def update_count(self, *_args: Any) -> None:
        """Say how many versions the context has, are loaded and are shown (also after a load
        that brought no rows, which no row signal announces)."""
        model = self.model
        if model.context_id is None:
            self.count.setText("")
        elif model.is_loading() and not model.loaded():
            self.count.setText("loading…")
        else:
            shown = self.proxy.rowCount()
            text = f"{model.total} version{'s' if model.total != 1 else ''}"
            if model.loaded() < model.total:
                text += f" ({model.loaded()} loaded)"
            if shown != model.loaded():
                text += f", {shown} shown"
            self.count.setText(text)

    def set_context_title(self, label: str) -> None:
        self.title.setText(f"Versions of {label}")
        self.update_count()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = current.data(roles.ROW) if current.isValid() else None
        if row is not None:
            self.versionSelected.emit(row)

    def current_row(self) -> Any:
        """The selected ``VersionRow`` or ``None``."""
        index = self.view.currentIndex()
        return index.data(roles.ROW) if index.isValid() else None

    def _emit_current(self, signal: Any) -> None:
        row = self.current_row()
        if row is not None:
            signal.emit(row)

    def _double_clicked(self, index: QModelIndex) -> None:
        row = index.data(roles.ROW)
        if row is not None and index.column() == vm.REVIEW and row.review_state == "playable":
            self.playRequested.emit(row)

    def _menu(self, pos: QPoint) -> None:
        row = self.row_at(pos)
        if row is None:
            return
        menu = QMenu(self)
        menu.addAction(icons.icon("make_reviewable"), "Make reviewable…", lambda r=row: self.makeReviewableRequested.emit(r))
        play = menu.addAction(icons.icon("playable"), "Play", lambda r=row: self.playRequested.emit(r))
        play.setEnabled(row.review_state == "playable")
        self._menu_shown = menu
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def row_at(self, pos: Any) -> Any:
        """The ``VersionRow`` under viewport position ``pos`` or ``None``."""
        index = self.view.indexAt(pos)
        return index.data(roles.ROW) if index.isValid() else None

    def select_id(self, version_id: str) -> bool:
        """Select the row of ``version_id`` if it is loaded."""
        source_row = self.model.row_for_id(version_id)
        if source_row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(source_row, 0))
        if not index.isValid():
            return False
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scrollTo(index)
        return True

    def select_first(self) -> None:
        if self.proxy.rowCount() and not self.view.selectionModel().hasSelection():
            index = self.proxy.index(0, 0)
            self.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
