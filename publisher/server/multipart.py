"""Multipart uploads, ftrack's protocol: signed part URLs, parts written in place, completion.

``get_upload_metadata`` with ``parts`` opens an upload (:meth:`MultipartUploads.open`) and answers
one signed URL per part. Each part's PUT is written straight into the upload's data file at the
part's offset and fsynced before it is answered with the part's MD5 as its ETag, so completing
the upload copies nothing: :meth:`MultipartUploads.complete` checks the ETags and sizes the
client lists against what was stored, fsyncs, and renames the data file into the content store.
Unfinished uploads are removed once :data:`UPLOAD_LIFETIME` has passed.

Transport-free: the HTTP layer (:mod:`publisher.server.extensions.multipart`) checks a part with
:meth:`MultipartUploads.begin_part`, feeds its body to the :class:`PartWriter` it returns and
records it with :meth:`MultipartUploads.record_part`. Callable from any thread; every database
access goes through the caller's SQLite connection.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlencode

from publisher.server.errors import AuthenticationError, NotFoundError, ValidationError

MIB = 1024 * 1024
GIB = 1024 * MIB
#: At most this many parts per upload (as S3 and ftrack's clients allow).
MAX_PARTS = 10_000
#: Seconds a signed part URL stays valid; a client resuming later asks for fresh ones.
PART_URL_LIFETIME = 6 * 3600
#: Seconds an unfinished upload's parts are kept before they are cleaned away.
UPLOAD_LIFETIME = 48 * 3600
#: Bytes read from the request body per write.
BLOCK = 1024 * 1024

DDL = [
    'CREATE TABLE IF NOT EXISTS "multipart_upload" ("upload_id" TEXT PRIMARY KEY, "component_id" TEXT NOT NULL,'
    ' "size" INTEGER NOT NULL, "part_size" INTEGER NOT NULL, "parts" INTEGER NOT NULL,'
    ' "created_at" REAL NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "ix_multipart_component" ON "multipart_upload" ("component_id")',
    'CREATE TABLE IF NOT EXISTS "upload_part" ("upload_id" TEXT NOT NULL, "part_number" INTEGER NOT NULL,'
    ' "size" INTEGER NOT NULL, "e_tag" TEXT NOT NULL, PRIMARY KEY ("upload_id", "part_number"))',
]


def chunk_size_for(file_size: int) -> int:
    """The part size ftrack's clients choose for a file of ``file_size`` bytes."""
    if file_size > 64 * GIB:
        return 128 * MIB
    if file_size > 8 * GIB:
        return 64 * MIB
    if file_size > GIB:
        return 32 * MIB
    if file_size > 128 * MIB:
        return 16 * MIB
    return 8 * MIB


def part_size_for(file_size: int, parts: int) -> int:
    """The size of every part but the last, for ``file_size`` bytes sent in ``parts`` parts.

    The client picks the part size; the protocol only sends the count. The size ftrack's rule
    gives is used when it makes exactly that many parts, else the smallest even split.
    """
    rule = chunk_size_for(file_size)
    if -(-file_size // rule) == parts:
        return rule
    return max(1, -(-file_size // parts))


def part_range(file_size: int, part_size: int, part_number: int) -> tuple[int, int]:
    """``(offset, length)`` of part ``part_number`` (1-based)."""
    offset = (part_number - 1) * part_size
    return offset, max(0, min(part_size, file_size - offset))


@dataclass(frozen=True)
class Upload:
    """One open multipart upload, as stored."""

    upload_id: str
    component_id: str
    size: int
    part_size: int
    parts: int
    created_at: float


class PartSigner:
    """Signs and checks part URLs: an HMAC-SHA256 over component, upload, part and expiry."""

    def __init__(self, secret: bytes, lifetime: float = PART_URL_LIFETIME) -> None:
        self._secret = secret
        self.lifetime = lifetime

    def signature(self, component_id: str, upload_id: str, part_number: int, expires: int) -> str:
        message = f"{component_id}\n{upload_id}\n{part_number}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def url(self, base_url: str, component_id: str, upload_id: str, part_number: int,
            now: float | None = None) -> str:
        """The signed URL to PUT part ``part_number`` to, valid for :attr:`lifetime` seconds."""
        expires = int((time.time() if now is None else now) + self.lifetime)
        query = urlencode({"component_id": component_id, "expires": expires,
                           "signature": self.signature(component_id, upload_id, part_number, expires)})
        return f"{base_url}/upload/{upload_id}/{part_number}?{query}"

    def check(self, component_id: str, upload_id: str, part_number: int, expires: str, signature: str,
              now: float | None = None) -> None:
        """Raise AuthenticationError unless the signature is right and has not expired."""
        if not expires.isdigit():
            raise AuthenticationError("This part URL has no valid expiry; ask get_upload_metadata for new URLs.")
        wanted = self.signature(component_id, upload_id, part_number, int(expires))
        if not hmac.compare_digest(wanted.encode(), signature.encode()):
            raise AuthenticationError("This part URL's signature is not valid; ask get_upload_metadata for new URLs.")
        if int(expires) < (time.time() if now is None else now):
            # 403, as storage services answer an expired signed URL: the client asks for new ones.
            raise AuthenticationError("This part URL has expired; ask get_upload_metadata for new URLs "
                                      "(with the upload_id, to keep the parts already sent).",
                                      exception="ExpiredUrlError", status=403)


def server_secret(conn: sqlite3.Connection) -> bytes:
    """The key part URLs are signed with: made once per data folder, kept in ``server_meta``."""
    row = conn.execute('SELECT "value" FROM "server_meta" WHERE "key" = ?', ("part_url_secret",)).fetchone()
    if row is not None:
        return bytes.fromhex(row[0])
    secret = secrets.token_bytes(32)
    conn.execute('INSERT OR IGNORE INTO "server_meta" ("key", "value") VALUES (?, ?)', ("part_url_secret", secret.hex()))
    row = conn.execute('SELECT "value" FROM "server_meta" WHERE "key" = ?', ("part_url_secret",)).fetchone()
    return bytes.fromhex(row[0])


class PartWriter:
    """Writes one part's bytes at its offset in the upload's data file and hashes them.

    Feed blocks with :meth:`write`, then :meth:`finish` (fsyncs; returns the MD5 hex); on any
    failure call :meth:`abort`. The same part written again simply overwrites its range.
    """

    def __init__(self, path: Path, offset: int, length: int, on_close=None) -> None:
        self._on_close = on_close
        self._fd = os.open(path, os.O_WRONLY)
        self._offset = offset
        self.length = length
        self.received = 0
        self._md5 = hashlib.md5()

    def write(self, block: bytes | memoryview) -> None:
        if self.received + len(block) > self.length:
            raise ValidationError(f"The part is longer than its {self.length} bytes.")
        self._md5.update(block)
        view = memoryview(block)
        while view:
            written = os.pwrite(self._fd, view, self._offset + self.received)
            self.received += written
            view = view[written:]

    def finish(self) -> str:
        try:
            if self.received != self.length:
                raise ValidationError(f"The part ended after {self.received} of {self.length} bytes; send it again.")
            os.fdatasync(self._fd) if hasattr(os, "fdatasync") else os.fsync(self._fd)
        finally:
            self.abort()
        return self._md5.hexdigest()

    def abort(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
            if self._on_close is not None:
                self._on_close()


class MultipartUploads:
    """Open, receive, complete, abort and expire multipart uploads of one data folder.

    ``root`` holds one data file per open upload (``<upload_id>.part``, as long as the file);
    the content store's own folder must be on the same file system (completion renames).
    """

    def __init__(self, root: str | Path, conn: sqlite3.Connection, *,
                 url_lifetime: float = PART_URL_LIFETIME, upload_lifetime: float = UPLOAD_LIFETIME) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        for statement in DDL:
            conn.execute(statement)
        self.signer = PartSigner(server_secret(conn), url_lifetime)
        self.upload_lifetime = upload_lifetime
        # Parts being written, per upload, and uploads being completed: a part that arrives
        # while its upload is completed must not write into the file already in the store.
        self._guard = threading.Lock()
        self._writing: Counter[str] = Counter()
        self._closing: set[str] = set()

    def data_path(self, upload_id: str) -> Path:
        return self.root / f"{_check_upload_id(upload_id)}.part"

    # Opening ---------------------------------------------------------------------------------
    def open(self, conn: sqlite3.Connection, component_id: str, size: int, parts: int,
             upload_id: str | None = None) -> Upload:
        """A new upload of ``size`` bytes in ``parts`` parts (its data file made, sparse), or,
        given the ``upload_id`` of an open upload of the same component and shape, that one
        (a client resuming with expired URLs)."""
        if not isinstance(parts, int) or isinstance(parts, bool) or not 1 <= parts <= MAX_PARTS:
            raise ValidationError(f"parts must be a whole number from 1 to {MAX_PARTS}, or null for a single-part upload.")
        if size < parts:
            raise ValidationError(f"A file of {size} bytes cannot be sent in {parts} parts; send fewer parts.")
        if upload_id is not None:
            upload = self.get(conn, upload_id)
            if upload.component_id != component_id or upload.size != size or upload.parts != parts:
                raise ValidationError(f"Upload {upload_id} is of another component or shape; start a new upload "
                                      "(leave upload_id out).")
            return upload
        part_size = part_size_for(size, parts)
        if -(-size // part_size) != parts:
            raise ValidationError(f"{size} bytes cannot be split into {parts} equal parts; send "
                                  f"{-(-size // chunk_size_for(size))} parts of {chunk_size_for(size)} bytes.")
        upload = Upload(str(uuid.uuid4()), component_id, size, part_size, parts, time.time())
        with open(self.data_path(upload.upload_id), "wb") as fh:
            fh.truncate(size)
        conn.execute('INSERT INTO "multipart_upload" VALUES (?, ?, ?, ?, ?, ?)',
                     (upload.upload_id, component_id, size, part_size, parts, upload.created_at))
        return upload

    def urls(self, base_url: str, upload: Upload) -> list[dict]:
        """``[{signed_url, part_number}]`` for every part of ``upload``."""
        return [{"signed_url": self.signer.url(base_url, upload.component_id, upload.upload_id, n), "part_number": n}
                for n in range(1, upload.parts + 1)]

    def get(self, conn: sqlite3.Connection, upload_id: object) -> Upload:
        row = conn.execute('SELECT * FROM "multipart_upload" WHERE "upload_id" = ?',
                           (_check_upload_id(upload_id),)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no open upload {upload_id}: it was completed, cancelled or expired. "
                                "Start the upload again.")
        return Upload(*tuple(row))

    # Receiving -------------------------------------------------------------------------------
    def begin_part(self, conn: sqlite3.Connection, upload_id: str, part_number: str, query: dict[str, str],
                   length: int | None) -> tuple[Upload, int, PartWriter]:
        """Check a part PUT (signature, expiry, part number, length) and return the upload, the
        part number and a :class:`PartWriter` ready for its body."""
        if not part_number.isdigit():
            raise NotFoundError(f"'{part_number[:20]}' is not a part number.")
        number = int(part_number)
        component_id = query.get("component_id", "")
        self.signer.check(component_id, upload_id, number, query.get("expires", ""), query.get("signature", ""))
        upload = self.get(conn, upload_id)
        if upload.component_id != component_id or not 1 <= number <= upload.parts:
            raise AuthenticationError("This part URL does not belong to an open upload; ask get_upload_metadata again.")
        offset, expected = part_range(upload.size, upload.part_size, number)
        if length is None:
            raise ValidationError("A part needs a Content-Length header (a whole number of bytes).")
        if length != expected:
            raise ValidationError(f"Part {number} must be {expected} bytes, not {length}; nothing was stored.")
        key = upload.upload_id
        with self._guard:
            if key in self._closing:
                raise NotFoundError(f"Upload {key} is being completed; no more parts are taken.")
            self._writing[key] += 1

        def closed() -> None:
            with self._guard:
                self._writing[key] -= 1
                if self._writing[key] <= 0:
                    del self._writing[key]

        try:
            return upload, number, PartWriter(self.data_path(key), offset, expected, closed)
        except OSError:
            closed()
            raise NotFoundError(f"Upload {key} has no data any more (it was cancelled); start it again.") from None

    def record_part(self, conn: sqlite3.Connection, upload_id: str, part_number: int, size: int, e_tag: str) -> None:
        """Remember a part received whole (after its bytes were fsynced)."""
        # Only while the upload is open: a part that finished after a cancel leaves no row.
        conn.execute('INSERT OR REPLACE INTO "upload_part" SELECT ?, ?, ?, ? WHERE EXISTS '
                     '(SELECT 1 FROM "multipart_upload" WHERE "upload_id" = ?)',
                     (upload_id, part_number, size, e_tag, upload_id))

    # Completing ------------------------------------------------------------------------------
    def complete(self, conn: sqlite3.Connection, upload_id: object, component_id: object, parts: object,
                 target: Path) -> int:
        """Check ``parts`` (``[{part_number, e_tag}]``) against the stored parts and the declared
        size, fsync and move the data file to ``target``; the size. Raises ValidationError (and
        changes nothing) on a missing, unknown or mismatched part. Call inside the batch's
        transaction; undo with :meth:`uncomplete` if it rolls back."""
        upload = self.get(conn, upload_id)
        if upload.component_id != component_id:
            raise ValidationError(f"Upload {upload_id} is not for component {component_id}.")
        if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
            raise ValidationError("parts must be a list of {part_number, e_tag}.")
        stored = {row[0]: (row[1], row[2]) for row in conn.execute(
            'SELECT "part_number", "size", "e_tag" FROM "upload_part" WHERE "upload_id" = ?', (upload.upload_id,))}
        listed: dict[int, str] = {}
        for part in parts:
            number, e_tag = part.get("part_number"), part.get("e_tag")
            if not isinstance(number, int) or not isinstance(e_tag, str) or number in listed:
                raise ValidationError("Each part must be listed once as {part_number: int, e_tag: str}.")
            listed[number] = e_tag.strip('"').lower()
        missing = sorted(set(range(1, upload.parts + 1)) - set(listed))
        if missing or len(listed) != upload.parts:
            raise ValidationError(f"The upload has {upload.parts} parts; parts {_ranges(missing) or 'listed'} are "
                                  "missing or unknown. Send the missing parts, then complete again.")
        not_received = sorted(n for n in listed if n not in stored)
        if not_received:
            raise ValidationError(f"Parts {_ranges(not_received)} were never received; send them, then complete again.")
        wrong = sorted(n for n, tag in listed.items() if stored[n][1] != tag)
        if wrong:
            raise ValidationError(f"The ETags of parts {_ranges(wrong)} differ from the parts received; send "
                                  "those parts again.")
        total = sum(size for size, _ in stored.values())
        if total != upload.size:
            raise ValidationError(f"The parts add up to {total} bytes, not the {upload.size} announced.")
        source = self.data_path(upload.upload_id)
        if not source.is_file() or source.stat().st_size != upload.size:
            raise ValidationError(f"The data of upload {upload.upload_id} is gone; start the upload again.")
        with self._guard:
            if self._writing.get(upload.upload_id):
                raise ValidationError("Parts of this upload are still arriving; complete it once every part PUT "
                                      "was answered.")
            self._closing.add(upload.upload_id)
        try:
            with open(source, "rb") as fh:
                os.fsync(fh.fileno())
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            _fsync_dir(target.parent)
        finally:
            with self._guard:
                self._closing.discard(upload.upload_id)
        conn.execute('DELETE FROM "upload_part" WHERE "upload_id" = ?', (upload.upload_id,))
        conn.execute('DELETE FROM "multipart_upload" WHERE "upload_id" = ?', (upload.upload_id,))
        return upload.size

    def uncomplete(self, upload_id: str, target: Path) -> None:
        """Put a completed upload's data back (the batch that completed it rolled back)."""
        with contextlib.suppress(OSError):
            os.replace(target, self.data_path(upload_id))

    # Removing --------------------------------------------------------------------------------
    def abort_component(self, conn: sqlite3.Connection, component_id: str) -> list[str]:
        """Forget every open upload of ``component_id``; the ids of the data files to delete."""
        ids = [row[0] for row in conn.execute(
            'SELECT "upload_id" FROM "multipart_upload" WHERE "component_id" = ?', (component_id,))]
        for upload_id in ids:
            conn.execute('DELETE FROM "upload_part" WHERE "upload_id" = ?', (upload_id,))
            conn.execute('DELETE FROM "multipart_upload" WHERE "upload_id" = ?', (upload_id,))
        return ids

    def delete_data(self, upload_ids: list[str]) -> None:
        for upload_id in upload_ids:
            with contextlib.suppress(OSError):
                self.data_path(upload_id).unlink()

    def expire(self, conn: sqlite3.Connection, now: float | None = None) -> list[str]:
        """Forget uploads older than :attr:`upload_lifetime`, and data files no upload owns;
        returns the ids whose data must be deleted (after the transaction commits)."""
        cutoff = (time.time() if now is None else now) - self.upload_lifetime
        ids = [row[0] for row in conn.execute('SELECT "upload_id" FROM "multipart_upload" WHERE "created_at" < ?',
                                              (cutoff,))]
        for upload_id in ids:
            conn.execute('DELETE FROM "upload_part" WHERE "upload_id" = ?', (upload_id,))
            conn.execute('DELETE FROM "multipart_upload" WHERE "upload_id" = ?', (upload_id,))
        known = {row[0] for row in conn.execute('SELECT "upload_id" FROM "multipart_upload"')}
        for leftover in self.root.glob("*.part"):
            if leftover.stem not in known and leftover.stem not in ids:
                with contextlib.suppress(OSError):
                    if leftover.stat().st_mtime < cutoff:
                        ids.append(leftover.stem)
        return ids


def _check_upload_id(value: object) -> str:
    try:
        return str(uuid.UUID(str(value))) if isinstance(value, str) and len(value) == 36 else _bad_id(value)
    except ValueError:
        return _bad_id(value)


def _bad_id(value: object) -> str:
    raise ValidationError(f"upload_id '{str(value)[:60]}' is not an upload id from get_upload_metadata.")


def _ranges(numbers: list[int]) -> str:
    """``1-3, 7`` for [1, 2, 3, 7] (at most 10 runs shown)."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs[:10])
    return text + (" ..." if len(runs) > 10 else "")


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
