"""The window around the models: remembered context, shortcuts, thumbnails, errors, the app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtWidgets import QApplication

from publisher.ui import roles
from publisher.ui.thumbnails import ThumbnailCache


def open_window(qtbot, session, settings):
    from publisher.ui.window import MainWindow

    win = MainWindow(session, settings=settings)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.controller.versionsLoaded, timeout=30000):
        win.start()
    return win


def test_versions_title_names_the_whole_path(window):
    context = window.controller.context
    path = window.controller.context_model.path_label(context.id)
    assert path.count(" / ") >= 2 and path.endswith(" / " + context.name)
    assert window.widget.versions.title.text() == f"Versions of {path}"


def test_status_bar_names_server_and_user(window, embedded_server):
    text = window.identity.text()
    assert embedded_server.url in text and embedded_server.api_user in text


def test_last_context_is_remembered(qtbot, ui_session, settings):
    first = open_window(qtbot, ui_session, settings)
    c = first.controller
    start = c.context
    # pick another task of the same shot, loaded already
    parent = c.context_model.index_for_id(start.id).parent()
    siblings = [c.context_model.index(r, 0, parent).data(roles.ROW) for r in range(c.context_model.rowCount(parent))]
    other = next(s for s in siblings if s.id != start.id)
    with qtbot.waitSignal(c.versionsLoaded, timeout=30000):
        first.widget.browser.select_id(other.id)
    assert c.context.id == other.id
    first.close()

    second = open_window(qtbot, ui_session, settings)
    assert second.controller.context.id == other.id
    current = second.widget.browser.view.currentIndex()
    assert current.data(roles.ID) == other.id
    second.close()


def test_context_filter_is_debounced(qtbot, window):
    browser = window.widget.browser
    total = browser.proxy.rowCount()
    qtbot.keyClicks(browser.filter, "Lighting")
    assert browser.proxy.rowCount() == total, "the filter waits for a pause in typing"
    qtbot.waitUntil(lambda: browser.proxy.filterRegularExpression().pattern() != "", timeout=5000)
    match = browser.proxy.match(browser.proxy.index(0, 0), Qt.ItemDataRole.DisplayRole, "Lighting", 1,
                                Qt.MatchFlag.MatchRecursive)
    assert match, "the matching task stays visible with its parents"


def test_version_filter_and_shortcuts(qtbot, window, tmp_path):
    w = window.widget
    c = window.controller
    window.activateWindow()
    loaded = c.version_model.rowCount()
    assert loaded >= 1
    w.versions.filter.setText("no-such-version-xyz")
    assert w.versions.proxy.rowCount() == 0, "the loaded rows are filtered at once"
    with qtbot.waitSignal(c.versionsLoaded, timeout=30000) as blocker:
        pass  # the debounced server-side filter reloads the context
    assert blocker.args[0] == 0
    assert w.versions.count.text() == "0 versions", "not stuck on 'loading…' after an empty answer"
    w.versions.filter.clear()
    qtbot.waitSignal(c.versionsLoaded, timeout=30000).wait()
    assert c.version_model.rowCount() == loaded

    w.shortcut_filter.activated.emit()
    assert w.versions.filter.hasFocus() or QApplication.focusWidget() is w.versions.filter

    f = tmp_path / "x.mov"
    f.write_bytes(b"x")
    from publisher.ui.drop_zone import DropTarget

    with qtbot.waitSignal(c.staged, timeout=20000):
        c.drop([str(f)], DropTarget("current"))
    w.staging.view.selectRow(0)
    with qtbot.waitSignal(c.statusMessage, timeout=5000) as removed:
        w.shortcut_remove.activated.emit()
    assert c.staging_model.rowCount() == 0
    assert removed.args[0] == "Nothing staged", "the status bar no longer says what was staged"
    # with nothing staged, the publish shortcut explains instead of failing silently
    with qtbot.waitSignal(c.errorRaised, timeout=5000):
        w.shortcut_publish.activated.emit()
    assert "Nothing is staged" in w.banner.message()
    with qtbot.waitSignal(c.versionsLoaded, timeout=30000):
        w.shortcut_refresh.activated.emit()


def test_settings_shortcut_and_play_button_state(qtbot, window):
    # QKeySequence.StandardKey.Preferences is empty on Linux and Windows: Ctrl+, must be set.
    assert window.settings_action.shortcut() == QKeySequence("Ctrl+,")
    w = window.widget
    rows = [w.versions.proxy.index(i, 0).data(roles.ROW) for i in range(w.versions.proxy.rowCount())]
    assert any(r.review_state != "playable" for r in rows), "the demo project has versions without review"
    for row in rows:
        assert w.versions.select_id(row.id) and w.versions.current_row() is row
        assert w.versions.review_button.isEnabled()
        # Nothing to play until the version's review movie is ready.
        assert w.versions.play_button.isEnabled() == (row.review_state == "playable"), row


def test_window_opens_no_larger_than_its_screen(window):
    available = window.screen().availableGeometry()
    smallest = window.minimumSizeHint()
    # 1600x900 on a big screen; on a smaller one (the offscreen screen is 800x800) as small as
    # the screen or the window's own minimum allows.
    assert window.width() <= max(min(1600, available.width()), smallest.width())
    assert window.height() <= max(min(900, available.height()), smallest.height())
    if available.width() < 1600:
        assert window.width() < 1600
    assert window.activity_dock.height() <= max(230, window.activity_dock.minimumSizeHint().height())


def test_settings_dialog_gets_the_theme(qtbot, window):
    window.open_settings()
    dialog = window.settings_dialog
    try:
        assert "QCheckBox::indicator" in dialog.styleSheet(), "the check boxes must be visible on the dark theme"
    finally:
        dialog.reject()


def test_new_version_dialog(qtbot, window):
    c = window.controller
    with qtbot.waitSignal(c.newVersionListsLoaded, timeout=20000):
        window.widget.staging.new_version_button.click()
    dialog = window.widget.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.asset_type.count() > 0
    dialog.asset.setEditText("bad name!")
    assert "Use letters" in dialog.problem.text()
    dialog.asset.setEditText("fresh_asset")
    dialog.comment.setText("first try")
    dialog.accept()
    assert c.target_new is not None and c.target_new.asset_name == "fresh_asset"
    assert c.target_new.asset_type_id == dialog.asset_type.currentData()
    assert c.target_new.comment == "first try"
    qtbot.waitUntil(lambda: "fresh_asset" in window.widget.staging.target.text(), timeout=5000)


def test_thumbnails_download_once_then_come_from_disk(qtbot, window, tmp_path):
    c = window.controller
    thumb_id = next(c.version_model.row_at(r).thumbnail_id for r in range(c.version_model.rowCount())
                    if c.version_model.row_at(r).thumbnail_id)
    cache = ThumbnailCache(c.session, cache_dir=tmp_path / "thumbs", size=64)
    assert cache.pixmap(thumb_id) is None
    with qtbot.waitSignal(cache.thumbnailReady, timeout=20000):
        pass
    pixmap = cache.pixmap(thumb_id)
    assert pixmap is not None and max(pixmap.width(), pixmap.height()) <= 64
    cached = list((tmp_path / "thumbs").iterdir())
    assert [p.name for p in cached] == [f"{thumb_id}_64.img"]

    # a second cache whose server is unreachable still shows it, from disk
    offline = ThumbnailCache(c.session, cache_dir=tmp_path / "thumbs", size=64,
                             url_for=lambda s, t, n: "http://127.0.0.1:9/unreachable")
    with qtbot.waitSignal(offline.thumbnailReady, timeout=20000):
        offline.request(thumb_id)
    assert offline.pixmap(thumb_id) is not None
    cache.shutdown()
    offline.shutdown()


def test_server_down_shows_what_to_do(qtbot, server_factory, settings):
    from publisher.api import Session

    server = server_factory()
    session = Session(server.url, server.api_user, server.api_key)
    win = open_window(qtbot, session, settings)
    server.kill()
    with qtbot.waitSignal(win.controller.errorRaised, timeout=60000) as blocker:
        win.widget.shortcut_refresh.activated.emit()
    message = blocker.args[0]
    assert server.url in message or "reach" in message.lower()
    assert win.widget.banner.isVisible() and win.widget.banner.message() == message
    win.controller.shutdown()
    session.close()


def test_follow_host_keeps_the_host_palette(qtbot, ui_session, settings):
    from publisher.ui.window import PublisherWidget

    app = QApplication.instance()
    app.setPalette(app.style().standardPalette())
    host = app.palette().color(app.palette().ColorRole.Window).name()
    widget = PublisherWidget(ui_session, settings=settings, follow_host=True)
    qtbot.addWidget(widget)
    assert app.palette().color(app.palette().ColorRole.Window).name() == host
    assert widget.styleSheet() == ""
    widget.controller.shutdown()


def test_screenshot_command(tmp_path):
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    for key in ("FTRACK_SERVER", "FTRACK_API_USER", "FTRACK_API_KEY"):
        env.pop(key, None)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    proc = subprocess.run([sys.executable, "-m", "publisher", "--screenshot", str(out)], env=env,
                          capture_output=True, text=True, timeout=240, cwd=Path(__file__).parents[2])
    assert proc.returncode == 0, proc.stderr
    image = QImage(str(out))
    assert not image.isNull() and image.width() >= 1000 and image.height() >= 600
    # dark theme: the background pixel at the bottom-left corner of the status bar is dark
    assert image.pixelColor(5, image.height() - 5).lightness() < 80


def test_configured_server_choice(settings):
    from publisher.connection import configured_server

    env = {"FTRACK_SERVER": "https://studio.example", "FTRACK_API_USER": "ann", "FTRACK_API_KEY": "k"}
    from publisher.connection import ServerChoice

    assert configured_server(env, settings) == ServerChoice("https://studio.example", "ann", "k", False)
    assert configured_server({}, settings).embedded
    settings.setValue("server/url", "https://other.example")
    settings.setValue("server/api_user", "bob")
    choice = configured_server({}, settings)
    assert (choice.url, choice.api_user, choice.embedded) == ("https://other.example", "bob", False)


def test_unreachable_configured_server_says_so(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FTRACK_SERVER="http://127.0.0.1:9",
               FTRACK_API_USER="demo", FTRACK_API_KEY="nope", XDG_CONFIG_HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "publisher"], env=env, capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).parents[2])
    assert proc.returncode == 1
    assert "127.0.0.1:9" in proc.stderr and "could not be reached" in proc.stderr


def test_app_starts_the_embedded_server_and_stops_it_with_the_window(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from publisher.hosts import standalone as app

    for key in ("FTRACK_SERVER", "FTRACK_API_USER", "FTRACK_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "config"))
    assert app.run([]) == 0  # an application already runs (pytest-qt's): returns with the window open
    window = app._open_windows[-1]
    qtbot.addWidget(window)
    assert window.isVisible()
    assert "embedded demo server" in window.identity.text()
    qtbot.waitSignal(window.controller.versionsLoaded, timeout=60000).wait()
    assert window.controller.context is not None and window.controller.version_model.rowCount() > 0
    process = window.embedded_server.process
    assert process.poll() is None, "the embedded server runs while the window is open"
    assert str(tmp_path / "data") in str(window.embedded_server.data_dir)
    window.close()
    assert process.poll() is not None, "closing the window stops the embedded server"
    assert window not in app._open_windows
