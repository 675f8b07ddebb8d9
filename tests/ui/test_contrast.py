"""Every text that sits on a colour keeps WCAG AA contrast (4.5:1): the activity bars in every
state (text on the fill and on the empty track, as painted), the palette's text roles, the style
sheet's rules that set both a text and a background colour, and server status colours."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPalette, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem, QTableView

from publisher.ui import activity_delegate, contrast, roles, theme
from publisher.ui.activity_delegate import COLOURS, ProgressDelegate


@pytest.mark.parametrize("state", sorted(COLOURS))
def test_progress_text_is_readable_on_every_state_colour(state):
    fill = QColor(COLOURS[state])
    assert contrast.ratio(contrast.text_on(fill), fill) >= contrast.MINIMUM
    track = QColor(activity_delegate.TRACK)
    for text in (activity_delegate.TRACK_TEXT, activity_delegate.TRACK_TEXT_IDLE):
        assert contrast.ratio(QColor(text), track) >= contrast.MINIMUM


@pytest.mark.parametrize("state", ["running", "done", "failed", "waiting"])
def test_the_painted_bar_uses_dark_text_on_the_fill(qtbot, state):
    """Paint a half-full bar and look at the pixels: on the filled half, the text's pixels are
    the dark text colour, not the light one that measured 2.2-3.1:1."""
    from PySide6.QtGui import QStandardItem, QStandardItemModel

    model = QStandardItemModel(1, 1)
    item = QStandardItem("██████████████████████████")  # solid glyphs: text pixels everywhere
    item.setData(1.0, roles.PROGRESS)
    item.setData(state, roles.STATE)
    model.setItem(0, 0, item)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    image = QImage(300, 30, QImage.Format.Format_RGB32)
    image.fill(QColor("#000000"))
    painter = QPainter(image)
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, 300, 30)
    ProgressDelegate().paint(painter, option, model.index(0, 0))
    painter.end()
    fill = QColor(COLOURS[state])
    colours = {image.pixelColor(x, 15).name() for x in range(60, 240)}
    assert contrast.DARK_TEXT.name() in colours or any(
        contrast.ratio(QColor(c), fill) >= contrast.MINIMUM and QColor(c).lightness() < 60 for c in colours)
    assert contrast.LIGHT_TEXT.name() not in colours, "light text on the fill was unreadable"


def test_palette_text_roles_are_readable():
    p = theme.dark_palette()
    R = QPalette.ColorRole
    for text, background in [(R.Text, R.Base), (R.WindowText, R.Window), (R.ButtonText, R.Button),
                             (R.HighlightedText, R.Highlight), (R.ToolTipText, R.ToolTipBase)]:
        assert contrast.ratio(p.color(text), p.color(background)) >= contrast.MINIMUM, (text, background)


def test_style_sheet_rules_with_text_and_background_are_readable():
    sheet = theme.style_sheet()
    checked = 0
    for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", sheet):
        fg = re.search(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6}|white)", body)
        bg = re.search(r"background(?:-color)?:\s*(#[0-9a-fA-F]{6})", body)
        # WCAG 1.4.3 exempts the text of inactive (disabled) controls: it is meant to recede.
        if fg and bg and ":disabled" not in selector:
            checked += 1
            ratio = contrast.ratio(QColor(fg.group(1)), QColor(bg.group(1)))
            assert ratio >= contrast.MINIMUM, f"{selector.strip()}: {ratio:.2f}:1"
    assert checked >= 3


@pytest.mark.parametrize("status_colour", ["#000000", "#333333", "#4c4c4c", "#1b1d20", "#ff0000",
                                           "#00a0ff", "#ffbf00", "#33cc33"])
def test_server_status_colours_are_made_readable_on_the_table(status_colour):
    shown = contrast.readable(QColor(status_colour), QColor(theme.BASE))
    assert contrast.ratio(shown, QColor(theme.BASE)) >= contrast.MINIMUM
