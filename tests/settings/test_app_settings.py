"""The app and the settings: server choice, moving the old Qt settings, startup failures without
leaking keys, the window's Settings… and Copy diagnostics actions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication

from publisher import logs
from publisher.settings import ServerProfile, SettingsStore
from publisher.connection import ServerChoice, configured_server, migrate_legacy_settings

KEY = "c0ffee00-studio-key-in-the-keyring"
OLD_KEY = "0ldk3y-kept-in-the-qt-settings-file"

#: Qt's own settings folder before any test moved it (restored after the tests that run the app).
_QT_CONFIG_HOME = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")


@pytest.fixture
def qsettings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "legacy.ini"), QSettings.Format.IniFormat)


def _profile(store: SettingsStore, url: str, user: str, key: str | None, label: str = "Studio", **kw) -> None:
    settings = store.load()
    store.save_profile(settings, ServerProfile(label, url, user), key, **kw)
    settings.active = label
    store.save(settings)


def test_configured_server_prefers_environment_then_profile_then_old_address(memory_keyring, qsettings):
    store = SettingsStore()
    assert configured_server({}, qsettings, store) == ServerChoice(None, None, None, True)
    qsettings.setValue("server/url", "https://old.example.com")
    qsettings.setValue("server/api_user", "bob")
    legacy = configured_server({}, qsettings, store)
    assert (legacy.url, legacy.api_user, legacy.api_key, legacy.source) == ("https://old.example.com", "bob", None, "legacy")

    _profile(store, "https://studio.example.com", "ann", KEY)
    choice = configured_server({}, qsettings, store)
    assert (choice.url, choice.api_user, choice.api_key, choice.source, choice.label) == \
        ("https://studio.example.com", "ann", KEY, "profile", "Studio")
    env = {"FTRACK_SERVER": "https://env.example.com", "FTRACK_API_USER": "eve", "FTRACK_API_KEY": "env-key-1234"}
    assert configured_server(env, qsettings, store) == ServerChoice("https://env.example.com", "eve", "env-key-1234", False)


def write_legacy_settings(qsettings, tmp_path, url: str, other_key: str) -> None:
    """What older versions kept in QSettings: the server, user and key in plain text, plus one
    setting (``other_key`` = ``keep-me``) that is not about the server."""
    qsettings.setValue("server/url", url)
    qsettings.setValue("server/api_user", "ann")
    qsettings.setValue("server/api_key", OLD_KEY)
    qsettings.setValue(other_key, "keep-me")
    qsettings.sync()
    assert OLD_KEY in (tmp_path / "legacy.ini").read_text()


def test_old_qt_settings_move_to_a_profile_and_the_key_to_the_keyring(memory_keyring, qsettings, tmp_path):
    write_legacy_settings(qsettings, tmp_path, "https://studio.example.com/", other_key="context/last")

    store = SettingsStore()
    migrate_legacy_settings(qsettings, store)
    text = (tmp_path / "legacy.ini").read_text()
    assert OLD_KEY not in text and "server/" not in text.replace("[server]", "") and "keep-me" in text
    choice = configured_server({}, qsettings, store)
    assert (choice.url, choice.api_user, choice.api_key, choice.source, choice.label) == \
        ("https://studio.example.com", "ann", OLD_KEY, "profile", "studio.example.com")
    assert OLD_KEY not in store.path.read_text()
    migrate_legacy_settings(qsettings, store)  # nothing left to move: no change
    assert len(store.load().profiles) == 1


def test_without_a_keyring_the_old_key_is_dropped_not_written_elsewhere(no_keyring, qsettings, tmp_path):
    write_legacy_settings(qsettings, tmp_path, "https://studio.example.com", other_key="window/state")
    store = SettingsStore()
    migrate_legacy_settings(qsettings, store)
    assert OLD_KEY not in (tmp_path / "legacy.ini").read_text()
    assert not store.credentials.path.exists(), "no key file without the user's consent"
    choice = configured_server({}, qsettings, store)
    assert choice.source == "profile" and choice.api_key is None
    assert "No API key is stored for ann" in choice.problem


def test_a_saved_server_with_a_wrong_key_fails_to_start_without_leaking_it(embedded_server, private_dirs, tmp_path):
    # The app in a child process, with no keyring (PYTHON_KEYRING_BACKEND), so the key is in the file.
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    wrong = "wrong-key-for-the-start-test-99"
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        _profile(SettingsStore(), embedded_server.url, embedded_server.api_user, wrong, label="Local", allow_file=True)
    finally:
        keyring.set_keyring(previous)
    proc = subprocess.run([sys.executable, "-m", "publisher"], env=env, capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parents[2])
    assert proc.returncode == 1
    assert "refused the login" in proc.stderr and embedded_server.url in proc.stderr
    assert wrong not in proc.stderr + proc.stdout
    log_text = (private_dirs["state"] / "ftrack-publisher" / "log" / "publisher.log").read_text()
    assert f"Connecting to {embedded_server.url} as demo (profile)" in log_text and "Could not connect" in log_text
    assert wrong not in log_text


@pytest.fixture
def app_qsettings(tmp_path: Path):
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "qt"))
    yield
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, _QT_CONFIG_HOME)


def test_the_app_opens_on_the_active_profile_and_the_window_offers_settings(
        qtbot, memory_keyring, embedded_server, app_qsettings):
    from publisher.hosts import standalone as app

    _profile(SettingsStore(), embedded_server.url, embedded_server.api_user, embedded_server.api_key, label="Local")
    assert app.run([]) == 0
    window = app._open_windows[-1]
    qtbot.addWidget(window)
    try:
        # The projects load in a worker and end with "Ready" in the status bar: wait for it, or
        # it may replace the messages checked below.
        qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "Ready", timeout=10000)
        assert window.identity.text().strip().startswith(f"Local · {embedded_server.url}")
        assert window.embedded_server is None
        assert SettingsStore().load().profile("Local").last_used is not None

        window.diagnostics_action.trigger()
        text = QGuiApplication.clipboard().text()
        assert text.startswith("ftrack publisher") and "server 'Local'" in text and "key: keyring" in text
        assert "Connecting to" in text, "the last log lines"
        assert embedded_server.api_key not in text
        assert "Diagnostics copied" in window.statusBar().currentMessage()

        window.settings_action.trigger()
        dialog = window.settings_dialog
        assert dialog.isVisible() and dialog.url_edit.text() == embedded_server.url
        dialog.demo_check.setChecked(True)
        with qtbot.waitSignal(dialog.saved, timeout=10000):
            dialog.save_button.click()
        assert "Restart the publisher to use the local demo server" in window.statusBar().currentMessage()
        assert SettingsStore().load().use_demo_server
    finally:
        window.close()
    assert window not in app._open_windows
    assert embedded_server.api_key not in logs.log_file().read_text()
