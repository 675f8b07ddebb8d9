"""Uploads to ``ftrack.server`` with ftrack's multipart protocol: no whole-file checksum first.

A file bigger than one part is announced with ``get_upload_metadata {parts: n}``; the server
answers an ``upload_id`` and one signed URL per part, each part is PUT straight from disk (no
API headers) on a pool of connections (``FTRACK_UPLOAD_MAX_CONNECTIONS``, default 6) and
answered with its ETag, and ``complete_multipart_upload`` goes in the same commit as the
ComponentLocation (see :attr:`FileUpload.completion`). Files of one part or less, and every file
a server answers with the single-part shape (``url``, ``headers``), are sent in one PUT. All the
files of one call (a sequence's frames) share one ``get_upload_metadata`` request and one pool.

Progress counts bytes the server acknowledged. What happens before the first byte moves
(reading small files for their checksums, asking for the URLs) is reported as a labelled phase
through ``progress.phase(label, done, total)`` when the progress callable has that attribute.
An :func:`upload_journal` set around the upload records each finished part (the upload id and
ETags), so an upload interrupted by a crash sends only its missing parts when run again.

No Qt. Call from the thread that owns the session; parts move on worker threads, ``progress``
and the journal are called from them.
"""

from __future__ import annotations

import contextlib
import contextvars
import http.client
import os
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol, Sequence
from urllib.parse import urlsplit

import requests

from publisher.api import transfer
from publisher.api.exceptions import AccessorError, ServerConnectionError, ServerError, TransferCancelled

MIB = 1024 * 1024
GIB = 1024 * MIB
MAX_PARTS = 10_000
#: Parallel connections when ``FTRACK_UPLOAD_MAX_CONNECTIONS`` is not set.
DEFAULT_CONNECTIONS = 6
#: Tries per part (the first and the retries) before the upload fails.
PART_ATTEMPTS = 5
#: Seconds before the first retry of a part; doubled for each further one.
RETRY_DELAY = 0.5
#: Bytes read from disk and sent per write: small enough that a cancel is seen within a second
#: on a slow link, big enough that per-block costs vanish.
BLOCK = MIB
#: Bytes handed to ``sendfile`` at a time for a part: a cancel is seen between slices, within a
#: second even on a 20 Mbit/s link.
SEND_SLICE = 2 * MIB

ProgressCallback = Callable[[int, int], None]


def chunk_size_for(file_size: int) -> int:
    """ftrack's part size for a file of ``file_size`` bytes (8 MiB, 16 MiB over 128 MiB, 32 MiB
    over 1 GiB, 64 MiB over 8 GiB, 128 MiB over 64 GiB)."""
    if file_size > 128 * MIB * MAX_PARTS:
        raise AccessorError(f"A file of {file_size} bytes is larger than ftrack accepts (1,280 GB); split it.")
    if file_size > 64 * GIB:
        return 128 * MIB
    if file_size > 8 * GIB:
        return 64 * MIB
    if file_size > GIB:
        return 32 * MIB
    if file_size > 128 * MIB:
        return 16 * MIB
    return 8 * MIB


def max_connections() -> int:
    """Parts sent at once: ``FTRACK_UPLOAD_MAX_CONNECTIONS`` (a whole number from 1), else 6."""
    text = os.environ.get("FTRACK_UPLOAD_MAX_CONNECTIONS", "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    return DEFAULT_CONNECTIONS


def part_count(file_size: int) -> int | None:
    """How many parts a file is sent in: None (one PUT) unless it is bigger than one part."""
    chunk = chunk_size_for(file_size)
    return -(-file_size // chunk) if file_size > chunk else None


# --------------------------------------------------------------------------------------------
# Resume journal


class UploadJournal(Protocol):
    """Where an upload's progress is kept between runs (the publish outbox implements it)."""

    def load(self, component_id: str) -> dict | None:
        """The record saved for ``component_id``, or None."""

    def save(self, component_id: str, record: dict | None) -> None:
        """Keep ``record`` (None: forget it). Called from part threads, one call at a time."""


_JOURNAL: contextvars.ContextVar[UploadJournal | None] = contextvars.ContextVar("upload_journal", default=None)


@contextlib.contextmanager
def upload_journal(journal: UploadJournal | None) -> Iterator[None]:
    """Record multipart uploads started in this block (this thread) in ``journal``."""
    token = _JOURNAL.set(journal)
    try:
        yield
    finally:
        _JOURNAL.reset(token)


# --------------------------------------------------------------------------------------------
# Plan


@dataclass
class FileUpload:
    """One file to upload and, once the server answered, how."""

    component_id: str
    path: str
    file_name: str
    size: int
    parts: int | None = None  # None: one PUT
    part_size: int = 0
    checksum: str | None = None
    url: str = ""  # single part
    headers: dict = field(default_factory=dict)
    upload_id: str = ""
    urls: dict[int, str] = field(default_factory=dict)
    e_tags: dict[int, str] = field(default_factory=dict)  # parts the server acknowledged
    mtime_ns: int = 0

    @property
    def completion(self) -> dict | None:
        """The ``complete_multipart_upload`` operation to commit with the ComponentLocation."""
        if not self.upload_id:
            return None
        return {"action": "complete_multipart_upload", "upload_id": self.upload_id,
                "component_id": self.component_id,
                "parts": [{"part_number": n, "e_tag": self.e_tags[n]} for n in sorted(self.e_tags)]}

    def part_range(self, number: int) -> tuple[int, int]:
        offset = (number - 1) * self.part_size
        return offset, min(self.part_size, self.size - offset)

    def record(self) -> dict:
        return {"upload_id": self.upload_id, "file_size": self.size, "mtime_ns": self.mtime_ns,
                "part_size": self.part_size, "parts": self.parts,
                "e_tags": {str(n): tag for n, tag in self.e_tags.items()}}


@dataclass(frozen=True)
class _Task:
    upload: FileUpload
    part: int  # 0: the whole file in one PUT


def _report_phase(progress: Any, label: str, done: int, total: int) -> None:
    phase = getattr(progress, "phase", None)
    if phase is not None:
        phase(label, done, total)


def _metadata_operation(item: FileUpload) -> dict:
    operation = {"action": "get_upload_metadata", "component_id": item.component_id,
                 "file_name": item.file_name, "file_size": item.size}
    if item.parts is None:
        operation["checksum"] = item.checksum
    else:
        operation["parts"] = item.parts
        if item.upload_id:
            operation["upload_id"] = item.upload_id
    return operation


def _resume_from_journal(item: FileUpload, journal: UploadJournal | None) -> None:
    """Take the upload id and finished parts an earlier run recorded for this same file."""
    if journal is None or item.parts is None:
        return
    record = journal.load(item.component_id)
    if not record:
        return
    if (record.get("file_size") != item.size or record.get("mtime_ns") != item.mtime_ns
            or record.get("parts") != item.parts):
        journal.save(item.component_id, None)  # the file changed: its old parts are worthless
        return
    item.upload_id = str(record.get("upload_id") or "")
    item.e_tags = {int(n): str(tag) for n, tag in (record.get("e_tags") or {}).items()}


def _apply_answer(item: FileUpload, answer: dict, journal: UploadJournal | None) -> None:
    if "urls" in answer and answer.get("upload_id"):
        if answer["upload_id"] != item.upload_id:
            item.e_tags = {}
        item.upload_id = str(answer["upload_id"])
        item.urls = {int(u["part_number"]): str(u["signed_url"]) for u in answer["urls"]}
        item.part_size = int(answer.get("part_size") or item.part_size or chunk_size_for(item.size))
        if journal is not None:
            journal.save(item.component_id, item.record())
        return
    # The single-part shape: a server without multipart uploads (or one that chose not to).
    item.parts, item.upload_id, item.e_tags = None, "", {}
    item.url = str(answer["url"])
    item.headers = dict(answer.get("headers") or {})


# --------------------------------------------------------------------------------------------
# Sending


class _PartBody:
    """A file (or a byte range of it) as a ``requests`` body, read from disk in :data:`BLOCK`
    pieces and counted on ``meter`` as it goes (one-PUT files)."""

    def __init__(self, path: str, offset: int, length: int, cancel: threading.Event | None,
                 meter: transfer.ProgressMeter | None = None) -> None:
        self.path, self.offset, self.length, self.cancel = path, offset, length, cancel
        self.meter = meter  # counts bytes as they are written (a one-PUT file), else None
        self.sent = 0

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[bytes]:
        fd = os.open(self.path, os.O_RDONLY)
        try:
            self.undo()
            while self.sent < self.length:
                transfer.check_cancel(self.cancel, "upload")
                block = os.pread(fd, min(BLOCK, self.length - self.sent), self.offset + self.sent)
                if not block:
                    raise AccessorError(f"{self.path} became shorter while it was being uploaded; make sure "
                                        "nothing writes to it and publish again.")
                self.sent += len(block)
                if self.meter is not None:
                    self.meter.add(len(block))
                yield block
        finally:
            os.close(fd)

    def undo(self) -> None:
        """Take back the bytes counted for an attempt that failed."""
        if self.meter is not None and self.sent:
            self.meter.add(-self.sent)
        self.sent = 0


class _Retryable(Exception):
    """A part failed in a way another try may cure: the connection was lost (``connection``), or
    the server had an error."""

    def __init__(self, text: str, *, connection: bool = False) -> None:
        super().__init__(text)
        self.connection = connection


class _Expired(Exception):
    """The part's signed URL is no longer accepted: ask for fresh ones."""


class MultipartUploader:
    """Uploads a set of files to the server of ``session``: one metadata request, one pool."""

    def __init__(self, session: Any, *, connections: int | None = None) -> None:
        self.session = session
        self.connections = connections or max_connections()
        self.server_label = f"the ftrack server at {session.server_url}"
        self._local = threading.local()
        self._https: list[requests.Session] = []
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self.requests_made = 0
        self.bytes_sent = 0

    def _http(self) -> requests.Session:
        http = getattr(self._local, "http", None)
        if http is None:
            http = requests.Session()
            self._local.http = http
            with self._lock:
                self._https.append(http)
        return http

    def _connection(self, url: str) -> http.client.HTTPConnection:
        """This thread's keep-alive connection to the host of ``url`` (for part PUTs)."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        held = getattr(self._local, "conn", None)
        if held is not None and held[0] == key:
            return held[1]
        if held is not None:
            held[1].close()
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = cls(parts.netloc, timeout=self.session.timeout)
        self._local.conn = (key, conn)
        with self._lock:
            self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            https, self._https = self._https, []
            connections, self._connections = self._connections, []
        for http_session in https:
            http_session.close()
        for conn in connections:
            conn.close()

    # Plan and ask ----------------------------------------------------------------------------
    def plan(self, files: Sequence[tuple[str, str, str]], progress: Any = None,
             cancel: threading.Event | None = None) -> list[FileUpload]:
        """``(component_id, path, file_name)`` -> uploads with their part counts and, for the
        one-PUT files, their checksums (read now, reported as the ``reading`` phase)."""
        items = []
        for component_id, path, file_name in files:
            try:
                stat = os.stat(path)
            except FileNotFoundError:
                raise FileNotFoundError(f"Cannot read {path}: the file does not exist.") from None
            items.append(FileUpload(component_id, path, file_name, stat.st_size, part_count(stat.st_size),
                                    mtime_ns=stat.st_mtime_ns))
        small = [item for item in items if item.parts is None]
        total = sum(item.size for item in small)
        if small:
            read = [0]
            lock = threading.Lock()
            _report_phase(progress, "reading", 0, total)

            def checksum(item: transfer.FileTransfer) -> tuple[int, str]:
                result = transfer.file_md5(item.source, cancel)
                with lock:
                    read[0] += result[0]
                    _report_phase(progress, "reading", read[0], total)
                return result

            sums = transfer.run_parallel(checksum, [transfer.FileTransfer(source=i.path) for i in small],
                                         self.connections, cancel)
            for item, (size, digest) in zip(small, sums):
                item.size, item.checksum = size, digest
        return items

    def ask(self, items: Sequence[FileUpload], progress: Any = None,
            cancel: threading.Event | None = None) -> None:
        """One ``get_upload_metadata`` request for every file (the ``planning`` phase)."""
        journal = _JOURNAL.get()
        for item in items:
            _resume_from_journal(item, journal)
        _report_phase(progress, "planning", 0, len(items))
        transfer.check_cancel(cancel, "upload")
        try:
            answers = self.session.call([_metadata_operation(item) for item in items])
        except ServerError as error:
            stale = [item for item in items if item.upload_id]
            if not stale or error.exception_name != "NotFoundError":
                raise
            # The server no longer knows an upload an earlier run started (expired, completed
            # elsewhere): start those afresh.
            for item in stale:
                item.upload_id, item.e_tags = "", {}
                if journal is not None:
                    journal.save(item.component_id, None)
            answers = self.session.call([_metadata_operation(item) for item in items])
        for item, answer in zip(items, answers):
            _apply_answer(item, answer, journal)
        _report_phase(progress, "planning", len(items), len(items))

    def _renew(self, item: FileUpload) -> None:
        """Fresh signed URLs for an upload whose URLs expired (same upload id, parts kept)."""
        with self._lock:
            answer = self.session.call([_metadata_operation(item)])[0]
            kept = dict(item.e_tags)
            _apply_answer(item, answer, None)
            item.e_tags.update(kept)

    # Send --------------------------------------------------------------------------------------
    def send(self, items: Sequence[FileUpload], progress: ProgressCallback | None = None,
             cancel: threading.Event | None = None) -> None:
        """PUT every part not yet acknowledged (and every one-PUT file) on the pool."""
        journal = _JOURNAL.get()
        total = sum(item.size for item in items)
        meter = transfer.ProgressMeter(total, progress)
        tasks: list[_Task] = []
        already = 0
        for item in items:
            if item.parts is None:
                tasks.append(_Task(item, 0))
                continue
            for number in range(1, item.parts + 1):
                if number in item.e_tags:
                    already += item.part_range(number)[1]
                else:
                    tasks.append(_Task(item, number))
        meter.add(already)  # a resumed upload shows where it stopped
        stop = threading.Event()

        def run(task: _Task) -> None:
            if stop.is_set():
                return
            self._send_with_retries(task, meter, cancel, stop, journal)

        if not tasks:
            return
        pool = ThreadPoolExecutor(max_workers=min(self.connections, len(tasks)), thread_name_prefix="ftrack-part")
        try:
            futures = [pool.submit(run, task) for task in tasks]
            wait(futures, return_when=FIRST_EXCEPTION)
            errors = [f.exception() for f in futures if f.done() and not f.cancelled() and f.exception()]
            if errors:
                stop.set()
                for future in futures:
                    future.cancel()
                wait(futures)
                errors = [f.exception() for f in futures if f.done() and not f.cancelled() and f.exception()]
                if cancel is not None and cancel.is_set():
                    raise next((e for e in errors if isinstance(e, TransferCancelled)),
                               TransferCancelled("The upload was cancelled."))
                first = errors[0]
                assert first is not None  # only futures that raised were kept
                raise first
        finally:
            pool.shutdown(wait=True)

    def _send_with_retries(self, task: _Task, meter: transfer.ProgressMeter, cancel: threading.Event | None,
                           stop: threading.Event, journal: UploadJournal | None) -> None:
        item = task.upload
        renewed = False
        for attempt in range(PART_ATTEMPTS):
            transfer.check_cancel(cancel, "upload")
            if stop.is_set():
                return
            try:
                e_tag = self._put(task, cancel, meter)
            except _Expired:
                if renewed:
                    raise AccessorError(f"{self.server_label} refused the fresh URL of part {task.part} of "
                                        f"{item.path}; publish again.") from None
                self._renew(item)
                renewed = True
                continue
            except _Retryable as error:
                if attempt + 1 == PART_ATTEMPTS:
                    what = f"part {task.part} of {item.path}" if task.part else item.path
                    # The cause says "unreachable" to callers that wait for the server to come back.
                    cause = ServerConnectionError(f"{self.server_label} could not be reached ({error}).",
                                                  server_url=self.session.server_url) if error.connection else None
                    raise AccessorError(
                        f"Lost the connection to {self.server_label} while uploading {what} ({error}; "
                        f"tried {PART_ATTEMPTS} times). Check that the server is running and reachable, then "
                        "publish again; nothing was committed.") from cause
                delay = RETRY_DELAY * (2 ** attempt)
                if cancel is not None and cancel.wait(delay):
                    raise TransferCancelled("The upload was cancelled.") from None
                if cancel is None:
                    time.sleep(delay)
                continue
            if task.part:
                with self._lock:
                    item.e_tags[task.part] = e_tag
                    if journal is not None:
                        journal.save(item.component_id, item.record())
                meter.add(item.part_range(task.part)[1])
            return

    def _put_part(self, task: _Task, cancel: threading.Event | None) -> str:
        """PUT one part with the kernel copying it from the file to the socket (``sendfile``: the
        bytes never pass through Python), in slices so a cancel is seen within a second."""
        item = task.upload
        offset, length = item.part_range(task.part)
        url = item.urls[task.part]
        parts = urlsplit(url)
        with self._lock:
            self.requests_made += 1
            self.bytes_sent += length
        conn = self._connection(url)
        try:
            conn.putrequest("PUT", f"{parts.path}?{parts.query}" if parts.query else parts.path,
                            skip_accept_encoding=True)
            conn.putheader("Content-Length", str(length))
            conn.endheaders()
            with open(item.path, "rb") as source:
                sent = 0
                while sent < length:
                    if cancel is not None and cancel.is_set():
                        conn.close()
                        raise TransferCancelled("The upload was cancelled.")
                    count = conn.sock.sendfile(source, offset + sent, min(SEND_SLICE, length - sent))
                    if not count:
                        raise AccessorError(f"{item.path} became shorter while it was being uploaded; make sure "
                                            "nothing writes to it and publish again.")
                    sent += count
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            conn.close()
            if cancel is not None and cancel.is_set():
                raise TransferCancelled("The upload was cancelled.") from error
            raise _Retryable(type(error).__name__, connection=True) from error
        transfer.check_cancel(cancel, "upload")
        if response.status == 200:
            e_tag = (response.getheader("ETag") or "").strip('"')
            if not e_tag:
                raise AccessorError(f"{self.server_label} answered part {task.part} of {item.path} without an "
                                    "ETag; it may not support multipart uploads.")
            return e_tag
        text = body.decode("utf-8", "replace").strip()[:300]
        if response.status == 403:  # an expired signed URL (401 is a wrong or tampered one)
            raise _Expired()
        if response.status >= 500 or response.status in (408, 429):
            raise _Retryable(f"HTTP {response.status}")
        raise AccessorError(f"{self.server_label} refused the upload of part {task.part} of {item.path}: "
                            f"HTTP {response.status} {text}")

    def _put(self, task: _Task, cancel: threading.Event | None, meter: transfer.ProgressMeter) -> str:
        """PUT one part (counted once acknowledged; its ETag) or one whole file (counted as it is
        sent, through ``requests`` with the server's headers; "")."""
        if task.part:
            return self._put_part(task, cancel)
        item = task.upload
        headers = dict(item.headers)
        headers["Content-Length"] = str(item.size)
        body = _PartBody(item.path, 0, item.size, cancel, meter)
        with self._lock:
            self.requests_made += 1
            self.bytes_sent += item.size
        try:
            response = self._http().put(item.url, data=body if item.size else b"", headers=headers,
                                        timeout=self.session.timeout)
        except TransferCancelled:
            body.undo()
            raise
        except requests.RequestException as error:
            body.undo()
            if cancel is not None and cancel.is_set():
                raise TransferCancelled("The upload was cancelled.") from error
            raise _Retryable(type(error).__name__, connection=True) from error
        if cancel is not None and cancel.is_set():
            body.undo()
            raise TransferCancelled("The upload was cancelled.")
        if response.status_code < 300:
            return ""
        body.undo()
        text = response.text.strip()[:300]
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise _Retryable(f"HTTP {response.status_code}")
        transfer.forget_checksum(item.path)
        raise AccessorError(f"{self.server_label} refused the upload of {item.path}: HTTP {response.status_code} {text}")


def upload(session: Any, files: Sequence[tuple[str, str, str]], *, progress: Any = None,
           cancel: threading.Event | None = None, connections: int | None = None) -> list[FileUpload]:
    """Upload ``files`` (``(component_id, path, file_name)``) to ``session``'s server.

    Returns the uploads; commit each one's :attr:`FileUpload.completion` (when not None) in the
    same batch as its ComponentLocation. Raises :class:`TransferCancelled` when ``cancel`` is set
    and :class:`AccessorError` when the server cannot be reached or refuses a part.
    """
    uploader = MultipartUploader(session, connections=connections)
    try:
        items = uploader.plan(files, progress, cancel)
        uploader.ask(items, progress, cancel)
        uploader.send(items, progress, cancel)
    finally:
        uploader.close()
        count = getattr(session, "count_request", None)
        if count is not None:
            count(uploader.requests_made)
    return items


__all__ = ["FileUpload", "MultipartUploader", "UploadJournal", "chunk_size_for", "max_connections",
           "part_count", "upload", "upload_journal"]
