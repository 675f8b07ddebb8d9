"""A failed parent row never shows more progress than its children (issue 17), and the dock
keeps the newest publish in sight."""

from __future__ import annotations

from publisher.publish import events
from publisher.ui.activity_model import ActivityModel


def test_failed_parent_shows_no_more_than_its_children():
    model = ActivityModel()
    model.add_publish("a", "Publish to comp v002", components=[("comp", 1000)])
    model.apply_event("a", events.PublishStarted(1000, ["comp"]))
    model.apply_event("a", events.ComponentStarted("comp", 1000))
    model.apply_event("a", events.BytesProgress("comp", 800, 1000, 800, 1000))
    top, child = model.item("publish:a"), model.item("publish:a/transfer:comp")
    assert top.done == 800
    # The transfer is tried again from the start (its bytes were undone), then fails.
    model.apply_event("a", events.ComponentStarted("comp", 1000))
    assert child.done == 0 and top.done == 0
    model.apply_event("a", events.BytesProgress("comp", 100, 1000, 100, 1000))
    model.apply_event("a", events.PublishFailed("The disk is full."))
    assert top.state == "failed"
    assert top.fraction <= sum(c.done for c in top.children) / top.total


def test_the_dock_scrolls_to_the_publish_that_starts_running(qtbot):
    from publisher.ui.activity_panel import ActivityPanel

    model = ActivityModel()
    panel = ActivityPanel(model)
    qtbot.addWidget(panel)
    panel.resize(500, 120)
    panel.show()
    for n in range(30):
        model.add_publish(f"p{n}", f"Publish {n}", components=[("c", 10)])
    last = model.index(model.rowCount() - 1, 0)
    qtbot.waitUntil(lambda: panel.view.visualRect(last).intersects(panel.view.viewport().rect()), timeout=5000)
    assert panel.view.currentIndex().row() == last.row()
    # An old one runs again (a retry, a resume): the dock brings it into sight.
    first = model.item("publish:p0")
    model.update(first, state="running")
    index = model.index(0, 0)
    qtbot.waitUntil(lambda: panel.view.visualRect(index).intersects(panel.view.viewport().rect()), timeout=5000)
    assert panel.view.currentIndex().row() == 0
