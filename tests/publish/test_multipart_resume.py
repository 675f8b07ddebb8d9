"""A multipart upload cut by a server crash resumes from the outbox: only the missing parts are
sent again (counted in the server's record), and the progress starts where it stopped."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from publisher.publish import events
from publisher.publish.errors import PublishError
from publisher.publish.outbox import Outbox
from publisher.publish.runner import NewVersion, PublishRequest, retry, run_publish
from publisher.publish.staging import stage_paths

MIB = 1024 * 1024


def _puts(record: Path) -> list[int]:
    lines = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    return [int(r["path"].rsplit("/", 1)[1]) for r in lines if r["method"] == "PUT" and r["path"].startswith("/upload/")]


def _killable_publish(server_factory, session_on, sandbox_maker, tmp_path, mib: int):
    """A throttled server recording its requests, a session on it, and the request publishing a
    new ``mib`` MiB movie to a fresh sandbox: ``(record, server, session, movie, request)``."""
    record = tmp_path / "record.jsonl"
    server = server_factory(extra_args=["--record", str(record), "--throttle", "800"])
    session = session_on(server)
    sandbox = sandbox_maker(session)
    movie = tmp_path / "big.mov"
    with open(movie, "wb") as out:
        for _ in range(mib):
            out.write(os.urandom(MIB))
    request = PublishRequest(stage_paths([str(movie)]).components, new_version=NewVersion(
        sandbox.shot_id, f"mp_{uuid.uuid4().hex[:6]}", sandbox.asset_type_id, task_id=sandbox.task_id))
    return record, server, session, movie, request


def _publish_until_killed(session, request, box: Outbox, server, at: int) -> list[object]:
    """Publish ``request`` through ``box``, killing ``server`` once ``at`` bytes are acknowledged;
    the events received. ``session`` is closed afterwards."""
    received: list[object] = []

    def on_event(event):
        received.append(event)
        if isinstance(event, events.BytesProgress) and event.done >= at and server.process.poll() is None:
            server.kill()

    try:
        run_publish(session, request, on_event=on_event, outbox=box)
    except PublishError:
        pass
    session.close()
    assert server.process.poll() is not None, "the server was killed mid-upload"
    return received


def test_server_killed_mid_upload_then_resume_sends_only_missing_parts(server_factory, sandbox_maker, session_on,
                                                                       tmp_path, monkeypatch):
    monkeypatch.setenv("FTRACK_UPLOAD_MAX_CONNECTIONS", "1")  # parts one after another: a clear cut
    record, server, first, movie, request = _killable_publish(server_factory, session_on, sandbox_maker,
                                                              tmp_path, 40)
    box = Outbox(tmp_path / "outbox")
    received = _publish_until_killed(first, request, box, server, 16 * MIB)
    phases = [e for e in received if isinstance(e, events.TransferPhase)]
    first_bytes = next(i for i, e in enumerate(received) if isinstance(e, events.BytesProgress))
    assert phases and received.index(phases[0]) < first_bytes, "the phase before the first byte is reported"
    entry = box.entries()[0]
    uploads = entry.steps["components"]["big"]["uploads"]
    (record_of_big,) = uploads.values()
    acknowledged = sorted(int(n) for n in record_of_big["e_tags"])
    assert acknowledged[:2] == [1, 2] and len(acknowledged) < 5
    sent_before = len(_puts(record))

    back = server_factory(data_dir=server.data_dir, extra_args=["--record", str(record)])
    second = session_on(back)
    resumed: list[object] = []
    result = retry(second, box, entry.id, on_event=resumed.append)
    after = _puts(record)[sent_before:]
    assert sorted(after) == [n for n in range(1, 6) if n not in acknowledged], "only the missing parts are sent"
    progress = [e for e in resumed if isinstance(e, events.BytesProgress)]
    assert progress[0].done == len(acknowledged) * 8 * MIB, "the progress starts where it stopped"
    assert progress[-1].done == 40 * MIB
    assert box.get(entry.id).state == "done" and "uploads" not in box.get(entry.id).steps["components"]["big"]
    component = second.get("FileComponent", result.component_ids[0])
    out = tmp_path / "download"
    second.get_location("ftrack.server").download(component, out)
    assert out.read_bytes() == movie.read_bytes()
    second.close()


def test_resume_of_an_upload_the_server_no_longer_has_starts_it_afresh(server_factory, sandbox_maker, session_on,
                                                                       tmp_path, monkeypatch):
    import requests

    monkeypatch.setenv("FTRACK_UPLOAD_MAX_CONNECTIONS", "1")
    record, server, first, movie, request = _killable_publish(server_factory, session_on, sandbox_maker,
                                                              tmp_path, 24)
    box = Outbox(tmp_path / "outbox")
    _publish_until_killed(first, request, box, server, 8 * MIB)
    entry = box.entries()[0]
    component_id = entry.steps["components"]["big"]["component_id"]
    assert entry.steps["components"]["big"]["uploads"], "the first part was recorded"
    back = server_factory(data_dir=server.data_dir, extra_args=["--record", str(record)])
    # Someone removed the unfinished upload meanwhile (as its expiry would).
    requests.post(f"{back.url}/component/remove", timeout=30,
                  params={"id": component_id, "username": back.api_user, "apiKey": back.api_key})
    sent_before = len(_puts(record))
    second = session_on(back)
    result = retry(second, box, entry.id)
    assert sorted(_puts(record)[sent_before:]) == [1, 2, 3], "every part is sent to the new upload"
    out = tmp_path / "download"
    second.get_location("ftrack.server").download(second.get("FileComponent", result.component_ids[0]), out)
    assert out.read_bytes() == movie.read_bytes()
    second.close()
