"""Background work for the window: ``QRunnable`` workers on a ``QThreadPool``.

A :class:`Worker` runs one function in a pool thread with its own cloned ``Session`` (sessions are
never shared between threads) and reports back through a separate :class:`WorkerSignals` object
whose signals are delivered to the GUI thread as queued signals carrying plain Python data or
``QImage``. Workers never touch a widget or an item model.

Create and start workers from the GUI thread with :meth:`WorkerPool.start`.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any, Callable

import requests
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class WorkerSignals(QObject):
    """What a worker reports. Lives in the GUI thread; emitted from the pool thread (queued)."""

    result = Signal(object)
    error = Signal(str)
    progress = Signal(object)
    finished = Signal()


def describe_error(exc: BaseException, server_url: str | None = None) -> str:
    """A message an artist can act on for an exception raised by a server call or the engine.

    Never carries an API key: a library's text (a URL with ``apiKey=``, say) is redacted.
    """
    from publisher.logs import redact

    return redact(_describe_error(exc, server_url))


def _describe_error(exc: BaseException, server_url: str | None = None) -> str:
    name = type(exc).__name__
    text = str(exc).strip() or name
    if isinstance(exc, requests.ConnectionError):
        where = f" at {server_url}" if server_url else ""
        return (f"Cannot reach the ftrack server{where}. Check that it is running and that "
                "FTRACK_SERVER is right, then press F5 to retry.")
    if isinstance(exc, requests.Timeout):
        return "The ftrack server took too long to answer. Press F5 to retry."
    lowered = text.lower()
    if "connection" in lowered and ("refused" in lowered or "failed" in lowered or "reach" in lowered):
        where = f" at {server_url}" if server_url else ""
        return (f"Cannot reach the ftrack server{where}: {text}. Check that it is running and that "
                "FTRACK_SERVER is right, then press F5 to retry.")
    if "auth" in lowered or "api key" in lowered or "permission" in lowered:
        return (f"{text}. Check FTRACK_API_USER and FTRACK_API_KEY (or the user and key in the "
                "settings), then restart the publisher.")
    if isinstance(exc, (OSError,)) and not isinstance(exc, ConnectionError):
        return f"{text}. Check the path exists and that you may read it."
    return text


class Worker(QRunnable):
    """Run ``fn(session, *args, **kwargs)`` in a pool thread.

    ``session`` (a ``publisher.api.Session`` or ``None``) is cloned inside the pool thread so each
    worker talks to the server on its own connection; the clone is closed afterwards. When
    ``pass_worker`` is true, ``fn`` also receives ``worker=self`` so it can report progress with
    :meth:`report` and check :attr:`cancelled`. Construct in the GUI thread.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, session: Any = None,
                 pass_worker: bool = False, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.session = session
        self.pass_worker = pass_worker
        self.signals = WorkerSignals()
        self.cancel_event = threading.Event()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called (any thread)."""
        return self.cancel_event.is_set()

    def cancel(self) -> None:
        """Ask the worker to stop at its next check; its result is then dropped (any thread)."""
        self.cancel_event.set()

    def report(self, value: object) -> None:
        """Send a progress value to the GUI thread (pool thread)."""
        if not self.cancelled:
            self.signals.progress.emit(value)

    def run(self) -> None:  # pool thread
        session = None
        try:
            if self.cancelled:
                return
            if self.session is not None:
                session = self.session.clone()
            kwargs = dict(self.kwargs)
            if self.pass_worker:
                kwargs["worker"] = self
            value = self.fn(session, *self.args, **kwargs)
            if not self.cancelled:
                self.signals.result.emit(value)
        except Exception as exc:  # reported to the window, never raised into Qt
            log.debug("worker %s failed:\n%s", getattr(self.fn, "__name__", self.fn), traceback.format_exc())
            if not self.cancelled:
                url = getattr(self.session, "server_url", None)
                self.signals.error.emit(describe_error(exc, url))
        finally:
            if session is not None:
                try:
                    session.close()
                except Exception:  # closing a clone must never hide the real outcome
                    pass
            self.signals.finished.emit()


class WorkerPool(QObject):
    """Starts workers and keeps them alive until they finish. GUI thread only."""

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self._active: set[Worker] = set()
        self._closed = False

    def start(self, worker: Worker, *, on_result: Callable[[Any], None] | None = None,
              on_error: Callable[[str], None] | None = None,
              on_progress: Callable[[Any], None] | None = None,
              on_finished: Callable[[], None] | None = None) -> Worker:
        """Connect the callbacks (run in the GUI thread) and queue ``worker``.

        A worker cancelled after it sent its result, but before the GUI thread got it, has that
        result dropped: its receivers may be gone (a window closing). After :meth:`cancel_all`
        (shutdown) nothing new is queued.
        """
        if on_result is not None:
            worker.signals.result.connect(lambda value, w=worker: None if w.cancelled else on_result(value))
        if on_error is not None:
            worker.signals.error.connect(lambda message, w=worker: None if w.cancelled else on_error(message))
        if on_progress is not None:
            worker.signals.progress.connect(lambda value, w=worker: None if w.cancelled else on_progress(value))
        if on_finished is not None:
            worker.signals.finished.connect(on_finished)
        worker.signals.finished.connect(lambda w=worker: self._active.discard(w))
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
        """Ask every running worker to stop (their results are dropped) and queue no more."""
        self._closed = True
        for worker in list(self._active):
            worker.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the pool is idle (only at shutdown, never during normal work)."""
        return self.pool.waitForDone(msecs)
