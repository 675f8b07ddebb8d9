"""The "Sign in…" button of the settings dialog: the browser sign-in, its key kept in the keyring.
GUI thread only.

Clicked, it listens on a loopback port (:class:`publisher.sign_in.LoopbackListener`), opens the
server's sign-in page in the browser, waits for the answer in a worker (so the dialog stays
usable; closing it cancels), then stores the key with the dialog's credential store (the
keyring) and fills in the user and key of the server being edited.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QPushButton

from publisher import logs
from publisher.sign_in import DEFAULT_TIMEOUT, LoopbackListener, SignedIn, SignInError
from publisher.ui.error_messages import describe_error
from publisher.ui.workers import Worker


def _wait(_session: Any, listener: LoopbackListener, timeout: float, *, worker: Worker) -> SignedIn:  # pool thread
    return listener.wait(timeout, worker.cancel_event)


class SignInButton(QObject):
    """Adds "Sign in…" to a :class:`~publisher.ui.settings_dialog.SettingsDialog`."""

    #: The :class:`~publisher.sign_in.SignedIn` (its key already stored).
    signedIn = Signal(object)
    #: Why the sign-in gave no key.
    failed = Signal(str)

    def __init__(self, dialog: Any, row: QHBoxLayout, *, timeout: float = DEFAULT_TIMEOUT,
                 open_url: Callable[[str], Any] | None = None) -> None:
        super().__init__(dialog)
        self.dialog = dialog
        self.timeout = timeout
        #: Opens the sign-in page; the desktop's browser unless replaced (tests play the browser).
        self.open_url = open_url or (lambda url: QDesktopServices.openUrl(QUrl(url)))
        self.button = QPushButton("Sign in…")
        self.button.setObjectName("SignInButton")
        self.button.setToolTip("Sign in with your browser: the server hands the publisher an API key")
        self.button.clicked.connect(self.start)
        row.insertWidget(1, self.button)
        self._worker: Worker | None = None
        self.listener: LoopbackListener | None = None
        dialog.finished.connect(lambda *_: self.cancel())

    def start(self) -> bool:
        """Open the browser and wait for its answer; False when it cannot start."""
        url = self.dialog.url_edit.text().strip()
        if not url:
            return self._fail("Enter the server URL first (e.g. https://yourstudio.ftrackapp.com), then sign in.")
        try:
            listener = LoopbackListener(url)
        except SignInError as exc:
            return self._fail(str(exc))
        self.listener = listener
        self.open_url(listener.url)
        self.button.setEnabled(False)
        self.dialog.result_label.setText(f"Waiting for the browser: sign in to {url} there "
                                         f"(this stops after {self.timeout:.0f} s)…")
        self._worker = Worker(_wait, listener, self.timeout, pass_worker=True)
        self.dialog.pool.start(self._worker, on_result=self._signed_in,
                               on_error=lambda error: self._fail(describe_error(error, url)),
                               on_finished=self._finished)
        return True

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def _finished(self) -> None:
        self._worker = None
        if self.listener is not None:
            self.listener.close()  # a worker cancelled before it ran never closed it
        self.button.setEnabled(True)

    def _fail(self, message: str) -> bool:
        self.dialog.result_label.setText(message)
        self.failed.emit(message)
        return False

    def _signed_in(self, result: SignedIn) -> None:
        logs.register_secret(result.api_key)
        d = self.dialog
        try:
            where = d.store.credentials.set(result.server_url, result.api_user, result.api_key,
                                            allow_file=d.file_check.isChecked())
        except Exception as exc:  # no keyring and no file allowed: keep the key in the form only
            where = None
            d.result_label.setText(f"Signed in as {result.api_user}, but the key could not be stored: "
                                   f"{logs.redact(str(exc))}")
        for edit, text in ((d.user_edit, result.api_user), (d.key_edit, result.api_key)):
            edit.setText(text)
            edit.textEdited.emit(text)  # the dialog's draft follows typed edits
        if where is not None:
            d.result_label.setText(f"Signed in as {result.api_user}; the key is kept in the "
                                   f"{'system keyring' if where == 'keyring' else 'key file'}. Save to use it.")
        self.signedIn.emit(result)


__all__ = ["SignInButton"]
