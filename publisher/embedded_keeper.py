"""Keeps the embedded server alive: restarts it on the same folder and port if it dies.

The window's publishes, pollers and the outbox all hold the server's URL; a restart on the
same port with the same data folder (and so the same user and key, kept in its database) lets
them carry on where they were. The keeper's thread waits on the child process, so a dead child
is reaped at once (no zombie), and tells its owner through callbacks, from its own thread: a
GUI must bridge them with queued signals. No Qt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from publisher.embedded import EmbeddedServer, EmbeddedServerError, ServerInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerDied:
    """The embedded server exited without being asked to (``exit_code``: its status)."""

    exit_code: int | None


@dataclass(frozen=True)
class ServerRestarted:
    """The embedded server runs again at ``info.url`` after ``attempts`` tries."""

    info: ServerInfo
    attempts: int


@dataclass(frozen=True)
class ServerLost:
    """The embedded server could not be restarted; ``error`` says why."""

    error: EmbeddedServerError


KeeperEvent = ServerDied | ServerRestarted | ServerLost


class ServerKeeper:
    """Watches one started :class:`EmbeddedServer` and restarts it when it dies.

    ``on_event`` is called from the keeper's thread with a :data:`KeeperEvent`. Restarts back
    off (``delays`` seconds between tries) and give up after the last delay with
    :class:`ServerLost`. :meth:`stop` ends the watch and stops the server.
    """

    def __init__(self, server: EmbeddedServer, on_event: Callable[[KeeperEvent], None], *,
                 delays: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0)) -> None:
        if server.info is None:
            raise ValueError("start the server before watching it")
        self.server = server
        self.on_event = on_event
        self.delays = delays
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="embedded-server-keeper", daemon=True)

    def start(self) -> "ServerKeeper":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching, then stop the server (so its exit is not taken for a crash)."""
        self._stopping.set()
        self.server.stop(timeout)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _watch(self) -> None:
        while not self._stopping.is_set():
            process = self.server.process
            if process is None:
                return
            code = process.wait()  # reaps the child: a dead server never lingers as a zombie
            if self._stopping.is_set():
                return
            log.warning("The embedded server stopped unexpectedly (exit status %s); restarting it "
                        "on %s", code, self.server.data_dir)
            self.on_event(ServerDied(code))
            if not self._restart():
                return

    def _restart(self) -> bool:
        # The same port: every URL the app holds (publishes, pollers, the outbox) stays valid.
        port = urlsplit(self.server.info.url).port if self.server.info else None
        if port:
            self.server.port = port
        error: EmbeddedServerError | None = None
        for attempt, delay in enumerate(self.delays, start=1):
            if self._stopping.wait(delay):
                return False
            try:
                info = self.server.start()
            except EmbeddedServerError as exc:
                error = exc
                log.warning("Restarting the embedded server failed (try %d of %d): %s",
                            attempt, len(self.delays), exc)
                continue
            log.info("The embedded server runs again at %s", info.url)
            self.on_event(ServerRestarted(info, attempt))
            return True
        assert error is not None
        self.on_event(ServerLost(error))
        return False
