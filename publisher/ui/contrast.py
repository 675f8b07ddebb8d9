"""Text that stays readable on the colour behind it (WCAG 2 contrast). Any thread; no widgets.

Artists work in dim rooms on calibrated, often dark, monitors: text on a coloured bar or in a
server-chosen status colour must keep the 4.5:1 contrast WCAG AA asks for normal text.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

#: The contrast WCAG AA asks for normal text.
MINIMUM = 4.5

DARK_TEXT = QColor("#0d0e0f")
LIGHT_TEXT = QColor("#f2f4f6")


def _channel(value: float) -> float:
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def luminance(colour: QColor) -> float:
    """WCAG relative luminance, 0 (black) to 1 (white)."""
    return (0.2126 * _channel(colour.redF()) + 0.7152 * _channel(colour.greenF())
            + 0.0722 * _channel(colour.blueF()))


def ratio(a: QColor, b: QColor) -> float:
    """The contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(fill: QColor) -> QColor:
    """Dark or light text, whichever reads better on ``fill``."""
    return DARK_TEXT if ratio(DARK_TEXT, fill) >= ratio(LIGHT_TEXT, fill) else LIGHT_TEXT


def readable(colour: QColor, background: QColor, minimum: float = MINIMUM) -> QColor:
    """``colour``, blended towards white (on a dark background) or black until it reaches
    ``minimum`` contrast on ``background``: a status colour chosen on the server for a light
    web page stays recognisable and becomes readable on the dark table."""
    if ratio(colour, background) >= minimum:
        return QColor(colour)
    target = LIGHT_TEXT if luminance(background) < 0.18 else DARK_TEXT
    for step in range(1, 21):
        t = step / 20
        mixed = QColor.fromRgbF(colour.redF() + (target.redF() - colour.redF()) * t,
                                colour.greenF() + (target.greenF() - colour.greenF()) * t,
                                colour.blueF() + (target.blueF() - colour.blueF()) * t)
        if ratio(mixed, background) >= minimum:
            return mixed
    return QColor(target)
