"""The identity map of a session: one entity object per ``(entity type, primary key)``.

Used from the thread that owns the session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from . import exceptions

if TYPE_CHECKING:  # pragma: no cover
    from .entity import Entity

Identity = tuple[str, tuple[str, ...]]


class IdentityMap:
    """Identity -> the session's entity object with that identity."""

    def __init__(self) -> None:
        self._entities: dict[Identity, "Entity"] = {}

    def get(self, identity: Identity) -> "Entity | None":
        """The entity with ``identity``, or ``None``."""
        return self._entities.get(identity)

    def __getitem__(self, identity: Identity) -> "Entity":
        return self._entities[identity]

    def __setitem__(self, identity: Identity, entity: "Entity") -> None:
        self._entities[identity] = entity

    def __contains__(self, identity: object) -> bool:
        return identity in self._entities

    def __len__(self) -> int:
        return len(self._entities)

    def __iter__(self) -> Iterator[Identity]:
        return iter(self._entities)

    def add_new(self, entity: "Entity") -> None:
        """Hold a newly created ``entity``; raises :class:`FtrackError` if its identity is taken."""
        existing = self._entities.get(entity.identity)
        if existing is not None and existing is not entity:
            raise exceptions.FtrackError(
                f"This session already has {existing!r}; a new entity needs another primary key.")
        self._entities[entity.identity] = entity

    def check_free(self, entity: "Entity", identity: Identity) -> None:
        """Raise :class:`FtrackError` when another entity already has ``identity``."""
        existing = self._entities.get(identity)
        if existing is not None and existing is not entity:
            raise exceptions.FtrackError(
                f"This session already has {existing!r}; choose another primary key.")

    def rekey(self, entity: "Entity", old_identity: Identity) -> None:
        """``entity``'s primary key changed (a new entity): file it under its new identity."""
        if self._entities.get(old_identity) is entity:
            del self._entities[old_identity]
            self._entities[entity.identity] = entity

    def discard(self, entity: "Entity") -> None:
        """Stop holding ``entity`` (if this map holds that very object)."""
        if self._entities.get(entity.identity) is entity:
            del self._entities[entity.identity]

    def clear(self) -> None:
        """Hold nothing."""
        self._entities.clear()


__all__ = ["Identity", "IdentityMap"]
