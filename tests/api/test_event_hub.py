"""The client's event hub: the stock client's frames on the wire, and the real embedded
server's hub: subscribe, publish, replies, ``ftrack.update`` after a commit, reconnection
after a restart, a server without a hub, a wrong key."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from publisher.api import Session
from publisher.embedded import EmbeddedServer
from publisher.api.event_hub import (
    EventHub, EventHubAuthenticationError, EventHubConnectionError, EventHubUnavailable, make_event,
)

sys.path.insert(0, str(Path(__file__).parent))
from hub_frames import KEY, OURS_PRELUDE, SCENARIO, STOCK_PRELUDE, USER, RecordingHub, normalise  # noqa: E402

RECORDED = Path(__file__).with_name("data") / "stock_event_hub_frames.json"


def _wait_for(hub: EventHub, condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        hub.wait(0.05)
    assert condition(), "the hub did not deliver in time"


@pytest.fixture
def recording_hub():
    hub = RecordingHub().start()
    yield hub
    hub.stop()


def _play(python: str, prelude: str, url: str, env: dict | None = None) -> None:
    head = f"URL={url!r}; USER={USER!r}; KEY={KEY!r}\n"
    proc = subprocess.run([python, "-c", head + prelude + SCENARIO], capture_output=True, text=True, timeout=60,
                          env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_our_client_sends_the_frames_the_stock_client_sends(recording_hub) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2]))
    _play(sys.executable, OURS_PRELUDE, recording_hub.url, env)
    assert normalise(recording_hub.hub.frames) == json.loads(RECORDED.read_text())


@pytest.mark.stock
def test_the_recorded_stock_exchange_is_what_the_stock_client_sends(stock_python, recording_hub) -> None:
    _play(str(stock_python), STOCK_PRELUDE, recording_hub.url)
    assert normalise(recording_hub.hub.frames) == json.loads(RECORDED.read_text())


# Against the embedded server ---------------------------------------------------------------
@pytest.fixture
def hub(embedded_server):
    found = EventHub(embedded_server.url, embedded_server.api_user, embedded_server.api_key)
    found.connect()
    yield found
    found.disconnect()


def test_subscribe_publish_and_reply(hub: EventHub) -> None:
    topic = f"test.{uuid.uuid4().hex}"
    seen, replies = [], []
    hub.subscribe(f"topic={topic} and data.kind=ping", lambda e: seen.append(e) or {"pong": e["data"]["n"]})
    hub.subscribe(f"topic={topic} and data.kind=other", lambda e: seen.append(e))
    hub.publish(make_event(topic, {"kind": "ping", "n": 3}), on_reply=replies.append)
    _wait_for(hub, lambda: replies)
    assert [e["data"] for e in seen] == [{"kind": "ping", "n": 3}]
    assert seen[0]["source"]["user"]["username"] == hub.api_user
    assert replies[0]["data"] == {"pong": 3}
    assert replies[0]["in_reply_to_event"] == seen[0]["id"]


def test_reply_reaches_only_the_asker(embedded_server, hub: EventHub) -> None:
    other = EventHub(embedded_server.url, embedded_server.api_user, embedded_server.api_key)
    other.connect()
    try:
        topic = f"test.{uuid.uuid4().hex}"
        asked, answers, spied = [], [], []
        other.subscribe(f"topic={topic}", lambda e: asked.append(e) or None)
        # A bystander listening to every reply topic: the server filters by target, so it
        # sees only untargeted ones.
        other.subscribe("topic=ftrack.meta.reply", spied.append, subscriber={"id": "spy"})
        hub.publish(make_event(topic, {"q": 1}), on_reply=answers.append)
        _wait_for(other, lambda: asked)
        other.publish_reply(asked[0], {"a": 1})
        _wait_for(hub, lambda: answers)
        assert answers[0]["data"] == {"a": 1} and answers[0]["in_reply_to_event"] == asked[0]["id"]
        hub.publish(make_event("ftrack.meta.reply", {"untargeted": True}))
        _wait_for(other, lambda: spied)
        assert [e["data"] for e in spied] == [{"untargeted": True}]
    finally:
        other.disconnect()


def test_unsubscribe_stops_delivery(hub: EventHub) -> None:
    topic = f"test.{uuid.uuid4().hex}"
    seen = []
    sid = hub.subscribe(f"topic={topic}", seen.append)
    hub.publish(make_event(topic))
    _wait_for(hub, lambda: seen)
    hub.unsubscribe(sid)
    hub.publish(make_event(topic))
    hub.wait(0.5)
    assert len(seen) == 1
    with pytest.raises(KeyError):
        hub.unsubscribe(sid)


def test_synchronous_publish_runs_local_callbacks_only(hub: EventHub) -> None:
    hub.subscribe("topic=local.sync", lambda e: "A", priority=50)
    hub.subscribe("topic=local.sync", lambda e: "B", priority=60)
    assert hub.publish(make_event("local.sync"), synchronous=True) == ["A", "B"]


def test_a_commit_by_another_session_is_announced(embedded_server, hub: EventHub) -> None:
    updates = []
    hub.subscribe("topic=ftrack.update", updates.append)
    with Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key) as other:
        project = other.query("select id from Project").first()
        shot = other.create("Shot", {"name": f"live_{uuid.uuid4().hex[:6]}", "parent": project})
        other.commit()
        _wait_for(hub, lambda: any(e["entityId"] == shot["id"] for u in updates for e in u["data"]["entities"]))
        entry = next(e for u in updates for e in u["data"]["entities"] if e["entityId"] == shot["id"])
        assert entry["entityType"] == "task" and entry["entity_type"] == "Shot" and entry["action"] == "add"
        assert entry["changes"]["name"]["new"] == shot["name"] and entry["changes"]["name"]["old"] is None
        assert entry["objectTypeId"]
        assert [p["entityId"] for p in entry["parents"]] == [shot["id"], project["id"]]
        assert entry["parents"][-1]["entityType"] == "show"

        updates.clear()
        shot["name"] = shot["name"] + "_b"
        other.commit()
        _wait_for(hub, lambda: updates)
        entry = updates[0]["data"]["entities"][0]
        assert entry["action"] == "update" and entry["keys"] == ["name"]
        assert entry["changes"]["name"]["new"].endswith("_b")

        updates.clear()
        other.delete(shot)
        other.commit()
        _wait_for(hub, lambda: updates)
        assert updates[0]["data"]["entities"][0]["action"] == "remove"


def test_reconnects_after_a_server_restart_and_resubscribes(server_factory, tmp_path) -> None:
    server = server_factory(tmp_path / "restart")
    port = int(server.url.rsplit(":", 1)[1])
    hub = EventHub(server.url, server.api_user, server.api_key, max_backoff=0.5)
    hub.connect()
    try:
        seen = []
        hub.subscribe("topic=test.restart", seen.append)
        server.stop()
        _wait_for(hub, lambda: not hub.connected)
        again = EmbeddedServer(tmp_path / "restart", port=port)
        again.start()
        try:
            _wait_for(hub, lambda: hub.connected, timeout=15)
            assert hub.reconnections >= 1
            hub.publish(make_event("test.restart", {"after": True}))
            _wait_for(hub, lambda: seen)
            assert seen[0]["data"] == {"after": True}
        finally:
            hub.disconnect()
            again.stop()
    finally:
        if hub.connected:
            hub.disconnect()


def test_wrong_key_is_refused_with_a_clear_error(server_factory) -> None:
    # A server of its own: wrong keys count towards the server's login throttle per address.
    server = server_factory()
    hub = EventHub(server.url, server.api_user, "not-the-key")
    with pytest.raises(EventHubAuthenticationError, match="API key"):
        hub.connect()


class _NotFound(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_a_server_without_a_hub_says_so_without_failing() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hub = EventHub(f"http://127.0.0.1:{server.server_address[1]}", "u", "k")
        with pytest.raises(EventHubUnavailable, match="no event hub"):
            hub.connect()
        assert not hub.connected
        with pytest.raises(EventHubConnectionError, match="connect"):
            hub.publish(make_event("x"))
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_that_is_down_is_a_connection_error() -> None:
    hub = EventHub("http://127.0.0.1:9", "u", "k", timeout=2)
    with pytest.raises(EventHubConnectionError, match="Cannot reach"):
        hub.connect()


@pytest.fixture
def movie(tmp_path: Path) -> Path:
    """A real 12-frame H.264 movie, small and quick to encode."""
    import av
    from PIL import Image

    path = tmp_path / "clip.mov"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(12):
            for packet in stream.encode(av.VideoFrame.from_image(Image.new("RGB", (64, 48), (index * 20, 90, 40)))):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_a_multipart_upload_is_announced_when_it_completes(embedded_server, hub: EventHub, tmp_path: Path) -> None:
    added: list = []
    hub.subscribe("topic=ftrack.location.component-added", added.append)
    path = tmp_path / "plate.exr"
    path.write_bytes(os.urandom(17 * 1024 * 1024))  # three parts: no single PUT announces it
    with Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key) as other:
        task = other.query('select id, parent_id from Task where name is "Compositing"').first()
        asset = other.create("Asset", {"name": f"live_{uuid.uuid4().hex[:6]}",
                                       "parent": other.get("Context", task["parent_id"]),
                                       "type": other.query("AssetType").first()})
        version = other.create("AssetVersion", {"asset": asset, "task_id": task["id"]})
        other.commit()
        component = version.create_component(str(path), location=other.get_location("ftrack.server"))
    mine = lambda: [a for a in added if a["data"]["component_id"] == component["id"]]  # noqa: E731
    _wait_for(hub, lambda: bool(mine()))
    assert [a["data"]["location_id"] for a in mine()] == ["3a372bde-05bc-11e4-8908-20c9d081909b"]


def test_uploads_and_a_real_encode_are_announced(embedded_server, hub: EventHub, movie: Path) -> None:
    added, updates = [], []
    hub.subscribe("topic=ftrack.location.component-added", added.append)
    hub.subscribe("topic=ftrack.update", updates.append)
    with Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key) as other:
        task = other.query('select id, parent_id from Task where name is "Compositing"').first()
        asset = other.create("Asset", {"name": f"live_{uuid.uuid4().hex[:6]}", "parent": other.get("Context", task["parent_id"]),
                                       "type": other.query("AssetType").first()})
        version = other.create("AssetVersion", {"asset": asset, "task_id": task["id"]})
        other.commit()
        job = version.encode_media(str(movie))

        def job_entries() -> list[dict]:
            return [e for u in updates for e in u["data"]["entities"] if e["entityId"] == job["id"]]

        _wait_for(hub, lambda: any(e["changes"].get("status", {}).get("new") == "done" for e in job_entries()),
                  timeout=120)
    statuses = [e["changes"]["status"]["new"] for e in job_entries() if "status" in e["changes"]]
    assert statuses == ["running", "done"]
    assert all(e["entityType"] == "job" and e["action"] == "update" for e in job_entries())
    progress = [json.loads(e["changes"]["data"]["new"])["progress"] for e in job_entries() if "data" in e["changes"]]
    assert progress == sorted(progress) and progress[-1] == 100
    # The upload of the source movie was announced, and the thumbnail set on the version.
    assert any(a["data"]["location_id"] == "3a372bde-05bc-11e4-8908-20c9d081909b" for a in added)
    thumbnail = [e for u in updates for e in u["data"]["entities"]
                 if e["entityId"] == version["id"] and "thumbnailid" in e["changes"]]
    assert thumbnail and thumbnail[0]["entityType"] == "assetversion"
