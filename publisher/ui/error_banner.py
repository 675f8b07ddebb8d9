"""A dismissible strip at the top of the window that says what went wrong and what to do.

GUI thread only.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from publisher.ui import icons


class ErrorBanner(QFrame):
    """Shows the latest error until dismissed; repeated errors are counted, not stacked."""

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ErrorBanner")
        self._icon = QLabel()
        self._icon.setPixmap(icons.icon("error").pixmap(18, 18))
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        #: The button of an error that offers a way out (see :meth:`show_error`).
        self.action_button = QPushButton()
        self.action_button.hide()
        self.action_button.clicked.connect(self._run_action)
        self._action: Callable[[], object] | None = None
        close = QToolButton()
        close.setIcon(icons.icon("close"))
        close.setAutoRaise(True)
        close.setToolTip("Dismiss (Esc)")
        close.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self._icon)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(close)
        self._last = ""
        self._count = 0
        self.hide()

    def show_error(self, message: str, action_text: str = "", action: Callable[[], object] | None = None) -> None:
        """Show ``message``; with ``action_text`` and ``action``, a button offering the way out."""
        self._action = action if action_text else None
        self.action_button.setText(action_text)
        self.action_button.setVisible(bool(action_text and action))
        if message == self._last and self.isVisible():
            self._count += 1
            self.label.setText(f"{message}  (×{self._count})")
        else:
            self._last, self._count = message, 1
            self.label.setText(message)
        self.show()

    def _run_action(self) -> None:
        if self._action is not None:
            self._action()

    def message(self) -> str:
        return self._last if self.isVisible() else ""

    def dismiss(self) -> None:
        self.hide()
        self._last = ""
        self.dismissed.emit()
