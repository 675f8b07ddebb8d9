"""The outbox as the resume journal of multipart uploads (:class:`publisher.api.multipart.UploadJournal`).

Each component's step record in the outbox entry keeps, under ``uploads``, one record per file
being sent in parts: ``{component_id: {upload_id, file_size, mtime_ns, part_size, parts,
e_tags: {part_number: e_tag}}}``. Saved (atomically, like every outbox write) after each part
the server acknowledged, so a publish resumed after a crash sends only the missing parts. No Qt;
called from the transfer's part threads.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from publisher.publish.outbox import Outbox, OutboxEntry


class OutboxUploadJournal:
    """The ``uploads`` of one component step of one outbox entry."""

    def __init__(self, outbox: "Outbox", entry: "OutboxEntry", step: dict) -> None:
        self._outbox = outbox
        self._entry = entry
        self._step = step
        self._lock = threading.Lock()

    def load(self, component_id: str) -> dict | None:
        with self._lock:
            record = (self._step.get("uploads") or {}).get(component_id)
            return dict(record) if record else None

    def save(self, component_id: str, record: dict | None) -> None:
        with self._lock:
            uploads = self._step.setdefault("uploads", {})
            if record is None:
                uploads.pop(component_id, None)
            else:
                uploads[component_id] = record
            self._outbox.save(self._entry)
