"""The "Collect from <host>" action of the docked panel and the window. GUI thread only.

:class:`CollectAction` puts a button in the staging panel's header (and, given the window, an
entry in its Publisher menu). Triggered, it runs the host's collector on the GUI thread (host API
calls must run on the host's main thread), resolves the task and checks the ranges against the
shot in a worker (:func:`publisher.hosts.collect.plan.prepare`), opens the widget at that task
when it is elsewhere, and drops every collected file there as one new version. The collector's
notes (frames missing, ranges off the shot, what was skipped) show as warnings under the list.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QMainWindow, QMenu, QToolButton, QWidget

from publisher.hosts import context as contexts
from publisher.hosts.collect.items import Collection
from publisher.hosts.collect.plan import StagePlan, prepare
from publisher.ui import icons
from publisher.ui.error_messages import describe_error
from publisher.ui.drop_zone import DropTarget
from publisher.ui.workers import Worker

Collector = Callable[[], Collection]


class CollectAction(QObject):
    """Collect from one host into a :class:`~publisher.ui.window.PublisherWidget`."""

    #: The plan whose files were staged.
    collected = Signal(object)
    #: Why nothing was staged (also shown in the widget's banner).
    failed = Signal(str)

    def __init__(self, widget: QWidget, host: str, collect: Collector, *, context_id: str | None = None,
                 source: str = contexts.ENVIRONMENT_VARIABLE, extra: dict[str, Collector] | None = None,
                 window: QMainWindow | None = None) -> None:
        super().__init__(widget)
        self.widget = widget
        self.controller = widget.controller  # type: ignore[attr-defined]
        self.host = host
        self.context_id = context_id
        self.source = source
        self._collect = collect
        self._plan: StagePlan | None = None
        self.button = QToolButton()
        self.button.setObjectName("CollectButton")
        self.button.setText(f"Collect from {host}")
        self.button.setIcon(icons.icon("drop"))
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setToolTip(f"Stage the {host} scene and its renders (frames on disk) as a new version "
                               "of the task")
        self.button.clicked.connect(lambda: self.trigger())
        if extra:
            menu = QMenu(self.button)
            for label, collector in extra.items():
                menu.addAction(label).triggered.connect(lambda _=False, c=collector: self.trigger(c))
            self.button.setMenu(menu)
            self.button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        header = widget.staging.layout().itemAt(0).layout()  # type: ignore[attr-defined]
        header.insertWidget(header.count() - 1, self.button)
        self.menu_action = None
        if window is not None:
            menu_bar = window.menuBar()
            menu = next((a.menu() for a in menu_bar.actions() if a.menu() is not None), None) or menu_bar.addMenu("&Publisher")
            self.menu_action = menu.addAction(f"Collect from {host}")
            self.menu_action.triggered.connect(lambda: self.trigger())

    def trigger(self, collect: Collector | None = None) -> bool:
        """Collect and stage; False (and :attr:`failed`) when it cannot start."""
        try:
            collection = (collect or self._collect)()
        except Exception as exc:  # the host's API or a stage file: say it, lose nothing staged
            return self._fail(f"Collecting from {self.host} failed: {exc}")
        c = self.controller
        context_id = self.context_id or (c.context.id if c.context is not None else None)
        source = self.source if self.context_id else "the selected task"
        if not context_id:
            return self._fail(f"Select a task first (or start {self.host} from a task in ftrack Connect), "
                              f"then collect from {self.host} again.")
        if c.publishing():
            return self._fail("A publish is running: collect again when it has finished.")
        self.button.setEnabled(False)
        worker = Worker(prepare, collection, context_id, source=source, session=c.session)
        c.workers.start(worker, on_result=self._prepared, on_error=self._prepare_failed,
                        on_finished=lambda: self.button.setEnabled(True))
        return True

    def _prepare_failed(self, error: BaseException) -> None:
        # ContextNotFound says which id named nothing and where it came from; anything else is
        # worded by its type, as the window words every worker's failure.
        self._fail(str(error) if isinstance(error, contexts.ContextNotFound) else
                   describe_error(error, self.controller.server_url))

    def _fail(self, message: str) -> bool:
        self.widget.banner.show_error(message)  # type: ignore[attr-defined]
        self.failed.emit(message)
        return False

    def _prepared(self, plan: StagePlan) -> None:
        c = self.controller
        if c.context is not None and c.context.id == plan.context.id:
            self._stage(plan)
            return
        # Open the widget at the task first, so the new version is made and linked there.
        self._plan = plan
        c.contextRestored.connect(self._restored)
        c.start(plan.context.id)

    def _restored(self, context_id: str) -> None:
        c = self.controller
        c.contextRestored.disconnect(self._restored)
        plan, self._plan = self._plan, None
        if plan is None:
            return
        if context_id != plan.context.id:
            self._fail(f"Could not open {plan.context.label}: select it in the tree, then collect again.")
            return
        # The controller selects the restored context right after announcing it.
        QTimer.singleShot(0, lambda: self._stage(plan))

    def _stage(self, plan: StagePlan) -> None:
        c = self.controller
        if not plan.paths:
            self.widget.staging.set_messages([], plan.notes)  # type: ignore[attr-defined]
            self.failed.emit(plan.notes[0] if plan.notes else f"Nothing from {self.host} to stage.")
            return
        refused: list[list[str]] = []

        def refuse(errors: list[str], _warnings: list[str]) -> None:
            refused.append(errors)

        # A refused drop answers at once, inside drop(); an accepted one later, from its worker.
        c.stagingMessages.connect(refuse)
        try:
            c.drop(plan.paths, DropTarget("context", plan.context.id, label=plan.context.name))
        finally:
            c.stagingMessages.disconnect(refuse)
        if refused:
            self.failed.emit("; ".join(refused[0]))
            return

        def staged(result: Any) -> None:
            c.staged.disconnect(staged)
            c.staging.add_notes(plan.notes)  # kept with the drop's own warnings when they are shown again
            self.collected.emit(plan)

        c.staged.connect(staged)


__all__ = ["CollectAction", "Collector"]
