"""One running window per user and server profile: a second launch raises the first window.

Two windows on one profile would share one outbox (and, for the embedded server, one data
folder), so each could resume or clean up what the other is running. The first launch takes a
``QLockFile`` named from a hash of the profile and listens on a ``QLocalServer`` of the same
name; a later launch finds the lock held, asks the first over a ``QLocalSocket`` to raise its
window, and exits. The lock goes with the process (a crashed one is stale and taken over), and
the lock, not the socket, decides who is first, so two launches at once cannot both win.
GUI thread only (needs a ``QCoreApplication``).
"""

from __future__ import annotations

import getpass
import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

_RAISE = b"raise\n"


def instance_name(profile: str, user: str | None = None) -> str:
    """The lock's and the socket's name for ``profile`` (a server address and user, or the
    embedded server's key) of the OS user ``user`` (this one by default)."""
    who = user if user is not None else getpass.getuser()
    digest = hashlib.sha256(f"{who}\0{profile}".encode()).hexdigest()[:20]
    return f"ftrack-publisher-{digest}"


def _lock_dir() -> Path:
    where = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.RuntimeLocation) or \
        QStandardPaths.writableLocation(QStandardPaths.StandardLocation.TempLocation)
    return Path(where)


class SingleInstance(QObject):
    """The first launch's claim on a profile: holds the lock and answers later launches."""

    #: A later launch of the same profile asked this one to show its window.
    raiseRequested = Signal()

    def __init__(self, name: str, lock: QLockFile, server: QLocalServer) -> None:
        super().__init__()
        self.name = name
        self._lock = lock
        self._server = server
        server.setParent(self)
        server.newConnection.connect(self._connection)

    def _connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if bytes(socket.readAll().data()).startswith(_RAISE.strip()):
            log.info("a second launch of this profile asked to show the window")
            self.raiseRequested.emit()
            socket.write(b"ok\n")
            socket.flush()

    def release(self) -> None:
        """Give the profile up (the window closed)."""
        self._server.close()
        self._lock.unlock()


def claim(profile: str, *, lock_dir: Path | None = None, wait_ms: int = 3000) -> SingleInstance | None:
    """Claim ``profile`` for this process; ``None`` when another process holds it (it was asked to
    raise its window, and this launch should exit)."""
    name = instance_name(profile)
    folder = lock_dir or _lock_dir()
    folder.mkdir(parents=True, exist_ok=True)
    lock = QLockFile(str(folder / f"{name}.lock"))
    lock.setStaleLockTime(0)  # only a dead holder makes it stale, however long a window stays open
    if lock.tryLock(0):
        server = QLocalServer()
        QLocalServer.removeServer(name)  # a socket file left by a crash
        if not server.listen(name):
            log.warning("cannot listen on %s (%s); a second launch will not raise this window",
                        name, server.errorString())
        return SingleInstance(name, lock, server)
    socket = QLocalSocket()
    socket.connectToServer(name)
    if socket.waitForConnected(wait_ms):
        socket.write(_RAISE)
        socket.flush()
        socket.waitForBytesWritten(wait_ms)
        socket.waitForReadyRead(wait_ms)
        socket.disconnectFromServer()
    else:
        log.warning("the publisher holding %s does not answer (%s)", name, socket.errorString())
    return None


__all__ = ["SingleInstance", "claim", "instance_name"]
