"""The window's side of :class:`publisher.embedded_keeper.ServerKeeper`: restarts of the embedded
server reach the window, which says so once and carries on.

The keeper waits on the child process in a thread of its own and reports from there; this
QObject lives in the GUI thread and re-emits each report through a queued signal, so the window
is only touched in the GUI thread. Create, start and stop it from the GUI thread.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from publisher.embedded import EmbeddedServer
from publisher.embedded_keeper import ServerDied, ServerKeeper, ServerLost, ServerRestarted
from publisher.ui import error_messages

log = logging.getLogger(__name__)


class EmbeddedServerWatch(QObject):
    """Keeps ``server`` running under ``window`` (a ``MainWindow``). GUI thread only."""

    #: A keeper event (emitted from the keeper's thread, delivered queued in the GUI thread).
    keeperEvent = Signal(object)
    #: ``text``: what the status bar said about the server (for tests and diagnostics).
    announced = Signal(str)

    def __init__(self, server: EmbeddedServer, window: Any, *,
                 delays: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0)) -> None:
        super().__init__(window)
        self.window = window
        self.server = server
        error_messages.mark_embedded(server.url)
        self.keeperEvent.connect(self._on_event)
        self.keeper = ServerKeeper(server, self.keeperEvent.emit, delays=delays)

    def start(self) -> "EmbeddedServerWatch":
        self.keeper.start()
        return self

    def stop(self) -> None:
        """Stop watching and stop the server (the window closes)."""
        self.keeper.stop()

    def _say(self, text: str, timeout_ms: int = 15000) -> None:
        self.window.statusBar().showMessage(text, timeout_ms)
        self.announced.emit(text)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, ServerDied):
            log.warning("embedded server died (exit status %s); restarting", event.exit_code)
        elif isinstance(event, ServerRestarted):
            log.info("embedded server restarted at %s after %d tries", event.info.url, event.attempts)
            # Said once: the banner's "stopped answering" lines from the outage are stale now.
            self.window.widget.banner.dismiss()
            self._say(f"The embedded ftrack server stopped and was restarted ({event.info.url}); "
                      "waiting publishes carry on.")
            controller = self.window.controller
            controller.queue.server_back()
            controller.browse.refresh()  # the versions list and details load again, not "loading…"
        elif isinstance(event, ServerLost):
            log.error("embedded server could not be restarted: %s", event.error)
            message = (f"The embedded ftrack server stopped and could not be restarted ({event.error}). "
                       "Your publishes are kept in the outbox: restart the publisher to finish them.")
            self.window.widget.banner.show_error(message)
            self.announced.emit(message)


__all__ = ["EmbeddedServerWatch"]
