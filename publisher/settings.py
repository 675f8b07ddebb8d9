"""The publisher's settings: the servers it remembers, which one is in use, the local demo server.

Kept as JSON in ``settings.json`` under :func:`config_dir`. The file holds server profiles (a
label, the URL, the API user, when it was last used), the active profile and whether to use the
local demo server, and never an API key: keys go to :mod:`publisher.credentials`.
:meth:`SettingsStore.resolve` picks the server the app connects to, in the order every ftrack tool
uses: ``FTRACK_SERVER``/``FTRACK_API_USER``/``FTRACK_API_KEY`` > the active profile > the embedded
demo server. No Qt; callable from any thread (one store per thread).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from publisher import logs
from publisher.credentials import CredentialError, CredentialStore, account, write_atomically
from publisher.paths import config_dir

log = logging.getLogger(__name__)

SETTINGS_FILE_NAME = "settings.json"
FORMAT_VERSION = 1


def settings_file() -> Path:
    return config_dir() / SETTINGS_FILE_NAME


@dataclass
class ServerProfile:
    """A server the user works with. ``label`` names it in the settings and identifies it."""

    label: str
    url: str
    api_user: str
    last_used: str | None = None  # ISO 8601, UTC


@dataclass
class Settings:
    """Everything in the settings file."""

    profiles: list[ServerProfile] = field(default_factory=list)
    active: str | None = None  # label of the active profile
    use_demo_server: bool = False

    def profile(self, label: str | None) -> ServerProfile | None:
        return next((p for p in self.profiles if p.label == label), None) if label else None

    def active_profile(self) -> ServerProfile | None:
        return self.profile(self.active)


@dataclass(frozen=True)
class ServerSelection:
    """The server the app should use and why.

    ``source`` is ``"environment"`` (FTRACK_* variables), ``"profile"`` (the active profile, named
    by ``label``) or ``"demo"`` (the embedded server: ``url``, user and key are then ``None``).
    ``problem`` says what is missing (e.g. no key stored for the profile) and what to do.
    """

    url: str | None
    api_user: str | None
    api_key: str | None
    source: str
    label: str = ""
    problem: str = ""

    @property
    def embedded(self) -> bool:
        return self.source == "demo"


def validate_url(url: str) -> str:
    """``url`` cleaned up (trailing slashes dropped); raises ``ValueError`` saying what is wrong."""
    text = (url or "").strip().rstrip("/")
    if not text:
        raise ValueError("Enter the server address, for example https://yourstudio.ftrackapp.com.")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid address ({exc}).") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{text!r} is not a server address: it must start with https:// (or http://) "
                         "and name a host, for example https://yourstudio.ftrackapp.com.")
    return text


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


class SettingsStore:
    """Loads and saves :class:`Settings` and the keys of its profiles.

    ``path`` defaults to :func:`settings_file` (looked up when used); ``credentials`` to a
    :class:`~publisher.credentials.CredentialStore` on the default key file. ``problem`` says why
    the last :meth:`load` could not read the file (it was then moved aside, not overwritten).
    """

    def __init__(self, path: Path | None = None, credentials: CredentialStore | None = None) -> None:
        self._path = path
        self.credentials = credentials or CredentialStore()
        self.problem = ""

    @property
    def path(self) -> Path:
        return self._path or settings_file()

    # The file ----------------------------------------------------------------------------------
    def load(self) -> Settings:
        """The saved settings; defaults when there is no file.

        An unreadable file is renamed ``settings.json.unreadable`` (so nothing is lost), the
        defaults are returned and :attr:`problem` says so.
        """
        self.problem = ""
        path = self.path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Settings()
        except OSError as exc:
            self.problem = f"Cannot read the settings file {path} ({exc.strerror}); using the defaults."
            log.warning("%s", self.problem)
            return Settings()
        try:
            return self._decode(json.loads(text))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            aside = path.with_name(path.name + ".unreadable")
            try:
                os.replace(path, aside)
                kept = f" It was moved to {aside}."
            except OSError:
                kept = ""
            self.problem = (f"The settings file {path} could not be read ({type(exc).__name__}: {exc})."
                            f"{kept} Using the defaults: enter your servers again in the settings.")
            log.warning("%s", logs.redact(self.problem))
            return Settings()

    @staticmethod
    def _decode(data: object) -> Settings:
        if not isinstance(data, dict):
            raise ValueError("the file does not hold a JSON object")
        profiles = []
        for item in data.get("profiles", []):
            if not isinstance(item, dict):
                raise ValueError("a profile is not a JSON object")
            profiles.append(ServerProfile(label=str(item["label"]), url=str(item["url"]),
                                          api_user=str(item.get("api_user") or ""),
                                          last_used=item.get("last_used") or None))
        active = data.get("active")
        return Settings(profiles=profiles, active=str(active) if active else None,
                        use_demo_server=bool(data.get("use_demo_server", False)))

    def save(self, settings: Settings) -> None:
        """Write ``settings`` atomically (a crash leaves the old file or the new one, never half)."""
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": FORMAT_VERSION, "active": settings.active,
                "use_demo_server": settings.use_demo_server,
                "profiles": [asdict(p) for p in settings.profiles]}
        write_atomically(path, json.dumps(data, indent=2) + "\n",
                         mode=0o644 if os.name == "posix" else 0o666, prefix=".settings-")

    # Profiles ----------------------------------------------------------------------------------
    def save_profile(self, settings: Settings, profile: ServerProfile, api_key: str | None = None, *,
                     previous: ServerProfile | None = None, allow_file: bool = False) -> str | None:
        """Add or replace ``profile`` in ``settings`` (by ``previous``'s label, else its own), store
        ``api_key`` if given, and save. Returns where the key went (``"keyring"``/``"file"``/``None``).

        When the URL or user changed, a stored key moves with the profile. The key is stored before
        the file is written, so a refused key (:class:`~publisher.credentials.KeyringUnavailableError`)
        leaves the settings unchanged.
        """
        profile.url = validate_url(profile.url)
        profile.api_user = profile.api_user.strip()
        profile.label = profile.label.strip() or profile.url
        old = settings.profile(previous.label if previous else profile.label)
        clash = settings.profile(profile.label)
        if clash is not None and clash is not old:
            raise ValueError(f"There is already a server named {profile.label!r}: choose another name.")
        where = None
        moved = old is not None and (old.url, old.api_user) != (profile.url, profile.api_user)
        if api_key:
            where = self.credentials.set(profile.url, profile.api_user, api_key, allow_file=allow_file)
        elif moved:
            assert old is not None
            kept = self._read_key(old)
            if kept:
                where = self.credentials.set(profile.url, profile.api_user, kept, allow_file=allow_file)
        if moved and not self._shared(settings, old, exclude=old):
            assert old is not None
            self.credentials.delete(old.url, old.api_user)
        if old is not None:
            settings.profiles[settings.profiles.index(old)] = profile
            if settings.active == old.label:
                settings.active = profile.label
        else:
            settings.profiles.append(profile)
        self.save(settings)
        return where

    def remove_profile(self, settings: Settings, label: str) -> None:
        """Forget the profile ``label`` and its key (unless another profile uses the same login)."""
        profile = settings.profile(label)
        if profile is None:
            return
        settings.profiles.remove(profile)
        if not self._shared(settings, profile, exclude=None):
            self.credentials.delete(profile.url, profile.api_user)
        if settings.active == label:
            settings.active = None
        self.save(settings)

    @staticmethod
    def _shared(settings: Settings, profile: ServerProfile, exclude: ServerProfile | None) -> bool:
        name = account(profile.url, profile.api_user)
        return any(account(p.url, p.api_user) == name for p in settings.profiles if p is not exclude)

    def _read_key(self, profile: ServerProfile) -> str | None:
        try:
            return self.credentials.get(profile.url, profile.api_user)
        except CredentialError as exc:
            log.warning("%s", exc)
            return None

    def api_key(self, profile: ServerProfile) -> str | None:
        """The stored key of ``profile`` (raises CredentialError if the key file is unreadable)."""
        return self.credentials.get(profile.url, profile.api_user)

    def mark_used(self, settings: Settings, label: str) -> None:
        """Record that the app connected with profile ``label`` now, and save."""
        profile = settings.profile(label)
        if profile is not None:
            profile.last_used = _now()
            self.save(settings)

    # Choosing the server -----------------------------------------------------------------------
    def resolve(self, env: Mapping[str, str] | None = None, settings: Settings | None = None,
                profile_label: str | None = None) -> ServerSelection:
        """The server to use: ``FTRACK_SERVER`` (with ``FTRACK_API_USER``, ``FTRACK_API_KEY``) >
        the profile ``profile_label`` when given (the command line's ``--profile``; raises
        ``KeyError`` when there is none of that name), else the active one, and its stored key >
        the embedded demo server."""
        env = os.environ if env is None else env
        if env.get("FTRACK_SERVER"):
            key = env.get("FTRACK_API_KEY") or env.get("FTRACK_APIKEY") or None
            logs.register_secret(key)
            return ServerSelection(env["FTRACK_SERVER"], env.get("FTRACK_API_USER") or None, key,
                                   "environment", label="FTRACK_SERVER")
        settings = self.load() if settings is None else settings
        if profile_label is not None:
            profile = settings.profile(profile_label)
            if profile is None:
                raise KeyError(profile_label)
        else:
            profile = settings.active_profile()
            if settings.use_demo_server:
                profile = None
        if profile is None:
            return ServerSelection(None, None, None, "demo", label="local demo server")
        # Each variable overrides its own field, as in every ftrack tool.
        problem = ""
        key = env.get("FTRACK_API_KEY") or env.get("FTRACK_APIKEY") or None
        user = env.get("FTRACK_API_USER") or profile.api_user
        if key is None:
            try:
                key = self.credentials.get(profile.url, user)
            except CredentialError as exc:
                problem = str(exc)
            if key is None and not problem:
                status = self.credentials.status()
                problem = (f"No API key is stored for {user} on {profile.url}"
                           + ("" if status.available else f" ({status.reason})")
                           + ". Enter it in Settings…, or set FTRACK_API_KEY.")
        logs.register_secret(key)
        return ServerSelection(profile.url, user or None, key, "profile", label=profile.label, problem=problem)
