"""Every sentence of asset_version_api.txt about create_component and encode_media, as a test.

Each test quotes the sentence it checks. Runs against a real embedded server that really encodes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from publisher.api import Session
from publisher.api.symbol import UNMANAGED_LOCATION_ID


@pytest.fixture(scope="module")
def movie(tmp_path_factory) -> Path:
    """A real 12-frame H.264 movie, small and quick to encode."""
    import av
    from PIL import Image

    path = tmp_path_factory.mktemp("media") / "clip.mov"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(12):
            image = Image.new("RGB", (64, 48), (index * 20, 100, 255 - index * 20))
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _component_ids_of(session: Session, version_id: str) -> set[str]:
    return {row["id"] for row in session.query(
        f'select id from Component where version_id is "{version_id}"').all()}


# -- create_component -----------------------------------------------------------------------


def test_path_can_be_a_filesystem_path(session, version, tmp_path):
    """'path can be a string representing a filesystem path to the data to use for the component.'"""
    path = tmp_path / "scene.ma"
    path.write_bytes(b"//Maya ASCII")
    component = version.create_component(str(path))
    session.commit()
    row = session.clone().get("FileComponent", component["id"])
    assert row["file_type"] == ".ma" and row["size"] == len(b"//Maya ASCII")


def test_sequence_string_example_from_the_docs(session, version, tmp_path):
    """'The path can also be specified as a sequence string, in which case a sequence component with
    child components for each item in the sequence will be created automatically. The accepted
    format for a sequence is '{head}{padding}{tail} [{ranges}]'. For example:
    '/path/to/file.%04d.ext [1-5, 7, 8, 10-20]''"""
    frames = [*range(1, 6), 7, 8, *range(10, 21)]
    for frame in frames:
        (tmp_path / f"file.{frame:04d}.ext").write_bytes(b"f")
    component = version.create_component(f"{tmp_path}/file.%04d.ext [1-5, 7, 8, 10-20]")
    session.commit()
    check = session.clone()
    assert check.get("SequenceComponent", component["id"])["padding"] == 4
    members = check.query(f'select name from FileComponent where container_id is "{component["id"]}"').all()
    assert sorted(m["name"] for m in members) == [f"{f:04d}" for f in frames]


def test_data_is_passed_to_the_component(session, version, tmp_path):
    """'data should be a dictionary of any additional data to construct the component with (as
    passed to Session.create()).'"""
    path = tmp_path / "cache.abc"
    path.write_bytes(b"abc")
    component = version.create_component(str(path), {"name": "geometry", "file_type": ".alembic"})
    session.commit()
    row = session.clone().get("FileComponent", component["id"])
    assert row["name"] == "geometry" and row["file_type"] == ".alembic"


def test_this_version_is_set_as_the_components_version(session, version, tmp_path):
    """'This version is automatically set as the component's version.'"""
    path = tmp_path / "v.exr"
    path.write_bytes(b"v")
    other_version = session.create("AssetVersion", {"asset": version["asset"]})
    session.commit()
    component = version.create_component(str(path), {"version": other_version})
    session.commit()
    assert session.clone().get("FileComponent", component["id"])["version_id"] == version["id"]


def test_location_adds_the_component_there(session, version, tmp_path):
    """'If location is specified then automatically add component to that location.'"""
    for frame in (1, 2):
        (tmp_path / f"s.{frame:04d}.exr").write_bytes(b"s")
    unmanaged = session.get_location("ftrack.unmanaged")
    component = version.create_component(f"{tmp_path}/s.%04d.exr [1-2]", location=unmanaged)
    assert session.get_component_availability(component)[UNMANAGED_LOCATION_ID] == 100.0
    unplaced = version.create_component(str(tmp_path / "s.0001.exr"))
    session.commit()
    assert set(session.get_component_availability(unplaced).values()) == {0.0}


# -- encode_media ---------------------------------------------------------------------------


def test_encode_media_from_a_path(session, version, movie):
    """'media can be a path to a file ...' 'If media is a file path, a new source component will be
    created and added to the ftrack.server location and a call to commit() will be issued.'
    'If keep_original is not set, the original media will ... be deleted if it is a file path.'"""
    job = version.encode_media(str(movie))
    assert job.entity_type == "Job"
    assert session.pending_operations == 0, "commit() was issued"
    data = json.loads(job["data"])
    assert data["keep_original"] is False
    source_id = data["source_component_id"]
    assert data["output"] and all({"format", "component_id"} <= set(o) for o in data["output"])
    job.wait(timeout=120)
    check = session.clone()
    assert source_id not in _component_ids_of(check, version["id"]), "the uploaded original is not kept"


def test_job_data_reads_as_documented(session, version, movie):
    """'The job will encode media based on the file type and job data contains information about
    encoding in the following format: 'output': [{'format': 'video/mp4', 'component_id': ...},
    {'format': 'image/jpeg', 'component_id': ...}], 'source_component_id': ..., 'keep_original': ...'"""
    job = version.encode_media(str(movie), keep_original=True)
    job.wait(timeout=120)
    data = json.loads(job["data"])
    assert {o["format"] for o in data["output"]} == {"video/mp4", "image/jpeg"}
    assert data["keep_original"] is True
    assert data["source_component_id"] in _component_ids_of(session.clone(), version["id"])
    assert job.outputs == data["output"]


def test_outputs_are_associated_with_the_job_and_the_version(session, version, movie):
    """'The output components are associated with the job via the job_components relation.'
    'The new components will automatically be associated with the version.'"""
    job = version.encode_media(str(movie))
    job.wait(timeout=120)
    check = session.clone()
    output_ids = {o["component_id"] for o in job.outputs}
    linked = {row["component_id"] for row in check.query(
        f'select component_id from JobComponent where job_id is "{job["id"]}"').all()}
    assert output_ids <= linked
    assert output_ids <= _component_ids_of(check, version["id"])
    server = check.get_location("ftrack.server")
    for component_id in output_ids:
        assert server.get_component_availability(check.get("FileComponent", component_id)) == 100.0


def test_image_output_becomes_the_versions_thumbnail(session, version, movie):
    """'An image component will always be generated if possible, and will be set as the version's
    thumbnail.'"""
    job = version.encode_media(str(movie))
    job.wait(timeout=120)
    image = next(o["component_id"] for o in job.outputs if o["format"] == "image/jpeg")
    check = session.clone()
    assert check.get("AssetVersion", version["id"])["thumbnail_id"] == image


def test_encode_media_from_a_file_component_keeps_it(session, version, movie):
    """'media can be ... a FileComponent in the ftrack.server location.' 'If media is a FileComponent,
    it will be assumed to be in available in the ftrack.server location.' 'If keep_original is not
    set, the original media will be kept if it is a FileComponent'"""
    server = session.get_location("ftrack.server")
    source = version.create_component(str(movie), {"name": "source"}, location=server)
    job = version.encode_media(source)
    assert json.loads(job["data"])["keep_original"] is True
    assert json.loads(job["data"])["source_component_id"] == source["id"]
    job.wait(timeout=120)
    assert source["id"] in _component_ids_of(session.clone(), version["id"])


def test_keep_original_can_be_forced(session, version, movie):
    """'You can specify True or False to change this behavior.'"""
    server = session.get_location("ftrack.server")
    source = version.create_component(str(movie), {"name": "throwaway"}, location=server)
    job = version.encode_media(source, keep_original=False)
    assert json.loads(job["data"])["keep_original"] is False
    job.wait(timeout=120)
    assert source["id"] not in _component_ids_of(session.clone(), version["id"])


def test_encode_media_refuses_other_things(session, version):
    with pytest.raises(ValueError, match="file path or a FileComponent"):
        version.encode_media(42)
    assert session.pending_operations == 0
