"""Ask for what a new version needs: the asset (new or existing), its type and a comment.

GUI thread only. The window fills the asset and type lists (loaded in a worker) and reads
:meth:`NewVersionDialog.choice` when the dialog is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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
    task_id: str | None = None


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
                 assets: list[Any], *, asset_name: str = "", comment: str = "",
                 task_id: str | None = None, parent: QWidget | None = None) -> None:
        """``assets``: the existing ones, as ``AssetChoice`` (id, name, type) or ``(id, name)``;
        ``context_label`` the full path; ``task_id`` the task the version is linked to."""
        super().__init__(parent)
        self.setWindowTitle("New version")
        self.context_id = context_id
        self.task_id = task_id
        # name -> (asset id, type id); an existing asset keeps its own type.
        self._assets: dict[str, tuple[str, str]] = {}
        shown: dict[str, str] = {}
        for asset in assets:
            if isinstance(asset, tuple):
                asset_id, name, type_id, type_name = asset[0], asset[1], "", ""
            else:
                asset_id, name, type_id, type_name = asset.id, asset.name, asset.type_id, asset.type_name
            self._assets[name] = (asset_id, type_id)
            shown[name] = f"{name} — {type_name}" if type_name else name
        #: What the list shows ("comp — Compositing") -> the asset's name.
        self._by_shown = {text: name for name, text in shown.items()}
        self.asset = QComboBox()
        self.asset.setEditable(True)
        for name in sorted(self._assets, key=str.lower):
            self.asset.addItem(shown[name], name)
        # Picking "comp — Compositing" edits "comp": the type is shown, the name is what is typed.
        self.asset.textActivated.connect(lambda text: self.asset.setEditText(self._by_shown.get(text, text)))
        self.asset.setEditText(asset_name or (self.asset.itemData(0) if assets else ""))
        self.asset.lineEdit().setPlaceholderText("asset name, e.g. comp")
        self.asset_type = QComboBox()
        for type_id, name in asset_types:
            self.asset_type.addItem(name, type_id)
        for preferred in ("Upload", "Render", "Comp", "Image"):
            at = self.asset_type.findText(preferred)
            if at >= 0:
                self.asset_type.setCurrentIndex(at)
                break
        self.type_note = QLabel("")
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
        self.where = QLabel(context_label)
        self.where.setWordWrap(True)
        form.addRow("In", self.where)
        form.addRow("Asset", self.asset)
        form.addRow("Type", self.asset_type)
        form.addRow("", self.type_note)
        form.addRow("Comment", self.comment)
        form.addRow(self.problem)
        form.addRow(self.buttons)
        self.asset.editTextChanged.connect(self._check)
        # Wide enough for the longest problem on one or two lines, so the dialog does not
        # jump as the artist types.
        self.setMinimumWidth(520)
        self._check()

    def asset_name(self) -> str:
        """The asset name typed or picked."""
        text = self.asset.currentText().strip()
        return self._by_shown.get(text, text)

    def _check(self) -> None:
        existing = self._assets.get(self.asset_name())
        if existing is not None and existing[1]:
            # A new version of an existing asset has that asset's type: no second "comp".
            at = self.asset_type.findData(existing[1])
            if at >= 0:
                self.asset_type.setCurrentIndex(at)
            self.asset_type.setEnabled(False)
            self.type_note.setText("An existing asset: the new version goes on it, with its type.")
        else:
            self.asset_type.setEnabled(True)
            self.type_note.setText("A new asset." if self.asset_name() else "")
        problem = asset_name_problem(self.asset_name())
        if problem is None and self.asset_type.count() == 0:
            problem = "The server offers no asset types: ask your ftrack administrator to add one."
        self.problem.setText(problem or "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)

    def choice(self) -> NewVersionChoice:
        name = self.asset_name()
        existing = self._assets.get(name)
        return NewVersionChoice(self.context_id, name, self.asset_type.currentData() or "",
                                existing[0] if existing else None, self.comment.text().strip(), self.task_id)
