"""The base of the behaviour classes mixed into schema-built entity classes.

At run time it is an empty class (the entity class supplies everything); to the type checker it
is an :class:`~publisher.api.entity.Entity` of a full :class:`~publisher.api.session.Session`,
so mixin methods are checked against what they really use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from publisher.api.entity import Entity
    from publisher.api.session import Session

    class EntityMixin(Entity):
        """An entity of a full session."""

        session: Session
else:
    class EntityMixin:
        """Base of behaviour mixins (see the module docstring)."""


__all__ = ["EntityMixin"]
