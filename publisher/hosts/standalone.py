"""The publisher as a standalone window (outside any DCC). GUI thread only."""

from __future__ import annotations

from typing import Any

from publisher.ui.window import USER_OUTBOX, MainWindow


def open_window(session: Any, *, server_label: str = "", show: bool = True, settings: Any = None,
                outbox: Any = USER_OUTBOX, launch: Any = None) -> MainWindow:
    """Create the main window on ``session``; with ``show`` show it and start loading.

    ``outbox`` is where publishes wait and are resumed from (default: the user's own); ``launch``
    (:class:`~publisher.hosts.launch_options.LaunchOptions`) the task to open at and the items
    to stage (default: ``FTRACK_CONTEXTID``). A
    ``QApplication`` must exist; call from the GUI thread. The caller keeps the window alive.
    """
    window = MainWindow(session, server_label=server_label, settings=settings, outbox=outbox)
    if show:
        window.show()
        from publisher.hosts import opening

        opening.start(window.widget, options=launch, window=window)
    return window


def main(argv: list[str] | None = None) -> int:
    """Run the standalone publisher (what ``ftrack-publisher`` runs)."""
    from publisher.ui.app import run

    return run(argv)
