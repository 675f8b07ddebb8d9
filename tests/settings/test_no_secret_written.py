"""No API key in any file the app writes, in the diagnostics or in an error message.

Runs what touches keys (the settings round trip, "Test connection" with the right and a wrong
key, a failed login, requests logged at DEBUG, the server's ready line, the diagnostics), then
scans every file under the private config, log, data and cache folders for the keys.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests

from publisher import diagnostics, logs
from publisher.api import FtrackError, Session
from publisher.api.connection_check import check_connection
from publisher.embedded import ServerInfo, format_banner
from publisher.settings import ServerProfile, SettingsStore

log = logging.getLogger("publisher.tests.secrets")


def _files(dirs: dict[str, Path]) -> list[Path]:
    return [p for d in dirs.values() if d.exists() for p in d.rglob("*") if p.is_file()]


@pytest.mark.parametrize("backend", ["memory_keyring", "no_keyring"])
def test_no_key_in_files_diagnostics_or_messages(backend, request, embedded_server, private_dirs):
    request.getfixturevalue(backend)
    key = embedded_server.api_key
    wrong = "wrong-key-e1b7c2d94f"
    logs.setup(logging.DEBUG)

    store = SettingsStore()
    settings = store.load()
    where = store.save_profile(settings, ServerProfile("Demo", embedded_server.url, embedded_server.api_user), key,
                               allow_file=backend == "no_keyring")
    settings.active = "Demo"
    store.save(settings)
    store.mark_used(settings, "Demo")
    choice = SettingsStore().resolve({})
    assert choice.api_key == key

    good = check_connection(choice.url, choice.api_user, choice.api_key, timeout=30)
    bad = check_connection(choice.url, choice.api_user, wrong, timeout=30)
    assert good.ok and bad.kind == "wrong_key"
    log.info("test connection: %s / %s", good, bad)

    with pytest.raises(FtrackError) as failed:
        Session(choice.url, choice.api_user, wrong)
    log.error("login failed", exc_info=failed.value)
    session = Session(choice.url, choice.api_user, choice.api_key)
    try:
        log.debug("session %r headers %s", session, session.transport.api_headers)
        assert session.query("select id from Project").first() is not None
    finally:
        session.close()
    requests.get(f"{choice.url}/component/thumbnail", params={"id": "x", "username": "demo", "apiKey": key}, timeout=30)
    log.info("%s", format_banner(ServerInfo(choice.url, choice.api_user, key)))
    text = diagnostics.collect(store, server=f"Demo ({choice.url})")
    messages = [good.message, bad.message, str(failed.value), text]

    files = _files(private_dirs)
    log_files = [p for p in files if p.name.startswith("publisher.log")]
    assert log_files and "apiKey=***" in log_files[0].read_text(), "the scan saw the logged requests"
    allowed = {store.credentials.path} if where == "file" else set()
    for path in files:
        data = path.read_bytes()
        for secret in (key, wrong):
            if path in allowed and secret == key:
                continue
            assert secret.encode() not in data, f"{secret!r} written to {path}"
    for message in messages:
        assert key not in message and wrong not in message
    if where == "file":
        assert key in store.credentials.path.read_text()


def test_worker_error_messages_never_carry_a_key():
    from publisher.ui.error_messages import describe_error

    key = "3f9e-key-inside-a-library-message"
    logs.register_secret(key)
    error = requests.HTTPError(f"404 Client Error: Not Found for url: http://h/component/get?id=1&apiKey={key}")
    message = describe_error(error, "http://h")
    assert key not in message and "apiKey=***" in message
    unknown = "never-registered-key-77"
    assert unknown not in describe_error(RuntimeError(f"bad request with apiKey={unknown}&size=3"))
