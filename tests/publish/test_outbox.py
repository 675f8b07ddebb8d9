"""The outbox on disk (round trip, atomic files, corrupt files, claims) and publishes through it
against the real embedded server: steps recorded, cancel mid-transfer, server unreachable."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from pathlib import Path

import pytest
import requests

from publisher.publish import events
from publisher.publish.errors import PublishCancelled, PublishError
from publisher.publish.outbox import Outbox, OutboxBusy, request_from_dict, request_to_dict
from publisher.publish.runner import NewVersion, PublishRequest, resume_unfinished, retry, run_publish
from publisher.publish.staging import stage_paths

from publish_inputs import make_plates


def make_big(path: Path, megabytes: int = 6) -> Path:
    block = hashlib.sha256(path.name.encode()).digest() * 32768  # 1 MiB
    with open(path, "wb") as out:
        for i in range(megabytes):
            out.write(bytes([i]) + block[1:])
    return path


def digest_tree(paths: list[Path]) -> dict[str, str]:
    result = {}
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            st = f.stat()
            result[str(f)] = f"{hashlib.md5(f.read_bytes()).hexdigest()}:{st.st_mtime_ns}"
    return result


def new_version(sandbox, **extra) -> NewVersion:
    return NewVersion(context_id=sandbox.shot_id, asset_name=f"out_{uuid.uuid4().hex[:6]}",
                      asset_type_id=sandbox.asset_type_id, task_id=sandbox.task_id, **extra)


def file_status(server, component_id: str) -> int:
    return requests.get(f"{server.url}/component/get", timeout=10,
                        params={"id": component_id, "username": server.api_user, "apiKey": server.api_key}).status_code


# On disk ----------------------------------------------------------------------------------------

def test_entries_round_trip_and_are_written_atomically(tmp_path):
    plates = make_plates(tmp_path / "plates")
    movie = tmp_path / "a.mov"
    movie.write_bytes(b"x" * 100)
    staged = stage_paths([str(movie), str(plates)]).components
    request = PublishRequest(staged, new_version=NewVersion("ctx", "plate", "type", comment="c", task_id="t"),
                             comment="hello", review_path=str(movie))
    assert request_from_dict(json.loads(json.dumps(request_to_dict(request)))) == request

    box = Outbox(tmp_path / "outbox")
    first = box.add(request, server_url="http://x", api_user="demo")
    second = box.add(PublishRequest(staged[:1], version_id="v1"), server_url="http://x", api_user="demo")
    assert [e.id for e in box.entries()] == [first.id, second.id]
    again = box.get(first.id)
    assert again.request == request and again.state == "queued"
    assert set(again.steps["components"]) == {c.name for c in staged}
    assert again.steps["review"]["state"] == "pending"
    # Only the entry files are in the folder: no temporary file is left behind.
    assert sorted(p.name for p in box.root.iterdir()) == sorted([f"{first.id}.json", f"{second.id}.json"])

    again.state = "done"
    box.save(again)
    assert [e.id for e in box.unfinished()] == [second.id]
    assert box.clear_finished() == 1
    assert [e.id for e in box.entries()] == [second.id]
    box.remove(second.id)
    assert box.entries() == [] and box.get(second.id) is None


def test_corrupt_entry_files_are_reported_and_left_alone(tmp_path):
    box = Outbox(tmp_path / "outbox")
    good = box.add(PublishRequest([], version_id="v1", review_path="/m.mov"), server_url="http://x", api_user="demo")
    bad_json = box.root / "0badjson.json"
    bad_json.write_text('{"format": 1, "id": ')
    not_utf8 = box.root / "0binary.json"
    not_utf8.write_bytes(b"\xff\xfe\x00garbage")
    wrong_shape = box.root / "0shape.json"
    wrong_shape.write_text(json.dumps({"format": 1, "id": "0shape", "created": "x", "server_url": "u",
                                       "api_user": "demo", "state": "exploded", "steps": {}}))
    other_id = box.root / "0other.json"
    data = json.loads(box._path(good.id).read_text())
    other_id.write_text(json.dumps(data))

    assert [e.id for e in box.entries()] == [good.id]
    reasons = {p.path.name: p.reason for p in box.problems}
    assert set(reasons) == {"0badjson.json", "0binary.json", "0shape.json", "0other.json"}
    assert "not valid JSON" in reasons["0badjson.json"]
    assert "not UTF-8" in reasons["0binary.json"]
    assert "unknown state 'exploded'" in reasons["0shape.json"]
    assert good.id in reasons["0other.json"]
    assert "0badjson.json" in box.problem_text() and "left alone" in box.problem_text()
    # Nothing was deleted; a retry of a corrupt entry says what is wrong.
    assert bad_json.exists() and not_utf8.exists() and wrong_shape.exists()
    with pytest.raises(PublishError, match="cannot be read.*not valid JSON"):
        retry(None, box, "0badjson")
    with pytest.raises(PublishError, match="has no publish"):
        retry(None, box, "0nothere")


def test_a_claimed_entry_cannot_be_run_twice(tmp_path):
    box = Outbox(tmp_path / "outbox")
    entry = box.add(PublishRequest([], version_id="v1", review_path="/m.mov"), server_url="u", api_user="d")
    other = Outbox(box.root)  # as another process would see it (flock is per open file)
    with box.claim(entry.id):
        assert box.is_busy(entry.id) and other.is_busy(entry.id)
        with pytest.raises(OutboxBusy, match="already running in this app"):
            with box.claim(entry.id):
                pass
        with pytest.raises(OutboxBusy, match="another ftrack-publisher process"):
            with other.claim(entry.id):
                pass
    assert not box.is_busy(entry.id) and not other.is_busy(entry.id)


def test_an_unwritable_outbox_says_what_to_do(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    box = Outbox(blocker / "outbox")
    with pytest.raises(PublishError, match="Cannot create the outbox folder"):
        box.add(PublishRequest([], version_id="v"), server_url="u", api_user="d")
    assert box.entries() == []


# Through the server -------------------------------------------------------------------------------

def test_a_publish_through_the_outbox_records_each_step(session, fresh_session, sandbox, tmp_path):
    plates = make_plates(tmp_path / "plates")
    movie = tmp_path / "edit.mov"
    movie.write_bytes(b"m" * 5000)
    box = Outbox(tmp_path / "outbox")
    staged = stage_paths([str(movie), str(plates)]).components
    seen_states = []

    def on_event(event):
        if isinstance(event, events.ComponentDone):
            seen_states.append({n: r["state"] for n, r in box.entries()[0].steps["components"].items()})

    result = run_publish(session, PublishRequest(staged, new_version=new_version(sandbox)),
                         on_event=on_event, outbox=box)
    entry = box.entries()[0]
    assert entry.state == "done" and entry.error is None
    assert entry.steps["version_id"] == result.version_id and entry.steps["version_created"]
    assert seen_states == [{"edit": "done", "plate": "pending"}, {"edit": "done", "plate": "done"}]
    assert [entry.steps["components"][c.name]["component_id"] for c in staged] == result.component_ids
    assert len(entry.steps["components"]["plate"]["member_ids"]) == 3
    check = fresh_session()
    members = check.query(f'select id from Component where container_id is "{result.component_ids[1]}"').all()
    assert {m["id"] for m in members} == set(entry.steps["components"]["plate"]["member_ids"])
    check.close()
    # A done entry run again changes nothing and gives the same result.
    again = retry(session, box, entry.id)
    assert (again.version_id, again.component_ids) == (result.version_id, result.component_ids)


def test_cancel_mid_transfer_removes_everything_the_publish_created(embedded_server, session, fresh_session,
                                                                      sandbox, tmp_path):
    plates = make_plates(tmp_path / "plates")
    small = tmp_path / "notes.txt"
    small.write_text("notes " * 100)
    big = make_big(tmp_path / "big.mov", 6)
    before = digest_tree([plates, small, big])
    box = Outbox(tmp_path / "outbox")
    by_name = {c.name: c for c in stage_paths([str(small), str(plates), str(big)]).components}
    staged = [by_name["notes"], by_name["plate"], by_name["big"]]
    cancel = threading.Event()
    recorded: dict = {}
    received = []

    def on_event(event):
        received.append(event)
        if isinstance(event, events.BytesProgress) and event.name == "big" and not cancel.is_set():
            on_disk = box.entries()[0].steps
            recorded.update(on_disk)
            cancel.set()

    with pytest.raises(PublishCancelled) as info:
        run_publish(session, PublishRequest(staged, new_version=new_version(sandbox)),
                    on_event=on_event, cancel=cancel, outbox=box)
    assert str(info.value) == "The publish was cancelled. Nothing was published."
    assert received[-2:] == [events.PublishCancelled(str(info.value)), events.PublishFailed(str(info.value))]
    # What the entry had recorded when the cancel came: two components done, the third uploading.
    states = {n: r["state"] for n, r in recorded["components"].items()}
    assert states == {"notes": "done", "plate": "done", "big": "pending"}
    ids = [recorded["version_id"]]
    file_ids = []
    for rec in recorded["components"].values():
        file_ids += [rec["component_id"], *rec["member_ids"]]
    check = fresh_session()
    assert check.query(f'select id from AssetVersion where id is "{ids[0]}"').first() is None
    assert check.query(f'select id from Asset where id is "{recorded["asset_id"]}"').first() is None
    quoted = ", ".join(f'"{i}"' for i in file_ids)
    assert check.query(f"select id from Component where id in ({quoted})").all() == []
    check.close()
    assert all(file_status(embedded_server, i) == 404 for i in file_ids)
    assert digest_tree([plates, small, big]) == before
    entry = box.entries()[0]
    assert entry.state == "cancelled" and "cancelled" in entry.error
    assert box.unfinished() == []


def test_publishes_wait_in_the_outbox_while_the_server_is_unreachable(server_factory, sandbox_maker,
                                                                       session_on, tmp_path):
    server = server_factory()
    earlier = session_on(server)  # the app's session, made while the server answered
    sandbox = sandbox_maker(earlier)
    server.stop()
    movie = tmp_path / "a.mov"
    movie.write_bytes(b"a" * 3000)
    plates = make_plates(tmp_path / "plates")
    box = Outbox(tmp_path / "outbox")
    for paths in ([movie], [plates]):
        staged = stage_paths([str(p) for p in paths]).components
        received = []
        with pytest.raises(PublishError) as info:
            run_publish(earlier, PublishRequest(staged, new_version=new_version(sandbox)),
                        outbox=box, on_event=received.append)
        assert "cannot be reached" in str(info.value) and "waits in the outbox" in str(info.value)
        assert received == [events.PublishFailed(str(info.value))]
    assert [e.state for e in box.entries()] == ["queued", "queued"]
    assert [e.state for e in box.unfinished()] == ["queued", "queued"]

    back = server_factory(data_dir=server.data_dir)
    live = session_on(back)
    started = []
    results = resume_unfinished(live, box, on_entry=lambda e: started.append(e.id))
    assert started == [e.id for e in box.entries()]
    assert [type(r).__name__ for r in results] == ["PublishResult", "PublishResult"]
    assert [e.state for e in box.entries()] == ["done", "done"]
    assert all(e.server_url == back.url for e in box.entries())
    names = [live.query(f'select name from Component where version_id is "{r.version_id}"').one()["name"]
             for r in results]
    assert names == ["a", "plate"]
    live.close()
    earlier.close()


def _remove_from_server(session, component_id: str) -> None:
    """Delete a component the way an artist would in ftrack (files, locations, members, row)."""
    component = session.get("Component", component_id)
    for location_name in ("ftrack.server",):
        session.get_location(location_name).remove_component(component)
    for member in session.query(f'select id from Component where container_id is "{component_id}"').all():
        session.delete(member)
    session.delete(component)
    session.commit()


def test_a_retry_checks_done_components_on_the_server_and_redoes_missing_ones(
        session, fresh_session, sandbox, tmp_path):
    plates = make_plates(tmp_path / "plates")
    movie = tmp_path / "edit.mov"
    movie.write_bytes(b"e" * 4000)
    box = Outbox(tmp_path / "outbox")
    by_name = {c.name: c for c in stage_paths([str(movie), str(plates)]).components}
    first = run_publish(session, PublishRequest([by_name["edit"], by_name["plate"]], new_version=new_version(sandbox)),
                        outbox=box)
    edit_id, plate_id = first.component_ids
    # Someone removes the sequence from the server, and the entry is retried (as after a failure).
    check = fresh_session()
    _remove_from_server(check, plate_id)
    entry = box.entries()[0]
    entry.state = "failed"
    box.save(entry)
    received = []
    second = retry(session, box, entry.id, on_event=received.append)
    assert second.version_id == first.version_id
    assert second.component_ids[0] == edit_id and second.component_ids[1] != plate_id
    assert [e.components for e in received if isinstance(e, events.PublishStarted)] == [["plate"]]
    rows = check.query(f'select id, name from Component where version_id is "{first.version_id}"').all()
    assert sorted((r["name"], r["id"]) for r in rows) == sorted([("edit", edit_id), ("plate", second.component_ids[1])])
    assert check.get_component_availability(check.get("Component", second.component_ids[1]),
                                            [check.get_location("ftrack.server")]) == {
        check.get_location("ftrack.server")["id"]: 100.0}
    check.close()


def test_cancelling_a_retry_removes_what_the_earlier_run_created_too(embedded_server, session, fresh_session,
                                                                     sandbox, tmp_path):
    plates = make_plates(tmp_path / "plates")
    big = make_big(tmp_path / "big.mov", 4)
    before = digest_tree([plates, big])
    box = Outbox(tmp_path / "outbox")
    by_name = {c.name: c for c in stage_paths([str(plates), str(big)]).components}
    first = run_publish(session, PublishRequest([by_name["plate"], by_name["big"]], new_version=new_version(sandbox)),
                        outbox=box)
    # As if the first run had stopped before big: big is not on the server, the entry failed.
    check = fresh_session()
    _remove_from_server(check, first.component_ids[1])
    entry = box.entries()[0]
    entry.state = "failed"
    entry.steps["components"]["big"]["state"] = "failed"
    box.save(entry)
    plate_ids = [first.component_ids[0], *entry.steps["components"]["plate"]["member_ids"]]

    cancel = threading.Event()

    def on_event(event):
        if isinstance(event, events.BytesProgress) and event.name == "big":
            cancel.set()

    with pytest.raises(PublishCancelled, match="Nothing was published"):
        retry(session, box, entry.id, on_event=on_event, cancel=cancel)
    assert check.query(f'select id from AssetVersion where id is "{first.version_id}"').first() is None
    assert all(file_status(embedded_server, i) == 404 for i in [*plate_ids, first.component_ids[1]])
    check.close()
    assert box.get(entry.id).state == "cancelled"
    assert digest_tree([plates, big]) == before


def test_a_component_taken_out_of_its_location_is_published_again(session, fresh_session, sandbox, tmp_path):
    movie = tmp_path / "edit.mov"
    movie.write_bytes(b"e" * 4000)
    box = Outbox(tmp_path / "outbox")
    first = run_publish(session, PublishRequest(stage_paths([str(movie)]).components,
                                                new_version=new_version(sandbox)), outbox=box)
    check = fresh_session()
    server = check.get_location("ftrack.server")
    server.remove_component(check.get("Component", first.component_ids[0]))  # the row stays, the file goes
    entry = box.entries()[0]
    entry.state = "failed"
    box.save(entry)
    second = retry(session, box, entry.id)
    assert second.component_ids[0] != first.component_ids[0]
    rows = check.query(f'select id from Component where version_id is "{first.version_id}"').all()
    assert [r["id"] for r in rows] == second.component_ids
    out = tmp_path / "download"
    server.download(check.get("Component", second.component_ids[0]), out)
    assert out.read_bytes() == movie.read_bytes()
    check.close()


def test_onto_an_existing_version_through_the_outbox_notes_the_comment(session, fresh_session, sandbox, tmp_path):
    movie = tmp_path / "edit.mov"
    movie.write_bytes(b"e" * 4000)
    existing = run_publish(session, PublishRequest(stage_paths([str(movie)]).components,
                                                   new_version=new_version(sandbox), comment="the cut"))
    plates = make_plates(tmp_path / "plates")
    box = Outbox(tmp_path / "outbox")
    result = run_publish(session, PublishRequest(stage_paths([str(plates)]).components,
                                                 version_id=existing.version_id, comment="plates added"), outbox=box)
    assert result.version_id == existing.version_id and not result.created_version
    entry = box.entries()[0]
    assert entry.state == "done" and not entry.steps["version_created"]
    check = fresh_session()
    version = check.query(f'select comment, components.name, notes.content from AssetVersion '
                          f'where id is "{existing.version_id}"').one()
    # The version keeps the words it was published with; the new ones are a note on it.
    assert version["comment"] == "the cut"
    assert [n["content"] for n in version["notes"]] == ["plates added"]
    assert sorted(c["name"] for c in version["components"]) == ["edit", "plate"]
    check.close()


def test_resume_skips_entries_another_process_is_running(tmp_path):
    box = Outbox(tmp_path / "outbox")
    entry = box.add(PublishRequest([], version_id="v1", review_path="/m.mov"), server_url="u", api_user="d")
    with Outbox(box.root).claim(entry.id):
        assert resume_unfinished(None, box) == []  # no session needed: nothing was run
    assert box.get(entry.id).state == "queued"
