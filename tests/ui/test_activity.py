"""The activity model on its own: a valid Qt model while rows come and go, and the engine's events."""

from __future__ import annotations

from publisher.publish import events
from publisher.ui import roles
from publisher.ui.activity_model import ActivityModel, format_duration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_model_stays_valid_while_it_changes(qtmodeltester):
    clock = Clock()
    model = ActivityModel(clock=clock)
    model.add_publish("a", "Publish to plate v001", components=[("plate", 1000), ("preview", 500)])
    model.add_publish("b", "Publish to comp v002", components=[("comp", 10)])
    qtmodeltester.check(model, force_py=True)

    # Mutate with the tester still watching the model's signals.
    model.apply_event("a", events.PublishStarted(1500, ["plate", "preview"]))
    model.apply_event("a", events.ComponentStarted("plate", 1000))
    for done in (100, 400, 700):
        clock.now += 0.5
        model.apply_event("a", events.BytesProgress("plate", done, 1000, done, 1500))
    plate = model.item("publish:a/transfer:plate")
    assert plate.state == "running" and plate.done == 700
    # 200, 600, 600 B/s over the three half seconds, smoothed (0.7 old + 0.3 new): 320, then 404.
    assert abs(plate.rate - 404.0) < 1e-6
    index = model.index_of(plate, 1)
    assert index.data() == "700 B of 1000 B (70 %)"
    assert index.data(roles.PROGRESS) == 0.7
    assert model.index_of(plate, 3).data() == format_duration(300 / plate.rate)

    model.apply_event("a", events.ComponentDone("plate", "c1"))
    assert model.apply_event("a", events.EncodeQueued("job-1")) == "job-1"
    model.apply_event("a", events.PublishFinished("v1", ["c1"]))
    model.job_progress("job-1", "running", 40)
    encode = model.encode_for_job("job-1")
    assert model.index_of(encode, 1).data() == "encoding 40 %"
    model.job_finished("job-1", "failed", {"error": "The movie is damaged."})
    assert encode.state == "failed" and model.index_of(encode, 4).data() == "The movie is damaged."

    model.apply_event("b", events.PublishStarted(10, ["comp"]))
    model.apply_event("b", events.PublishFailed("Cannot reach the server."))
    top_b = model.item("publish:b")
    assert top_b.state == "failed" and model.item("publish:b/transfer:comp").state == "failed"
    model.reset_children(top_b, keep=lambda c: c.state == "done")
    assert model.item("publish:b/transfer:comp").state == "queued"

    # Clear finished: "a" has ended (its encode too), "b" failed and stays for a retry.
    assert model.clear_finished() == 1
    assert [i.key for i in model.publishes()] == ["publish:b"]
    model.add_publish("c", "Make reviewable: plate v001", kind="review")
    model.add_encode(model.item("publish:c"), "job-2")
    model.remove(model.item("publish:b"))
    assert model.rowCount() == 1 and model.rowCount(model.index(0, 0)) == 1
    qtmodeltester.check(model, force_py=True)


def test_unknown_publish_and_job_are_ignored():
    model = ActivityModel()
    assert model.apply_event("nope", events.PublishStarted(1, [])) is None
    assert model.job_progress("nope", "running", 5) is None
    assert model.rowCount() == 0
