"""Which ftrack server to use, and a session on it: the configured one, or the embedded demo server.

The standalone window (:mod:`publisher.hosts.standalone`), the docked widget
(:mod:`publisher.hosts.dock`) and the ``publish`` command (:mod:`publisher.cli_publish`) all
start here: :func:`configured_server` picks the server (``FTRACK_*`` variables > the active
profile of :mod:`publisher.settings` > an address left in the old Qt settings > the demo server),
:func:`open_session` connects to a configured one and :func:`start_demo_server` starts the
embedded server as a child process and connects to it. Failures are exceptions carrying data
(:class:`ConnectionFailure` with a :class:`FailureKind`); each caller words them for its own
audience. No Qt (a ``QSettings`` is only read through its ``value``/``remove``/``sync``
methods); callable from any thread.
"""

from __future__ import annotations

import enum
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Protocol
from urllib.parse import urlsplit

from publisher import logs
from publisher.api.exceptions import ConfigurationError, FtrackError
from publisher.api.session import Session
from publisher.credentials import CredentialError
from publisher.embedded import EmbeddedServer, EmbeddedServerError
from publisher.settings import ServerProfile, SettingsStore

log = logging.getLogger(__name__)


class LegacySettings(Protocol):
    """What is read of the old ``QSettings`` (the keys ``server/url``, ``server/api_user``...)."""

    def value(self, key: str, default: Any = ...) -> Any: ...

    def remove(self, key: str) -> None: ...

    def sync(self) -> None: ...


@dataclass(frozen=True)
class ServerChoice:
    """Where to connect; ``embedded`` when the app must start its own server.

    ``source`` says where the choice came from (``"environment"``, ``"profile"``, ``"legacy"`` for
    an address left in the old Qt settings, ``"demo"``), ``label`` names it for the status bar and
    ``problem`` says what is missing (a key not stored, say) and what to do.
    """

    url: str | None
    api_user: str | None
    api_key: str | None
    embedded: bool
    source: str = field(default="", compare=False)
    label: str = field(default="", compare=False)
    problem: str = field(default="", compare=False)

    @property
    def status_label(self) -> str:
        """How the window's status bar names this server."""
        if self.source == "profile":
            return f"{self.label} · {self.url}"
        if self.source == "environment":
            return f"{self.url} (FTRACK_SERVER)"
        return self.url or ""


def configured_server(env: Mapping[str, str] | None = None, settings: LegacySettings | None = None,
                      store: SettingsStore | None = None, profile: str | None = None) -> ServerChoice:
    """The server from ``FTRACK_SERVER``/``FTRACK_API_USER``/``FTRACK_API_KEY``, else the active
    profile of ``store`` (a :class:`publisher.settings.SettingsStore`, the user's by default), else
    an address left in the old ``QSettings`` keys ``server/url``/``server/api_user`` (never a key
    from there), else the embedded one. ``profile`` names a profile to use instead of the active
    one (raises ``KeyError`` when none has that name). Reads only: :func:`migrate_legacy_settings`
    moves old keys."""
    env = dict(os.environ if env is None else env)
    store = store if store is not None else SettingsStore()
    loaded = store.load()
    chosen = store.resolve(env, loaded, profile)
    if chosen.embedded and settings is not None and not loaded.profiles and not loaded.use_demo_server:
        url = str(settings.value("server/url", "") or "")
        if url:
            return ServerChoice(url, str(settings.value("server/api_user", "") or "") or None, None, False,
                                source="legacy", label=url)
    return ServerChoice(chosen.url, chosen.api_user, chosen.api_key, chosen.embedded, source=chosen.source,
                        label=chosen.label, problem=chosen.problem)


def migrate_legacy_settings(settings: LegacySettings, store: SettingsStore) -> None:
    """Move a server kept in the old ``QSettings`` (``server/url``, ``server/api_user``,
    ``server/api_key``) into a profile of ``store``, its key into the keyring, and delete the old
    keys: no API key stays in the settings file. Without a keyring the old key is dropped (the
    user enters it again and chooses where it goes)."""
    key = str(settings.value("server/api_key", "") or "")
    url = str(settings.value("server/url", "") or "")
    user = str(settings.value("server/api_user", "") or "")
    logs.register_secret(key)
    if key:
        settings.remove("server/api_key")
    if url:
        loaded = store.load()
        known = any((p.url.rstrip("/"), p.api_user) == (url.rstrip("/"), user) for p in loaded.profiles)
        try:
            if not known:
                profile = ServerProfile(urlsplit(url).hostname or url, url, user)
                try:
                    store.save_profile(loaded, profile, key or None)
                except CredentialError as exc:
                    log.warning("The API key of %s could not be moved to the keyring (%s); enter it in Settings.",
                                url, exc)
                    store.save_profile(loaded, profile)
                if loaded.active is None:
                    loaded.active = profile.label
                    store.save(loaded)
            settings.remove("server/url")
            settings.remove("server/api_user")
        except (ValueError, OSError) as exc:  # a bad address or an unwritable folder: keep the old keys
            log.warning("Could not move the server %s from the old settings: %s", url, exc)
    settings.sync()


class FailureKind(enum.Enum):
    """Why no session could be had."""

    #: The embedded demo server did not start (its output is in the cause).
    SERVER_DID_NOT_START = "server did not start"
    #: The server was reached or started, but no session could be opened on it.
    SESSION_FAILED = "session failed"


class ConnectionFailure(Exception):
    """No session: ``kind`` says which part failed, ``url`` where, ``cause`` the error itself."""

    def __init__(self, kind: FailureKind, url: str, cause: BaseException) -> None:
        super().__init__(f"{kind.value} ({url}): {cause}")
        self.kind = kind
        self.url = url
        self.cause = cause


@dataclass
class Connection:
    """A session, and the embedded server it runs on when it is the demo one; closed together."""

    session: Session
    server: EmbeddedServer | None = None
    label: str = ""
    closed: bool = field(default=False, init=False)

    def close(self) -> None:
        """Close the session and stop the embedded server (once)."""
        if self.closed:
            return
        self.closed = True
        try:
            self.session.close()
        finally:
            if self.server is not None:
                self.server.stop()


def open_session(choice: ServerChoice) -> Session:
    """A session on the configured server ``choice`` (not the embedded one).

    Raises the client's ``FtrackError`` (``AuthenticationError``, ``ServerConnectionError``,
    ``ConfigurationError`` when the key is missing) saying what went wrong.
    """
    if choice.problem and not choice.api_key:
        raise ConfigurationError(choice.problem)
    return Session(choice.url, choice.api_user, choice.api_key)


def start_demo_server(data_dir: str | os.PathLike[str], *, python: str | None = None,
                      env: dict[str, str] | None = None) -> Connection:
    """Start the embedded server on ``data_dir`` (with interpreter ``python``, environment
    ``env``) and open a session on it. The server is stopped again if the session fails.

    Raises :class:`ConnectionFailure`: ``SERVER_DID_NOT_START`` or ``SESSION_FAILED``.
    """
    server = EmbeddedServer(Path(data_dir), python=python, env=env)
    try:
        info = server.start()
    except (EmbeddedServerError, OSError) as exc:
        raise ConnectionFailure(FailureKind.SERVER_DID_NOT_START, "", exc) from exc
    logs.register_secret(info.api_key)
    log.info("Using the embedded demo server at %s", info.url)
    try:
        session = Session(info.url, info.api_user, info.api_key)
    except FtrackError as exc:
        server.stop()
        raise ConnectionFailure(FailureKind.SESSION_FAILED, info.url, exc) from exc
    return Connection(session, server, f"embedded demo server {info.url}")


__all__ = ["Connection", "ConnectionFailure", "FailureKind", "LegacySettings", "ServerChoice",
           "configured_server", "migrate_legacy_settings", "open_session", "start_demo_server"]
