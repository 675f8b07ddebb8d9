"""The window at 1280x720 (its frame included): every column of the versions and details tables
and the status bar in view, and the text columns wide enough for their words."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QTableView

from publisher.ui import component_model as cm
from publisher.ui import version_model as vm

#: What a window manager's frame takes from 1280x720: a title bar and thin borders.
FRAME_W, FRAME_H = 8, 36


def _hidden_columns(view: QTableView) -> list[str]:
    header: QHeaderView = view.horizontalHeader()
    width = view.viewport().width()
    hidden = []
    for section in range(header.count()):
        if header.isSectionHidden(section):
            continue
        left = header.sectionViewportPosition(section)
        label = str(view.model().headerData(section, header.orientation()) or section)
        if left < 0 or left + header.sectionSize(section) > width or header.sectionSize(section) < 24:
            hidden.append(label)
    return hidden


def _text_fits(view: QTableView, column: int) -> bool:
    """Every loaded cell's text of ``column`` fits its section (nothing is elided)."""
    metrics = view.fontMetrics()
    size = view.horizontalHeader().sectionSize(column)
    model = view.model()
    return all(metrics.horizontalAdvance(str(model.index(r, column).data() or "")) + 6 <= size
               for r in range(model.rowCount()))


def test_at_1280x720_every_column_and_the_status_bar_are_in_view(qtbot, window):
    assert window.minimumSizeHint().width() <= 1280 - FRAME_W
    assert window.minimumSizeHint().height() <= 720 - FRAME_H
    window.resize(1280 - FRAME_W, 720 - FRAME_H)
    qtbot.waitUntil(lambda: window.width() == 1280 - FRAME_W and window.height() == 720 - FRAME_H, timeout=5000)
    widget = window.widget
    qtbot.waitUntil(lambda: widget.details.components.rowCount() > 0, timeout=20000)
    qtbot.wait(50)
    status = window.statusBar()
    assert status.isVisible()
    assert status.geometry().bottom() <= window.rect().bottom() and status.geometry().top() >= 0
    assert widget.versions.view.isVisible() and widget.details.table.isVisible()
    assert widget.details.table.viewport().width() > 200
    assert not _hidden_columns(widget.versions.view), "versions columns out of view"
    assert not _hidden_columns(widget.details.table), "details columns out of view"
    # The columns that stretch (and elide) keep room for a name.
    assert widget.versions.view.horizontalHeader().sectionSize(vm.ASSET) >= 80
    assert widget.details.table.horizontalHeader().sectionSize(cm.NAME) >= 64
    # The header of the last details column is not cut ("Availa").
    details_header = widget.details.table.horizontalHeader()
    metrics = details_header.fontMetrics()
    for section in range(details_header.count()):
        if section != cm.NAME:  # the name column stretches and elides instead
            # At least what the header says it needs (its text plus the style's padding).
            needed = max(details_header.sectionSizeHint(section), metrics.horizontalAdvance(cm.COLUMNS[section]) + 8)
            assert details_header.sectionSize(section) >= needed, cm.COLUMNS[section]
    # The words artists read are whole: status and user names.
    for column in (vm.STATUS, vm.USER):
        assert _text_fits(widget.versions.view, column), vm.COLUMNS[column]


def test_spare_width_goes_to_the_text_columns_not_review(qtbot, window):
    window.resize(1900, 1000)
    qtbot.waitUntil(lambda: window.width() >= 1280, timeout=5000)
    qtbot.wait(50)
    header = window.widget.versions.view.horizontalHeader()
    review = header.sectionSize(vm.REVIEW)
    assert review <= header.fontMetrics().horizontalAdvance("encoding 100 %") + 48
    assert header.sectionSize(vm.ASSET) > review
