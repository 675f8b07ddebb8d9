"""The client's multipart uploads against a real embedded server, checked in the server's record."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
import requests

from publisher.api import Session, multipart
from publisher.api.exceptions import TransferCancelled
from publisher.embedded import EmbeddedServer

from .conftest import make_version

MIB = 1024 * 1024


def _write(path: Path, size: int) -> Path:
    block = os.urandom(MIB)
    with open(path, "wb") as out:
        left = size
        while left:
            out.write(block[:min(left, MIB)])
            left -= min(left, MIB)
    return path


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _api_operations(records: list[dict]) -> list[list[dict]]:
    return [r["operations"] for r in records if r["path"] == "/api" and r.get("operations")]


def _upload_checked(session: Session, path: Path, progress=None):
    """``path`` published to ``ftrack.server`` on a new version; checks that it downloads whole."""
    version = make_version(session)
    component = version.create_component(str(path), location=session.get_location("ftrack.server"),
                                         progress=progress)
    url = session.get_location("ftrack.server").get_url(component)
    assert requests.get(url, timeout=60).content == path.read_bytes()
    return component


@pytest.fixture
def recorded(server_factory, tmp_path):
    """A server of the test's own that records every request, and a session on it."""

    def make(*extra: str) -> tuple[EmbeddedServer, Session, Path]:
        record = tmp_path / f"record{len(extra)}.jsonl"
        server = server_factory(extra_args=["--record", str(record), *extra])
        session = Session(server.url, server.api_user, server.api_key, schema_cache_path=False, timeout=30)
        return server, session, record

    return make


def test_chunk_rule_and_part_count() -> None:
    assert multipart.chunk_size_for(100) == 8 * MIB
    assert multipart.chunk_size_for(129 * MIB) == 16 * MIB
    assert multipart.chunk_size_for(2 * 1024 * MIB) == 32 * MIB
    assert multipart.chunk_size_for(9 * 1024 * MIB) == 64 * MIB
    assert multipart.chunk_size_for(65 * 1024 * MIB) == 128 * MIB
    assert multipart.part_count(8 * MIB) is None  # one part: one PUT
    assert multipart.part_count(8 * MIB + 1) == 2
    assert multipart.part_count(2 * 1024 * MIB) == 64


def test_max_connections_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("FTRACK_UPLOAD_MAX_CONNECTIONS", raising=False)
    assert multipart.max_connections() == 6
    monkeypatch.setenv("FTRACK_UPLOAD_MAX_CONNECTIONS", "3")
    assert multipart.max_connections() == 3
    monkeypatch.setenv("FTRACK_UPLOAD_MAX_CONNECTIONS", "many")
    assert multipart.max_connections() == 6


def test_big_file_goes_in_parts_and_completes_with_its_location(recorded, tmp_path) -> None:
    server, session, record = recorded()
    with session:
        path = _write(tmp_path / "plate.exr", 20 * MIB + 5)
        phases: list[tuple[str, int, int]] = []
        seen: list[int] = []

        def progress(done: int, total: int) -> None:
            seen.append(done)

        progress.phase = lambda label, done, total: phases.append((label, done, total))  # type: ignore[attr-defined]
        component = _upload_checked(session, path, progress)
    assert phases[0] == ("planning", 0, 1) and phases[-1] == ("planning", 1, 1)
    # Bytes count once the server acknowledged a part: whole parts, in order, to the end.
    assert seen[-1] == path.stat().st_size and seen == sorted(seen)
    steps = sorted(b - a for a, b in zip(seen, seen[1:]) if b != a)
    assert steps == [4 * MIB + 5, 8 * MIB, 8 * MIB]
    records = _records(record)
    metadata = [op for ops in _api_operations(records) for op in ops if op["action"] == "get_upload_metadata"]
    assert metadata == [{"action": "get_upload_metadata", "component_id": component["id"], "file_name": "main.exr",
                         "file_size": 20 * MIB + 5, "parts": 3}]
    puts = sorted(r["path"] for r in records if r["method"] == "PUT")
    assert len(puts) == 3 and all(p.startswith("/upload/") for p in puts)
    assert sorted(p.rsplit("/", 1)[1] for p in puts) == ["1", "2", "3"]
    commit = next(ops for ops in _api_operations(records)
                  if any(op["action"] == "complete_multipart_upload" for op in ops))
    actions = [(op["action"], op.get("entity_type")) for op in commit]
    assert actions[0] == ("complete_multipart_upload", None)
    assert ("create", "ComponentLocation") in actions and ("create", "FileComponent") in actions
    assert [p["part_number"] for p in commit[0]["parts"]] == [1, 2, 3]


def test_single_part_shape_gets_the_single_part_path(recorded, tmp_path) -> None:
    server, session, record = recorded("--no-multipart")
    with session:
        component = _upload_checked(session, _write(tmp_path / "plate.exr", 17 * MIB))
    puts = [r["path"] for r in _records(record) if r["method"] == "PUT"]
    assert puts == [f"/file/{component['id']}"]


def test_cancel_mid_upload_leaves_nothing(recorded, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FTRACK_UPLOAD_MAX_CONNECTIONS", "1")
    server, session, record = recorded("--throttle", "400")  # 50 MB/s: parts take a while
    with session:
        version = make_version(session)
        path = _write(tmp_path / "plate.exr", 40 * MIB)
        cancel = threading.Event()
        stopped_at = []

        def progress(done: int, total: int) -> None:
            if done >= 8 * MIB and not cancel.is_set():
                cancel.set()
                stopped_at.append(__import__("time").monotonic())

        with pytest.raises(TransferCancelled):
            version.create_component(str(path), location=session.get_location("ftrack.server"),
                                     progress=progress, cancel=cancel)
        took = __import__("time").monotonic() - stopped_at[0]
        assert took < 1.0, f"the cancel took {took:.2f} s"
        assert session.pending_operations == 0
        check = session.clone()
        assert check.query(f'select id from Component where version_id is "{version["id"]}"').all() == []
    uploads = server.data_dir / "files" / "uploads"
    assert list(uploads.iterdir()) == [], "the server keeps no part of the cancelled upload"
    puts = [r["path"] for r in _records(record) if r["method"] == "PUT"]
    assert 1 <= len(puts) < 5


def test_a_part_is_retried_when_the_server_comes_back(tmp_path, monkeypatch) -> None:
    """The server restarts (same port) while parts are in flight: each part retries with backoff
    and the upload finishes in the same run, sending again only what was not acknowledged."""
    monkeypatch.setenv("FTRACK_UPLOAD_MAX_CONNECTIONS", "1")
    record = tmp_path / "record.jsonl"
    args = ["--record", str(record), "--throttle", "400"]
    server = EmbeddedServer(tmp_path / "data", extra_args=args)
    server.start()
    restarted: list[EmbeddedServer] = []
    try:
        with Session(server.url, server.api_user, server.api_key, schema_cache_path=False, timeout=30) as session:
            path = _write(tmp_path / "plate.exr", 40 * MIB)

            def progress(done: int, total: int) -> None:
                if done >= 16 * MIB and not restarted:
                    port = int(server.url.rsplit(":", 1)[1])
                    server.kill()
                    again = EmbeddedServer(tmp_path / "data", port=port, extra_args=args)
                    restarted.append(again)
                    again.start()

            _upload_checked(session, path, progress)
    finally:
        server.stop()
        for again in restarted:
            again.stop()
    parts = [int(r["path"].rsplit("/", 1)[1]) for r in _records(record) if r["method"] == "PUT"]
    assert parts[:2] == [1, 2] and sorted(set(parts)) == [1, 2, 3, 4, 5]
    assert parts.count(1) == 1 and parts.count(2) == 1, "acknowledged parts are not sent again"


def test_sequence_frames_share_one_metadata_request_small_ones_single_part(recorded, tmp_path) -> None:
    server, session, record = recorded()
    frames = tmp_path / "frames"
    frames.mkdir()
    _write(frames / "shot.0001.exr", 9 * MIB)
    _write(frames / "shot.0002.exr", 9 * MIB)
    _write(frames / "shot.0003.exr", 1000)
    phases: list[tuple[str, int, int]] = []

    def progress(done: int, total: int) -> None:
        pass

    progress.phase = lambda label, done, total: phases.append((label, done, total))  # type: ignore[attr-defined]
    with session:
        version = make_version(session)
        component = version.create_component(f"{frames}/shot.%04d.exr [1-3]",
                                             location=session.get_location("ftrack.server"), progress=progress)
        server_location = session.get_location("ftrack.server")
        for member in component["members"]:
            number = int(member["name"])
            assert requests.get(server_location.get_url(member), timeout=60).content == \
                (frames / f"shot.{number:04d}.exr").read_bytes()
    assert phases[0] == ("reading", 0, 1000) and ("reading", 1000, 1000) in phases
    assert phases[-1] == ("planning", 3, 3)
    records = _records(record)
    asks = [ops for ops in _api_operations(records) if any(op["action"] == "get_upload_metadata" for op in ops)]
    assert len(asks) == 1 and len(asks[0]) == 3, "one request asks for every frame's URLs"
    assert sorted(op.get("parts") for op in asks[0] if op.get("parts")) == [2, 2]
    assert [op for op in asks[0] if "parts" not in op][0]["checksum"]
    puts = [r["path"] for r in records if r["method"] == "PUT"]
    assert sum(p.startswith("/upload/") for p in puts) == 4 and sum(p.startswith("/file/") for p in puts) == 1
    commit = next(ops for ops in _api_operations(records)
                  if any(op["action"] == "complete_multipart_upload" for op in ops))
    assert sum(op["action"] == "complete_multipart_upload" for op in commit) == 2


def test_expired_part_urls_are_asked_again_and_the_upload_goes_on(recorded, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FTRACK_UPLOAD_MAX_CONNECTIONS", "1")
    # 6.25 MB/s: each 8 MiB part takes about 1.3 s, so later parts find their 2 s URLs expired.
    server, session, record = recorded("--part-url-lifetime", "2", "--throttle", "50")
    with session:
        _upload_checked(session, _write(tmp_path / "plate.exr", 40 * MIB))
    asks = [op for ops in _api_operations(_records(record)) for op in ops if op["action"] == "get_upload_metadata"]
    assert len(asks) >= 2 and all(op.get("upload_id") for op in asks[1:]), "fresh URLs for the same upload"
    assert len({op.get("upload_id") for op in asks[1:]}) == 1
