"""The window's dark theme: a Fusion palette plus a small style sheet. GUI thread only.

Standalone, :func:`apply` sets the palette on the ``QApplication``. Docked inside a DCC
(``follow_host=True``) the host's palette is left alone and only the widget's own style sheet is
set, so the publisher takes the host's colours.
"""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget


#: The background of tables and text fields (the palette's Base), which text colours are
#: checked against.
BASE = "#1b1d20"


def dark_palette() -> QPalette:
    """A dark palette with readable contrast, close to what Nuke, Maya and Houdini use."""
    p = QPalette()
    window, base, text = QColor("#232528"), QColor(BASE), QColor("#dfe2e6")
    disabled = QColor("#6b7078")
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#25282c"))
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor("#2c2f34"))
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor("#70757c"))
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, QColor("#2c2f34"))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.BrightText, QColor("#ff8a80"))
    p.setColor(QPalette.ColorRole.Link, QColor("#5aa9e6"))
    p.setColor(QPalette.ColorRole.Highlight, QColor("#2f5d85"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.Light, QColor("#3a3e44"))
    p.setColor(QPalette.ColorRole.Midlight, QColor("#33373d"))
    p.setColor(QPalette.ColorRole.Mid, QColor("#2a2d31"))
    p.setColor(QPalette.ColorRole.Dark, QColor("#161719"))
    p.setColor(QPalette.ColorRole.Shadow, QColor("#0d0e0f"))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def style_sheet() -> str:
    """The theme's style sheet, shipped inside the package."""
    return resources.files("publisher.ui").joinpath("resources/dark.qss").read_text(encoding="utf-8")


def use_dark_application() -> None:
    """Fusion and the dark palette on the whole application (standalone only: docked in a
    DCC the host's look stays). Also before the window exists, for the start-up dialogs."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        fusion = QStyleFactory.create("Fusion")
        if fusion is not None:
            app.setStyle(fusion)
        app.setPalette(dark_palette())


def apply(widget: QWidget, *, follow_host: bool = False) -> None:
    """Theme ``widget`` (the publisher's top widget).

    ``follow_host=False`` (standalone): Fusion style and the dark palette on the application.
    ``follow_host=True`` (docked in a DCC): keep the host's style and palette.
    """
    if not follow_host:
        use_dark_application()
        widget.setStyleSheet(style_sheet())
