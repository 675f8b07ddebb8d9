"""The publish queue: publishes the window started or resumed, each in a worker of its own.

:class:`PublishQueue` starts, cancels, retries and resumes publishes (from the staged list, from
a ``PublishRequest``, or from unfinished outbox entries), shows them in the activity model, and
keeps a publish that lost the server waiting in the outbox, trying again with a backoff. Engine
events arrive as queued signals from the worker; failures arrive as the exception itself.
No widgets. GUI thread only.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from functools import singledispatchmethod
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from publisher.publish import events as ev
from publisher.ui import controller_tasks as tasks
from publisher.ui.activity_model import ActivityItem, ActivityModel
from publisher.ui.browse_controller import BrowseController
from publisher.ui.error_messages import describe_error, is_unreachable
from publisher.ui.review_controller import ReviewController
from publisher.ui.staging_controller import StagingController
from publisher.ui.workers import Worker, WorkerPool

log = logging.getLogger(__name__)


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
    cancel: threading.Event | None = None  # the engine's cancel of the current run
    wait_ms: int = 0
    timer: QTimer | None = None
    snapshot: tuple = ()  # what was staged when it started (name, path, location of each)
    label: str = ""  # where it goes, as the target line said (stored in its outbox entry)
    path: tuple = ()  # the target's context path when it started (to name the version made)


def _snapshot(components: list[Any]) -> tuple:
    return tuple((c.name, c.path, c.location) for c in components)


def _plural(n: int) -> str:
    return f"{n} component{'s' if n != 1 else ''}"


class PublishQueue(QObject):
    """The publishes of one window. GUI thread only."""

    #: ``message``: something failed; the message says what to do.
    errorRaised = Signal(str)
    #: ``text``: short news for the status bar.
    statusMessage = Signal(str)
    #: The staged list's publish started (the list is frozen until it ends).
    publishStarted = Signal()
    #: ``(done, total, text)`` of the staged list's publish.
    publishProgress = Signal("qint64", "qint64", str)
    #: ``PublishResult``
    publishFinished = Signal(object)
    #: ``message``: the staged list's publish failed or waits for the server.
    publishFailed = Signal(str)
    #: ``version_id``: a published version is now in the list.
    versionPublished = Signal(str)

    def __init__(self, browse: BrowseController, staging: StagingController, review: ReviewController,
                 activity_model: ActivityModel, workers: WorkerPool, long_pool: QThreadPool,
                 parent: QObject | None = None, *, outbox: Any = None) -> None:
        super().__init__(parent)
        self.browse = browse
        self.staging = staging
        self.review = review
        self.activity_model = activity_model
        self.workers = workers
        # Publishes run for minutes: threads of their own, so browsing never waits behind them.
        self.long_workers = WorkerPool(self, long_pool)
        self.outbox = outbox
        self._publishes: dict[str, _Publish] = {}
        self._publish_worker: Worker | None = None
        self._resumed = False
        self._staged_cancelled = False
        #: Delay before a publish waiting for the server tries again (doubles up to the cap), ms.
        self.wait_first_ms, self.wait_max_ms = 5000, 60000
        #: Which server this is beyond its address (``outbox.embedded_server_key`` of the embedded
        #: server's folder, set by the host that started it): its publishes carry it, and only
        #: entries made for this server and user are resumed here.
        self.server_key = ""
        staging.is_publishing = self.publishing

    @property
    def session(self) -> Any:
        return self.browse.session

    @property
    def api_user(self) -> str:
        return str(getattr(self.session, "api_user", "") or "")

    def staged_publish_cancelled(self) -> bool:
        """Whether the staged components' last publish ended because the artist cancelled it."""
        return self._staged_cancelled

    def publishing(self) -> bool:
        """Whether the staged list's publish runs."""
        return self._publish_worker is not None

    def staged_publish_waiting(self) -> bool:
        """Whether the staged components' publish waits for the server to answer again (it
        then runs again on its own)."""
        return any(r.from_staging and r.worker is None and r.item.state == "waiting"
                   for r in self._publishes.values())

    # Starting -----------------------------------------------------------------------------------
    def publish(self, comment: str = "") -> bool:
        """Publish the staged components in a worker; ``False`` (with a message) if not ready."""
        if self._publish_worker is not None:
            self.errorRaised.emit("A publish is already running: wait for it or cancel it.")
            return False
        model = self.staging.staging_model
        components = model.components()
        if not components:
            self.errorRaised.emit("Nothing is staged: drop files, folders or sequences on a version or a task first.")
            return False
        problems = model.errors()
        if problems:
            self.errorRaised.emit("Fix the staged names first: " + "; ".join(problems))
            return False
        unfinished = self._unfinished_staged(components)
        if unfinished is not None:
            # These very files are a publish that failed or waits for the server: finish that one
            # (its done parts are on the server) instead of sending them a second time.
            return self.retry_publish(unfinished.item.key)
        request = self.staging.build_request(components, comment)
        if request is None:
            return False
        return self.publish_request(request, title=self.staging.target_text(), from_staging=True) is not None

    def publish_all(self, comment: str = "") -> bool:
        """Publish every staged group: those kept aside each as a publish of its own, then the
        shown one (the staged list's publish)."""
        for request, title in self.staging.parked_requests(comment):
            self.publish_request(request, title=title)
        if self.staging.staging_model.rowCount():
            return self.publish(comment)
        return True

    def _unfinished_staged(self, components: list[Any]) -> _Publish | None:
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
        label = title or _plural(len(components))
        item = self.activity_model.add_publish(publish_id, self._unique_title(f"Publish to {label}"),
                                               components=components, data={"version_id": request.version_id})
        record = _Publish(publish_id, request, item, from_staging=from_staging,
                          snapshot=_snapshot(request.components), label=label,
                          path=self.staging.target_path() if from_staging else ())
        log.info("publish %s started: %s to %s", publish_id, ", ".join(n for n, _ in components), label)
        self._publishes[item.key] = record
        if from_staging:
            self.publishStarted.emit()
        self.statusMessage.emit(f"Publishing {_plural(len(components))}…")
        self._start(record)
        return item.key

    def _start(self, record: _Publish, entry_id: str | None = None) -> None:
        record.cancel_requested = False
        record.cancel = threading.Event()
        worker = Worker(tasks.publish, record.request, session=self.session, pass_worker=True,
                        outbox=self.outbox, entry_id=entry_id, cancel=record.cancel, server_key=self.server_key,
                        label=record.label)
        record.worker = worker
        if record.from_staging:
            self._publish_worker = worker
        self.activity_model.update(record.item, state="running", detail="")
        self.long_workers.start(worker, on_progress=lambda e, r=record: self._event(e, r),
                                on_result=lambda res, r=record: self._published(r, res),
                                on_error=lambda exc, r=record: self._failed(r, exc))

    # The outbox ---------------------------------------------------------------------------------
    def resume_unfinished(self) -> None:
        """Show the outbox's unfinished publishes of this server and user, and run them again (once)."""
        if self.outbox is None or self._resumed:
            return
        self._resumed = True
        worker = Worker(tasks.unfinished_entries, self.outbox, self.browse.server_url, self.api_user,
                        self.server_key)
        self.workers.start(worker, on_result=self._resume_entries,
                           on_error=lambda e: self.errorRaised.emit(describe_error(e)))

    def _unique_title(self, title: str) -> str:
        """``title``, numbered when another row already carries it: two publishes to one target
        must be told apart in the dock."""
        taken = {item.title for item in self.activity_model.publishes()}
        if title not in taken:
            return title
        n = 2
        while f"{title} (#{n})" in taken:
            n += 1
        return f"{title} (#{n})"

    def _resume_entries(self, found: tuple[list[Any], list[Any], list[Any], str]) -> None:
        entries, others, past, problems = found
        if problems:
            self.errorRaised.emit(problems)
        for entry in past:
            # The history: what this server's publishes did before the restart.
            state = "done" if entry.state == "done" else "cancelled"
            title = (f"Published {entry.made}" if entry.made and state == "done" else
                     ("Published " if state == "done" else "Cancelled: ") + entry.title)
            components = [(c.name, int(c.size or 0)) for c in entry.request.components]
            item = self.activity_model.add_publish(entry.id, title, components=components, state=state,
                                                   data={"entry_id": entry.id, "past": True,
                                                         "version_id": entry.steps.get("version_id")})
            for child in item.children:
                self.activity_model.update(child, state=state, done=child.total if state == "done" else 0)
            self.activity_model.update(item, done=item.total if state == "done" else 0,
                                       detail=f"{entry.updated[:16].replace('T', ' ')} UTC")
        for entry in others:
            # Made for another server or user: shown, never run here (it would land in the wrong
            # server); the CLI's ``publish --resume`` on that server, or a window on it, runs it.
            components = [(c.name, int(c.size or 0)) for c in entry.request.components]
            where = entry.server_url or "another server"
            item = self.activity_model.add_publish(entry.id, entry.title, components=components, state="waiting",
                                                   data={"entry_id": entry.id, "other_server": where})
            self.activity_model.update(item, detail=f"waiting for {where} (user {entry.api_user})")
            log.info("outbox entry %s belongs to %s (user %s): left alone", entry.id, where, entry.api_user)
        for entry in entries:
            components = [(c.name, int(c.size or 0)) for c in entry.request.components]
            item = self.activity_model.add_publish(entry.id, f"Resume: {entry.title}", components=components,
                                                   data={"version_id": entry.steps.get("version_id"),
                                                         "entry_id": entry.id})
            for name, step in (entry.steps.get("components") or {}).items():
                child = self.activity_model.item(f"{item.key}/transfer:{name}")
                if child is not None and step.get("state") == "done":
                    self.activity_model.update(child, state="done", done=child.total, detail="already on the server")
            record = _Publish(entry.id, entry.request, item, entry_id=entry.id, label=entry.label)
            self._publishes[item.key] = record
            log.info("resuming outbox entry %s (%s, state %s)", entry.id, entry.title, entry.state)
            self.statusMessage.emit("Resuming an unfinished publish…")
            self._start(record, entry_id=entry.id)

    def _wait_for_server(self, record: _Publish) -> None:
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

    def server_back(self) -> None:
        """The server answers again (the embedded one was restarted): the publishes waiting for it
        run now instead of at their next timer."""
        for record in list(self._publishes.values()):
            if record.item.state == "waiting" and record.worker is None and "other_server" not in record.item.data:
                self._stop_timer(record)
                log.info("server back: running the waiting publish %s", record.entry_id or record.publish_id)
                self._try_again(record)

    def _try_again(self, record: _Publish) -> None:
        record.timer = None
        if record.item.state != "waiting" or record.worker is not None:
            return
        if record.from_staging and self._publish_worker is not None:
            self._wait_for_server(record)
            return
        self._start(record, entry_id=record.entry_id)

    def _stop_timer(self, record: _Publish) -> None:
        if record.timer is not None:
            record.timer.stop()
            record.timer = None

    # Cancel, retry, clear -----------------------------------------------------------------------
    def cancel_publish(self, key: str | None = None) -> None:
        """Cancel the staged publish (no ``key``) or the activity row ``key``.

        The engine stops the transfers and removes what that publish created on the server.
        """
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
            self._stop_timer(record)
            self._start(record, entry_id=record.entry_id)
        record.cancel_requested = True
        if record.cancel is not None:  # always: _start gave the run its event
            record.cancel.set()
        self.activity_model.update(record.item, detail="cancelling: removing what was sent…")
        self.statusMessage.emit("Cancelling the publish…")

    def retry_publish(self, key: str) -> bool:
        """Run the failed parts of the activity row ``key`` again; ``False`` if it cannot be retried."""
        record = self._publishes.get(key)
        if record is None or record.item.state not in ("failed", "waiting") or record.worker is not None:
            return False
        self._stop_timer(record)  # waiting for the server: try now instead
        if record.from_staging and self._publish_worker is not None:
            self.errorRaised.emit("A publish is already running: wait for it to end, then retry.")
            return False
        self.activity_model.reset_children(record.item, keep=lambda c: c.state == "done")
        if record.from_staging:
            self.publishStarted.emit()
        self.statusMessage.emit("Retrying the publish…")
        self._start(record, entry_id=record.entry_id)
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

    # What the worker reports --------------------------------------------------------------------
    def _event(self, event: Any, record: _Publish) -> None:
        if isinstance(event, tasks.OutboxEntryStarted):
            record.entry_id = event.entry_id
            self.activity_model.update(record.item, entry_id=event.entry_id)
            return
        job_id = self.activity_model.apply_event(record.publish_id, event)
        if isinstance(event, ev.EncodeQueued):
            log.info("publish %s: review media queued for encoding (job %s)", record.publish_id, event.job_id)
        if job_id:
            self.review.follow_job(job_id, record.item.data.get("version_id"))
        if record.from_staging:
            self._staged_news(event)

    @singledispatchmethod
    def _staged_news(self, event: Any) -> None:
        """What the staging panel and status bar say about the staged publish's ``event``."""

    @_staged_news.register
    def _(self, event: ev.PublishStarted) -> None:
        self.publishProgress.emit(0, max(event.total_bytes, 1), "Starting…")

    @_staged_news.register
    def _(self, event: ev.ComponentStarted) -> None:
        self.statusMessage.emit(f"Publishing {event.name}…")

    @_staged_news.register
    def _(self, event: ev.BytesProgress) -> None:
        pct = 100 * event.overall_done / event.overall_total if event.overall_total else 100
        self.publishProgress.emit(event.overall_done, event.overall_total, f"{event.name}: {pct:.0f}%")

    @_staged_news.register
    def _(self, event: ev.ComponentDone) -> None:
        self.statusMessage.emit(f"{event.name} published")

    @_staged_news.register
    def _(self, event: ev.EncodeQueued) -> None:
        self.statusMessage.emit("Review media queued for encoding")

    def _published(self, record: _Publish, result: Any) -> None:
        record.worker = None
        log.info("publish %s done: version %s, %d components", record.publish_id, result.version_id,
                 len(result.component_ids))
        self.activity_model.update(record.item, state="done", done=record.item.total, detail="published",
                                   version_id=result.version_id)
        if record.from_staging or self._publish_worker is None:
            if record.from_staging:
                self._publish_worker = None
            # The staged list held what was just published (a retry of a staged publish too).
            staged = self.staging.staging_model.components()
            if record.from_staging or (staged and all(
                    any(c is s for s in record.request.components) for c in staged)):
                self.staging.clear()
        self.publishFinished.emit(result)
        self.statusMessage.emit(f"Published {_plural(len(result.component_ids))}")
        worker = Worker(tasks.refresh_version, result.version_id, session=self.session)
        self.workers.start(worker, on_result=lambda d, r=record: self._show_published(d, r),
                           on_error=lambda e: self.errorRaised.emit(describe_error(e, self.browse.server_url)))

    def _show_published(self, details: Any, record: _Publish | None = None) -> None:
        if record is not None:
            # The row names the version the publish made, and keeps that name after a restart.
            made = self.staging.version_name(details.row, record.path)
            self.activity_model.update(record.item, title=self._unique_title(f"Published {made}"))
            if record.entry_id and self.outbox is not None:
                self.workers.start(Worker(tasks.name_made, self.outbox, record.entry_id, made, session=None),
                                   on_error=lambda e: log.warning("could not name the version made: %s", e))
        self.staging.set_target(details.row, None)
        self.browse.show_version(details)
        self.versionPublished.emit(details.row.id)

    def _failed(self, record: _Publish, error: BaseException) -> None:
        record.worker = None
        if record.from_staging:
            self._publish_worker = None
        message = describe_error(error, self.browse.server_url)
        if (is_unreachable(error) and not record.cancel_requested and self.outbox is not None
                and record.entry_id):
            # Kept in the outbox: it runs again on its own when the server answers. Waiting
            # before telling the window, so it can say the publish is not lost.
            log.info("publish %s waits for the server: %s", record.publish_id, message)
            self._wait_for_server(record)
            if record.from_staging:
                self.publishFailed.emit(message)
            return
        state = "cancelled" if record.cancel_requested else "failed"
        if record.from_staging:
            self._staged_cancelled = state == "cancelled"
        if state == "cancelled":
            log.info("publish %s cancelled: %s", record.publish_id, message)
        else:
            log.warning("publish %s failed: %s", record.publish_id, message)
        self.activity_model.finish_publish(record.item, state, message)
        if record.from_staging:
            # Staged rows stay so the artist can fix the cause and publish again (or Retry).
            self.publishFailed.emit(message)
        if state == "failed":
            self.errorRaised.emit(f"The publish failed: {message}")
        else:
            self.statusMessage.emit("The publish was cancelled")
