"""Open the window at a context named from outside: ftrack Actions' launch (through the event
hub), or ``FTRACK_CONTEXTID`` when Connect or a DCC starts the publisher.

:func:`show_context` is the one entry point: ``entity_type`` is ftrack's legacy lower-case name
(``task`` for any context, ``assetversion`` for a version; ``show`` for a project) or the
schema's (``Task``, ``AssetVersion``). GUI thread only; the lookups run in a worker.
"""

from __future__ import annotations

from typing import Any

from publisher.publish import browse
from publisher.publish.errors import PublishError
from publisher.ui import controller_tasks as tasks
from publisher.ui import roles
from publisher.ui.workers import Worker

VERSION_TYPES = {"assetversion", "AssetVersion"}


def locate(session: Any, entity_type: str, entity_id: str) -> tuple[list, str | None, str | None]:
    """Worker body: the tree levels down to the context to show, its id, and the version to
    select (for a version: its task, else its asset's context)."""
    version_id = None
    context_id = entity_id
    if entity_type in VERSION_TYPES:
        details = browse.version_details(session, entity_id)
        version_id = details.row.id
        context_id = details.row.task_id or details.row.context_id
    levels, found = tasks.restore(session, context_id)
    if found != context_id:
        raise PublishError(f"The {entity_type} {entity_id} is not a context this publisher can show.")
    return levels, found, version_id


def show_context(controller: Any, entity_type: str, entity_id: str) -> None:
    """Select the context ``entity_id`` (or a version's context, then the version) in the
    window of ``controller``; an error goes to its banner."""

    def shown(result: tuple[list, str | None, str | None]) -> None:
        levels, context_id, version_id = result
        for parent_id, rows in levels:
            controller.context_model.set_children(parent_id, rows)
        index = controller.context_model.index_for_id(context_id)
        row = controller.context_model.data(index, roles.ROW) if index.isValid() else None
        if row is None:
            return
        if version_id:
            # The window selects the remembered version when the first page arrives.
            controller.version_id = version_id
        controller.contextRestored.emit(context_id)
        controller.select_context(row, force=True)

    worker = Worker(locate, entity_type, entity_id, session=controller.session)
    controller.workers.start(worker, on_result=shown, on_error=controller.errorRaised.emit)
