"""What is moving: publishes, their component transfers and their encode jobs, as a tree.

:class:`ActivityItem` is a plain-Python node (no Qt): a top-level row per publish (or per "Make
reviewable" request) with child rows per component transfer and per encode job. It keeps the
bytes done, a smoothed throughput and the time left. :class:`ActivityModel` is the thin
``QAbstractItemModel`` over those nodes; it also turns the publish engine's events
(``publisher.publish.events``) and the job poller's reports into row changes, so the controller
only forwards them. GUI thread only (the rows change only through the model's methods).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from functools import singledispatchmethod
from typing import Any, Callable

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from publisher.publish import events as ev
from publisher.ui import roles
from publisher.ui.rows_model import column_header
from publisher.units import format_duration, format_rate, format_size

Index = QModelIndex | QPersistentModelIndex

COLUMNS = ["Activity", "Progress", "Speed", "Time left", "Status"]
TITLE, PROGRESS, SPEED, ETA, STATUS = range(len(COLUMNS))

#: States a row moves through. ``waiting``: queued until the server can be reached.
STATES = ("queued", "waiting", "running", "done", "failed", "cancelled")
ENDED = ("done", "failed", "cancelled")

STATE_TEXT = {"queued": "queued", "waiting": "waiting for the server", "running": "running",
              "done": "done", "failed": "failed", "cancelled": "cancelled"}

#: Throughput is averaged over updates at least this far apart (seconds), then smoothed.
RATE_WINDOW = 0.25
RATE_SMOOTHING = 0.3

_serials = itertools.count(1)


@dataclass(eq=False)
class ActivityItem:
    """One row: a publish (``kind="publish"``, also a review request), a transfer or an encode.

    ``done``/``total`` are bytes for publishes and transfers, percent for encodes. ``data``
    holds ids the controller needs (``version_id``, ``job_id``, ``component_id``...).
    """

    key: str
    kind: str
    title: str
    state: str = "queued"
    done: int = 0
    total: int = 0
    detail: str = ""
    rate: float = 0.0
    data: dict = field(default_factory=dict)
    parent: "ActivityItem | None" = None
    children: list["ActivityItem"] = field(default_factory=list)
    serial: int = field(default_factory=lambda: next(_serials))
    _mark: tuple[float, int] | None = None
    started: float | None = None
    ended: float | None = None

    @property
    def fraction(self) -> float | None:
        """Progress 0.0-1.0, or ``None`` while unknown (nothing to measure yet)."""
        if self.state == "done":
            return 1.0
        if self.total <= 0:
            return 0.0 if self.kind == "encode" else None
        return max(0.0, min(1.0, self.done / self.total))

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate (transfers and publishes that are moving)."""
        if self.state != "running" or self.kind in ("encode", "review") or self.rate <= 0 or self.total <= 0:
            return None
        return max(0.0, (self.total - self.done) / self.rate)

    def row(self) -> int:
        siblings = self.parent.children if self.parent is not None else []
        return siblings.index(self)

    def child(self, key: str) -> "ActivityItem | None":
        for c in self.children:
            if c.key == key:
                return c
        return None

    def set_done(self, done: int, now: float | None = None) -> None:
        """Record ``done`` (monotonic) and update the throughput."""
        now = time.monotonic() if now is None else now
        done = max(done, self.done)
        if self._mark is None:
            self._mark = (now, done)
        else:
            t0, d0 = self._mark
            dt = now - t0
            if dt >= RATE_WINDOW:
                instant = (done - d0) / dt
                self.rate = instant if self.rate <= 0 else (1 - RATE_SMOOTHING) * self.rate + RATE_SMOOTHING * instant
                self._mark = (now, done)
        self.done = done

    def restart_rate(self) -> None:
        """Measure the throughput from the next figure on (what came before is not a transfer)."""
        self._mark = None

    def progress_text(self) -> str:
        if self.kind == "review" and self.total <= 0:
            return "sending the media…" if self.state == "running" else STATE_TEXT.get(self.state, self.state)
        if self.kind in ("encode", "review"):
            if self.state == "running":
                return f"encoding {self.done} %"
            return {"queued": "queued", "done": "playable", "failed": "failed",
                    "cancelled": "not followed"}.get(self.state, self.state)
        if self.total <= 0:
            return STATE_TEXT.get(self.state, self.state) if self.state != "running" else "starting…"
        percent = 100 * self.done / self.total
        return f"{format_size(self.done)} of {format_size(self.total)} ({percent:.0f} %)"

    def status_text(self) -> str:
        if not self.detail and self.kind == "transfer" and self.state == "running":
            return "uploading"
        return self.detail or STATE_TEXT.get(self.state, self.state)


class ActivityModel(QAbstractItemModel):
    """The activity tree as a Qt model. GUI thread only."""

    def __init__(self, parent: Any = None, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._root = ActivityItem("", "root", "")
        self._by_serial: dict[int, ActivityItem] = {}
        self._by_key: dict[str, ActivityItem] = {}
        self._clock = clock

    # Lookup ---------------------------------------------------------------------------------
    def item(self, key: str) -> ActivityItem | None:
        """The row with ``key`` (``"publish:<id>"``, ``"<publish key>/transfer:<name>"``, ...)."""
        return self._by_key.get(key)

    def item_at(self, index: Index) -> ActivityItem | None:
        if not index.isValid():
            return None
        return self._by_serial.get(index.internalId())

    def index_of(self, item: ActivityItem, column: int = 0) -> QModelIndex:
        if item is self._root or item.parent is None:
            return QModelIndex()
        return self.createIndex(item.row(), column, item.serial)

    def publishes(self) -> list[ActivityItem]:
        """The top-level rows, oldest first."""
        return list(self._root.children)

    def encode_for_job(self, job_id: str) -> ActivityItem | None:
        for item in self._by_key.values():
            if item.kind == "encode" and item.data.get("job_id") == job_id:
                return item
        return None

    # Changes --------------------------------------------------------------------------------
    def add_publish(self, publish_id: str, title: str, *, components: list[tuple[str, int]] = (),
                    state: str = "queued", data: dict | None = None, kind: str = "publish") -> ActivityItem:
        """A top-level row (with a queued transfer row per ``(name, size)``); or the existing one."""
        key = f"publish:{publish_id}"
        existing = self._by_key.get(key)
        if existing is not None:
            return existing
        item = ActivityItem(key, kind, title, state=state, data=dict(data or {}, publish_id=publish_id))
        item.total = sum(size for _, size in components)
        self._insert(self._root, item)
        for name, size in components:
            self.add_child(item, "transfer", name, title=name, total=size)
        return item

    def add_child(self, parent: ActivityItem, kind: str, name: str, *, title: str = "", total: int = 0,
                  state: str = "queued", data: dict | None = None) -> ActivityItem:
        """A transfer or encode row under ``parent`` (or the existing one with that name)."""
        key = f"{parent.key}/{kind}:{name}"
        existing = self._by_key.get(key)
        if existing is not None:
            return existing
        item = ActivityItem(key, kind, title or name, state=state, total=total, data=dict(data or {}))
        self._insert(parent, item)
        return item

    def _insert(self, parent: ActivityItem, item: ActivityItem) -> None:
        row = len(parent.children)
        self.beginInsertRows(self.index_of(parent), row, row)
        item.parent = parent
        parent.children.append(item)
        self._register(item)
        self.endInsertRows()

    def _register(self, item: ActivityItem) -> None:
        self._by_serial[item.serial] = item
        self._by_key[item.key] = item
        for c in item.children:
            self._register(c)

    def _forget(self, item: ActivityItem) -> None:
        self._by_serial.pop(item.serial, None)
        self._by_key.pop(item.key, None)
        for c in item.children:
            self._forget(c)

    def update(self, item: ActivityItem, *, state: str | None = None, done: int | None = None,
               total: int | None = None, detail: str | None = None, title: str | None = None,
               **data: Any) -> None:
        """Change a row's fields (``done`` also moves its throughput) and repaint it."""
        now = self._clock()
        if total is not None:
            item.total = total
        if done is not None:
            item.set_done(done, now)
        if state is not None and state != item.state:
            if state == "running" and item.started is None:
                item.started = now
                item._mark = (now, item.done)
            if state in ENDED:
                item.ended = now
                item.rate = 0.0 if state != "done" else item.rate
            item.state = state
        if detail is not None:
            item.detail = detail
        if title is not None:
            item.title = title
        item.data.update(data)
        if item.parent is None:
            return
        self.dataChanged.emit(self.index_of(item, 0), self.index_of(item, len(COLUMNS) - 1))

    def remove(self, item: ActivityItem) -> None:
        """Remove a row and its children."""
        parent = item.parent
        if parent is None:
            return
        row = item.row()
        self.beginRemoveRows(self.index_of(parent), row, row)
        parent.children.pop(row)
        self._forget(item)
        item.parent = None
        self.endRemoveRows()

    def reset_children(self, item: ActivityItem, keep: Callable[[ActivityItem], bool]) -> None:
        """Put the children that ``keep`` rejects back to queued (a retry redoes them)."""
        for c in item.children:
            if not keep(c):
                self.update(c, state="queued", done=0, detail="")
                c.done = 0
                c.rate = 0.0
                c._mark = None
        self._cap_to_children(item)

    def _cap_to_children(self, top: ActivityItem) -> None:
        """A parent shows no more bytes than its transfers hold: a failed or undone transfer
        takes its bytes back, and the parent's count (monotonic while running) follows."""
        transfers = [c for c in top.children if c.kind == "transfer"]
        if transfers:
            held = sum(c.done for c in transfers)
            if top.done > held:
                top.done = held
                top._mark = None
                self.update(top)

    def clear_finished(self) -> int:
        """Remove the top-level rows that are done or cancelled (failed ones stay, for a retry).

        A publish whose encode is still being followed stays too. Returns how many went.
        """
        gone = 0
        for item in list(self._root.children):
            if item.state in ("done", "cancelled") and not any(
                    c.kind == "encode" and c.state in ("queued", "running") for c in item.children):
                self.remove(item)
                gone += 1
        return gone

    # Engine events --------------------------------------------------------------------------
    def apply_event(self, publish_id: str, event: Any) -> str | None:
        """Show one ``publisher.publish.events`` event of publish ``publish_id``.

        Returns the job id of an ``EncodeQueued`` event (to start a poller), else ``None``.
        """
        top = self.item(f"publish:{publish_id}")
        if top is None:
            return None
        return self._apply(event, top)

    # One method per event class, chosen by the event's type.
    @singledispatchmethod
    def _apply(self, event: Any, top: ActivityItem) -> str | None:
        return None  # an event this panel does not show

    @_apply.register
    def _(self, event: ev.PublishStarted, top: ActivityItem) -> str | None:
        self.update(top, state="running", total=event.total_bytes, detail="")
        for component in event.components:
            self.add_child(top, "transfer", component)
        return None

    @_apply.register
    def _(self, event: ev.VersionReady, top: ActivityItem) -> str | None:
        self.update(top, version_id=event.version_id, version_created=event.created)
        return None

    @_apply.register
    def _(self, event: ev.ComponentStarted, top: ActivityItem) -> str | None:
        child = self.add_child(top, "transfer", event.name)
        child.done = 0
        self._cap_to_children(top)
        self.update(child, state="running", total=event.total_bytes, detail="")
        self.update(top, detail=f"sending {event.name}")
        return None

    @_apply.register
    def _(self, event: ev.TransferPhase, top: ActivityItem) -> str | None:
        # Before the first byte moves: say what is happening.
        child = self.add_child(top, "transfer", event.name)
        child.data["phase"] = True
        text = (f"reading {format_size(event.done)} of {format_size(event.total)}…" if event.label == "reading"
                else f"{event.label}…")
        self.update(child, detail=text)
        return None

    @_apply.register
    def _(self, event: ev.BytesProgress, top: ActivityItem) -> str | None:
        child = self.add_child(top, "transfer", event.name)
        if child.data.pop("phase", False):
            # The speed starts with the first bytes: set-up time and the bytes a resumed
            # upload had already sent are not part of it.
            child.restart_rate()
            if top.rate <= 0:
                top.restart_rate()
            self.update(child, detail="")
        self.update(child, done=event.done, total=event.total)
        self.update(top, done=event.overall_done, total=event.overall_total)
        return None

    @_apply.register
    def _(self, event: ev.ComponentDone, top: ActivityItem) -> str | None:
        child = self.add_child(top, "transfer", event.name)
        self.update(child, state="done", done=child.total, detail="", component_id=event.component_id)
        return None

    @_apply.register
    def _(self, event: ev.EncodeQueued, top: ActivityItem) -> str | None:
        self.add_encode(top, event.job_id)
        return str(event.job_id)

    @_apply.register
    def _(self, event: ev.PublishFinished, top: ActivityItem) -> str | None:
        self.update(top, state="done", done=top.total, detail="published", version_id=event.version_id)
        return None

    @_apply.register
    def _(self, event: ev.PublishCancelled, top: ActivityItem) -> str | None:
        self.finish_publish(top, "cancelled", event.message or "cancelled")
        return None

    @_apply.register
    def _(self, event: ev.PublishFailed, top: ActivityItem) -> str | None:
        # The worker's outcome decides between failed and cancelled; show the reason now.
        if top.state not in ENDED:
            self.finish_publish(top, "failed", event.message)
        return None

    def add_encode(self, top: ActivityItem, job_id: str, title: str = "Review encode") -> ActivityItem:
        """An encode row under ``top`` for Job ``job_id`` (queued until the poller reports)."""
        item = self.add_child(top, "encode", job_id, title=title, total=100, data={"job_id": job_id})
        self.update(item, detail="queued on the server")
        return item

    def finish_publish(self, top: ActivityItem, state: str, message: str) -> None:
        """End ``top`` as ``failed`` or ``cancelled``; unfinished transfers end with it."""
        for c in top.children:
            if c.kind == "transfer" and c.state not in ENDED:
                self.update(c, state=state, detail="" if state == "cancelled" else "not published")
        self._cap_to_children(top)
        self.update(top, state=state, detail=message)

    # Job poller reports ---------------------------------------------------------------------
    def job_progress(self, job_id: str, status: str, percent: int) -> ActivityItem | None:
        item = self.encode_for_job(job_id)
        if item is None:
            return None
        state = {"queued": "queued", "running": "running", "done": "done", "failed": "failed"}.get(status, "running")
        detail = {"queued": "queued on the server", "running": "encoding on the server"}.get(status)
        self.update(item, state=state, done=percent, detail=detail)
        top = item.parent
        if top is not None and top.kind == "review" and state in ("queued", "running"):
            self.update(top, state="running", total=100, done=percent, detail=detail)
        return item

    def job_finished(self, job_id: str, status: str, payload: dict) -> ActivityItem | None:
        item = self.encode_for_job(job_id)
        if item is None:
            return None
        if status == "done":
            self.update(item, state="done", done=100, detail="playable")
        else:
            error = str(payload.get("error") or "The server gave no reason.")
            self.update(item, state="failed", detail=error)
        top = item.parent
        if top is not None and top.kind == "review":
            self.update(top, state="done" if status == "done" else "failed",
                        detail="playable" if status == "done" else item.detail)
        return item

    def job_lost(self, job_id: str, message: str) -> ActivityItem | None:
        """The poller gave up following ``job_id`` (the job may still run on the server)."""
        item = self.encode_for_job(job_id)
        if item is not None:
            self.update(item, state="failed", detail=message)
        return item

    # QAbstractItemModel ---------------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        if column < 0 or column >= len(COLUMNS) or row < 0:
            return QModelIndex()
        node = self.item_at(parent) if parent.isValid() else self._root
        if node is None or row >= len(node.children):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row].serial)

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        item = self.item_at(index)
        if item is None or item.parent is None or item.parent is self._root:
            return QModelIndex()
        return self.index_of(item.parent, 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if parent.isValid():
            if parent.column() != 0:
                return 0
            node = self.item_at(parent)
            return len(node.children) if node is not None else 0
        return len(self._root.children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return column_header(COLUMNS, section, orientation, role)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self.item_at(index)
        if item is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == TITLE:
                return item.title
            if col == PROGRESS:
                return item.progress_text()
            if col == SPEED:
                moving = item.state == "running" and item.kind not in ("encode", "review")
                return format_rate(item.rate) if moving else ""
            if col == ETA:
                return format_duration(item.eta)
            if col == STATUS:
                return item.status_text()
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{item.title}: {item.status_text()}"
        if role == Qt.ItemDataRole.FontRole and item.parent is self._root and col == TITLE:
            font = QFont()
            font.setBold(True)
            return font
        if role == roles.PROGRESS:
            return item.fraction
        if role == roles.STATE:
            return item.state
        if role == roles.KIND:
            return item.kind
        if role == roles.ID:
            return item.key
        if role == roles.ROW:
            return item
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (SPEED, ETA):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


__all__ = ["ActivityItem", "ActivityModel", "COLUMNS", "format_duration", "format_rate"]
