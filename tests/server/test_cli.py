"""``ftrack-publisher server``: the ready line, the demo project, keys, recording, clean stop."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import requests
from server_http import Raw, create, ref

from publisher.embedded import EmbeddedServer


def test_new_data_dir_gets_demo_project_and_stops_cleanly(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path / "data")
    server.start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.api_user == "demo"
        assert server.output().count("ftrack-publisher server ready:") == 1
        raw = Raw(server.url, server.api_user, server.api_key)
        assert raw.one('select full_name from Project where name is "lighthouse"')["full_name"] == "Demo: Lighthouse"
        assert len(raw.query("select id from Shot")) >= 3
        assert len(raw.query("select id from AssetVersion")) >= 5
    finally:
        server.stop()
    assert server.process.returncode == 0
    assert (tmp_path / "data" / "ftrack.sqlite").exists()


def test_key_is_kept_per_data_dir_and_can_be_given(tmp_path: Path, server_factory) -> None:
    first = server_factory(tmp_path / "d")
    key = first.api_key
    first.stop()
    second = server_factory(tmp_path / "d")
    assert second.api_key == key
    second.stop()
    third = server_factory(tmp_path / "d", extra_args=["--api-key", "my-own-key"])
    assert third.api_key == "my-own-key"
    raw = Raw(third.url, "demo", "my-own-key")
    assert raw.query("select id from Location")
    assert Raw(third.url, "demo", key).call([{"action": "query_schemas"}])["exception"] == "InvalidCredentialsError"


def test_sigint_stops_the_server(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "publisher", "server", "--data-dir", str(tmp_path / "d"), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    line = proc.stdout.readline()
    assert "FTRACK_SERVER=http://127.0.0.1:" in line
    proc.send_signal(signal.SIGINT)
    assert proc.wait(20) == 0
    rest = proc.stdout.read()
    assert "Traceback" not in rest


def test_record_file_lists_requests_without_the_key(tmp_path: Path, server_factory) -> None:
    record = tmp_path / "requests.jsonl"
    server = server_factory(extra_args=["--record", str(record)])
    raw = Raw(server.url, server.api_user, server.api_key)
    raw.query("select id from Location")
    thumb = raw.query("select thumbnail_id from AssetVersion limit 1")[0]["thumbnail_id"]
    requests.get(f"{server.url}/component/get", params=raw.file_params(thumb), timeout=30)
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert lines[0] == {"method": "POST", "path": "/api",
                        "operations": [{"action": "query", "expression": "select id from Location"}]}
    assert {"method": "GET", "path": "/component/get"} in lines
    assert server.api_key not in record.read_text()


def test_reset_remote_api_key(server_factory) -> None:
    server = server_factory()
    raw = Raw(server.url, server.api_user, server.api_key)
    user = raw.one(f'select id from User where username is "{server.api_user}"')
    new_key = raw.ok([{"action": "reset_remote", "reset_type": "api_key", "entity_type": "User",
                       "entity_key": user["id"]}])[0]["data"]["api_key"]
    assert isinstance(new_key, str) and new_key != server.api_key
    assert raw.call([{"action": "query_schemas"}])["exception"] == "InvalidCredentialsError"
    fresh = Raw(server.url, server.api_user, new_key)
    again = fresh.ok([{"action": "reset_remote", "reset_type": "api_key", "entity_type": "User",
                       "entity_key": user["id"]}])[0]["data"]["api_key"]
    assert again != new_key


def test_unwritable_data_dir_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = subprocess.run(
        [sys.executable, "-m", "publisher", "server", "--data-dir", str(blocker / "sub"), "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode != 0
    assert "--data-dir" in proc.stderr and "Traceback" not in proc.stderr


def test_data_survives_restart(tmp_path: Path, server_factory) -> None:
    server = server_factory(tmp_path / "d")
    raw = Raw(server.url, server.api_user, server.api_key)
    shot = raw.one('select id from Shot where name is "sh030"')
    asset = str(uuid.uuid4())
    raw.ok([create("Asset", {"id": asset, "name": "kept", "parent": ref("Shot", shot["id"])})])
    server.stop()
    again = server_factory(tmp_path / "d")
    raw = Raw(again.url, again.api_user, again.api_key)
    assert raw.one(f"select name from Asset where id is {asset}")["name"] == "kept"
    assert len(raw.query('select id from Project where name is "lighthouse"')) == 1
