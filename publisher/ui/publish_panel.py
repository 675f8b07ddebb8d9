"""The staging area and the publish controls below it. GUI thread only.

:class:`StagingPanel` shows where the staged components go (an existing version or a new one),
a drop hint while nothing is staged, the :class:`~publisher.ui.staging_view.StagingView`, and a
:class:`PublishPanel` with the comment, the Publish and Cancel buttons and the progress. Buttons
only emit intent signals; the controller decides.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
                               QStackedLayout, QTabBar, QVBoxLayout, QWidget)

from publisher.ui import icons
from publisher.ui.staging_view import StagingView


#: Problems under the publish controls: 7.6:1 on the dark theme's panel colour (WCAG AA asks 4.5:1).
PROBLEM_COLOUR = "#ff8a80"


class PublishPanel(QWidget):
    """Comment, Publish, Cancel and the progress of the running publish."""

    publishRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("Comment for this publish")
        self.publish_button = QPushButton(icons.icon("publish"), "Publish")
        self.publish_button.setObjectName("PublishButton")
        self.publish_button.setToolTip("Publish the staged components (Ctrl+Return)")
        self.publish_button.clicked.connect(self.publishRequested)
        self.cancel_button = QPushButton(icons.icon("cancel"), "Cancel")
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.cancel_button.hide()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.status = QLabel("")
        self.status.setObjectName("Muted")
        self.status.setWordWrap(True)

        row = QHBoxLayout()
        row.addWidget(self.comment, 1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.publish_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

    def set_running(self, running: bool) -> None:
        """Switch between idle (Publish) and running (progress, Cancel)."""
        self.cancel_button.setVisible(running)
        self.publish_button.setVisible(not running)
        self.progress.setVisible(running)
        self.comment.setEnabled(not running)
        if running:
            self.progress.setValue(0)
            # What the last publish ended with is old news once the next one runs.
            self.status.setText("")

    def set_progress(self, done: int, total: int, text: str) -> None:
        self.progress.setValue(int(1000 * done / total) if total else 0)
        self.progress.setFormat(text)

    def set_status(self, text: str, *, problem: bool = False) -> None:
        """Show ``text`` under the publish controls; a ``problem`` (an invalid name, say) in a
        readable warning colour rather than the muted grey of news."""
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {PROBLEM_COLOUR}; font-weight: 600;" if problem and text else "")


class StagingPanel(QFrame):
    """Where a drop goes, what it became, and the publish controls."""

    newVersionRequested = Signal()
    #: The artist asked to pick files to stage ("Add files…").
    addFilesRequested = Signal()
    #: ``index``: show the staged group at ``index`` (several targets at once).
    groupSelected = Signal(int)
    #: Publish every staged group.
    publishAllRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StagingPanel")
        self.title = QLabel("Staged for publish")
        self.title.setObjectName("PanelTitle")
        self.target = QLabel("Drop onto a version, a task or here")
        self.target.setObjectName("Muted")
        # The full path is the point of this line: wrap it rather than widen the window.
        self.target.setWordWrap(True)
        self.new_version_button = QPushButton(icons.icon("new_version"), "New version…")
        self.new_version_button.setToolTip("Stage a new version in the selected task (Ctrl+N)")
        self.new_version_button.clicked.connect(self.newVersionRequested)
        self.add_files_button = QPushButton("Add files…")
        self.add_files_button.setToolTip("Choose files to stage for the current target (or paste paths: Ctrl+V)")
        self.add_files_button.clicked.connect(self.addFilesRequested)

        self.hint = QFrame()
        self.hint.setObjectName("DropHint")
        hint_icon = QLabel()
        hint_icon.setPixmap(icons.icon("drop").pixmap(32, 32))
        hint_icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint_text = QLabel("Drop files, folders or image sequences\n"
                           "on a version, on a task, or here\n"
                           "(Shift+drop on a version: a new version of its asset)\n"
                           "or use Add files… or paste paths (Ctrl+V)")
        hint_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint_text.setObjectName("Muted")
        hint_layout = QVBoxLayout(self.hint)
        hint_layout.addStretch(1)
        hint_layout.addWidget(hint_icon)
        hint_layout.addWidget(hint_text)
        hint_layout.addStretch(1)

        # One tab per target when several are staged at once; hidden with one.
        self.groups = QTabBar()
        self.groups.setObjectName("StagingGroups")
        self.groups.setExpanding(False)
        self.groups.setElideMode(Qt.TextElideMode.ElideLeft)
        self.groups.hide()
        self.groups.currentChanged.connect(self._group_clicked)
        self.publish_all_button = QPushButton("Publish all")
        self.publish_all_button.setToolTip("Publish every staged target, each to its own version")
        self.publish_all_button.clicked.connect(self.publishAllRequested)
        self.publish_all_button.hide()
        self._filling = False

        self.view = StagingView()
        self.messages = QLabel("")
        self.messages.setWordWrap(True)
        self.messages.setObjectName("StagingMessages")
        self.messages.hide()
        self.publish = PublishPanel()

        self._stack = QStackedLayout()
        self._stack.addWidget(self.hint)
        self._stack.addWidget(self.view)

        top = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title)
        titles.addWidget(self.target)
        top.addLayout(titles, 1)
        top.addWidget(self.add_files_button)
        top.addWidget(self.new_version_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        groups_row = QHBoxLayout()
        groups_row.addWidget(self.groups, 1)
        groups_row.addWidget(self.publish_all_button)
        layout.addLayout(groups_row)
        layout.addLayout(self._stack, 1)
        layout.addWidget(self.messages)
        layout.addWidget(self.publish)

    def set_groups(self, labels: list[str], current: int) -> None:
        """One tab per staged target (shown only with two or more) and Publish all."""
        self._filling = True
        try:
            while self.groups.count() > len(labels):
                self.groups.removeTab(self.groups.count() - 1)
            for i, label in enumerate(labels):
                if i < self.groups.count():
                    self.groups.setTabText(i, label)
                else:
                    self.groups.addTab(label)
                self.groups.setTabToolTip(i, label)
            if 0 <= current < len(labels):
                self.groups.setCurrentIndex(current)
        finally:
            self._filling = False
        several = len(labels) > 1
        self.groups.setVisible(several)
        self.publish_all_button.setVisible(several)

    def _group_clicked(self, index: int) -> None:
        if not self._filling and index >= 0:
            self.groupSelected.emit(index)

    def set_target_text(self, text: str) -> None:
        self.target.setText(text)

    def show_list(self, has_rows: bool) -> None:
        """The list when something is staged, the drop hint otherwise."""
        self._stack.setCurrentWidget(self.view if has_rows else self.hint)

    def set_messages(self, errors: list[str], warnings: list[str]) -> None:
        """What the last drop could not use (errors) or should be checked (warnings)."""
        lines = [f"<span style='color:#ff8a80'>✖ {html.escape(e)}</span>" for e in errors[:6]]
        if len(errors) > 6:
            lines.append(f"<span style='color:#ff8a80'>… and {len(errors) - 6} more problems</span>")
        lines += [f"<span style='color:#ffd54f'>⚠ {html.escape(w)}</span>" for w in warnings[:4]]
        if len(warnings) > 4:
            lines.append(f"<span style='color:#ffd54f'>… and {len(warnings) - 4} more warnings</span>")
        self.messages.setText("<br>".join(lines))
        self.messages.setVisible(bool(lines))

    def messages_text(self) -> str:
        return self.messages.text() if self.messages.isVisible() or self.messages.text() else ""
