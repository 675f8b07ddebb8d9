"""Fixtures for the settings tests: private folders, a keyring kept in memory, no keyring at all.

Every test here runs with the config, log, data and cache folders under ``tmp_path`` (the
platformdirs environment variables, which also reach child processes) and without ``FTRACK_*``
variables, so nothing touches the real home or the real keyring.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import keyring
import keyring.backend
import pytest
from keyring.backends import fail

from publisher import logs
from settings_http import canned_handler, serve


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring backend for tests: passwords in a dict, nothing on disk."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if (service, username) not in self.passwords:
            raise PasswordDeleteError("not found")
        del self.passwords[(service, username)]


class RefusingKeyring(MemoryKeyring):
    """A keyring that is there but refuses to store (a locked keyring, no D-Bus session)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        from keyring.errors import PasswordSetError

        raise PasswordSetError(f"locked; could not store {password}")


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    dirs = {name: tmp_path / "home" / name for name in ("config", "state", "data", "cache")}
    monkeypatch.setenv("XDG_CONFIG_HOME", str(dirs["config"]))
    monkeypatch.setenv("XDG_STATE_HOME", str(dirs["state"]))
    monkeypatch.setenv("XDG_DATA_HOME", str(dirs["data"]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(dirs["cache"]))
    for name in ("FTRACK_SERVER", "FTRACK_API_USER", "FTRACK_API_KEY", "FTRACK_APIKEY"):
        monkeypatch.delenv(name, raising=False)
    yield dirs
    logs.teardown()


@pytest.fixture
def _restore_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(_restore_keyring: None) -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def no_keyring(_restore_keyring: None) -> None:
    """What keyring uses when this machine has no backend."""
    keyring.set_keyring(fail.Keyring())


@pytest.fixture
def refusing_keyring(_restore_keyring: None) -> RefusingKeyring:
    backend = RefusingKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def html_server() -> Iterator[str]:
    """A plain web server answering every request with an HTML page (not ftrack)."""
    yield from serve(canned_handler(200, b"<!DOCTYPE html><html><body>Welcome to nginx!</body></html>"))
