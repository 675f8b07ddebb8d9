"""An OS lock on a server's data folder: one embedded server per folder.

Two servers on one folder would delete each other's in-flight uploads and encode scratch files
and fail each other's encodes. The lock is the operating system's (``flock`` on POSIX,
``msvcrt.locking`` on Windows), so it dies with the process that holds it: a killed server never
leaves a stale lock behind. The lock file also names the holder's process id, for the message.
"""

from __future__ import annotations

import os
from pathlib import Path

LOCK_NAME = "server.lock"


class FolderInUseError(RuntimeError):
    """Another server holds the data folder. ``pid``: its process id, when it could be read."""

    def __init__(self, folder: Path, pid: int | None) -> None:
        holder = f" (process {pid})" if pid else ""
        super().__init__(
            f"Another ftrack-publisher server{holder} is already using the data folder {folder}. "
            "Close the other publisher window or server, or start this one with another --data-dir.")
        self.folder = folder
        self.pid = pid


class FolderLock:
    """Holds the lock on ``folder`` from :meth:`acquire` until :meth:`release` or process exit."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`FolderInUseError` at once (never waits)."""
        path = self.folder / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(fd)
        except OSError:
            pid = _read_pid(fd)
            os.close(fd)
            raise FolderInUseError(self.folder, pid) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the lock
            self._fd = None


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return int(os.read(fd, 32).decode().strip() or 0) or None
    except (OSError, ValueError):
        return None


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(fd: int) -> None:
        # Lock one byte far past the pid's text, so reading the pid is not blocked.
        os.lseek(fd, 1 << 20, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
