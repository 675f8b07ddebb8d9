"""Ways to stage besides a drop: "Add files…" (a file dialog) and pasting paths (Ctrl+V).

Remote desktops often cannot drag files into a window, and keyboard users cannot drag at all;
both end in the same :meth:`StagingController.drop` a drop does, onto the current target.
GUI thread only.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtWidgets import QFileDialog, QWidget

from publisher.ui.drop_target import DropTarget
from publisher.ui.drop_zone import paths_from_mime

NOTHING_TO_PASTE = ("The clipboard holds no file paths: copy files in your file manager (or their "
                    "full paths, one a line), then paste here with Ctrl+V.")


def pasted_paths(mime: QMimeData) -> tuple[list[str], list[str]]:
    """The local paths in clipboard ``mime`` (``text/uri-list``, or paths or ``file://`` URLs one
    a line as text) and the problems with what was left out."""
    found = paths_from_mime(mime)
    paths, problems = list(found.paths), list(found.problems)
    if not paths and mime.hasText():
        for line in mime.text().splitlines():
            line = line.strip()
            if line.startswith("file://"):
                local = QUrl(line).toLocalFile()
                if local:
                    paths.append(local.rstrip("/") or local)
    return paths, problems


def paste(staging: Any, mime: QMimeData | None) -> None:
    """Stage the paths in ``mime`` (the clipboard's) onto the current target."""
    paths, problems = pasted_paths(mime) if mime is not None else ([], [])
    if not paths:
        staging.stagingMessages.emit(problems or [NOTHING_TO_PASTE], [])
        return
    staging.drop(paths, DropTarget("current"), problems)


def ask_files(parent: QWidget, on_paths: Callable[[list[str]], None]) -> QFileDialog:
    """Open a file dialog (not blocking: ``open()``) whose chosen files go to ``on_paths``."""
    dialog = QFileDialog(parent, "Add files to publish")
    dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
    dialog.filesSelected.connect(lambda files: on_paths(list(files)))
    dialog.open()
    return dialog


__all__ = ["NOTHING_TO_PASTE", "ask_files", "paste", "pasted_paths"]
