"""``Component`` behaviour (FileComponent, SequenceComponent, ContainerComponent).

``ComponentMixin`` is mixed into every ``*Component`` entity class by the session. No Qt; call
from the thread that owns the session.
"""

from __future__ import annotations

from typing import Any

from publisher.api.components import get_component_availability, get_location
from publisher.api.mixin import EntityMixin


class ComponentMixin(EntityMixin):
    """Methods shared by component entities."""

    @property
    def origin_path(self) -> str | None:
        """The local path this component was created from in this session, if any."""
        return self.session.component_state.origin_paths.get(str(self["id"]))

    def get_availability(self, locations: Any = None) -> dict[str, float]:
        """``{location_id: percent}`` of this component's data per location."""
        return get_component_availability(self.session, self, locations)

    def get_url(self) -> str:
        """A download URL for this component's data in ``ftrack.server``."""
        return get_location(self.session, "ftrack.server").get_url(self)

    def get_thumbnail_url(self, size: int | None = None) -> str:
        """A thumbnail URL for this component in ``ftrack.server``."""
        return get_location(self.session, "ftrack.server").get_thumbnail_url(self, size)


__all__ = ["ComponentMixin"]
