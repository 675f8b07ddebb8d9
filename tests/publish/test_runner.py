"""run_publish against the real embedded server: real uploads, checked with a fresh session."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from publisher.publish import browse, events
from publisher.publish.errors import FailureKind, LeftoverKind, PublishCancelled, PublishError
from publisher.publish.runner import NewVersion, PublishRequest, run_publish
from publisher.publish.staging import stage_paths

from publish_inputs import make_movie


def make_files(tmp_path: Path) -> tuple[Path, Path]:
    movie = tmp_path / "edit.mov"
    movie.write_bytes(bytes(range(256)) * 40)  # 10,240 bytes
    frames = tmp_path / "plates"
    frames.mkdir()
    for f in (1001, 1002, 1003, 1005):
        (frames / f"plate.{f}.exr").write_bytes(f"frame {f} ".encode() * (100 + f % 7))
    return movie, frames


def new_version(sandbox, name: str | None = None, **extra) -> NewVersion:
    return NewVersion(
        context_id=sandbox.shot_id,
        asset_name=name or f"asset_{uuid.uuid4().hex[:6]}",
        asset_type_id=sandbox.asset_type_id,
        task_id=sandbox.task_id,
        **extra,
    )


def server_components(session, version_id: str) -> dict[str, dict]:
    rows = session.query(
        "select id, name, system_type, file_type, size, component_locations.location.name, "
        f'component_locations.resource_identifier from Component where version_id is "{version_id}"'
    ).all()
    result = {}
    for r in rows:
        result[r["name"]] = {
            "id": r["id"],
            "system_type": r["system_type"],
            "file_type": r["file_type"],
            "size": r["size"],
            "locations": {cl["location"]["name"]: cl["resource_identifier"] for cl in r["component_locations"]},
        }
    return result


def count_versions_of(session, context_id: str) -> int:
    return len(session.query(f'select id from AssetVersion where asset.context_id is "{context_id}"').all())


def test_publish_a_file_and_a_sequence_to_server_and_unmanaged(session, fresh_session, sandbox, tmp_path):
    movie, frames = make_files(tmp_path)
    staged = stage_paths([str(movie), str(frames)])
    assert staged.errors == []
    by_name = {c.name: c for c in staged.components}
    assert set(by_name) == {"edit", "plate"}
    # A second copy of each into ftrack.unmanaged under other names.
    staged_unmanaged = stage_paths([str(movie), str(frames)], existing_names=set(by_name)).components
    for c in staged_unmanaged:
        c.location = "ftrack.unmanaged"
    components = [*staged.components, *staged_unmanaged]
    received: list[object] = []
    lock = threading.Lock()

    def on_event(event):
        with lock:
            received.append(event)

    request = PublishRequest(components=components, new_version=new_version(sandbox, comment="first light"))
    result = run_publish(session, request, on_event=on_event)

    # Events: started, version, per component started/progress/done, finished.
    kinds = [type(e).__name__ for e in received]
    assert kinds[0] == "PublishStarted" and kinds[1] == "VersionReady" and kinds[-1] == "PublishFinished"
    started = received[0]
    server_bytes = by_name["edit"].size + by_name["plate"].size
    assert started.total_bytes == server_bytes  # unmanaged moves no bytes
    assert started.components == [c.name for c in components]
    done_events = [e for e in received if isinstance(e, events.ComponentDone)]
    assert [e.name for e in done_events] == [c.name for c in components]
    progress = [e for e in received if isinstance(e, events.BytesProgress)]
    assert progress and progress[-1].overall_done == server_bytes == progress[-1].overall_total
    overall = [p.overall_done for p in progress]
    assert overall == sorted(overall)
    assert received[-1] == events.PublishFinished(result.version_id, result.component_ids)
    assert result.created_version and result.job_id is None
    assert result.component_ids == [e.component_id for e in done_events]

    # What the server holds, seen by a session that did not publish.
    check = fresh_session()
    version = check.query(
        f'select id, comment, task_id, asset.name, asset.context_id from AssetVersion where id is "{result.version_id}"'
    ).one()
    assert version["comment"] == "first light"
    assert version["task_id"] == sandbox.task_id
    assert version["asset"]["context_id"] == sandbox.shot_id
    comps = server_components(check, result.version_id)
    unmanaged_names = [c.name for c in staged_unmanaged]
    assert set(comps) == {"edit", "plate", *unmanaged_names}

    edit = comps["edit"]
    assert (edit["system_type"], edit["file_type"], edit["size"]) == ("file", ".mov", movie.stat().st_size)
    assert list(edit["locations"]) == ["ftrack.server"]
    server = check.get_location("ftrack.server")
    out = tmp_path / "download.mov"
    server.download(check.get("FileComponent", edit["id"]), out)
    assert out.read_bytes() == movie.read_bytes()

    plate = comps["plate"]
    assert plate["system_type"] == "sequence" and plate["file_type"] == ".exr"
    members = check.query(
        f'select id, name, size from FileComponent where container_id is "{plate["id"]}"'
    ).all()
    assert sorted(m["name"] for m in members) == ["1001", "1002", "1003", "1005"]
    frame_1005 = next(m for m in members if m["name"] == "1005")
    out = tmp_path / "frame.exr"
    server.download(frame_1005, out)
    assert out.read_bytes() == (frames / "plate.1005.exr").read_bytes()

    for c in staged_unmanaged:
        row = comps[c.name]
        assert list(row["locations"]) == ["ftrack.unmanaged"]
        if c.kind == "file":
            assert row["locations"]["ftrack.unmanaged"] == str(movie)
        else:
            assert row["locations"]["ftrack.unmanaged"] == str(frames / "plate.%04d.exr")

    # The details pane shows the same.
    details = browse.version_details(check, result.version_id)
    rows = {r.name: r for r in details.components}
    assert rows["plate"].kind == "sequence" and rows["plate"].frame_range == "1001-1005"
    assert rows["plate"].holes == 1 and rows["plate"].availability == 100.0
    assert rows["plate"].locations == ["ftrack.server"]
    assert rows["edit"].size == movie.stat().st_size
    check.close()


def test_publish_onto_an_existing_version_adds_components(session, fresh_session, sandbox, tmp_path):
    movie, frames = make_files(tmp_path)
    first = run_publish(session, PublishRequest(stage_paths([str(movie)]).components, new_version=new_version(sandbox),
                                                comment="the cut"))
    staged = stage_paths([str(frames)], existing_names={"edit"}).components
    second = run_publish(session, PublishRequest(staged, version_id=first.version_id, comment="plates added"))
    assert second.version_id == first.version_id and not second.created_version
    check = fresh_session()
    assert set(server_components(check, first.version_id)) == {"edit", "plate"}
    version = check.query(f'select comment, notes.content from AssetVersion where id is "{first.version_id}"').one()
    # Adding files keeps the version's own comment; the publish's words become a note on it.
    assert version["comment"] == "the cut"
    assert [n["content"] for n in version["notes"]] == ["plates added"]
    check.close()


def test_a_new_version_on_an_existing_asset_gets_the_next_number(session, sandbox, tmp_path):
    movie, _ = make_files(tmp_path)
    name = f"anim_{uuid.uuid4().hex[:6]}"
    one = run_publish(session, PublishRequest(stage_paths([str(movie)]).components, new_version=new_version(sandbox, name)))
    two = run_publish(session, PublishRequest(stage_paths([str(movie)]).components, new_version=new_version(sandbox, name)))
    assert (one.version_number, two.version_number) == (1, 2)
    asset_ids = [a for a, n in browse.list_assets(session, sandbox.shot_id) if n == name]
    assert len(asset_ids) == 1  # the second publish reused the asset


@pytest.mark.parametrize("case", ["neither", "both", "nothing", "taken", "bad-location", "gone-version"])
def test_bad_requests_fail_before_anything_is_published(session, fresh_session, sandbox, tmp_path, case):
    movie, _ = make_files(tmp_path)
    components = stage_paths([str(movie)]).components
    existing = run_publish(session, PublishRequest(stage_paths([str(movie)]).components, new_version=new_version(sandbox)))
    request = {
        "neither": PublishRequest(components),
        "both": PublishRequest(components, version_id=existing.version_id, new_version=new_version(sandbox)),
        "nothing": PublishRequest([], new_version=new_version(sandbox)),
        "taken": PublishRequest(components, version_id=existing.version_id),  # "edit" is on it already
        "bad-location": PublishRequest(components, new_version=new_version(sandbox)),
        "gone-version": PublishRequest(components, version_id=str(uuid.uuid4())),
    }[case]
    if case == "bad-location":
        components[0].location = "studio.nowhere"
    expected = {
        "neither": "Choose where to publish",
        "both": "either an existing version or a new one",
        "nothing": "Nothing to publish",
        "taken": "already has a component named 'edit'",
        "bad-location": "no location named 'studio.nowhere'",
        "gone-version": "no longer exists on the server",
    }[case]
    before = count_versions_of(session, sandbox.shot_id)
    received = []
    with pytest.raises(PublishError) as info:
        run_publish(session, request, on_event=received.append)
    assert expected in str(info.value)
    assert received == [events.PublishFailed(str(info.value))]
    check = fresh_session()
    assert count_versions_of(check, sandbox.shot_id) == before
    assert set(server_components(check, existing.version_id)) == {"edit"}
    check.close()


def test_a_file_deleted_after_staging_stops_the_publish_before_the_server_is_touched(session, fresh_session, sandbox, tmp_path):
    movie, frames = make_files(tmp_path)
    staged = stage_paths([str(movie), str(frames)]).components
    (frames / "plate.1002.exr").unlink()
    before = count_versions_of(session, sandbox.shot_id)
    with pytest.raises(PublishError) as info:
        run_publish(session, PublishRequest(staged, new_version=new_version(sandbox)))
    message = str(info.value)
    assert "Component 'plate': 1 file is missing since it was staged" in message
    assert str(frames / "plate.1002.exr") in message
    check = fresh_session()
    assert count_versions_of(check, sandbox.shot_id) == before
    check.close()


def test_a_failure_half_way_rolls_back_the_version_and_the_finished_components(session, fresh_session, sandbox, tmp_path):
    movie, frames = make_files(tmp_path)
    staged = stage_paths([str(movie), str(frames)]).components
    asset_name = f"rollback_{uuid.uuid4().hex[:6]}"
    before = count_versions_of(session, sandbox.shot_id)
    done_ids = []

    def on_event(event):
        # The first component is on the server: now a frame of the second disappears, between
        # the check and its transfer, as when a render farm cleans up under the artist.
        if isinstance(event, events.ComponentDone):
            done_ids.append(event.component_id)
            (frames / "plate.1003.exr").unlink()

    with pytest.raises(PublishError) as info:
        run_publish(session, PublishRequest(staged, new_version=new_version(sandbox, asset_name)), on_event=on_event)
    message = str(info.value)
    assert "The publish failed while publishing component 'plate'" in message
    assert "plate.1003.exr" in message and message.endswith("Nothing was published.")
    check = fresh_session()
    assert count_versions_of(check, sandbox.shot_id) == before
    assert check.query(f'select id from Component where id is "{done_ids[0]}"').all() == []
    assert not [n for _, n in browse.list_assets(check, sandbox.shot_id) if n == asset_name]
    check.close()


def test_cancel_stops_the_publish_and_leaves_nothing(session, fresh_session, sandbox, tmp_path):
    movie, frames = make_files(tmp_path)
    staged = stage_paths([str(movie), str(frames)]).components
    cancel = threading.Event()
    before = count_versions_of(session, sandbox.shot_id)

    def on_event(event):
        if isinstance(event, events.ComponentDone):
            cancel.set()

    received = []
    with pytest.raises(PublishCancelled) as info:
        run_publish(session, PublishRequest(staged, new_version=new_version(sandbox)),
                    on_event=lambda e: (received.append(e), on_event(e)), cancel=cancel)
    assert str(info.value) == "The publish was cancelled. Nothing was published."
    assert received[-1] == events.PublishFailed(str(info.value))
    check = fresh_session()
    assert count_versions_of(check, sandbox.shot_id) == before
    check.close()


def test_publish_with_review_queues_an_encode_that_makes_the_version_playable(session, fresh_session, sandbox, tmp_path):
    movie = make_movie(tmp_path / "review.mov")
    staged = stage_paths([str(movie)]).components
    received = []
    result = run_publish(session, PublishRequest(staged, new_version=new_version(sandbox), review_path=str(movie)),
                         on_event=received.append)
    assert result.job_id
    kinds = [type(e).__name__ for e in received]
    assert kinds[-2:] == ["EncodeQueued", "PublishFinished"]
    assert received[-2] == events.EncodeQueued(result.job_id)

    check = fresh_session()
    job = check.get("Job", result.job_id)
    job.wait(timeout=120)
    assert check.query(f'select status from Job where id is "{result.job_id}"').one()["status"] == "done"
    [row] = [r for r in browse.list_versions(check, sandbox.shot_id, offset=0, limit=500) if r.id == result.version_id]
    assert row.review_state == "playable"
    assert row.thumbnail_id is not None
    details = browse.version_details(check, result.version_id)
    assert details.thumbnail_url and f"id={row.thumbnail_id}" in details.thumbnail_url
    names = [c.name for c in details.components]
    assert names[0] == "review" and {"ftrackreview-mp4", "ftrackreview-image"} <= set(names)
    check.close()


def test_review_media_that_is_gone_fails_the_check(session, sandbox, tmp_path):
    movie, _ = make_files(tmp_path)
    with pytest.raises(PublishError, match="review media .* does not exist any more"):
        run_publish(session, PublishRequest(stage_paths([str(movie)]).components, new_version=new_version(sandbox),
                                            review_path=str(tmp_path / "gone.mov")))


def test_publish_into_a_disk_location_copies_the_files_there(session, fresh_session, sandbox, tmp_path):
    from publisher.api.location import configure_disk_location

    name = f"studio.disk_{uuid.uuid4().hex[:6]}"
    root = tmp_path / "studio"
    root.mkdir()
    assert name not in browse.stage_location_names(session)
    configure_disk_location(session, name, root)
    offered = browse.stage_location_names(session)
    assert offered[:2] == ["ftrack.server", "ftrack.unmanaged"] and name in offered
    assert "ftrack.origin" not in offered and "ftrack.review" not in offered

    movie, frames = make_files(tmp_path)
    staged = stage_paths([str(movie), str(frames)]).components
    for c in staged:
        c.location = name
    received = []
    result = run_publish(session, PublishRequest(staged, new_version=new_version(sandbox)), on_event=received.append)
    assert received[0].total_bytes == sum(c.size for c in staged)  # copies move bytes
    copied = sorted(p for p in root.rglob("*") if p.is_file())
    assert len(copied) == 1 + 4
    assert sorted(p.read_bytes() for p in copied) == sorted(
        [movie.read_bytes(), *[(frames / f"plate.{f}.exr").read_bytes() for f in (1001, 1002, 1003, 1005)]])
    check = fresh_session()
    comps = server_components(check, result.version_id)
    assert {n: list(c["locations"]) for n, c in comps.items()} == {"edit": [name], "plate": [name]}
    check.close()


def test_server_down_before_the_publish_gives_a_clear_error(server_factory, session_on, sandbox_maker, tmp_path):
    server = server_factory()
    s = session_on(server)
    box = sandbox_maker(s)
    movie, _ = make_files(tmp_path)
    staged = stage_paths([str(movie)]).components
    server.kill()
    received = []
    with pytest.raises(PublishError) as info:
        run_publish(s, PublishRequest(staged, new_version=new_version(box)), on_event=received.append)
    message = str(info.value)
    assert message.startswith("Could not check the publish with the server: ")
    assert server.url in message
    assert received == [events.PublishFailed(message)]
    assert movie.exists()


def test_server_dying_half_way_says_what_may_be_left(server_factory, session_on, sandbox_maker, tmp_path):
    server = server_factory()
    s = session_on(server)
    box = sandbox_maker(s)
    movie, frames = make_files(tmp_path)
    staged = stage_paths([str(movie), str(frames)]).components

    def on_event(event):
        if isinstance(event, events.ComponentDone):
            server.kill()

    with pytest.raises(PublishError) as info:
        run_publish(s, PublishRequest(staged, new_version=new_version(box)), on_event=on_event)
    message = str(info.value)
    assert message.startswith("The publish failed while publishing component 'plate': ")
    assert "could not be reached" in message
    assert "What was already published could not be removed again: component 'edit' and the new version (" in message
    assert message.endswith("remove it or publish the remaining components onto it.")
    assert info.value.version_id and info.value.component_ids and len(info.value.component_ids) == 1
    # The same as data: what failed, and what was left, for a caller that shows it its own way.
    assert info.value.kind is FailureKind.UNREACHABLE
    assert [(left.kind, left.name, left.unreachable) for left in info.value.leftovers] == [
        (LeftoverKind.COMPONENT, "edit", True), (LeftoverKind.VERSION, None, True)]
    assert info.value.leftovers[0].entity_id == info.value.component_ids[0]
    assert info.value.leftovers[1].entity_id == info.value.version_id
    # Restarted on the same data, the server shows what the message said was left.
    again = server_factory(server.data_dir)
    check = session_on(again)
    rows = check.query(
        f'select id, components.name from AssetVersion where asset.context_id is "{box.shot_id}"').all()
    assert [[c["name"] for c in r["components"]] for r in rows] == [["edit"]]
    check.close()


def test_without_rollback_a_failed_publish_can_be_resumed_on_its_version(session, fresh_session, sandbox, tmp_path):
    movie, frames = make_files(tmp_path)
    staged = stage_paths([str(movie), str(frames)]).components

    def on_event(event):
        if isinstance(event, events.ComponentDone):
            (frames / "plate.1003.exr").rename(tmp_path / "aside.exr")

    with pytest.raises(PublishError) as info:
        run_publish(session, PublishRequest(staged, new_version=new_version(sandbox)), on_event=on_event, rollback=False)
    error = info.value
    assert error.version_id and len(error.component_ids) == 1
    assert f"Already published: edit. Publish the remaining components onto version {error.version_id} to finish." in str(error)
    (tmp_path / "aside.exr").rename(frames / "plate.1003.exr")
    rest = [c for c in staged if c.name == "plate"]
    result = run_publish(session, PublishRequest(rest, version_id=error.version_id))
    check = fresh_session()
    comps = server_components(check, error.version_id)
    assert set(comps) == {"edit", "plate"} and comps["edit"]["id"] == error.component_ids[0]
    assert result.component_ids == [comps["plate"]["id"]]
    check.close()


def test_a_location_not_set_up_on_this_machine_is_refused_before_publishing(session, sandbox, tmp_path):
    name = f"studio.elsewhere_{uuid.uuid4().hex[:6]}"
    session.create("Location", {"name": name, "label": name})
    session.commit()
    assert name not in browse.stage_location_names(session)  # not offered: no accessor here
    movie, _ = make_files(tmp_path)
    staged = stage_paths([str(movie)]).components
    staged[0].location = name
    before = count_versions_of(session, sandbox.shot_id)
    with pytest.raises(PublishError, match=f"location '{name}' is not set up on this machine"):
        run_publish(session, PublishRequest(staged, new_version=new_version(sandbox)))
    assert count_versions_of(session, sandbox.shot_id) == before


def test_a_review_alone_makes_a_version_with_only_the_review(session, sandbox, tmp_path):
    movie = make_movie(tmp_path / "only_review.mov")
    received = []
    result = run_publish(session, PublishRequest([], new_version=new_version(sandbox), review_path=str(movie)),
                         on_event=received.append)
    assert result.component_ids == [] and result.job_id
    assert received[0] == events.PublishStarted(0, [])
    assert received[-2] == events.EncodeQueued(result.job_id)


def test_progress_of_many_small_frames_only_goes_forward_and_ends_at_the_total(session, sandbox, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for f in range(1, 301):
        (folder / f"dust.{f:04d}.png").write_bytes(b"p" * (50 + f))
    staged = stage_paths([str(folder)]).components
    received = []
    lock = threading.Lock()

    def on_event(event):
        with lock:
            received.append(event)

    run_publish(session, PublishRequest(staged, new_version=new_version(sandbox)), on_event=on_event)
    progress = [e for e in received if isinstance(e, events.BytesProgress)]
    total = staged[0].size
    assert [p.done for p in progress] == sorted(p.done for p in progress)
    assert len({p.done for p in progress}) == len(progress)  # no repeated figure
    assert progress[-1] == events.BytesProgress("dust", total, total, total, total)
