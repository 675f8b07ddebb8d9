"""What the window reads from hub events: version and job changes, the Actions answers."""

from __future__ import annotations

import json

from publisher.ui.live_events import (
    ACTION_IDENTIFIER, ACTION_LABEL, JobChange, VersionChange, changes_of, discover_reply, launch_target,
)


def _entry(kind: str, entity_id: str, action: str = "update", changes: dict | None = None, parents: list | None = None) -> dict:
    return {"entityType": kind, "entityId": entity_id, "action": action, "keys": list(changes or {}),
            "changes": changes or {}, "parents": parents or []}


def test_versions_components_and_jobs_are_read_once_each() -> None:
    event = {"topic": "ftrack.update", "data": {"entities": [
        _entry("assetversion", "v1", "add"),
        _entry("component", "c1", "add", parents=[{"entityType": "component", "entityId": "c1"},
                                                   {"entityType": "assetversion", "entityId": "v1"}]),
        _entry("component", "c2", "add", parents=[{"entityType": "assetversion", "entityId": "v2"}]),
        _entry("assetversion", "v3", "update", {"statusid": {"old": "a", "new": "b"}}),
        _entry("assetversion", "v3", "remove"),
        _entry("job", "j1", "update", {"status": {"old": "queued", "new": "running"},
                                       "data": {"old": "{}", "new": json.dumps({"progress": 40})}}),
        _entry("job", "j2", "update", {"finishedat": {"old": None, "new": "x"}}),
        _entry("show", "p1", "update"),
        {"entityType": "assetversion"},  # no id: ignored
        "garbage",
    ]}}
    assert changes_of(event) == [
        VersionChange("v1"), VersionChange("v2"), VersionChange("v3", removed=True),
        JobChange("j1", "running", {"progress": 40}), JobChange("j2"),
    ]


def test_events_without_entities_give_nothing() -> None:
    assert changes_of({"topic": "ftrack.update"}) == []
    assert changes_of({"topic": "ftrack.update", "data": "text"}) == []
    assert changes_of({"topic": "ftrack.update", "data": {"entities": {"not": "a list"}}}) == []


def test_discover_offers_the_action_for_one_task_or_version() -> None:
    for kind in ("task", "assetversion"):
        reply = discover_reply({"data": {"selection": [{"entityType": kind, "entityId": "x"}]}})
        assert reply["items"][0]["label"] == ACTION_LABEL
        assert reply["items"][0]["actionIdentifier"] == ACTION_IDENTIFIER
    older_form = {"data": {"context": {"selection": [{"entityType": "task", "entityId": "x"}]}}}
    assert discover_reply(older_form) is not None
    assert discover_reply({"data": {"selection": [{"entityType": "show", "entityId": "x"}]}}) is None
    assert discover_reply({"data": {"selection": [{"entityType": "task", "entityId": "a"},
                                                  {"entityType": "task", "entityId": "b"}]}}) is None
    assert discover_reply({"data": None}) is None


def test_launch_names_the_context_only_for_our_action() -> None:
    selection = [{"entityType": "assetversion", "entityId": "v9"}]
    assert launch_target({"data": {"actionIdentifier": ACTION_IDENTIFIER, "selection": selection}}) == ("assetversion", "v9")
    assert launch_target({"data": {"actionIdentifier": "someone-else", "selection": selection}}) is None
    assert launch_target({"data": {"actionIdentifier": ACTION_IDENTIFIER, "selection": []}}) is None
    assert launch_target({"data": {"actionIdentifier": ACTION_IDENTIFIER,
                                   "selection": [{"entityType": "task", "entityId": ""}]}}) is None
