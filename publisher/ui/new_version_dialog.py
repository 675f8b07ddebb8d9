"""Ask for what a new version needs: the asset (new or existing), its type and a comment.

GUI thread only. The window fills the asset and type lists (loaded in a worker) and reads
:meth:`NewVersionDialog.choice` when the dialog is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                               QLineEdit, QWidget)

_ASSET_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class NewVersionChoice:
    """What the artist chose: ``asset_id`` is set when the asset already exists."""

    context_id: str
    asset_name: str
    asset_type_id: str
    asset_id: str | None
    comment: str


def asset_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an asset, or ``None``."""
    if not name.strip():
        return "Give the asset a name, e.g. 'plate' or 'comp'."
    if not _ASSET_NAME_RE.match(name.strip()):
        return "Use letters, digits, '_', '-' and '.' in the asset name, starting with a letter, digit or '_'."
    return None


class NewVersionDialog(QDialog):
    """Modal-less dialog: open it with :meth:`open`; read :meth:`choice` on ``accepted``."""

    def __init__(self, context_id: str, context_label: str, asset_types: list[tuple[str, str]],
                 assets: list[tuple[str, str]], *, asset_name: str = "", comment: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New version")
        self.context_id = context_id
        self._assets = {name: asset_id for asset_id, name in assets}
        self.asset = QComboBox()
        self.asset.setEditable(True)
        self.asset.addItems(sorted(self._assets))
        self.asset.setEditText(asset_name or (self.asset.itemText(0) if assets else ""))
        self.asset.lineEdit().setPlaceholderText("asset name, e.g. comp")
        self.asset_type = QComboBox()
        for type_id, name in asset_types:
            self.asset_type.addItem(name, type_id)
        for preferred in ("Upload", "Render", "Comp", "Image"):
            at = self.asset_type.findText(preferred)
            if at >= 0:
                self.asset_type.setCurrentIndex(at)
                break
        self.comment = QLineEdit(comment)
        self.comment.setPlaceholderText("What is in this version")
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #ff8a80")
        self.problem.setWordWrap(True)
        # Room for a two-line problem from the start: a form layout does not grow the dialog
        # for a wrapped label shown later, and would cut it off.
        self.problem.setMinimumHeight(2 * self.problem.fontMetrics().lineSpacing() + 4)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout(self)
        form.addRow("In", QLabel(context_label))
        form.addRow("Asset", self.asset)
        form.addRow("Type", self.asset_type)
        form.addRow("Comment", self.comment)
        form.addRow(self.problem)
        form.addRow(self.buttons)
        self.asset.editTextChanged.connect(self._check)
        # Wide enough for the longest problem on one or two lines, so the dialog does not
        # jump as the artist types.
        self.setMinimumWidth(520)
        self._check()

    def _check(self) -> None:
        problem = asset_name_problem(self.asset.currentText())
        if problem is None and self.asset_type.count() == 0:
            problem = "The server offers no asset types: ask your ftrack administrator to add one."
        self.problem.setText(problem or "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)

    def choice(self) -> NewVersionChoice:
        name = self.asset.currentText().strip()
        existing = self._assets.get(name)
        return NewVersionChoice(self.context_id, name, self.asset_type.currentData() or "",
                                existing, self.comment.text().strip())
