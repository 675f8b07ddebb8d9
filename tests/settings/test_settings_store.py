"""Server profiles and their keys: round trips with a keyring, without one, precedence, bad files."""

from __future__ import annotations

import json
import os
import stat

import pytest

from publisher import credentials
from publisher.credentials import CredentialError, CredentialStore, KeyringUnavailableError
from publisher.paths import config_dir
from publisher.settings import ServerProfile, SettingsStore, validate_url

KEY = "0f3c5b1e-key-for-the-studio-server"
OTHER_KEY = "a81d22c7-key-for-the-other-server"


def test_round_trip_keeps_the_key_in_the_keyring_only(memory_keyring, private_dirs):
    store = SettingsStore()
    settings = store.load()
    assert settings.profiles == [] and store.resolve({}).embedded

    where = store.save_profile(settings, ServerProfile("Studio", " https://Studio.example.com/ ", "ann"), KEY)
    settings.active = "Studio"
    store.save(settings)

    assert where == "keyring"
    assert memory_keyring.passwords == {("ftrack-publisher", "ann@https://studio.example.com"): KEY}
    assert store.path.parent == config_dir() and str(private_dirs["config"]) in str(store.path)
    assert KEY not in store.path.read_text()
    assert not store.credentials.path.exists(), "no key file when a keyring is there"

    again = SettingsStore()  # as a new start of the app reads it
    loaded = again.load()
    assert [(p.label, p.url, p.api_user) for p in loaded.profiles] == [("Studio", "https://Studio.example.com", "ann")]
    choice = again.resolve({})
    assert (choice.url, choice.api_user, choice.api_key, choice.source, choice.label, choice.problem) == \
        ("https://Studio.example.com", "ann", KEY, "profile", "Studio", "")


def test_without_a_keyring_the_key_goes_to_a_private_file_only_when_allowed(no_keyring):
    store = SettingsStore()
    settings = store.load()
    status = credentials.keyring_status()
    assert not status.available and "No system keyring" in status.reason

    with pytest.raises(KeyringUnavailableError) as caught:
        store.save_profile(settings, ServerProfile("Studio", "https://studio.example.com", "ann"), KEY)
    message = str(caught.value)
    assert str(store.credentials.path) in message and "less safe" in message and KEY not in message
    assert not store.path.exists(), "a refused key leaves the settings unsaved"
    assert not store.credentials.path.exists()

    settings = store.load()
    where = store.save_profile(settings, ServerProfile("Studio", "https://studio.example.com", "ann"), KEY,
                               allow_file=True)
    settings.active = "Studio"
    store.save(settings)
    assert where == "file"
    mode = stat.S_IMODE(store.credentials.path.stat().st_mode)
    assert mode == 0o600
    assert KEY not in store.path.read_text()
    assert not [p for p in store.credentials.path.parent.iterdir() if p.name.endswith(".tmp")]
    assert SettingsStore().resolve({}).api_key == KEY


def test_a_refusing_keyring_is_reported_without_the_key(refusing_keyring):
    store = CredentialStore()
    with pytest.raises(KeyringUnavailableError) as caught:
        store.set("https://studio.example.com", "ann", KEY)
    assert "refused" in str(caught.value) and KEY not in str(caught.value)
    assert store.set("https://studio.example.com", "ann", KEY, allow_file=True) == "file"
    assert store.get("https://studio.example.com", "ann") == KEY


def test_storing_in_the_keyring_removes_the_copy_in_the_file(no_keyring, memory_keyring):
    store = CredentialStore()
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    store.set("https://a.example", "ann", KEY, allow_file=True)
    assert KEY in store.path.read_text()
    keyring.set_keyring(memory_keyring)
    assert store.get("https://a.example", "ann") == KEY, "still found in the file"
    assert store.set("https://a.example", "ann", KEY) == "keyring"
    assert KEY not in store.path.read_text()
    assert store.where("https://a.example", "ann") == "keyring"


def test_several_servers_are_remembered_switched_renamed_and_removed(memory_keyring):
    store = SettingsStore()
    settings = store.load()
    store.save_profile(settings, ServerProfile("Studio", "https://studio.example.com", "ann"), KEY)
    store.save_profile(settings, ServerProfile("Other", "https://other.example.com", "bob"), OTHER_KEY)
    settings.active = "Other"
    store.save(settings)
    assert SettingsStore().resolve({}).api_key == OTHER_KEY

    settings = store.load()
    settings.active = "Studio"
    store.save(settings)
    assert (SettingsStore().resolve({}).url, SettingsStore().resolve({}).api_key) == ("https://studio.example.com", KEY)

    with pytest.raises(ValueError, match="already a server named 'Other'"):
        store.save_profile(settings, ServerProfile("Other", "https://x.example", "c"), previous=settings.profile("Studio"))

    # A new address for the same profile: the key moves with it, the old entry is gone.
    old = settings.profile("Studio")
    store.save_profile(settings, ServerProfile("Studio", "https://new.example.com", "ann"), previous=old)
    resolved = SettingsStore().resolve({})
    assert (resolved.url, resolved.api_key, resolved.label) == ("https://new.example.com", KEY, "Studio")
    assert ("ftrack-publisher", "ann@https://studio.example.com") not in memory_keyring.passwords

    store.remove_profile(settings, "Studio")
    loaded = SettingsStore().load()
    assert [p.label for p in loaded.profiles] == ["Other"] and loaded.active is None
    assert ("ftrack-publisher", "ann@https://new.example.com") not in memory_keyring.passwords
    assert SettingsStore().resolve({}).embedded, "no active profile: the demo server"


def test_precedence_environment_then_profile_then_demo(memory_keyring):
    store = SettingsStore()
    settings = store.load()
    store.save_profile(settings, ServerProfile("Studio", "https://studio.example.com", "ann"), KEY)
    settings.active = "Studio"
    store.save(settings)

    env = {"FTRACK_SERVER": "https://env.example.com", "FTRACK_API_USER": "eve", "FTRACK_API_KEY": OTHER_KEY}
    choice = store.resolve(env)
    assert (choice.url, choice.api_user, choice.api_key, choice.source) == \
        ("https://env.example.com", "eve", OTHER_KEY, "environment")
    # Without FTRACK_SERVER, the other two still override their own field of the profile.
    choice = store.resolve({"FTRACK_API_KEY": OTHER_KEY})
    assert (choice.url, choice.api_user, choice.api_key) == ("https://studio.example.com", "ann", OTHER_KEY)

    settings.use_demo_server = True
    store.save(settings)
    assert store.resolve({}).embedded
    assert store.resolve(env).source == "environment", "the environment wins over the demo switch too"


def test_a_profile_without_a_stored_key_says_what_to_do(no_keyring):
    store = SettingsStore()
    settings = store.load()
    store.save_profile(settings, ServerProfile("Studio", "https://studio.example.com", "ann"))
    settings.active = "Studio"
    store.save(settings)
    choice = store.resolve({})
    assert choice.api_key is None and choice.source == "profile"
    assert "No API key is stored for ann" in choice.problem and "Settings" in choice.problem
    assert "No system keyring" in choice.problem


def test_an_unreadable_settings_file_is_moved_aside_not_lost(memory_keyring):
    store = SettingsStore()
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{ this is not json")
    settings = store.load()
    assert settings.profiles == []
    assert "could not be read" in store.problem and "settings.json.unreadable" in store.problem
    aside = store.path.with_name("settings.json.unreadable")
    assert aside.read_text() == "{ this is not json"
    store.save_profile(settings, ServerProfile("Studio", "https://studio.example.com", "ann"), KEY)
    assert SettingsStore().load().profiles[0].label == "Studio"
    assert aside.exists()

    store.path.write_text(json.dumps({"profiles": ["not a profile"]}))
    assert store.load().profiles == [] and store.problem


def test_an_unreadable_key_file_says_what_to_do_and_is_kept(no_keyring):
    store = CredentialStore()
    store.path.parent.mkdir(parents=True)
    store.path.write_text("garbage")
    os.chmod(store.path, 0o600)
    with pytest.raises(CredentialError, match="cannot be read.*Enter the API key again"):
        store.get("https://a.example", "ann")
    assert store.set("https://a.example", "ann", KEY, allow_file=True) == "file"
    assert store.path.with_name("credentials.json.unreadable").read_text() == "garbage"
    assert store.get("https://a.example", "ann") == KEY


def test_a_key_file_readable_by_others_is_made_private_again(no_keyring):
    store = CredentialStore()
    store.set("https://a.example", "ann", KEY, allow_file=True)
    os.chmod(store.path, 0o644)
    assert store.get("https://a.example", "ann") == KEY
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


@pytest.mark.parametrize("url, problem", [
    ("", "Enter the server address"),
    ("studio.example.com", "must start with https://"),
    ("ftp://studio.example.com", "must start with https://"),
    ("https://", "must start with https://"),
    ("https://studio.example.com:99999", "not a valid address"),
])
def test_bad_addresses_are_refused_with_a_reason(url, problem, memory_keyring):
    with pytest.raises(ValueError, match=problem):
        validate_url(url)
    store = SettingsStore()
    settings = store.load()
    with pytest.raises(ValueError, match=problem):
        store.save_profile(settings, ServerProfile("X", url, "ann"), KEY)
    assert memory_keyring.passwords == {} and not store.path.exists()


def test_an_empty_key_is_refused(memory_keyring):
    with pytest.raises(CredentialError, match="empty"):
        CredentialStore().set("https://a.example", "ann", "")


def test_a_named_profile_is_used_instead_of_the_active_one(memory_keyring, private_dirs):
    store = SettingsStore()
    settings = store.load()
    store.save_profile(settings, ServerProfile("Studio", "https://studio.example.com", "ann"), KEY)
    store.save_profile(settings, ServerProfile("Other", "https://other.example.com", "bob"), OTHER_KEY)
    settings.active = "Studio"
    settings.use_demo_server = True  # the window's demo choice does not override a named profile
    store.save(settings)

    choice = store.resolve({}, profile_label="Other")
    assert (choice.url, choice.api_user, choice.api_key, choice.source, choice.label) == \
        ("https://other.example.com", "bob", OTHER_KEY, "profile", "Other")
    assert store.resolve({}).embedded
    env = {"FTRACK_SERVER": "https://env.example.com", "FTRACK_API_KEY": KEY}
    assert store.resolve(env, profile_label="Other").source == "environment"
    with pytest.raises(KeyError):
        store.resolve({}, profile_label="Nope")
