"""``Job`` behaviour: reload status and data, wait for the end with backoff, read outputs.

``JobMixin`` is mixed into the ``Job`` entity class by the session. ``data`` is a JSON string in
ftrack's documented format (``output`` list of ``format``/``component_id``,
``source_component_id``, ``keep_original``), to which the embedded server adds ``progress``
(0-100) while the job runs and ``error`` when it fails. No Qt; call from the thread that owns
the session (a poller worker uses its own cloned session).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable

from publisher.api.exceptions import FtrackError, JobFailedError
from publisher.api.mixin import EntityMixin

#: Job status values, in the order a job moves through them.
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
FINISHED = (DONE, FAILED)

#: Poll delays of :meth:`JobMixin.wait`: the first, the factor, the cap (seconds).
FIRST_DELAY, BACKOFF, MAX_DELAY = 0.5, 1.5, 5.0


class JobTimeoutError(FtrackError, TimeoutError):
    """A job did not finish within the time given to :meth:`JobMixin.wait`."""


def decode_data(raw: Any) -> dict:
    """A Job's ``data`` as a dict (empty when there is none or it is not a JSON object).

    For any code that holds a job's raw ``status`` and ``data`` rather than a ``Job`` entity
    (a poller reading query rows, for example); ``Job.payload`` uses it.
    """
    if isinstance(raw, dict):
        return raw
    if not raw or not isinstance(raw, str):
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def job_progress(status: str, payload: dict) -> int:
    """0-100 for a job with ``status`` and decoded ``data``: 100 once done, else the server's
    ``progress`` figure (0 when missing or not a number). ``Job.progress`` uses it."""
    if status == DONE:
        return 100
    try:
        return max(0, min(100, int(payload.get("progress", 0))))
    except (TypeError, ValueError):
        return 0


class JobMixin(EntityMixin):
    """Methods of ``Job`` entities."""

    def reload(self) -> "JobMixin":
        """Fetch the current ``status``, ``data`` and ``finished_at`` from the server."""
        row = self.session.query(
            f'select status, data, finished_at from Job where id is "{self["id"]}"'
        ).one()
        if row is not self:
            # The session normally hands back this same object; keep the fresh values anyway.
            for key in ("status", "data", "finished_at"):
                self._job_fresh = getattr(self, "_job_fresh", {})
                self._job_fresh[key] = row[key]
        return self

    def _fresh(self, key: str) -> Any:
        fresh = getattr(self, "_job_fresh", None)
        if fresh and key in fresh:
            return fresh[key]
        return self[key]

    # ---------------------------------------------------------------- reading
    @property
    def status(self) -> str:
        """``queued``, ``running``, ``done`` or ``failed`` (as last fetched)."""
        return str(self._fresh("status"))

    @property
    def payload(self) -> dict:
        """``data`` decoded from JSON (an empty dict when there is none or it is not JSON)."""
        return decode_data(self._fresh("data"))

    @property
    def progress(self) -> int:
        """0-100: 100 once done, else the server's ``progress`` figure."""
        return job_progress(self.status, self.payload)

    @property
    def outputs(self) -> list[dict]:
        """The ``output`` list: ``[{"format": "video/mp4", "component_id": ...}, ...]``."""
        output = self.payload.get("output") or []
        return [item for item in output if isinstance(item, dict)]

    @property
    def error(self) -> str | None:
        """Why the job failed, when it did."""
        if self.status != FAILED:
            return None
        return str(self.payload.get("error") or "the server gave no reason")

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def is_done(self) -> bool:
        return self.status == DONE

    @property
    def is_failed(self) -> bool:
        return self.status == FAILED

    # ---------------------------------------------------------------- waiting
    def wait(self, timeout: float | None = None,
             on_progress: Callable[[int, str], None] | None = None,
             cancel: threading.Event | None = None) -> "JobMixin":
        """Poll until the job is done and return it; raise :class:`JobFailedError` if it fails.

        Polls ``select status, data from Job`` with delays from 0.5 s rising to 5 s, calling
        ``on_progress(percent, status)`` after each poll. Raises :class:`JobTimeoutError` after
        ``timeout`` seconds; stops early (returning the job unfinished) when ``cancel`` is set.
        """
        start = time.monotonic()
        delay = FIRST_DELAY
        while True:
            self.reload()
            status = self.status
            if on_progress is not None:
                on_progress(self.progress, status)
            if status == DONE:
                return self
            if status == FAILED:
                raise JobFailedError(f"Job {self['id']} failed: {self.error}")
            remaining = None if timeout is None else timeout - (time.monotonic() - start)
            if remaining is not None and remaining <= 0:
                raise JobTimeoutError(
                    f"Job {self['id']} is still {status} after {timeout:g} s; wait longer or check "
                    "the server's encode workers."
                )
            pause = delay if remaining is None else min(delay, remaining)
            if cancel is not None:
                if cancel.wait(pause):
                    return self
            else:
                time.sleep(pause)
            delay = min(delay * BACKOFF, MAX_DELAY)


__all__ = [
    "BACKOFF", "DONE", "FAILED", "FINISHED", "FIRST_DELAY", "JobMixin", "JobTimeoutError", "MAX_DELAY",
    "QUEUED", "RUNNING", "decode_data", "job_progress",
]
