""""Make reviewable"'s chooser: the version's own media first, a file on disk only as "Other file…".

:func:`review_sources` picks, from a version's components, those the server can encode (movies,
stills and image sequences held in ``ftrack.server``; not the review outputs themselves).
:class:`ReviewChooser` lists them; :func:`ask_for_file` is the file dialog behind "Other file…",
opened in the given folder or the home folder, never the working directory. GUI thread only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QVBoxLayout, QWidget)

from publisher.ui import icons

MOVIE_TYPES = frozenset({".mov", ".mp4", ".m4v", ".avi", ".mkv", ".mxf", ".webm"})
IMAGE_TYPES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".exr", ".dpx"})
#: The components an encode or the server makes: encoding them again makes no sense.
REVIEW_OUTPUTS = frozenset({"ftrackreview-mp4", "ftrackreview-webm", "ftrackreview-image", "thumbnail"})
FILE_FILTERS = ["Movies and images (" + " ".join(f"*{t}" for t in sorted(MOVIE_TYPES | IMAGE_TYPES)) + ")",
                "All files (*)"]


@dataclass(frozen=True)
class ReviewSource:
    """One of a version's components that can be made reviewable."""

    label: str
    media: str  # "component:<id>", as ReviewController.make_reviewable takes it
    kind: str  # "movie" | "still" | "sequence"


def review_sources(components: Iterable[Any]) -> list[ReviewSource]:
    """The components (``ComponentRow``) the server can encode, movies first."""
    found: list[ReviewSource] = []
    for c in components:
        file_type = (c.file_type or "").lower()
        if c.name in REVIEW_OUTPUTS or "ftrack.server" not in c.locations:
            continue
        if c.kind == "file" and file_type in MOVIE_TYPES:
            kind = "movie"
        elif c.kind == "file" and file_type in IMAGE_TYPES:
            kind = "still"
        elif c.kind == "sequence" and file_type in IMAGE_TYPES:
            kind = "sequence"
        else:
            continue
        frames = f" [{c.frame_range}]" if kind == "sequence" and c.frame_range else ""
        found.append(ReviewSource(f"{c.name}{file_type}{frames} ({kind})", f"component:{c.id}", kind))
    order = {"movie": 0, "sequence": 1, "still": 2}
    return sorted(found, key=lambda s: order[s.kind])


def ask_for_file(parent: QWidget, title: str, on_chosen: Callable[[str], Any], folder: str | None = None) -> QFileDialog:
    """Open (not exec) a file dialog for a movie or image, in ``folder`` or the home folder."""
    start = folder if folder and Path(folder).is_dir() else str(Path.home())
    dialog = QFileDialog(parent, title, start)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.setNameFilters(FILE_FILTERS)
    dialog.fileSelected.connect(on_chosen)
    dialog.open()
    return dialog


class ReviewChooser(QDialog):
    """Lists a version's own media to make reviewable; "Other file…" asks for a file instead."""

    #: ``media``: a ``component:<id>`` chosen from the list.
    chosen = Signal(str)
    #: The artist wants a file on disk instead.
    otherFileRequested = Signal()

    def __init__(self, title: str, sources: list[ReviewSource], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.sources = sources
        intro = QLabel("Encode one of this version's own files for review:")
        self.list = QListWidget()
        for source in sources:
            item = QListWidgetItem(icons.icon("sequence" if source.kind == "sequence" else "file"), source.label)
            item.setData(Qt.ItemDataRole.UserRole, source.media)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.addButton("Make reviewable", QDialogButtonBox.ButtonRole.AcceptRole)
        self.other_button = QPushButton("Other file…")
        buttons.addButton(self.other_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.other_button.clicked.connect(self._other)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)

    def choose(self, media: str) -> None:
        """Choose the entry of ``media`` and accept (also what a double-click does)."""
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == media:
                self.list.setCurrentRow(row)
                self.accept()
                return
        raise KeyError(media)

    def accept(self) -> None:
        item = self.list.currentItem()
        super().accept()
        if item is not None:
            self.chosen.emit(str(item.data(Qt.ItemDataRole.UserRole)))

    def _other(self) -> None:
        self.reject()
        self.otherFileRequested.emit()
