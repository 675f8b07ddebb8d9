"""Hostile, slow and greedy clients (issue 12): bodies are refused before they are read, idle and
slow connections starve no one, stalls time out, wrong keys are throttled.

Each test talks to a server of its own or of this module over raw sockets, where ``requests``
would hide what is on the wire (a head with no body, a half-sent head).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from server_http import Raw, create, md5_b64, ref

from publisher.embedded import EmbeddedServer

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """A server of this module's own, with short timeouts so that stalls end within a test."""
    server = EmbeddedServer(tmp_path_factory.mktemp("hostile"),
                            extra_args=["--idle-timeout", "2", "--body-timeout", "2"])
    server.start()
    yield server
    server.stop()


@pytest.fixture
def raw(server: EmbeddedServer) -> Raw:
    return Raw(server.url, server.api_user, server.api_key)


def _address(server: EmbeddedServer) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def _head(method: str, target: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        block = sock.recv(65536)
        assert block, f"the server closed the connection without an answer: {data!r}"
        data += block
    head, body = data.split(b"\r\n\r\n", 1)
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        block = sock.recv(65536)
        assert block, "the server closed the connection mid-answer"
        body += block
    return int(head.split()[1]), body[:length]


def _api_head(raw: Raw, length: int, key: str | None = None, content_type: str = "application/json") -> bytes:
    return _head("POST", "/api", {"content-type": content_type, "ftrack-user": raw.user,
                                  "ftrack-api-key": raw.key if key is None else key,
                                  "ftrack-strict-api": "true", "Content-Length": str(length)})


def test_wrong_key_is_answered_before_the_body_is_read(server: EmbeddedServer, raw: Raw) -> None:
    # The old server read (and parsed) a 256 MiB body before it looked at the key.
    with socket.create_connection(_address(server), timeout=10) as sock:
        sock.sendall(_api_head(raw, 200 * MIB, key="not-the-key") + b"[{},")
        status, body = _read_response(sock)
    assert status == 401 and json.loads(body)["exception"] == "InvalidCredentialsError"


def test_api_body_over_64_mib_gets_413_before_it_is_read(server: EmbeddedServer, raw: Raw) -> None:
    with socket.create_connection(_address(server), timeout=10) as sock:
        sock.sendall(_api_head(raw, 64 * MIB + 1))
        status, body = _read_response(sock)
    assert status == 413
    error = json.loads(body)
    assert error["exception"] == "ValidationError" and "64 MiB" in error["content"]


def test_chunked_api_body_over_the_limit_gets_413(raw: Raw) -> None:
    def body():
        yield b"["
        for _ in range(65):
            yield b" " * MIB
        yield b"]"

    response = requests.post(f"{raw.url}/api", data=body(), headers=raw.headers(strict=True), timeout=60)
    assert response.status_code == 413


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_api_takes_json_only(raw: Raw, fresh_asset: dict, content_type: str) -> None:
    # A web page can post text/plain or a form to any address without a CORS check.
    name = f"never_{uuid.uuid4().hex[:8]}"
    op = [create("Asset", {"id": str(uuid.uuid4()), "name": name, "parent": ref("Shot", fresh_asset["shot"])})]
    headers = {**raw.headers(strict=True), "content-type": content_type}
    response = requests.post(f"{raw.url}/api", data=json.dumps(op), headers=headers, timeout=30)
    assert response.status_code == 415
    assert "application/json" in response.json()["content"]
    assert name not in {a["name"] for a in raw.query("select name from Asset")}


def test_json_with_a_charset_is_json(raw: Raw) -> None:
    headers = {**raw.headers(), "content-type": "application/json; charset=utf-8"}
    response = requests.post(f"{raw.url}/api", data=json.dumps([{"action": "query_server_information"}]),
                             headers=headers, timeout=30)
    assert isinstance(response.json(), list)


@pytest.mark.parametrize("body, limit", [
    (b"[" + b"{}," * 1_100_000 + b"{}]", "values"),
    (b"[" * 100 + b"]" * 100, "deep"),
], ids=["a million values", "100 levels"])
def test_api_body_is_parsed_within_bounds(raw: Raw, body: bytes, limit: str) -> None:
    response = raw.post(body, strict=True)
    assert response.status_code == 400
    error = response.json()
    assert error["exception"] == "ValidationError" and limit in error["content"] and "limit" in error["content"]


def test_idle_and_slow_connections_do_not_starve_requests(server: EmbeddedServer, raw: Raw) -> None:
    # The old server gave each connection one of 16 worker threads: 17 idle sockets blocked all.
    address = _address(server)
    idle = [socket.create_connection(address, timeout=30) for _ in range(40)]
    slow = [socket.create_connection(address, timeout=30) for _ in range(20)]
    meta = raw.ok([{"action": "get_upload_metadata", "component_id": str(uuid.uuid4()), "file_name": "a.bin",
                    "file_size": 10, "checksum": md5_b64(b"0123456789")}])[0]
    greedy = socket.create_connection(address, timeout=30)
    try:
        for sock in slow:
            sock.sendall(b"POST /api HTTP/1.1\r\nHost: localhost\r\nContent-Le")
        # An upload refused for its size, announcing 100 GB it never sends.
        greedy.sendall(_head("PUT", meta["url"].removeprefix(server.url),
                             {**meta["headers"], "Content-Length": str(100 * 1000 * MIB)}))
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _i: raw.query("select id from Location"), range(32)))
        elapsed = time.monotonic() - started
        assert all(answers)
        assert elapsed < 10, f"32 queries took {elapsed:.1f} s beside idle and slow connections"
        status, _body = _read_response(greedy)
        assert status == 400
    finally:
        for sock in [*idle, *slow, greedy]:
            sock.close()


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def test_a_head_that_never_ends_is_dropped(server: EmbeddedServer) -> None:
    with socket.create_connection(_address(server), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        for _ in range(3):  # a byte now and then does not keep it alive
            time.sleep(0.5)
            sock.sendall(b"X")
        assert _closed_within(sock, 10)


def test_a_stalled_api_body_is_answered_and_dropped(server: EmbeddedServer, raw: Raw) -> None:
    with socket.create_connection(_address(server), timeout=10) as sock:
        sock.sendall(_api_head(raw, 1000) + b'[{"action": ')
        status, body = _read_response(sock)
    assert status == 400 and "stalled" in json.loads(body)["content"]


def test_a_stalled_upload_keeps_nothing(server: EmbeddedServer, raw: Raw) -> None:
    data = os.urandom(3 * MIB)
    component = str(uuid.uuid4())
    meta = raw.ok([{"action": "get_upload_metadata", "component_id": component, "file_name": "a.bin",
                    "file_size": len(data), "checksum": md5_b64(data)}])[0]
    tmp = server.data_dir / "files" / "tmp"
    with socket.create_connection(_address(server), timeout=10) as sock:
        sock.sendall(_head("PUT", meta["url"].removeprefix(server.url), meta["headers"]) + data[:MIB])
        status, body = _read_response(sock)
    assert status == 400 and "stalled" in json.loads(body)["content"]
    assert not [p for p in tmp.iterdir() if p.name.startswith("upload-")]
    put = requests.put(meta["url"], data=data, headers=meta["headers"], timeout=30)
    assert put.status_code == 200, put.text


def _wrong_key_from(address: tuple[str, int], source: str) -> int:
    with socket.socket() as sock:
        sock.bind((source, 0))
        sock.settimeout(10)
        sock.connect(address)
        sock.sendall(_head("POST", "/api", {"content-type": "application/json", "ftrack-user": "demo",
                                            "ftrack-api-key": "guess-guess", "ftrack-strict-api": "true",
                                            "Content-Length": "2"}) + b"[]")
        return _read_response(sock)[0]


def test_failed_logins_are_throttled_per_address(tmp_path: Path, server_factory) -> None:
    server = server_factory(tmp_path / "d")
    address = _address(server)
    statuses = [_wrong_key_from(address, "127.0.0.2") for _ in range(40)]
    assert statuses[0] == 401
    assert statuses[-1] == 429 and 401 not in statuses[-5:]
    assert statuses.count(401) <= 31
    # Another address is not held back by the guesser.
    assert Raw(server.url, server.api_user, server.api_key).query("select id from Location")
    assert _wrong_key_from(address, "127.0.0.3") == 401
