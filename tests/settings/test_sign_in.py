"""Sign in with the browser, end to end against the embedded server's sign-in page: a test client
plays the browser; the key lands in the keyring."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlencode

import pytest
import requests
from PySide6.QtWidgets import QDialog

from browser import sign_in_later
from publisher.credentials import CredentialStore
from publisher.settings import SettingsStore
from publisher.sign_in import (LoopbackListener, SignInCancelled, SignInError, SignInTimeout, identifier,
                               sign_in_url)


def test_the_browser_sign_in_hands_back_the_users_key(embedded_server, memory_keyring):
    listener = LoopbackListener(embedded_server.url)
    assert listener.url == (f"{embedded_server.url}/user/api_credentials?"
                            + urlencode({"identifier": identifier(), "redirect_url": f"http://localhost:{listener.port}"}))
    assert identifier().startswith("ftrack-publisher-") and "@" in identifier()
    pages: list = []
    browser = sign_in_later(listener.url, pages)
    signed = listener.wait(timeout=60)
    browser.join(30)
    assert signed.api_user == embedded_server.api_user and signed.server_url == embedded_server.url
    assert pages[0].status_code == 200 and "signed in as demo" in pages[0].text
    assert signed.api_key not in repr(signed)
    # The key works, and the server's own key still does.
    assert_key_works(embedded_server.url, "demo", signed.api_key)
    assert_key_works(embedded_server.url, "demo", embedded_server.api_key)
    # Kept in the keyring by the credentials module.
    assert CredentialStore().set(signed.server_url, signed.api_user, signed.api_key) == "keyring"
    assert CredentialStore().get(embedded_server.url, "demo") == signed.api_key


def assert_key_works(url: str, user: str, key: str) -> None:
    from publisher.api import Session

    session = Session(url, user, key)
    try:
        assert session.query("Project").first() is not None
    finally:
        session.close()


def test_no_answer_in_time_says_what_to_do(embedded_server):
    listener = LoopbackListener(embedded_server.url)
    started = time.monotonic()
    with pytest.raises(SignInTimeout, match=r"No answer from the browser within 1 seconds.*paste the API key"):
        listener.wait(timeout=1)
    assert time.monotonic() - started < 10
    # The port is given back.
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{listener.port}/?api_user=x&api_key=y", timeout=5)


def test_an_answer_without_a_key_is_an_error(embedded_server):
    listener = LoopbackListener(embedded_server.url)
    pages: list = []
    thread = threading.Thread(target=lambda: pages.append(
        requests.get(f"http://localhost:{listener.port}/?api_user=demo", timeout=10)))
    thread.start()
    with pytest.raises(SignInError, match="without an API key"):
        listener.wait(timeout=30)
    thread.join(10)
    assert pages[0].status_code == 400


def test_cancelling_stops_the_wait(embedded_server):
    listener = LoopbackListener(embedded_server.url)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    with pytest.raises(SignInCancelled):
        listener.wait(timeout=60, cancelled=cancel)


@pytest.mark.parametrize("redirect", ["http://evil.example:8000", "https://localhost:9000", "http://localhost", "nonsense"])
def test_the_server_hands_keys_to_loopback_addresses_only(embedded_server, redirect):
    url = f"{embedded_server.url}/user/api_credentials?" + urlencode({"identifier": "x", "redirect_url": redirect})
    page = requests.get(url, timeout=30)
    assert page.status_code == 400 and "redirect_url must be http://localhost" in page.text
    granted = requests.post(f"{embedded_server.url}/user/api_credentials", allow_redirects=False, timeout=30,
                            data={"identifier": "x", "redirect_url": redirect, "username": "demo"})
    assert granted.status_code == 400 and embedded_server.api_key not in granted.text


def test_an_unknown_user_gets_no_key(embedded_server):
    granted = requests.post(f"{embedded_server.url}/user/api_credentials", allow_redirects=False, timeout=30,
                            data={"identifier": "x", "redirect_url": "http://localhost:9", "username": "nobody"})
    assert granted.status_code == 400 and "no active user nobody" in granted.text


def test_sign_in_from_the_settings_dialog_fills_the_server_and_keeps_the_key(qtbot, embedded_server, memory_keyring):
    from publisher.ui.settings_dialog import SettingsDialog

    store = SettingsStore()
    dialog = SettingsDialog(store, env={})
    qtbot.addWidget(dialog)
    dialog.add_profile()
    dialog.demo_check.setChecked(False)
    dialog.label_edit.setText("Demo")
    dialog.label_edit.textEdited.emit("Demo")
    dialog.url_edit.setText(embedded_server.url)
    dialog.url_edit.textEdited.emit(embedded_server.url)
    pages: list = []
    dialog.sign_in.open_url = lambda url: sign_in_later(url, pages)
    assert dialog.sign_in.button.text() == "Sign in…"
    with qtbot.waitSignal(dialog.sign_in.signedIn, timeout=60000):
        dialog.sign_in.button.click()
    key = dialog.key_edit.text()
    assert dialog.user_edit.text() == "demo" and key
    assert_key_works(embedded_server.url, "demo", key)
    assert "Signed in as demo; the key is kept in the system keyring" in dialog.result_label.text()
    assert list(memory_keyring.passwords.values()) == [key]
    with qtbot.waitSignal(dialog.saved, timeout=30000):
        dialog.save()
    saved = store.load()
    assert [(p.url, p.api_user) for p in saved.profiles] == [(embedded_server.url, "demo")]
    assert store.api_key(saved.profiles[0]) == key
    assert key not in store.path.read_text()


def test_sign_in_without_a_server_url_says_to_enter_one(qtbot):
    from publisher.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(SettingsStore(), env={})
    qtbot.addWidget(dialog)
    dialog.add_profile()
    opened: list = []
    dialog.sign_in.open_url = opened.append
    assert dialog.sign_in.start() is False
    assert opened == [] and "Enter the server URL first" in dialog.result_label.text()


def test_closing_the_dialog_cancels_the_wait(qtbot, embedded_server):
    from publisher.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(SettingsStore(), env={})
    qtbot.addWidget(dialog)
    dialog.add_profile()
    dialog.url_edit.setText(embedded_server.url)
    dialog.sign_in.open_url = lambda url: None  # nobody answers
    assert dialog.sign_in.start() is True
    assert not dialog.sign_in.button.isEnabled()
    dialog.done(QDialog.DialogCode.Rejected)
    # The worker stops within its poll interval and the port is given back.
    qtbot.waitUntil(lambda: dialog.sign_in.button.isEnabled(), timeout=10000)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{dialog.sign_in.listener.port}/?api_user=x&api_key=y", timeout=5)
    assert sign_in_url("https://x.ftrackapp.com/", 5).startswith("https://x.ftrackapp.com/user/api_credentials?")
