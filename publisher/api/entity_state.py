"""The values an entity holds: edits waiting for ``commit``, values known from the server, and
whether the server has the entity yet.

The session moves an entity's state forward (a commit makes local values remote, a rollback
drops them) through the public methods here, never by writing an entity's attributes. Used from
the thread that owns the entity's session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .symbol import NOT_SET


@dataclass
class EntityState:
    """One entity's values: ``local`` (set, not committed), ``remote`` (last known from the
    server) and ``is_new`` (created in this session and not committed yet)."""

    local: dict[str, Any] = field(default_factory=dict)
    remote: dict[str, Any] = field(default_factory=dict)
    is_new: bool = False

    def value(self, name: str) -> Any:
        """The local value, else the remote value, else :data:`NOT_SET` (never fetches)."""
        value = self.local.get(name, NOT_SET)
        if value is NOT_SET:
            value = self.remote.get(name, NOT_SET)
        return value

    def committed(self) -> None:
        """The server accepted the local values: they become the remote ones."""
        self.remote.update(self.local)
        self.local.clear()
        self.is_new = False

    def discard_local(self) -> None:
        """Forget the local edits (a rollback, or the entity was deleted)."""
        self.local.clear()


__all__ = ["EntityState"]
