"""The text "Copy diagnostics" puts on the clipboard: what a support person needs, no secret.

Versions (the publisher, Python, the OS, Qt and the libraries), the folders in use, where keys
are kept, the settings (servers and users, never keys), which ``FTRACK_*`` variables are set
(the key only as "set"), the server in use and the last lines of the log. The whole text is
passed through :func:`publisher.logs.redact` at the end. No Qt imports (Qt's version is read
from the installed package); callable from any thread.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import Mapping

from publisher import __version__, logs, paths

#: Distributions whose versions are listed.
PACKAGES = ("PySide6", "PySide6-Essentials", "shiboken6", "requests", "urllib3", "keyring", "platformdirs",
            "clique", "qtawesome", "av", "aiohttp", "Pillow")


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _qt_runtime() -> str | None:
    # Only when Qt is already loaded (the app): importing it here would start Qt in a headless tool.
    core = sys.modules.get("PySide6.QtCore")
    return getattr(core, "qVersion", lambda: None)() if core is not None else None


def collect(store: object | None = None, env: Mapping[str, str] | None = None, *,
            server: str = "", log_lines: int = 60) -> str:
    """The diagnostics text. ``store`` is a :class:`publisher.settings.SettingsStore` (the default
    one when ``None``); ``server`` says which server the app uses (e.g. the status bar's text)."""
    from publisher import credentials, settings as settings_module

    env = os.environ if env is None else env
    store = store if store is not None else settings_module.SettingsStore()
    lines = [f"ftrack publisher {__version__}",
             f"Python {platform.python_version()} ({sys.executable})",
             f"OS {platform.platform()} ({platform.machine()})"]
    qt = _qt_runtime()
    if qt:
        lines.append(f"Qt runtime {qt}")
    lines.append("Packages: " + ", ".join(f"{name} {v}" for name in PACKAGES if (v := _version(name))))
    lines.append("")
    lines.append("Folders:")
    lines.append(f"  config {settings_module.config_dir()}")
    lines.append(f"  data   {paths.data_dir()}")
    lines.append(f"  cache  {paths.cache_dir()}")
    lines.append(f"  logs   {logs.log_file()}")
    status = credentials.keyring_status()
    lines.append("")
    lines.append(f"Keyring: {status.backend} ({'available' if status.available else 'not available: ' + status.reason})")
    lines.append(f"Key file: {store.credentials.path} ({'exists' if store.credentials.path.exists() else 'none'})")  # type: ignore[attr-defined]
    lines.append("")
    lines.append("Environment:")
    for name in ("FTRACK_SERVER", "FTRACK_API_USER"):
        lines.append(f"  {name}: {env.get(name) or '(not set)'}")
    for name in ("FTRACK_API_KEY", "FTRACK_APIKEY"):
        # Worded without "NAME:" so the redaction (which blanks "FTRACK_API_KEY: value") leaves it.
        lines.append(f"  {name} is {'set' if env.get(name) else 'not set'}")
    lines.append("")
    loaded = store.load()  # type: ignore[attr-defined]
    lines.append(f"Settings file: {store.path}" + (f" ({store.problem})" if store.problem else ""))  # type: ignore[attr-defined]
    lines.append(f"  use the local demo server: {'yes' if loaded.use_demo_server else 'no'}")
    lines.append(f"  active server: {loaded.active or '(none)'}")
    for p in loaded.profiles:
        try:
            where = store.credentials.where(p.url, p.api_user) or "no key stored"  # type: ignore[attr-defined]
        except Exception as exc:  # a broken keyring must not stop the diagnostics
            where = f"key location unknown ({type(exc).__name__})"
        lines.append(f"  server {p.label!r}: {p.url} as {p.api_user or '(no user)'}; key: {where}; "
                     f"last used {p.last_used or 'never'}")
    if server:
        lines.append(f"In use: {server}")
    lines.append("")
    tail = logs.last_lines(log_lines)
    lines.append(f"Last {len(tail)} log lines:" if tail else "Log: (empty)")
    lines.extend(tail)
    return logs.redact("\n".join(lines)) + "\n"
