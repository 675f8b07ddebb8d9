"""Bad input gets a JSON error object and changes nothing: each case over real HTTP."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from server_http import Raw, create, md5_b64, ref, update


def _error(result: object, exception: str | None = None) -> dict:
    assert isinstance(result, dict), result
    assert set(result) == {"exception", "content", "error_code"}
    assert "{" not in result["content"] and "}" not in result["content"]
    if exception:
        assert result["exception"] == exception, result
    return result


def _asset_names(raw: Raw) -> set[str]:
    return {a["name"] for a in raw.query("select name from Asset")}


def test_malformed_json_body(raw: Raw) -> None:
    response = raw.post(b'[{"action": "query", "expression": ')
    assert response.status_code == 200
    assert "not valid JSON" in _error(response.json(), "ValidationError")["content"]
    strict = raw.post(b"{nope", strict=True)
    assert strict.status_code == 400
    _error(strict.json(), "ValidationError")
    _error(raw.post(b"\xff\xfe").json(), "ValidationError")
    _error(raw.call({"action": "query"}), "ValidationError")  # an object, not a list
    _error(raw.call([{"expression": "select id from Asset"}]), "ValidationError")  # no action


def test_unknown_action(raw: Raw) -> None:
    assert "Invalid action u'frobnicate'" in _error(raw.call([{"action": "frobnicate"}]))["content"]
    assert raw.post(json.dumps([{"action": "frobnicate"}]), strict=True).status_code == 400


def test_unknown_entity_type_changes_nothing(raw: Raw, fresh_asset: dict) -> None:
    name = f"never_{uuid.uuid4().hex[:8]}"
    result = raw.call([
        create("Asset", {"id": str(uuid.uuid4()), "name": name, "parent": ref("Shot", fresh_asset["shot"])}),
        create("Spaceship", {"id": str(uuid.uuid4()), "name": "x"}),
    ])
    assert "Spaceship" in _error(result, "ValidationError")["content"]
    assert name not in _asset_names(raw)
    _error(raw.call([{"action": "query", "expression": "select id from Spaceship"}]), "ValidationError")
    _error(raw.call([{"action": "delete", "entity_type": "Spaceship", "entity_key": ["x"]}]), "ValidationError")


def test_unknown_attribute(raw: Raw, fresh_asset: dict) -> None:
    name = f"never_{uuid.uuid4().hex[:8]}"
    result = raw.call([create("Asset", {"id": str(uuid.uuid4()), "name": name, "colour": "red",
                                        "parent": ref("Shot", fresh_asset["shot"])})])
    assert "colour" in _error(result, "ValidationError")["content"]
    assert name not in _asset_names(raw)
    result = raw.call([update("Asset", [fresh_asset["asset"]], {"name": "renamed", "colour": "red"})])
    _error(result, "ValidationError")
    assert raw.one(f"select name from Asset where id is {fresh_asset['asset']}")["name"] != "renamed"
    _error(raw.call([{"action": "query", "expression": "select colour from Asset"}]), "ValidationError")
    _error(raw.call([{"action": "query", "expression": "select id from Asset where colour is red"}]), "ValidationError")
    _error(raw.call([{"action": "query", "expression": "select parent.colour from Asset"}]), "ValidationError")
    _error(raw.call([{"action": "query", "expression": "select name.first from Asset"}]), "ValidationError")
    # Computed attributes are not stored values.
    _error(raw.call([{"action": "query", "expression": "select id from AssetVersion where link is x"}]), "ParseError")
    _error(raw.call([update("AssetVersion", ["x"], {"link": []})]))


@pytest.mark.parametrize("expression", [
    "select id from",
    "select id from Asset where (name is x",
    "select id from Asset where name",
    "select id from Asset where name is 'x' and",
    "select id from Asset limit many",
    'select id from Asset where name is "unterminated',
    "",
    "select id from Asset order by versions",
    "select id from Asset where versions is 3",
])
def test_malformed_query(raw: Raw, expression: str) -> None:
    result = raw.call([{"action": "query", "expression": expression}])
    assert _error(result)["exception"] in ("ParseError", "ValidationError")
    assert result["content"]


def test_non_text_expression(raw: Raw) -> None:
    _error(raw.call([{"action": "query", "expression": 42}]), "ParseError")


def test_wrong_key_gets_clear_error_and_does_nothing(raw: Raw, fresh_asset: dict) -> None:
    name = f"never_{uuid.uuid4().hex[:8]}"
    op = [create("Asset", {"id": str(uuid.uuid4()), "name": name, "parent": ref("Shot", fresh_asset["shot"])})]
    result = raw.call(op, key="not-the-key")
    assert "API key is not valid" in _error(result, "InvalidCredentialsError")["content"]
    strict = raw.post(json.dumps(op), strict=True, key="not-the-key")
    assert strict.status_code == 401
    _error(strict.json(), "InvalidCredentialsError")
    other_user = Raw(raw.url, "nobody", raw.key)
    _error(other_user.call(op), "InvalidCredentialsError")
    no_headers = requests.post(f"{raw.url}/api", data=json.dumps(op), timeout=30)
    _error(no_headers.json(), "InvalidCredentialsError")
    assert name not in _asset_names(raw)
    # File endpoints check the key too.
    thumb = raw.query("select thumbnail_id from AssetVersion limit 1")[0]["thumbnail_id"]
    for endpoint in ("get", "thumbnail", "remove"):
        response = requests.get(f"{raw.url}/component/{endpoint}",
                                params={"id": thumb, "username": raw.user, "apiKey": "wrong"}, timeout=30)
        assert response.status_code == 401
        _error(response.json(), "InvalidCredentialsError")
    still_there = requests.get(f"{raw.url}/component/get", params=raw.file_params(thumb), timeout=30)
    assert still_there.status_code == 200 and still_there.content[:2] == b"\xff\xd8"


def _metadata(raw: Raw, component: str, data: bytes) -> dict:
    return raw.ok([{"action": "get_upload_metadata", "component_id": component, "file_name": "main.bin",
                    "file_size": len(data), "checksum": md5_b64(data)}])[0]


def _stored(raw: Raw, component: str) -> bool:
    return requests.get(f"{raw.url}/component/get", params=raw.file_params(component), timeout=30).status_code == 200


def test_put_with_wrong_size_is_refused(raw: Raw) -> None:
    component, data = str(uuid.uuid4()), b"0123456789" * 100
    meta = _metadata(raw, component, data)
    headers = {k: v for k, v in meta["headers"].items() if k != "Content-Length"}
    response = requests.put(meta["url"], data=data + b"extra", headers=headers, timeout=30)
    assert response.status_code == 400
    assert "announced" in _error(response.json(), "ValidationError")["content"]
    response = requests.put(meta["url"], data=data[:10], headers=headers, timeout=30)
    assert response.status_code == 400
    assert not _stored(raw, component)
    # The right bytes still go through afterwards.
    assert requests.put(meta["url"], data=data, headers=meta["headers"], timeout=30).status_code == 200
    assert _stored(raw, component)


def test_put_with_wrong_md5_is_refused(raw: Raw) -> None:
    component, data = str(uuid.uuid4()), b"payload" * 50
    meta = _metadata(raw, component, data)
    tampered = b"PAYLOAD" + data[7:]
    response = requests.put(meta["url"], data=tampered, headers=meta["headers"], timeout=30)
    assert response.status_code == 400
    assert "MD5" in _error(response.json(), "ValidationError")["content"]
    headers = dict(meta["headers"], **{"Content-MD5": md5_b64(tampered)})
    response = requests.put(meta["url"], data=tampered, headers=headers, timeout=30)
    assert response.status_code == 400
    assert not _stored(raw, component)


def test_put_without_valid_token_is_refused(raw: Raw) -> None:
    component, data = str(uuid.uuid4()), b"abc"
    meta = _metadata(raw, component, data)
    bad_url = meta["url"].split("?")[0] + "?token=guess"
    response = requests.put(bad_url, data=data, headers=meta["headers"], timeout=30)
    assert response.status_code == 401
    _error(response.json(), "InvalidCredentialsError")
    assert not _stored(raw, component)


@pytest.mark.parametrize("bad_id", ["../../etc/passwd", "/etc/passwd", "..", "a/b", "C:\\Windows\\x"])
def test_paths_in_ids_are_refused(raw: Raw, bad_id: str) -> None:
    result = raw.call([{"action": "get_upload_metadata", "component_id": bad_id, "file_name": "x.bin",
                        "file_size": 1, "checksum": md5_b64(b"x")}])
    _error(result, "ValidationError")
    for endpoint in ("get", "thumbnail", "remove"):
        response = requests.get(f"{raw.url}/component/{endpoint}", params=raw.file_params(bad_id), timeout=30)
        assert response.status_code == 400
        _error(response.json(), "ValidationError")
    encoded = requests.utils.quote(bad_id, safe="").replace(".", "%2E")
    response = requests.put(f"{raw.url}/file/{encoded}?token=x", data=b"x", timeout=30)
    assert response.status_code in (400, 404)
    _error(response.json())
    result = raw.call([create("FileComponent", {"id": bad_id, "name": "main"})])
    _error(result, "ValidationError")


@pytest.mark.parametrize("bad_name", ["../../etc/passwd", "/etc/passwd", "..", "sub/dir.exr", "C:\\x.exr"])
def test_paths_in_names_are_refused(raw: Raw, bad_name: str) -> None:
    component = str(uuid.uuid4())
    result = raw.call([{"action": "get_upload_metadata", "component_id": component, "file_name": bad_name,
                        "file_size": 1, "checksum": md5_b64(b"x")}])
    _error(result, "ValidationError")
    result = raw.call([create("FileComponent", {"id": component, "name": bad_name})])
    _error(result, "ValidationError")
    assert raw.query(f"select id from Component where id is {component}") == []


def test_batch_failing_at_third_operation_changes_nothing(raw: Raw, fresh_asset: dict) -> None:
    asset, version = str(uuid.uuid4()), str(uuid.uuid4())
    name = f"never_{uuid.uuid4().hex[:8]}"
    result = raw.call([
        create("Asset", {"id": asset, "name": name, "parent": ref("Shot", fresh_asset["shot"])}),
        create("AssetVersion", {"id": version, "asset": ref("Asset", asset)}),
        create("AssetVersion", {"id": str(uuid.uuid4()), "asset": ref("Asset", str(uuid.uuid4()))}),
        create("AssetVersion", {"id": str(uuid.uuid4()), "asset": ref("Asset", asset)}),
    ])
    assert "Operation 3" in _error(result, "NotFoundError")["content"]
    assert name not in _asset_names(raw)
    assert raw.query(f"select id from AssetVersion where id is {version}") == []


def test_bad_values_and_keys(raw: Raw, fresh_asset: dict) -> None:
    version = str(uuid.uuid4())
    _error(raw.call([create("AssetVersion", {"id": version, "asset": ref("Asset", fresh_asset["asset"]),
                                             "version": "three"})]), "ValidationError")
    _error(raw.call([create("AssetVersion", {"id": version, "asset": ref("Asset", fresh_asset["asset"]),
                                             "date": {"__type__": "datetime", "value": "yesterday"}})]), "ValidationError")
    _error(raw.call([create("Job", {"id": str(uuid.uuid4()), "status": "exploded"})]), "ValidationError")
    _error(raw.call([update("AssetVersion", [str(uuid.uuid4())], {"comment": "x"})]), "NotFoundError")
    _error(raw.call([update("AssetVersion", "not-a-list-of-two", {"comment": "x"})]))
    _error(raw.call([{"action": "delete", "entity_type": "Metadata", "entity_key": ["only-one"]}]), "ValidationError")
    _error(raw.call([create("Context", {"id": str(uuid.uuid4()), "name": "abstract"})]), "ValidationError")
    _error(raw.call([{"action": "get_upload_metadata", "component_id": str(uuid.uuid4()), "file_name": "a.bin",
                      "file_size": -1, "checksum": md5_b64(b"")}]), "ValidationError")
    _error(raw.call([{"action": "get_upload_metadata", "component_id": str(uuid.uuid4()), "file_name": "a.bin",
                      "file_size": 1, "checksum": "not base64!"}]), "ValidationError")
    _error(raw.call([{"action": "encode_media", "component_id": str(uuid.uuid4()), "version_id": None,
                      "keep_original": False}]), "NotFoundError")
    _error(raw.call([{"action": "reset_remote", "reset_type": "password"}]), "ValidationError")
    assert raw.query(f"select id from AssetVersion where id is {version}") == []


def test_unknown_paths_and_methods_answer_json(raw: Raw) -> None:
    response = requests.get(f"{raw.url}/nothing/here", timeout=30)
    assert response.status_code == 404
    _error(response.json(), "NotFoundError")
    response = requests.get(f"{raw.url}/api", timeout=30)
    assert response.status_code == 200 or response.status_code == 405
    _error(response.json())


def test_builtin_locations_and_own_user_cannot_be_deleted(raw: Raw) -> None:
    server = "3a372bde-05bc-11e4-8908-20c9d081909b"
    _error(raw.call([{"action": "delete", "entity_type": "Location", "entity_key": [server]}]), "ValidationError")
    assert raw.query(f"select id from Location where id is {server}")
    me = raw.one(f'select id from User where username is "{raw.user}"')
    _error(raw.call([{"action": "delete", "entity_type": "User", "entity_key": [me["id"]]}]), "ValidationError")
