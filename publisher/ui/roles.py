"""Item data roles shared by every model and view of the window (declared once, here)."""

from __future__ import annotations

from PySide6.QtCore import Qt

_USER = int(Qt.ItemDataRole.UserRole)

#: The plain-Python row behind an index (ContextRow, VersionRow, ComponentRow, StagedComponent).
ROW = _USER + 1
#: The ftrack id of the entity behind an index.
ID = _USER + 2
#: A value that sorts naturally (numbers as numbers, dates as timestamps).
SORT = _USER + 3
#: The text the filter box matches against.
FILTER_TEXT = _USER + 4
#: ``True`` while the children of a tree node are being loaded.
LOADING = _USER + 5
#: The validation message of a staged row's name, ``None`` when valid.
NAME_ERROR = _USER + 6
#: The thumbnail id of a version row.
THUMBNAIL_ID = _USER + 7
#: The entity type of a context node (Project, Folder, Sequence, Shot, Task, ...).
ENTITY_TYPE = _USER + 8
#: An activity row's progress as a fraction 0.0-1.0, or ``None`` when it shows no bar.
PROGRESS = _USER + 9
#: An activity row's state: queued, waiting, running, done, failed or cancelled.
STATE = _USER + 10
#: An activity row's kind: publish, transfer or encode.
KIND = _USER + 11
