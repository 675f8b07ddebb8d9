"""What the host's "ftrack > Publish…" menu entry runs, in every host and with any Qt.

:func:`open_publisher` docks the publisher where the host runs Qt 6 with PySide6 (Maya 2025+,
Nuke 16+, Houdini 21+; it floats when docking fails), and elsewhere (Nuke 15, Houdini 20.5:
PySide2) collects the scene with the Qt-free collector and starts the standalone app as its own
process with the task and the collected items, so nothing of ours loads into the host's Qt.
The bootstraps the build writes (``menu.py``, ``userSetup.py``, Houdini's menu and package)
call it. This module imports no Qt. Call it on the host's main thread (a menu callback).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

from publisher.hosts import context

HOSTS = ("Maya", "Nuke", "Houdini")
#: First version of each host that ships PySide6.
QT6_SINCE = {"Maya": 2025, "Nuke": 16, "Houdini": 21}


def host_version(host: str) -> int:
    """The running host's major version (0 when it cannot be told)."""
    try:
        if host == "Nuke":
            return int(getattr(importlib.import_module("nuke"), "NUKE_VERSION_MAJOR", 0))
        if host == "Houdini":
            return int(importlib.import_module("hou").applicationVersion()[0])
        if host == "Maya":
            from maya import cmds  # type: ignore[import-not-found]

            return int(cmds.about(majorVersion=True))
    except Exception:  # an unknown build: decide on the Qt binding alone
        return 0
    raise ValueError(f"unknown host {host!r}: use one of {', '.join(HOSTS)}")


def runs_qt6(host: str) -> bool:
    """True when our PySide6 widgets can live inside ``host``."""
    if "PySide2" in sys.modules or "PyQt5" in sys.modules:
        return False  # the host's Qt 5 is loaded: a Qt 6 next to it would crash the host
    if importlib.util.find_spec("PySide6") is None:
        return False
    version = host_version(host)
    return version == 0 or version >= QT6_SINCE[host]


def open_publisher(host: str, *, playblast: bool = False) -> Any:
    """Open the publisher for ``host`` ("Maya", "Nuke", "Houdini"): docked, or as its own process."""
    if host not in HOSTS:
        raise ValueError(f"unknown host {host!r}: use one of {', '.join(HOSTS)}")
    if runs_qt6(host):
        adapter = importlib.import_module(f"publisher.hosts.{host.lower()}")
        return adapter.show()
    collector = importlib.import_module(f"publisher.hosts.collect.{host.lower()}")
    collection = collector.collect(playblast=True) if (host == "Maya" and playblast) else collector.collect()
    from publisher.hosts.launch import launch

    return launch(collection, context.from_environment())


__all__ = ["HOSTS", "QT6_SINCE", "host_version", "open_publisher", "runs_qt6"]
