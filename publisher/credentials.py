"""Where API keys are kept: the operating system's keyring, or, where there is none, a file only
the user can read.

Keys are stored per server and user (``user@https://server``) under the keyring service
``ftrack-publisher``. When no keyring backend is available (``keyring`` falls back to its
``fail.Keyring``) or the backend refuses, :meth:`CredentialStore.set` raises
:class:`KeyringUnavailableError` unless the caller passes ``allow_file=True`` (the user agreed to
the less safe file): then the key goes to ``credentials.json`` in the config folder, mode 0600,
written atomically. Every key read or stored is registered with :func:`publisher.logs.register_secret`
so it can never reach the log. No Qt; callable from any thread (keyring calls may block, e.g. on a
locked keyring: keep them off the GUI thread where that matters).
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from publisher import logs
from publisher.paths import config_dir

log = logging.getLogger(__name__)

#: The keyring service name the keys are stored under.
SERVICE = "ftrack-publisher"
CREDENTIALS_FILE_NAME = "credentials.json"

_file_lock = threading.Lock()


class CredentialError(Exception):
    """A key could not be read or stored; the message says why and what to do (never the key)."""


class KeyringUnavailableError(CredentialError):
    """There is no usable system keyring: the key can only go to the file, if the user agrees."""


@dataclass(frozen=True)
class KeyringStatus:
    """Whether a system keyring can hold keys: ``backend`` names it, ``reason`` says why not."""

    available: bool
    backend: str
    reason: str = ""


def account(url: str, api_user: str) -> str:
    """The name a key is stored under: ``user@scheme://host[:port]/path`` with a normalised URL."""
    return f"{api_user}@{normalise_url(url)}"


def normalise_url(url: str) -> str:
    """``url`` without surrounding space or trailing slashes, scheme and host in lower case."""
    url = (url or "").strip().rstrip("/")
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme or not parts.netloc:
        return url
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()


def _backend_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def keyring_status() -> KeyringStatus:
    """Whether ``keyring`` has a backend that can store keys on this machine."""
    try:
        import keyring
        from keyring.backends import chainer, fail
    except ImportError:
        return KeyringStatus(False, "none", "The keyring package is not installed.")
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring configuration file, say
        return KeyringStatus(False, "none", f"The keyring could not be loaded ({type(exc).__name__}).")
    name = _backend_name(backend)
    try:
        from keyring.backends import null

        nulls: tuple[type, ...] = (fail.Keyring, null.Keyring)
    except ImportError:  # pragma: no cover - null exists in every keyring we support
        nulls = (fail.Keyring,)
    if isinstance(backend, nulls) or (isinstance(backend, chainer.ChainerBackend) and not backend.backends):
        return KeyringStatus(False, name, "No system keyring (such as GNOME Keyring, KWallet, macOS Keychain "
                                          "or Windows Credential Manager) is available.")
    return KeyringStatus(True, name)


def credentials_file() -> Path:
    """The fallback key file: ``credentials.json`` in the config folder."""
    return config_dir() / CREDENTIALS_FILE_NAME


class CredentialStore:
    """Reads, stores and forgets API keys: keyring first, the fallback file second."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path

    @property
    def path(self) -> Path:
        """The fallback file (the default one is looked up each time, so tests can move it)."""
        return self._path or credentials_file()

    def status(self) -> KeyringStatus:
        return keyring_status()

    # Reading -----------------------------------------------------------------------------------
    def get(self, url: str, api_user: str) -> str | None:
        """The key stored for ``api_user`` on ``url``, or ``None``.

        Raises :class:`CredentialError` only when the fallback file exists but cannot be read.
        """
        name = account(url, api_user)
        key: str | None = None
        if self.status().available:
            import keyring

            try:
                key = keyring.get_password(SERVICE, name)
            except Exception as exc:  # a locked or broken keyring: try the file
                log.warning("Could not read the API key of %s from the keyring (%s); trying the key file.",
                            name, type(exc).__name__)
        if key is None:
            key = self._read_file().get(name)
        logs.register_secret(key)
        return key

    def where(self, url: str, api_user: str) -> str | None:
        """``"keyring"``, ``"file"`` or ``None``: where the key of ``api_user`` on ``url`` is kept."""
        name = account(url, api_user)
        if self.status().available:
            import keyring

            try:
                if keyring.get_password(SERVICE, name) is not None:
                    return "keyring"
            except Exception:
                pass
        try:
            return "file" if name in self._read_file() else None
        except CredentialError:
            return None

    # Writing -----------------------------------------------------------------------------------
    def set(self, url: str, api_user: str, key: str, *, allow_file: bool = False) -> str:
        """Store ``key``; returns ``"keyring"`` or ``"file"``.

        In the keyring when there is one (and then any copy in the file is removed); else, with
        ``allow_file``, in the fallback file; else raises :class:`KeyringUnavailableError`.
        """
        if not key:
            raise CredentialError("The API key is empty: paste the key from your ftrack user settings.")
        logs.register_secret(key)
        name = account(url, api_user)
        status = self.status()
        problem = status.reason
        if status.available:
            import keyring

            try:
                keyring.set_password(SERVICE, name, key)
            except Exception as exc:
                problem = (f"The system keyring ({status.backend}) refused to store the key "
                           f"({type(exc).__name__}: {logs.redact(str(exc).replace(key, logs.MASK))}).")
                log.warning("%s", problem)
            else:
                self._remove_from_file(name)
                return "keyring"
        if not allow_file:
            raise KeyringUnavailableError(
                f"{problem} The API key can be kept in {self.path} instead, a file only you can read "
                "(less safe than a keyring). Choose that in the settings, or set FTRACK_API_KEY.")
        with _file_lock:
            keys = self._read_file(move_aside_if_corrupt=True)
            keys[name] = key
            self._write_file(keys)
        return "file"

    def delete(self, url: str, api_user: str) -> None:
        """Forget the key of ``api_user`` on ``url`` in the keyring and the file (no error if absent)."""
        name = account(url, api_user)
        if self.status().available:
            import keyring

            try:
                keyring.delete_password(SERVICE, name)
            except Exception:  # absent (PasswordDeleteError) or a keyring that refuses: nothing to undo
                pass
        self._remove_from_file(name)

    # The fallback file -------------------------------------------------------------------------
    def _remove_from_file(self, name: str) -> None:
        with _file_lock:
            try:
                keys = self._read_file()
            except CredentialError:
                return
            if name in keys:
                del keys[name]
                self._write_file(keys)

    def _read_file(self, *, move_aside_if_corrupt: bool = False) -> dict[str, str]:
        path = self.path
        try:
            info = path.stat()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise CredentialError(f"Cannot read the key file {path} ({exc.strerror}). "
                                  "Check its permissions, or enter the key again in the settings.") from None
        if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            # Someone widened it: keys must stay readable by this user only.
            log.warning("The key file %s was readable by others; making it private again.", path)
            try:
                os.chmod(path, 0o600)
            except OSError:
                pass
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            keys = data["keys"]
            if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
                raise ValueError("keys is not a mapping of strings")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            if move_aside_if_corrupt:
                aside = path.with_name(path.name + ".unreadable")
                os.replace(path, aside)
                log.warning("The key file %s could not be read (%s); moved it to %s and started a new one.",
                            path, type(exc).__name__, aside)
                return {}
            raise CredentialError(
                f"The key file {path} cannot be read ({type(exc).__name__}). Enter the API key again in the "
                "settings (the unreadable file is then moved aside), or set FTRACK_API_KEY.") from None
        for value in keys.values():
            logs.register_secret(value)
        return dict(keys)

    def _write_file(self, keys: dict[str, str]) -> None:
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Created 0600 from the start (no window where it is readable by others), then renamed
        # over the old file so a crash never leaves half a file.
        write_atomically(path, json.dumps({"version": 1, "keys": keys}, indent=1, sort_keys=True),
                         mode=0o600, prefix=".credentials-")


def write_atomically(path: Path, text: str, *, mode: int, prefix: str) -> None:
    """Write ``text`` to ``path`` so that a crash leaves the old file or the new one, never half.

    The text goes to a temporary file (named ``prefix...tmp``) in the same folder, given ``mode``
    before anything is written to it, flushed to the disk, then renamed over ``path``. On any
    failure the temporary file is removed and the error raised. Any thread.
    """
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
