"""Version thumbnails: downloaded in workers, cached on disk and in memory.

:class:`ThumbnailCache` lives in the GUI thread. :meth:`ThumbnailCache.pixmap` answers at once
from memory or returns ``None`` and starts a worker that reads the disk cache or downloads
``/component/thumbnail?size=N`` from the server, decodes it into a ``QImage`` (safe off the GUI
thread) and sends it back; :attr:`ThumbnailCache.thumbnailReady` then tells the models to repaint.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QThreadPool, Qt, Signal
from PySide6.QtGui import QImage, QPixmap

from publisher.ui.workers import Worker, WorkerPool

THUMB_SIZE = 128


def default_cache_dir() -> Path:
    from publisher import paths

    return paths.cache_dir() / "thumbnails"


def _url(session: Any, thumbnail_id: str, size: int) -> str:
    from publisher.publish import browse

    return browse.thumbnail_url(session, thumbnail_id, size)


def load_thumbnail(_session: Any, thumbnail_id: str, size: int, cache_dir: Path, url: str,
                   timeout: float = 20.0) -> tuple[str, QImage]:
    """Read the thumbnail from the disk cache, or download it from ``url`` and cache it.

    Worker thread. Needs no session: the URL (with its credentials) was built in the GUI thread,
    so a hundred thumbnails do not clone a hundred sessions.
    """
    import requests

    path = cache_dir / f"{thumbnail_id}_{size}.img"
    data: bytes | None = None
    if path.is_file():
        data = path.read_bytes()
    if not data:
        response = requests.get(url, timeout=timeout)
        if response.status_code != 200:
            raise RuntimeError(f"The server has no thumbnail {thumbnail_id} (HTTP {response.status_code}).")
        data = response.content
        cache_dir.mkdir(parents=True, exist_ok=True)
        # Write then rename so a second window never reads half a file.
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    image = QImage.fromData(data)
    if image.isNull():
        path.unlink(missing_ok=True)
        raise RuntimeError(f"Thumbnail {thumbnail_id} is not an image the publisher can read.")
    if max(image.width(), image.height()) > size:
        image = image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    return thumbnail_id, image


class ThumbnailCache(QObject):
    """Thumbnails by thumbnail (component) id. GUI thread only.

    ``url_for(session, thumbnail_id, size)`` builds the download URL in the GUI thread (a string
    operation: ``browse.thumbnail_url``)."""

    #: ``thumbnail_id``: its pixmap is now available from :meth:`pixmap`.
    thumbnailReady = Signal(str)

    def __init__(self, session: Any = None, *, size: int = THUMB_SIZE, cache_dir: Path | None = None,
                 parent: QObject | None = None, max_threads: int = 3,
                 url_for: Callable[[Any, str, int], str] = _url) -> None:
        super().__init__(parent)
        self.session = session
        self.size = size
        self.cache_dir = cache_dir or default_cache_dir()
        self.url_for = url_for
        pool = QThreadPool(self)
        pool.setMaxThreadCount(max_threads)
        self._workers = WorkerPool(self, pool)
        self._pixmaps: dict[str, QPixmap] = {}
        self._pending: set[str] = set()
        self._failed: set[str] = set()

    def set_session(self, session: Any) -> None:
        self.session = session
        self._failed.clear()

    def pixmap(self, thumbnail_id: str) -> QPixmap | None:
        """The thumbnail if loaded; otherwise ``None`` and a load starts (once)."""
        pixmap = self._pixmaps.get(thumbnail_id)
        if pixmap is not None:
            return pixmap
        self.request(thumbnail_id)
        return None

    def request(self, thumbnail_id: str) -> None:
        """Start loading ``thumbnail_id`` unless it is loaded, loading or known to fail."""
        if (not thumbnail_id or thumbnail_id in self._pixmaps or thumbnail_id in self._pending
                or thumbnail_id in self._failed or self.session is None):
            return
        self._pending.add(thumbnail_id)
        try:
            url = self.url_for(self.session, thumbnail_id, self.size)
        except Exception:
            self._pending.discard(thumbnail_id)
            self._failed.add(thumbnail_id)
            return
        worker = Worker(load_thumbnail, thumbnail_id, self.size, self.cache_dir, url)
        self._workers.start(
            worker,
            on_result=self._loaded,
            on_error=lambda _error, tid=thumbnail_id: self._fail(tid),
        )

    def _loaded(self, result: tuple[str, QImage]) -> None:
        thumbnail_id, image = result
        self._pending.discard(thumbnail_id)
        self._pixmaps[thumbnail_id] = QPixmap.fromImage(image)
        self.thumbnailReady.emit(thumbnail_id)

    def _fail(self, thumbnail_id: str) -> None:
        # A missing thumbnail is not worth an error banner: the row keeps its placeholder icon.
        self._pending.discard(thumbnail_id)
        self._failed.add(thumbnail_id)

    def pending(self) -> int:
        return len(self._pending)

    def shutdown(self) -> None:
        self._workers.cancel_all()
        self._workers.wait(5000)
