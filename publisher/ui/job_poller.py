"""A worker that follows one encode ``Job`` on the server until it ends.

:class:`JobPoller` is a ``QRunnable``: construct and start it from the GUI thread (on a
``QThreadPool``); it runs in a pool thread on its own clone of the window's ``Session`` and reports
through :attr:`JobPoller.signals` (a :class:`JobPollerSignals` living in the GUI thread, so the
slots run there). It asks ``select status, data, finished_at from Job where id is X`` with a
backoff: the first delay is 0.5 s, each next one 1.5 times longer, at most 5 s, so a short encode
is seen ending at once and a long one costs few requests (a 30 s job: about ten). It stops as
soon as the job is ``done`` or ``failed``, or when :meth:`JobPoller.cancel` is called: it sleeps
on a ``threading.Event``, so a cancel ends it at once, never after a sleep.

The event hub makes it cheaper and quicker (:mod:`publisher.ui.live_updates`): :meth:`JobPoller.wake`
polls at once, :meth:`JobPoller.push` hands it a status and data the hub announced (shown
without a request; a finished status is still confirmed by a poll), and while ``live`` is set
it waits :data:`LIVE_DELAY` between polls instead of the backoff, the hub's pushes waking it.
Polling stays the truth: with ``live`` off it polls exactly as without a hub.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Signal

# The backoff and the reading of a Job's data are the client's own (Job.wait uses the same).
from publisher.api.job import BACKOFF, FINISHED, FIRST_DELAY, MAX_DELAY, decode_data, job_progress
from publisher.publish.browse import quote
from publisher.ui.workers import describe_error

log = logging.getLogger(__name__)

#: Polls that may fail in a row (server restarting, network blip) before the poller gives up.
MAX_ERRORS = 6
#: Seconds between safety polls while the event hub pushes the job's changes.
LIVE_DELAY = 10.0


class JobPollerSignals(QObject):
    """What a :class:`JobPoller` reports (queued to the GUI thread).

    ``progress(job_id, status, percent)``: after a poll that saw a new status or percentage.
    ``finished(job_id, status, payload)``: the job ended, ``status`` is ``done`` or ``failed``;
    ``payload`` is its decoded ``data`` (``output`` components, or ``error`` saying why it failed).
    ``failed(job_id, message)``: the poller could not follow the job (server unreachable after
    several tries, job deleted); the job itself may still be running.
    ``stopped(job_id)``: the poller ended, for whatever reason (always the last signal).
    """

    progress = Signal(str, str, int)
    finished = Signal(str, str, object)
    failed = Signal(str, str)
    stopped = Signal(str)


class JobPoller(QRunnable):
    """Poll Job ``job_id`` with backoff on a clone of ``session`` until it ends or is cancelled."""

    def __init__(self, session: Any, job_id: str, *, first_delay: float = FIRST_DELAY,
                 backoff: float = BACKOFF, max_delay: float = MAX_DELAY, max_errors: int = MAX_ERRORS) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.session = session
        self.job_id = str(job_id)
        self.first_delay = first_delay
        self.backoff = backoff
        self.max_delay = max_delay
        self.max_errors = max_errors
        self.signals = JobPollerSignals()
        #: Requests sent so far (read from any thread; written only by the pool thread).
        self.requests = 0
        #: The last status seen (``None`` before the first answer).
        self.status: str | None = None
        self._cancel = threading.Event()
        self._ended = threading.Event()
        #: Set by cancel, wake and push: ends the current wait.
        self._nudge = threading.Event()
        self._pushed: tuple[str, dict] | None = None
        self._push_lock = threading.Lock()
        #: Whether the event hub announces this job's changes (any thread may set it).
        self.live = False

    def wake(self) -> None:
        """Poll now instead of after the current wait (any thread)."""
        self._nudge.set()

    def push(self, status: str, payload: dict) -> None:
        """The job's ``status`` and decoded ``data`` as the event hub announced them (any
        thread): reported at once without a request; a finished status is confirmed by a poll."""
        with self._push_lock:
            self._pushed = (str(status), dict(payload))
        self._nudge.set()

    def set_live(self, live: bool) -> None:
        """Whether the hub pushes this job's changes; turning it off polls at once (any thread)."""
        self.live = bool(live)
        if not live:
            self._nudge.set()

    def _sleep(self, delay: float) -> bool:
        """Wait ``delay`` s or until nudged; True when cancelled."""
        self._nudge.wait(delay)
        self._nudge.clear()
        return self.cancelled

    def _take_pushed(self) -> tuple[str, dict] | None:
        with self._push_lock:
            pushed, self._pushed = self._pushed, None
        return pushed

    def cancel(self) -> None:
        """Stop polling now (any thread); no more signals but ``stopped`` follow."""
        self._cancel.set()
        self._nudge.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait_ended(self, timeout: float | None = None) -> bool:
        """Block until :meth:`run` returned (for shutdown and benchmarks, never the GUI thread)."""
        return self._ended.wait(timeout)

    def delays(self) -> Any:
        """The waits between polls, for this poller's settings (an endless generator)."""
        delay = self.first_delay
        while True:
            yield delay
            delay = min(delay * self.backoff, self.max_delay)

    def _poll(self, session: Any) -> tuple[str, dict] | None:
        self.requests += 1
        rows = session.query(
            f"select status, data, finished_at from Job where id is {quote(self.job_id)}").all()
        if not rows:
            return None
        row = rows[0]
        return str(row["status"] or ""), decode_data(row["data"])

    def run(self) -> None:  # pool thread
        session = None
        try:
            session = self.session.clone() if hasattr(self.session, "clone") else self.session
            self._loop(session)
        except Exception as exc:  # reported, never raised into Qt
            log.debug("job poller %s failed", self.job_id, exc_info=True)
            if not self.cancelled:
                self.signals.failed.emit(self.job_id, describe_error(exc, getattr(self.session, "server_url", None)))
        finally:
            if session is not None and session is not self.session:
                try:
                    session.close()
                except Exception:  # closing a clone must never hide the real outcome
                    pass
            self._ended.set()
            self.signals.stopped.emit(self.job_id)

    def _loop(self, session: Any) -> None:
        last: tuple[str, int] | None = None
        errors = 0
        delays = self.delays()
        first = True
        while not self.cancelled:
            pushed = None if first else self._take_pushed()
            first = False
            if pushed is not None and pushed[0] not in FINISHED:
                answer: tuple[str, dict] | None = pushed
            else:
                try:
                    answer = self._poll(session)
                except Exception as exc:  # noqa: BLE001 - a blip: try again later, give up after a few
                    errors += 1
                    if errors >= self.max_errors:
                        raise
                    log.debug("poll of job %s failed (%d in a row): %s", self.job_id, errors, exc)
                    if self._sleep(next(delays)):
                        return
                    continue
            errors = 0
            if self.cancelled:
                return
            if answer is None:
                self.signals.failed.emit(
                    self.job_id, f"The encode job {self.job_id} no longer exists on the server: "
                                 "make the version reviewable again.")
                return
            status, payload = answer
            self.status = status
            percent = job_progress(status, payload)
            if (status, percent) != last:
                last = (status, percent)
                self.signals.progress.emit(self.job_id, status, percent)
            if status in FINISHED:
                if status == "failed" and not payload.get("error"):
                    payload["error"] = "The server gave no reason."
                self.signals.finished.emit(self.job_id, status, payload)
                return
            if self._sleep(LIVE_DELAY if self.live else next(delays)):
                return


__all__ = ["JobPoller", "JobPollerSignals", "decode_data", "job_progress",
           "FIRST_DELAY", "BACKOFF", "MAX_DELAY"]
