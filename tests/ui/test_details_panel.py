"""The details panel shows the selected version's own thumbnail, never the previous one's."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPixmap

from publisher.publish.browse import VersionDetails, VersionRow
from publisher.ui.details_panel import DetailsPanel


def _details(version_id: str, thumbnail_id: str | None) -> VersionDetails:
    row = VersionRow(id=version_id, asset_id="a", asset_name="comp", asset_type="Upload", version=1,
                     status_name=None, status_color=None, user_name=None, date=None, comment="",
                     component_count=0, thumbnail_id=thumbnail_id, review_state="none",
                     task_id=None, context_id="ctx")
    return VersionDetails(row=row, components=[], comment="", published_by=None, date=None,
                          thumbnail_url=None)


def _centre_colour(panel: DetailsPanel) -> QColor:
    image = panel.thumbnail.pixmap().toImage()
    return image.pixelColor(image.width() // 2, image.height() // 2)


def test_a_version_without_thumbnail_does_not_show_the_previous_picture(qtbot):
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    red = QPixmap(320, 180)
    red.fill(QColor("#ff0000"))
    panel.set_details(_details("v1", "thumb-1"))
    panel.set_thumbnail(red)
    assert _centre_colour(panel) == QColor("#ff0000")
    panel.set_details(_details("v2", None))
    assert _centre_colour(panel) != QColor("#ff0000"), "v2 has no thumbnail: the placeholder shows"
