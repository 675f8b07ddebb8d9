"""The selected version's details: thumbnail, who and when, comment and components.

GUI thread only. Fed with a ``publisher.publish.browse.VersionDetails`` by the window; drops on
the panel are handled by the :class:`~publisher.ui.drop_zone.DropZone` the window installs.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QListWidget, QListWidgetItem, QMenu, QPushButton, QTableView, QTabWidget,
                               QVBoxLayout, QWidget)

from publisher.ui import component_model as cm
from publisher.ui import icons
from publisher.ui.component_model import ComponentModel
from publisher.ui.review_chooser import review_sources
from publisher.ui.version_model import format_date


class DetailsPanel(QFrame):
    """Shows one version; empty state invites a selection or a drop."""

    #: ``(version_id, component_id)``: encode this file component (in ftrack.server) for review.
    componentReviewRequested = Signal(str, str)
    #: ``(version_id, text)``: add a note to the version.
    noteRequested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DetailsPanel")
        self.details: Any = None
        self.components = ComponentModel(self)

        self.thumbnail = QLabel()
        self.thumbnail.setFixedSize(160, 90)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.setStyleSheet("background: #161719; border-radius: 3px;")
        self.title = QLabel("No version selected")
        self.title.setObjectName("PanelTitle")
        self.subtitle = QLabel("Select a version, or drop files here to stage a new one.")
        self.subtitle.setObjectName("Muted")
        self.subtitle.setWordWrap(True)
        self.comment = QLabel()
        self.comment.setWordWrap(True)
        self.comment.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.title)
        text.addWidget(self.subtitle)
        text.addWidget(self.comment)
        text.addStretch(1)
        head = QHBoxLayout()
        head.addWidget(self.thumbnail)
        head.addLayout(text, 1)

        self.table = QTableView()
        self.table.setObjectName("ComponentView")
        self.table.setModel(self.components)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        # Every column as wide as its contents (header included, so "Available" is whole) and the
        # component name taking what is left, elided in the middle so the frame range shows.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(cm.NAME, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._menu)

        # The conversation on the version (ftrack's notes: the publish comments of later
        # additions land here too), beside the components so neither squeezes the other.
        self.notes = QListWidget()
        self.notes.setObjectName("NoteView")
        self.notes.setWordWrap(True)
        self.notes.setAlternatingRowColors(True)
        self.notes.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("Add a note to this version…")
        self.note_edit.returnPressed.connect(self._add_note)
        self.note_button = QPushButton("Add note")
        self.note_button.clicked.connect(self._add_note)
        note_row = QHBoxLayout()
        note_row.addWidget(self.note_edit, 1)
        note_row.addWidget(self.note_button)
        notes_page = QWidget()
        notes_layout = QVBoxLayout(notes_page)
        notes_layout.setContentsMargins(0, 4, 0, 0)
        notes_layout.addWidget(self.notes, 1)
        notes_layout.addLayout(note_row)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.table, "Components")
        self.tabs.addTab(notes_page, "Notes")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(head)
        layout.addWidget(self.tabs, 1)
        self.clear()

    def clear(self, message: str = "Select a version, or drop files here to stage a new one.") -> None:
        """Show the empty state."""
        self.details = None
        self.title.setText("No version selected")
        self.subtitle.setText(message)
        self.comment.setText("")
        self.show_placeholder_thumbnail()
        self.components.clear()
        self.set_notes([])

    def show_loading(self, label: str) -> None:
        self.title.setText(label)
        self.subtitle.setText("Loading…")
        self.comment.setText("")
        self.components.clear()

    def set_details(self, details: Any) -> None:
        """Show ``details`` (a ``VersionDetails``)."""
        self.details = details
        row = details.row
        self.title.setText(f"{row.asset_name}  v{row.version:03d}")
        bits = [row.asset_type]
        if row.status_name:
            bits.append(row.status_name)
        who = details.published_by or row.user_name
        if who:
            bits.append(f"by {who}")
        when = details.date or row.date
        if when:
            bits.append(format_date(when))
        self.subtitle.setText("  ·  ".join(bits))
        self.comment.setText(details.comment or row.comment or "No comment.")
        self.components.set_rows(details.components)
        self.set_notes(getattr(details, "notes", []))
        # The picture shown so far belongs to the previous version: a version without a
        # thumbnail (or whose thumbnail is still loading) shows the placeholder.
        self.show_placeholder_thumbnail()

    def set_notes(self, notes: list[Any]) -> None:
        """List ``notes`` (``NoteRow``: author, date, text), oldest first; the tab says how many."""
        self.notes.clear()
        for note in notes:
            self._append_note(note)
        self._notes_changed()

    def add_shown_note(self, note: Any) -> None:
        """Append a note just added (the input is cleared and enabled again)."""
        self._append_note(note)
        self._notes_changed()
        self.note_edit.clear()
        self.note_edit.setEnabled(True)
        self.note_button.setEnabled(True)

    def note_failed(self) -> None:
        """Adding a note failed: keep the words typed so nothing is lost."""
        self.note_edit.setEnabled(True)
        self.note_button.setEnabled(True)

    def _append_note(self, note: Any) -> None:
        when = format_date(note.date) if note.date else ""
        item = QListWidgetItem(f"{note.author}  ·  {when}\n{note.text}" if when else f"{note.author}\n{note.text}")
        item.setToolTip(note.text)
        self.notes.addItem(item)

    def _notes_changed(self) -> None:
        count = self.notes.count()
        self.tabs.setTabText(1, f"Notes ({count})" if count else "Notes")
        self.notes.scrollToBottom()
        has_version = self.details is not None
        self.note_edit.setEnabled(has_version)
        self.note_button.setEnabled(has_version)

    def _add_note(self) -> None:
        text = self.note_edit.text().strip()
        if self.details is None or not text:
            return
        # Disabled until the server answers: a second Enter must not add it twice.
        self.note_edit.setEnabled(False)
        self.note_button.setEnabled(False)
        self.noteRequested.emit(self.details.row.id, text)

    def show_placeholder_thumbnail(self) -> None:
        """Show the generic version icon instead of a picture."""
        self.thumbnail.setPixmap(icons.icon("version").pixmap(48, 48))

    def set_thumbnail(self, pixmap: QPixmap | None) -> None:
        if pixmap is None:
            return
        self.thumbnail.setPixmap(pixmap.scaled(self.thumbnail.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation))

    def _menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        row = self.components.row_at(index.row()) if index.isValid() else None
        if row is None or self.details is None:
            return
        menu = QMenu(self)
        action = menu.addAction(icons.icon("make_reviewable"), "Make reviewable",
                                lambda v=self.details.row.id, c=row.id: self.componentReviewRequested.emit(v, c))
        # The server encodes from its own store: movies, stills and image sequences in ftrack.server.
        action.setEnabled(bool(review_sources([row])))
        self._menu_shown = menu
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def version_id(self) -> str | None:
        return None if self.details is None else self.details.row.id
