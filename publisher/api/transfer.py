"""Moving file bytes: checksums, streamed uploads and downloads, copies, with progress and cancel.

Nothing here knows about entities: the location code decides what goes where and calls these
functions. Every transfer streams in chunks (never a whole file in memory, never a temporary
copy), reports bytes through a ``progress(done_bytes, total_bytes)`` callable from whichever
thread moves the bytes, and checks a ``threading.Event`` between chunks so a cancel stops it
within one chunk. No Qt; callable from any thread.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import requests

from publisher.api.exceptions import AccessorError, TransferCancelled

#: Bytes read per chunk: big enough that per-chunk overhead vanishes, small enough to cancel fast.
CHUNK_SIZE = 1024 * 1024

#: Parallel transfers for many small files (sequence members).
DEFAULT_WORKERS = 6

ProgressCallback = Callable[[int, int], None]


@dataclass
class FileTransfer:
    """One file to move: from ``source`` (a local path) to ``target`` (a path or a URL)."""

    source: str
    target: str = ""
    size: int = 0
    checksum: str = ""
    headers: dict = field(default_factory=dict)
    key: str = ""  # the component id the file belongs to


class ProgressMeter:
    """Adds up bytes moved by several threads and reports the total to one callback."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self.done = 0
        self._callback = callback
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        """Count ``count`` more bytes (negative when a failed attempt is undone).

        The callback runs under the lock so figures arrive in order (keep it cheap: emit a
        signal, set a value).
        """
        with self._lock:
            self.done += count
            if self._callback is not None:
                self._callback(self.done, self.total)


def check_cancel(cancel: threading.Event | None, what: str = "transfer") -> None:
    """Raise :class:`TransferCancelled` if ``cancel`` is set."""
    if cancel is not None and cancel.is_set():
        raise TransferCancelled(f"The {what} was cancelled.")


#: (real path, size, mtime_ns, inode) -> base64 MD5 of files hashed in this process. A file
#: published again (a retry after a failure) or hashed ahead of time (:func:`prehash`, e.g. while
#: the artist is still writing the comment) is not read a second time. A change that kept size and
#: mtime would be caught by the server, which checks Content-MD5 on the PUT.
_CHECKSUMS: "dict[tuple, str]" = {}
_CHECKSUMS_LOCK = threading.Lock()
_CHECKSUMS_MAX = 50_000


def _stat_key(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino)


def forget_checksum(path: str) -> None:
    """Drop any remembered checksum of ``path`` (the server refused it: hash it afresh)."""
    real = os.path.realpath(path)
    with _CHECKSUMS_LOCK:
        for key in [k for k in _CHECKSUMS if k[0] == real]:
            del _CHECKSUMS[key]


def prehash(paths: Sequence[str], cancel: threading.Event | None = None) -> None:
    """Checksum ``paths`` now so a later upload of them skips that read (any thread)."""
    checksum_files(list(paths), cancel)


def file_md5(path: str, cancel: threading.Event | None = None, chunk_size: int = CHUNK_SIZE) -> tuple[int, str]:
    """Return ``(size, checksum)`` of the file at ``path`` in one streaming read.

    ``checksum`` is the base64 MD5 digest as the ``Content-MD5`` header wants it (RFC 1864).
    Unchanged files already hashed in this process are not read again.
    """
    key = _stat_key(path)
    if key is not None:
        with _CHECKSUMS_LOCK:
            known = _CHECKSUMS.get(key)
        if known is not None:
            return key[1], known
    digest = hashlib.md5()
    size = 0
    try:
        with open(path, "rb", buffering=0) as handle:
            buffer = bytearray(chunk_size)
            view = memoryview(buffer)
            while True:
                check_cancel(cancel, "checksum")
                count = handle.readinto(buffer)
                if not count:
                    break
                digest.update(view[:count])
                size += count
    except FileNotFoundError:
        raise FileNotFoundError(f"Cannot read {path}: the file does not exist.") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"Cannot read {path}: it is a folder, not a file.") from None
    except PermissionError:
        raise PermissionError(f"Cannot read {path}: permission denied.") from None
    checksum = base64.b64encode(digest.digest()).decode("ascii")
    if key is not None and key[1] == size and _stat_key(path) == key:
        with _CHECKSUMS_LOCK:
            if len(_CHECKSUMS) >= _CHECKSUMS_MAX:
                _CHECKSUMS.clear()
            _CHECKSUMS[key] = checksum
    return size, checksum


class FileBody:
    """A request body that streams a file from disk in chunks, with a known length.

    ``requests`` sends it with a ``Content-Length`` of ``len(body)`` and iterates it; each
    chunk is counted on ``meter`` and ``cancel`` is checked before each read.
    """

    def __init__(self, path: str, size: int, meter: ProgressMeter | None = None,
                 cancel: threading.Event | None = None, chunk_size: int = CHUNK_SIZE) -> None:
        self.path = path
        self.size = size
        self.meter = meter
        self.cancel = cancel
        self.chunk_size = chunk_size
        self.sent = 0

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[bytes]:
        self.sent = 0
        with open(self.path, "rb") as handle:
            while self.sent < self.size:
                check_cancel(self.cancel, "upload")
                chunk = handle.read(min(self.chunk_size, self.size - self.sent))
                if not chunk:
                    raise AccessorError(
                        f"{self.path} became shorter while it was being uploaded; "
                        "make sure nothing writes to it and publish again."
                    )
                self.sent += len(chunk)
                if self.meter is not None:
                    self.meter.add(len(chunk))
                yield chunk


def _http_error_text(response: requests.Response) -> str:
    text = response.text.strip()
    return text[:300] if text else response.reason or ""


def run_parallel(func: Callable[[FileTransfer], object], items: Sequence[FileTransfer],
                 workers: int = DEFAULT_WORKERS, cancel: threading.Event | None = None) -> list:
    """Call ``func(item)`` for every item on a bounded pool; the first error stops the rest.

    Returns the results in item order. On error, waits for the running calls to finish (they
    see ``stop`` through ``cancel`` semantics only if the caller passes one) and re-raises the
    first error, preferring :class:`TransferCancelled` when cancelled.
    """
    if not items:
        return []
    if len(items) == 1 or workers <= 1:
        return [func(item) for item in items]
    stop = threading.Event()

    def guarded(item: FileTransfer) -> object:
        if stop.is_set():
            return None
        return func(item)

    with ThreadPoolExecutor(max_workers=min(workers, len(items)),
                            thread_name_prefix="ftrack-transfer") as pool:
        futures: list[Future] = [pool.submit(guarded, item) for item in items]
        done, _pending = wait(futures, return_when=FIRST_EXCEPTION)
        first_error = next((f.exception() for f in futures if f.done() and f.exception()), None)
        if first_error is not None:
            stop.set()
            for future in futures:
                future.cancel()
            wait(futures)
            errors = [f.exception() for f in futures if not f.cancelled() and f.exception()]
            if cancel is not None and cancel.is_set():
                cancelled = next((e for e in errors if isinstance(e, TransferCancelled)), None)
                if cancelled is not None:
                    raise cancelled
            raise first_error
        return [future.result() for future in futures]


def checksum_files(paths: Sequence[str], cancel: threading.Event | None = None,
                   workers: int = DEFAULT_WORKERS) -> list[tuple[int, str]]:
    """``(size, checksum)`` for every path, read in parallel for many small files."""
    items = [FileTransfer(source=path) for path in paths]
    return run_parallel(lambda item: file_md5(item.source, cancel), items, workers, cancel)


def copy_files(items: Sequence[FileTransfer], *, progress: ProgressCallback | None = None,
               cancel: threading.Event | None = None, workers: int = DEFAULT_WORKERS) -> None:
    """Copy each item's ``source`` to its ``target`` path, creating folders as needed.

    Each file is written to ``<target>.part`` and renamed when complete, so a cancelled or
    failed copy leaves no half-written file under the final name. On error or cancel the files
    this call already copied are removed again; sources are never touched.
    """
    meter = ProgressMeter(sum(item.size for item in items), progress)
    finished: list[str] = []
    lock = threading.Lock()

    def copy_one(item: FileTransfer) -> None:
        check_cancel(cancel, "copy")
        if os.path.exists(item.target):
            raise AccessorError(
                f"Cannot copy {item.source} to {item.target}: a file already exists there. "
                "Remove it or publish as a new version."
            )
        os.makedirs(os.path.dirname(item.target) or ".", exist_ok=True)
        partial = item.target + ".part"
        copied = 0
        try:
            with open(item.source, "rb") as source, open(partial, "wb") as target:
                while True:
                    check_cancel(cancel, "copy")
                    chunk = source.read(CHUNK_SIZE)
                    if not chunk:
                        break
                    target.write(chunk)
                    copied += len(chunk)
                    meter.add(len(chunk))
            os.replace(partial, item.target)
        except BaseException:
            meter.add(-copied)
            try:
                os.remove(partial)
            except OSError:
                pass
            raise
        with lock:
            finished.append(item.target)

    try:
        run_parallel(copy_one, items, workers, cancel)
    except BaseException:
        for path in finished:
            try:
                os.remove(path)
            except OSError:
                pass
        raise


def download(url: str, destination: str, *, http: requests.Session | None = None,
             params: dict | None = None, timeout: float = 60,
             progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> str:
    """Stream ``url`` to ``destination`` (via ``destination.part``); return ``destination``."""
    owner = http is None
    http = http or requests.Session()
    partial = destination + ".part"
    try:
        with http.get(url, params=params, stream=True, timeout=timeout) as response:
            if response.status_code >= 400:
                raise AccessorError(
                    f"Could not download {url.split('?')[0]}: HTTP {response.status_code} "
                    f"{_http_error_text(response)}"
                )
            total = int(response.headers.get("Content-Length") or 0)
            meter = ProgressMeter(total, progress)
            os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
            with open(partial, "wb") as handle:
                for chunk in response.iter_content(CHUNK_SIZE):
                    check_cancel(cancel, "download")
                    handle.write(chunk)
                    meter.add(len(chunk))
        os.replace(partial, destination)
    except requests.RequestException as error:
        _remove_quietly(partial)
        raise AccessorError(
            f"Could not download {url.split('?')[0]} ({type(error).__name__}); check that the "
            "server is running and reachable."
        ) from error
    except BaseException:
        _remove_quietly(partial)
        raise
    finally:
        if owner:
            http.close()
    return destination


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


__all__ = [
    "CHUNK_SIZE", "FileBody", "FileTransfer", "ProgressMeter", "checksum_files", "copy_files",
    "download", "file_md5", "prehash", "run_parallel",
]
