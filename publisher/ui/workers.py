"""Background work for the window: one worker base on ``QThreadPool``, in the style of superqt.

:class:`WorkerBase` is a ``QRunnable`` that runs :meth:`WorkerBase.work` in a pool thread, on its
own clone of the window's ``Session`` (sessions are never shared between threads), and reports
through a separate :class:`WorkerSignals` object. That object is created in the GUI thread and
lives there, so its signals, emitted from the pool thread, are delivered queued: connected slots
run in the GUI thread. A failure crosses as the exception object itself (``errored``); the GUI
side turns it into words (:func:`publisher.ui.error_messages.describe_error`). Workers never
touch a widget or an item model.

:class:`Worker` runs one plain function. Create and start workers from the GUI thread, with
:meth:`WorkerPool.start` (which keeps them alive until they end) or on a pool of your own.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


def _without_frames(error: BaseException) -> BaseException:
    """``error`` (and what caused it) without tracebacks: the GUI thread needs its type, its data
    and its causes, not this thread's frames (already in the log) kept alive with it."""
    chain: BaseException | None = error
    visited: set[int] = set()
    while chain is not None and id(chain) not in visited:
        visited.add(id(chain))
        chain.__traceback__ = None
        chain = chain.__cause__ or chain.__context__
    return error


class WorkerSignals(QObject):
    """What a worker reports. Lives in the GUI thread; emitted from the pool thread (queued).

    ``started()``; ``reported(value)`` for each :meth:`WorkerBase.report`; then either
    ``returned(value)`` or ``errored(exception)`` (neither once cancelled); ``ended()`` always last.
    """

    started = Signal()
    reported = Signal(object)
    returned = Signal(object)
    errored = Signal(object)
    ended = Signal()


class WorkerBase(QRunnable):
    """A unit of background work with a cancel (abort) flag and progress reports.

    Subclasses implement :meth:`work`. ``session`` (a ``publisher.api.Session`` or ``None``) is
    cloned in the pool thread and closed afterwards. Construct in the GUI thread.
    """

    #: The signals class; a subclass may add GUI-side signals of its own.
    signals_class: type[WorkerSignals] = WorkerSignals

    def __init__(self, session: Any = None) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.session = session
        self.signals = self.signals_class()
        #: Set by :meth:`cancel`; long work sleeps on it or passes it to the engine.
        self.cancel_event = threading.Event()
        self._ended = threading.Event()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called (any thread)."""
        return self.cancel_event.is_set()

    def cancel(self) -> None:
        """Ask the work to stop at its next check; its outcome is then dropped (any thread)."""
        self.cancel_event.set()

    def report(self, value: object) -> None:
        """Send a progress value to the GUI thread (pool thread)."""
        if not self.cancelled:
            self.signals.reported.emit(value)

    def wait_ended(self, timeout: float | None = None) -> bool:
        """Block until :meth:`run` returned (shutdown and benchmarks only, never the GUI thread)."""
        return self._ended.wait(timeout)

    def work(self, session: Any) -> Any:
        """The work itself, in the pool thread, on ``session`` (the clone, or ``None``)."""
        raise NotImplementedError

    def run(self) -> None:  # pool thread
        session = None
        try:
            self.signals.started.emit()
            if self.cancelled:
                return
            if self.session is not None:
                session = self.session.clone() if hasattr(self.session, "clone") else self.session
            value = self.work(session)
            if not self.cancelled:
                self.signals.returned.emit(value)
        except Exception as exc:  # reported to the GUI thread, never raised into Qt
            log.debug("worker %s failed", self.name(), exc_info=True)
            if not self.cancelled:
                self.signals.errored.emit(_without_frames(exc))
        finally:
            if session is not None and session is not self.session:
                try:
                    session.close()
                except Exception:  # closing a clone must never hide the real outcome
                    log.debug("closing the clone of worker %s failed", self.name(), exc_info=True)
            self._ended.set()
            self.signals.ended.emit()

    def name(self) -> str:
        """What this worker runs, for the log."""
        return type(self).__name__


class Worker(WorkerBase):
    """Run ``fn(session, *args, **kwargs)`` in a pool thread.

    When ``pass_worker`` is true, ``fn`` also receives ``worker=self`` so it can report progress
    with :meth:`report` and check :attr:`cancelled`. Construct in the GUI thread.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, session: Any = None,
                 pass_worker: bool = False, **kwargs: Any) -> None:
        super().__init__(session)
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.pass_worker = pass_worker

    def work(self, session: Any) -> Any:  # pool thread
        kwargs = dict(self.kwargs)
        if self.pass_worker:
            kwargs["worker"] = self
        return self.fn(session, *self.args, **kwargs)

    def name(self) -> str:
        return str(getattr(self.fn, "__name__", self.fn))


class WorkerPool(QObject):
    """Starts workers and keeps them alive until they end. GUI thread only."""

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self._active: set[WorkerBase] = set()
        self._closed = False

    def start(self, worker: WorkerBase, *, on_result: Callable[[Any], None] | None = None,
              on_error: Callable[[BaseException], None] | None = None,
              on_progress: Callable[[Any], None] | None = None,
              on_finished: Callable[[], None] | None = None) -> WorkerBase:
        """Connect the callbacks (run in the GUI thread) and queue ``worker``.

        ``on_error`` receives the exception the work raised. A worker cancelled after it sent
        its result, but before the GUI thread got it, has that result dropped: its receivers
        may be gone (a window closing). After :meth:`cancel_all` (shutdown) nothing new is queued.
        """
        if on_result is not None:
            worker.signals.returned.connect(lambda value, w=worker: None if w.cancelled else on_result(value))
        if on_error is not None:
            worker.signals.errored.connect(lambda error, w=worker: None if w.cancelled else on_error(error))
        if on_progress is not None:
            worker.signals.reported.connect(lambda value, w=worker: None if w.cancelled else on_progress(value))
        if on_finished is not None:
            worker.signals.ended.connect(on_finished)
        worker.signals.ended.connect(lambda w=worker: self._active.discard(w))
        if self._closed:
            worker.cancel()  # a view asking for more while its window closes
            return worker
        self._active.add(worker)
        self.pool.start(worker)
        return worker

    def active(self) -> int:
        """How many workers are queued or running."""
        return len(self._active)

    def cancel_all(self) -> None:
        """Ask every running worker to stop (their outcomes are dropped) and queue no more."""
        self._closed = True
        for worker in list(self._active):
            worker.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the pool is idle (only at shutdown, never during normal work)."""
        return self.pool.waitForDone(msecs)
