"""The window's state and every call to the server, each in a worker.

:class:`Controller` owns the session the window was opened with (never used from the GUI thread
for requests: every worker clones it), the item models, the thumbnail cache and the state (the
current context, version and staging target). Views emit intent signals; the window connects
them to the controller's slots; the controller answers with model updates and its own signals.
GUI thread only.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QSettings, QThreadPool, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from publisher.publish import staging
from publisher.ui import controller_tasks as tasks
from publisher.ui import review_actions, roles
from publisher.ui.activity_model import ActivityItem, ActivityModel
from publisher.ui.context_model import ContextModel
from publisher.ui.drop_zone import DropTarget
from publisher.ui.job_poller import JobPoller
from publisher.ui.staging_model import StagingModel
from publisher.ui.thumbnails import ThumbnailCache
from publisher.ui.version_model import VersionModel
from publisher.ui.workers import Worker, WorkerPool

log = logging.getLogger(__name__)

#: Staging a drop with more paths than this happens in a worker; smaller drops do too, but the
#: window shows "Scanning…" only for big ones.
BIG_DROP = 200


@dataclass
class NewVersionDraft:
    """A version that does not exist yet: where, which asset, which type, and the comment."""

    context_id: str
    context_label: str
    asset_name: str
    asset_type_id: str = ""
    asset_type_name: str = ""
    asset_id: str | None = None
    comment: str = ""
    task_id: str | None = None


# Worker bodies: plain functions of a cloned session, returning plain data. -------------------

@dataclass(eq=False)
class _Publish:
    """A publish the window started: its request, activity row, worker and outbox entry."""

    publish_id: str
    request: Any
    item: ActivityItem
    from_staging: bool = False
    worker: Worker | None = None
    entry_id: str | None = None
    cancel_requested: bool = False
    cancel: Any = None  # the engine's threading.Event of the current run
    unreachable: bool = False
    wait_ms: int = 0
    timer: Any = None
    snapshot: tuple = ()  # what was staged when it started (name, path, location of each)


def _snapshot(components: list[Any]) -> tuple:
    return tuple((c.name, c.path, c.location) for c in components)


class Controller(QObject):
    """State and server calls of one publisher window. GUI thread only."""

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
    #: ``VersionDetails`` of the selected version.
    detailsLoaded = Signal(object)
    #: ``text``: where the staged components will go.
    targetChanged = Signal(str)
    #: ``(errors, warnings)`` of the last drop.
    stagingMessages = Signal(list, list)
    #: A drop was staged (its ``StagingResult``).
    staged = Signal(object)
    publishStarted = Signal()
    #: ``(done, total, text)``
    publishProgress = Signal("qint64", "qint64", str)
    #: ``PublishResult``
    publishFinished = Signal(object)
    #: ``message``
    publishFailed = Signal(str)
    #: ``version_id``: a published version is now in the list.
    versionPublished = Signal(str)
    #: ``(context_id, context_label, asset_types, assets, draft)``: ask for a new version.
    newVersionListsLoaded = Signal(object)
    #: ``(job_id, status, payload)``: an encode job this window follows has ended.
    jobFinished = Signal(str, str, object)
    #: ``path``: a review movie is on disk and was handed to the desktop's player.
    playStarted = Signal(str)

    def __init__(self, session: Any, parent: QObject | None = None, *,
                 settings: QSettings | None = None, thumbnail_cache: ThumbnailCache | None = None,
                 outbox: Any = None) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings or QSettings("ftrack", "ftrack-publisher")
        self.workers = WorkerPool(self)
        self.context_model = ContextModel(self)
        self.version_model = VersionModel(self)
        self.staging_model = StagingModel(self)
        self.thumbnails = thumbnail_cache or ThumbnailCache(session, parent=self)
        self.version_model.thumbnail_lookup = self.thumbnails.pixmap
        self.thumbnails.thumbnailReady.connect(self.version_model.thumbnail_ready)

        self.context: Any = None
        self.version_id: str | None = None
        self.details: Any = None
        self.target_version: Any = None  # VersionRow of an existing target
        self.target_new: NewVersionDraft | None = None
        self.text_filter = ""
        self._publish_worker: Worker | None = None
        self._details_worker: Worker | None = None
        self._staging_pending = 0

        # Publishes and job pollers run for minutes: they get threads of their own so browsing
        # (on the shared pool, two threads on a small machine) never waits behind them.
        self.long_pool = QThreadPool(self)
        self.long_pool.setMaxThreadCount(16)
        self.long_workers = WorkerPool(self, self.long_pool)
        self.activity_model = ActivityModel(self)
        self.outbox = outbox
        self._publishes: dict[str, _Publish] = {}
        self._pollers: dict[str, JobPoller] = {}
        self._retired_pollers: list[JobPoller] = []
        #: Whether the event hub pushes job changes (set by publisher.ui.live_updates).
        self.live_jobs = False
        self._resumed = False
        #: Delay before a publish waiting for the server tries again (doubles up to the cap), ms.
        self.wait_first_ms, self.wait_max_ms = 5000, 60000
        #: Opens a URL on the desktop (the review movie); replaceable where no desktop exists.
        self.open_url = QDesktopServices.openUrl

        self.context_model.childrenRequested.connect(self.load_children)
        self.version_model.pageRequested.connect(self.load_page)
        self.version_model.orderRequested.connect(self._order_changed)
        self.staging_model.editRejected.connect(self.errorRaised)

    # Identity -----------------------------------------------------------------------------
    @property
    def server_url(self) -> str:
        return str(getattr(self.session, "server_url", "") or "")

    @property
    def api_user(self) -> str:
        return str(getattr(self.session, "api_user", "") or "")

    def _settings_key(self) -> str:
        from urllib.parse import urlsplit

        host = (urlsplit(self.server_url).hostname or "").lower()
        if host in ("127.0.0.1", "localhost", "::1"):
            # The embedded server listens on a new port each run: remember per machine, not port.
            return "last_context/local"
        return "last_context/" + self.server_url.replace("/", "_").replace(":", "_")

    def _run(self, fn: Any, *args: Any, on_result: Any = None, on_error: Any = None,
             pass_worker: bool = False, on_progress: Any = None, needs_session: bool = True) -> Worker:
        worker = Worker(fn, *args, session=self.session if needs_session else None, pass_worker=pass_worker)
        return self.workers.start(worker, on_result=on_result, on_error=on_error or self.errorRaised.emit,
                                  on_progress=on_progress)

    def busy(self) -> bool:
        """True while any worker of this window is queued or running."""
        return self.workers.active() > 0

    # Browsing -----------------------------------------------------------------------------
    def start(self, context_id: str | None = None) -> None:
        """Load the projects and reopen the last context (or the demo task with versions);
        ``context_id`` (``FTRACK_CONTEXTID``, ``--context``) opens that one instead.

        Unfinished publishes of this server and user in the outbox show in the activity panel
        and run again.
        """
        if self.outbox is not None and not self._resumed:
            self._resumed = True
            self._run(tasks.unfinished_entries, self.outbox, self.server_url, self.api_user,
                      needs_session=False, on_result=self._resume_entries)
        remembered = context_id or self.settings.value(self._settings_key(), None)
        self.statusMessage.emit("Loading projects…")
        self.context_model.mark_loading(None)
        self._run(tasks.restore, remembered or None, on_result=self._restored,
                  on_error=self._restore_failed)

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

    def _restore_failed(self, message: str) -> None:
        self.context_model.set_failed(None)
        self.errorRaised.emit(message)

    def load_children(self, parent_id: str | None) -> None:
        """Load one level of the tree (from ``ContextModel.childrenRequested``)."""
        self._run(tasks.load_children, parent_id,
                  on_result=lambda r: self.context_model.set_children(r[0], r[1]),
                  on_error=lambda m, p=parent_id: (self.context_model.set_failed(p), self.errorRaised.emit(m)))

    def refresh(self) -> None:
        """Reload what is shown: the tree when it failed, the versions and the details (F5)."""
        if not self.context_model.is_loaded(None):
            self.start()
            return
        if self.context is not None:
            self.select_context(self.context, force=True)

    def select_context(self, row: Any, *, force: bool = False) -> None:
        """Show the versions of ``row`` (a ``ContextRow``) and remember it."""
        if row is None:
            return
        if not force and self.context is not None and self.context.id == row.id:
            return
        changed = self.context is None or self.context.id != row.id
        self.context = row
        self.settings.setValue(self._settings_key(), row.id)
        generation = self.version_model.set_context(row.id, self.text_filter)
        self.contextChanged.emit(row)
        if changed and self.target_new is None and not self.staging_model.rowCount():
            self._set_target(None, None)
        self._run(tasks.load_first_page, row.id, self.text_filter, self.version_model.page_size, generation,
                  self._order(), on_result=self._first_page, on_error=lambda m, g=generation: self._page_failed(g, m))

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

    def _page_failed(self, generation: int, message: str) -> None:
        self.version_model.page_failed(generation)
        self.errorRaised.emit(message)

    def load_page(self, context_id: str, offset: int, limit: int, generation: int) -> None:
        """Load the next page (from ``VersionModel.pageRequested``)."""
        self._run(tasks.load_page, context_id, offset, limit, self.text_filter, generation, self._order(),
                  on_result=lambda r: self.version_model.add_page(*r),
                  on_error=lambda m, g=generation: self._page_failed(g, m))

    def select_version(self, row: Any) -> None:
        """Show the details of ``row`` (a ``VersionRow``) and make it the staging target."""
        if row is None:
            return
        self.version_id = row.id
        if self._details_worker is not None:
            self._details_worker.cancel()
        if not self.staging_model.rowCount():
            self._set_target(row, None)
        self._details_worker = self._run(tasks.load_details, row.id, on_result=self._details)

    def _details(self, details: Any) -> None:
        if details.row.id != self.version_id:
            return
        self.details = details
        if self.target_version is not None and self.target_version.id == details.row.id:
            self.staging_model.set_existing_names(c.name for c in details.components)
        self.detailsLoaded.emit(details)

    # Staging ------------------------------------------------------------------------------
    def _set_target(self, version: Any, new: NewVersionDraft | None) -> None:
        self.target_version = version
        self.target_new = new
        if version is not None:
            self.targetChanged.emit(f"→ {version.asset_name} v{version.version:03d} (existing version)")
            names = (c.name for c in self.details.components) if (
                self.details is not None and self.details.row.id == version.id) else ()
            self.staging_model.set_existing_names(names)
        elif new is not None:
            kind = f" ({new.asset_type_name})" if new.asset_type_name else ""
            self.targetChanged.emit(f"→ new version of “{new.asset_name}”{kind} in {new.context_label}")
            self.staging_model.set_existing_names(())
        else:
            self.targetChanged.emit("Drop onto a version, a task or here")
            self.staging_model.set_existing_names(())

    def target_text(self) -> str:
        if self.target_version is not None:
            return f"{self.target_version.asset_name} v{self.target_version.version:03d}"
        if self.target_new is not None:
            return f"new version of {self.target_new.asset_name}"
        return ""

    def drop(self, paths: list[str], target: DropTarget, problems: list[str] | None = None) -> None:
        """Stage ``paths`` for ``target`` (from a :class:`DropZone`)."""
        problems = list(problems or [])
        if self._publish_worker is not None:
            # The staging list empties when the publish ends; a drop now would be lost with it.
            self.stagingMessages.emit(problems + ["A publish is running: drop again when it has finished."], [])
            return
        if not self._retarget(target, problems):
            self.stagingMessages.emit(problems, [])
            return
        if not paths:
            self.stagingMessages.emit(problems or ["Nothing to stage: drop files, folders or image sequences."], [])
            return
        self._staging_pending += 1
        if len(paths) > BIG_DROP:
            self.statusMessage.emit(f"Scanning {len(paths)} dropped paths…")
        else:
            self.statusMessage.emit("Scanning the drop…")
        self._run(tasks.stage, list(paths), self.staging_model.taken_names(), needs_session=False,
                  on_result=lambda r, p=problems: self._staged(r, p),
                  on_error=self._stage_failed)

    def _retarget(self, target: DropTarget, problems: list[str]) -> bool:
        """Point the staging list at ``target``; ``False`` when that is impossible."""
        if (target.kind == "current" and self.details is not None and self.target_new is None
                and not self.staging_model.rowCount()):
            # Nothing staged yet: "current" is the version shown in the details panel.
            if self.target_version is None or self.target_version.id != self.details.row.id:
                self._set_target(self.details.row, None)
        if self.staging_model.rowCount() and not self._same_target(target):
            # Components staged for another version stay there: mixing targets would publish
            # files to a version the artist did not mean.
            problems.append(f"Publish or remove what is staged for {self.target_text()} first, "
                            "then drop onto another version.")
            return False
        if target.kind == "version":
            row_index = self.version_model.row_for_id(target.id or "")
            if row_index < 0:
                problems.append("That version is no longer in the list: press F5 and drop again.")
                return False
            version = self.version_model.row_at(row_index)
            if self.target_version is None or self.target_version.id != version.id:
                self._set_target(version, None)
            if self.version_id != version.id:
                self.select_version(version)
            return True
        if target.kind in ("context", "asset"):
            context_id = target.context_id or target.id
            self._draft_new(context_id or "", target.label, asset_id=target.id if target.kind == "asset" else None,
                            asset_name=target.label if target.kind == "asset" else "")
            return True
        # "current": the version shown, or a new version in the current context
        if self.target_version is not None or self.target_new is not None:
            return True
        if self.details is not None:
            self._set_target(self.details.row, None)
            return True
        if self.context is not None:
            self._draft_new(self.context.id, self.context.name)
            return True
        problems.append("Select a task or a version first, then drop the files again.")
        return False

    def _same_target(self, target: DropTarget) -> bool:
        if target.kind == "current":
            return True
        if target.kind == "version":
            return self.target_version is not None and self.target_version.id == target.id
        if target.kind == "context":
            return self.target_new is not None and self.target_new.context_id == (target.context_id or target.id)
        if target.kind == "asset":
            return self.target_new is not None and self.target_new.asset_id == target.id
        return False

    def _draft_new(self, context_id: str, label: str, *, asset_id: str | None = None, asset_name: str = "") -> None:
        draft = NewVersionDraft(context_id=context_id, context_label=label or "the selected context",
                                asset_name=asset_name, asset_id=asset_id)
        if self.context is not None and self.context.id == context_id and self.context.entity_type == "Task":
            draft.task_id = context_id
        self._set_target(None, draft)
        # Asset types come from the server; fill in a default so a drop can be published at once.
        self._run(tasks.new_version_lists, context_id, on_result=lambda r, d=draft: self._default_type(d, r))

    def _default_type(self, draft: NewVersionDraft, lists: tuple[list[tuple[str, str]], list[tuple[str, str]]]) -> None:
        types, _assets = lists
        if draft is not self.target_new or draft.asset_type_id or not types:
            return
        by_name = {name: tid for tid, name in types}
        for preferred in ("Upload", "Render", "Comp", "Image"):
            if preferred in by_name:
                draft.asset_type_id, draft.asset_type_name = by_name[preferred], preferred
                break
        else:
            draft.asset_type_id, draft.asset_type_name = types[0]
        self._set_target(None, draft)

    def set_new_version(self, choice: Any) -> None:
        """Target a new version as chosen in the :class:`NewVersionDialog`."""
        draft = NewVersionDraft(context_id=choice.context_id,
                                context_label=self.context.name if self.context is not None else "",
                                asset_name=choice.asset_name, asset_type_id=choice.asset_type_id,
                                asset_id=choice.asset_id, comment=choice.comment)
        if self.context is not None and self.context.id == choice.context_id and self.context.entity_type == "Task":
            draft.task_id = choice.context_id
        self._set_target(None, draft)
        self._run(tasks.new_version_lists, choice.context_id,
                  on_result=lambda r, d=draft: self._name_type(d, r))

    def _name_type(self, draft: NewVersionDraft, lists: tuple[list[tuple[str, str]], list[tuple[str, str]]]) -> None:
        names = dict(lists[0])
        if draft is self.target_new and draft.asset_type_id in names:
            draft.asset_type_name = names[draft.asset_type_id]
            self._set_target(None, draft)

    def request_new_version(self) -> None:
        """Load what the new-version dialog offers; answered by :attr:`newVersionListsLoaded`."""
        if self.context is None:
            self.errorRaised.emit("Select a task (or a shot or folder) first, then choose New version….")
            return
        if self.staging_model.rowCount() and self.target_version is not None:
            self.errorRaised.emit(f"Publish or remove what is staged for {self.target_text()} first.")
            return
        context = self.context
        self._run(tasks.new_version_lists, context.id,
                  on_result=lambda r, c=context: self.newVersionListsLoaded.emit((c.id, c.name, r[0], r[1], self.target_new)))

    def _staged(self, result: Any, problems: list[str]) -> None:
        self._staging_pending -= 1
        # Names were made unique against what was staged when the drop started; a second drop
        # that finished first may have taken one of them since.
        taken = self.staging_model.taken_names()
        for component in result.components:
            if component.name in taken or staging.validate_name(component.name, taken):
                component.name = staging.suggest_name(component.path, component.kind, taken)
            taken.add(component.name)
        self.staging_model.add(result.components)
        if self.target_new is not None and not self.target_new.asset_name and result.components:
            self.target_new.asset_name = result.components[0].name
            self._set_target(None, self.target_new)
        errors = problems + list(result.errors)
        self.stagingMessages.emit(errors, list(result.warnings))
        n = len(result.components)
        self.statusMessage.emit(f"Staged {n} component{'s' if n != 1 else ''}" if n else "Nothing staged")
        self.staged.emit(result)
        if not self.staging_model.rowCount() and self.target_new is not None and not errors:
            self._set_target(None, None)

    def _stage_failed(self, message: str) -> None:
        self._staging_pending -= 1
        self.stagingMessages.emit([message], [])

    def remove_staged(self, rows: list[int]) -> None:
        """Remove staged rows; with nothing left the target follows the selection again."""
        self.staging_model.remove_rows(rows)
        n = self.staging_model.rowCount()
        self.statusMessage.emit(f"{n} component{'s' if n != 1 else ''} staged" if n else "Nothing staged")
        if not n:
            self.stagingMessages.emit([], [])
            if self.details is not None and self.version_id == self.details.row.id:
                self._set_target(self.details.row, None)
            else:
                self._set_target(None, None)

    # Publishing ---------------------------------------------------------------------------
    def publishing(self) -> bool:
        return self._publish_worker is not None

    def staged_publish_waiting(self) -> bool:
        """Whether the staged components' publish waits for the server to answer again (it
        then runs again on its own). GUI thread."""
        return any(r.from_staging and r.worker is None and r.item.state == "waiting"
                   for r in self._publishes.values())

    def publish(self, comment: str = "") -> bool:
        """Publish the staged components in a worker; ``False`` (with a message) if not ready."""
        from publisher.publish import runner

        if self._publish_worker is not None:
            self.errorRaised.emit("A publish is already running: wait for it or cancel it.")
            return False
        components = self.staging_model.components()
        if not components:
            self.errorRaised.emit("Nothing is staged: drop files, folders or sequences on a version or a task first.")
            return False
        problems = self.staging_model.errors()
        if problems:
            self.errorRaised.emit("Fix the staged names first: " + "; ".join(problems))
            return False
        unfinished = self._unfinished_staged(components)
        if unfinished is not None:
            # These very files are a publish that failed or waits for the server: finish that one
            # (its done parts are on the server) instead of sending them a second time.
            return self.retry_publish(unfinished.item.key)
        if self.target_version is not None:
            request = runner.PublishRequest(components=components, version_id=self.target_version.id,
                                            comment=comment or None)
        elif self.target_new is not None:
            draft = self.target_new
            if not draft.asset_type_id:
                self.errorRaised.emit("Choose the asset type of the new version (New version…), then publish.")
                return False
            request = runner.PublishRequest(
                components=components,
                new_version=runner.NewVersion(context_id=draft.context_id, asset_name=draft.asset_name,
                                              asset_type_id=draft.asset_type_id,
                                              comment=comment or draft.comment, task_id=draft.task_id,
                                              asset_id=draft.asset_id))
        else:
            self.errorRaised.emit("Choose where to publish: drop onto a version or a task, or use New version….")
            return False
        return self.publish_request(request, title=self.target_text(), from_staging=True) is not None

    def _unfinished_staged(self, components: list[Any]) -> "_Publish | None":
        for record in self._publishes.values():
            if (record.from_staging and record.worker is None and record.item.state in ("failed", "waiting")
                    and record.snapshot == _snapshot(components)):
                return record
        return None

    def publish_request(self, request: Any, *, title: str = "", from_staging: bool = False) -> str | None:
        """Start publishing ``request`` (a ``PublishRequest``); returns the activity row's key.

        ``from_staging``: the staged list is what is published (frozen until it ends, cleared
        when it succeeds).
        """
        publish_id = uuid.uuid4().hex
        components = [(c.name, int(c.size or 0)) for c in request.components]
        n = len(components)
        label = title or (f"{n} component{'s' if n != 1 else ''}")
        item = self.activity_model.add_publish(publish_id, f"Publish to {label}", components=components,
                                               data={"version_id": request.version_id})
        record = _Publish(publish_id, request, item, from_staging=from_staging,
                          snapshot=_snapshot(request.components))
        self._publishes[item.key] = record
        if from_staging:
            self.publishStarted.emit()
        self.statusMessage.emit(f"Publishing {n} component{'s' if n != 1 else ''}…")
        self._start_publish(record)
        return item.key

    def _start_publish(self, record: "_Publish", entry_id: str | None = None) -> None:
        import threading

        record.cancel_requested = False
        record.unreachable = False
        record.cancel = threading.Event()
        worker = Worker(tasks.publish, record.request, session=self.session, pass_worker=True,
                        outbox=self.outbox, entry_id=entry_id, cancel=record.cancel)
        record.worker = worker
        if record.from_staging:
            self._publish_worker = worker
        self.activity_model.update(record.item, state="running", detail="")
        self.long_workers.start(worker, on_progress=lambda e, r=record: self._publish_event(r, e),
                                on_result=lambda res, r=record: self._published(r, res),
                                on_error=lambda m, r=record: self._publish_error(r, m))

    def _resume_entries(self, found: tuple[list[Any], str]) -> None:
        entries, problems = found
        if problems:
            self.errorRaised.emit(problems)
        for entry in entries:
            components = [(c.name, int(c.size or 0)) for c in entry.request.components]
            item = self.activity_model.add_publish(entry.id, f"Resume: {entry.title}", components=components,
                                                   data={"version_id": entry.steps.get("version_id"),
                                                         "entry_id": entry.id})
            for name, step in (entry.steps.get("components") or {}).items():
                child = self.activity_model.item(f"{item.key}/transfer:{name}")
                if child is not None and step.get("state") == "done":
                    self.activity_model.update(child, state="done", done=child.total, detail="already on the server")
            record = _Publish(entry.id, entry.request, item, entry_id=entry.id)
            self._publishes[item.key] = record
            self.statusMessage.emit("Resuming an unfinished publish…")
            self._start_publish(record, entry_id=entry.id)

    def _wait_for_server(self, record: "_Publish", message: str) -> None:
        """The server cannot be reached: keep the publish and try again later (backoff)."""
        delay = min(self.wait_max_ms, record.wait_ms or self.wait_first_ms)
        record.wait_ms = min(self.wait_max_ms, delay * 2)
        self.activity_model.update(record.item, state="waiting",
                                   detail=f"Cannot reach the server; trying again in {delay // 1000} s.")
        for child in record.item.children:
            if child.kind == "transfer" and child.state not in ("done",):
                self.activity_model.update(child, state="waiting", detail="")
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.timeout.connect(lambda r=record: self._try_again(r))
        timer.start(delay)
        record.timer = timer

    def _try_again(self, record: "_Publish") -> None:
        record.timer = None
        if record.item.state != "waiting" or record.worker is not None:
            return
        if record.from_staging and self._publish_worker is not None:
            self._wait_for_server(record, "")
            return
        self._start_publish(record, entry_id=record.entry_id)

    def cancel_publish(self, key: str | None = None) -> None:
        """Cancel the staged publish (no ``key``) or the activity row ``key``.

        The engine stops the transfers and removes what that publish created on the server.
        """
        record = None
        if key is None:
            record = next((r for r in self._publishes.values() if r.worker is self._publish_worker
                           and r.worker is not None), None)
        else:
            record = self._publishes.get(key)
        if record is None or record.item.state not in ("queued", "waiting", "running"):
            return
        if record.worker is None:
            # Waiting for the server: run it once more, already cancelled, so the engine removes
            # whatever an earlier run created (or says why it could not).
            if record.timer is not None:
                record.timer.stop()
                record.timer = None
            self._start_publish(record, entry_id=record.entry_id)
        record.cancel_requested = True
        record.cancel.set()
        self.activity_model.update(record.item, detail="cancelling: removing what was sent…")
        self.statusMessage.emit("Cancelling the publish…")

    def retry_publish(self, key: str) -> bool:
        """Run the failed parts of the activity row ``key`` again; ``False`` if it cannot be retried."""
        record = self._publishes.get(key)
        if record is None or record.item.state not in ("failed", "waiting") or record.worker is not None:
            return False
        if record.timer is not None:  # waiting for the server: try now instead
            record.timer.stop()
            record.timer = None
        if record.from_staging and self._publish_worker is not None:
            self.errorRaised.emit("A publish is already running: wait for it to end, then retry.")
            return False
        self.activity_model.reset_children(record.item, keep=lambda c: c.state == "done")
        if record.from_staging:
            self.publishStarted.emit()
        self.statusMessage.emit("Retrying the publish…")
        self._start_publish(record, entry_id=record.entry_id)
        return True

    def clear_finished(self) -> None:
        """Remove finished publishes from the activity panel (and the outbox)."""
        for item in list(self.activity_model.publishes()):
            if item.state in ("done", "cancelled"):
                record = self._publishes.get(item.key)
                if record is not None and record.entry_id and self.outbox is not None:
                    try:
                        self.outbox.remove(record.entry_id)
                    except Exception:  # noqa: BLE001 - the row goes anyway; the outbox reports its own problems
                        log.debug("could not remove outbox entry %s", record.entry_id, exc_info=True)
        self.activity_model.clear_finished()
        for key in [k for k in self._publishes if self.activity_model.item(k) is None]:
            del self._publishes[key]

    def _publish_event(self, record: "_Publish", event: Any) -> None:
        if isinstance(event, tasks.ServerUnreachable):
            record.unreachable = True
            return
        if isinstance(event, tasks.OutboxEntryStarted):
            record.entry_id = event.entry_id
            self.activity_model.update(record.item, entry_id=event.entry_id)
            return
        job_id = self.activity_model.apply_event(record.publish_id, event)
        if job_id:
            self._follow_job(job_id, record.item.data.get("version_id"))
        if not record.from_staging:
            return
        name = type(event).__name__
        if name == "PublishStarted":
            self.publishProgress.emit(0, max(event.total_bytes, 1), "Starting…")
        elif name == "ComponentStarted":
            self.statusMessage.emit(f"Publishing {event.name}…")
        elif name == "BytesProgress":
            pct = 100 * event.overall_done / event.overall_total if event.overall_total else 100
            self.publishProgress.emit(event.overall_done, event.overall_total, f"{event.name}: {pct:.0f}%")
        elif name == "ComponentDone":
            self.statusMessage.emit(f"{event.name} published")
        elif name == "EncodeQueued":
            self.statusMessage.emit("Review media queued for encoding")

    def _published(self, record: "_Publish", result: Any) -> None:
        record.worker = None
        self.activity_model.update(record.item, state="done", done=record.item.total, detail="published",
                                   version_id=result.version_id)
        if record.from_staging or self._publish_worker is None:
            if record.from_staging:
                self._publish_worker = None
            # The staged list held what was just published (a retry of a staged publish too).
            staged = self.staging_model.components()
            if record.from_staging or (staged and all(
                    any(c is s for s in record.request.components) for c in staged)):
                self.staging_model.clear()
                self.stagingMessages.emit([], [])
        self.publishFinished.emit(result)
        n = len(result.component_ids)
        self.statusMessage.emit(f"Published {n} component{'s' if n != 1 else ''}")
        self._run(tasks.refresh_version, result.version_id, on_result=self._show_published)

    def _show_published(self, details: Any) -> None:
        row = details.row
        if self.context is not None and self.context.id in (row.context_id, row.task_id):
            self.version_model.upsert(row)
        self.version_id = row.id
        self.details = details
        self._set_target(row, None)
        self.staging_model.set_existing_names(c.name for c in details.components)
        self.detailsLoaded.emit(details)
        self.versionPublished.emit(row.id)

    def _publish_error(self, record: "_Publish", message: str) -> None:
        record.worker = None
        if record.from_staging:
            self._publish_worker = None
        if record.unreachable and not record.cancel_requested and self.outbox is not None and record.entry_id:
            # Kept in the outbox: it runs again on its own when the server answers. Waiting
            # before telling the window, so it can say the publish is not lost.
            self._wait_for_server(record, message)
            if record.from_staging:
                self.publishFailed.emit(message)
            return
        state = "cancelled" if record.cancel_requested else "failed"
        self.activity_model.finish_publish(record.item, state, message)
        if record.from_staging:
            # Staged rows stay so the artist can fix the cause and publish again (or Retry).
            self.publishFailed.emit(message)
        if state == "failed":
            self.errorRaised.emit(f"The publish failed: {message}")
        else:
            self.statusMessage.emit("The publish was cancelled")

    # Review media ---------------------------------------------------------------------------
    def make_reviewable(self, version_id: str, media: str, title: str = "") -> str:
        """Encode ``media`` (a path, or ``component:<id>``) for review on ``version_id``.

        Adds an activity row, queues the encode in a worker and follows the job; returns the
        row's key.
        """
        row_index = self.version_model.row_for_id(version_id)
        if not title:
            if row_index >= 0:
                row = self.version_model.row_at(row_index)
                title = f"{row.asset_name} v{row.version:03d}"
            else:
                title = "version"
        review_id = uuid.uuid4().hex
        item = self.activity_model.add_publish(review_id, f"Make reviewable: {title}", kind="review",
                                               data={"version_id": version_id, "media": media})
        self.activity_model.update(item, state="running", detail="sending the media to the server…")
        self._run(review_actions.make_reviewable, version_id, media, pass_worker=True,
                  on_result=lambda job_id, i=item: self._review_queued(i, job_id),
                  on_error=lambda m, i=item: self._review_failed(i, m))
        return item.key

    def _review_queued(self, item: ActivityItem, job_id: str) -> None:
        self.activity_model.add_encode(item, job_id)
        self.activity_model.update(item, detail="encoding on the server", job_id=job_id)
        self._follow_job(job_id, item.data.get("version_id"))

    def _review_failed(self, item: ActivityItem, message: str) -> None:
        self.activity_model.update(item, state="failed", detail=message)
        self.errorRaised.emit(f"Could not make the version reviewable: {message}")

    def _follow_job(self, job_id: str, version_id: str | None) -> None:
        if job_id in self._pollers:
            return
        poller = JobPoller(self.session, job_id)
        poller.live = self.live_jobs
        self._pollers[job_id] = poller
        s = poller.signals
        s.progress.connect(lambda j, st, p, v=version_id: self._job_progress(j, st, p, v))
        s.finished.connect(lambda j, st, payload, v=version_id: self._job_finished(j, st, payload, v))
        s.failed.connect(self._job_lost)
        s.stopped.connect(self._poller_stopped)
        self.long_pool.start(poller)

    def job_poller(self, job_id: str) -> JobPoller | None:
        """The poller following ``job_id`` (the event hub wakes it), or None."""
        return self._pollers.get(job_id)

    def job_pollers(self) -> list[JobPoller]:
        """The pollers following jobs now."""
        return list(self._pollers.values())

    def _poller_stopped(self, job_id: str) -> None:
        # "stopped" is sent from inside run(): keep the runnable alive until a later call, when
        # its thread has surely left run(), rather than deleting it under its feet.
        poller = self._pollers.pop(job_id, None)
        self._retired_pollers = [p for p in self._retired_pollers if p is not poller][-8:]
        if poller is not None:
            self._retired_pollers.append(poller)

    def _job_progress(self, job_id: str, status: str, percent: int, version_id: str | None) -> None:
        self.activity_model.job_progress(job_id, status, percent)
        if version_id and status in ("queued", "running"):
            self.version_model.set_review_progress(version_id, percent)

    def _job_finished(self, job_id: str, status: str, payload: dict, version_id: str | None) -> None:
        self.activity_model.job_finished(job_id, status, payload)
        if version_id:
            self.version_model.set_review_progress(version_id, None)
            self.version_model.set_review_state(version_id, "playable" if status == "done" else "failed")
            # The encode made a thumbnail and a playable movie: show the version as the server has it.
            self._run(tasks.refresh_version, version_id, on_result=self._version_refreshed)
        if status == "failed":
            # Name the artist's own file: the server's message names its stored copy.
            name = self._review_media_name(job_id)
            what = f"The review encode of {name}" if name else "The review encode"
            self.errorRaised.emit(f"{what} failed: {payload.get('error') or 'the server gave no reason.'}")
        else:
            self.statusMessage.emit("Review media is ready to play")
        self.jobFinished.emit(job_id, status, payload)

    def _review_media_name(self, job_id: str) -> str:
        """The file name of the media a "Make reviewable" row sent for ``job_id``, or ""."""
        encode = self.activity_model.encode_for_job(job_id)
        top = encode.parent if encode is not None else None
        media = str(top.data.get("media") or "") if top is not None else ""
        if not media or media.startswith("component:"):
            return ""
        return media.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]

    def _job_lost(self, job_id: str, message: str) -> None:
        self.activity_model.job_lost(job_id, message)
        self.errorRaised.emit(f"Lost track of the encode job: {message}")

    def _version_refreshed(self, details: Any) -> None:
        row = details.row
        if self.version_model.row_for_id(row.id) >= 0:
            self.version_model.upsert(row)
        if self.details is not None and self.details.row.id == row.id:
            self.details = details
            self.detailsLoaded.emit(details)

    def play(self, version_id: str) -> None:
        """Open the version's review movie in the desktop's player (downloaded to the cache first)."""
        self.statusMessage.emit("Fetching the review movie…")
        self._run(review_actions.fetch_review_movie, version_id, pass_worker=True, on_result=self._play_file,
                  on_error=lambda m: self.errorRaised.emit(f"Cannot play the review movie: {m}"))

    def _play_file(self, path: str) -> None:
        if not self.open_url(QUrl.fromLocalFile(path)):
            self.errorRaised.emit(f"No application opened {path}: install a movie player, or open the file yourself.")
            return
        self.statusMessage.emit("Playing the review movie")
        self.playStarted.emit(path)

    # Shutdown -----------------------------------------------------------------------------
    def shutdown(self, wait_ms: int = 10000) -> None:
        """Cancel running work and wait for the pool (window closing)."""
        self.workers.cancel_all()
        self.long_workers.cancel_all()
        for poller in list(self._pollers.values()):
            poller.cancel()
        self.thumbnails.shutdown()
        self.workers.wait(wait_ms)
        self.long_pool.waitForDone(wait_ms)
