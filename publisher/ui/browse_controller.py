"""Browsing: the context tree, the versions of the selected context and the selected version's details.

:class:`BrowseController` owns the context and version models, the thumbnail cache and what is
selected (context, version, details). It loads everything in workers on clones of the window's
session and answers with model updates and signals. No widgets. GUI thread only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal

from publisher.ui import controller_tasks as tasks
from publisher.ui import roles
from publisher.ui.context_model import ContextModel
from publisher.ui.error_messages import describe_error
from publisher.ui.thumbnails import ThumbnailCache
from publisher.ui.version_model import VersionModel
from publisher.ui.workers import Worker, WorkerPool


class BrowseController(QObject):
    """What the window shows of the server: tree, versions, details. GUI thread only."""

    #: ``message``: something failed; the message says what to do.
    errorRaised = Signal(str)
    #: ``text``: short news for the status bar.
    statusMessage = Signal(str)
    #: ``ContextRow``: the versions of this context are being shown.
    contextChanged = Signal(object)
    #: ``context_id``: select this context in the browser (after a restore).
    contextRestored = Signal(str)
    #: ``(total,)``: the first page of the current context arrived.
    versionsLoaded = Signal(int)
    #: ``VersionRow``: the artist selected this version (its details are loading).
    versionSelected = Signal(object)
    #: ``VersionDetails`` of the selected version.
    detailsLoaded = Signal(object)

    def __init__(self, session: Any, workers: WorkerPool, parent: QObject | None = None, *,
                 settings: QSettings | None = None, thumbnail_cache: ThumbnailCache | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.workers = workers
        self.settings = settings or QSettings("ftrack", "ftrack-publisher")
        self.context_model = ContextModel(self)
        self.version_model = VersionModel(self)
        self.thumbnails = thumbnail_cache or ThumbnailCache(session, parent=self)
        self.version_model.thumbnail_lookup = self.thumbnails.pixmap
        self.thumbnails.thumbnailReady.connect(self.version_model.thumbnail_ready)

        self.context: Any = None
        self.version_id: str | None = None
        self.details: Any = None
        self.text_filter = ""
        self._details_worker: Worker | None = None

        self.context_model.childrenRequested.connect(self.load_children)
        self.version_model.pageRequested.connect(self.load_page)
        self.version_model.orderRequested.connect(self._order_changed)

    @property
    def server_url(self) -> str:
        return str(getattr(self.session, "server_url", "") or "")

    def _run(self, fn: Any, *args: Any, on_result: Any = None, on_error: Any = None) -> Worker:
        return self.workers.start(Worker(fn, *args, session=self.session), on_result=on_result,
                                  on_error=on_error or self.report_error)

    def report_error(self, error: BaseException) -> None:
        """Word ``error`` for the artist (by its type) and raise it to the window's banner."""
        self.errorRaised.emit(describe_error(error, self.server_url))

    def _settings_key(self) -> str:
        if tasks.is_loopback(self.server_url):
            # The embedded server listens on a new port each run: remember per machine, not port.
            return "last_context/local"
        return "last_context/" + self.server_url.replace("/", "_").replace(":", "_")

    # The tree -------------------------------------------------------------------------------
    def start(self, context_id: str | None = None) -> None:
        """Load the projects and reopen the last context (or the demo task with versions);
        ``context_id`` (``FTRACK_CONTEXTID``, ``--context``) opens that one instead."""
        remembered = context_id or self.settings.value(self._settings_key(), None)
        self.statusMessage.emit("Loading projects…")
        self.context_model.mark_loading(None)
        self._run(tasks.restore, remembered or None, on_result=self._restored, on_error=self._restore_failed)

    def _restored(self, result: tuple[list[tuple[str | None, list[Any]]], str | None]) -> None:
        levels, context_id = result
        for parent_id, rows in levels:
            self.context_model.set_children(parent_id, rows)
        if context_id:
            index = self.context_model.index_for_id(context_id)
            row = self.context_model.data(index, roles.ROW) if index.isValid() else None
            self.contextRestored.emit(context_id)
            if row is not None and (self.context is None or self.context.id != context_id):
                self.select_context(row)
        self.statusMessage.emit("Ready")

    def _restore_failed(self, error: BaseException) -> None:
        self.context_model.set_failed(None)
        self.report_error(error)

    def load_children(self, parent_id: str | None) -> None:
        """Load one level of the tree (from ``ContextModel.childrenRequested``)."""
        self._run(tasks.load_children, parent_id,
                  on_result=lambda r: self.context_model.set_children(r[0], r[1]),
                  on_error=lambda e, p=parent_id: (self.context_model.set_failed(p), self.report_error(e)))

    def tree_loaded(self) -> bool:
        """Whether the top of the tree loaded (else a refresh starts over)."""
        return self.context_model.is_loaded(None)

    def refresh(self) -> None:
        """Reload what is shown: the tree when it failed, the versions and the details (F5)."""
        if not self.tree_loaded():
            self.start()
            return
        if self.context is not None:
            self.select_context(self.context, force=True)

    # Versions -------------------------------------------------------------------------------
    def select_context(self, row: Any, *, force: bool = False) -> None:
        """Show the versions of ``row`` (a ``ContextRow``) and remember it."""
        if row is None:
            return
        if not force and self.context is not None and self.context.id == row.id:
            return
        self.context = row
        self.settings.setValue(self._settings_key(), row.id)
        generation = self.version_model.set_context(row.id, self.text_filter)
        self.contextChanged.emit(row)
        self._run(tasks.load_first_page, row.id, self.text_filter, self.version_model.page_size, generation,
                  self._order(), on_result=self._first_page, on_error=lambda e, g=generation: self._page_failed(g, e))

    def _order(self) -> tuple[str, bool]:
        return self.version_model.order_by, self.version_model.descending

    def _order_changed(self, _key: str, _descending: bool) -> None:
        # Only a partly loaded table asks: reload its pages in the new order.
        if self.context is not None:
            self.select_context(self.context, force=True)

    def set_text_filter(self, text: str) -> None:
        """Filter the versions on the server (debounced by the view); the proxy filters as you type."""
        text = text.strip()
        if text == self.text_filter:
            return
        self.text_filter = text
        if self.context is not None:
            self.select_context(self.context, force=True)

    def _first_page(self, result: tuple[int, int, list[Any]]) -> None:
        generation, total, rows = result
        self.version_model.set_first_page(generation, total, rows)
        if generation == self.version_model.generation:
            self.versionsLoaded.emit(total)

    def _page_failed(self, generation: int, error: BaseException) -> None:
        self.version_model.page_failed(generation)
        self.report_error(error)

    def load_page(self, context_id: str, offset: int, limit: int, generation: int) -> None:
        """Load the next page (from ``VersionModel.pageRequested``)."""
        self._run(tasks.load_page, context_id, offset, limit, self.text_filter, generation, self._order(),
                  on_result=lambda r: self.version_model.add_page(*r),
                  on_error=lambda e, g=generation: self._page_failed(g, e))

    def version_row(self, version_id: str) -> Any:
        """The ``VersionRow`` of ``version_id`` in the list, or ``None``."""
        index = self.version_model.row_for_id(version_id)
        return self.version_model.row_at(index) if index >= 0 else None

    # Details --------------------------------------------------------------------------------
    def select_version(self, row: Any) -> None:
        """Show the details of ``row`` (a ``VersionRow``)."""
        if row is None:
            return
        self.version_id = row.id
        if self._details_worker is not None:
            self._details_worker.cancel()
        self.versionSelected.emit(row)
        self._details_worker = self._run(tasks.load_details, row.id, on_result=self._details)

    def _details(self, details: Any) -> None:
        if details.row.id != self.version_id:
            return
        self.details = details
        self.detailsLoaded.emit(details)

    def show_version(self, details: Any) -> None:
        """Select and show ``details`` (a version just published): in the list when it belongs there."""
        row = details.row
        if self.context is not None and self.context.id in (row.context_id, row.task_id):
            self.version_model.upsert(row)
        self.version_id = row.id
        self.details = details
        self.detailsLoaded.emit(details)

    def refresh_version(self, version_id: str) -> None:
        """Reload ``version_id`` from the server (a finished encode gave it a thumbnail and a movie)."""
        self._run(tasks.refresh_version, version_id, on_result=self._version_refreshed)

    def _version_refreshed(self, details: Any) -> None:
        row = details.row
        if self.version_model.row_for_id(row.id) >= 0:
            self.version_model.upsert(row)
        if self.details is not None and self.details.row.id == row.id:
            self.details = details
            self.detailsLoaded.emit(details)
