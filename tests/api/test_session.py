"""Session against a real embedded server: start-up, schema cache, create/commit/rollback,
delete, get, populate, call, clone, close, and the operations sent on the wire."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from publisher.api import (
    NOT_SET,
    ConfigurationError,
    Entity,
    FtrackError,
    ServerError,
    Session,
    UnrecognisedEntityTypeError,
)
from publisher.api.schema import cache_file, schema_hash

from .conftest import make_asset


#: The ``session`` fixture caches schemas in a folder of each test's own.
CACHE_SCHEMAS = True


def recorded_operations(path: Path) -> list[list[dict]]:
    """The operation lists a ``--record`` server received for POST /api, in order."""
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [line["operations"] for line in lines if line.get("path") == "/api"]


# Start-up -------------------------------------------------------------------------------------

def test_reads_server_and_credentials_from_environment(embedded_server, tmp_path, monkeypatch):
    monkeypatch.setenv("FTRACK_SERVER", embedded_server.url)
    monkeypatch.setenv("FTRACK_API_USER", embedded_server.api_user)
    monkeypatch.setenv("FTRACK_API_KEY", embedded_server.api_key)
    with Session(schema_cache_path=False) as s:
        assert s.server_url == embedded_server.url.rstrip("/")
        assert s.api_user == embedded_server.api_user
        assert s.api_key == embedded_server.api_key
        assert s.timeout == 60
        assert "version" in s.server_information
        assert "AssetVersion" in s.types
        assert s.query("Status").first() is not None


def test_missing_server_url_says_which_setting(monkeypatch):
    monkeypatch.delenv("FTRACK_SERVER", raising=False)
    with pytest.raises(ConfigurationError, match="FTRACK_SERVER"):
        Session(api_user="u", api_key="k")


def test_missing_api_key_says_which_setting(monkeypatch, embedded_server):
    monkeypatch.delenv("FTRACK_API_KEY", raising=False)
    monkeypatch.delenv("FTRACK_APIKEY", raising=False)
    with pytest.raises(ConfigurationError, match="FTRACK_API_KEY"):
        Session(embedded_server.url, "demo")


def test_server_url_without_scheme_is_refused(monkeypatch):
    with pytest.raises(ConfigurationError, match="scheme"):
        Session("localhost:8080", "demo", "key")


def test_schema_cache_makes_second_start_one_request(embedded_server, tmp_path):
    cache = tmp_path / "cache"
    first = Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key,
                    schema_cache_path=cache)
    assert first.request_count == 2  # server information + schemas
    hash_ = first.server_information["schema_hash"]
    assert schema_hash(first.schemas) == hash_
    assert cache_file(cache, hash_).is_file()
    second = Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key,
                     schema_cache_path=cache)
    assert second.request_count == 1
    assert second.schemas == first.schemas
    first.close()
    second.close()


def test_corrupt_schema_cache_is_ignored_and_rewritten(embedded_server, tmp_path):
    cache = tmp_path / "cache"
    with Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key,
                 schema_cache_path=cache) as s:
        path = cache_file(cache, s.server_information["schema_hash"])
    path.write_text("[{\"id\": \"Broken\"")
    with Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key,
                 schema_cache_path=cache) as s:
        assert s.request_count == 2
        assert "AssetVersion" in s.types
    assert json.loads(path.read_text())  # rewritten, valid again


def test_schema_cache_disabled_writes_nothing(embedded_server, tmp_path, monkeypatch):
    monkeypatch.setenv("FTRACK_API_SCHEMA_CACHE_PATH", str(tmp_path / "env-cache"))
    with Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key,
                 schema_cache_path=False) as s:
        assert s.request_count == 2
    assert not (tmp_path / "env-cache").exists()


def test_entity_classes_are_built_from_schemas(session):
    for schema in session.schemas:
        cls = session.types[schema["id"]]
        assert issubclass(cls, Entity)
        assert cls.entity_type == schema["id"]
        assert cls.primary_key_attributes == schema["primary_key"]
    metadata = session.types["Metadata"]
    assert metadata.primary_key_attributes == ["parent_id", "key"]


# Create, commit, rollback, delete ----------------------------------------------------------------

def test_create_commit_and_read_back_from_another_session(session):
    asset = make_asset(session)
    version = session.create("AssetVersion", {"asset": asset, "comment": "first cut"})
    assert version["id"] and version["is_published"] is True  # schema defaults
    before = session.request_count
    session.commit()
    assert session.request_count == before + 1
    assert not version.is_new and version.local_values() == {}
    with session.clone() as other:
        fetched = other.get("AssetVersion", version["id"])
        assert fetched is not version
        assert fetched["comment"] == "first cut"
        assert fetched["asset"]["id"] == asset["id"]
        assert fetched["asset"]["name"] == "plate"
        assert isinstance(fetched["version"], int)  # filled in by the server, fetched lazily


def test_commit_sends_one_ordered_batch_without_redundant_updates(server_factory, tmp_path):
    record = tmp_path / "record.jsonl"
    server = server_factory(extra_args=["--record", str(record)])
    s = Session(server.url, server.api_user, server.api_key, schema_cache_path=False)
    asset = make_asset(s)
    version = s.create("AssetVersion", {"asset": asset})
    version["comment"] = "one"
    version["comment"] = "two"  # only the last value is sent, folded into the create
    throwaway = s.create("AssetType", {"name": "gone", "short": "gone"})
    s.delete(throwaway)  # created and deleted in the same batch: never sent
    s.commit()
    batches = recorded_operations(record)
    commit = batches[-1]
    actions = [(op["action"], op["entity_type"]) for op in commit]
    assert actions == [("create", "Project"), ("create", "AssetType"), ("create", "Asset"),
                       ("create", "AssetVersion")]
    created = commit[-1]
    assert created["entity_key"] == [version["id"]]
    data = created["entity_data"]
    assert data["__entity_type__"] == "AssetVersion"
    assert data["comment"] == "two"
    assert data["asset"] == {"__entity_type__": "Asset", "id": asset["id"]}
    assert data["id"] == version["id"] and data["is_published"] is True
    assert all("gone" not in json.dumps(op) for op in commit)
    s.close()


def test_commit_optimisations_on_the_wire(session):
    """Superseded updates are dropped except inside the create they follow; updates of an
    entity deleted in the same batch are not sent; payloads left empty are dropped."""
    sent = []
    session.http.hooks["response"].append(lambda r, *a, **k: sent.append(json.loads(r.request.body)))
    status = session.query("Status").first()
    doomed = session.create("AssetType", {"name": "doomed", "short": "d" + uuid.uuid4().hex[:6]})
    session.commit()
    asset_type = session.create("AssetType", {"name": "a", "short": "a" + uuid.uuid4().hex[:6]})
    asset_type["name"] = "b"  # folded into the create
    other = session.create("AssetType", {"name": "x", "short": "x" + uuid.uuid4().hex[:6]})
    asset_type["name"] = "c"  # the final value, sent as an update after the other create
    doomed["name"] = "renamed"  # pointless: deleted below
    session.delete(doomed)
    status["name"] = status["name"]  # same value again: still an update
    del status["name"]  # undone: nothing to send
    session.commit()
    commit = sent[-1]
    assert [(op["action"], op["entity_type"]) for op in commit] == [
        ("create", "AssetType"), ("create", "AssetType"), ("update", "AssetType"), ("delete", "AssetType")]
    assert commit[0]["entity_key"] == [asset_type["id"]] and commit[0]["entity_data"]["name"] == "b"
    assert commit[1]["entity_key"] == [other["id"]]
    assert commit[2]["entity_data"] == {"__entity_type__": "AssetType", "name": "c"}
    assert commit[3] == {"action": "delete", "entity_type": "AssetType", "entity_key": [doomed["id"]]}
    with session.clone() as check:
        assert check.get("AssetType", asset_type["id"])["name"] == "c"
        assert check.get("AssetType", doomed["id"]) is None


def test_update_of_unchanged_entity_sends_nothing_when_undone(session):
    asset = make_asset(session)
    session.commit()
    asset["name"] = "changed"
    del asset["name"]  # undo
    before = session.request_count
    session.commit()
    assert session.request_count == before  # nothing left to send
    assert asset["name"] == "plate"


def test_rollback_forgets_new_entities_and_edits(session):
    asset = make_asset(session)
    session.commit()
    asset["name"] = "renamed"
    version = session.create("AssetVersion", {"asset": asset})
    before = session.request_count
    session.rollback()
    assert session.pending_operations == 0
    assert asset["name"] == "plate"
    session.commit()
    assert session.request_count == before
    with session.clone() as other:
        assert other.get("AssetVersion", version["id"]) is None
        assert other.get("Asset", asset["id"])["name"] == "plate"


def test_delete_removes_entity_on_server(session):
    asset = make_asset(session)
    session.commit()
    asset_type = asset["type"]
    session.delete(asset)
    session.commit()
    with session.clone() as other:
        assert other.get("Asset", asset["id"]) is None
        assert other.get("AssetType", asset_type["id"]) is not None


def test_failed_commit_keeps_edits_and_commits_nothing(session):
    asset = make_asset(session)
    good = session.create("AssetVersion", {"asset": asset, "comment": "good"})
    # Metadata without a parent that exists: the server refuses the batch.
    session.create("Metadata", {"parent_id": str(uuid.uuid4()), "parent_type": "Nothing",
                                "key": "k", "value": "v"})
    bad_version = session.create("AssetVersion", {"asset": asset})
    bad_version["status_id"] = "not-a-status"
    with pytest.raises(ServerError) as caught:
        session.commit()
    assert caught.value.exception_name
    assert session.pending_operations > 0  # nothing lost locally
    with session.clone() as other:
        assert other.get("AssetVersion", good["id"]) is None  # all or nothing
    session.rollback()


def test_one_object_per_type_and_primary_key(session):
    asset = make_asset(session)
    session.commit()
    assert session.get("Asset", asset["id"]) is asset  # from the session, no request
    with session.clone() as other:
        first = other.query(f'Asset where id is "{asset["id"]}"').one()
        again = other.get("Asset", asset["id"])
        listed = [a for a in other.query("select name from Asset") if a["id"] == asset["id"]]
        assert first is again is listed[0]


def test_create_with_existing_identity_is_refused(session):
    status = session.query("Status").first()
    with pytest.raises(FtrackError, match="already has"):
        session.create("Status", {"id": status["id"], "name": "dup"})


def test_get_unknown_id_returns_none_and_unknown_type_raises(session):
    assert session.get("AssetVersion", str(uuid.uuid4())) is None
    with pytest.raises(UnrecognisedEntityTypeError, match="AssetVersoin"):
        session.get("AssetVersoin", "x")
    with pytest.raises(ValueError, match="primary key"):
        session.get("Metadata", "only-one-part")


def test_populate_fetches_many_entities_in_one_request(session):
    asset = make_asset(session)
    versions = [session.create("AssetVersion", {"asset": asset, "comment": f"c{i}"}) for i in range(12)]
    session.commit()
    with session.clone() as other:
        fresh = [other.get("AssetVersion", v["id"]) for v in versions]
        assert all(v._raw("comment") is NOT_SET for v in fresh)
        before = other.request_count
        other.populate(fresh, "comment, version, asset.name")
        assert other.request_count == before + 1
        assert [v["comment"] for v in fresh] == [f"c{i}" for i in range(12)]
        assert sorted(v["version"] for v in fresh) == list(range(1, 13))
        assert fresh[0]["asset"]["name"] == "plate"
        assert other.request_count == before + 1  # everything came in that one request


def test_commit_merges_the_server_answer(session):
    """Values the server fills in (the version number) come back with the commit."""
    asset = make_asset(session)
    first = session.create("AssetVersion", {"asset": asset})
    second = session.create("AssetVersion", {"asset": asset})
    session.commit()
    before = session.request_count
    assert (first["version"], second["version"]) == (1, 2)
    assert session.request_count == before


def test_populate_large_lists_in_batches(session, monkeypatch):
    from publisher.api import session as session_module

    asset = make_asset(session)
    for i in range(12):
        session.create("AssetVersion", {"asset": asset, "comment": str(i)})
    session.commit()
    monkeypatch.setattr(session_module, "POPULATE_BATCH", 5)
    with session.clone() as other:
        fresh = other.query(f'AssetVersion where asset_id is "{asset["id"]}"').all()
        assert len(fresh) == 12
        before = other.request_count
        other.populate(fresh, ["comment"])
        assert other.request_count == before + 3  # 5 + 5 + 2
        assert sorted(int(v["comment"]) for v in fresh) == list(range(12))
        assert other.request_count == before + 3


def test_lazy_fetch_expressions(session):
    asset = make_asset(session)
    session.commit()
    asset["metadata"]["k"] = "v"
    session.commit()
    sent = []
    with session.clone() as other:
        other.http.hooks["response"].append(lambda r, *a, **k: sent.append(json.loads(r.request.body)[0]))
        copy = other.get("Asset", asset["id"])
        copy["name"]
        item = other.types["Metadata"](other, {"parent_id": asset["id"], "key": "k"}, reconstructing=True)
        other._identity_map[item.identity] = item
        assert item["value"] == "v"
        copy["type"]
    expressions = [op["expression"] for op in sent]
    assert expressions[1] == f'select name from Asset where id is "{asset["id"]}" offset 0 limit 1'
    assert expressions[2] == (f'select value from Metadata where (parent_id is "{asset["id"]}" and key is "k") '
                              "offset 0 limit 1")
    type_projections = ", ".join(f"type.{p}" for p in other.types["AssetType"].default_projections)
    assert expressions[3].startswith(f"select {type_projections} from Asset where id is")


def test_populate_composite_primary_key(session):
    asset = make_asset(session)
    session.commit()
    asset["metadata"]["a"] = "1"
    asset["metadata"]["b"] = "2"
    session.commit()
    with session.clone() as other:
        items = [other.get("Metadata", [asset["id"], k]) for k in ("a", "b")]
        assert all(item is not None for item in items)
        for item in items:
            item._remote.pop("value", None)
        before = other.request_count
        other.populate(items, "value")
        assert other.request_count == before + 1
        assert [i["value"] for i in items] == ["1", "2"]


def test_reset_forgets_entities_and_edits(session):
    asset = make_asset(session)
    session.commit()
    asset["name"] = "edited"
    session.reset()
    assert session.pending_operations == 0
    again = session.get("Asset", asset["id"])
    assert again is not asset and again["name"] == "plate"
    assert session.get("Asset", asset["id"]) is again


def test_call_sends_raw_operations_and_decodes_entities(session):
    results = session.call([{"action": "query", "expression": "select name from Status limit 1"}])
    assert results[0]["action"] == "query"
    status = results[0]["data"][0]
    assert isinstance(status, Entity) and status.entity_type == "Status"
    assert session.get("Status", status["id"]) is status


def test_clone_makes_no_request_and_is_independent(session):
    before = session.request_count
    other = session.clone()
    assert other.request_count == 0 and session.request_count == before
    assert other.types is session.types
    assert other.http is not session.http
    asset = make_asset(other)
    assert session.pending_operations == 0 and other.pending_operations > 0
    assert asset.session is other and session.get("Asset", asset["id"]) is None
    other.rollback()
    other.close()


def test_clones_work_in_parallel_threads(session):
    import threading

    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            with session.clone() as mine:
                results[n] = sorted(s["name"] for s in mine.query("select name from Status", page_size=3))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    mine = sorted(s["name"] for s in session.query("select name from Status"))
    for thread in threads:
        thread.join(60)
    assert not errors
    assert all(results[n] == mine for n in range(4))


def test_request_count_includes_other_requests_on_http(session):
    before = session.request_count
    session.http.get(f"{session.server_url}/component/get", params={"id": "nothing"}, timeout=10)
    assert session.request_count == before + 1
    session.count_request(2)
    assert session.request_count == before + 3


def test_close_is_idempotent_and_closed_session_refuses_work(embedded_server):
    s = Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key,
                schema_cache_path=False)
    s.close()
    s.close()
    assert s.closed
    with pytest.raises(FtrackError, match="closed"):
        s.query("Status").first()


def test_entity_reference(session):
    status = session.query("Status").first()
    assert session.entity_reference(status) == {"__entity_type__": "Status", "id": status["id"]}
    meta = session.types["Metadata"](session, {"parent_id": "p", "key": "k"}, reconstructing=True)
    assert session.entity_reference(meta) == {"__entity_type__": "Metadata", "parent_id": "p", "key": "k"}


def test_wire_headers_and_body(server_factory, tmp_path):
    """Requests carry the ftrack headers and a sorted-keys JSON body; the http session holds no
    credentials (so uploads to other hosts do not leak them)."""
    server = server_factory()
    s = Session(server.url, server.api_user, server.api_key, schema_cache_path=False)
    seen = []
    s.http.hooks["response"].append(lambda r, *a, **k: seen.append(r.request))
    s.query("Status").first()
    request = seen[-1]
    assert request.url == server.url.rstrip("/") + "/api"
    assert request.headers["ftrack-user"] == server.api_user
    assert request.headers["ftrack-api-key"] == server.api_key
    assert request.headers["ftrack-strict-api"] == "false"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.body)
    projections = ", ".join(s.types["Status"].default_projections)
    assert body == [{"action": "query", "expression": f"select {projections} from Status limit 1"}]
    assert request.body == json.dumps(body, sort_keys=True).encode()
    assert "ftrack-api-key" not in s.http.headers
    s.close()


def test_recorded_operations_are_typed_and_compacted_into_payloads(session):
    from publisher.api import CreateEntityOperation, DeleteEntityOperation, UpdateEntityOperation

    kept = session.create("FileComponent", {"name": "a"})
    kept["name"] = "b"
    kept["name"] = "c"
    dropped = session.create("FileComponent", {"name": "gone"})
    session.delete(dropped)
    operations = list(session.recorded_operations)
    assert [type(op) for op in operations] == [CreateEntityOperation, UpdateEntityOperation, UpdateEntityOperation,
                                               CreateEntityOperation, DeleteEntityOperation]
    assert operations[0].entity is kept and operations[0].entity_data["name"] == "a"
    assert (operations[2].attribute_name, operations[2].new_value) == ("name", "c")
    payloads = session.recorded_operations.payloads()
    assert [(p["action"], p["entity_key"]) for p in payloads] == [("create", [kept["id"]])]
    assert payloads[0]["entity_data"]["name"] == "c"
    session.rollback()
    assert len(session.recorded_operations) == 0 and session.identity_map.get(kept.identity) is None
