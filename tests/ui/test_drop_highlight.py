"""The drop highlight: while a drag is over the window, the row, task or panel that would receive
the drop is painted and named."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QUrl
from PySide6.QtGui import QColor, QDragLeaveEvent
from PySide6.QtWidgets import QApplication

from publisher.ui.drop_zone import HIGHLIGHT_BORDER
from tests.ui.dnd import drag_enter_event


def _mime(path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def _is_highlight_blue(color: QColor) -> bool:
    # The translucent blue over the dark rows: blue clearly above red and green.
    return color.blue() > color.red() + 40 and color.blue() > 80


def test_drag_over_a_version_row_paints_that_row_and_names_it(qtbot, window, tmp_path):
    plate = tmp_path / "plate.exr"
    plate.write_bytes(b"x")
    widget = window.widget
    view = widget.versions.view
    qtbot.waitUntil(lambda: view.model().rowCount() >= 2, timeout=20000)
    from publisher.ui import version_model as vm

    # The Files column (whose empty left edge is looked at below) in view, however narrow the panel.
    view.scrollTo(view.model().index(0, vm.COMPONENTS))
    first, second = view.visualRect(view.model().index(0, 1)), view.visualRect(view.model().index(1, 1))
    viewport = view.viewport()
    mime = _mime(plate)  # kept: the event does not own it
    QApplication.sendEvent(viewport, drag_enter_event(first.center(), mime))
    row = widget.versions.row_at(first.center())
    assert widget.version_drop.highlighted_text() == f"Add to {row.asset_name} v{row.version:03d}"
    image = viewport.grab().toImage()
    # The border of the highlighted row is painted in the highlight colour ...
    assert image.pixelColor(viewport.width() // 3, first.top() + 1) == HIGHLIGHT_BORDER
    # ... its inside is tinted blue (at the left edge of the centred Files column, where no
    # text or picture is), the next row is not.
    x = view.horizontalHeader().sectionViewportPosition(vm.COMPONENTS) + 3
    assert _is_highlight_blue(image.pixelColor(x, first.center().y()))
    assert not _is_highlight_blue(image.pixelColor(x, second.center().y()))
    assert image.pixelColor(viewport.width() // 3, second.bottom() - 1) != HIGHLIGHT_BORDER
    # The view itself wears the dropActive border (the rule is no longer beaten by a more specific one).
    assert view.property("dropActive") is True
    QApplication.sendEvent(viewport, QDragLeaveEvent())
    assert widget.version_drop.highlighted_area() is None


def test_drag_over_a_task_names_the_task_and_over_details_the_shown_version(qtbot, window, tmp_path):
    plate = tmp_path / "plate.exr"
    plate.write_bytes(b"x")
    widget = window.widget
    tree = widget.browser.view
    current = tree.currentIndex()
    assert current.isValid()
    rect = tree.visualRect(current)
    mime = _mime(plate)  # kept: the event does not own it
    QApplication.sendEvent(tree.viewport(), drag_enter_event(rect.center(), mime))
    name = widget.browser.row_at(rect.center()).name
    assert widget.context_drop.highlighted_text() == f"New version in {name}"
    area = widget.context_drop.highlighted_area()
    assert area is not None and area.top() == rect.top() and area.height() == rect.height()
    image = tree.viewport().grab().toImage()
    assert image.pixelColor(tree.viewport().width() // 2, rect.top() + 1) == HIGHLIGHT_BORDER

    QApplication.sendEvent(widget.details, drag_enter_event(QPoint(20, 20), mime))
    assert widget.details_drop.highlighted_text() == "Add to the version shown"
    assert widget.details_drop.highlighted_area() == widget.details.rect()
