"""Crashes mid-publish, for real: the server killed during an upload, and the publishing process
killed (SIGKILL) during an upload. The outbox entry keeps what was done; a retry or the next
start finishes the publish with no duplicate components and every file complete."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

from publisher.publish import events
from publisher.publish.errors import PublishCancelled, PublishError
from publisher.publish.outbox import Outbox
from publisher.publish.runner import NewVersion, PublishRequest, retry, run_publish
from publisher.publish.staging import stage_paths


def make_inputs(folder: Path, megabytes: int = 6) -> list[str]:
    """notes.txt (small), plates/ (3 frames) and big.mov (``megabytes`` MiB), in publish order."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("notes " * 100)
    plates = folder / "plates"
    plates.mkdir()
    for f in (1001, 1002, 1003):
        (plates / f"plate.{f}.exr").write_bytes(f"frame {f} ".encode() * 300)
    block = hashlib.sha256(b"big").digest() * 32768
    with open(folder / "big.mov", "wb") as out:
        for i in range(megabytes):
            out.write(bytes([i]) + block[1:])
    return [str(folder / "notes.txt"), str(plates), str(folder / "big.mov")]


def staged_in_order(paths: list[str]):
    by_name = {c.name: c for c in stage_paths(paths).components}
    return [by_name["notes"], by_name["plate"], by_name["big"]]


def assert_complete_once(session, version_id: str, folder: Path, tmp_path: Path) -> None:
    """The version holds notes, plate (3 frames) and big exactly once, each file downloadable and
    equal to the artist's file."""
    rows = session.query(f'select id, name from Component where version_id is "{version_id}"').all()
    names = sorted(r["name"] for r in rows)
    assert names == ["big", "notes", "plate"]
    by_name = {r["name"]: r for r in rows}
    server = session.get_location("ftrack.server")
    for name, source in (("notes", folder / "notes.txt"), ("big", folder / "big.mov")):
        out = tmp_path / f"download-{name}"
        server.download(session.get("FileComponent", by_name[name]["id"]), out)
        assert out.read_bytes() == source.read_bytes()
    members = session.query(f'select id, name from FileComponent where container_id is "{by_name["plate"]["id"]}"').all()
    assert sorted(m["name"] for m in members) == ["1001", "1002", "1003"]
    for m in members:
        out = tmp_path / f"frame-{m['name']}"
        server.download(m, out)
        assert out.read_bytes() == (folder / "plates" / f"plate.{m['name']}.exr").read_bytes()


def test_server_killed_mid_upload_then_retry_on_the_restarted_server(server_factory, sandbox_maker,
                                                                      session_on, tmp_path):
    server = server_factory()
    first = session_on(server)
    sandbox = sandbox_maker(first)
    folder = tmp_path / "artist"
    paths = make_inputs(folder)
    box = Outbox(tmp_path / "outbox")
    request = PublishRequest(staged_in_order(paths), new_version=NewVersion(
        sandbox.shot_id, f"crash_{uuid.uuid4().hex[:6]}", sandbox.asset_type_id, task_id=sandbox.task_id))
    killed = threading.Event()
    received = []

    def on_event(event):
        received.append(event)
        if (isinstance(event, events.BytesProgress) and event.name == "big" and event.done > event.total // 10
                and not killed.is_set()):
            killed.set()
            server.kill()

    with pytest.raises(PublishError) as info:
        run_publish(first, request, on_event=on_event, outbox=box)
    first.close()
    assert killed.is_set()
    message = str(info.value)
    assert "failed while publishing component 'big'" in message
    assert "Already published and kept: notes, plate" in message and "retry" in message
    assert received[-1] == events.PublishFailed(message)
    entry = box.entries()[0]
    assert entry.state == "failed" and entry.error == message
    components = entry.steps["components"]
    assert {n: r["state"] for n, r in components.items()} == {"notes": "done", "plate": "done", "big": "failed"}
    assert components["big"]["error"]
    done_ids = {n: components[n]["component_id"] for n in ("notes", "plate")}

    back = server_factory(data_dir=server.data_dir)
    second = session_on(back)
    resumed = []
    result = retry(second, box, entry.id, on_event=resumed.append)
    assert result.version_id == entry.steps["version_id"]
    # Only big was sent again; notes and plate were found on the server and kept.
    assert [e.components for e in resumed if isinstance(e, events.PublishStarted)] == [["big"]]
    assert dict(zip(["notes", "plate"], result.component_ids[:2])) == done_ids
    assert box.get(entry.id).state == "done"
    assert_complete_once(second, result.version_id, folder, tmp_path)
    versions = second.query(f'select id from AssetVersion where asset.name is "{request.new_version.asset_name}"').all()
    assert len(versions) == 1
    second.close()


KILLED_SCRIPT = textwrap.dedent("""
    import sys, time
    from publisher.api.session import Session
    from publisher.publish import events
    from publisher.publish.outbox import Outbox
    from publisher.publish.runner import NewVersion, PublishRequest, run_publish
    from publisher.publish.staging import stage_paths

    context_id, task_id, type_id, asset, *paths = sys.argv[1:]
    by_name = {c.name: c for c in stage_paths(paths).components}
    request = PublishRequest([by_name["notes"], by_name["plate"], by_name["big"]],
                             new_version=NewVersion(context_id, asset, type_id, task_id=task_id))

    def on_event(event):
        if isinstance(event, events.BytesProgress) and event.name == "big" and event.done > event.total // 10:
            print("UPLOADING", flush=True)
            time.sleep(120)  # hold the transfer here until the test kills this process

    run_publish(Session(), request, on_event=on_event, outbox=Outbox())
    print("FINISHED", flush=True)
""")


def test_app_killed_mid_publish_is_resumed_by_the_next_start(embedded_server, server_env, fresh_session,
                                                              sandbox, tmp_path):
    folder = tmp_path / "artist"
    paths = make_inputs(folder)
    env = dict(server_env, XDG_DATA_HOME=str(tmp_path / "data"))
    asset = f"killed_{uuid.uuid4().hex[:6]}"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_SCRIPT, sandbox.shot_id, sandbox.task_id, sandbox.asset_type_id, asset, *paths],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "UPLOADING", proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    outbox_dir = tmp_path / "data" / "ftrack-publisher" / "outbox"
    entry = Outbox(outbox_dir).entries()[0]
    assert entry.state == "running"  # as the crash left it
    assert {n: r["state"] for n, r in entry.steps["components"].items()} == {
        "notes": "done", "plate": "done", "big": "pending"}

    # A publish to another server waits in the same outbox: --resume leaves it alone.
    elsewhere = Outbox(outbox_dir).add(entry.request, server_url="http://elsewhere.example:8080", api_user="demo")

    # The next start: `publish --resume` finishes what the outbox holds for this server.
    done = subprocess.run([sys.executable, "-m", "publisher", "publish", "--resume"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "resuming notes, plate, big to a new version" in done.stderr
    # The first line names the version by its path (the CLI's report); the ids follow.
    assert done.stdout.splitlines()[1] == f"version {entry.steps['version_id']}"
    assert "1 unfinished publish in the outbox belongs to another server" in done.stderr
    assert Outbox(outbox_dir).get(entry.id).state == "done"
    assert Outbox(outbox_dir).get(elsewhere.id).state == "queued"
    check = fresh_session()
    versions = check.query(f'select id from AssetVersion where asset.name is "{asset}"').all()
    assert [v["id"] for v in versions] == [entry.steps["version_id"]]
    assert_complete_once(check, entry.steps["version_id"], folder, tmp_path)
    check.close()
    # Nothing left to resume.
    again = subprocess.run([sys.executable, "-m", "publisher", "publish", "--resume"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "nothing to resume" in again.stderr


def test_a_cancel_while_the_server_is_down_is_finished_when_it_is_back(server_factory, sandbox_maker,
                                                                       session_on, tmp_path):
    server = server_factory()
    first = session_on(server)
    sandbox = sandbox_maker(first)
    folder = tmp_path / "artist"
    paths = make_inputs(folder, megabytes=4)
    box = Outbox(tmp_path / "outbox")
    asset = f"gone_{uuid.uuid4().hex[:6]}"
    request = PublishRequest(staged_in_order(paths), new_version=NewVersion(
        sandbox.shot_id, asset, sandbox.asset_type_id, task_id=sandbox.task_id))
    cancel = threading.Event()

    def on_event(event):
        if isinstance(event, events.BytesProgress) and event.name == "big" and not cancel.is_set():
            server.kill()  # the server dies, and the artist presses Cancel
            cancel.set()

    with pytest.raises(PublishCancelled) as info:
        run_publish(first, request, on_event=on_event, cancel=cancel, outbox=box)
    first.close()
    assert "could not all be removed" in str(info.value) and "Retry when the server answers" in str(info.value)
    entry = box.entries()[0]
    assert entry.state == "failed" and entry.steps["cancel_pending"]
    version_id = entry.steps["version_id"]

    back = server_factory(data_dir=server.data_dir)
    second = session_on(back)
    assert second.query(f'select id from AssetVersion where id is "{version_id}"').first() is not None
    received = []
    with pytest.raises(PublishCancelled, match="Nothing was published"):
        retry(second, box, entry.id, on_event=received.append)
    # The retry finished the cancel; it did not publish the rest.
    assert not any(isinstance(e, events.PublishStarted) for e in received)
    assert box.get(entry.id).state == "cancelled"
    assert second.query(f'select id from AssetVersion where id is "{version_id}"').first() is None
    assert second.query(f'select id from Asset where name is "{asset}"').all() == []
    second.close()
