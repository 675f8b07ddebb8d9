"""The controllers of one publisher window, built and wired together; no logic of its own.

Each job has its own small, widget-free controller:

- :class:`~publisher.ui.browse_controller.BrowseController`: the tree, the versions, the details;
- :class:`~publisher.ui.staging_controller.StagingController`: what is staged, and where it goes;
- :class:`~publisher.ui.publish_queue.PublishQueue`: start, cancel, retry and resume publishes;
- :class:`~publisher.ui.review_controller.ReviewController`: review encodes and playback.

:class:`Controller` builds them with the pools and the activity model they share, merges their
``errorRaised``/``statusMessage`` signals, and offers their models, state, slots and signals
under one name for the window, the hosts and the tests. GUI thread only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QSettings, QThreadPool, Signal

from publisher.ui.activity_model import ActivityModel
from publisher.ui.browse_controller import BrowseController
from publisher.ui.publish_queue import PublishQueue
from publisher.ui.review_controller import ReviewController
from publisher.ui.staging_controller import BIG_DROP, NewVersionDraft, StagingController
from publisher.ui.thumbnails import ThumbnailCache
from publisher.ui.workers import WorkerPool

#: Threads for publishes and job pollers, which run for minutes (browsing has the shared pool).
LONG_THREADS = 16

__all__ = ["BIG_DROP", "Controller", "NewVersionDraft"]


class _Read:
    """A read-only attribute that one of the controllers owns (``part.name``)."""

    def __init__(self, part: str, name: str) -> None:
        self.part, self.name = part, name

    def __get__(self, owner: Any, _type: Any = None) -> Any:
        return getattr(getattr(owner, self.part), self.name)

    def __set__(self, owner: Any, value: Any) -> None:
        # Without this, an assignment would shadow the owner's state with a stale copy.
        raise AttributeError(f"{self.name} belongs to the {self.part} controller: set it there")


class Controller(QObject):
    """The four controllers of one window under one name. GUI thread only."""

    #: ``message``: something failed (from any of the controllers).
    errorRaised = Signal(str)
    #: ``text``: short news for the status bar (from any of the controllers).
    statusMessage = Signal(str)

    def __init__(self, session: Any, parent: QObject | None = None, *,
                 settings: QSettings | None = None, thumbnail_cache: ThumbnailCache | None = None,
                 outbox: Any = None) -> None:
        super().__init__(parent)
        self.session = session
        self.workers = WorkerPool(self)
        self.long_pool = QThreadPool(self)
        self.long_pool.setMaxThreadCount(LONG_THREADS)
        self.activity_model = ActivityModel(self)
        self.browse = BrowseController(session, self.workers, self, settings=settings,
                                       thumbnail_cache=thumbnail_cache)
        self.staging = StagingController(self.browse, self.workers, self)
        self.review = ReviewController(self.browse, self.activity_model, self.workers, self.long_pool, self)
        self.queue = PublishQueue(self.browse, self.staging, self.review, self.activity_model, self.workers,
                                  self.long_pool, self, outbox=outbox)
        for part in (self.browse, self.staging, self.review, self.queue):
            part.errorRaised.connect(self.errorRaised)
            part.statusMessage.connect(self.statusMessage)

        b, s, q, r = self.browse, self.staging, self.queue, self.review
        # Models and signals, by the name the window and the tests know them.
        self.context_model, self.version_model, self.thumbnails = b.context_model, b.version_model, b.thumbnails
        self.staging_model = s.staging_model
        self.contextChanged, self.contextRestored = b.contextChanged, b.contextRestored
        self.versionsLoaded, self.detailsLoaded = b.versionsLoaded, b.detailsLoaded
        self.targetChanged, self.stagingMessages, self.staged = s.targetChanged, s.stagingMessages, s.staged
        self.newVersionListsLoaded = s.newVersionListsLoaded
        self.publishStarted, self.publishProgress = q.publishStarted, q.publishProgress
        self.publishFinished, self.publishFailed = q.publishFinished, q.publishFailed
        self.versionPublished = q.versionPublished
        self.jobFinished, self.playStarted = r.jobFinished, r.playStarted
        # Slots.
        self.refresh, self.select_context, self.select_version = b.refresh, b.select_context, b.select_version
        self.set_text_filter = b.set_text_filter
        self.drop, self.remove_staged, self.target_text = s.drop, s.remove_staged, s.target_text
        self.request_new_version, self.set_new_version = s.request_new_version, s.set_new_version
        self.publish, self.publish_request, self.publishing = q.publish, q.publish_request, q.publishing
        self.cancel_publish, self.retry_publish, self.clear_finished = q.cancel_publish, q.retry_publish, q.clear_finished
        self.staged_publish_waiting = q.staged_publish_waiting
        self.make_reviewable, self.play = r.make_reviewable, r.play
        self.job_poller, self.job_pollers = r.job_poller, r.job_pollers

    # State, read from the controller that owns it.
    server_url = _Read("browse", "server_url")
    api_user = _Read("queue", "api_user")
    context = _Read("browse", "context")
    version_id = _Read("browse", "version_id")
    details = _Read("browse", "details")
    target_version = _Read("staging", "target_version")
    target_new = _Read("staging", "target_new")

    @property
    def live_jobs(self) -> bool:
        """Whether the event hub pushes job changes (new pollers then poll rarely)."""
        return self.review.live_jobs

    @live_jobs.setter
    def live_jobs(self, live: bool) -> None:
        self.review.live_jobs = live

    def busy(self) -> bool:
        """True while any short worker of this window is queued or running."""
        return self.workers.active() > 0

    def start(self, context_id: str | None = None) -> None:
        """Resume the outbox's unfinished publishes, then load the projects and the last context
        (``context_id``, from ``FTRACK_CONTEXTID`` or ``--context``, instead when given)."""
        self.queue.resume_unfinished()
        self.browse.start(context_id)

    def shutdown(self, wait_ms: int = 10000) -> None:
        """Cancel running work and wait for the pools (window closing)."""
        self.workers.cancel_all()
        self.queue.long_workers.cancel_all()
        self.review.shutdown()
        self.thumbnails.shutdown()
        self.workers.wait(wait_ms)
        self.long_pool.waitForDone(wait_ms)
