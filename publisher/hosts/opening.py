"""Start a publisher widget or window the way it was asked to open. GUI thread only.

:func:`start` opens the widget at the launch's task (``--context ID`` or ``FTRACK_CONTEXTID``;
a banner says so when that id names nothing and the last context opened instead), gives it the
"Collect from <host>" action of the host it runs in (docked) or of the host that wrote the stage
file (``--stage FILE``, the standalone app started by a Qt 5 host), and stages that file's items
once the task is open.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMainWindow, QWidget

from publisher.hosts.collect.items import Collection, StageFileError
from publisher.hosts.collect_action import CollectAction, Collector
from publisher.hosts.launch_options import LaunchOptions


def collectors(host: str) -> tuple[Collector, dict[str, Collector]]:
    """The collector of ``host`` ("Maya", "Nuke", "Houdini") run in this process, and extra ones
    offered in the button's menu (Maya's playblast)."""
    if host == "Nuke":
        from publisher.hosts.collect import nuke

        return nuke.collect, {}
    if host == "Houdini":
        from publisher.hosts.collect import houdini

        return houdini.collect, {}
    if host == "Maya":
        from publisher.hosts.collect import maya

        return maya.collect, {"Collect from Maya with a playblast of the active camera":
                              lambda: maya.collect(playblast=True)}
    raise ValueError(f"no collector for {host!r}: use Maya, Nuke or Houdini")


def _stage_file_reader(path: Any) -> Callable[[], Collection]:
    return lambda: Collection.read(path)


def start(widget: QWidget, *, host: str | None = None, options: LaunchOptions | None = None,
          window: QMainWindow | None = None) -> CollectAction | None:
    """Load ``widget`` at the launch's task and add the collect action; returns the action (None
    when there is no host to collect from)."""
    options = options if options is not None else LaunchOptions.from_arguments(None, None)
    controller = widget.controller  # type: ignore[attr-defined]
    action: CollectAction | None = None
    if options.stage_file is not None:
        try:
            stage_host = Collection.read(options.stage_file).host
        except StageFileError as exc:
            widget.banner.show_error(str(exc))  # type: ignore[attr-defined]
        else:
            action = CollectAction(widget, stage_host, _stage_file_reader(options.stage_file),
                                   context_id=options.context_id, source=options.source, window=window)
    elif host is not None:
        collect, extra = collectors(host)
        action = CollectAction(widget, host, collect, context_id=options.context_id, source=options.source,
                               extra=extra, window=window)

    wanted = options.context_id

    def restored(context_id: str) -> None:
        controller.contextRestored.disconnect(restored)
        if wanted and context_id != wanted:
            widget.banner.show_error(  # type: ignore[attr-defined]
                f"{options.source}={wanted} names no task on {controller.server_url}: the last task opened "
                "instead. Start again from the task in ftrack Connect, or pick it in the tree.")
            return
        if action is not None and options.stage_file is not None:
            QTimer.singleShot(0, action.trigger)

    if wanted or (action is not None and options.stage_file is not None):
        controller.contextRestored.connect(restored)
    starter = getattr(window, "start", None)
    if callable(starter):  # the standalone window also connects its live updates
        starter(wanted)
    else:
        controller.start(wanted)
    return action


__all__ = ["collectors", "start"]
