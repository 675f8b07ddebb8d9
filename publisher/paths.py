"""Where the publisher keeps its files on this machine (platformdirs). No Qt."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "ftrack-publisher"


def config_dir() -> Path:
    """The user config folder: the settings file and, without a keyring, the key file."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """The user data folder: the embedded server's data, the outbox."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """The user cache folder: schema cache, thumbnails."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    """The user log folder."""
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def embedded_server_dir() -> Path:
    """The data folder of the embedded demo server."""
    return data_dir() / "server"
