"""The words a publish, an outbox entry or one of its steps is in. No Qt.

A ``str`` enum, so the words read and compare as the plain strings the outbox files hold
(``State.DONE == "done"``) and go into JSON as themselves.
"""

from __future__ import annotations

import enum


class State(str, enum.Enum):
    """Where a publish, an outbox entry or a step stands."""

    #: An entry waiting to run: never started, or the server could not be reached.
    QUEUED = "queued"
    #: A step not done yet (chosen ids may already be recorded for it).
    PENDING = "pending"
    #: A process is on it (or was, when it crashed).
    RUNNING = "running"
    DONE = "done"
    #: Stopped; the steps done are kept for a retry.
    FAILED = "failed"
    #: The artist cancelled it and what it created was removed.
    CANCELLED = "cancelled"
    #: Queued in the window until the server answers again.
    WAITING = "waiting"

    def __str__(self) -> str:
        return self.value


#: The states an outbox entry file may hold.
ENTRY_STATES = (State.QUEUED, State.RUNNING, State.DONE, State.FAILED, State.CANCELLED)
#: Entry states still to run or finish.
UNFINISHED = (State.QUEUED, State.RUNNING, State.FAILED)
#: Entry states that end an entry.
FINISHED = (State.DONE, State.CANCELLED)

__all__ = ["ENTRY_STATES", "FINISHED", "State", "UNFINISHED"]
