"""Custom attributes, timers, workflows, widgets and the ``ftrack-tests`` fixture set, over raw
HTTP: what ftrack's own API test suite relies on (``tests/compat`` runs that suite)."""

from __future__ import annotations

import uuid

import pytest
import requests
from server_http import Raw, create, ref, update

from publisher.server import demo, fixtures

SHOT_TYPE = "bad911de-3bd6-47b9-8b46-3476e237cb36"
FSTART = "acd86546-4082-11e2-95b1-0019bb4983d8"
SHOT_FPS = "d25907a0-acb5-11e1-8668-f23c91df1211"


def _new_shot(raw: Raw) -> str:
    shot_id = str(uuid.uuid4())
    raw.ok([create("Shot", {"id": shot_id, "name": f"ca_{shot_id[:8]}",
                            "parent": ref("Sequence", demo.uid("Sequence", "sq010"))})])
    return shot_id


def test_a_new_shot_holds_every_shot_attribute_at_its_default(raw):
    shot_id = _new_shot(raw)
    shot = raw.one(f'select custom_attributes from Shot where id is "{shot_id}"')
    values = {v["key"]: v["value"] for v in shot["custom_attributes"]}
    assert values == {"fstart": 1, "fend": 1, "handles": 0, "fps": 25}
    assert all(v["__entity_type__"] == "ContextCustomAttributeValue" and v["entity_id"] == shot_id
               for v in shot["custom_attributes"])


def test_values_are_updated_typed_and_found_by_queries(raw):
    shot_id = _new_shot(raw)
    raw.ok([update("ContextCustomAttributeValue", [FSTART, shot_id], {"value": 1001})])
    raw.ok([update("ContextCustomAttributeValue", [SHOT_FPS, shot_id], {"value": 23.976})])
    shot = raw.one(f'select custom_attributes from Shot where id is "{shot_id}"')
    values = {v["key"]: v["value"] for v in shot["custom_attributes"]}
    assert values["fstart"] == 1001 and values["fps"] == 23.976
    assert [s["id"] for s in raw.query(
        f'Shot where id is "{shot_id}" and custom_attributes any (key is fstart and value is 1001)')] == [shot_id]
    assert raw.query(f'Shot where id is "{shot_id}" and custom_attributes any (key is fstart and value is 1002)') == []
    found = raw.query(f'CustomAttributeValue where configuration.key is fstart and entity_id is "{shot_id}"')
    assert [(v["configuration_id"], v["entity_id"]) for v in found] == [(FSTART, shot_id)]


def test_a_value_of_any_json_type_comes_back_as_written(raw):
    config_id = str(uuid.uuid4())
    raw.ok([create("CustomAttributeConfiguration", {
        "id": config_id, "key": f"tags_{config_id[:6]}", "entity_type": "task", "object_type_id": SHOT_TYPE,
        "type_id": "6268aef0-381c-11e0-acff-0019bb49847a", "default": ["a", "b"], "config": "{}"})])
    shot_id = _new_shot(raw)
    value = raw.one(f'select value from ContextCustomAttributeValue where configuration_id is "{config_id}" '
                    f'and entity_id is "{shot_id}"')
    assert value["value"] == ["a", "b"]
    raw.ok([update("ContextCustomAttributeValue", [config_id, shot_id], {"value": {"nested": [1, True, None]}})])
    value = raw.one(f'select value from ContextCustomAttributeValue where configuration_id is "{config_id}" '
                    f'and entity_id is "{shot_id}"')
    assert value["value"] == {"nested": [1, True, None]}


def test_a_configuration_without_key_is_refused_and_values_go_with_their_entity(raw):
    result = raw.call([create("CustomAttributeConfiguration", {"id": str(uuid.uuid4()), "entity_type": "task"})])
    assert result["exception"] == "ValidationError" and "'key'" in result["content"]
    shot_id = _new_shot(raw)
    raw.ok([{"action": "delete", "entity_type": "Shot", "entity_key": [shot_id]}])
    assert raw.query(f'CustomAttributeValue where entity_id is "{shot_id}"') == []


def test_a_second_timer_is_a_duplicate_entry(raw):
    user_id = str(uuid.uuid4())
    raw.ok([create("User", {"id": user_id, "username": f"timer_{user_id[:8]}"})])
    raw.ok([create("Timer", {"id": str(uuid.uuid4()), "user_id": user_id})])
    again = raw.call([create("Timer", {"id": str(uuid.uuid4()), "user_id": user_id})])
    assert "DuplicateEntryError" in again["content"]
    timer = raw.one(f'select start, comment from Timer where user_id is "{user_id}"')
    assert timer["start"]["__type__"] == "datetime" and timer["comment"] == ""


def test_project_schema_workflows(raw):
    schema = raw.one('select _task_workflow.statuses.name, _version_workflow.statuses.name, '
                     '_task_type_schema.types.name, _schemas.type_id, _schemas.statuses.task_status.name '
                     'from ProjectSchema where name is "VFX"')
    assert schema["_task_workflow"]["statuses"][0]["name"] == "Not started"
    assert "Approved" in [s["name"] for s in schema["_version_workflow"]["statuses"]]
    assert "Compositing" in [t["name"] for t in schema["_task_type_schema"]["types"]]
    shot_schema = next(s for s in schema["_schemas"] if s["type_id"] == SHOT_TYPE)
    assert [s["task_status"]["name"] for s in shot_schema["statuses"]][:2] == ["Not started", "In progress"]


def test_widget_urls_open_a_page(raw):
    answer = raw.ok([{"action": "get_widget_url", "name": "info", "theme": "light",
                      "entity_type": "Shot", "entity_key": [demo.uid("Shot", "sh010")]}])[0]
    page = requests.get(answer["widget_url"], timeout=30)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert demo.uid("Shot", "sh010") in page.text
    bad = raw.call([{"action": "get_widget_url", "name": "nope"}])
    assert bad["exception"] == "ValidationError" and "info, tasks, tasks_browser" in bad["content"]


def test_an_update_answers_with_the_reference_it_set(raw, fresh_asset):
    other = str(uuid.uuid4())
    raw.ok([create("Asset", {"id": other, "name": f"test_{other[:8]}", "parent": ref("Shot", fresh_asset["shot"])})])
    version = str(uuid.uuid4())
    raw.ok([create("AssetVersion", {"id": version, "asset": ref("Asset", fresh_asset["asset"])})])
    answer = raw.ok([update("AssetVersion", [version], {"asset": ref("Asset", other)})])[0]["data"]
    assert answer["asset"] == {"__entity_type__": "Asset", "id": other}
    # Attributes without a value (this version has no task) are left out, as ftrack does.
    assert "task_id" not in answer and None not in answer.values()


@pytest.fixture(scope="module")
def fixture_server(tmp_path_factory):
    from publisher.embedded import EmbeddedServer

    server = EmbeddedServer(tmp_path_factory.mktemp("fixtures"), extra_args=["--fixtures", "ftrack-tests"])
    server.start()
    yield server
    server.stop()


def test_the_ftrack_tests_fixtures_are_there_by_their_ids(fixture_server):
    assert fixture_server.api_user == "jenkins"
    raw = Raw(fixture_server.url, fixture_server.api_user, fixture_server.api_key)
    assert raw.one(f'select username from User where id is "{fixtures.JENKINS_ID}"')["username"] == "jenkins"
    assert len(raw.query("select id from User")) >= 10
    project = raw.one(f'select name, project_schema.name from Project where id is "{fixtures.TEST_PROJECT_ID}"')
    assert project["project_schema"]["name"] == "VFX Scheme"
    task = raw.one(f'select custom_attributes from Task where id is "{fixtures.TEST_TASK_ID}"')
    assert {v["key"]: v["value"] for v in task["custom_attributes"]} == {"customNumber": 7}
    schema = raw.one(f'select _task_workflow.statuses.name from ProjectSchema where id is "{fixtures.VFX_SCHEME_ID}"')
    assert [s["name"] for s in schema["_task_workflow"]["statuses"]] == [
        "Not started", "In progress", "Awaiting approval", "Approved"]
    # The server's own user administers the others: it may reset their keys.
    other = raw.one('select id from User where username is "ada"')
    key = raw.ok([{"action": "reset_remote", "reset_type": "api_key", "entity_type": "User",
                   "entity_key": [other["id"]]}])[0]["data"]["api_key"]
    assert Raw(fixture_server.url, "ada", key).query("select id from Scope") == []
    # ...another user may not reset the server user's key.
    refused = Raw(fixture_server.url, "ada", key).call([{"action": "reset_remote", "reset_type": "api_key",
                                                         "entity_type": "User", "entity_key": [fixtures.JENKINS_ID]}])
    assert refused["exception"] == "ValidationError"


def test_an_unknown_fixture_set_is_a_usage_error(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "publisher", "server", "--data-dir", str(tmp_path / "d"),
                           "--fixtures", "studio"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "ftrack-tests" in proc.stderr
