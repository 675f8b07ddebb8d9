"""Activity names what a publish made and keeps its history (issues 11 and 17): finished
publishes name their version with its path, two publishes never share a title, and a window
started later shows the outbox's past publishes."""

from __future__ import annotations

from publisher.api import Session
from publisher.ui.drop_target import DropTarget


def _open(qtbot, session, settings, outbox):
    from publisher.ui.window import MainWindow

    win = MainWindow(session, settings=settings, outbox=outbox)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.controller.versionsLoaded, timeout=30000):
        win.start()
    qtbot.waitUntil(lambda: win.controller.details is not None, timeout=30000)
    return win


def test_finished_publish_names_its_version_and_survives_a_restart(qtbot, server_factory, settings, outbox, tmp_path):
    server = server_factory()
    session = Session(server.url, server.api_user, server.api_key)
    win = _open(qtbot, session, settings, outbox)
    c = win.controller
    try:
        version = c.details.row
        task = c.context
        link = session.query(f'select link from Context where id is "{version.task_id or task.id}"').first()["link"]
        where = " / ".join(item["name"] for item in link[-2:])
        made = f"{where} / {version.asset_name} v{version.version:03d}"
        target = win.widget.staging.target
        qtbot.waitUntil(lambda: made in target.text(), timeout=20000)  # the target line has the path
        note = tmp_path / "history_note.txt"
        note.write_bytes(b"h" * 100)
        with qtbot.waitSignal(c.staged, timeout=20000):
            c.drop([str(note)], DropTarget("current"))
        with qtbot.waitSignal(c.versionPublished, timeout=60000):
            assert c.publish("")
        row = c.activity_model.publishes()[-1]
        assert row.state == "done"
        qtbot.waitUntil(lambda: row.title == f"Published {made}", timeout=10000)
        # Two publishes to one target never carry the same title.
        request = c.staging.build_request([], "")
        first = c.queue.publish_request(request, title="the same place")
        second = c.queue.publish_request(request, title="the same place")
        titles = [c.activity_model.item(k).title for k in (first, second)]
        assert titles[0] != titles[1], titles
        qtbot.waitUntil(lambda: all(c.activity_model.item(k).state in ("done", "failed") for k in (first, second)),
                        timeout=60000)
        qtbot.waitUntil(lambda: outbox.entries() and any(e.made == made for e in outbox.entries()), timeout=10000)
    finally:
        c.shutdown()
    win.close()

    later = _open(qtbot, session, settings, outbox)
    try:
        qtbot.waitUntil(lambda: any(r.title == f"Published {made}" for r in later.controller.activity_model.publishes()),
                        timeout=20000)
        past = next(r for r in later.controller.activity_model.publishes() if r.title == f"Published {made}")
        assert past.state == "done"
    finally:
        later.controller.shutdown()
        session.close()
