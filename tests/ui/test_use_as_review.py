"""A staged movie or still used as the review (issue 17): an ``ftrackreview-mp4`` /
``ftrackreview-image`` component with ``ftr_meta`` read from the file; a .mov is encoded."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from publisher.api import Session
from publisher.publish.review_media import ReviewMediaError, ReviewUse, read_meta, review_use
from publisher.ui.drop_target import DropTarget


def test_meta_is_read_from_the_files(tmp_path, make_movie):
    movie = make_movie(tmp_path / "take.mp4", frames=30, size=(96, 54), rate=25)
    meta = read_meta(str(movie))
    assert (meta.frameIn, meta.frameOut, meta.frameRate, meta.width, meta.height) == (0, 29, 25, 96, 54)
    still = tmp_path / "frame.png"
    Image.new("RGB", (120, 80)).save(still)
    assert (read_meta(str(still)).width, read_meta(str(still)).height) == (120, 80)
    assert review_use("a.mov") is ReviewUse.ENCODE and review_use("a.exr") is None
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a movie")
    with pytest.raises(ReviewMediaError, match="broken.mp4"):
        read_meta(str(broken))


def test_staged_movie_and_still_published_as_review_with_ftr_meta(qtbot, server_factory, settings, outbox,
                                                                  tmp_path, make_movie):
    from publisher.ui.window import MainWindow

    server = server_factory()
    session = Session(server.url, server.api_user, server.api_key)
    win = MainWindow(session, settings=settings, outbox=outbox)
    qtbot.addWidget(win)
    c = win.controller
    try:
        with qtbot.waitSignal(c.versionsLoaded, timeout=30000):
            win.start()
        qtbot.waitUntil(lambda: c.details is not None, timeout=30000)
        version = c.details.row
        movie = make_movie(tmp_path / "take.mp4", frames=12, size=(64, 48), rate=24)
        still = tmp_path / "still.png"
        Image.new("RGB", (32, 20), (200, 10, 10)).save(still)
        with qtbot.waitSignal(c.staged, timeout=20000):
            c.drop([str(movie), str(still)], DropTarget("current"))
        view = win.widget.staging.view
        rows = c.staging_model.components()
        by_path = {r.path: i for i, r in enumerate(rows)}
        assert view.review_action_text(by_path[str(movie)]) == "Use as review"
        view.useAsReviewRequested.emit(by_path[str(movie)])
        view.useAsReviewRequested.emit(by_path[str(still)])
        qtbot.waitUntil(lambda: {r.name for r in c.staging_model.components()}
                        == {"ftrackreview-mp4", "ftrackreview-image"}, timeout=20000)
        assert c.staging_model.errors() == []
        with qtbot.waitSignal(c.versionPublished, timeout=60000):
            assert c.publish("")
        check = Session(server.url, server.api_user, server.api_key)
        try:
            comps = {x["name"]: x["id"] for x in check.query(
                f'select id, name from Component where version_id is "{version.id}"').all()}
            metas = {}
            for name in ("ftrackreview-mp4", "ftrackreview-image"):
                row = check.query(f'select value from Metadata where parent_id is "{comps[name]}" '
                                  'and key is "ftr_meta"').first()
                metas[name] = json.loads(row["value"])
        finally:
            check.close()
        assert metas["ftrackreview-mp4"] == {"frameIn": 0, "frameOut": 11, "frameRate": 24, "width": 64, "height": 48}
        assert metas["ftrackreview-image"]["width"] == 32 and metas["ftrackreview-image"]["height"] == 20
    finally:
        c.shutdown()
        session.close()


def test_a_staged_mov_is_encoded_as_the_review(qtbot, window, tmp_path, make_movie):
    c = window.controller
    mov = make_movie(tmp_path / "take.mov", frames=6)
    with qtbot.waitSignal(c.staged, timeout=20000):
        c.drop([str(mov)], DropTarget("current"))
    assert window.widget.staging.view.review_action_text(0) == "Use as review (encode it on the server)"
    window.widget.staging.view.useAsReviewRequested.emit(0)
    request = c.staging.build_request(c.staging_model.components(), "")
    assert request.review_path == str(mov)
