"""The rotating log blanks every API key; "Copy diagnostics" says what support needs and no key."""

from __future__ import annotations

import logging

import pytest
import requests

from publisher import diagnostics, logs, paths
from publisher.embedded import ServerInfo, format_banner
from publisher.settings import ServerProfile, SettingsStore

log = logging.getLogger("publisher.tests.settings")

KEY = "5e2a0c7d91b4-registered-key"


def _log_text() -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return logs.log_file().read_text()


def test_setup_logs_under_the_user_log_dir(private_dirs):
    path = logs.setup(logging.INFO)
    assert path == paths.log_dir() / "publisher.log"
    assert str(private_dirs["state"]) in str(path)
    log.info("hello from the test")
    assert "hello from the test" in _log_text()
    logs.setup(logging.INFO)  # a second call replaces the handler: lines are not written twice
    log.info("only once")
    assert _log_text().count("only once") == 1


@pytest.mark.parametrize("line, kept", [
    ("GET http://h/component/get?id=1&username=demo&apiKey={k}&size=300", "&size=300"),
    ("headers {{'ftrack-user': 'demo', 'ftrack-api-key': '{k}'}}", "'ftrack-user': 'demo'"),
    ("ftrack-api-key: {k}", "ftrack-api-key: ***"),
    ("export FTRACK_API_KEY={k}", "FTRACK_API_KEY=***"),
    ("FTRACK_APIKEY={k} legacy", "legacy"),
    ('{{"api_key": "{k}", "user": "demo"}}', '"user": "demo"'),
    ("python -m publisher server --api-key {k} --port 0", "--port 0"),
    ("ServerInfo(url='http://x', api_user='demo', api_key='{k}')", "api_user='demo'"),
])
def test_key_shapes_are_redacted_even_when_the_key_is_unknown(line, kept):
    unknown = "q9w8e7r6-never-registered"
    text = logs.redact(line.format(k=unknown))
    assert unknown not in text and "***" in text and kept in text


def test_registered_keys_are_redacted_anywhere(private_dirs):
    logs.register_secret(KEY)
    logs.setup(logging.DEBUG)
    log.info("the key %s in the middle of a sentence", KEY)
    try:
        raise RuntimeError(f"failed with {KEY}")
    except RuntimeError:
        log.exception("an error with a traceback")
    log.info("a stack %s", KEY, stack_info=True)
    text = _log_text()
    assert KEY not in text
    assert "the key *** in the middle" in text and "failed with ***" in text and "Traceback" in text


def test_the_embedded_servers_ready_line_is_never_logged_with_its_key(private_dirs):
    logs.setup(logging.INFO)
    secret = "d41d8cd98f00b204e9800998ecf8427e0123456789abcdef"
    log.info("server said: %s", format_banner(ServerInfo("http://127.0.0.1:5000", "demo", secret)))
    text = _log_text()
    assert secret not in text and "FTRACK_API_KEY=***" in text and "FTRACK_API_USER=demo" in text


def test_requests_logged_by_urllib3_lose_their_key(embedded_server, private_dirs):
    logs.setup(logging.DEBUG)
    key = embedded_server.api_key
    response = requests.get(f"{embedded_server.url}/component/get",
                            params={"id": "no-such-component", "username": "demo", "apiKey": key}, timeout=30)
    assert response.status_code >= 400
    text = _log_text()
    assert "/component/get?id=no-such-component" in text, "urllib3 logged the request"
    assert key not in text and "apiKey=***" in text


def test_the_log_rotates_and_the_last_lines_span_files(private_dirs):
    logs.setup(logging.INFO, max_bytes=2000, backup_count=logs.BACKUP_COUNT)
    for n in range(400):
        log.info("line %04d %s", n, "x" * 40)
    folder = logs.log_file().parent
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["publisher.log"] + [f"publisher.log.{n}" for n in range(1, logs.BACKUP_COUNT + 1)]
    assert all(p.stat().st_size <= 2000 for p in folder.iterdir())
    tail = logs.last_lines(60)
    assert len(tail) == 60
    assert tail[-1].endswith(f"line 0399 {'x' * 40}")
    assert [int(t.split("line ")[1][:4]) for t in tail] == list(range(340, 400))


def test_diagnostics_have_versions_settings_and_log_lines_but_no_key(memory_keyring, private_dirs, monkeypatch):
    import platform

    logs.setup(logging.INFO)
    store = SettingsStore()
    settings = store.load()
    store.save_profile(settings, ServerProfile("Studio", "https://studio.example.com", "ann"), KEY)
    settings.active = "Studio"
    store.save(settings)
    log.info("connected with apiKey=%s", KEY)
    monkeypatch.setenv("FTRACK_API_KEY", "env-key-3c1f9a77")
    text = diagnostics.collect(store, server="Studio (https://studio.example.com) as ann")
    assert "ftrack publisher 0.1.0" in text and platform.python_version() in text
    assert "requests " in text and "keyring " in text and "PySide6" in text
    assert "server 'Studio': https://studio.example.com as ann; key: keyring" in text
    assert "active server: Studio" in text and "FTRACK_API_KEY is set" in text and "FTRACK_SERVER: (not set)" in text
    assert "In use: Studio (https://studio.example.com) as ann" in text
    assert "connected with apiKey=***" in text, "the last log lines are included"
    assert KEY not in text and "env-key-3c1f9a77" not in text
    assert str(logs.log_file()) in text


def test_diagnostics_without_keyring_settings_or_log_still_work(no_keyring, private_dirs):
    text = diagnostics.collect()
    assert "not available: No system keyring" in text and "Log: (empty)" in text
    assert "active server: (none)" in text
