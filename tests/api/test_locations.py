"""Locations against a real embedded server: lookup, picking, availability, server, disk, origin."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from publisher.api import Session
from publisher.api.accessor import DiskAccessor
from publisher.api.exceptions import (
    AccessorError,
    ComponentInLocationError,
    ComponentNotInLocationError,
    LocationError,
)
from publisher.api.location import configure_disk_location
from publisher.api.symbol import (
    ORIGIN_LOCATION_ID,
    REVIEW_LOCATION_ID,
    SERVER_LOCATION_ID,
    UNMANAGED_LOCATION_ID,
)

from .conftest import make_asset, make_shot, make_version, unique


@pytest.fixture
def version(session):
    """A version of an asset under shot sh010, named with a space (disk folders replace it)."""
    return make_version(session, make_asset(session, make_shot(session), name=unique("Plate ")))


def test_builtin_locations_by_name(session):
    assert session.get_location("ftrack.server")["id"] == SERVER_LOCATION_ID
    assert session.get_location("ftrack.unmanaged")["id"] == UNMANAGED_LOCATION_ID
    assert session.get_location("ftrack.origin")["id"] == ORIGIN_LOCATION_ID
    assert session.get_location("ftrack.review")["id"] == REVIEW_LOCATION_ID


def test_unknown_location_lists_the_known_ones(session):
    with pytest.raises(LocationError, match="ftrack.server"):
        session.get_location("studio.nowhere")


def test_pick_location_prefers_unmanaged_then_where_the_data_is(session, version, tmp_path):
    assert session.pick_location()["name"] == "ftrack.unmanaged"
    path = tmp_path / "a.mov"
    path.write_bytes(b"a" * 10)
    component = version.create_component(str(path), location=session.get_location("ftrack.server"))
    assert session.pick_location(component)["name"] == "ftrack.server"
    loose = version.create_component(str(path), location=None)
    session.commit()
    assert session.pick_location(loose) is None


def test_availability_of_a_partly_registered_sequence_is_the_member_average(session, version, tmp_path):
    for frame in (1, 2, 3, 4):
        (tmp_path / f"p.{frame:04d}.exr").write_bytes(b"e")
    container = version.create_component(f"{tmp_path}/p.%04d.exr [1-4]", location=None)
    session.commit()
    unmanaged = session.get_location("ftrack.unmanaged")
    members = session.query(f'select id, name from FileComponent where container_id is "{container["id"]}"').all()
    unmanaged.add_component(members[0], str(tmp_path / "p.0001.exr"), recursive=False)
    availability = session.get_component_availability(container)
    assert availability[UNMANAGED_LOCATION_ID] == 25.0
    assert availability[SERVER_LOCATION_ID] == 0.0
    assert unmanaged.get_component_availability(members[0]) == 100.0
    both = session.get_component_availabilities([container, members[0]], [unmanaged])
    assert both == [{UNMANAGED_LOCATION_ID: 25.0}, {UNMANAGED_LOCATION_ID: 100.0}]


def test_adding_twice_is_refused(session, version, tmp_path):
    path = tmp_path / "twice.mov"
    path.write_bytes(b"t")
    unmanaged = session.get_location("ftrack.unmanaged")
    component = version.create_component(str(path), location=unmanaged)
    with pytest.raises(ComponentInLocationError):
        unmanaged.add_component(component, str(path))


def test_server_urls_download_and_remove(session, version, tmp_path):
    from PIL import Image

    path = tmp_path / "still.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(path)
    server = session.get_location("ftrack.server")
    component = version.create_component(str(path), location=server)
    url = server.get_url(component)
    assert url.startswith(f"{session.server_url}/component/get?id={component['id']}")
    assert requests.get(url, timeout=30).content == path.read_bytes()
    assert component.get_url() == url
    thumb = server.get_thumbnail_url(component, size=32)
    assert "/component/thumbnail?" in thumb and "size=32" in thumb
    assert requests.get(thumb, timeout=30).status_code == 200
    assert server.get_resource_identifier(component) == component["id"]

    server.remove_component(component)
    assert server.get_component_availability(component) == 0.0
    assert requests.get(url, timeout=30).status_code == 404
    with pytest.raises(ComponentNotInLocationError):
        server.remove_component(component)


def test_get_url_is_for_the_server_only(session, version, tmp_path):
    path = tmp_path / "u.mov"
    path.write_bytes(b"u")
    unmanaged = session.get_location("ftrack.unmanaged")
    component = version.create_component(str(path), location=unmanaged)
    with pytest.raises(AccessorError, match="ftrack.server only"):
        unmanaged.get_url(component)
    assert unmanaged.get_filesystem_path(component) == str(path)


def test_origin_never_hits_the_server(session, version, tmp_path):
    path = tmp_path / "o.mov"
    path.write_bytes(b"o")
    origin = session.get_location("ftrack.origin")
    before = session.request_count
    component = version.create_component(str(path), location=origin)
    assert origin.get_resource_identifier(component) == str(path)
    assert component.origin_path == str(path)
    assert session.request_count == before


@pytest.fixture
def disk_name(session):
    name = f"studio.disk.{uuid.uuid4().hex[:6]}"
    yield name
    session.accessors.forget(name)  # other tests must keep picking ftrack.unmanaged


def test_disk_location_copies_into_a_standard_layout(session, version, tmp_path, disk_name):
    root = tmp_path / "studio"
    root.mkdir()
    name = disk_name
    disk = configure_disk_location(session, name, root)
    assert isinstance(disk.accessor, DiskAccessor)
    assert session.pick_location()["name"] == name, "a configured disk location is preferred"

    source = tmp_path / "src"
    source.mkdir()
    (source / "model.abc").write_bytes(b"m" * 300)
    for frame in (1001, 1002):
        (source / f"render.{frame}.exr").write_bytes(b"r" * frame)
    single = version.create_component(str(source / "model.abc"), {"name": "model"}, location=disk)
    sequence = version.create_component(f"{source}/render.%04d.exr [1001-1002]", {"name": "beauty"},
                                        location=disk)

    project = version["asset"]["parent"]["project"]["name"] if "project" in version["asset"]["parent"].keys() else None
    asset_folder = version["asset"]["name"].lower().replace(" ", "_")
    expected_single = Path(disk.get_filesystem_path(single))
    assert expected_single.relative_to(root).parts[-3:] == (asset_folder, "v001", "model.abc")
    assert expected_single.relative_to(root).parts[1] == "sh010"
    if project:
        assert expected_single.relative_to(root).parts[0] == project
    assert expected_single.read_bytes() == b"m" * 300
    pattern = disk.get_resource_identifier(sequence)
    assert pattern.endswith(f"{asset_folder}/v001/beauty.%04d.exr")
    member_files = sorted(p.name for p in expected_single.parent.glob("beauty.*.exr"))
    assert member_files == ["beauty.1001.exr", "beauty.1002.exr"]
    assert (source / "model.abc").exists(), "a copy, not a move"
    assert session.get_component_availability(sequence)[disk["id"]] == 100.0

    # A second session (another thread) sees the same configuration.
    other = session.clone()
    assert other.get_location(name).get_filesystem_path(other.get("FileComponent", single["id"])) == str(expected_single)


def test_disk_location_with_missing_root_says_so(session, version, tmp_path, disk_name):
    name = disk_name
    disk = configure_disk_location(session, name, tmp_path / "studio")
    (tmp_path / "f.txt").write_text("f")
    with pytest.raises(AccessorError, match="does not exist or is not mounted"):
        version.create_component(str(tmp_path / "f.txt"), location=disk)
    assert session.pending_operations == 0


def test_server_add_component_from_another_location(session, version, tmp_path):
    path = tmp_path / "moved.mov"
    path.write_bytes(b"z" * 5000)
    unmanaged = session.get_location("ftrack.unmanaged")
    server = session.get_location("ftrack.server")
    component = version.create_component(str(path), location=unmanaged)
    fresh = session.clone()
    same = fresh.get("FileComponent", component["id"])
    fresh.get_location("ftrack.server").add_component(same, fresh.get_location("ftrack.unmanaged"))
    assert requests.get(server.get_url(component), timeout=30).content == path.read_bytes()
    availability = session.get_component_availability(component)
    assert availability[SERVER_LOCATION_ID] == availability[UNMANAGED_LOCATION_ID] == 100.0


def test_download_with_a_wrong_key_or_unknown_component_is_a_clear_error(session, version, tmp_path):
    path = tmp_path / "secret.mov"
    path.write_bytes(b"s" * 100)
    server = session.get_location("ftrack.server")
    component = version.create_component(str(path), location=server)
    target = tmp_path / "out" / "secret.mov"
    good_key = session.api_key
    session.api_key = "not-the-key"
    try:
        with pytest.raises(AccessorError, match=r"HTTP 40[13]"):
            server.download(component, target)
    finally:
        session.api_key = good_key
    assert not target.exists() and not Path(str(target) + ".part").exists()
    ghost = session.create("FileComponent", {"name": "ghost", "file_type": ".mov"})
    with pytest.raises(AccessorError, match="HTTP 404"):
        server.download(ghost, target)
    session.rollback()
    assert server.download(component, target) == str(target)
    assert target.read_bytes() == path.read_bytes()


def test_cancelled_copy_to_disk_commits_nothing_and_leaves_no_files(session, version, tmp_path, disk_name):
    import threading

    root = tmp_path / "studio"
    root.mkdir()
    disk = configure_disk_location(session, disk_name, root)
    source = tmp_path / "frames"
    source.mkdir()
    for frame in range(1, 9):
        (source / f"cg.{frame:04d}.exr").write_bytes(bytes([frame]) * (3 << 20))
    cancel = threading.Event()

    def cancel_midway(done: int, total: int) -> None:
        if done >= total // 3:
            cancel.set()

    from publisher.api.exceptions import TransferCancelled

    with pytest.raises(TransferCancelled):
        version.create_component(f"{source}/cg.%04d.exr [1-8]", location=disk, progress=cancel_midway, cancel=cancel)
    assert session.pending_operations == 0
    assert [p for p in root.rglob("*") if p.is_file()] == []
    assert len(list(source.iterdir())) == 8
    assert session.clone().query(f'select id from Component where version_id is "{version["id"]}"').all() == []


def test_stock_style_manual_flow_through_origin(session, version, tmp_path):
    """session.create + origin.add_component(path) + server.add_component(origin), as stock scripts do."""
    path = tmp_path / "manual.mov"
    path.write_bytes(b"q" * 777)
    component = session.create("FileComponent", {"name": "manual", "file_type": ".mov", "size": 777,
                                                 "version": version})
    origin = session.get_location("ftrack.origin")
    server = session.get_location("ftrack.server")
    origin.add_component(component, str(path))
    server.add_component(component, origin)
    assert session.pending_operations == 0
    assert requests.get(server.get_url(component), timeout=30).content == path.read_bytes()
    assert session.clone().get("FileComponent", component["id"])["version_id"] == version["id"]


def test_availability_of_an_id_with_a_quote_is_a_query_not_a_syntax_error(session):
    ghost = session.create("FileComponent", {"id": 'not"a\\real id', "name": "ghost"})
    try:
        availability = session.get_component_availability(ghost)
    finally:
        session.rollback()
    assert availability and set(availability.values()) == {0.0}


def test_query_quoting_escapes_quotes_and_backslashes():
    from publisher.api.quoting import quote, quote_list

    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    assert quote_list(["x", 'y"']) == '"x", "y\\""'


def test_a_disk_location_is_configured_for_its_session_and_clones_only(session, tmp_path, disk_name):
    configure_disk_location(session, disk_name, tmp_path / "studio")
    assert session.clone().get_location(disk_name).accessible
    other = Session(session.server_url, session.api_user, session.api_key, schema_cache_path=False)
    try:
        assert not other.get_location(disk_name).accessible, "another session is not configured"
    finally:
        other.close()
