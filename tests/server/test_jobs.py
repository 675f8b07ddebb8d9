"""``encode_media`` jobs over HTTP: image sequences and stills encode, failures say why."""

from __future__ import annotations

import io
import json
import time
import uuid
from pathlib import Path

import av
import requests
from PIL import Image, ImageStat
from server_http import Raw, create, ref

SERVER_LOCATION = "3a372bde-05bc-11e4-8908-20c9d081909b"


def _png(n: int, size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 0, (n * 40) % 256)).save(out, "PNG")
    return out.getvalue()


def _stored_file(raw: Raw, data: bytes, **fields) -> str:
    """A FileComponent whose bytes are uploaded into ftrack.server."""
    component = str(uuid.uuid4())
    raw.ok([create("FileComponent", {"id": component, **fields})])
    assert raw.upload(component, data).status_code == 200
    raw.ok([create("ComponentLocation", {"id": str(uuid.uuid4()), "component": ref("FileComponent", component),
                                         "location": ref("Location", SERVER_LOCATION), "resource_identifier": component})])
    return component


def _version(raw: Raw, asset: str) -> str:
    version = str(uuid.uuid4())
    raw.ok([create("AssetVersion", {"id": version, "asset": ref("Asset", asset)})])
    return version


def _wait(raw: Raw, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        job = raw.one(f"select status, data, finished_at, job_components.component_id from Job where id is {job_id}")
        data = json.loads(job["data"])
        seen.append(data.get("progress"))
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            job["seen_progress"] = seen
            return job
        time.sleep(0.2)


def _encode(raw: Raw, component: str, version: str | None, keep: bool) -> str:
    return raw.ok([{"action": "encode_media", "component_id": component, "version_id": version,
                    "keep_original": keep}])[0]["job_id"]


def test_png_sequence_encodes_to_mp4_and_thumbnail(raw: Raw, fresh_asset: dict, tmp_path: Path) -> None:
    version = _version(raw, fresh_asset["asset"])
    seq = str(uuid.uuid4())
    raw.ok([create("SequenceComponent", {"id": seq, "name": "render", "padding": 4, "file_type": ".png",
                                         "version": ref("AssetVersion", version)})])
    # Uploaded out of order: the server must still encode in frame order.
    for frame in (3, 1, 5, 2, 4):
        _stored_file(raw, _png(frame), name=str(frame), file_type=".png", container=ref("SequenceComponent", seq))
    job_id = _encode(raw, seq, version, keep=True)
    created = raw.one(f"select status, data, job_components from Job where id is {job_id}")
    data = json.loads(created["data"])
    assert created["status"] in ("queued", "running", "done")
    assert [o["format"] for o in data["output"]] == ["video/mp4", "image/jpeg"]
    assert data["source_component_id"] == seq and data["keep_original"] is True
    assert len(created["job_components"]) == 2

    job = _wait(raw, job_id)
    assert job["status"] == "done", job["data"]
    assert job["finished_at"]["__type__"] == "datetime"
    progress = [p for p in job["seen_progress"] if p is not None]
    assert progress == sorted(progress) and progress[-1] == 100
    outputs = {o["format"]: o["component_id"] for o in data["output"]}
    mp4 = raw.one(f"select name, file_type, size, version_id, metadata.value, component_locations.location_id "
                  f"from FileComponent where id is {outputs['video/mp4']}")
    assert mp4["name"] == "ftrackreview-mp4" and mp4["file_type"] == ".mp4" and mp4["version_id"] == version
    assert mp4["component_locations"][0]["location_id"] == SERVER_LOCATION
    meta = json.loads(mp4["metadata"][0]["value"])
    assert (meta["width"], meta["height"]) == (64, 48)
    assert meta["frameOut"] - meta["frameIn"] == 4
    image = raw.one(f"select name, metadata.value from FileComponent where id is {outputs['image/jpeg']}")
    assert image["name"] == "ftrackreview-image"
    assert json.loads(image["metadata"][0]["value"])["format"] == "image"
    assert raw.one(f"select thumbnail_id from AssetVersion where id is {version}")["thumbnail_id"] == outputs["image/jpeg"]
    assert raw.query(f"select id from SequenceComponent where id is {seq}")  # kept

    movie = requests.get(f"{raw.url}/component/get", params=raw.file_params(outputs["video/mp4"]), timeout=30)
    (tmp_path / "out.mp4").write_bytes(movie.content)
    with av.open(str(tmp_path / "out.mp4")) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 5
    blues = [ImageStat.Stat(f.to_image()).mean[2] for f in frames]
    assert blues == sorted(blues)  # frame order 1..5, not upload order


def test_still_image_encodes_and_source_goes(raw: Raw, fresh_asset: dict) -> None:
    version = _version(raw, fresh_asset["asset"])
    out = io.BytesIO()
    Image.new("RGB", (90, 60), (10, 200, 30)).save(out, "JPEG")
    source = _stored_file(raw, out.getvalue(), name="main", file_type=".jpg", version=ref("AssetVersion", version))
    job = _wait(raw, _encode(raw, source, version, keep=False))
    assert job["status"] == "done", job["data"]
    assert raw.query(f"select id from Component where id is {source}") == []
    gone = requests.get(f"{raw.url}/component/get", params=raw.file_params(source), timeout=30)
    assert gone.status_code == 404


def test_non_media_fails_with_a_message(raw: Raw, fresh_asset: dict) -> None:
    version = _version(raw, fresh_asset["asset"])
    source = _stored_file(raw, b"this is not a movie\n" * 20, name="main", file_type=".mov",
                          version=ref("AssetVersion", version))
    job_id = _encode(raw, source, version, keep=False)
    outputs = [o["component_id"] for o in json.loads(raw.one(f"select data from Job where id is {job_id}")["data"])["output"]]
    job = _wait(raw, job_id)
    assert job["status"] == "failed"
    data = json.loads(job["data"])
    assert data["error"] and "{" not in data["error"]
    # The message names the artist's component, not the server's stored copy of it.
    assert "'main.mov'" in data["error"] and source not in data["error"], data["error"]
    assert job["finished_at"] is not None
    assert raw.query(f"select id from Component where id is {source}")  # a failed encode deletes nothing
    assert raw.query(f"select id from Component where id in ({', '.join(outputs)})") == []
    assert raw.one(f"select thumbnail_id from AssetVersion where id is {version}")["thumbnail_id"] is None


def test_encode_needs_the_file_on_the_server(raw: Raw, fresh_asset: dict) -> None:
    component = str(uuid.uuid4())
    raw.ok([create("FileComponent", {"id": component, "name": "main", "file_type": ".mov"})])
    before = len(raw.query("select id from Job"))
    result = raw.call([{"action": "encode_media", "component_id": component, "version_id": None, "keep_original": False}])
    assert result["exception"] == "ValidationError" and "ftrack.server" in result["content"]
    assert len(raw.query("select id from Job")) == before


def test_progress_is_written_while_encoding(tmp_path: Path) -> None:
    """In-process runner: every progress step the encoder reports is readable from the job row."""
    from publisher.server.actions import Api
    from publisher.server.files import ContentStore
    from publisher.server.jobs import JobRunner
    from publisher.server.storage import Storage

    storage = Storage(tmp_path / "db.sqlite")
    store = ContentStore(tmp_path / "files")
    api = Api(storage, store)
    seen: list[tuple[int, int]] = []

    def observe(job_id: str, pct: int) -> None:
        row = storage.connection().execute('SELECT data FROM "job" WHERE id = ?', (job_id,)).fetchone()
        seen.append((pct, json.loads(row[0])["progress"]))

    runner = JobRunner(api, progress_interval=0.0, on_progress=observe)
    api.jobs = runner
    component, job_id = str(uuid.uuid4()), str(uuid.uuid4())
    frames = [_png(n % 6, (32, 32)) for n in range(24)]
    movie = tmp_path / "src.mp4"
    with av.open(str(movie), "w") as container:
        stream = container.add_stream("mpeg4", rate=24)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for data in frames:
            frame = av.VideoFrame.from_image(Image.open(io.BytesIO(data)).convert("RGB"))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with storage.transaction() as conn:
        storage.insert(conn, "component", {"id": component, "entity_type": "FileComponent", "system_type": "file",
                                           "name": "main", "file_type": ".mp4", "size": movie.stat().st_size})
        storage.insert(conn, "component_location", {"id": str(uuid.uuid4()), "component_id": component,
                                                    "location_id": SERVER_LOCATION, "resource_identifier": component})
        storage.insert(conn, "job", {"id": job_id, "status": "queued", "type": "api_job", "data": json.dumps(
            {"output": [{"format": "video/mp4", "component_id": str(uuid.uuid4())},
                        {"format": "image/jpeg", "component_id": str(uuid.uuid4())}],
             "source_component_id": component, "keep_original": True})})
    store.adopt(component, movie)
    runner.submit(job_id)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = storage.connection().execute('SELECT status FROM "job" WHERE id = ?', (job_id,)).fetchone()[0]
        if status in ("done", "failed"):
            break
        time.sleep(0.05)
    runner.shutdown()
    assert status == "done"
    assert seen and all(pct == stored for pct, stored in seen)
    assert any(0 < pct < 100 for pct, _ in seen)
    assert [p for p, _ in seen] == sorted(p for p, _ in seen)
    storage.close()
