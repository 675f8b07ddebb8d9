"""The activity panel: publishes, transfers and encode jobs with Cancel, Retry, Clear finished.

:class:`ActivityPanel` is a plain widget (the standalone window puts it in a dock at the bottom;
inside a DCC it sits under the publisher). Its buttons and context menu only emit intent signals
carrying the row's key; the controller decides. GUI thread only.
"""

from __future__ import annotations

from typing import Any

import qtawesome as qta
from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QMenu,
                               QPushButton, QTreeView, QVBoxLayout, QWidget)

from publisher.ui import activity_model as am
from publisher.ui import roles
from publisher.ui.activity_delegate import ProgressDelegate
from publisher.ui.activity_model import ActivityItem, ActivityModel


def _icon(name: str, colour: str = "#a0a4ab") -> Any:
    return qta.icon(name, color=colour)


class ActivityPanel(QWidget):
    """Tree of activity rows and the buttons that act on the selected publish."""

    #: ``key`` of a top-level row: stop it (and remove what it created).
    cancelRequested = Signal(str)
    #: ``key`` of a failed top-level row: run its failed parts again.
    retryRequested = Signal(str)
    #: Remove the finished rows.
    clearRequested = Signal()
    #: ``version_id``: play the version's review movie.
    playRequested = Signal(str)

    def __init__(self, model: ActivityModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ActivityPanel")
        self.model = model
        self.title = QLabel("Activity")
        self.title.setObjectName("PanelTitle")
        self.summary = QLabel("")
        self.summary.setObjectName("Muted")
        self.cancel_button = QPushButton(_icon("mdi6.cancel"), "Cancel")
        self.cancel_button.setToolTip("Stop the selected publish and remove what it created on the server")
        self.retry_button = QPushButton(_icon("mdi6.replay"), "Retry")
        self.retry_button.setToolTip("Run the parts of the selected publish that failed again")
        self.clear_button = QPushButton(_icon("mdi6.broom"), "Clear finished")
        self.cancel_button.clicked.connect(lambda: self._emit_selected(self.cancelRequested))
        self.retry_button.clicked.connect(lambda: self._emit_selected(self.retryRequested))
        self.clear_button.clicked.connect(self.clearRequested)

        self.view = QTreeView()
        self.view.setObjectName("ActivityView")
        self.view.setModel(model)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)
        self.delegate = ProgressDelegate(self.view)
        self.view.setItemDelegateForColumn(am.PROGRESS, self.delegate)
        header = self.view.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in ((am.TITLE, 420), (am.PROGRESS, 260), (am.SPEED, 100), (am.ETA, 90)):
            header.resizeSection(column, width)

        model.rowsInserted.connect(self._rows_inserted)
        #: Top-level rows seen running: one that starts (a retry, a resume, a waiting publish
        #: the server took back) is brought into sight once, not at every progress tick.
        self._running: set[str] = set()
        model.dataChanged.connect(self._follow_running)
        for signal in (model.rowsRemoved, model.dataChanged, model.modelReset):
            signal.connect(self._update)
        self.view.selectionModel().currentRowChanged.connect(lambda *_a: self._update())

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.summary, 1)
        top.addWidget(self.cancel_button)
        top.addWidget(self.retry_button)
        top.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self._update()

    # Selection ------------------------------------------------------------------------------
    def selected_top(self) -> ActivityItem | None:
        """The top-level row of the current row (a child row selects its publish)."""
        index = self.view.currentIndex()
        item = self.model.item_at(index) if index.isValid() else None
        while item is not None and item.parent is not None and item.parent.kind != "root":
            item = item.parent
        if item is None and self.model.rowCount():
            # Nothing chosen: the newest publish is what the artist is looking at.
            item = self.model.publishes()[-1]
        return item

    def select_key(self, key: str) -> bool:
        item = self.model.item(key)
        if item is None:
            return False
        self.view.setCurrentIndex(self.model.index_of(item))
        return True

    def _emit_selected(self, signal: Any) -> None:
        item = self.selected_top()
        if item is not None:
            signal.emit(item.key)

    def _rows_inserted(self, parent: QModelIndex, _first: int, _last: int) -> None:
        if not parent.isValid():
            # A new publish: open it so its transfers show, and make it the current row.
            last = self.model.index(self.model.rowCount() - 1, 0)
            self.view.setCurrentIndex(last)
            self.view.scrollTo(last)  # the running publish is in sight, however long the list
        else:
            self.view.expand(parent)
        self._update()

    def _follow_running(self, first: QModelIndex, _last: QModelIndex, *_roles: Any) -> None:
        if first.parent().isValid():
            return
        key = self.key_of(first)
        item = self.item_for(key) if key else None
        if item is None:
            return
        if item.state == "running" and key not in self._running:
            self._running.add(key)
            index = first.siblingAtColumn(0)
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index)
        elif item.state != "running":
            self._running.discard(key)

    def _update(self, *_args: Any) -> None:
        item = self.selected_top()
        running = item is not None and item.state in ("queued", "waiting", "running")
        self.cancel_button.setEnabled(running and item.kind == "publish")
        self.retry_button.setEnabled(item is not None and item.state in ("failed", "waiting")
                                      and item.kind == "publish")
        rows = self.model.publishes()
        self.clear_button.setEnabled(any(r.state in ("done", "cancelled") for r in rows))
        active = sum(1 for r in rows if r.kind == "publish" and r.state in ("queued", "waiting", "running"))
        encoding = sum(1 for r in rows for c in r.children
                       if c.kind == "encode" and c.state in ("queued", "running"))
        failed = sum(1 for r in rows if r.state == "failed")
        bits = []
        if active:
            bits.append(f"{active} publishing")
        if encoding:
            bits.append(f"{encoding} encoding")
        if failed:
            bits.append(f"{failed} failed")
        self.summary.setText(" · ".join(bits) if bits else ("nothing running" if rows else "no publishes yet"))

    def _menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        item = self.model.item_at(index)
        if item is None:
            return
        self.view.setCurrentIndex(index)
        top = self.selected_top()
        menu = QMenu(self)
        if top is not None and top.kind == "publish":
            menu.addAction(self.cancel_button.icon(), "Cancel", lambda: self.cancelRequested.emit(top.key)
                           ).setEnabled(self.cancel_button.isEnabled())
            menu.addAction(self.retry_button.icon(), "Retry", lambda: self.retryRequested.emit(top.key)
                           ).setEnabled(self.retry_button.isEnabled())
        version_id = (top.data.get("version_id") if top is not None else None)
        encode_done = item.kind == "encode" and item.state == "done"
        if version_id and (encode_done or any(c.kind == "encode" and c.state == "done" for c in top.children)):
            menu.addAction(_icon("mdi6.play-circle", "#8fd18f"), "Play",
                           lambda v=version_id: self.playRequested.emit(v))
        menu.addSeparator()
        menu.addAction("Clear finished", self.clearRequested)
        menu.popup(self.view.viewport().mapToGlobal(pos))
        self._last_menu = menu

    def item_for(self, key: str) -> ActivityItem | None:
        return self.model.item(key)

    @staticmethod
    def key_of(index: QModelIndex) -> str | None:
        return index.data(roles.ID) if index.isValid() else None
