"""The stock ftrack-python-api 3.1.0 ``EventHub`` against the embedded server's hub."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from publisher.embedded import EmbeddedServer

try:
    from tests.conftest import run_stock
except ImportError:  # pytest run without the repository root on sys.path: load it by path
    import importlib.util

    _spec = importlib.util.spec_from_file_location("_tests_root_conftest", Path(__file__).parents[1] / "conftest.py")
    _root = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_root)
    run_stock = _root.run_stock

pytestmark = pytest.mark.stock

PUBLISH_AND_REPLY = r"""
import json, uuid
import ftrack_api
from ftrack_api.event.base import Event

session = ftrack_api.Session()
hub = session.event_hub
hub.connect()
topic = "stock.test." + uuid.uuid4().hex
seen, replies = [], []
hub.subscribe("topic=%s and data.kind=ping" % topic, lambda e: seen.append(dict(e["data"])) or "pong")
hub.subscribe("topic=%s and data.kind=other" % topic, lambda e: seen.append("wrong"))
hub.publish(Event(topic, data={"kind": "ping"}), on_reply=lambda e: replies.append(e["data"]))
hub.wait(3)
print("RESULT " + json.dumps({"connected": hub.connected, "seen": seen, "replies": replies}))
hub.disconnect()
"""

UPDATE_AFTER_COMMIT = r"""
import json, time, uuid
import ftrack_api

listener = ftrack_api.Session()
listener.event_hub.connect()
updates = []
listener.event_hub.subscribe("topic=ftrack.update", lambda e: updates.append(e["data"]))
writer = ftrack_api.Session()
project = writer.query("Project").first()
shot = writer.create("Shot", {"name": "stock_" + uuid.uuid4().hex[:6], "parent": project})
writer.commit()
deadline = time.time() + 10
while time.time() < deadline and not any(x["entityId"] == shot["id"] for u in updates for x in u["entities"]):
    listener.event_hub.wait(0.2)
entry = [x for u in updates for x in u["entities"] if x["entityId"] == shot["id"]]
print("RESULT " + json.dumps({"entry": entry[0] if entry else None, "project": project["id"]}))
listener.event_hub.disconnect()
"""

RECONNECT = r"""
import json, sys, time
import ftrack_api
from ftrack_api.event.base import Event

session = ftrack_api.Session()
hub = session.event_hub
hub._auto_reconnect_delay = 0.5  # the stock client waits 10 s between attempts
hub.connect()
seen = []
hub.subscribe("topic=stock.restart", lambda e: seen.append(e["data"]))
print("CONNECTED", flush=True)
sys.stdin.readline()  # the server is being restarted
deadline = time.time() + 30
while time.time() < deadline and not hub.connected:
    hub.wait(0.2)
hub.publish(Event("stock.restart", data={"after": "restart"}))
deadline = time.time() + 5
while time.time() < deadline and not seen:
    hub.wait(0.2)
print("RESULT " + json.dumps({"connected": hub.connected, "seen": seen}), flush=True)
hub.disconnect()
"""


def _result(proc: subprocess.CompletedProcess) -> dict:
    line = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_stock_hub_connects_subscribes_publishes_and_gets_replies(stock_python: Path, server_env: dict) -> None:
    found = _result(run_stock(stock_python, PUBLISH_AND_REPLY, server_env, timeout=120))
    assert found == {"connected": True, "seen": [{"kind": "ping"}], "replies": ["pong"]}


def test_stock_hub_hears_another_sessions_commit(stock_python: Path, server_env: dict) -> None:
    found = _result(run_stock(stock_python, UPDATE_AFTER_COMMIT, server_env, timeout=120))
    entry = found["entry"]
    assert entry is not None, "no ftrack.update for the new shot"
    assert entry["entityType"] == "task" and entry["action"] == "add" and entry["entity_type"] == "Shot"
    assert entry["parents"][-1] == {"entityId": found["project"], "entityType": "show", "entity_type": "Project",
                                    "parentId": None}


def test_stock_hub_reconnects_after_a_server_restart(stock_python: Path, tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path / "data")
    server.start()
    port = int(server.url.rsplit(":", 1)[1])
    env = dict(os.environ, FTRACK_SERVER=server.url, FTRACK_API_USER=server.api_user, FTRACK_API_KEY=server.api_key)
    proc = subprocess.Popen([str(stock_python), "-c", RECONNECT], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    again = None
    try:
        assert proc.stdout.readline().strip() == "CONNECTED"
        server.stop()
        again = EmbeddedServer(tmp_path / "data", port=port)
        again.start()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, out + err
        found = _result(subprocess.CompletedProcess(proc.args, 0, out, err))
        assert found == {"connected": True, "seen": [{"after": "restart"}]}
    finally:
        if proc.poll() is None:
            proc.kill()
        server.stop()
        if again is not None:
            again.stop()
