"""The embedded server is restarted on the same folder and port when it dies, and a publish
through it carries on; a deliberate stop is not taken for a crash."""

from __future__ import annotations

import os
import queue
import signal

import requests

from publisher.embedded import DataFolderInUseError, EmbeddedServer
from publisher.server.folder_lock import FolderLock
from publisher.embedded_keeper import ServerDied, ServerKeeper, ServerLost, ServerRestarted


def _query(info) -> int:
    return requests.post(f"{info.url}/api", json=[{"action": "query_server_information"}],
                         headers={"ftrack-user": info.api_user, "ftrack-api-key": info.api_key},
                         timeout=10).status_code


def test_a_killed_server_is_reaped_and_restarted_on_the_same_port(tmp_path):
    server = EmbeddedServer(tmp_path / "data")
    before = server.start()
    events: queue.Queue = queue.Queue()
    keeper = ServerKeeper(server, events.put).start()
    try:
        dead = server.process
        os.kill(dead.pid, signal.SIGKILL)
        died = events.get(timeout=10)
        assert isinstance(died, ServerDied) and died.exit_code == -signal.SIGKILL
        assert dead.poll() is not None, "the dead child was reaped (no zombie)"
        restarted = events.get(timeout=60)
        assert isinstance(restarted, ServerRestarted)
        assert restarted.info == before, "same URL, user and key: the app's sessions carry on"
        assert _query(before) == 200
    finally:
        keeper.stop()
    assert events.empty(), "a deliberate stop is not a crash"
    assert server.process.poll() is not None


def test_a_server_that_cannot_come_back_is_reported_lost(tmp_path):
    server = EmbeddedServer(tmp_path / "data", startup_timeout=20)
    server.start()
    events: queue.Queue = queue.Queue()
    keeper = ServerKeeper(server, events.put, delays=(1.0, 0.2)).start()
    holder = FolderLock(tmp_path / "data")
    try:
        # Something else takes the data folder while the server is down: it cannot come back.
        server.kill()
        holder.acquire()
        assert isinstance(events.get(timeout=10), ServerDied)
        lost = events.get(timeout=60)
        assert isinstance(lost, ServerLost)
        assert isinstance(lost.error, DataFolderInUseError)
        assert "already using the data folder" in str(lost.error)
    finally:
        holder.release()
        keeper.stop()
