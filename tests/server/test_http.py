"""The HTTP layer of the embedded server: streamed uploads, big bodies, malformed requests, stop.

These talk to a server of their own over raw sockets where ``requests`` would hide what is on
the wire (a half-sent body, a second request on the same connection, a broken request line).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from server_http import Raw, md5_b64

from publisher.embedded import EmbeddedServer

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """A server of this module's own: the tests look into its data folder."""
    server = EmbeddedServer(tmp_path_factory.mktemp("http-server"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def raw(server: EmbeddedServer) -> Raw:
    return Raw(server.url, server.api_user, server.api_key)


def _address(server: EmbeddedServer) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def _upload_dir(server: EmbeddedServer) -> Path:
    return server.data_dir / "files" / "tmp"


def _partial_uploads(server: EmbeddedServer) -> list[Path]:
    return [p for p in _upload_dir(server).iterdir() if p.name.startswith("upload-")]


def _metadata(raw: Raw, component: str, data: bytes, name: str = "big.bin") -> dict:
    return raw.ok([{"action": "get_upload_metadata", "component_id": component, "file_name": name,
                    "file_size": len(data), "checksum": md5_b64(data)}])[0]


def _put_head(server: EmbeddedServer, meta: dict, length: int | None = None) -> bytes:
    target = meta["url"].removeprefix(server.url)
    headers = dict(meta["headers"])
    if length is not None:
        headers["Content-Length"] = str(length)
    lines = [f"PUT {target} HTTP/1.1", "Host: localhost", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length body, read off ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        block = sock.recv(65536)
        assert block, f"the server closed the connection mid-answer: {data!r}"
        data += block
    head, body = data.split(b"\r\n\r\n", 1)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        block = sock.recv(65536)
        assert block, "the server closed the connection mid-body"
        body += block
    return int(status_line.split()[1]), headers, body[:length]


def _wait_for(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"gave up waiting for {what}")


def _stored(raw: Raw, component: str) -> bytes | None:
    response = requests.get(f"{raw.url}/component/get", params=raw.file_params(component), timeout=60)
    return response.content if response.status_code == 200 else None


def test_upload_is_written_into_the_store_while_its_body_arrives(server: EmbeddedServer, raw: Raw) -> None:
    # The application must see the body as a stream: half the bytes are already in the
    # store's own temporary file while the client still holds back the other half.
    component, data = str(uuid.uuid4()), os.urandom(12 * MIB + 12345)
    meta = _metadata(raw, component, data)
    half = 6 * MIB
    with socket.create_connection(_address(server), timeout=60) as sock:
        sock.sendall(_put_head(server, meta) + data[:half])
        _wait_for(lambda: [p for p in _partial_uploads(server) if p.stat().st_size >= half - MIB],
                  "the first half of the body in files/tmp")
        assert _stored(raw, component) is None  # not in place before it is whole and checked
        sock.sendall(data[half:])
        status, headers, body = _read_response(sock)
    assert status == 200, body
    assert json.loads(body) == {"component_id": component, "size": len(data)}
    assert _stored(raw, component) == data
    assert _partial_uploads(server) == []


def test_client_leaving_mid_upload_stores_nothing(server: EmbeddedServer, raw: Raw) -> None:
    component, data = str(uuid.uuid4()), os.urandom(10 * MIB)
    meta = _metadata(raw, component, data)
    with socket.create_connection(_address(server), timeout=60) as sock:
        sock.sendall(_put_head(server, meta) + data[: 4 * MIB])
        _wait_for(lambda: _partial_uploads(server), "the upload's temporary file")
    _wait_for(lambda: _partial_uploads(server) == [], "the temporary file of the broken upload to go")
    assert _stored(raw, component) is None
    # The server serves on, and the same upload URL takes the whole file afterwards.
    put = requests.put(meta["url"], data=data, headers=meta["headers"], timeout=60)
    assert put.status_code == 200, put.text
    assert _stored(raw, component) == data


def test_big_upload_round_trip_and_download_in_pieces(server: EmbeddedServer, raw: Raw) -> None:
    # Big enough to be hashed beside the write (a helper thread) and downloaded in many reads.
    component, data = str(uuid.uuid4()), os.urandom(24 * MIB + 7)
    meta = _metadata(raw, component, data)
    put = requests.put(meta["url"], data=data, headers=meta["headers"], timeout=60)
    assert put.status_code == 200, put.text
    params = raw.file_params(component)
    with requests.get(f"{raw.url}/component/get", params=params, stream=True, timeout=60) as got:
        assert got.status_code == 200
        assert int(got.headers["Content-Length"]) == len(data)
        digest, count = hashlib.md5(), 0
        for block in got.iter_content(MIB):
            digest.update(block)
            count += len(block)
    assert count == len(data) and digest.digest() == hashlib.md5(data).digest()
    head = requests.head(f"{raw.url}/component/get", params=params, timeout=60)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(data)
    assert head.content == b""


def test_big_upload_with_wrong_md5_is_refused_and_nothing_kept(server: EmbeddedServer, raw: Raw) -> None:
    component, data = str(uuid.uuid4()), os.urandom(16 * MIB)
    meta = _metadata(raw, component, data)
    tampered = data[: 9 * MIB] + b"X" + data[9 * MIB + 1:]
    response = requests.put(meta["url"], data=tampered, headers=meta["headers"], timeout=60)
    assert response.status_code == 400
    assert response.json()["exception"] == "ValidationError" and "MD5" in response.json()["content"]
    assert _stored(raw, component) is None
    assert _partial_uploads(server) == []


@pytest.mark.parametrize("case", ["bad token", "wrong size", "unknown path"])
def test_refused_upload_is_answered_and_the_connection_stays_usable(server: EmbeddedServer, raw: Raw,
                                                                      case: str) -> None:
    # The answer comes before the body is read; the server reads the body away so the client
    # can read the answer and send its next request on the same connection.
    component, data = str(uuid.uuid4()), os.urandom(8 * MIB)
    meta = _metadata(raw, component, data)
    body = data
    if case == "bad token":
        meta["url"] = meta["url"].split("?")[0] + "?token=guess"
    elif case == "wrong size":
        body = data + b"more"
    else:
        meta["url"] = f"{server.url}/files/{component}"
    with socket.create_connection(_address(server), timeout=60) as sock:
        sock.sendall(_put_head(server, meta, len(body)) + body)
        status, _headers, answer = _read_response(sock)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        next_status, _next_headers, next_answer = _read_response(sock)
    expected = {"bad token": (401, "InvalidCredentialsError"), "wrong size": (400, "ValidationError"),
                "unknown path": (404, "NotFoundError")}[case]
    assert (status, json.loads(answer)["exception"]) == expected
    assert next_status == 200 and "api" in json.loads(next_answer)
    assert _stored(raw, component) is None


@pytest.mark.parametrize("request_bytes, status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost localhost\r\n\r\n", 400),
    (b"GET / HTTP/7.3\r\nHost: localhost\r\n\r\n", 505),
    (b"PUT /file/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: many\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * (300 * 1024) + b"\r\n\r\n", 413),
], ids=["request line", "header line", "http version", "content length", "huge header"])
def test_malformed_http_gets_an_error_and_the_server_serves_on(server: EmbeddedServer, raw: Raw,
                                                               request_bytes: bytes, status: int) -> None:
    with socket.create_connection(_address(server), timeout=60) as sock:
        sock.sendall(request_bytes)
        got, _headers, _body = _read_response(sock)
    assert got == status
    assert raw.query("select id from Location")


def test_api_body_length_must_be_a_plain_number(server: EmbeddedServer, raw: Raw) -> None:
    with socket.create_connection(_address(server), timeout=60) as sock:
        sock.sendall(b"POST /api HTTP/1.1\r\nHost: localhost\r\nftrack-strict-api: true\r\n"
                     b"Content-Length: -5\r\n\r\n")
        status, _headers, body = _read_response(sock)
    assert status == 400
    error = json.loads(body)
    assert error["exception"] == "ValidationError" and "Content-Length" in error["content"]


def test_api_takes_a_chunked_body(raw: Raw) -> None:
    def body():
        yield b'[{"action": "query", '
        yield b'"expression": "select name from Location where name is ftrack.server"}]'

    response = requests.post(f"{raw.url}/api", data=body(), headers=raw.headers(), timeout=60)
    assert response.status_code == 200
    assert [row["name"] for row in response.json()[0]["data"]] == ["ftrack.server"]


def test_stop_during_a_stalled_upload_is_clean(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path / "data")
    server.start()
    try:
        raw = Raw(server.url, server.api_user, server.api_key)
        component, data = str(uuid.uuid4()), os.urandom(4 * MIB)
        meta = _metadata(raw, component, data)
        with socket.create_connection(_address(server), timeout=60) as sock:
            sock.sendall(_put_head(server, meta) + data[: MIB])
            _wait_for(lambda: _partial_uploads(server), "the upload's temporary file")
            server.process.send_signal(signal.SIGTERM)
            assert server.process.wait(30) == 0
    finally:
        server.stop()
    assert "Traceback" not in server.output()
    assert not (server.data_dir / "files" / component[:2] / component).exists()
    assert _partial_uploads(server) == []


def test_port_in_use_is_reported(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "publisher", "server", "--data-dir", str(tmp_path / "d"),
                               "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr and "Pick another --port" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_many_clients_keep_their_connections(server: EmbeddedServer) -> None:
    # A client's upload workers and its window's loaders each hold a pooled connection.
    socks = [socket.create_connection(_address(server), timeout=60) for _ in range(24)]
    try:
        for sock in socks:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answers = [_read_response(sock) for sock in socks]
        assert all(status == 200 and headers.get("connection", "").lower() != "close"
                   for status, headers, _body in answers)
        for sock in socks:  # each connection serves a second request
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert all(_read_response(sock)[0] == 200 for sock in socks)
    finally:
        for sock in socks:
            sock.close()


def test_killed_server_restarts_on_its_free_port_at_once(tmp_path: Path) -> None:
    # A server started on a free port (port 0) and killed while a client holds a connection must
    # be able to listen on that same port again straight away: the outbox resumes against it.
    first = EmbeddedServer(tmp_path / "data")
    first.start()
    port = int(first.url.rsplit(":", 1)[1])
    client = requests.Session()
    assert client.get(f"{first.url}/component/get", params={"id": "x"}, timeout=10).status_code >= 400
    first.kill()
    second = EmbeddedServer(tmp_path / "data", port=port)
    try:
        second.start()
        assert second.url == first.url
        answer = Raw(second.url, second.api_user, second.api_key).query("select id from Location")
        assert answer
    finally:
        second.stop()
        client.close()
