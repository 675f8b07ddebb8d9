"""Transfers: checksums, streamed uploads to a real embedded server, copies, cancel and failures."""

from __future__ import annotations

import base64
import hashlib
import threading
from pathlib import Path

import pytest
import requests

from publisher.api import Session, multipart, transfer
from publisher.api.exceptions import AccessorError, ServerError, TransferCancelled

from .conftest import make_version


def _write(path: Path, size: int, seed: int = 1) -> Path:
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB of non-repeating-ish bytes
    with open(path, "wb") as handle:
        remaining = size
        while remaining > 0:
            chunk = block[: min(len(block), remaining)]
            handle.write(chunk)
            remaining -= len(chunk)
    return path


def _md5_b64(path: Path) -> str:
    return base64.b64encode(hashlib.md5(path.read_bytes()).digest()).decode()


# -- local pieces ---------------------------------------------------------------------------


def test_file_md5_is_base64_md5_and_size(tmp_path):
    path = _write(tmp_path / "a.bin", 3 * transfer.CHUNK_SIZE + 17)
    size, checksum = transfer.file_md5(str(path))
    assert size == path.stat().st_size
    assert checksum == _md5_b64(path)


def test_file_md5_of_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.bin"):
        transfer.file_md5(str(tmp_path / "nothere.bin"))


def test_file_body_streams_in_chunks_with_progress(tmp_path):
    path = _write(tmp_path / "b.bin", 2 * transfer.CHUNK_SIZE + 5)
    seen: list[tuple[int, int]] = []
    meter = transfer.ProgressMeter(path.stat().st_size, lambda d, t: seen.append((d, t)))
    body = transfer.FileBody(str(path), path.stat().st_size, meter)
    chunks = list(body)
    assert len(body) == path.stat().st_size
    assert max(len(c) for c in chunks) == transfer.CHUNK_SIZE
    assert b"".join(chunks) == path.read_bytes()
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)


def test_file_body_stops_when_cancelled(tmp_path):
    path = _write(tmp_path / "c.bin", 4 * transfer.CHUNK_SIZE)
    cancel = threading.Event()
    body = transfer.FileBody(str(path), path.stat().st_size, cancel=cancel)
    chunks = iter(body)
    next(chunks)
    cancel.set()
    with pytest.raises(TransferCancelled):
        next(chunks)


def test_copy_files_copies_and_cancel_leaves_nothing(tmp_path):
    sources = [_write(tmp_path / f"s{i}.bin", 200_000 + i, seed=i) for i in range(5)]
    items = [transfer.FileTransfer(source=str(p), target=str(tmp_path / "out" / "deep" / p.name),
                                   size=p.stat().st_size) for p in sources]
    done: list[int] = []
    transfer.copy_files(items, progress=lambda d, t: done.append(d))
    for item in items:
        assert Path(item.target).read_bytes() == Path(item.source).read_bytes()
    assert done[-1] == sum(p.stat().st_size for p in sources)

    cancel = threading.Event()
    items2 = [transfer.FileTransfer(source=str(p), target=str(tmp_path / "out2" / p.name),
                                    size=p.stat().st_size) for p in sources]

    def cancel_after_first(done_bytes: int, total: int) -> None:
        cancel.set()

    with pytest.raises(TransferCancelled):
        transfer.copy_files(items2, progress=cancel_after_first, cancel=cancel, workers=1)
    left = list((tmp_path / "out2").glob("*")) if (tmp_path / "out2").exists() else []
    assert left == []
    assert all(p.exists() for p in sources), "sources are never touched"


def test_copy_files_refuses_to_overwrite(tmp_path):
    src = _write(tmp_path / "src.bin", 10)
    dst = tmp_path / "dst.bin"
    dst.write_bytes(b"keep me")
    with pytest.raises(AccessorError, match="already exists"):
        transfer.copy_files([transfer.FileTransfer(source=str(src), target=str(dst), size=10)])
    assert dst.read_bytes() == b"keep me"


# -- against the embedded server -----------------------------------------------------------


def test_upload_to_server_streams_with_progress_and_round_trips(session, tmp_path):
    version = make_version(session)
    path = _write(tmp_path / "big.mov", 5 * transfer.CHUNK_SIZE + 123)
    seen: list[tuple[int, int]] = []
    server = session.get_location("ftrack.server")
    component = version.create_component(str(path), location=server,
                                          progress=lambda d, t: seen.append((d, t)))
    total = path.stat().st_size
    assert seen[-1] == (total, total)
    assert all(t == total for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen), "figures arrive in order"
    assert len(seen) >= 5, "progress is reported per chunk, not once per file"
    url = server.get_url(component)
    body = requests.get(url, timeout=30).content
    assert hashlib.md5(body).digest() == hashlib.md5(path.read_bytes()).digest()
    out = server.download(component, tmp_path / "copy.mov")
    assert Path(out).read_bytes() == path.read_bytes()


def test_sequence_upload_is_one_metadata_batch_and_one_put_per_file(server_factory, tmp_path):
    record = tmp_path / "record.jsonl"
    server = server_factory(extra_args=["--record", str(record)])
    with Session(server.url, server.api_user, server.api_key, schema_cache_path=False) as s:
        version = make_version(s)
        frames = tmp_path / "frames"
        frames.mkdir()
        for frame in range(1001, 1021):
            _write(frames / f"plate.{frame}.exr", 4096 + frame, seed=frame)
        location = s.get_location("ftrack.server")
        start = sum(1 for _ in record.open()) if record.exists() else 0
        before = s.request_count
        component = version.create_component(f"{frames}/plate.%04d.exr [1001-1020]", location=location)
        import json

        lines = [json.loads(line) for line in record.read_text().splitlines()[start:]]
        puts = [line for line in lines if line["method"] == "PUT"]
        posts = [line for line in lines if line["method"] == "POST"]
        assert len(puts) == 20
        metadata = [p for p in posts if any(op.get("action") == "get_upload_metadata" for op in p["operations"])]
        assert len(metadata) == 1 and len(metadata[0]["operations"]) == 20
        assert len(posts) <= 5
        assert s.request_count - before == len(posts) + 20, "PUTs are counted in session.request_count"
        availability = s.get_component_availability(component)
        assert availability[location["id"]] == 100.0


def test_cancel_mid_upload_commits_nothing_and_removes_uploaded_files(session, tmp_path, monkeypatch):
    version = make_version(session)
    frames = tmp_path / "frames"
    frames.mkdir()
    small = 64 * 1024
    for frame in range(1, 7):
        _write(frames / f"shot.{frame:04d}.dpx", small, seed=frame)
    for frame in (7, 8):
        _write(frames / f"shot.{frame:04d}.dpx", 12 * transfer.CHUNK_SIZE, seed=frame)
    before = {p.name: _md5_b64(p) for p in frames.iterdir()}
    cancel = threading.Event()
    uploaded_ids: list[str] = []
    real_send = multipart.MultipartUploader.send

    def watch_upload(self, items, *args, **kwargs):
        uploaded_ids.extend(item.component_id for item in items)
        return real_send(self, items, *args, **kwargs)

    monkeypatch.setattr(multipart.MultipartUploader, "send", watch_upload)

    def cancel_soon(done: int, total: int) -> None:
        if done >= 6 * small + 2 * transfer.CHUNK_SIZE:
            cancel.set()

    with pytest.raises(TransferCancelled):
        version.create_component(f"{frames}/shot.%04d.dpx [1-8]", location=session.get_location("ftrack.server"),
                                 progress=cancel_soon, cancel=cancel)
    assert session.pending_operations == 0, "nothing of the cancelled component waits for a later commit"
    session.commit()
    check = session.clone()
    assert check.query(f'select id from Component where version_id is "{version["id"]}"').all() == []
    assert len(uploaded_ids) == 8
    for component_id in uploaded_ids:
        url = f"{session.server_url}/component/get"
        params = {"id": component_id, "username": session.api_user, "apiKey": session.api_key}
        assert requests.get(url, params=params, timeout=30).status_code == 404, "uploaded files are removed"
    assert {p.name: _md5_b64(p) for p in frames.iterdir()} == before, "the artist's files are untouched"


def test_server_down_mid_upload_gives_clear_error_and_commits_nothing(server_factory, tmp_path, monkeypatch):
    # Progress counts acknowledged parts: with one connection the kill after the first part
    # surely comes while the next one is on its way (with six, all may be in before it lands).
    monkeypatch.setenv("FTRACK_UPLOAD_MAX_CONNECTIONS", "1")
    server = server_factory()
    path = _write(tmp_path / "huge.mov", 48 * transfer.CHUNK_SIZE)
    checksum = _md5_b64(path)
    with Session(server.url, server.api_user, server.api_key, schema_cache_path=False, timeout=10) as s:
        version = make_version(s)
        location = s.get_location("ftrack.server")
        killed = threading.Event()

        def kill_server(done: int, total: int) -> None:
            if done >= 2 * transfer.CHUNK_SIZE and not killed.is_set():
                killed.set()
                server.kill()

        with pytest.raises(AccessorError) as raised:
            version.create_component(str(path), location=location, progress=kill_server)
        message = str(raised.value)
        assert server.url in message and "nothing was committed" in message
        assert s.pending_operations == 0
    assert _md5_b64(path) == checksum


def test_file_changed_after_checksum_is_refused_and_not_registered(session, tmp_path, monkeypatch):
    """The server checks Content-MD5: a file rewritten between checksum and PUT must not land."""
    version = make_version(session)
    path = _write(tmp_path / "moving.mov", transfer.CHUNK_SIZE)
    real_send = multipart.MultipartUploader.send

    def rewrite_then_upload(self, items, *args, **kwargs):
        _write(path, transfer.CHUNK_SIZE, seed=99)  # same size, other bytes
        return real_send(self, items, *args, **kwargs)

    monkeypatch.setattr(multipart.MultipartUploader, "send", rewrite_then_upload)
    with pytest.raises(AccessorError, match="refused"):
        version.create_component(str(path), location=session.get_location("ftrack.server"))
    assert session.pending_operations == 0
    assert session.clone().query(f'select id from Component where version_id is "{version["id"]}"').all() == []

    monkeypatch.setattr(multipart.MultipartUploader, "send", real_send)
    component = version.create_component(str(path), location=session.get_location("ftrack.server"))
    url = session.get_location("ftrack.server").get_url(component)
    assert requests.get(url, timeout=30).content == path.read_bytes(), "a retry uploads the new bytes"


def test_prehashed_file_uploads_the_same_bytes(session, tmp_path):
    version = make_version(session)
    path = _write(tmp_path / "pre.mov", 2 * transfer.CHUNK_SIZE + 1)
    transfer.prehash([str(path)])
    server = session.get_location("ftrack.server")
    component = version.create_component(str(path), location=server)
    assert requests.get(server.get_url(component), timeout=30).content == path.read_bytes()


def test_commit_refused_after_upload_removes_the_files_and_leaves_nothing_pending(session, tmp_path, monkeypatch):
    """The version disappears while the files upload: the server refuses the commit."""
    version = make_version(session)
    path = _write(tmp_path / "orphan.mov", 300_000)
    uploaded_ids: list[str] = []
    real_send = multipart.MultipartUploader.send

    def upload_then_delete_version(self, items, *args, **kwargs):
        uploaded_ids.extend(item.component_id for item in items)
        result = real_send(self, items, *args, **kwargs)
        other = session.clone()
        other.delete(other.get("AssetVersion", version["id"]))
        other.commit()
        return result

    monkeypatch.setattr(multipart.MultipartUploader, "send", upload_then_delete_version)
    with pytest.raises(ServerError) as raised:
        version.create_component(str(path), location=session.get_location("ftrack.server"))
    assert version["id"] in str(raised.value)
    assert session.pending_operations == 0
    for component_id in uploaded_ids:
        params = {"id": component_id, "username": session.api_user, "apiKey": session.api_key}
        assert requests.get(f"{session.server_url}/component/get", params=params, timeout=30).status_code == 404


def test_empty_file_uploads(session, tmp_path):
    version = make_version(session)
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    server = session.get_location("ftrack.server")
    component = version.create_component(str(path), location=server)
    response = requests.get(server.get_url(component), timeout=30)
    assert response.status_code == 200 and response.content == b""
