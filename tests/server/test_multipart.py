"""ftrack's multipart upload protocol on the embedded server, over real HTTP with a bare client."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from server_http import Raw, create

from publisher.embedded import EmbeddedServer

SERVER_LOCATION_ID = "3a372bde-05bc-11e4-8908-20c9d081909b"


def _component(raw: Raw, component_id: str, size: int) -> dict:
    return create("FileComponent", {"id": component_id, "name": "main", "file_type": ".bin", "size": size})


def _metadata(component_id: str, size: int, parts: int | None, **extra) -> dict:
    return {"action": "get_upload_metadata", "component_id": component_id, "file_name": "main.bin",
            "file_size": size, "parts": parts, **extra}


def _complete(component_id: str, upload_id: str, parts: list[dict]) -> dict:
    return {"action": "complete_multipart_upload", "upload_id": upload_id, "component_id": component_id,
            "parts": parts}


def _location(component_id: str) -> dict:
    return create("ComponentLocation", {"id": str(uuid.uuid4()), "component_id": component_id,
                                        "resource_identifier": component_id, "location_id": SERVER_LOCATION_ID})


def _put(url: str, data: bytes) -> requests.Response:
    # No API headers: the signed URL alone is the permission.
    return requests.put(url, data=data, timeout=60)


def _slices(data: bytes, part_size: int) -> dict[int, bytes]:
    return {n + 1: data[n * part_size:(n + 1) * part_size] for n in range(-(-len(data) // part_size))}


def _open(raw: Raw, data: bytes, parts: int) -> tuple[str, dict]:
    component_id = str(uuid.uuid4())
    answer = raw.ok([_component(raw, component_id, len(data)), _metadata(component_id, len(data), parts)])[1]
    return component_id, answer


def _stored(raw: Raw, component_id: str) -> requests.Response:
    return requests.get(f"{raw.url}/component/get", params=raw.file_params(component_id), timeout=60)


def test_wire_exchange_parallel_out_of_order_parts(raw: Raw) -> None:
    data = os.urandom(3 * 1000 + 17)
    component_id = str(uuid.uuid4())
    created, answer = raw.ok([_component(raw, component_id, len(data)), _metadata(component_id, len(data), 4)])
    assert created["action"] == "create"
    assert {"component_id", "upload_id", "urls"} <= set(answer)
    assert answer["component_id"] == component_id
    assert [u["part_number"] for u in answer["urls"]] == [1, 2, 3, 4]
    assert all(set(u) == {"signed_url", "part_number"} for u in answer["urls"])
    part_size = answer["part_size"]
    assert part_size == 755  # the even split of 3017 bytes into 4 parts (the last has 752)
    pieces = _slices(data, part_size)
    urls = {u["part_number"]: u["signed_url"] for u in answer["urls"]}
    order = [4, 2, 3, 1]
    with ThreadPoolExecutor(4) as pool:
        answers = dict(zip(order, pool.map(lambda n: _put(urls[n], pieces[n]), order)))
    for number, response in answers.items():
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == f'"{hashlib.md5(pieces[number]).hexdigest()}"'
    parts = [{"part_number": n, "e_tag": answers[n].headers["ETag"].strip('"')} for n in (1, 2, 3, 4)]
    done = raw.ok([_complete(component_id, answer["upload_id"], parts), _location(component_id)])
    assert done[0]["size"] == len(data) and done[1]["action"] == "create"
    assert _stored(raw, component_id).content == data


def test_ftrack_chunk_rule_gives_its_part_size(raw: Raw) -> None:
    size = 17 * 1024 * 1024
    component_id = str(uuid.uuid4())
    answer = raw.ok([_metadata(component_id, size, 3)])[0]
    assert answer["part_size"] == 8 * 1024 * 1024 and len(answer["urls"]) == 3
    requests.post(f"{raw.url}/component/remove", params=raw.file_params(component_id), timeout=30)


def test_parts_null_answers_the_single_part_shape(raw: Raw) -> None:
    data = b"single part"
    component_id = str(uuid.uuid4())
    answer = raw.ok([_metadata(component_id, len(data), None)])[0]
    assert "url" in answer and "headers" in answer and "upload_id" not in answer
    assert requests.put(answer["url"], data=data, headers=answer["headers"], timeout=30).status_code == 200


def _send_all(data: bytes, answer: dict) -> list[dict]:
    pieces = _slices(data, answer["part_size"])
    parts = []
    for url in answer["urls"]:
        response = _put(url["signed_url"], pieces[url["part_number"]])
        assert response.status_code == 200, response.text
        parts.append({"part_number": url["part_number"], "e_tag": response.headers["ETag"].strip('"')})
    return parts


def _refused(raw: Raw, operations: list[dict]) -> dict:
    result = raw.call(operations)
    assert isinstance(result, dict) and result.get("exception"), result
    return result


def test_wrong_etag_or_missing_part_is_refused_with_nothing_stored(raw: Raw) -> None:
    data = os.urandom(3000)
    component_id, answer = _open(raw, data, 3)
    parts = _send_all(data, answer)
    wrong = [dict(p, e_tag="0" * 32) if p["part_number"] == 2 else p for p in parts]
    error = _refused(raw, [_complete(component_id, answer["upload_id"], wrong), _location(component_id)])
    assert "parts 2" in error["content"] and "ETag" in error["content"]
    error = _refused(raw, [_complete(component_id, answer["upload_id"], parts[:2]), _location(component_id)])
    assert "3" in error["content"] and "missing" in error["content"]
    assert _stored(raw, component_id).status_code == 404
    assert raw.query(f"select id from ComponentLocation where component_id is {component_id}") == []
    # Nothing was lost either: the right list still completes the upload.
    raw.ok([_complete(component_id, answer["upload_id"], parts), _location(component_id)])
    assert _stored(raw, component_id).content == data


def test_a_part_never_sent_is_refused(raw: Raw) -> None:
    data = os.urandom(3000)
    component_id, answer = _open(raw, data, 3)
    pieces = _slices(data, answer["part_size"])
    first = _put(answer["urls"][0]["signed_url"], pieces[1])
    claimed = [{"part_number": 1, "e_tag": first.headers["ETag"].strip('"')},
               {"part_number": 2, "e_tag": hashlib.md5(pieces[2]).hexdigest()},
               {"part_number": 3, "e_tag": hashlib.md5(pieces[3]).hexdigest()}]
    error = _refused(raw, [_complete(component_id, answer["upload_id"], claimed), _location(component_id)])
    assert "never received" in error["content"]
    assert _stored(raw, component_id).status_code == 404


def test_tampered_url_or_wrong_length_is_refused(raw: Raw) -> None:
    data = os.urandom(2000)
    _component_id, answer = _open(raw, data, 2)
    url = answer["urls"][0]["signed_url"]
    split = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(split.query).items()}
    other_part = url.replace(f"/{answer['upload_id']}/1?", f"/{answer['upload_id']}/2?")
    later = dict(query, expires=str(int(query["expires"]) + 3600))
    bad_signature = dict(query, signature="0" * 64)
    for tampered in (other_part, f"{split.scheme}://{split.netloc}{split.path}?{urlencode(later)}",
                     f"{split.scheme}://{split.netloc}{split.path}?{urlencode(bad_signature)}"):
        response = _put(tampered, data[:1000])
        assert response.status_code == 401, response.text
        assert "ask get_upload_metadata" in response.json()["content"]
    short = _put(url, data[:999])
    assert short.status_code == 400 and "must be 1000 bytes" in short.json()["content"]
    assert _put(url, data[:1000]).status_code == 200


def test_a_part_put_twice_keeps_the_last_bytes(raw: Raw) -> None:
    data = os.urandom(2000)
    component_id, answer = _open(raw, data, 2)
    urls = [u["signed_url"] for u in answer["urls"]]
    first = _put(urls[0], b"x" * 1000)
    again = _put(urls[0], data[:1000])
    assert first.headers["ETag"] != again.headers["ETag"]
    second = _put(urls[1], data[1000:])
    stale = [{"part_number": 1, "e_tag": first.headers["ETag"].strip('"')},
             {"part_number": 2, "e_tag": second.headers["ETag"].strip('"')}]
    _refused(raw, [_complete(component_id, answer["upload_id"], stale), _location(component_id)])
    parts = [dict(stale[0], e_tag=again.headers["ETag"].strip('"')), stale[1]]
    raw.ok([_complete(component_id, answer["upload_id"], parts), _location(component_id)])
    assert _stored(raw, component_id).content == data


def test_committed_component_refuses_new_data_and_remove_takes_its_location(raw: Raw) -> None:
    data = os.urandom(2000)
    component_id, answer = _open(raw, data, 2)
    raw.ok([_complete(component_id, answer["upload_id"], _send_all(data, answer)), _location(component_id)])
    for parts in (None, 2):
        error = _refused(raw, [_metadata(component_id, 10, parts)])
        assert "cannot be replaced" in error["content"]
    head = requests.head(f"{raw.url}/component/remove", params=raw.file_params(component_id), timeout=30)
    assert head.status_code == 405
    assert _stored(raw, component_id).content == data
    removed = requests.post(f"{raw.url}/component/remove", params=raw.file_params(component_id), timeout=30)
    assert removed.status_code == 200 and removed.json()["removed"] is True
    assert raw.query(f"select id from ComponentLocation where component_id is {component_id}") == []


def test_remove_during_an_upload_leaves_nothing(raw: Raw, embedded_server: EmbeddedServer) -> None:
    data = os.urandom(2000)
    component_id, answer = _open(raw, data, 2)
    uploads = embedded_server.data_dir / "files" / "uploads"
    data_file = uploads / f"{answer['upload_id']}.part"
    assert _put(answer["urls"][0]["signed_url"], data[:1000]).status_code == 200
    assert data_file.is_file()
    requests.post(f"{raw.url}/component/remove", params=raw.file_params(component_id), timeout=30)
    assert not data_file.exists()
    late = _put(answer["urls"][1]["signed_url"], data[1000:])
    assert late.status_code == 404 and "no open upload" in late.json()["content"]


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_server_killed_mid_upload_then_only_missing_parts_are_sent(tmp_path: Path) -> None:
    data = os.urandom(6000)
    record = tmp_path / "record.jsonl"
    server = EmbeddedServer(tmp_path / "data", extra_args=["--record", str(record), "--part-url-lifetime", "3"])
    server.start()
    try:
        raw = Raw(server.url, server.api_user, server.api_key)
        component_id, answer = _open(raw, data, 6)
        pieces = _slices(data, answer["part_size"])
        done = {}
        for url in answer["urls"][:3]:
            response = _put(url["signed_url"], pieces[url["part_number"]])
            done[url["part_number"]] = response.headers["ETag"].strip('"')
        server.process.kill()
        server.process.wait(30)
    finally:
        server.stop()
    server = EmbeddedServer(tmp_path / "data", extra_args=["--record", str(record), "--part-url-lifetime", "3"])
    server.start()
    try:
        raw = Raw(server.url, server.api_user, server.api_key)
        import time

        time.sleep(3.2)  # the first URLs have expired by now
        expired = _put(answer["urls"][3]["signed_url"].replace(answer["urls"][3]["signed_url"].split("/upload/")[0],
                                                                 server.url), pieces[4])
        assert expired.status_code == 403 and expired.json()["exception"] == "ExpiredUrlError"
        assert "ask get_upload_metadata" in expired.json()["content"]
        again = raw.ok([_metadata(component_id, len(data), 6, upload_id=answer["upload_id"])])[0]
        assert again["upload_id"] == answer["upload_id"]
        for url in again["urls"]:
            if url["part_number"] not in done:
                response = _put(url["signed_url"], pieces[url["part_number"]])
                assert response.status_code == 200, response.text
                done[url["part_number"]] = response.headers["ETag"].strip('"')
        parts = [{"part_number": n, "e_tag": done[n]} for n in sorted(done)]
        raw.ok([_complete(component_id, answer["upload_id"], parts), _location(component_id)])
        assert _stored(raw, component_id).content == data
    finally:
        server.stop()
    puts = [r["path"] for r in _records(record) if r["method"] == "PUT"]
    sent = sorted(int(p.rsplit("/", 1)[1]) for p in puts)
    assert sent == [1, 2, 3, 4, 4, 5, 6]  # part 4 once refused (expired URL), each other part once


def test_expired_uploads_are_cleaned(tmp_path: Path) -> None:
    import sqlite3

    from publisher.server.multipart import MultipartUploads

    conn = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    conn.execute('CREATE TABLE "server_meta" ("key" TEXT PRIMARY KEY, "value" TEXT)')
    uploads = MultipartUploads(tmp_path / "uploads", conn, upload_lifetime=60)
    upload = uploads.open(conn, str(uuid.uuid4()), 100, 2)
    assert uploads.data_path(upload.upload_id).is_file()
    assert uploads.expire(conn, now=upload.created_at + 30) == []
    expired = uploads.expire(conn, now=upload.created_at + 61)
    assert expired == [upload.upload_id]
    uploads.delete_data(expired)
    assert not uploads.data_path(upload.upload_id).exists()
    with pytest.raises(Exception, match="no open upload"):
        uploads.get(conn, upload.upload_id)


def test_a_failed_batch_leaves_no_upload_behind(raw: Raw, embedded_server: EmbeddedServer) -> None:
    uploads = embedded_server.data_dir / "files" / "uploads"
    before = set(uploads.iterdir())
    component_id = str(uuid.uuid4())
    error = _refused(raw, [_metadata(component_id, 2000, 2),
                           create("FileComponent", {"id": component_id, "name": "main", "version_id": "nope"})])
    assert error["exception"]
    assert set(uploads.iterdir()) == before
