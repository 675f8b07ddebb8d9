"""What the window takes from the event hub's events, as data: which versions and jobs an
``ftrack.update`` touched, and the publisher's answer to ftrack Actions (discover and launch).

Plain functions over event mappings; no Qt, callable from any thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from publisher.api.job import decode_data

#: The identifier of the publisher's action in ftrack Actions.
ACTION_IDENTIFIER = "ftrack-publisher.publish"
ACTION_LABEL = "Publish with ftrack publisher"
#: Selections the action is offered for (ftrack's legacy entity type names).
ACTION_ENTITY_TYPES = ("task", "assetversion")


@dataclass(frozen=True)
class VersionChange:
    """A version was created, changed or removed (``removed``), or one of its components was."""

    version_id: str
    removed: bool = False


@dataclass(frozen=True)
class JobChange:
    """A Job changed: its new ``status`` and decoded ``data`` when the event carries them."""

    job_id: str
    status: str | None = None
    payload: dict | None = None


def _new(entry: Mapping[str, Any], key: str) -> Any:
    change = (entry.get("changes") or {}).get(key)
    return change.get("new") if isinstance(change, Mapping) else None


def changes_of(event: Mapping[str, Any]) -> list[VersionChange | JobChange]:
    """The version and job changes an ``ftrack.update`` event announces, each once, in order."""
    data = event.get("data")
    entities = data.get("entities") if isinstance(data, Mapping) else None
    found: dict[tuple, VersionChange | JobChange] = {}
    for entry in entities if isinstance(entities, list) else []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("entityId"), str):
            continue
        kind, entity_id, action = entry.get("entityType"), entry["entityId"], entry.get("action")
        if kind == "assetversion":
            key = ("version", entity_id)
            removed = action == "remove"
            # A removal wins over an earlier change of the same version in the batch.
            if key not in found or removed:
                found[key] = VersionChange(entity_id, removed)
        elif kind == "job":
            status = _new(entry, "status")
            raw = _new(entry, "data")
            payload = decode_data(raw) if raw is not None else None
            found[("job", entity_id)] = JobChange(entity_id, status if isinstance(status, str) else None, payload)
        else:
            # A component (or anything else) under a version changes what the row shows.
            for parent in entry.get("parents") or []:
                if isinstance(parent, Mapping) and parent.get("entityType") == "assetversion" \
                        and isinstance(parent.get("entityId"), str) and parent["entityId"] != entity_id:
                    found.setdefault(("version", parent["entityId"]), VersionChange(parent["entityId"]))
                    break
    return list(found.values())


def _selection(event: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    data = event.get("data")
    if not isinstance(data, Mapping):
        return []
    selection = data.get("selection")
    if selection is None and isinstance(data.get("context"), Mapping):
        selection = data["context"].get("selection")  # the older form of a discover event
    return [s for s in selection if isinstance(s, Mapping)] if isinstance(selection, list) else []


def discover_reply(event: Mapping[str, Any]) -> dict | None:
    """The reply to ``ftrack.action.discover``: the publisher's action for one selected task or
    version; None (no reply) for other selections."""
    selection = _selection(event)
    if len(selection) != 1 or selection[0].get("entityType") not in ACTION_ENTITY_TYPES:
        return None
    return {"items": [{
        "label": ACTION_LABEL,
        "actionIdentifier": ACTION_IDENTIFIER,
        "description": "Open the publisher at this task or version",
        "variant": "",
    }]}


def launch_target(event: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(entity_type, entity_id)`` that an ``ftrack.action.launch`` of the publisher's action
    asks to open; None when the launch is for another action or has no usable selection."""
    data = event.get("data")
    if not isinstance(data, Mapping) or data.get("actionIdentifier") != ACTION_IDENTIFIER:
        return None
    selection = _selection(event)
    if len(selection) != 1:
        return None
    kind, entity_id = selection[0].get("entityType"), selection[0].get("entityId")
    if kind not in ACTION_ENTITY_TYPES or not isinstance(entity_id, str) or not entity_id:
        return None
    return kind, entity_id
