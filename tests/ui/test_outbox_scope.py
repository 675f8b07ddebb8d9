"""Outbox entries belong to the server and user they were made for (issue 11, point 1).

Two real embedded servers: a publish to server B killed mid-upload must not be resumed by a
window on server A (which would leave an empty version on A and the work unfinished on B); the
window shows it as waiting for B, and B's own resume finishes it.
"""

from __future__ import annotations

import signal
import subprocess
import sys

from publisher.api import Session
from publisher.embedded import EmbeddedServer
from publisher.publish.outbox import Outbox, OutboxEntry, belongs_to, embedded_server_key
from publisher.publish.request import PublishRequest

_KILLED_PUBLISHER = r"""
import sys
from publisher.api import Session
from publisher.publish import runner, staging
from publisher.publish.events import BytesProgress
from publisher.publish.outbox import Outbox

url, user, key, outbox_dir, version_id, *paths = sys.argv[1:]
session = Session(url, user, key)
request = runner.PublishRequest(components=staging.stage_paths(paths, set()).components, version_id=version_id)

def on_event(event):
    if isinstance(event, BytesProgress) and 0 < event.done < event.total:
        print("moving", event.name, flush=True)

runner.run_publish(session, request, on_event=on_event, outbox=Outbox(outbox_dir))
"""


def _components(server: EmbeddedServer, version_id: str) -> list[str]:
    check = Session(server.url, server.api_user, server.api_key)
    try:
        return sorted(c["name"] for c in check.query(
            f'select name from Component where version_id is "{version_id}"').all())
    finally:
        check.close()


def _version_count(server: EmbeddedServer) -> int:
    check = Session(server.url, server.api_user, server.api_key)
    try:
        return len(check.query("select id from AssetVersion").all())
    finally:
        check.close()


def _entry(url: str, user: str, key: str = "") -> OutboxEntry:
    return OutboxEntry(id="e", created="", server_url=url, api_user=user, request=PublishRequest(components=[]),
                       server_key=key)


def test_an_entry_belongs_to_its_own_address_user_and_embedded_folder(tmp_path):
    a, b = "http://127.0.0.1:4001", "http://127.0.0.1:4002"
    assert belongs_to(_entry(a + "/", "sam"), a, "sam")
    assert not belongs_to(_entry(b, "sam"), a, "sam"), "two loopback servers are two servers"
    assert not belongs_to(_entry(a, "kim"), a, "sam")
    key = embedded_server_key(tmp_path / "server")
    # The embedded server's port changes between runs; its folder does not.
    assert belongs_to(_entry(a, "sam", key), b, "sam", key)
    assert not belongs_to(_entry(a, "sam", embedded_server_key(tmp_path / "other")), a, "sam", key)
    # An entry the CLI made (no key) for another address stays another server's.
    assert not belongs_to(_entry(b, "sam"), a, "sam", key)


def test_outbox_keeps_the_server_key(tmp_path):
    outbox = Outbox(tmp_path / "outbox")
    entry = outbox.add(PublishRequest(components=[], version_id="v"), server_url="http://x", api_user="u",
                       server_key="embedded:/data")
    assert outbox.get(entry.id).server_key == "embedded:/data"


def test_window_on_server_a_leaves_a_killed_publish_to_server_b_alone(
        qtbot, ui_session, settings, outbox, tmp_path, embedded_server):
    from publisher.ui.window import MainWindow

    server_b = EmbeddedServer(tmp_path / "server-b")
    server_b.start()
    try:
        session_b = Session(server_b.url, server_b.api_user, server_b.api_key)
        version_b = session_b.query("select id from AssetVersion").first()["id"]
        before_b = _components(server_b, version_b)
        first = tmp_path / "to_b_first.txt"
        first.write_bytes(b"a" * 4000)
        big = tmp_path / "to_b_big.bin"
        with open(big, "wb") as fh:
            fh.truncate(700 * 1024 * 1024)
        proc = subprocess.Popen(
            [sys.executable, "-c", _KILLED_PUBLISHER, server_b.url, server_b.api_user, server_b.api_key,
             str(outbox.root), version_b, str(first), str(big)], stdout=subprocess.PIPE, text=True)
        try:
            for line in proc.stdout:
                if line.startswith("moving to_b_big"):
                    break
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(30)
        entry = outbox.unfinished()[0]
        assert entry.server_url == server_b.url
        versions_a = _version_count(embedded_server)

        win = MainWindow(ui_session, settings=settings, outbox=outbox)
        qtbot.addWidget(win)
        c = win.controller
        try:
            with qtbot.waitSignal(c.versionsLoaded, timeout=30000):
                win.start()
            qtbot.waitUntil(lambda: c.activity_model.item(f"publish:{entry.id}") is not None, timeout=30000)
            row = c.activity_model.item(f"publish:{entry.id}")
            assert not row.title.startswith("Resume"), row.title
            assert row.state == "waiting"
            assert f"waiting for {server_b.url}" in row.detail
            qtbot.wait(1500)  # a resume would have run by now
            assert row.state == "waiting"
            assert outbox.get(entry.id).state == entry.state, "the window on A ran B's publish"
            assert _version_count(embedded_server) == versions_a, "A got a version from B's publish"
        finally:
            c.shutdown()

        # B's own resume (the CLI's --resume on B) finishes it there, nothing lost.
        from publisher.publish.runner import resume_unfinished

        results = resume_unfinished(session_b, outbox,
                                    only=lambda e: belongs_to(e, server_b.url, server_b.api_user))
        assert len(results) == 1 and not isinstance(results[0], Exception), results
        assert _components(server_b, version_b) == sorted(before_b + sorted(
            comp.name for comp in entry.request.components))
        session_b.close()
    finally:
        server_b.stop()
