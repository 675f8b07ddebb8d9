"""The happy path of every ``POST /api`` action, over real HTTP against the embedded server."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid

import requests
from server_http import Raw, create, md5_b64, ref, update

from publisher.server import demo

SERVER_LOCATION = "3a372bde-05bc-11e4-8908-20c9d081909b"
BUILTIN_LOCATIONS = {
    "ftrack.origin": "ce9b348f-8809-11e3-821c-20c9d081909b",
    "ftrack.unmanaged": "cb268ecc-8809-11e3-a7e2-20c9d081909b",
    "ftrack.review": "cd41be70-8809-11e3-b98a-20c9d081909b",
    "ftrack.server": SERVER_LOCATION,
}


def test_server_information_and_schemas(raw: Raw) -> None:
    info, schemas = raw.ok([{"action": "query_server_information"}, {"action": "query_schemas"}])
    assert info["version"] == "4.13.8"
    assert info["storage_scenario"] == {"scenario": "ftrack.automatic", "data": {}}
    assert info["schema_hash"] == hashlib.md5(json.dumps(schemas, sort_keys=True).encode()).hexdigest()
    by_id = {s["id"]: s for s in schemas}
    for name in ["Project", "Folder", "Sequence", "Shot", "Task", "Context", "TypedContext", "Asset", "AssetType",
                 "AssetVersion", "Component", "FileComponent", "ContainerComponent", "SequenceComponent",
                 "ComponentLocation", "Location", "Job", "JobComponent", "User", "Status", "State", "Type",
                 "ObjectType", "Priority", "ProjectSchema", "Note", "Metadata"]:
        assert name in by_id, name
    version = by_id["AssetVersion"]["properties"]
    assert version["version"]["type"] == "integer"
    assert version["asset"]["$ref"] == "Asset"
    assert version["components"]["items"]["$ref"] == "Component"
    assert by_id["JobComponent"]["primary_key"] == ["component_id", "job_id"]
    assert by_id["Job"]["properties"]["status"]["default"] == "queued"


def test_builtin_locations_have_ftrack_ids(raw: Raw) -> None:
    rows = raw.query("select name from Location")
    assert {r["name"]: r["id"] for r in rows if r["name"] in BUILTIN_LOCATIONS} == BUILTIN_LOCATIONS


def test_demo_project_tree_and_links(raw: Raw) -> None:
    project = raw.one('select full_name, name from Project where name is "lighthouse"')
    assert project["full_name"] == "Demo: Lighthouse"
    task = raw.one('select link, parent.name, parent.parent.name, project.name, type.name, status.name '
                   'from Task where name is Lighting and parent.name is sh010')
    assert [item["name"] for item in task["link"]] == ["lighthouse", "sq010", "sh010", "Lighting"]
    assert [item["type"] for item in task["link"]] == ["Project", "TypedContext", "TypedContext", "TypedContext"]
    assert task["parent"]["__entity_type__"] == "Shot"
    assert task["parent"]["parent"] == {"__entity_type__": "Sequence", "id": task["parent"]["parent"]["id"], "name": "sq010"}
    assert task["project"]["name"] == "lighthouse"
    assert task["type"]["name"] == "Lighting"
    # Other tests publish to the same shots: look at the demo's own versions only.
    demo_ids = [demo.uid("version", "sh010", asset, str(n)) for asset, _t, _task, vs in demo.ASSETS
                for n in range(1, len(vs) + 1)]
    versions = raw.query("select version, status.name, user.username, thumbnail_id, asset.name "
                         f"from AssetVersion where asset.parent.name is sh010 and id in ({', '.join(demo_ids)}) "
                         "order by asset.name, version")
    assert len(versions) == len(demo_ids) >= 3
    assert all(v["thumbnail_id"] for v in versions)
    assert len({v["user"]["username"] for v in versions}) >= 2
    assert {v["status"]["name"] for v in versions} >= {"Approved", "Revise"}


def test_polymorphic_queries_return_concrete_types(raw: Raw) -> None:
    contexts = raw.query("select name from Context")
    assert {"Project", "Sequence", "Shot", "Task"} <= {c["__entity_type__"] for c in contexts}
    typed = raw.query("select name from TypedContext")
    assert "Project" not in {c["__entity_type__"] for c in typed}
    shots = raw.query("select name from Shot")
    assert {s["__entity_type__"] for s in shots} == {"Shot"}
    components = raw.query("select name, system_type from Component")
    concrete = {"file": "FileComponent", "sequence": "SequenceComponent"}
    assert components and all(c["__entity_type__"] == concrete[c["system_type"]] for c in components)
    assert {c["__entity_type__"] for c in components} == set(concrete.values())


def test_where_operators(raw: Raw, fresh_asset: dict) -> None:
    asset = fresh_asset["asset"]
    raw.ok([create("AssetVersion", {"id": str(uuid.uuid4()), "asset": ref("Asset", asset), "comment": f"take {n}"})
            for n in range(1, 6)])

    def versions(where: str) -> list[int]:
        rows = raw.query(f"select version from AssetVersion where asset_id is {asset} and ({where}) order by version")
        return [r["version"] for r in rows]

    assert versions("version is 2") == [2]
    assert versions("version = 2") == [2]
    assert versions("version is_not 2") == [1, 3, 4, 5]
    assert versions("version != 2") == [1, 3, 4, 5]
    assert versions("version > 3") == [4, 5]
    assert versions("version >= 3") == [3, 4, 5]
    assert versions("version < 2") == [1]
    assert versions("version <= 2") == [1, 2]
    assert versions("version in (1,3)") == [1, 3]
    assert versions("version not_in (1, 3)") == [2, 4, 5]
    assert versions("version in ()") == []
    assert versions('comment like "%3"') == [3]
    assert versions('comment not_like "%3"') == [1, 2, 4, 5]
    assert versions("not version > 1") == [1]
    assert versions("version is 1 or version is 5") == [1, 5]
    assert versions("(version is 1 or version is 5) and comment like \"take%\"") == [1, 5]
    assert versions('asset has (name like "test_%")') == [1, 2, 3, 4, 5]
    assert versions('asset.parent.name is "sh020"') == [1, 2, 3, 4, 5]
    assert versions("thumbnail_id is none") == [1, 2, 3, 4, 5]
    assert versions("is_published is true") == [1, 2, 3, 4, 5]
    assert versions('status.name is "Not started"') == [1, 2, 3, 4, 5]
    assert versions("is_latest_version is true") == [5]
    assert versions('date after "2000-01-01T00:00:00"') == [1, 2, 3, 4, 5]
    # Collections: any, and a dotted path through a collection.
    shots = raw.query(f'select name from Shot where assets any (id is "{asset}")')
    assert [s["id"] for s in shots] == [fresh_asset["shot"]]
    shots = raw.query(f'select name from Shot where assets.id is "{asset}"')
    assert [s["id"] for s in shots] == [fresh_asset["shot"]]
    # The composite-key form the stock client sends: no space before "and".
    assert raw.query(f'select id from AssetVersion where (asset_id is "{asset}"and version is 4)')[0]["id"]


def test_order_offset_limit_and_paging(raw: Raw, fresh_asset: dict) -> None:
    asset = fresh_asset["asset"]
    raw.ok([create("AssetVersion", {"id": str(uuid.uuid4()), "asset": ref("Asset", asset)}) for _ in range(5)])
    base = f"select version from AssetVersion where asset_id is {asset} order by version descending"
    page1 = raw.ok([{"action": "query", "expression": base + " offset 0 limit 2"}])[0]
    assert [r["version"] for r in page1["data"]] == [5, 4]
    assert page1["metadata"]["next"]["offset"] == 2
    page3 = raw.ok([{"action": "query", "expression": base + " offset 4 limit 2"}])[0]
    assert [r["version"] for r in page3["data"]] == [1]
    assert page3["metadata"]["next"]["offset"] is None
    exact = raw.ok([{"action": "query", "expression": base + " offset 3 limit 2"}])[0]
    assert [r["version"] for r in exact["data"]] == [2, 1]
    assert exact["metadata"]["next"]["offset"] is None
    assert raw.query(base + " limit 0") == []


def test_create_update_delete_and_server_defaults(raw: Raw, fresh_asset: dict) -> None:
    asset, task = fresh_asset["asset"], fresh_asset["task"]
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    results = raw.ok([
        create("AssetVersion", {"id": first, "asset": ref("Asset", asset), "task": ref("Task", task)}),
        create("AssetVersion", {"id": second, "asset_id": asset, "comment": "second"}),
    ])
    assert results[0]["action"] == "create"
    assert results[0]["data"]["__entity_type__"] == "AssetVersion" and results[0]["data"]["id"] == first
    assert results[0]["data"]["version"] == 1 and results[1]["data"]["version"] == 2
    row = raw.one(f"select version, status.name, date, user.username, is_published, comment, task_id, link "
                  f"from AssetVersion where id is {first}")
    assert row["status"]["name"] == "Not started"
    assert row["date"]["__type__"] == "datetime" and len(row["date"]["value"]) == 19
    assert row["user"]["username"] == raw.user
    assert row["is_published"] is True and row["comment"] == ""
    assert row["task_id"] == task
    assert row["link"][-1] == {"id": first, "name": row["link"][-1]["name"], "type": "AssetVersion"}
    assert [item["name"] for item in row["link"][:-1]] == ["lighthouse", "sq010", "sh020"]

    updated = raw.ok([update("AssetVersion", [first], {
        "comment": "reviewed", "date": {"__type__": "datetime", "value": "2026-03-01T10:00:00+01:00"},
    })])[0]
    assert updated["action"] == "update" and updated["data"]["comment"] == "reviewed"
    row = raw.one(f"select comment, date from AssetVersion where id is {first}")
    assert row["date"]["value"] == "2026-03-01T09:00:00"

    component = str(uuid.uuid4())
    created = raw.ok([create("FileComponent", {"id": component, "name": "main", "version": ref("AssetVersion", first),
                                               "file_type": ".exr", "size": 12})])[0]["data"]
    assert created["system_type"] == "file" and created["__entity_type__"] == "FileComponent"
    assert raw.ok([{"action": "delete", "entity_type": "AssetVersion", "entity_key": [first]}])[0]["data"] is True
    assert raw.query(f"select id from AssetVersion where id is {first}") == []
    assert raw.query(f"select id from Component where id is {component}") == []


def test_batch_references_sequences_and_metadata(raw: Raw, fresh_asset: dict) -> None:
    version, seq = str(uuid.uuid4()), str(uuid.uuid4())
    members = [str(uuid.uuid4()) for _ in range(3)]
    ops = [
        create("AssetVersion", {"id": version, "asset": ref("Asset", fresh_asset["asset"])}),
        create("SequenceComponent", {"id": seq, "name": "plate", "padding": 4, "file_type": ".exr",
                                     "version": ref("AssetVersion", version)}),
    ]
    for n, member in enumerate(members):
        ops.append(create("FileComponent", {"id": member, "name": str(1001 + n), "container": ref("SequenceComponent", seq)}))
    ops.append(update("SequenceComponent", [seq], {"members": [ref("FileComponent", m) for m in members]}))
    ops.append({"action": "create", "entity_type": "Metadata", "entity_key": [seq, "fps"],
                "entity_data": {"__entity_type__": "Metadata", "parent_id": seq, "key": "fps",
                                "parent_type": "SequenceComponent", "value": "24"}})
    ops.append(update("SequenceComponent", [seq], {"metadata": [{"__entity_type__": "Metadata", "parent_id": seq, "key": "fps"}]}))
    ops.append(create("ComponentLocation", {"id": str(uuid.uuid4()), "component": ref("SequenceComponent", seq),
                                            "location": ref("Location", SERVER_LOCATION), "resource_identifier": seq}))
    results = raw.ok(ops)
    assert len(results) == len(ops)
    row = raw.one(f"select system_type, padding, members.name, metadata.value, component_locations.location_id, "
                  f"version.asset.name from SequenceComponent where id is {seq}")
    assert row["system_type"] == "sequence" and row["padding"] == 4
    assert [m["name"] for m in row["members"]] == ["1001", "1002", "1003"]
    assert row["metadata"] == [{"__entity_type__": "Metadata", "parent_id": seq, "key": "fps", "value": "24"}]
    assert row["component_locations"][0]["location_id"] == SERVER_LOCATION
    assert row["version"]["asset"]["name"].startswith("test_")
    # Set membership: a shorter members list drops the others from the container.
    raw.ok([update("SequenceComponent", [seq], {"members": [ref("FileComponent", members[0])]})])
    row = raw.one(f"select members from SequenceComponent where id is {seq}")
    assert [m["id"] for m in row["members"]] == [members[0]]


def test_concurrent_version_creates_get_unique_numbers(embedded_server, fresh_asset: dict) -> None:
    raws = [Raw(embedded_server.url, embedded_server.api_user, embedded_server.api_key) for _ in range(8)]
    numbers: list[int] = []
    errors: list[object] = []

    def worker(client: Raw) -> None:
        for _ in range(3):
            result = client.call([create("AssetVersion", {"id": str(uuid.uuid4()), "asset": ref("Asset", fresh_asset["asset"])})])
            if isinstance(result, list):
                numbers.append(result[0]["data"]["version"])
            else:
                errors.append(result)

    threads = [threading.Thread(target=worker, args=(c,)) for c in raws]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(numbers) == list(range(1, 25))


def test_upload_download_thumbnail_remove(raw: Raw, tmp_path) -> None:
    from server_media import write_jpeg

    component = str(uuid.uuid4())
    data = write_jpeg(tmp_path / "t.jpg", (200, 100)).read_bytes()
    meta = raw.ok([{"action": "get_upload_metadata", "component_id": component, "file_name": "thumb.jpg",
                    "file_size": len(data), "checksum": md5_b64(data)}])[0]
    assert meta["component_id"] == component and meta["url"].startswith(raw.url + "/file/")
    assert meta["headers"]["Content-MD5"]
    put = requests.put(meta["url"], data=data, headers=meta["headers"], timeout=30)
    assert put.status_code == 200, put.text
    got = requests.get(f"{raw.url}/component/get", params=raw.file_params(component), timeout=30)
    assert got.status_code == 200 and got.content == data
    small = requests.get(f"{raw.url}/component/thumbnail", params=raw.file_params(component, size=50), timeout=30)
    assert small.status_code == 200 and small.headers["Content-Type"] == "image/jpeg"
    from io import BytesIO

    from PIL import Image

    assert max(Image.open(BytesIO(small.content)).size) == 50
    full = requests.get(f"{raw.url}/component/thumbnail", params=raw.file_params(component), timeout=30)
    assert full.content == data
    removed = requests.get(f"{raw.url}/component/remove", params=raw.file_params(component), timeout=30)
    assert removed.status_code == 200 and removed.json()["removed"] is True
    gone = requests.get(f"{raw.url}/component/get", params=raw.file_params(component), timeout=30)
    assert gone.status_code == 404 and gone.json()["exception"] == "NotFoundError"


def test_notes_jobs_users_and_reference_types(raw: Raw, fresh_asset: dict) -> None:
    note = str(uuid.uuid4())
    raw.ok([create("Note", {"id": note, "content": "Looks good", "parent_id": fresh_asset["asset"], "parent_type": "Asset"})])
    assert raw.one(f"select content, user_id, date from Note where id is {note}")["content"] == "Looks good"
    job = str(uuid.uuid4())
    raw.ok([create("Job", {"id": job, "data": json.dumps({"description": "api job"}), "status": "running"})])
    raw.ok([update("Job", [job], {"status": "done"})])
    assert raw.one(f"select status, type, created_at from Job where id is {job}")["status"] == "done"
    assert raw.one(f'select first_name from User where username is "{raw.user}"')["first_name"] == "Demo"
    assert {s["name"] for s in raw.query("select name, state.short from Status")} >= {"Not started", "Approved"}
    assert raw.query("select name from ObjectType where name is Shot")
    assert raw.query("select name from Priority")
    assert raw.query("select name from Type where name is Compositing")
    assert raw.query("select name from ProjectSchema")
    assert raw.query("select name, short from AssetType where short is comp")


def test_client_text_never_becomes_sql(raw: Raw, fresh_asset: dict) -> None:
    asset = fresh_asset["asset"]
    tricky = "x\" or 1=1 --'; DROP TABLE asset; --"
    raw.ok([update("Asset", [asset], {"name": tricky})])
    found = raw.query('select name from Asset where name is "x\\" or 1=1 --\'; DROP TABLE asset; --"')
    assert [a["id"] for a in found] == [asset]
    assert found[0]["name"] == tricky
    assert raw.query("select id from Asset where name is \"' or '1'='1\"") == []
    assert len(raw.query("select id from Asset")) > 1  # the table is still there


def test_empty_any_and_typed_context_relations(raw: Raw, fresh_asset: dict) -> None:
    asset = fresh_asset["asset"]
    without = raw.query(f"select id from Asset where id is {asset} and not versions any ()")
    assert [a["id"] for a in without] == [asset]
    raw.ok([create("AssetVersion", {"id": str(uuid.uuid4()), "asset": ref("Asset", asset)})])
    assert raw.query(f"select id from Asset where id is {asset} and not versions any ()") == []
    shots = raw.query("select name, object_type.name from TypedContext where object_type.name is Shot")
    assert shots and {s["__entity_type__"] for s in shots} == {"Shot"}
    assert all(s["object_type"]["name"] == "Shot" for s in shots)
    children = raw.query(f'select children.name, ancestors.name, descendants.name from Shot where id is {fresh_asset["shot"]}')
    assert {c["name"] for c in children[0]["children"]} >= {"Compositing", "Lighting", "Animation"}
    assert [a["name"] for a in children[0]["ancestors"]] == ["sq010"]
    latest = raw.one(f"select latest_version.version from Asset where id is {asset}")
    assert latest["latest_version"]["version"] == 1


def test_strict_api_uses_http_status(raw: Raw) -> None:
    response = raw.post(json.dumps([{"action": "update", "entity_type": "Asset", "entity_key": [str(uuid.uuid4())],
                                     "entity_data": {"__entity_type__": "Asset", "name": "x"}}]), strict=True)
    assert response.status_code == 404 and response.json()["exception"] == "NotFoundError"
    response = raw.post(json.dumps([{"action": "query", "expression": "select id from"}]), strict=True)
    assert response.status_code == 400 and response.json()["exception"] == "ParseError"
    ok = raw.post(json.dumps([{"action": "query", "expression": "select id from Location"}]), strict=True)
    assert ok.status_code == 200 and isinstance(ok.json(), list)


def test_reference_condition_on_a_polymorphic_target(raw: Raw) -> None:
    # project.name goes through the context table, which holds several types: the type filter's
    # parameters must bind after the comparison's.
    tasks = raw.query('select name, project.name from Task where project.name is "lighthouse"')
    assert tasks and {t["project"]["name"] for t in tasks} == {"lighthouse"}
    shots = raw.query('select name from Shot where project.name is "lighthouse" and parent.name is sq010')
    assert {s["name"] for s in shots} >= {"sh010"}
    assert raw.query('select name from Task where project.name is "no such project"') == []
