"""AssetVersion.create_component / Session.create_component against a real embedded server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from publisher.api import Session
from publisher.api.symbol import SERVER_LOCATION_ID, UNMANAGED_LOCATION_ID


def _frames(folder: Path, name: str, frames, size=None, padding=4) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for frame in frames:
        (folder / f"{name}.{frame:0{padding}d}.exr").write_bytes(b"x" * (size or (100 + frame)))
    return folder


def _locations_of(session: Session, component_id: str) -> dict[str, str]:
    rows = session.query(
        f'select location_id, resource_identifier from ComponentLocation where component_id is "{component_id}"'
    ).all()
    return {row["location_id"]: row["resource_identifier"] for row in rows}


def test_single_file_into_unmanaged_registers_its_path(session, version, tmp_path):
    path = tmp_path / "render.mov"
    path.write_bytes(b"m" * 1234)
    location = session.get_location("ftrack.unmanaged")
    component = version.create_component(str(path), {"name": "main"}, location=location)
    check = session.clone()
    row = check.get("FileComponent", component["id"])
    assert row["size"] == 1234
    assert row["file_type"] == ".mov"
    assert row["version_id"] == version["id"]
    assert _locations_of(check, component["id"]) == {UNMANAGED_LOCATION_ID: str(path)}


def test_sequence_into_unmanaged_in_at_most_three_requests(session, version, tmp_path):
    folder = _frames(tmp_path / "seq", "plate", range(1001, 1051))
    location = session.get_location("ftrack.unmanaged")
    before = session.request_count
    component = version.create_component(f"{folder}/plate.%04d.exr [1001-1050]", location=location)
    assert session.request_count - before <= 3
    check = session.clone()
    container = check.get("SequenceComponent", component["id"])
    assert container["padding"] == 4
    assert container["file_type"] == ".exr"
    assert container["size"] == sum(100 + f for f in range(1001, 1051))
    assert container["version_id"] == version["id"]
    members = check.query(
        f'select id, name, size, file_type from FileComponent where container_id is "{component["id"]}"').all()
    assert sorted(m["name"] for m in members) == [str(f) for f in range(1001, 1051)]
    assert {m["file_type"] for m in members} == {".exr"}
    assert _locations_of(check, component["id"]) == {UNMANAGED_LOCATION_ID: f"{folder}/plate.%04d.exr"}
    first = next(m for m in members if m["name"] == "1001")
    assert _locations_of(check, first["id"]) == {UNMANAGED_LOCATION_ID: f"{folder}/plate.1001.exr"}
    assert first["size"] == 1101


def test_sequence_size_from_data_is_shared_out(session, version, tmp_path):
    folder = _frames(tmp_path / "seq", "plate", [1, 2, 3, 4])
    component = version.create_component(f"{folder}/plate.%04d.exr [1-4]", {"size": 400}, location=None)
    session.commit()
    check = session.clone()
    assert check.get("SequenceComponent", component["id"])["size"] == 400
    sizes = [m["size"] for m in check.query(
        f'select size from FileComponent where container_id is "{component["id"]}"').all()]
    assert sizes == [100, 100, 100, 100]


def test_unpadded_sequence_members_use_plain_numbers(session, version, tmp_path):
    folder = tmp_path / "unpadded"
    folder.mkdir()
    for frame in (1, 5, 6):
        (folder / f"img{frame}.png").write_bytes(b"p")
    component = version.create_component(f"{folder}/img%d.png [1, 5-6]", location=None)
    session.commit()
    names = sorted(m["name"] for m in session.clone().query(
        f'select name from FileComponent where container_id is "{component["id"]}"').all())
    assert names == ["1", "5", "6"]
    assert component["padding"] == 0


def test_location_none_creates_without_location(session, version, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    component = version.create_component(str(path), location=None)
    assert session.pending_operations >= 1, "created locally, sent by the caller's commit"
    session.commit()
    check = session.clone()
    assert check.get("FileComponent", component["id"])["version_id"] == version["id"]
    assert _locations_of(check, component["id"]) == {}


def test_session_create_component_auto_picks_unmanaged(session, version, tmp_path):
    path = tmp_path / "auto.abc"
    path.write_bytes(b"a")
    component = session.create_component(str(path), {"version": version})
    assert _locations_of(session.clone(), component["id"]) == {UNMANAGED_LOCATION_ID: str(path)}


def test_review_names_go_to_review_under_auto(session, version, tmp_path):
    path = tmp_path / "review.mp4"
    path.write_bytes(b"r")
    component = session.create_component(str(path), {"version": version, "name": "ftrackreview-mp4"})
    review = session.get_location("ftrack.review")
    assert _locations_of(session.clone(), component["id"]) == {review["id"]: str(path)}


def test_version_id_in_data_is_overridden_by_this_version(session, version, tmp_path):
    path = tmp_path / "x.exr"
    path.write_bytes(b"x")
    component = version.create_component(str(path), {"version_id": str(uuid.uuid4())}, location=None)
    session.commit()
    assert session.clone().get("FileComponent", component["id"])["version_id"] == version["id"]


def test_sequence_into_server_puts_each_member(session, version, tmp_path):
    folder = _frames(tmp_path / "srv", "comp", range(1, 6), size=2048)
    location = session.get_location("ftrack.server")
    component = version.create_component(f"{folder}/comp.%04d.exr [1-5]", location=location)
    check = session.clone()
    assert _locations_of(check, component["id"]) == {SERVER_LOCATION_ID: component["id"]}
    member = check.query(f'select id from FileComponent where container_id is "{component["id"]}"').first()
    assert _locations_of(check, member["id"]) == {SERVER_LOCATION_ID: member["id"]}
    assert check.get_component_availability(check.get("SequenceComponent", component["id"]))[SERVER_LOCATION_ID] == 100.0


# -- bad input --------------------------------------------------------------------------------


def test_missing_file_names_the_path_and_creates_nothing(session, version, tmp_path):
    missing = tmp_path / "gone.mov"
    with pytest.raises(FileNotFoundError, match="gone.mov"):
        version.create_component(str(missing), location=session.get_location("ftrack.unmanaged"))
    assert session.pending_operations == 0


def test_missing_frames_are_listed(session, version, tmp_path):
    folder = _frames(tmp_path / "holes", "plate", [1, 2, 4])
    with pytest.raises(FileNotFoundError, match=r"1 of 4 frames.*plate\.0003\.exr"):
        version.create_component(f"{folder}/plate.%04d.exr [1-4]", location=None)
    assert session.pending_operations == 0


@pytest.mark.parametrize("text, says", [
    ("/p/plate.%04d.exr [1001-x]", "cannot read frame range"),
    ("/p/plate.%04d.exr []", "empty frame ranges"),
    ("/p/plate.%04d.exr [10-1]", "ends before it starts"),
    ("/p/plate.%04d.exr", "no frame ranges"),
])
def test_malformed_sequence_string_says_what_is_wrong(session, version, text, says):
    with pytest.raises(ValueError, match=says):
        version.create_component(text, location=None)
    assert session.pending_operations == 0


def test_folder_is_refused_with_advice(session, version, tmp_path):
    with pytest.raises(IsADirectoryError, match="folder"):
        version.create_component(str(tmp_path), location=None)


def test_existing_file_with_brackets_is_a_file_not_a_sequence(session, version, tmp_path):
    path = tmp_path / "odd %04d [1-2]"
    path.write_bytes(b"odd")
    component = version.create_component(str(path), location=None)
    assert component.entity_type == "FileComponent"
    assert component["size"] == 3


def test_location_can_be_given_by_name(session, version, tmp_path):
    path = tmp_path / "named.mov"
    path.write_bytes(b"n")
    component = version.create_component(str(path), location="ftrack.unmanaged")
    assert _locations_of(session.clone(), component["id"]) == {UNMANAGED_LOCATION_ID: str(path)}
