"""qtawesome icons used by the window, named once. Call from the GUI thread only."""

from __future__ import annotations

from functools import lru_cache

import qtawesome as qta
from PySide6.QtGui import QIcon

ACCENT = "#5aa9e6"
MUTED = "#a0a4ab"

_NAMES = {
    "Project": ("mdi6.folder-star", ACCENT),
    "Folder": ("mdi6.folder", MUTED),
    "Sequence": ("mdi6.filmstrip-box-multiple", MUTED),
    "Shot": ("mdi6.movie-open", MUTED),
    "Episode": ("mdi6.television-classic", MUTED),
    "AssetBuild": ("mdi6.cube-outline", MUTED),
    "Task": ("mdi6.clipboard-check-outline", "#8fd18f"),
    "file": ("mdi6.file-outline", MUTED),
    "sequence": ("mdi6.image-multiple-outline", MUTED),
    "container": ("mdi6.package-variant", MUTED),
    "refresh": ("mdi6.refresh", MUTED),
    "publish": ("mdi6.cloud-upload", "#ffffff"),
    "remove": ("mdi6.close-circle-outline", "#e57373"),
    "new_version": ("mdi6.plus-box-outline", ACCENT),
    "filter": ("mdi6.magnify", MUTED),
    "error": ("mdi6.alert-circle", "#ff8a80"),
    "warning": ("mdi6.alert", "#ffd54f"),
    "close": ("mdi6.close", MUTED),
    "playable": ("mdi6.play-circle", "#8fd18f"),
    "encoding": ("mdi6.progress-clock", "#ffd54f"),
    # The action, unlike the "encoding" state's clock: a movie being made.
    "make_reviewable": ("mdi6.movie-play-outline", ACCENT),
    "failed": ("mdi6.alert-circle-outline", "#ff8a80"),
    "none": ("mdi6.minus", "#666a70"),
    "server": ("mdi6.server", MUTED),
    "user": ("mdi6.account", MUTED),
    "cancel": ("mdi6.cancel", MUTED),
    "drop": ("mdi6.tray-arrow-down", MUTED),
    "version": ("mdi6.layers-outline", MUTED),
}


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """The icon for ``name`` (an entity type, a component kind, a review state or an action)."""
    spec = _NAMES.get(name) or _NAMES["Folder"]
    return qta.icon(spec[0], color=spec[1])
