"""The stock ftrack-python-api 3.1.0 client publishes to the embedded server over real HTTP."""

from __future__ import annotations

import json
import os
from pathlib import Path

import av
import pytest

from server_media import write_movie

try:
    from tests.conftest import run_stock
except ImportError:  # pytest run without the repository root on sys.path: load it by path
    import importlib.util

    _spec = importlib.util.spec_from_file_location("_tests_root_conftest", Path(__file__).parents[1] / "conftest.py")
    _root = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_root)
    run_stock = _root.run_stock

SCRIPT = Path(__file__).with_name("stock_publish.py")


@pytest.mark.stock
def test_stock_client_publish(stock_python: Path, server_env: dict[str, str], tmp_path: Path) -> None:
    write_movie(tmp_path / "movie.mp4", frames=12)
    frames = {}
    for number in range(1001, 1011):
        data = os.urandom(257) + str(number).encode()
        (tmp_path / f"plate.{number:04d}.exr").write_bytes(data)
        frames[number] = data
    (tmp_path / "reference.txt").write_text("a reference image lives here")
    env = dict(server_env, STOCK_WORK=str(tmp_path))

    proc = run_stock(stock_python, SCRIPT.read_text(), env, timeout=600)
    line = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))
    found = json.loads(line[len("RESULT "):])

    assert found["task_link"] == ["lighthouse", "sq010", "sh010", "Compositing"]
    assert found["version_number"] == 1
    assert found["version_status"] == "Not started"
    assert found["file_roundtrip"] is True
    assert found["file_availability"] == 100.0
    assert found["sequence_members"] == [str(n) for n in range(1001, 1011)]
    assert found["frame_roundtrip"] is True
    assert found["sequence_padding"] == 4
    assert found["sequence_system_type"] == "sequence"
    assert found["unmanaged_identifier"] == str(tmp_path / "reference.txt")
    assert found["job_formats"] == ["image/jpeg", "video/mp4"]
    assert found["job_status"] == "done", found["job_data"]
    assert found["job_data"]["progress"] == 100
    assert found["mp4_version"] is True
    assert found["mp4_name"] == "ftrackreview-mp4"
    assert found["mp4_meta"]["width"] == 64 and found["mp4_meta"]["height"] == 48
    assert found["thumbnail_is_jpeg_output"] is True
    assert found["thumbnail_bytes_start"] == "ffd8ff"
    assert found["job_components"] is True
    assert found["source_deleted"] is True

    with av.open(str(tmp_path / "review.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        decoded = [frame for frame in container.decode(stream)]
    assert len(decoded) == 12
    assert decoded[0].format.name == "yuv420p"
