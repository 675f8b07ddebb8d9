"""The command line's exit statuses and the one exception its commands stop with.

Every command (``publish``, ``find``) returns one of these statuses; the README lists them.
No Qt.
"""

from __future__ import annotations

#: Everything asked for is done.
OK = 0
#: It could not be done (the message says why and what to do); nothing half-made is left behind.
FAILED = 1
#: The command line is wrong (a missing or clashing option, an unknown profile or asset type).
USAGE = 2
#: Ctrl+C (SIGINT): 128 + 2, as shells report it.
INTERRUPTED = 130


class CliFailure(Exception):
    """A command stops: ``message`` is printed after ``error:``, ``status`` is the exit status."""

    def __init__(self, message: str, status: int = FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


__all__ = ["FAILED", "INTERRUPTED", "OK", "USAGE", "CliFailure"]
