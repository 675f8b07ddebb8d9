"""What the server keeps and how it starts (issue 12): hashed keys, private files, public binding,
key options, upload grants, query limits, names on update, no server paths, full disks, images."""

from __future__ import annotations

import io
import json
import logging
import os
import sqlite3
import stat
import struct
import subprocess
import sys
import threading
import uuid
import zlib
from pathlib import Path

import pytest
import requests
from server_http import Raw, create, md5_b64, update

from publisher.embedded import EmbeddedServer

MIB = 1024 * 1024


def _server_cmd(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "publisher", "server", "--data-dir", str(data_dir), "--port", "0", *args]


def _db_keys(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / "ftrack.sqlite") as conn:
        return [r[0] for r in conn.execute('SELECT "key" FROM "api_key"')]


# Keys and files ------------------------------------------------------------------------------
def test_keys_are_stored_as_salted_hashes(tmp_path: Path, server_factory) -> None:
    server = server_factory(tmp_path / "d")
    keys = _db_keys(tmp_path / "d")
    assert keys and server.api_key not in keys and all(k.startswith("pbkdf2_sha256$") for k in keys)
    assert server.api_key.encode() not in (tmp_path / "d" / "ftrack.sqlite").read_bytes()


def test_a_plain_key_of_an_older_server_is_hashed_and_still_works(tmp_path: Path, server_factory) -> None:
    server_factory(tmp_path / "d").stop()
    with sqlite3.connect(tmp_path / "d" / "ftrack.sqlite") as conn:  # as an older server left it
        conn.execute('UPDATE "api_key" SET "key" = ?', ("plain-old-key-123",))
    (tmp_path / "d" / "api_key").unlink()
    server = server_factory(tmp_path / "d")
    assert server.api_key == "plain-old-key-123"
    assert Raw(server.url, "demo", "plain-old-key-123").query("select id from Location")
    assert "plain-old-key-123" not in _db_keys(tmp_path / "d")


def test_files_are_private(tmp_path: Path, server_factory) -> None:
    data = tmp_path / "d"
    data.mkdir(mode=0o755)
    record = tmp_path / "rec" / "requests.jsonl"
    server = server_factory(data, extra_args=["--record", str(record)])
    raw = Raw(server.url, server.api_user, server.api_key)
    component, payload = str(uuid.uuid4()), b"private bytes"
    assert raw.upload(component, payload).status_code == 200
    written = [data, *data.rglob("*"), record, record.parent]
    for path in written:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path} is {oct(mode)}"


# Starting: keys and binding ------------------------------------------------------------------
def test_a_short_api_key_is_refused(tmp_path: Path) -> None:
    proc = subprocess.run(_server_cmd(tmp_path / "d", "--api-key", "x"), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "at least 8 characters" in proc.stderr and "Traceback" not in proc.stderr


def test_the_key_can_come_from_a_file_or_the_environment(tmp_path: Path) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text("from-a-file-123\n")
    server = EmbeddedServer(tmp_path / "a", extra_args=["--api-key-file", str(key_file)])
    with server:
        assert server.api_key == "from-a-file-123"
        assert "from-a-file-123" not in " ".join(server.process.args)
    env = {**os.environ, "FTRACK_PUBLISHER_SERVER_API_KEY": "from-the-env-456"}
    with EmbeddedServer(tmp_path / "b", env=env) as server:
        assert server.api_key == "from-the-env-456"
        assert Raw(server.url, "demo", "from-the-env-456").query("select id from Location")


def test_public_binding_needs_tls_or_an_explicit_flag(tmp_path: Path) -> None:
    proc = subprocess.run(_server_cmd(tmp_path / "d", "--host", "0.0.0.0"), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--cert" in proc.stderr and "--insecure-public" in proc.stderr and "Traceback" not in proc.stderr


def test_insecure_public_binding_warns_and_prints_the_real_address(tmp_path: Path) -> None:
    with EmbeddedServer(tmp_path / "d", host="0.0.0.0", extra_args=["--insecure-public"]) as server:
        assert not server.url.startswith("http://127.0.0.1:")
        assert "WITHOUT TLS" in server.output()  # stderr is part of the output
        assert Raw(server.url, server.api_user, server.api_key).query("select id from Location")


def test_tls_binding_serves_https(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    with EmbeddedServer(tmp_path / "d", host="0.0.0.0", extra_args=["--cert", str(cert), "--key", str(key)]) as server:
        assert server.url.startswith("https://")
        response = requests.post(f"{server.url}/api", json=[{"action": "query_server_information"}],
                                 headers={"ftrack-user": server.api_user, "ftrack-api-key": server.api_key},
                                 verify=False, timeout=30)
        assert response.json()[0]["version"]
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url.replace("https://", "http://"), timeout=10).json()


# Upload grants -----------------------------------------------------------------------------
def _grant(raw: Raw, component: str, data: bytes) -> dict:
    return raw.ok([{"action": "get_upload_metadata", "component_id": component, "file_name": "a.bin",
                    "file_size": len(data), "checksum": md5_b64(data)}])[0]


def test_an_upload_url_is_used_up(raw: Raw) -> None:
    data, component = b"once only", str(uuid.uuid4())
    meta = _grant(raw, component, data)
    assert requests.put(meta["url"], data=data, headers=meta["headers"], timeout=30).status_code == 200
    replay = requests.put(meta["url"], data=data, headers=meta["headers"], timeout=30)
    assert replay.status_code == 401 and "get_upload_metadata" in replay.json()["content"]


def test_an_upload_url_opens_one_component_only(raw: Raw) -> None:
    data, component, other = b"scoped", str(uuid.uuid4()), str(uuid.uuid4())
    meta = _grant(raw, component, data)
    _grant(raw, other, data)
    wrong = meta["url"].replace(component, other)
    assert requests.put(wrong, data=data, headers=meta["headers"], timeout=30).status_code == 401


def test_upload_urls_die_with_a_restart_and_expire(tmp_path: Path, server_factory) -> None:
    server = server_factory(tmp_path / "d")
    raw = Raw(server.url, server.api_user, server.api_key)
    data = b"late"
    before_restart = _grant(raw, str(uuid.uuid4()), data)
    server.stop()
    server = server_factory(tmp_path / "d", extra_args=["--port", before_restart["url"].split(":")[2].split("/")[0]])
    assert requests.put(before_restart["url"], data=data, headers=before_restart["headers"], timeout=30).status_code == 401
    raw = Raw(server.url, server.api_user, server.api_key)
    old = _grant(raw, str(uuid.uuid4()), data)
    with sqlite3.connect(tmp_path / "d" / "ftrack.sqlite") as conn:  # a day and an hour ago
        conn.execute('UPDATE "upload" SET "created_at" = datetime(\'now\', \'-25 hours\')')
        tokens = [r[0] for r in conn.execute('SELECT "token" FROM "upload"')]
    assert old["url"].split("token=")[1] not in tokens  # only hashes are kept
    assert requests.put(old["url"], data=data, headers=old["headers"], timeout=30).status_code == 401
    _grant(raw, str(uuid.uuid4()), data)  # a new grant clears the expired ones out
    with sqlite3.connect(tmp_path / "d" / "ftrack.sqlite") as conn:
        assert conn.execute('SELECT COUNT(*) FROM "upload"').fetchone()[0] == 1


def test_no_upload_token_reaches_the_client_log(raw: Raw, tmp_path: Path, monkeypatch) -> None:
    from publisher import logs

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = logs.setup(logging.DEBUG)
    try:
        data, component = b"logged?", str(uuid.uuid4())
        meta = _grant(raw, component, data)
        assert requests.put(meta["url"], data=data, headers=meta["headers"], timeout=30).status_code == 200
    finally:
        logs.teardown()
    text = path.read_text()
    token = meta["url"].split("token=")[1]
    assert "/file/" in text and token not in text


# Queries, names, messages ------------------------------------------------------------------
@pytest.mark.parametrize("expression, limit", [
    ("select id from Asset where " + "not " * 100 + "name is x", "levels deep"),
    ("select id from Asset where " + " or ".join(f'name is "n{i}"' for i in range(1000)), "conditions"),
    ("select id from Asset where " + ".".join(["parent"] * 50) + ".name is x", "steps"),
    ("select id from AssetVersion where version is 9223372036854775808", "out of range"),
    ("select id from Asset limit 1180591620717411303424", "out of range"),
    ('select id from Asset where name is "' + "a" * 100_000 + '"', "characters long"),
    ('select id from Asset where name is "' + "a" * 2 * MIB + '"', "characters long"),
], ids=["100 nots", "1000 ors", "50-step path", "2^63", "huge limit", "100 kB literal", "2 MiB query"])
def test_query_limits_give_a_validation_error(raw: Raw, expression: str, limit: str) -> None:
    response = raw.post(json.dumps([{"action": "query", "expression": expression}]), strict=True)
    assert response.status_code == 400
    error = response.json()
    assert error["exception"] == "ValidationError" and limit in error["content"] and "limit" in error["content"]


def test_component_names_are_checked_on_update(raw: Raw) -> None:
    component = str(uuid.uuid4())
    raw.ok([create("FileComponent", {"id": component, "name": "main", "file_type": ".exr"})])
    for attr, value in (("name", "../../../../tmp/x"), ("file_type", "/../x")):
        result = raw.call([update("FileComponent", [component], {attr: value})])
        assert result["exception"] == "ValidationError" and "folders" in result["content"]
    kept = raw.one(f"select name, file_type from FileComponent where id is {component}")
    assert (kept["name"], kept["file_type"]) == ("main", ".exr")


def test_errors_do_not_show_server_paths(embedded_server: EmbeddedServer, raw: Raw) -> None:
    component = str(uuid.uuid4())
    assert raw.upload(component, b"not an image at all").status_code == 200
    response = requests.get(f"{raw.url}/component/thumbnail", params=raw.file_params(component, size="64"), timeout=30)
    assert response.status_code == 400
    content = response.json()["content"]
    assert component in content and str(embedded_server.data_dir) not in content and "/files/" not in content


@pytest.mark.skipif(os.geteuid() != 0, reason="a full disk is made with a 2 MiB tmpfs, which needs root to mount")
def test_a_full_disk_is_reported_as_a_full_disk(tmp_path: Path) -> None:
    data = tmp_path / "d"
    files = data / "files"
    files.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(files)], check=True)
    try:
        with EmbeddedServer(data) as server:
            raw = Raw(server.url, server.api_user, server.api_key)
            payload = os.urandom(4 * MIB)
            response = raw.upload(str(uuid.uuid4()), payload)
            assert response.status_code == 507
            error = response.json()
            assert error["exception"] == "DiskFullError" and "disk is full" in error["content"]
            assert not [p for p in (files / "tmp").iterdir() if p.name.startswith("upload-")]
            assert raw.query("select id from Location")  # serves on
    finally:
        subprocess.run(["umount", "-l", str(files)], check=False)


# Images -------------------------------------------------------------------------------------
def _png_of_zeros(width: int, height: int) -> bytes:
    """A valid greyscale PNG of ``width`` x ``height`` black pixels: tiny on disk, huge decoded."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    packer = zlib.compressobj(9)
    row = b"\0" * (width + 1)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_an_image_bomb_gets_a_clear_413(raw: Raw) -> None:
    component = str(uuid.uuid4())
    assert raw.upload(component, _png_of_zeros(16000, 16000), name="bomb.png").status_code == 200
    response = requests.get(f"{raw.url}/component/thumbnail", params=raw.file_params(component, size="256"), timeout=60)
    assert response.status_code == 413
    assert "pixels" in response.json()["content"] and "limit" in response.json()["content"]
    assert raw.query("select id from Location")


def test_thumbnails_are_decoded_once_per_size_and_one_at_a_time(tmp_path: Path) -> None:
    from PIL import Image

    from publisher.server.thumbnails import ThumbnailScaler

    path = tmp_path / "image"
    Image.new("RGB", (3000, 2000), (200, 40, 40)).save(path, "JPEG")
    scaler = ThumbnailScaler()
    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(scaler.scaled(path, "c", 256))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert scaler.decodes == 1 and len(set(results)) == 1
    assert Image.open(io.BytesIO(results[0])).size == (256, 171)
    scaler.scaled(path, "c", 128)
    assert scaler.decodes == 2


def test_an_image_bomb_is_refused_by_the_encoder_before_it_is_decoded(tmp_path: Path) -> None:
    from publisher.server.encoder import EncodeError, encode_review

    source = tmp_path / "bomb"
    source.write_bytes(_png_of_zeros(16000, 16000))
    with pytest.raises(EncodeError, match="16000 x 16000 pixels.*limit"):
        encode_review([str(source)], str(tmp_path / "review.mp4"), str(tmp_path / "review.jpg"))
