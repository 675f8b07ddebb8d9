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

    def receive(self, component_id: str, stream: BinaryIO, length: int, expected_md5: bytes | None) -> int:
        """Stream ``length`` bytes from ``stream`` into the store, checking size and MD5.

        Each byte is written once: pieces of :data:`CHUNK` bytes go from ``stream`` (the
        request body, read from the socket) straight into a temporary file beside the store,
        hashed on the way, and the file is renamed into place when size and MD5 match (no
        fsync: like ``cp``, durability is left to the page cache). Raises ValidationError (and
        keeps nothing) when the body is shorter than announced or its MD5 differs; errors of
        ``stream`` (OSError) pass through, and nothing is kept either.
        """
        target = self.path(component_id)
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix="upload-")
        digest = hashlib.md5()
        # A big file is hashed on a helper thread, one piece behind the one being written:
        # hashlib releases the GIL on big buffers, so hashing and receiving+writing use two
        # cores instead of taking turns on one. Small files are not worth the hand-over.
        hasher = _hasher() if length >= PIPELINE_MIN else None
        hashing: Future | None = None
        received = 0
        try:
            # Unbuffered: every piece is one write() system call, no copy into a buffer first.
            with open(fd, "wb", buffering=0) as out:
                remaining = length
                while remaining > 0:
                    block = stream.read(min(CHUNK, remaining))
                    if not block:
                        break
                    if hasher is None:
                        digest.update(block)
                    else:
                        if hashing is not None:
                            hashing.result()  # pieces must reach the digest in order
                        hashing = hasher.submit(digest.update, block)
                    view = memoryview(block)
                    while view:
                        view = view[out.write(view):]
                    received += len(block)
                    remaining -= len(block)
            if hashing is not None:
                hashing.result()
                hashing = None
            if received != length:
                raise ValidationError(f"The upload ended after {received} of {length} bytes; send the whole file again.")
            if expected_md5 is not None and digest.digest() != expected_md5:
                raise ValidationError("The uploaded data does not match its MD5 checksum; the file was not stored. Send it again.")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, target)
        except BaseException:
            if hashing is not None:
                hashing.cancel()
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        return received

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


def new_id() -> str:
    return str(uuid.uuid4())
