"""Live updates for the window from the server's event hub.

:class:`HubConnection` is a ``QObject`` moved to a ``QThread`` of its own: it connects the
client's :class:`~publisher.api.event_hub.EventHub`, listens for ``ftrack.update`` and ftrack
Actions, and emits queued signals carrying plain data. :class:`LiveUpdates` lives in the GUI
thread: it turns those signals into asks to the controller (reload this version row, wake that
job's poller) and says in the status bar whether live updates are on.

A push is a hint: the row is read again from the server, and polling stays the truth. When the
hub is down the job pollers poll as they always did; a server without a hub (404 on
``/socket.io/1/``) simply has live updates off. Reconnection after a drop is the client's own
(with backoff); a hub that could not be reached at all is tried again with backoff here.
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import QLabel

from publisher.api.event_hub import (
    EventHub, EventHubAuthenticationError, EventHubConnectionError, EventHubUnavailable,
)
from publisher.publish import browse
from publisher.publish.errors import PublishError
from publisher.ui.live_events import JobChange, VersionChange, changes_of, discover_reply, launch_target
from publisher.ui.workers import Worker

log = logging.getLogger(__name__)

#: Longest wait between two attempts to reach a hub that never answered (seconds).
MAX_RETRY = 60.0
#: Milliseconds during which changes of the same version are gathered into one reload.
COALESCE_MS = 30
#: Every hub thread started, with its worker, until the thread has ended: a window can go away
#: (closed, or only garbage-collected) while its thread is still inside a connect, and a QThread
#: freed while it runs aborts the process. Threads still running at exit are stopped and waited for.
_RUNNING: list[tuple[QThread, "HubConnection"]] = []


def _forget_finished() -> None:
    _RUNNING[:] = [(thread, worker) for thread, worker in _RUNNING if not thread.isFinished()]


def _stop_all(wait_ms: int = 7000) -> None:
    for thread, worker in list(_RUNNING):
        worker.stop()
        thread.quit()
    for thread, _worker in list(_RUNNING):
        thread.wait(wait_ms)
    _forget_finished()


atexit.register(_stop_all)
#: What the status bar shows (the reason is in its tooltip); one width for all, so a change of
#: state never widens the window.
LABEL_ON, LABEL_OFF, LABEL_RECONNECTING = "Live updates on", "Live updates off", "Live updates: reconnecting…"


class HubConnection(QObject):
    """The hub connection's worker; :meth:`run` runs in its own thread until :meth:`stop`.

    Signals (emitted from the hub thread, delivered queued to GUI-thread receivers):
    ``versionChanged(version_id, removed)``, ``jobChanged(job_id, status, payload)`` (status ""
    and payload None when the event did not carry them), ``launchRequested(entity_type,
    entity_id)`` and ``stateChanged(on, text)``.
    """

    versionChanged = Signal(str, bool)
    jobChanged = Signal(str, str, object)
    launchRequested = Signal(str, str)
    stateChanged = Signal(bool, str)
    #: ``retrying``: sent before each ``stateChanged``: whether the connection is trying again.
    retryingChanged = Signal(bool)
    finished = Signal()

    def __init__(self, server_url: str, api_user: str, api_key: str, *,
                 hub_factory: Callable[..., EventHub] = EventHub) -> None:
        super().__init__()
        self.server_url = server_url
        self.api_user = api_user
        self._api_key = api_key
        self._hub_factory = hub_factory
        self._stop = threading.Event()
        self.hub: EventHub | None = None

    def stop(self) -> None:
        """Ask :meth:`run` to end (any thread); it disconnects within a fraction of a second."""
        self._stop.set()

    def run(self) -> None:  # hub thread
        try:
            self._run()
        except Exception:  # never raised into Qt: live updates just go off
            log.exception("live updates stopped")
            self.stateChanged.emit(False, "Live updates off (see the log)")
        finally:
            self.finished.emit()

    def _run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            hub = self._hub_factory(self.server_url, self.api_user, self._api_key, timeout=5.0)
            try:
                hub.connect()
            except EventHubUnavailable:
                self.stateChanged.emit(False, "Live updates off: this server has no event hub")
                return
            except EventHubAuthenticationError as exc:
                self.stateChanged.emit(False, f"Live updates off: {exc}")
                return
            except EventHubConnectionError as exc:
                log.info("event hub not reachable (%s); trying again in %.0f s", exc, delay)
                self.retryingChanged.emit(True)
                self.stateChanged.emit(False, "Live updates off: the event hub does not answer, trying again…")
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, MAX_RETRY)
                continue
            self.hub = hub
            try:
                self._listen(hub)
            finally:
                hub.disconnect()
            return

    def _listen(self, hub: EventHub) -> None:
        me = f"source.user.username={_quoted(self.api_user)}"
        hub.subscribe("topic=ftrack.update", self._on_update)
        hub.subscribe(f"topic=ftrack.action.discover and {me}", discover_reply)
        hub.subscribe(f"topic=ftrack.action.launch and {me}", self._on_launch)
        live = True
        self.stateChanged.emit(True, "Live updates on")
        while not self._stop.is_set():
            hub.wait(0.2)
            now = hub.connected
            if now != live:
                live = now
                self.retryingChanged.emit(not now)
                self.stateChanged.emit(now, "Live updates on" if now else "Live updates off: reconnecting to the event hub…")

    def _on_update(self, event: Any) -> None:
        for change in changes_of(event):
            if isinstance(change, VersionChange):
                self.versionChanged.emit(change.version_id, change.removed)
            elif isinstance(change, JobChange):
                self.jobChanged.emit(change.job_id, change.status or "", change.payload)

    def _on_launch(self, event: Any) -> dict | None:
        target = launch_target(event)
        if target is None:
            return None
        self.launchRequested.emit(*target)
        return {"success": True, "message": "Opening the ftrack publisher."}


def fetch_version(session: Any, version_id: str) -> Any:
    """Worker body: the version's details as the list shows them, or None when it is gone."""
    try:
        return browse.version_details(session, version_id)
    except PublishError:
        return None


def _quoted(text: str) -> str:
    return f'"{text}"' if '"' not in text else f"'{text}'"


class LiveUpdates(QObject):
    """The window's side of live updates. GUI thread only.

    ``controller`` is the window's :class:`~publisher.ui.controller.Controller`; ``show_context``
    is called with ``(entity_type, entity_id)`` when ftrack Actions launches the publisher.
    """

    #: ``(on, text)``: whether live updates are on, and the words for the status bar.
    stateChanged = Signal(bool, str)

    def __init__(self, controller: Any, parent: QObject | None = None, *,
                 show_context: Callable[[str, str], None] | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.show_context = show_context
        self.on = False
        self.text = "Live updates off"
        #: A status bar widget that shows :attr:`text` (the window adds it).
        self.label = QLabel(f"  {LABEL_OFF}  ")
        self.label.setObjectName("LiveUpdatesLabel")
        metrics = self.label.fontMetrics()
        self.label.setFixedWidth(max(metrics.horizontalAdvance(f"  {t}  ") for t in
                                     (LABEL_ON, LABEL_OFF, LABEL_RECONNECTING)) + 4)
        self._thread: QThread | None = None
        self._connection: HubConnection | None = None
        self._pending: dict[str, bool] = {}
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(COALESCE_MS)
        self._flush.timeout.connect(self._reload_pending)
        #: Whether the connection was on and dropped: events may have been missed meanwhile.
        self._missed = False
        #: Whether the hub connection is trying again (its last word before a state change).
        self._retrying = False
        #: Version reloads asked of the server (for tests and the benchmark).
        self.reloads = 0

    def start(self) -> None:
        """Connect to the hub of the controller's server in a thread of its own."""
        if self._thread is not None:
            return
        session = self.controller.session
        key = getattr(session, "api_key", None)
        if not key:
            self._set_state(False, "Live updates off")
            return
        _forget_finished()
        # No parent: the thread's life is _RUNNING's, not the window's (see there).
        self._thread = QThread()
        self._thread.setObjectName("live-updates")
        self._connection = HubConnection(session.server_url, session.api_user, key)
        _RUNNING.append((self._thread, self._connection))
        self._connection.moveToThread(self._thread)
        self._thread.started.connect(self._connection.run)
        # Direct: the GUI thread may be blocked in stop()'s wait() when run() ends.
        self._connection.finished.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._connection.versionChanged.connect(self._version_changed)
        self._connection.jobChanged.connect(self._job_changed)
        self._connection.launchRequested.connect(self._launch)
        self._connection.retryingChanged.connect(self._set_retrying)
        self._connection.stateChanged.connect(self._set_state)
        self._thread.start()

    def stop(self, wait_ms: int = 7000) -> None:
        """Disconnect and end the hub thread (window closing).

        The thread ends within a fraction of a second, except inside a connect, which the
        client gives up after its 5 s time-out; ``wait_ms`` covers that. A thread still running
        after it stays in ``_RUNNING`` until it ends (never freed under its own feet).
        """
        thread, connection = self._thread, self._connection
        self._thread = None
        self._connection = None
        self._retrying = False
        if connection is not None:
            connection.stop()
        if thread is not None:
            thread.quit()
            if not thread.wait(wait_ms):
                log.warning("the live-updates thread is still connecting; it ends on its own")
        _forget_finished()
        self._set_state(False, "Live updates off")

    # From the hub thread (queued) -------------------------------------------------------------
    def _set_retrying(self, retrying: bool) -> None:
        self._retrying = retrying

    def _set_state(self, on: bool, text: str) -> None:
        changed = on != self.on
        self.on, self.text = on, text
        if on:
            self._retrying = False
        short = LABEL_ON if on else (LABEL_RECONNECTING if self._retrying else LABEL_OFF)
        self.label.setText(f"  {short}  ")
        self.label.setToolTip(f"{text}.\nVersions and encode jobs changed by anyone show here at once."
                              if on else f"{text}.\nVersions update when you refresh (F5); encode jobs are polled.")
        if changed:
            self.controller.live_jobs = on
            for poller in self.controller.job_pollers():
                poller.set_live(on)
            if not on:
                self._missed = True
            elif self._missed:
                # Back after a drop: what changed meanwhile was not announced to this window.
                self._missed = False
                self.controller.refresh()
        self.stateChanged.emit(on, text)

    def _version_changed(self, version_id: str, removed: bool) -> None:
        self._pending[version_id] = removed or self._pending.get(version_id, False)
        if not self._flush.isActive():
            self._flush.start()

    def _reload_pending(self) -> None:
        pending, self._pending = self._pending, {}
        model = self.controller.version_model
        for version_id, removed in pending.items():
            if removed:
                model.remove(version_id)
                continue
            self.reloads += 1
            worker = Worker(fetch_version, version_id, session=self.controller.session)
            self.controller.workers.start(
                worker, on_result=lambda details, v=version_id: self._version_loaded(v, details),
                # A push is a hint: a reload that failed leaves the row as polling last saw it.
                on_error=lambda error, v=version_id: log.info("live reload of %s failed: %s", v, error))

    def _version_loaded(self, version_id: str, details: Any) -> None:
        controller = self.controller
        if details is None:  # deleted meanwhile
            controller.version_model.remove(version_id)
            return
        row = details.row
        context = controller.context
        if context is not None and context.id in (row.context_id, row.task_id):
            controller.version_model.upsert(row)
        else:
            controller.version_model.remove(row.id)  # moved elsewhere, if it was shown
        if controller.version_id == row.id:
            controller.browse.details = details  # the browse controller owns the details
            controller.detailsLoaded.emit(details)

    def _job_changed(self, job_id: str, status: str, payload: Any) -> None:
        poller = self.controller.job_poller(job_id)
        if poller is None:
            return
        if payload is not None:
            poller.push(status or poller.status or "running", payload)
        else:
            poller.wake()

    def _launch(self, entity_type: str, entity_id: str) -> None:
        if self.show_context is not None:
            self.show_context(entity_type, entity_id)
