"""Review media: "Make reviewable", following encode jobs, and playing a version's review movie.

:class:`ReviewController` sends media to the server in a worker, follows each encode job with a
:class:`~publisher.ui.job_poller.JobPoller` on the long-running pool, and shows their progress in
the activity model and the versions list. No widgets. GUI thread only.
"""

from __future__ import annotations

import os
import uuid
from typing import Any, Callable

from PySide6.QtCore import QObject, QThreadPool, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from publisher.ui import review_actions
from publisher.units import format_duration
from publisher.ui.activity_model import ActivityItem, ActivityModel
from publisher.ui.browse_controller import BrowseController
from publisher.ui.error_messages import describe_error
from publisher.ui.job_poller import JobPoller
from publisher.ui.workers import Worker, WorkerPool

#: Stopped pollers kept alive a little longer (see :meth:`ReviewController._poller_stopped`).
RETIRED_POLLERS = 8


def encode_time_left(encode: ActivityItem) -> float | None:
    """Seconds an encode row has left at the pace of its progress (percent a second, smoothed
    by the activity model as for transfers), or None before it has a pace."""
    if encode.rate <= 0 or encode.done <= 0 or encode.done >= 100:
        return None
    return (100 - encode.done) / encode.rate


class ReviewController(QObject):
    """Review encodes and playback of one window. GUI thread only."""

    #: ``message``: something failed; the message says what to do.
    errorRaised = Signal(str)
    #: ``text``: short news for the status bar.
    statusMessage = Signal(str)
    #: ``(job_id, status, payload)``: an encode job this window follows has ended.
    jobFinished = Signal(str, str, object)
    #: ``path``: a review movie is on disk and was handed to the desktop's player.
    playStarted = Signal(str)
    #: ``(message, folder)``: the movie was downloaded to ``folder`` but no player opened it.
    playFailed = Signal(str, str)

    def __init__(self, browse: BrowseController, activity_model: ActivityModel, workers: WorkerPool,
                 long_pool: QThreadPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.browse = browse
        self.activity_model = activity_model
        self.workers = workers
        self.long_pool = long_pool
        self._pollers: dict[str, JobPoller] = {}
        #: Whether the event hub pushes job changes (set by publisher.ui.live_updates).
        self.live_jobs = False
        self._retired_pollers: list[JobPoller] = []
        #: Jobs this window asked to cancel: their "failed" end is news, not an error.
        self._cancelling: set[str] = set()
        #: Opens a URL on the desktop (the review movie); replaceable where no desktop exists.
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl

    def _run(self, fn: Any, *args: Any, on_result: Any, on_error: Any) -> Worker:
        worker = Worker(fn, *args, session=self.browse.session, pass_worker=True)
        return self.workers.start(worker, on_result=on_result, on_error=on_error)

    def _describe(self, error: BaseException) -> str:
        return describe_error(error, self.browse.server_url)

    # Make reviewable ----------------------------------------------------------------------------
    def make_reviewable(self, version_id: str, media: str, title: str = "") -> str:
        """Encode ``media`` (a path, or ``component:<id>``) for review on ``version_id``.

        Adds an activity row, queues the encode in a worker and follows the job; returns the
        row's key.
        """
        if not title:
            row = self.browse.version_row(version_id)
            title = f"{row.asset_name} v{row.version:03d}" if row is not None else "version"
        item = self.activity_model.add_publish(uuid.uuid4().hex, f"Make reviewable: {title}", kind="review",
                                               data={"version_id": version_id, "media": media})
        self.activity_model.update(item, state="running", detail="sending the media to the server…")
        self._run(review_actions.make_reviewable, version_id, media,
                  on_result=lambda job_id, i=item: self._review_queued(i, job_id),
                  on_error=lambda e, i=item: self._review_failed(i, e))
        return item.key

    def _review_queued(self, item: ActivityItem, job_id: str) -> None:
        self.activity_model.add_encode(item, job_id)
        self.activity_model.update(item, detail="encoding on the server", job_id=job_id)
        self.follow_job(job_id, item.data.get("version_id"))

    def _review_failed(self, item: ActivityItem, error: BaseException) -> None:
        message = self._describe(error)
        self.activity_model.update(item, state="failed", detail=message)
        self.errorRaised.emit(f"Could not make the version reviewable: {message}")

    # Cancel and retry ---------------------------------------------------------------------------
    def cancel_encode(self, key: str) -> bool:
        """Cancel the encode of the "Make reviewable" activity row ``key`` (or of its encode
        row); ``False`` when ``key`` is no running encode of this window."""
        item = self._review_item(key)
        job_id = str(item.data.get("job_id") or "") if item is not None else ""
        if item is None or not job_id or item.state not in ("queued", "running"):
            return False
        self._cancelling.add(job_id)
        self.activity_model.update(item, detail="cancelling…")
        self._run(review_actions.cancel_encode, job_id,
                  on_result=lambda reason, j=job_id: self._wake(j),
                  on_error=lambda e, j=job_id: self._cancel_failed(j, e))
        return True

    def _wake(self, job_id: str) -> None:
        # The poller reads the job again now rather than at its next interval.
        poller = self._pollers.get(job_id)
        if poller is not None:
            poller.wake()

    def _cancel_failed(self, job_id: str, error: BaseException) -> None:
        self._cancelling.discard(job_id)
        self.errorRaised.emit(f"Could not cancel the encode: {self._describe(error)}")

    def retry_encode(self, key: str) -> str | None:
        """Encode the same media again for a failed or cancelled "Make reviewable" row ``key``;
        returns the new row's key, or None when ``key`` is no ended encode of this window."""
        item = self._review_item(key)
        if item is None or item.state != "failed" or not item.data.get("media"):
            return None
        title = item.title.removeprefix("Make reviewable: ")
        return self.make_reviewable(str(item.data["version_id"]), str(item.data["media"]), title)

    def _review_item(self, key: str) -> ActivityItem | None:
        """The "Make reviewable" row of ``key`` (given it, or one of its encode rows)."""
        item = self.activity_model.item(key)
        if item is not None and item.kind == "encode" and item.parent is not None:
            item = item.parent
        return item if item is not None and item.kind == "review" else None

    # Following encode jobs ----------------------------------------------------------------------
    def follow_job(self, job_id: str, version_id: str | None) -> None:
        """Poll Job ``job_id`` until it ends; ``version_id`` shows its progress in the list."""
        if job_id in self._pollers:
            return
        poller = JobPoller(self.browse.session, job_id)
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
        # "stopped" comes as the poller's run() ends: keep the runnable alive until a later call,
        # when its thread has surely left run(), rather than deleting it under its feet.
        poller = self._pollers.pop(job_id, None)
        self._retired_pollers = [p for p in self._retired_pollers if p is not poller][-RETIRED_POLLERS:]
        if poller is not None:
            self._retired_pollers.append(poller)

    def _job_progress(self, job_id: str, status: str, percent: int, version_id: str | None) -> None:
        encode = self.activity_model.job_progress(job_id, status, percent)
        left = encode_time_left(encode) if encode is not None and status == "running" else None
        if left is not None and encode is not None:
            detail = f"encoding on the server, about {format_duration(left)} left"
            self.activity_model.update(encode, detail=detail)
            if encode.parent is not None and encode.parent.kind == "review":
                self.activity_model.update(encode.parent, detail=detail)
        if version_id and status in ("queued", "running"):
            self.browse.version_model.set_review_progress(version_id, percent)

    def _job_finished(self, job_id: str, status: str, payload: dict, version_id: str | None) -> None:
        self.activity_model.job_finished(job_id, status, payload)
        if version_id:
            self.browse.version_model.set_review_progress(version_id, None)
            self.browse.version_model.set_review_state(version_id, "playable" if status == "done" else "failed")
            # The encode made a thumbnail and a playable movie: show the version as the server has it.
            self.browse.refresh_version(version_id)
        if status == "failed" and job_id in self._cancelling:
            self._cancelling.discard(job_id)
            self.statusMessage.emit("Review encode cancelled")
        elif status == "failed":
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

    # Playing ------------------------------------------------------------------------------------
    def play(self, version_id: str) -> None:
        """Open the version's review movie in the desktop's player (downloaded to the cache first)."""
        self.statusMessage.emit("Fetching the review movie…")
        self._run(review_actions.fetch_review_movie, version_id, on_result=self._play_file,
                  on_error=lambda e: self.errorRaised.emit(f"Cannot play the review movie: {self._describe(e)}"))

    def _play_file(self, path: str) -> None:
        # The app has no player of its own: it hands the file to the desktop's default one,
        # and says only that (whether it plays is the player's business).
        if not self.open_url(QUrl.fromLocalFile(path)):
            folder = os.path.dirname(path)
            self.playFailed.emit(f"No movie player opened the review movie: it is downloaded to {path}. Install a "
                                 "player (or set one as the default for .mp4 files), or open the file yourself.",
                                 folder)
            return
        self.statusMessage.emit("Opening the review movie in your player")
        self.playStarted.emit(path)

    def open_folder(self, folder: str) -> bool:
        """Show ``folder`` in the desktop's file manager (the offer after a failed Play)."""
        return self.open_url(QUrl.fromLocalFile(folder))

    def shutdown(self) -> None:
        """Stop following every job (window closing); the jobs go on on the server."""
        for poller in list(self._pollers.values()):
            poller.cancel()
