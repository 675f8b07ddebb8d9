"""The details panel shows a version's notes and adds one through a worker, as the server stores it."""

from __future__ import annotations

from publisher.api import Session


def test_details_show_the_versions_notes_and_add_one(qtbot, window, embedded_server):
    c = window.controller
    w = window.widget
    shot = w.browser.view.currentIndex().parent()  # the window opens on a task of the first shot
    with qtbot.waitSignal(c.versionsLoaded, timeout=30000):
        w.browser.view.setCurrentIndex(shot)
    comp = next(c.version_model.row_at(i) for i in range(c.version_model.loaded())
                if c.version_model.row_at(i).asset_name == "comp" and c.version_model.row_at(i).version == 2)
    w.versions.select_id(comp.id)
    qtbot.waitUntil(lambda: c.details is not None and c.details.row.id == comp.id, timeout=20000)
    panel = w.details
    # The demo's two notes on comp v002, oldest first, with author and date.
    assert panel.notes.count() == 2
    first = panel.notes.item(0).text()
    assert "Much better. Flare is a touch strong on frame 1008." in first and "  ·  " in first
    assert first.split("  ·  ")[0].strip() not in ("", "someone")
    assert panel.tabs.tabText(1) == "Notes (2)"

    panel.tabs.setCurrentIndex(1)
    qtbot.keyClicks(panel.note_edit, "Grain matches the plate now.")
    with qtbot.waitSignal(c.browse.noteAdded, timeout=20000) as added:
        qtbot.keyClick(panel.note_edit, "\r")
        assert not panel.note_edit.isEnabled(), "no second note while the first is on its way"
    version_id, note = added.args
    assert version_id == comp.id and note.text == "Grain matches the plate now."
    assert panel.notes.count() == 3 and "Grain matches the plate now." in panel.notes.item(2).text()
    assert panel.note_edit.text() == "" and panel.note_edit.isEnabled()
    assert panel.tabs.tabText(1) == "Notes (3)"

    check = Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key)
    try:
        stored = check.query(f'select content, parent_id, user_id from Note where id is "{note.id}"').one()
        user = check.query(f'select id from User where username is "{embedded_server.api_user}"').one()
    finally:
        check.close()
    assert stored["content"] == "Grain matches the plate now." and stored["parent_id"] == comp.id
    assert stored["user_id"] == user["id"]


def test_an_empty_note_is_not_sent_and_a_failed_one_keeps_its_words(qtbot, window):
    c = window.controller
    panel = window.widget.details
    assert c.details is not None
    panel.note_edit.setText("   ")
    panel.note_button.click()
    assert panel.note_edit.isEnabled(), "nothing was sent"
    errors: list[str] = []
    c.errorRaised.connect(errors.append)
    with qtbot.waitSignal(c.browse.noteFailed, timeout=20000):
        c.browse.add_note("00000000-0000-0000-0000-000000000000", "lost?")
    assert "no longer exists" in errors[-1]
