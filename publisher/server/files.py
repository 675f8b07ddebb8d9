"""The content store: component files kept under the data folder by component id.

File names on disk never come from the client: a component id must be a UUID and the file is
``files/<id[:2]>/<id>``. Uploads stream to a temporary file next to it, are checked (size,
MD5) and only then moved into place.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from publisher.server.errors import ValidationError

#: Bytes per read, write and hash step of an upload: big enough that per-piece costs vanish.
CHUNK = 1 << 20
#: Uploads at least this big are hashed on a helper thread while they are written.
PIPELINE_MIN = 8 * CHUNK

_HASHER: ThreadPoolExecutor | None = None
_HASHER_LOCK = threading.Lock()


def _hasher() -> ThreadPoolExecutor:
    """The threads that hash big uploads (made on first use: most servers never see one)."""
    global _HASHER
    with _HASHER_LOCK:
        if _HASHER is None:
            _HASHER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="upload-md5")
        return _HASHER


UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def check_component_id(value: object, what: str = "component id") -> str:
    """``value`` if it is a UUID; a ValidationError naming the problem otherwise."""
    if not isinstance(value, str) or not UUID_RE.match(value):
        shown = value if isinstance(value, str) else type(value).__name__
        if isinstance(shown, str) and len(shown) > 80:
            shown = shown[:80] + "..."
        raise ValidationError(f"The {what} '{shown}' is not a UUID; files are only addressed by component id.")
    return value.lower()


def check_file_name(value: object) -> str:
    """A plain file name (no folders, no ``..``, not absolute) or a ValidationError."""
    if not isinstance(value, str) or not value or "\x00" in value:
        raise ValidationError("file_name must be a non-empty file name.")
    if "/" in value or "\\" in value or value in (".", "..") or os.path.isabs(value) or re.match(r"^[A-Za-z]:", value):
        raise ValidationError(f"file_name '{value}' must be a plain file name without folders, '..' or a drive.")
    return value


def parse_checksum(value: object) -> bytes:
    """The 16 MD5 bytes of a base64 Content-MD5 value, or a ValidationError."""
    if not isinstance(value, str):
        raise ValidationError("checksum must be the base64 MD5 of the file (Content-MD5).")
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        raw = b""
    if len(raw) != 16:
        raise ValidationError(f"checksum '{value[:40]}' is not a base64 MD5 digest.")
    return raw


class ContentStore:
    """Component files under ``root``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        # Leftovers of uploads interrupted by a crash.
        for leftover in self.tmp.iterdir():
            with contextlib.suppress(OSError):
                if leftover.is_dir():
                    shutil.rmtree(leftover)
                else:
                    leftover.unlink()

    def path(self, component_id: str) -> Path:
        cid = check_component_id(component_id)
        return self.root / cid[:2] / cid

    def exists(self, component_id: str) -> bool:
        return self.path(component_id).is_file()

    def open_upload(self, component_id: str, length: int, expected_md5: bytes | None) -> "UploadSink":
        """A sink taking the ``length`` bytes of an upload in order (see :class:`UploadSink`)."""
        return UploadSink(self, component_id, length, expected_md5)

    def receive(self, component_id: str, stream: BinaryIO, length: int, expected_md5: bytes | None) -> int:
        """Stream ``length`` bytes from a blocking ``stream`` into the store, checking size and MD5.

        Pieces of :data:`CHUNK` bytes go through an :class:`UploadSink`. Raises ValidationError
        (and keeps nothing) when the body is shorter than announced or its MD5 differs; errors of
        ``stream`` (OSError) pass through, and nothing is kept either.
        """
        sink = self.open_upload(component_id, length, expected_md5)
        try:
            remaining = length
            while remaining > 0:
                block = stream.read(min(CHUNK, remaining))
                if not block:
                    break
                sink.write(block)
                remaining -= len(block)
            return sink.finish()
        except BaseException:
            sink.abort()
            raise

    def adopt(self, component_id: str, source: str | Path) -> int:
        """Move a file made by the server itself (encode output) into the store."""
        target = self.path(component_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        return target.stat().st_size

    def remove(self, component_id: str) -> bool:
        try:
            self.path(component_id).unlink()
            return True
        except FileNotFoundError:
            return False

    def scratch_dir(self) -> str:
        return tempfile.mkdtemp(dir=self.tmp, prefix="job-")


class UploadSink:
    """One upload on its way into the store: a temporary file beside the store, hashed as it is
    written, renamed into place by :meth:`finish` once size and MD5 match.

    Each byte is written once (no fsync: like ``cp``, durability is left to the page cache).
    :meth:`write` is called with the pieces in order, one call at a time, from any thread (the
    HTTP layer calls it on a worker thread while the event loop reads the next piece);
    :meth:`abort` may be called from another thread while a write runs: it waits for it.
    """

    def __init__(self, store: ContentStore, component_id: str, length: int, expected_md5: bytes | None) -> None:
        self._target = store.path(component_id)
        self._length = length
        self._expected = expected_md5
        fd, self._tmp_name = tempfile.mkstemp(dir=store.tmp, prefix="upload-")
        # Unbuffered: every piece is one write() system call, no copy into a buffer first.
        self._out: BinaryIO | None = open(fd, "wb", buffering=0)
        self._digest = hashlib.md5()
        # A big file is hashed on a helper thread, one piece behind the one being written:
        # hashlib releases the GIL on big buffers, so hashing and writing use two cores instead
        # of taking turns on one. Small files are not worth the hand-over.
        self._hasher = _hasher() if length >= PIPELINE_MIN else None
        self._hashing: Future | None = None
        self._lock = threading.Lock()
        self.received = 0

    def write(self, block: bytes) -> None:
        """Hash and write the next piece; raises OSError when the disk refuses it."""
        with self._lock:
            if self._out is None:
                raise ValidationError("The upload was abandoned; send the file again.")
            if self._hasher is None:
                self._digest.update(block)
            else:
                if self._hashing is not None:
                    self._hashing.result()  # pieces must reach the digest in order
                self._hashing = self._hasher.submit(self._digest.update, block)
            view = memoryview(block)
            while view:
                view = view[self._out.write(view):]
            self.received += len(block)

    def finish(self) -> int:
        """Check size and MD5 and move the file into place; returns its size.

        Raises ValidationError (and keeps nothing) when the data is short or its MD5 differs.
        """
        try:
            with self._lock:
                if self._hashing is not None:
                    self._hashing.result()
                    self._hashing = None
                if self._out is None:
                    raise ValidationError("The upload was abandoned; send the file again.")
                self._out.close()
                self._out = None
                if self.received != self._length:
                    raise ValidationError(
                        f"The upload ended after {self.received} of {self._length} bytes; send the whole file again.")
                if self._expected is not None and self._digest.digest() != self._expected:
                    raise ValidationError(
                        "The uploaded data does not match its MD5 checksum; the file was not stored. Send it again.")
                self._target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self._tmp_name, self._target)
                self._tmp_name = None
        except BaseException:
            self.abort()
            raise
        return self.received

    def abort(self) -> None:
        """Drop the temporary file (after a write in progress ends); nothing is stored."""
        with self._lock:
            if self._hashing is not None:
                self._hashing.cancel()
                self._hashing = None
            if self._out is not None:
                with contextlib.suppress(OSError):
                    self._out.close()
                self._out = None
            if self._tmp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(self._tmp_name)
                self._tmp_name = None


def new_id() -> str:
    return str(uuid.uuid4())
