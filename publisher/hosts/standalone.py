"""The publisher as a standalone window (outside any DCC). GUI thread only."""

from __future__ import annotations

from typing import Any

from publisher.ui.window import MainWindow


def open_window(session: Any, *, server_label: str = "", show: bool = True, settings: Any = None) -> MainWindow:
    """Create the main window on ``session``; with ``show`` show it and start loading.

    A ``QApplication`` must exist. The caller keeps the returned window alive.
    """
    window = MainWindow(session, server_label=server_label, settings=settings)
    if show:
        window.show()
        window.start()
    return window


def main(argv: list[str] | None = None) -> int:
    """Run the standalone publisher (what ``ftrack-publisher`` runs)."""
    from publisher.ui.app import run

    return run(argv)
