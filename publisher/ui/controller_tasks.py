"""What the controller's workers run: plain functions on a cloned session, in a pool thread.

Each takes the worker's own ``session`` clone first (see :class:`publisher.ui.workers.Worker`)
and returns plain Python data for the GUI thread (or raises: the exception crosses as it is). Nothing here touches a widget or a model.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from publisher.publish import browse, runner, staging
from publisher.publish.events import BytesProgress
from publisher.publish.new_version_place import new_version_place
from publisher.publish.outbox import belongs_to
from publisher.ui.workers import Worker


def load_children(session: Any, parent_id: str | None) -> tuple[str | None, list[Any]]:
    if parent_id is None:
        return None, browse.list_projects(session)
    return parent_id, browse.list_children(session, parent_id)


def load_first_page(session: Any, context_id: str, text_filter: str, limit: int, generation: int,
                     order: tuple[str, bool] = ("date", True), context_type: str = "") -> tuple[int, int, list[Any]]:
    total = browse.count_versions(session, context_id, text_filter, context_type)
    rows = browse.list_versions(session, context_id, offset=0, limit=limit, text_filter=text_filter,
                                order_by=order[0], descending=order[1], context_type=context_type) if total else []
    return generation, total, rows


def load_page(session: Any, context_id: str, offset: int, limit: int, text_filter: str,
               generation: int, order: tuple[str, bool] = ("date", True),
               context_type: str = "") -> tuple[int, int, list[Any]]:
    rows = browse.list_versions(session, context_id, offset=offset, limit=limit, text_filter=text_filter,
                                order_by=order[0], descending=order[1], context_type=context_type)
    return generation, offset, rows


def load_details(session: Any, version_id: str) -> Any:
    return browse.version_details(session, version_id)


def shot_range(session: Any, version_id: str | None, context_id: str | None) -> Any:
    """The ``ShotRange`` of the shot a target version (or new version's context) is in, or None."""
    from publisher.publish import frame_range

    if version_id is not None:
        context_id = frame_range.version_context_id(session, version_id)
    return frame_range.shot_range_for_context(session, context_id) if context_id else None


def stage(_session: Any, paths: list[str], existing: set[str]) -> Any:
    return staging.stage_paths(paths, existing)


def restore(session: Any, context_id: str | None) -> tuple[list[tuple[str | None, list[Any]]], str | None]:
    """Load the tree down to ``context_id`` (or to a demo task that has versions)."""
    levels: list[tuple[str | None, list[Any]]] = [(None, browse.list_projects(session))]
    path: list[Any] = []
    if context_id:
        try:
            path = browse.context_path(session, context_id)
        except Exception:  # the remembered context was deleted: fall back to a default
            path = []
    if not path:
        path = _default_path(session, levels[0][1])
    for node in path[:-1]:
        levels.append((node.id, browse.list_children(session, node.id)))
    return levels, (path[-1].id if path else None)


def _default_path(session: Any, projects: list[Any], budget: int = 40) -> list[Any]:
    """The first task (depth first) of the first project that has versions; else the project."""
    if not projects:
        return []
    project = projects[0]
    calls = 0

    def walk(node: Any, trail: list[Any]) -> list[Any] | None:
        nonlocal calls
        if calls >= budget:
            return None
        if node.entity_type == "Task":
            calls += 1
            return trail if browse.count_versions(session, node.id) else None
        if not node.has_children:
            return None
        calls += 1
        for child in browse.list_children(session, node.id):
            found = walk(child, trail + [child])
            if found:
                return found
        return None

    return walk(project, [project]) or [project]


def new_version_lists(session: Any, context_id: str) -> tuple[list[tuple[str, str]], Any]:
    """The asset types, and the :class:`NewVersionPlace` of a new version dropped on ``context_id``."""
    return browse.list_asset_types(session), new_version_place(session, context_id)


def context_names(session: Any, context_id: str) -> tuple[str, tuple[str, ...]]:
    """``context_id`` and the names from the project down to it."""
    return context_id, tuple(row.name for row in browse.context_path(session, context_id))


#: At most this many byte-progress updates per second reach the GUI thread.
PROGRESS_RATE = 20


def _throttled(worker: Worker) -> Any:
    """An ``on_event`` for the engine that passes a few byte-progress events a second on."""
    lock = threading.Lock()
    last = [0.0]

    def on_event(event: Any) -> None:
        # Transfers report every chunk, from several threads: pass on a few a second so the
        # GUI thread's queue never floods, but always the last one of a component.
        if isinstance(event, BytesProgress) and event.done < event.total:
            now = time.monotonic()
            with lock:
                if now - last[0] < 1.0 / PROGRESS_RATE:
                    return
                last[0] = now
        worker.report(event)

    return on_event


@dataclass(frozen=True)
class OutboxEntryStarted:
    """The publish was written to the outbox as ``entry_id`` (reported by the publish worker)."""

    entry_id: str


def publish(session: Any, request: Any, *, worker: Worker, outbox: Any = None,
             entry_id: str | None = None, cancel: Any = None, server_key: str = "", label: str = "") -> Any:
    """Run (or, with ``entry_id``, retry) a publish through the engine, reporting its events.

    ``cancel`` (a ``threading.Event``) is the engine's cancel: it stops the transfers and
    removes what the publish created. The worker's own cancel only drops its reports. A failure
    reaches the GUI thread as the exception itself (the worker's ``errored`` signal).
    """
    on_event = _throttled(worker)
    cancel = cancel if cancel is not None else worker.cancel_event
    if outbox is not None:
        if entry_id is not None:
            return runner.retry(session, outbox, entry_id, on_event=on_event, cancel=cancel)
        entry = outbox.add(request, server_url=str(session.server_url), api_user=str(session.api_user or ""),
                           server_key=server_key, label=label)
        worker.report(OutboxEntryStarted(entry.id))
        return runner.run_publish(session, request, on_event=on_event, cancel=cancel,
                                  outbox=outbox, entry=entry)
    # No outbox: a failed publish is rolled back, so a retry runs the whole request again.
    return runner.run_publish(session, request, on_event=on_event, cancel=cancel)


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (where the embedded server runs, on a new port each run)."""
    return (urlsplit(url).hostname or "").lower() in ("127.0.0.1", "localhost", "::1")


def unfinished_entries(_session: Any, outbox: Any, server_url: str, api_user: str,
                       server_key: str = "") -> tuple[list[Any], list[Any], list[Any], str]:
    """The outbox entries this window should resume, the unfinished ones made for another server
    or user (shown as waiting, never run here), this server's finished ones (the Activity's
    history after a restart, newest last, at most :data:`PAST_SHOWN`), and the outbox's problems
    as text."""
    own, others, past = [], [], []
    for entry in outbox.entries():
        if entry.finished:
            if belongs_to(entry, server_url, api_user, server_key):
                past.append(entry)
        elif not belongs_to(entry, server_url, api_user, server_key):
            others.append(entry)
        elif not outbox.is_busy(entry.id):
            own.append(entry)
    return own, others, past[-PAST_SHOWN:], outbox.problem_text()


#: How many finished publishes of the outbox the Activity shows after a restart.
PAST_SHOWN = 50


def review_meta(_session: Any, path: str) -> Any:
    """The ``ftr_meta`` of review media ``path`` (PyAV / Pillow read the file)."""
    from publisher.publish.review_media import read_meta

    return read_meta(path)


def name_made(_session: Any, outbox: Any, entry_id: str, made: str) -> None:
    """Record in outbox entry ``entry_id`` the name of the version it made."""
    outbox.name_made(entry_id, made)


def refresh_version(session: Any, version_id: str) -> Any:
    return browse.version_details(session, version_id)
