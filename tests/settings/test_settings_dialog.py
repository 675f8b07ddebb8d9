"""The settings dialog with pytest-qt: fill in a server, test it in a worker, save the key to the
keyring (never the file), remember several servers, the demo switch, the no-keyring path."""

from __future__ import annotations

import pytest

from publisher.settings import ServerProfile, SettingsStore
from publisher.ui.settings_dialog import SettingsDialog

KEY = "7c0ffee1-typed-into-the-dialog"


def _fill(qtbot, dialog, *, label=None, url=None, user=None, key=None):
    for edit, text in ((dialog.label_edit, label), (dialog.url_edit, url), (dialog.user_edit, user),
                       (dialog.key_edit, key)):
        if text is not None:
            edit.clear()
            qtbot.keyClicks(edit, text)


def _open(qtbot, store=None, env=None) -> SettingsDialog:
    dialog = SettingsDialog(store or SettingsStore(), env=env or {})
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _save(qtbot, dialog):
    with qtbot.waitSignal(dialog.saved, timeout=10000) as saved:
        dialog.save_button.click()
    return saved.args[0]


def test_fill_test_and_save_a_server(qtbot, memory_keyring, embedded_server):
    store = SettingsStore()
    dialog = _open(qtbot, store)
    assert dialog.demo_check.isChecked(), "a fresh install uses the demo server"
    assert not dialog.server_box.isEnabled()

    assert dialog.add_button.isEnabled()
    dialog.add_button.click()
    assert not dialog.demo_check.isChecked() and dialog.server_box.isEnabled()
    _fill(qtbot, dialog, label="Local", url=embedded_server.url, user=embedded_server.api_user, key="wrong-key-1")
    assert dialog.profile_list.currentItem().text() == "Local"

    with qtbot.waitSignal(dialog.tested, timeout=30000) as tested:
        dialog.test_button.click()
    assert tested.args[0].kind == "wrong_key"
    assert "refused the login" in dialog.result_label.text() and "wrong-key-1" not in dialog.result_label.text()

    _fill(qtbot, dialog, key=embedded_server.api_key)
    with qtbot.waitSignal(dialog.tested, timeout=30000) as tested:
        dialog.test_button.click()
    assert tested.args[0].ok
    assert dialog.result_label.text().startswith("✓ Connected to ftrack")

    outcome = _save(qtbot, dialog)
    assert outcome.selection.url == embedded_server.url and outcome.selection.api_key == embedded_server.api_key
    assert not dialog.isVisible()
    assert list(memory_keyring.passwords.values()) == [embedded_server.api_key]
    assert embedded_server.api_key not in store.path.read_text()
    assert not store.credentials.path.exists()
    loaded = SettingsStore().load()
    assert loaded.active == "Local" and not loaded.use_demo_server


def test_an_unreachable_server_is_reported_in_the_dialog(qtbot, memory_keyring):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dialog = _open(qtbot)
    dialog.add_button.click()
    _fill(qtbot, dialog, url=f"http://127.0.0.1:{port}", user="ann", key="k3y-value")
    with qtbot.waitSignal(dialog.tested, timeout=30000):
        dialog.test_button.click()
    assert "connection was refused" in dialog.result_label.text()
    assert dialog.result_label.property("kind") == "refused"


def test_the_stored_key_is_used_for_a_test_and_kept_when_the_field_is_empty(qtbot, memory_keyring, embedded_server):
    store = SettingsStore()
    settings = store.load()
    store.save_profile(settings, ServerProfile("Local", embedded_server.url, embedded_server.api_user),
                       embedded_server.api_key)
    settings.active = "Local"
    store.save(settings)
    dialog = _open(qtbot, store)
    assert not dialog.demo_check.isChecked() and dialog.url_edit.text() == embedded_server.url
    assert dialog.key_edit.text() == "", "the stored key is never put back into a widget"
    with qtbot.waitSignal(dialog.tested, timeout=30000) as tested:
        dialog.test_button.click()
    assert tested.args[0].ok
    _fill(qtbot, dialog, label="Local demo copy")
    outcome = _save(qtbot, dialog)
    assert outcome.selection.label == "Local demo copy" and outcome.selection.api_key == embedded_server.api_key


def test_several_servers_are_remembered_and_switchable(qtbot, memory_keyring):
    store = SettingsStore()
    dialog = _open(qtbot, store)
    dialog.add_button.click()
    _fill(qtbot, dialog, label="Studio", url="https://studio.example.com", user="ann", key="key-studio-1234")
    dialog.add_button.click()
    _fill(qtbot, dialog, label="Vendor", url="https://vendor.example.com", user="bob", key="key-vendor-5678")
    assert dialog.profile_list.count() == 2
    dialog.profile_list.setCurrentRow(0)
    assert (dialog.label_edit.text(), dialog.url_edit.text(), dialog.key_edit.text()) == \
        ("Studio", "https://studio.example.com", "key-studio-1234"), "edits survive switching"
    _save(qtbot, dialog)
    assert SettingsStore().resolve({}).label == "Studio"

    dialog = _open(qtbot, store)
    assert [dialog.profile_list.item(i).text() for i in range(2)] == ["Studio", "Vendor"]
    assert dialog.profile_list.currentRow() == 0, "the active server is selected"
    dialog.profile_list.setCurrentRow(1)
    outcome = _save(qtbot, dialog)
    assert (outcome.selection.label, outcome.selection.api_key) == ("Vendor", "key-vendor-5678")

    dialog = _open(qtbot, store)
    dialog.profile_list.setCurrentRow(0)
    dialog.remove_button.click()
    assert dialog.profile_list.count() == 1 and dialog.label_edit.text() == "Vendor"
    _save(qtbot, dialog)
    assert [p.label for p in SettingsStore().load().profiles] == ["Vendor"]
    assert sorted(memory_keyring.passwords.values()) == ["key-vendor-5678"]


def test_the_demo_switch_wins_until_unticked(qtbot, memory_keyring):
    store = SettingsStore()
    dialog = _open(qtbot, store)
    dialog.add_button.click()
    _fill(qtbot, dialog, label="Studio", url="https://studio.example.com", user="ann", key="key-studio-1234")
    dialog.demo_check.setChecked(True)
    assert not dialog.server_box.isEnabled()
    assert _save(qtbot, dialog).selection.embedded
    assert [p.label for p in SettingsStore().load().profiles] == ["Studio"], "the server is still remembered"

    dialog = _open(qtbot, store)
    assert dialog.demo_check.isChecked()
    dialog.demo_check.setChecked(False)
    assert dialog.server_box.isEnabled()
    assert _save(qtbot, dialog).selection.label == "Studio"


@pytest.mark.parametrize("fill, problem", [
    ({"url": "studio.example.com", "user": "ann", "key": "k3y-value"}, "must start with https://"),
    ({"url": "https://studio.example.com", "user": "", "key": "k3y-value"}, "enter the API user"),
    ({"url": "https://studio.example.com", "user": "ann", "key": ""}, "paste the API key"),
])
def test_incomplete_servers_are_not_saved(qtbot, memory_keyring, fill, problem):
    store = SettingsStore()
    dialog = _open(qtbot, store)
    dialog.add_button.click()
    _fill(qtbot, dialog, **fill)
    assert dialog.save() is None
    assert problem in dialog.message_label.text()
    assert dialog.isVisible() and not store.path.exists() and memory_keyring.passwords == {}


def test_without_a_keyring_the_dialog_says_so_and_offers_the_file(qtbot, no_keyring):
    store = SettingsStore()
    dialog = _open(qtbot, store)
    assert dialog.file_check.isVisible() and not dialog.file_check.isChecked()
    assert "No system keyring" in dialog.keyring_notice.text() and "less safe" in dialog.keyring_notice.text()
    assert str(store.credentials.path) in dialog.keyring_notice.text()
    dialog.add_button.click()
    _fill(qtbot, dialog, label="Studio", url="https://studio.example.com", user="ann", key=KEY)
    assert dialog.save() is None and "no system keyring" in dialog.message_label.text()
    assert not store.path.exists() and not store.credentials.path.exists()

    dialog.file_check.setChecked(True)
    outcome = _save(qtbot, dialog)
    assert outcome.selection.api_key == KEY
    assert KEY in store.credentials.path.read_text() and KEY not in store.path.read_text()


def test_a_keyring_that_refuses_at_save_offers_the_file(qtbot, refusing_keyring):
    store = SettingsStore()
    dialog = _open(qtbot, store)
    assert not dialog.file_check.isVisible()
    dialog.add_button.click()
    _fill(qtbot, dialog, label="Studio", url="https://studio.example.com", user="ann", key=KEY)
    worker = dialog.save()
    assert worker is not None
    qtbot.waitUntil(lambda: "refused to store" in dialog.message_label.text(), timeout=10000)
    assert KEY not in dialog.message_label.text()
    assert dialog.isVisible() and dialog.file_check.isVisible()
    dialog.file_check.setChecked(True)
    assert _save(qtbot, dialog).selection.api_key == KEY


def test_environment_variables_are_said_to_override(qtbot, memory_keyring):
    dialog = _open(qtbot, env={"FTRACK_SERVER": "https://env.example.com", "FTRACK_API_KEY": "env-key-value"})
    text = dialog.env_notice.text()
    assert dialog.env_notice.isVisible()
    assert "FTRACK_SERVER, FTRACK_API_KEY are set" in text and "https://env.example.com" in text
    assert "env-key-value" not in text
    assert not _open(qtbot).env_notice.isVisible()
    only_key = _open(qtbot, env={"FTRACK_API_KEY": "env-key-value"})
    assert "FTRACK_API_KEY is set" in only_key.env_notice.text()
    assert "replaces the API key of the server chosen here" in only_key.env_notice.text()
