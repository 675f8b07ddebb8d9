"""``AssetVersion`` behaviour: create components on the version and encode review media.

``AssetVersionMixin`` is mixed into the ``AssetVersion`` entity class by the session. No Qt;
call from the thread that owns the session.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Mapping

from publisher.api import components
from publisher.api.mixin import EntityMixin


class AssetVersionMixin(EntityMixin):
    """Methods of ``AssetVersion`` entities."""

    def create_component(self, path: str, data: Mapping[str, Any] | None = None, location: Any = None, *,
                         progress: Callable[[int, int], None] | None = None,
                         cancel: threading.Event | None = None) -> Any:
        """Create a component of this version from ``path`` and return it.

        ``path`` is a file path or a sequence string ``'{head}{padding}{tail} [{ranges}]'``, for
        example ``'/path/to/file.%04d.ext [1-5, 7, 8, 10-20]'``, which gives a
        ``SequenceComponent`` with one ``FileComponent`` member per frame. ``data`` is extra
        component data; this version is always set as the component's version. When
        ``location`` is given the component, members included, is added to it (data moved,
        then one commit); ``progress(done_bytes, total_bytes)`` and ``cancel`` follow the move.
        """
        data = dict(data or {})
        data.pop("version_id", None)
        data["version"] = self
        return components.create_component(self.session, path, data, location=location,
                                           progress=progress, cancel=cancel)

    def encode_media(self, media: Any, keep_original: Any = "auto") -> Any:
        """Return the ``Job`` that encodes ``media`` for review; outputs join this version.

        ``media`` is a file path (uploaded to ``ftrack.server`` as a new component and committed
        first) or a ``FileComponent`` already in ``ftrack.server``. ``keep_original='auto'``
        keeps a FileComponent and drops an uploaded path; pass True or False to choose.
        """
        return components.encode_media(self.session, media, version_id=str(self["id"]),
                                       keep_original=keep_original)


__all__ = ["AssetVersionMixin"]
