"""The publisher's main widget and the standalone main window around it. GUI thread only.

:class:`PublisherWidget` is a plain ``QWidget`` a DCC can dock: the context browser, the versions
of the selected context, the selected version's details and the staging list with the publish
controls. It wires the views' intent signals to the window's controllers (browse, staging, publish
queue, review; built together by :class:`~publisher.ui.controller.Controller`) and their signals
back to the views.
:class:`MainWindow` adds a status bar saying which server and user are in use.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QHBoxLayout, QLabel, QMainWindow, QSplitter,
                               QToolButton, QVBoxLayout, QWidget)

from publisher.ui import context_launch, icons, theme
from publisher.ui.activity_panel import ActivityPanel
from publisher.ui.browser_panel import ContextBrowser
from publisher.ui.controller import Controller
from publisher.ui.details_panel import DetailsPanel
from publisher.ui.drop_zone import DropTarget, DropZone
from publisher.ui.error_banner import ErrorBanner
from publisher.ui.live_updates import LiveUpdates
from publisher.ui.new_version_dialog import NewVersionDialog
from publisher.ui import staging_sources
from publisher.ui.publish_panel import StagingPanel
from publisher.ui.versions_panel import VersionsPanel


#: ``outbox`` default: the user's own outbox (``publisher.paths.data_dir() / "outbox"``).
USER_OUTBOX: Any = object()


def user_outbox() -> Any:
    """The outbox in the user data folder, where publishes wait and are resumed from."""
    from publisher.publish.outbox import Outbox

    return Outbox()


class PublisherWidget(QWidget):
    """Everything the artist works with, in one dockable widget."""

    #: ``text``: news for a status bar (the host's, or :class:`MainWindow`'s).
    statusMessage = Signal(str)

    def __init__(self, session: Any, parent: QWidget | None = None, *, follow_host: bool = False,
                 controller: Controller | None = None, settings: Any = None,
                 outbox: Any = USER_OUTBOX) -> None:
        super().__init__(parent)
        if outbox is USER_OUTBOX:
            outbox = user_outbox()
        self.setObjectName("PublisherWidget")
        self.controller = controller or Controller(session, self, settings=settings, outbox=outbox)
        c = self.controller
        browse, staging, queue, review = c.browse, c.staging, c.queue, c.review

        self.banner = ErrorBanner()
        self.refresh_button = QToolButton()
        self.refresh_button.setIcon(icons.icon("refresh"))
        self.refresh_button.setToolTip("Refresh (F5)")
        self.refresh_button.setAutoRaise(True)
        self.refresh_button.clicked.connect(browse.refresh)
        self.browser = ContextBrowser(browse.context_model)
        self.versions = VersionsPanel(browse.version_model)
        self.details = DetailsPanel()
        self.staging = StagingPanel()
        self.staging.view.setModel(staging.staging_model)
        self.dialog: NewVersionDialog | None = None

        left = QWidget()
        left.setMinimumWidth(120)  # task names ("Compositing", "Lighting") stay readable
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_head = QHBoxLayout()
        projects = QLabel("Projects")
        projects.setObjectName("PanelTitle")
        left_head.addWidget(projects, 1)
        left_head.addWidget(self.refresh_button)
        left_layout.addLayout(left_head)
        left_layout.addWidget(self.browser, 1)

        self.right = QSplitter(Qt.Orientation.Vertical)
        self.right.addWidget(self.details)
        self.right.addWidget(self.staging)
        self.right.setStretchFactor(0, 2)
        self.right.setStretchFactor(1, 3)
        self.right.setSizes([320, 480])
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.versions)
        self.splitter.addWidget(self.right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setSizes([120, 600, 560])  # the tree is narrow: 1280x720 needs the width for the tables

        # The activity panel sits under the rest; the standalone window moves it into a dock.
        self.activity = ActivityPanel(c.activity_model)
        self.outer = QSplitter(Qt.Orientation.Vertical)
        self.outer.addWidget(self.splitter)
        self.outer.addWidget(self.activity)
        self.outer.setStretchFactor(0, 4)
        self.outer.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.banner)
        layout.addWidget(self.outer, 1)

        # Drops: on a version row, on a task in the browser, on the details or staging panel.
        self.version_drop = DropZone(self.versions.view.viewport(), self._version_target, self.versions.view)
        self.context_drop = DropZone(self.browser.view.viewport(), self._context_target, self.browser.view)
        self.details_drop = DropZone(self.details, lambda _p, _m: DropTarget("current"))
        self.staging_drop = DropZone(self.staging, lambda _p, _m: DropTarget("current"))
        for zone in (self.version_drop, self.context_drop, self.details_drop, self.staging_drop):
            zone.dropped.connect(staging.drop)

        # Views -> controller (intent)
        self.browser.contextSelected.connect(browse.select_context)
        self.versions.versionSelected.connect(browse.select_version)
        self.versions.serverFilterChanged.connect(browse.set_text_filter)
        self.staging.view.removeRequested.connect(staging.remove_staged)
        self.staging.view.useAsReviewRequested.connect(staging.use_as_review)
        # Several staging targets at once: one tab per target, each publishable alone or all together.
        staging.groupsChanged.connect(self.staging.set_groups)
        self.staging.groupSelected.connect(staging.show_group)
        self.staging.publishAllRequested.connect(
            lambda: queue.publish_all(self.staging.publish.comment.text().strip()))
        self.staging.newVersionRequested.connect(staging.request_new_version)
        # Other ways to stage than a drop (remote desktops, keyboards): Add files… and Ctrl+V.
        self.staging.addFilesRequested.connect(lambda: setattr(self, "add_files_dialog", staging_sources.ask_files(
            self, lambda paths: staging.drop(paths, DropTarget("current")))))
        self.staging.publish.publishRequested.connect(self._publish)
        self.staging.publish.cancelRequested.connect(lambda: queue.cancel_publish())
        self.activity.cancelRequested.connect(queue.cancel_publish)
        self.activity.retryRequested.connect(queue.retry_publish)
        self.activity.clearRequested.connect(queue.clear_finished)
        self.activity.playRequested.connect(review.play)
        # Encodes ("Make reviewable" rows) are the review controller's; the queue ignores their keys.
        self.activity.cancelRequested.connect(review.cancel_encode)
        self.activity.retryRequested.connect(review.retry_encode)
        self.versions.makeReviewableRequested.connect(self._make_reviewable)
        self.versions.playRequested.connect(lambda row: review.play(row.id))
        self.details.noteRequested.connect(browse.add_note)
        browse.noteAdded.connect(lambda version_id, note: self.details.add_shown_note(note)
                                 if self.details.version_id() == version_id else None)
        browse.noteFailed.connect(lambda _version_id: self.details.note_failed())
        self.details.componentReviewRequested.connect(
            lambda version_id, component_id: review.make_reviewable(version_id, f"component:{component_id}"))

        # Controllers -> views
        c.errorRaised.connect(self.banner.show_error)
        review.playFailed.connect(lambda message, folder: self.banner.show_error(
            message, "Open the download folder", lambda: review.open_folder(folder)))
        c.statusMessage.connect(self.statusMessage)
        browse.contextChanged.connect(self._context_changed)
        browse.contextRestored.connect(self.browser.select_id)
        browse.versionsLoaded.connect(self._versions_loaded)
        browse.detailsLoaded.connect(self._details_loaded)
        browse.thumbnails.thumbnailReady.connect(self._thumbnail_ready)
        staging.targetChanged.connect(self.staging.set_target_text)
        staging.stagingMessages.connect(self.staging.set_messages)
        staging.staging_model.stagingChanged.connect(self._staging_changed)
        staging.newVersionListsLoaded.connect(self._open_new_version_dialog)
        queue.publishStarted.connect(self._publish_started)
        queue.publishProgress.connect(self.staging.publish.set_progress)
        queue.publishFinished.connect(self._publish_finished)
        queue.publishFailed.connect(self._publish_failed)
        queue.versionPublished.connect(self.versions.select_id)
        self.staging.view.name_delegate.validationMessage.connect(self._name_feedback)

        self._shortcuts()
        theme.apply(self, follow_host=follow_host)
        self._staging_changed()

    def _shortcuts(self) -> None:
        c = self.controller
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut

        def add(keys: Any, slot: Any, widget: QWidget | None = None) -> QShortcut:
            shortcut = QShortcut(QKeySequence(keys), widget or self)
            shortcut.setContext(context)
            shortcut.activated.connect(slot)
            return shortcut

        self.shortcut_refresh = add(QKeySequence.StandardKey.Refresh, c.browse.refresh)
        add(Qt.Key.Key_F5, c.browse.refresh)
        self.shortcut_filter = add(QKeySequence.StandardKey.Find, self._focus_filter)
        add("Ctrl+L", lambda: self.browser.filter.setFocus(Qt.FocusReason.ShortcutFocusReason))
        self.shortcut_remove = add(QKeySequence.StandardKey.Delete, self.staging.view.remove_selected, self.staging.view)
        add("Backspace", self.staging.view.remove_selected, self.staging.view)
        self.shortcut_publish = add("Ctrl+Return", self._publish)
        add("Ctrl+Enter", self._publish)
        add("Ctrl+N", c.staging.request_new_version)
        add("Escape", self.banner.dismiss)
        self.shortcut_paste = add(QKeySequence.StandardKey.Paste,
                                  lambda: staging_sources.paste(c.staging, QApplication.clipboard().mimeData()))

    def _focus_filter(self) -> None:
        self.versions.filter.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.versions.filter.selectAll()

    # Drop targets ---------------------------------------------------------------------------
    def _version_target(self, pos: QPoint, modifiers: Qt.KeyboardModifier) -> DropTarget | None:
        row = self.versions.row_at(pos)
        if row is not None:
            if modifiers & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.AltModifier):
                # Shift/Alt: a new version of the row's asset rather than more on this version.
                return DropTarget("asset", row.asset_id, context_id=row.context_id, label=row.asset_name,
                                  task_id=row.task_id)
            return DropTarget("version", row.id, label=f"{row.asset_name} v{row.version:03d}")
        ctx = self.controller.context
        if ctx is not None:
            return DropTarget("context", ctx.id, label=ctx.name)
        return None

    def _context_target(self, pos: QPoint, _modifiers: Qt.KeyboardModifier) -> DropTarget | None:
        row = self.browser.row_at(pos)
        if row is None:
            return None
        return DropTarget("context", row.id, label=row.name)

    # Reactions ------------------------------------------------------------------------------
    def _context_changed(self, row: Any) -> None:
        # The whole path: "Compositing" alone does not say which shot the versions are of.
        self.versions.set_context_title(self.controller.context_model.path_label(row.id) or row.name)
        if self.controller.details is None or self.controller.details.row.context_id != row.id:
            self.details.clear()

    def _versions_loaded(self, _total: int) -> None:
        self.versions.update_count()
        # After a refresh or a re-sort, keep the version the artist was looking at.
        version_id = self.controller.version_id
        if not (version_id and self.versions.select_id(version_id)):
            self.versions.select_first()

    def _details_loaded(self, details: Any) -> None:
        self.details.set_details(details)
        if details.row.thumbnail_id:
            self.details.set_thumbnail(self.controller.thumbnails.pixmap(details.row.thumbnail_id))

    def _thumbnail_ready(self, thumbnail_id: str) -> None:
        d = self.details.details
        if d is not None and d.row.thumbnail_id == thumbnail_id:
            self.details.set_thumbnail(self.controller.thumbnails.pixmap(thumbnail_id))

    def _staging_changed(self) -> None:
        model = self.controller.staging_model
        has_rows = model.rowCount() > 0
        self.staging.show_list(has_rows)
        problems = model.errors()
        ready = has_rows and not problems and not self.controller.publishing()
        self.staging.publish.publish_button.setEnabled(ready)
        if has_rows:
            total = sum(c.size for c in model.components())
            from publisher.units import format_size

            text = f"{model.rowCount()} component{'s' if model.rowCount() != 1 else ''}, {format_size(total)}"
            if problems:
                text += f" — {len(problems)} name{'s' if len(problems) != 1 else ''} to fix before publishing"
            self.staging.publish.set_status(text)
        elif not self.controller.publishing():
            self.staging.publish.set_status("")

    def _name_feedback(self, message: str) -> None:
        self.staging.publish.set_status(message or "", problem=bool(message))
        if not message:
            self._staging_changed()

    def _publish(self) -> None:
        if self.controller.publish(self.staging.publish.comment.text().strip()):
            self.staging.publish.publish_button.setEnabled(False)

    def _publish_started(self) -> None:
        self.staging.publish.set_running(True)
        self.staging.view.setEnabled(False)
        self.staging.new_version_button.setEnabled(False)

    def _publish_finished(self, result: Any) -> None:
        self.staging.view.setEnabled(True)
        self.staging.new_version_button.setEnabled(True)
        self.staging.publish.set_running(False)
        self.staging.publish.comment.clear()
        n = len(result.component_ids)
        self.staging.publish.set_status(f"Published {n} component{'s' if n != 1 else ''}.")
        self._staging_changed()

    def _publish_failed(self, message: str) -> None:
        self.staging.view.setEnabled(True)
        self.staging.new_version_button.setEnabled(True)
        self.staging.publish.set_running(False)
        self._staging_changed()
        if self.controller.queue.staged_publish_cancelled():
            self.staging.publish.set_status("Cancelled: nothing was published; the staged components are kept.")
        elif self.controller.staged_publish_waiting():
            self.staging.publish.set_status(
                "The server does not answer: the publish is kept and tries again on its own "
                "(see Activity). Publish tries now; Cancel in Activity stops it.")
        else:
            self.staging.publish.set_status(
                "The publish failed; the staged components are kept. Fix the cause and publish again.")

    def _make_reviewable(self, row: Any) -> None:
        """Offer ``row``'s own media (a ``VersionRow``) to make reviewable; a file on disk only as
        "Other file…" (see :mod:`publisher.ui.review_chooser`)."""
        from publisher.ui import review_chooser

        title = f"Make {row.asset_name} v{row.version:03d} reviewable"
        queue = lambda media, r=row: self.controller.make_reviewable(r.id, media, f"{r.asset_name} v{r.version:03d}")  # noqa: E731
        ask = lambda: setattr(self, "review_dialog", review_chooser.ask_for_file(self, title, queue))  # noqa: E731
        details = self.controller.details
        sources = review_chooser.review_sources(details.components) if details and details.row.id == row.id else []
        if not sources:
            ask()
            return
        self.review_chooser = review_chooser.ReviewChooser(title, sources, self)
        self.review_chooser.chosen.connect(queue)
        self.review_chooser.otherFileRequested.connect(ask)
        self.review_chooser.setStyleSheet(theme.style_sheet())
        self.review_chooser.open()

    def _open_new_version_dialog(self, payload: tuple) -> None:
        context_id, label, types, assets, draft = payload
        self.dialog = NewVersionDialog(context_id, label, types, assets,
                                       asset_name=draft.asset_name if draft else "",
                                       comment=draft.comment if draft else "",
                                       task_id=self.controller.staging.new_version_task(), parent=self)
        dialog = self.dialog
        dialog.accepted.connect(lambda d=dialog: self.controller.set_new_version(d.choice()))
        dialog.open()

    # Lifecycle ------------------------------------------------------------------------------
    def start(self, context_id: str | None = None) -> None:
        """Load the projects and the last context (``context_id`` instead, when given)."""
        self.controller.start(context_id)

    def shutdown(self) -> None:
        self.controller.shutdown()


class MainWindow(QMainWindow):
    """The standalone window: :class:`PublisherWidget` plus a status bar."""

    closed = Signal()

    def __init__(self, session: Any, parent: QWidget | None = None, *, server_label: str = "",
                 settings: Any = None, outbox: Any = USER_OUTBOX) -> None:
        super().__init__(parent)
        self.setWindowTitle("ftrack publisher")
        self.setWindowIcon(icons.icon("publish"))
        self.widget = PublisherWidget(session, self, settings=settings, outbox=outbox)
        self.setCentralWidget(self.widget)
        self.activity_dock = QDockWidget("Activity", self)
        self.activity_dock.setObjectName("ActivityDock")
        self.activity_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                       | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.activity_dock.setWidget(self.widget.activity)  # out of the widget's own splitter
        self.widget.activity.title.hide()  # the dock's title says it
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.activity_dock)
        c = self.widget.controller
        where = server_label or c.server_url
        self.identity = QLabel()
        self.identity.setText(f"  {where}  ·  {c.api_user}  ")
        self.identity.setToolTip(f"Server: {c.server_url}\nUser: {c.api_user}")
        server_icon = QLabel()
        server_icon.setPixmap(icons.icon("server").pixmap(14, 14))
        self.statusBar().addPermanentWidget(server_icon)
        self.statusBar().addPermanentWidget(self.identity)
        self.live = LiveUpdates(c, self, show_context=self.show_context)
        self.statusBar().addPermanentWidget(self.live.label)
        self.widget.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self._add_settings_menu()
        self._fit_screen()

    def _fit_screen(self, width: int = 1600, height: int = 900) -> None:
        """Open at ``width`` x ``height``, or smaller on a smaller screen (a 1280x720 laptop),
        where the activity dock also takes less of the height."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            available = screen.availableGeometry()
            width, height = min(width, available.width()), min(height, available.height())
        self.resize(width, height)
        self.resizeDocks([self.activity_dock], [min(230, height // 4)], Qt.Orientation.Vertical)

    @property
    def controller(self) -> Controller:
        return self.widget.controller

    def start(self, context_id: str | None = None) -> None:
        """Load the projects and the last context (or ``context_id``), and connect live updates."""
        self.widget.start(context_id)
        self.live.start()

    def show_context(self, entity_type: str, entity_id: str) -> None:
        """Raise the window and show the task or version named from outside (ftrack Actions,
        ``FTRACK_CONTEXTID``); see :func:`publisher.ui.context_launch.show_context`."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()
        context_launch.show_context(self.controller, entity_type, entity_id)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        self.live.stop()
        self.widget.shutdown()
        self.closed.emit()
        super().closeEvent(event)

    # Settings and diagnostics (publisher.ui.settings_dialog) ------------------------------------
    def _add_settings_menu(self) -> None:
        menu = self.menuBar().addMenu("&Publisher")
        self.settings_action = menu.addAction("Settings…")
        # StandardKey.Preferences is empty on Linux and Windows: name Ctrl+, (Cmd+, on macOS).
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.settings_action.triggered.connect(self.open_settings)
        self.diagnostics_action = menu.addAction("Copy diagnostics")
        self.diagnostics_action.setToolTip("Versions, settings without keys and the last log lines, for support")
        self.diagnostics_action.triggered.connect(self.copy_diagnostics)
        self.settings_dialog: Any = None

    def open_settings(self) -> None:
        """Open the settings; a saved change of server applies at the next start (status bar)."""
        from publisher.ui.settings_dialog import SettingsDialog, describe_selection

        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            return
        c = self.widget.controller
        self.settings_dialog = SettingsDialog(parent=self)
        # The theme's style sheet sits on the central widget, which the dialog is not inside.
        self.settings_dialog.setStyleSheet(theme.style_sheet())

        def saved(outcome: Any) -> None:
            chosen = outcome.selection
            same = (not chosen.embedded and (chosen.url or "").rstrip("/") == (c.server_url or "").rstrip("/")
                    and chosen.api_user == c.api_user)
            self.statusBar().showMessage("Settings saved." if same else
                                         f"Settings saved. Restart the publisher to use {describe_selection(chosen)}.")

        self.settings_dialog.saved.connect(saved)
        self.settings_dialog.open()

    def copy_diagnostics(self) -> None:
        """Put versions, settings (no keys) and the last log lines on the clipboard."""
        from publisher.ui.settings_dialog import copy_diagnostics

        c = self.widget.controller
        copy_diagnostics(server=f"{self.identity.text().strip()} (server {c.server_url}, user {c.api_user})")
        self.statusBar().showMessage("Diagnostics copied to the clipboard (no API keys).", 8000)
