"""ContentStore.receive: one streaming pass into the store, checked, all or nothing."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from pathlib import Path

import pytest

from publisher.server.errors import ValidationError
from publisher.server.files import CHUNK, PIPELINE_MIN, ContentStore

SMALL = 3 * CHUNK + 17           # hashed inline
BIG = PIPELINE_MIN + 5 * CHUNK + 3  # hashed on the helper thread


class BreakingStream(io.RawIOBase):
    """A request body whose connection breaks after ``good`` bytes."""

    def __init__(self, data: bytes, good: int) -> None:
        self._data = io.BytesIO(data)
        self._good = good

    def read(self, size: int = -1) -> bytes:
        if self._data.tell() >= self._good:
            raise ConnectionResetError("connection reset by peer")
        return self._data.read(min(size, self._good - self._data.tell()))


def _leftovers(store: ContentStore) -> list[Path]:
    return list(store.tmp.iterdir())


@pytest.mark.parametrize("size", [0, SMALL, BIG], ids=["empty", "small", "big"])
def test_receive_stores_exact_bytes(tmp_path: Path, size: int) -> None:
    store = ContentStore(tmp_path / "files")
    data, component = os.urandom(size), str(uuid.uuid4())
    assert store.receive(component, io.BytesIO(data), size, hashlib.md5(data).digest()) == size
    assert store.path(component).read_bytes() == data
    assert _leftovers(store) == []


@pytest.mark.parametrize("size", [SMALL, BIG], ids=["small", "big"])
def test_receive_refuses_wrong_md5_and_short_body(tmp_path: Path, size: int) -> None:
    store = ContentStore(tmp_path / "files")
    data, component = os.urandom(size), str(uuid.uuid4())
    wrong = hashlib.md5(data + b"x").digest()
    with pytest.raises(ValidationError, match="MD5"):
        store.receive(component, io.BytesIO(data), size, wrong)
    with pytest.raises(ValidationError, match=f"after {size - 10} of {size} bytes"):
        store.receive(component, io.BytesIO(data[:-10]), size, hashlib.md5(data).digest())
    assert not store.exists(component)
    assert _leftovers(store) == []


@pytest.mark.parametrize("size", [SMALL, BIG], ids=["small", "big"])
def test_broken_connection_keeps_nothing_and_keeps_the_old_file(tmp_path: Path, size: int) -> None:
    store = ContentStore(tmp_path / "files")
    data, component = os.urandom(size), str(uuid.uuid4())
    store.receive(component, io.BytesIO(b"old"), 3, None)
    with pytest.raises(ConnectionResetError):
        store.receive(component, BreakingStream(data, size // 2), size, hashlib.md5(data).digest())
    assert store.path(component).read_bytes() == b"old"
    assert _leftovers(store) == []


def test_leftovers_of_a_crash_are_cleared_on_start(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "files")
    (store.tmp / "upload-crashed").write_bytes(b"partial")
    (store.tmp / "job-crashed").mkdir()
    ContentStore(tmp_path / "files")
    assert _leftovers(store) == []
