"""``encode_media`` jobs: the Job row and its outputs are made in the request's transaction,
the encode runs later in a worker thread (never in a request thread).

Job ``status`` goes queued -> running -> done | failed; ``data`` (a JSON string) holds ftrack's
``output`` list, ``source_component_id`` and ``keep_original``, plus ``progress`` (0-100) while
it runs and ``error`` when it fails.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Callable

from publisher.server.errors import NotFoundError, ValidationError
from publisher.server.storage import utcnow
from publisher.server.update_events import entry as update_entry, update_event

if TYPE_CHECKING:
    from publisher.server.actions import Api, Batch

log = logging.getLogger(__name__)

SERVER_LOCATION_ID = "3a372bde-05bc-11e4-8908-20c9d081909b"
OUTPUTS = (("video/mp4", "ftrackreview-mp4", ".mp4"), ("image/jpeg", "ftrackreview-image", ".jpg"))
_PROGRESS_INTERVAL = 0.25
#: How often a running encode reads whether a client cancelled its job.
_CANCEL_CHECK_INTERVAL = 0.25


class JobRunner:
    """Runs encode jobs on a small thread pool inside the server process."""

    def __init__(
        self,
        api: "Api",
        *,
        workers: int = 1,
        encode_threads: int | None = None,
        progress_interval: float = _PROGRESS_INTERVAL,
        on_progress: Callable[[str, int], None] | None = None,
    ) -> None:
        """``on_progress(job_id, percent)`` is called from the worker after each progress write."""
        self.api = api
        self.progress_interval = progress_interval
        self.on_progress = on_progress
        self.storage = api.storage
        self.store = api.store
        self.encode_threads = encode_threads
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="encode")
        self._stop = threading.Event()
        self._active = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)

    # Called in a request's transaction ---------------------------------------------------
    def create(self, batch: "Batch", component_id: str, version_id: object, keep_original: bool) -> str:
        """Make the Job, its output components and JobComponent rows; start it after commit."""
        conn = batch.ctx.conn
        source = conn.execute('SELECT * FROM "component" WHERE "id" = ?', (component_id,)).fetchone()
        if source is None:
            raise NotFoundError(f"There is no component {component_id} to encode; commit it before calling encode_media.")
        if source["entity_type"] not in ("FileComponent", "SequenceComponent"):
            raise ValidationError(f"Component {component_id} is a {source['entity_type']}; encode a file or an image sequence.")
        self.source_paths(conn, dict(source))  # fails early when the files are not on the server
        if version_id is not None:
            if not isinstance(version_id, str) or conn.execute(
                'SELECT 1 FROM "asset_version" WHERE "id" = ?', (version_id,)
            ).fetchone() is None:
                raise NotFoundError(f"There is no AssetVersion {version_id} to attach the review media to.")
        job_id = str(uuid.uuid4())
        outputs = []
        for fmt, name, ext in OUTPUTS:
            cid = str(uuid.uuid4())
            outputs.append({"format": fmt, "component_id": cid})
            self.storage.insert(conn, "component", {
                "id": cid, "entity_type": "FileComponent", "system_type": "file", "name": name,
                "file_type": ext, "size": 0, "version_id": version_id,
            })
        data = {"output": outputs, "source_component_id": component_id, "keep_original": keep_original, "progress": 0}
        self.storage.insert(conn, "job", {
            "id": job_id, "status": "queued", "type": "api_job", "data": json.dumps(data),
            "user_id": batch.user["id"], "created_at": utcnow(),
        })
        for out in outputs:
            self.storage.insert(conn, "job_component", {"job_id": job_id, "component_id": out["component_id"]})
        batch.after_commit.append(lambda: self.submit(job_id))
        return job_id

    def name_sources(self, conn, source: dict, paths: list[str], message: str) -> str:
        """``message`` with each stored file's path (meaningless to an artist) replaced by the
        component it holds: ``'comp.mov'``, or ``frame 1001 of 'plate.exr'``."""
        label = f"'{source.get('name') or 'main'}{source.get('file_type') or ''}'"
        for path in paths:
            if path not in message:
                continue
            name = label
            if source["entity_type"] == "SequenceComponent":
                row = conn.execute('SELECT "name" FROM "component" WHERE "id" = ?', (os.path.basename(path),)).fetchone()
                name = f"frame {row[0] if row else '?'} of {label}"
            message = message.replace(path, name)
        return message

    def source_paths(self, conn, source: dict) -> list[str]:
        """Stored files of a FileComponent, or of a SequenceComponent's members in frame order."""
        if source["entity_type"] == "SequenceComponent":
            members = conn.execute('SELECT * FROM "component" WHERE "container_id" = ?', (source["id"],)).fetchall()
            if not members:
                raise ValidationError(f"The image sequence {source['id']} has no frames to encode.")

            def frame(row) -> tuple:
                try:
                    return (0, int(row["name"]), row["name"])
                except (TypeError, ValueError):
                    return (1, 0, row["name"] or "")

            rows = sorted((dict(m) for m in members), key=frame)
        else:
            rows = [source]
        paths = []
        for row in rows:
            in_server = conn.execute(
                'SELECT 1 FROM "component_location" WHERE "component_id" = ? AND "location_id" = ?',
                (row["id"], SERVER_LOCATION_ID),
            ).fetchone()
            if in_server is None or not self.store.exists(row["id"]):
                raise ValidationError(
                    f"Component {row['id']} is not stored in the ftrack.server location; upload it there before encoding."
                )
            paths.append(str(self.store.path(row["id"])))
        return paths

    # Worker side -------------------------------------------------------------------------
    def submit(self, job_id: str) -> None:
        with self._lock:
            self._active += 1
        self._pool.submit(self._guarded, job_id)

    def _guarded(self, job_id: str) -> None:
        try:
            self._run(job_id)
        except Exception as exc:  # never lose a job silently
            log.exception("encode job %s crashed", job_id)
            self._finish_failed(job_id, f"The encode stopped unexpectedly: {exc}")
        finally:
            with self._lock:
                self._active -= 1
                self._idle.notify_all()

    def _job(self, conn, job_id: str) -> tuple[dict, dict]:
        row = conn.execute('SELECT * FROM "job" WHERE "id" = ?', (job_id,)).fetchone()
        if row is None:
            raise LookupError(job_id)
        return dict(row), json.loads(row["data"] or "{}")

    def _write(self, job_id: str, **changes) -> dict:
        """Update the job's columns and merge ``data`` keys, in one transaction."""
        data_changes = changes.pop("data", {})
        with self.storage.transaction() as conn:
            row, data = self._job(conn, job_id)
            data.update(data_changes)
            changes["data"] = json.dumps(data)
            sets = ", ".join(f'"{k}" = ?' for k in changes)
            conn.execute(f'UPDATE "job" SET {sets} WHERE "id" = ?', [*changes.values(), job_id])
            entries = self._job_entries(conn, job_id, row)
        self._announce(entries, row)
        return data

    def _job_entries(self, conn, job_id: str, before: dict, *extra: dict | None) -> list[dict]:
        """The ``ftrack.update`` entries of a job change (plus ``extra`` ones), built inside
        its transaction; empty when no hub listens."""
        if self.api.events is None:
            return []
        after = conn.execute('SELECT * FROM "job" WHERE "id" = ?', (job_id,)).fetchone()
        found = update_entry(conn, "job", "update", before, dict(after) if after else None)
        return [e for e in (found, *extra) if e is not None]

    def _announce(self, entries: list[dict], job_row: dict) -> None:
        """Publish a job's ``ftrack.update`` after its transaction committed."""
        if entries and self.api.events is not None:
            self.api.events(update_event(entries, {"id": job_row.get("user_id")}))

    def _cancelled_by_client(self, job_id: str) -> bool:
        """Whether a client ended the job (ftrack has no cancel action: a client cancels an
        encode by updating its Job to ``failed``, and the encode stops at its next check)."""
        row = self.storage.connection().execute('SELECT "status" FROM "job" WHERE "id" = ?', (job_id,)).fetchone()
        return row is None or row[0] == "failed"

    def _run(self, job_id: str) -> None:
        if self._stop.is_set():
            self._finish_failed(job_id, "The server stopped before this encode started; start the encode again.")
            return
        if self._cancelled_by_client(job_id):
            self._finish_failed(job_id, None)
            return
        data = self._write(job_id, status="running", data={"progress": 0})
        conn = self.storage.connection()
        try:
            source = conn.execute('SELECT * FROM "component" WHERE "id" = ?', (data["source_component_id"],)).fetchone()
            if source is None:
                raise ValueError("The source component was deleted before the encode started.")
            sources = self.source_paths(conn, dict(source))
        except (ValueError, ValidationError) as exc:
            self._finish_failed(job_id, getattr(exc, "content", str(exc)))
            return
        try:
            from publisher.server import encoder
        except ImportError as exc:
            self._finish_failed(job_id, f"The encoder is not available on this server: {exc}")
            return
        scratch = self.store.scratch_dir()
        mp4 = os.path.join(scratch, "review.mp4")
        jpeg = os.path.join(scratch, "review.jpg")
        last = {"pct": 0, "at": 0.0}
        checked = {"at": 0.0, "cancelled": False}

        def cancelled() -> bool:
            if self._stop.is_set():
                return True
            now = time.monotonic()
            if now - checked["at"] >= _CANCEL_CHECK_INTERVAL:  # one small read a quarter second
                checked.update(at=now, cancelled=self._cancelled_by_client(job_id))
            return bool(checked["cancelled"])

        def progress(fraction: float) -> None:
            pct = max(0, min(99, int(fraction * 100)))
            now = time.monotonic()
            if pct > last["pct"] and now - last["at"] >= self.progress_interval:
                last.update(pct=pct, at=now)
                self._write(job_id, data={"progress": pct})
                if self.on_progress is not None:
                    self.on_progress(job_id, pct)

        try:
            try:
                result = encoder.encode_review(
                    sources, mp4, jpeg, threads=self.encode_threads, progress=progress, cancelled=cancelled
                )
            except encoder.EncodeError as exc:
                message: str | None = self.name_sources(conn, dict(source), sources, str(exc))
                if self._stop.is_set():
                    message = "The server stopped before this encode finished; start the encode again."
                elif self._cancelled_by_client(job_id):
                    message = None  # keep the client's reason ("cancelled by ...")
                self._finish_failed(job_id, message)
                return
            if self._cancelled_by_client(job_id):
                self._finish_failed(job_id, None)
                return
            self._finish_done(job_id, data, dict(source), mp4, jpeg, result)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _finish_done(self, job_id: str, data: dict, source: dict, mp4: str, jpeg: str, result) -> None:
        outputs = {o["format"]: o["component_id"] for o in data["output"]}
        files = {outputs["video/mp4"]: (mp4, result.video_meta), outputs["image/jpeg"]: (jpeg, result.image_meta)}
        for cid, (path, _meta) in files.items():
            self.store.adopt(cid, path)
        removed: list[str] = []
        version_entry = None
        entries: list[dict] = []
        with self.storage.transaction() as conn:
            job_before, current = self._job(conn, job_id)
            # A client cancelled the job meanwhile: write nothing (the outputs go below).
            cancelled = job_before["status"] == "failed"
            if not cancelled:
                version_id = None
                for cid, (_path, meta) in files.items():
                    comp = conn.execute('SELECT "version_id" FROM "component" WHERE "id" = ?', (cid,)).fetchone()
                    if comp is None:  # deleted meanwhile: keep the job consistent, recreate nothing
                        continue
                    version_id = comp[0]
                    conn.execute('UPDATE "component" SET "size" = ? WHERE "id" = ?', (self.store.path(cid).stat().st_size, cid))
                    conn.execute(
                        'INSERT INTO "component_location" ("id", "component_id", "location_id", "resource_identifier") VALUES (?, ?, ?, ?)',
                        (str(uuid.uuid4()), cid, SERVER_LOCATION_ID, cid),
                    )
                    conn.execute('DELETE FROM "metadata" WHERE "parent_id" = ? AND "key" = ?', (cid, "ftr_meta"))
                    conn.execute(
                        'INSERT INTO "metadata" ("parent_id", "parent_type", "key", "value") VALUES (?, ?, ?, ?)',
                        (cid, "FileComponent", "ftr_meta", json.dumps(meta)),
                    )
                if version_id is not None:
                    old = conn.execute('SELECT * FROM "asset_version" WHERE "id" = ?', (version_id,)).fetchone()
                    conn.execute('UPDATE "asset_version" SET "thumbnail_id" = ? WHERE "id" = ?', (outputs["image/jpeg"], version_id))
                    if old is not None and self.api.events is not None:
                        version_entry = update_entry(conn, "asset_version", "update", dict(old),
                                                     dict(old) | {"thumbnail_id": outputs["image/jpeg"]})
                if not current.get("keep_original", False):
                    if conn.execute('SELECT 1 FROM "component" WHERE "id" = ?', (source["id"],)).fetchone():
                        self.api._delete_tree(conn, "component", source["id"], removed)
                current["progress"] = 100
                conn.execute(
                    'UPDATE "job" SET "status" = ?, "finished_at" = ?, "data" = ? WHERE "id" = ?',
                    ("done", utcnow(), json.dumps(current), job_id),
                )
                entries = self._job_entries(conn, job_id, job_before, version_entry)
        if cancelled:
            for cid in files:
                self.store.remove(cid)
            self._finish_failed(job_id, None)
            return
        self._announce(entries, job_before)
        for cid in removed:
            self.store.remove(cid)

    def _finish_failed(self, job_id: str, message: str | None) -> None:
        """End the job as failed with ``message`` (None: keep the error a client wrote when it
        cancelled the job) and drop its empty outputs."""
        try:
            with self.storage.transaction() as conn:
                job_before, data = self._job(conn, job_id)
                if message is not None or not data.get("error"):
                    data["error"] = message or "The encode was cancelled."
                for out in data.get("output", []):
                    conn.execute('DELETE FROM "job_component" WHERE "component_id" = ?', (out["component_id"],))
                    conn.execute('DELETE FROM "component" WHERE "id" = ? AND "size" = 0', (out["component_id"],))
                conn.execute(
                    'UPDATE "job" SET "status" = ?, "finished_at" = ?, "data" = ? WHERE "id" = ?',
                    ("failed", utcnow(), json.dumps(data), job_id),
                )
                entries = self._job_entries(conn, job_id, job_before)
            self._announce(entries, job_before)
        except LookupError:
            pass

    def recover(self) -> None:
        """Jobs left queued or running by a previous server process can never finish: fail them."""
        conn = self.storage.connection()
        stale = [r[0] for r in conn.execute('SELECT "id" FROM "job" WHERE "status" IN (\'queued\', \'running\') AND "type" = \'api_job\' AND "data" LIKE \'%source_component_id%\'')]
        for job_id in stale:
            self._finish_failed(job_id, "The server stopped before this encode finished; start the encode again.")

    def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel running encodes and wait up to ``timeout`` seconds for the workers to stop."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._active and time.monotonic() < deadline:
                self._idle.wait(max(0.0, deadline - time.monotonic()))
        self._pool.shutdown(wait=False, cancel_futures=True)
