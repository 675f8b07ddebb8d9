"""A table header whose sections leave room for the sort arrow only where it is shown.

Qt widens every section of a sortable header by the arrow's room (about 28 px each), which at
1280x720 pushed the last columns of the versions table out of view. GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QHeaderView, QStyle, QWidget


class CompactHeader(QHeaderView):
    """A horizontal header sized to its words; only the sorted section has the arrow's room."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setSectionsClickable(True)
        self.sortIndicatorChanged.connect(lambda *_args: self.resizeSections())

    def sectionSizeFromContents(self, logicalIndex: int) -> QSize:  # noqa: N802,N803 (Qt names)
        size = super().sectionSizeFromContents(logicalIndex)
        if self.isSortIndicatorShown() and logicalIndex != self.sortIndicatorSection():
            # QHeaderView adds the header's height plus its margin for the arrow.
            room = size.height() + self.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, self)
            size.setWidth(max(self.minimumSectionSize(), size.width() - room))
        return size
