"""Make reviewable and Play through the window, against the window tests' embedded server."""

from __future__ import annotations

import json

from PySide6.QtCore import QUrl

from publisher.api import Session
from publisher.ui import version_model as vm


def _server_job(server, job_id: str) -> tuple[str, dict]:
    check = Session(server.url, server.api_user, server.api_key)
    try:
        job = check.query(f'select status, data from Job where id is "{job_id}"').one()
        return job["status"], json.loads(job["data"])
    finally:
        check.close()


def test_make_reviewable_shows_encoding_then_playable_and_the_new_thumbnail(
        qtbot, window, tmp_path, make_movie, embedded_server, monkeypatch):
    c = window.controller
    row = c.details.row
    movie = make_movie(tmp_path / "review.mov", frames=120, size=(960, 540))  # encodes for a while: polled mid-way
    texts: list[str] = []

    def watch(top, _bottom, _roles=()):
        if top.column() <= vm.REVIEW and c.version_model.row_for_id(row.id) >= 0:
            texts.append(c.version_model.review_text(row.id))

    c.version_model.dataChanged.connect(watch)
    with qtbot.waitSignal(c.jobFinished, timeout=120000) as finished:
        key = c.make_reviewable(row.id, str(movie))
        top = c.activity_model.item(key)
        assert top.state == "running" and top.kind == "review"
    job_id, status, payload = finished.args
    assert status == "done", payload
    assert any(t.startswith("encoding ") and t.endswith(" %") for t in texts), texts
    encode = c.activity_model.encode_for_job(job_id)
    assert encode.state == "done" and c.activity_model.index_of(encode, 1).data() == "playable"
    assert top.state == "done"

    # When the job ends the row is read again: playable, with the encode's JPEG as its thumbnail.
    image_id = next(o["component_id"] for o in payload["output"] if o["format"] == "image/jpeg")
    qtbot.waitUntil(lambda: c.version_model.row_at(c.version_model.row_for_id(row.id)).thumbnail_id == image_id,
                    timeout=30000)
    assert c.version_model.review_text(row.id) == "playable"
    qtbot.waitUntil(lambda: c.thumbnails.pixmap(image_id) is not None, timeout=30000)
    assert c.details.row.thumbnail_id == image_id

    # Play downloads the MP4 into the cache and hands it to the desktop.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    opened: list[QUrl] = []
    c.review.open_url = lambda url: opened.append(url) or True
    with qtbot.waitSignal(c.playStarted, timeout=60000) as played:
        window.widget.versions.playRequested.emit(c.version_model.row_at(c.version_model.row_for_id(row.id)))
    path = played.args[0]
    assert path.startswith(str(tmp_path / "cache")) and opened[0].toLocalFile() == path
    with open(path, "rb") as fh:
        assert fh.read(12)[4:8] == b"ftyp", "an MP4 file"


def test_corrupt_movie_ends_failed_with_the_servers_message(qtbot, window, tmp_path, embedded_server):
    c = window.controller
    row = c.details.row
    corrupt = tmp_path / "broken.mov"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypqt  " + bytes(range(256)) * 40)
    errors: list[str] = []
    c.errorRaised.connect(errors.append)
    with qtbot.waitSignal(c.jobFinished, timeout=120000) as finished:
        c.make_reviewable(row.id, str(corrupt))
    job_id, status, _payload = finished.args
    server_status, data = _server_job(embedded_server, job_id)
    assert status == server_status == "failed"
    encode = c.activity_model.encode_for_job(job_id)
    assert encode.state == "failed"
    assert c.activity_model.index_of(encode, 4).data() == data["error"] and data["error"]
    assert any(data["error"] in e for e in errors)
    assert "The review encode of broken.mov failed" in errors[-1], "the banner names the artist's file"
    assert c.version_model.review_text(row.id) in ("failed", "playable")  # an earlier encode may have made it playable


def test_make_reviewable_refuses_a_missing_file_and_play_without_a_movie(qtbot, window, tmp_path):
    c = window.controller
    row = c.details.row
    errors: list[str] = []
    c.errorRaised.connect(errors.append)
    key = c.make_reviewable(row.id, str(tmp_path / "nowhere.mov"))
    qtbot.waitUntil(lambda: c.activity_model.item(key).state == "failed", timeout=30000)
    assert "nowhere.mov does not exist" in c.activity_model.item(key).detail
    assert "nowhere.mov" in errors[-1]

    plain = next(c.version_model.row_at(i) for i in range(c.version_model.loaded())
                 if c.version_model.row_at(i).review_state == "none")
    c.review.open_url = lambda _url: True
    with qtbot.waitSignal(c.errorRaised, timeout=30000) as refused:
        c.play(plain.id)
    assert "has no review movie yet" in refused.args[0]


def test_make_reviewable_from_a_component_in_ftrack_server_and_from_the_button(
        qtbot, window, tmp_path, make_movie, embedded_server):
    from publisher.ui.drop_zone import DropTarget

    c = window.controller
    w = window.widget
    row = c.details.row
    movie = make_movie(tmp_path / "turntable.mov", frames=24)
    with qtbot.waitSignal(c.staged, timeout=20000):
        c.drop([str(movie)], DropTarget("current"))
    name = c.staging_model.components()[0].name
    with qtbot.waitSignal(c.versionPublished, timeout=60000):
        assert c.publish("")
    component = next(comp for comp in c.details.components if comp.name == name)
    assert component.kind == "file" and "ftrack.server" in component.locations

    with qtbot.waitSignal(c.jobFinished, timeout=120000) as finished:
        c.make_reviewable(row.id, f"component:{component.id}")
    job_id, status, payload = finished.args
    assert status == "done" and payload["source_component_id"] == component.id
    assert payload["keep_original"] is True
    assert name in {comp.name for comp in c.details.components}, "the published movie stays"

    # The versions panel's button offers the version's own media; "Other file…" asks for a
    # file, then queues it.
    c.select_version(row)
    w.versions.select_id(row.id)
    # The version's review movie is ready now: Play can play it.
    qtbot.waitUntil(w.versions.play_button.isEnabled, timeout=10000)
    qtbot.waitUntil(lambda: c.details is not None and c.details.row.id == row.id, timeout=10000)
    w.versions.review_button.click()
    assert w.review_chooser.isVisible()
    w.review_chooser.other_button.click()
    dialog = w.review_dialog
    assert dialog.directory().absolutePath() != __import__("os").getcwd()
    assert dialog.isVisible()
    before = len(c.activity_model.publishes())
    with qtbot.waitSignal(c.jobFinished, timeout=120000) as second:
        dialog.fileSelected.emit(str(movie))
        assert len(c.activity_model.publishes()) == before + 1
    assert second.args[1] == "done"
    dialog.reject()


def test_play_says_it_opens_the_player_and_offers_the_folder_when_none_opens(qtbot, window, tmp_path, monkeypatch):
    """Play hands the movie to the desktop's player and says so; with no player it says that and
    offers the download folder (never "Playing" when nothing plays)."""
    c = window.controller
    w = window.widget
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    playable = next(c.version_model.row_at(i) for i in range(c.version_model.loaded())
                    if c.version_model.row_at(i).review_state == "playable")
    news: list[str] = []
    c.statusMessage.connect(news.append)
    opened: list[QUrl] = []
    c.review.open_url = lambda url: opened.append(url) or True
    with qtbot.waitSignal(c.playStarted, timeout=60000):
        c.play(playable.id)
    assert news[-1] == "Opening the review movie in your player"
    assert not any("Playing" in n for n in news)

    c.review.open_url = lambda url: opened.append(url) and False
    with qtbot.waitSignal(c.review.playFailed, timeout=60000) as failed:
        c.play(playable.id)
    message, folder = failed.args
    assert "No movie player opened the review movie" in w.banner.message()
    assert folder and folder in message
    assert w.banner.action_button.isVisibleTo(w.banner) and w.banner.action_button.text() == "Open the download folder"
    w.banner.action_button.click()
    assert opened[-1].toLocalFile() == folder


def test_make_reviewable_offers_the_versions_own_media_first(qtbot, window, embedded_server):
    """The demo's first plate version holds an image sequence (frame 1006 missing) and the
    review outputs: the chooser lists the sequence, not the outputs, and encodes what is chosen."""
    from pathlib import Path

    from publisher.ui.review_chooser import REVIEW_OUTPUTS

    c = window.controller
    w = window.widget
    shot = w.browser.view.currentIndex().parent()  # the window opens on a task of the first shot
    with qtbot.waitSignal(c.versionsLoaded, timeout=30000):
        w.browser.view.setCurrentIndex(shot)
    plate = next((c.version_model.row_at(i) for i in range(c.version_model.loaded())
                  if c.version_model.row_at(i).asset_name == "plate" and c.version_model.row_at(i).version == 1), None)
    assert plate is not None, "the demo's plate v001 is in the first shot"
    w.versions.select_id(plate.id)
    qtbot.waitUntil(lambda: c.details is not None and c.details.row.id == plate.id, timeout=20000)
    sequence = next(comp for comp in c.details.components if comp.kind == "sequence")
    w.versions.review_button.click()
    chooser = w.review_chooser
    assert chooser.isVisible()
    labels = [chooser.list.item(i).text() for i in range(chooser.list.count())]
    media = [chooser.list.item(i).data(0x0100) for i in range(chooser.list.count())]
    assert f"component:{sequence.id}" in media
    assert any("(sequence)" in label and sequence.name in label for label in labels)
    assert not any(label.split(".")[0] in REVIEW_OUTPUTS for label in labels), labels
    with qtbot.waitSignal(c.jobFinished, timeout=120000) as finished:
        chooser.choose(f"component:{sequence.id}")
    job_id, status, payload = finished.args
    assert status == "done", payload
    assert payload["source_component_id"] == sequence.id and payload["keep_original"] is True

    # "Other file…" opens in the home folder, not the working directory.
    w.versions.review_button.click()
    w.review_chooser.other_button.click()
    assert not w.review_chooser.isVisible()
    assert Path(w.review_dialog.directory().absolutePath()) == Path.home()
    w.review_dialog.reject()
