"""The settings dialog: the servers the publisher remembers, their users and API keys, a
"Test connection" that says exactly what is wrong, and "Use the local demo server".

GUI thread only. Everything that may block (reading or storing a key in the keyring, the
connection test) runs in a :class:`~publisher.ui.workers.Worker`; the dialog only shows results.
Keys never come back from the keyring into a widget: an empty key field means "keep the stored
key". :func:`copy_diagnostics` puts :func:`publisher.diagnostics.collect` on the clipboard.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton,
                               QVBoxLayout, QWidget)

from publisher import logs
from publisher.api.connection_check import INVALID_INPUT, ConnectionReport, check_connection
from publisher.credentials import CredentialError, KeyringUnavailableError
from publisher.settings import ServerProfile, ServerSelection, SettingsStore, validate_url
from publisher.ui.error_messages import describe_error
from publisher.ui.workers import Worker, WorkerPool

#: Seconds "Test connection" waits for a server.
TEST_TIMEOUT = 15.0

_OK_COLOUR = "#8bd17c"
_PROBLEM_COLOUR = "#ff8a80"


@dataclass
class _Draft:
    """A profile as edited in the dialog; ``original`` is the saved one it replaces (or None)."""

    profile: ServerProfile
    original: ServerProfile | None = None
    key: str = ""  # typed in this dialog; empty: keep the stored key


@dataclass
class _Plan:
    """What Save writes (built in the GUI thread, applied in a worker)."""

    drafts: list[_Draft]
    removed: list[ServerProfile]
    active: str | None
    use_demo_server: bool
    allow_file: bool
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SaveOutcome:
    """The result of Save: the server the app will use next, or why nothing could be saved."""

    selection: ServerSelection | None
    error: str = ""
    keyring_unavailable: bool = False


def _apply_plan(_session: Any, store: SettingsStore, plan: _Plan) -> SaveOutcome:  # pool thread
    try:
        settings = store.load()
        for original in plan.removed:
            store.remove_profile(settings, original.label)
        for draft in plan.drafts:
            store.save_profile(settings, replace(draft.profile), draft.key or None, previous=draft.original,
                               allow_file=plan.allow_file)
        settings.active = plan.active
        settings.use_demo_server = plan.use_demo_server
        store.save(settings)
        return SaveOutcome(store.resolve(plan.env, settings))
    except KeyringUnavailableError as exc:
        return SaveOutcome(None, str(exc), keyring_unavailable=True)
    except (CredentialError, ValueError) as exc:
        return SaveOutcome(None, str(exc))
    except OSError as exc:
        return SaveOutcome(None, f"The settings could not be saved to {store.path} ({exc.strerror or exc}). "
                                 "Check that the folder is writable.")


def _test(_session: Any, store: SettingsStore, url: str, user: str, typed_key: str,
          stored_as: tuple[str, str] | None) -> ConnectionReport:  # pool thread
    key = typed_key
    if not key and stored_as is not None:
        try:
            key = store.credentials.get(*stored_as) or ""
        except CredentialError as exc:
            return ConnectionReport(url, INVALID_INPUT, str(exc))
    return check_connection(url, user, key, timeout=TEST_TIMEOUT)


class SettingsDialog(QDialog):
    """Edit the remembered servers; Save writes them (keys to the keyring) and emits :attr:`saved`.

    ``store`` defaults to the user's :class:`~publisher.settings.SettingsStore`; ``env`` (default
    ``os.environ``) decides whether the ``FTRACK_*`` override notice is shown.
    """

    #: :class:`SaveOutcome` with the selection the app will use after a restart.
    saved = Signal(object)
    #: :class:`~publisher.api.connection_check.ConnectionReport` of the last "Test connection".
    tested = Signal(object)

    def __init__(self, store: SettingsStore | None = None, parent: QWidget | None = None, *,
                 env: Mapping[str, str] | None = None, pool: WorkerPool | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("SettingsDialog")
        self.store = store or SettingsStore()
        self.env = dict(os.environ if env is None else env)
        self.pool = pool or WorkerPool(self)
        self._test_generation = 0
        self._loading = False

        settings = self.store.load()
        self.drafts: list[_Draft] = [_Draft(replace(p), original=p) for p in settings.profiles]
        self.removed: list[ServerProfile] = []

        self.demo_check = QCheckBox("Use the local demo server")
        self.demo_check.setToolTip("Publish to the demo project on a server this app starts on this machine.")
        self.env_notice = QLabel()
        self.env_notice.setWordWrap(True)
        self.load_notice = QLabel(self.store.problem)
        self.load_notice.setWordWrap(True)
        self.load_notice.setStyleSheet(f"color: {_PROBLEM_COLOUR}")
        self.load_notice.setVisible(bool(self.store.problem))

        self.profile_list = QListWidget()
        self.profile_list.setMinimumWidth(180)
        self.add_button = QPushButton("Add server")
        self.remove_button = QPushButton("Remove")
        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText("A name for this server, e.g. Studio")
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("https://yourstudio.ftrackapp.com")
        self.user_edit = QLineEdit()
        self.user_edit.setPlaceholderText("your ftrack user name")
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setClearButtonEnabled(True)
        self.test_button = QPushButton("Test connection")
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.keyring_notice = QLabel()
        self.keyring_notice.setWordWrap(True)
        self.file_check = QCheckBox("Keep API keys in a file only I can read (less safe than a keyring)")
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet(f"color: {_PROBLEM_COLOUR}")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)

        # The add button stays outside the box the demo switch disables: adding a server is how
        # one leaves the demo server.
        self.server_box = QWidget()
        left = QVBoxLayout()
        left.addWidget(self.profile_list, 1)
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.add_button)
        list_buttons.addWidget(self.remove_button)
        list_buttons.addStretch(1)
        self.form = QFormLayout()
        self.form.addRow("Name", self.label_edit)
        self.form.addRow("Server URL", self.url_edit)
        self.form.addRow("API user", self.user_edit)
        self.form.addRow("API key", self.key_edit)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        self.form.addRow("", test_row)
        self.form.addRow("", self.result_label)
        server_layout = QHBoxLayout(self.server_box)
        server_layout.setContentsMargins(0, 0, 0, 0)
        server_layout.addLayout(left)
        server_layout.addLayout(self.form, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.load_notice)
        layout.addWidget(self.env_notice)
        layout.addWidget(self.demo_check)
        layout.addWidget(self.server_box, 1)
        layout.addLayout(list_buttons)
        layout.addWidget(self.keyring_notice)
        layout.addWidget(self.file_check)
        layout.addWidget(self.message_label)
        layout.addWidget(self.buttons)
        self.resize(820, 520)

        self.add_button.clicked.connect(self.add_profile)
        self.remove_button.clicked.connect(self.remove_current)
        self.profile_list.currentRowChanged.connect(self._row_changed)
        for edit in (self.label_edit, self.url_edit, self.user_edit, self.key_edit):
            edit.textEdited.connect(self._form_edited)
        self.test_button.clicked.connect(self.test_connection)
        self.demo_check.toggled.connect(self._update_enabled)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        from publisher.ui.sign_in_button import SignInButton  # "Sign in…": the browser sign-in

        self.sign_in = SignInButton(self, test_row)
        self._show_environment()
        self._show_keyring()
        self._fill_list()
        active = next((i for i, d in enumerate(self.drafts) if d.profile.label == settings.active), 0)
        self.demo_check.setChecked(settings.use_demo_server or not self.drafts)
        if self.drafts:
            self.profile_list.setCurrentRow(active)
        self._update_enabled()

    # Notices -----------------------------------------------------------------------------------
    def _show_environment(self) -> None:
        names = [n for n in ("FTRACK_SERVER", "FTRACK_API_USER", "FTRACK_API_KEY") if self.env.get(n)]
        if "FTRACK_SERVER" in names:
            self.env_notice.setText(
                f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} set in the environment: the publisher "
                f"uses the server {self.env['FTRACK_SERVER']} instead of what is chosen here, as every ftrack "
                "tool does. Unset them to use these settings.")
        elif names:
            fields = " and ".join({"FTRACK_API_USER": "user", "FTRACK_API_KEY": "API key"}[n] for n in names)
            self.env_notice.setText(
                f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} set in the environment: it replaces the "
                f"{fields} of the server chosen here, as in every ftrack tool.")
        self.env_notice.setVisible(bool(names))

    def _show_keyring(self) -> None:
        status = self.store.credentials.status()
        self.keyring_available = status.available
        if status.available:
            self.keyring_notice.setText("API keys are kept in the system keyring.")
            self.file_check.hide()
        else:
            self.keyring_notice.setText(
                f"{status.reason} API keys can only be kept in {self.store.credentials.path}, a file only you can "
                "read, which is less safe than a keyring: anyone who can read your files (a backup, an administrator) "
                "can read the key. Tick the box below to allow it, or set FTRACK_API_KEY instead.")
            self.keyring_notice.setStyleSheet(f"color: {_PROBLEM_COLOUR}")
            self.file_check.show()

    # The list ----------------------------------------------------------------------------------
    def _fill_list(self) -> None:
        self._loading = True
        self.profile_list.clear()
        for draft in self.drafts:
            self.profile_list.addItem(QListWidgetItem(draft.profile.label))
        self._loading = False

    def current_draft(self) -> _Draft | None:
        row = self.profile_list.currentRow()
        return self.drafts[row] if 0 <= row < len(self.drafts) else None

    def add_profile(self) -> None:
        """A new, empty server entry, selected for editing."""
        n = 1
        while any(d.profile.label == ("New server" if n == 1 else f"New server {n}") for d in self.drafts):
            n += 1
        self.drafts.append(_Draft(ServerProfile("New server" if n == 1 else f"New server {n}", "", "")))
        self.profile_list.addItem(QListWidgetItem(self.drafts[-1].profile.label))
        self.demo_check.setChecked(False)
        self.profile_list.setCurrentRow(len(self.drafts) - 1)
        self.url_edit.setFocus()

    def remove_current(self) -> None:
        """Forget the selected server (and, on Save, its stored key)."""
        row = self.profile_list.currentRow()
        if not 0 <= row < len(self.drafts):
            return
        draft = self.drafts.pop(row)
        if draft.original is not None:
            self.removed.append(draft.original)
        self._loading = True
        self.profile_list.takeItem(row)
        self._loading = False
        self.profile_list.setCurrentRow(min(row, len(self.drafts) - 1))
        self._row_changed(self.profile_list.currentRow())

    def _row_changed(self, _row: int) -> None:
        if self._loading:
            return
        self._test_generation += 1  # a test still running was for another server
        draft = self.current_draft()
        self._loading = True
        self.label_edit.setText(draft.profile.label if draft else "")
        self.url_edit.setText(draft.profile.url if draft else "")
        self.user_edit.setText(draft.profile.api_user if draft else "")
        self.key_edit.setText(draft.key if draft else "")
        self._loading = False
        self.key_edit.setPlaceholderText(
            "stored — leave empty to keep it, or paste a new key" if draft and draft.original
            else "paste your API key (ftrack: user menu > Security settings)")
        self._show_result(None)
        self._update_enabled()

    def _form_edited(self) -> None:
        draft = self.current_draft()
        if self._loading or draft is None:
            return
        draft.profile.label = self.label_edit.text()
        draft.profile.url = self.url_edit.text()
        draft.profile.api_user = self.user_edit.text()
        draft.key = self.key_edit.text()
        item = self.profile_list.currentItem()
        if item is not None:
            item.setText(draft.profile.label.strip() or draft.profile.url.strip() or "(unnamed)")
        self.message_label.clear()

    def _update_enabled(self) -> None:
        demo = self.demo_check.isChecked()
        has = self.current_draft() is not None
        self.server_box.setEnabled(not demo)
        for w in (self.label_edit, self.url_edit, self.user_edit, self.key_edit, self.test_button):
            w.setEnabled(has)
        self.remove_button.setEnabled(has and not demo)

    # Test connection ---------------------------------------------------------------------------
    def test_connection(self) -> Worker | None:
        """Check the server in the form in a worker; the answer appears under the button."""
        draft = self.current_draft()
        if draft is None:
            return None
        url, user, key = draft.profile.url.strip(), draft.profile.api_user.strip(), draft.key
        logs.register_secret(key)
        stored_as = None
        if not key and draft.original is not None:
            stored_as = (draft.original.url, draft.original.api_user)
        self._test_generation += 1
        generation = self._test_generation
        self.test_button.setEnabled(False)
        self.result_label.setStyleSheet("")
        self.result_label.setText(f"Testing {url or 'the server'}…")
        worker = Worker(_test, self.store, url, user, key, stored_as)
        return self.pool.start(
            worker,
            on_result=lambda report, g=generation: self._tested(report, g),
            on_error=lambda error, g=generation: self._tested(
                ConnectionReport(url, "error", describe_error(error, url)), g),
            on_finished=lambda: self.test_button.setEnabled(self.current_draft() is not None))

    def _tested(self, report: ConnectionReport, generation: int) -> None:
        if generation != self._test_generation:
            return
        self._show_result(report)
        self.tested.emit(report)

    def _show_result(self, report: ConnectionReport | None) -> None:
        if report is None:
            self.result_label.clear()
            self.result_label.setProperty("kind", "")
            return
        self.result_label.setProperty("kind", report.kind)
        self.result_label.setStyleSheet(f"color: {_OK_COLOUR if report.ok else _PROBLEM_COLOUR}")
        self.result_label.setText(("✓ " if report.ok else "✗ ") + logs.redact(report.message))

    # Save --------------------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """What must be fixed before Save can write anything (checked in the GUI thread)."""
        found: list[str] = []
        labels: set[str] = set()
        for draft in self.drafts:
            p = draft.profile
            name = p.label.strip() or p.url.strip() or "a server"
            try:
                validate_url(p.url)
            except ValueError as exc:
                found.append(f"{name}: {exc}")
            if not p.api_user.strip():
                found.append(f"{name}: enter the API user.")
            if draft.original is None and not draft.key:
                found.append(f"{name}: paste the API key.")
            label = p.label.strip() or p.url.strip()
            if label in labels:
                found.append(f"Two servers are named {label!r}: rename one.")
            labels.add(label)
        if not self.demo_check.isChecked() and self.current_draft() is None:
            found.append("Add a server, or tick \"Use the local demo server\".")
        typed = any(d.key for d in self.drafts)
        if typed and not self.keyring_available and not self.file_check.isChecked():
            found.append("There is no system keyring: tick \"Keep API keys in a file only I can read\" to save "
                         "the key, or leave the key empty and set FTRACK_API_KEY.")
        return found

    def save(self) -> Worker | None:
        """Check the form, then write the settings and keys in a worker; closes when saved."""
        problems = self.problems()
        if problems:
            self.message_label.setText("\n".join(problems))
            return None
        for draft in self.drafts:
            logs.register_secret(draft.key)
        current = self.current_draft()
        plan = _Plan(drafts=[_Draft(replace(d.profile), d.original, d.key) for d in self.drafts],
                     removed=list(self.removed),
                     active=(current.profile.label.strip() or current.profile.url.strip().rstrip("/")) if current else None,
                     use_demo_server=self.demo_check.isChecked(),
                     allow_file=self.file_check.isChecked(), env=self.env)
        self.save_button.setEnabled(False)
        self.message_label.setStyleSheet("")
        self.message_label.setText("Saving…")
        return self.pool.start(Worker(_apply_plan, self.store, plan), on_result=self._saved,
                               on_error=lambda error: self._save_failed(describe_error(error)))

    def _saved(self, outcome: SaveOutcome) -> None:
        self.save_button.setEnabled(True)
        if outcome.error:
            self._save_failed(outcome.error)
            if outcome.keyring_unavailable:
                self.keyring_available = False
                self.file_check.show()
            return
        self.message_label.clear()
        self.saved.emit(outcome)
        self.accept()

    def _save_failed(self, message: str) -> None:
        self.save_button.setEnabled(True)
        self.message_label.setStyleSheet(f"color: {_PROBLEM_COLOUR}")
        self.message_label.setText(logs.redact(message))

    def done(self, result: int) -> None:  # noqa: D401 (Qt name)
        # A test or save finishing after the dialog closed must not touch it.
        self._test_generation += 1
        super().done(result)


def describe_selection(selection: ServerSelection) -> str:
    """One line for a status bar: which server the app uses and where that choice comes from."""
    if selection.embedded:
        return "the local demo server"
    where = {"environment": "from FTRACK_SERVER", "profile": f"server {selection.label!r}"}.get(selection.source, "")
    return f"{selection.url} as {selection.api_user or '?'} ({where})"


def copy_diagnostics(server: str = "", store: SettingsStore | None = None) -> str:
    """Put the diagnostics text on the clipboard and return it. GUI thread."""
    from publisher import diagnostics

    text = diagnostics.collect(store, server=server)
    QGuiApplication.clipboard().setText(text)
    return text

