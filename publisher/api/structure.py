"""Structures: where a component's data lives inside a location (its resource identifier).

- :class:`EntityIdStructure` (ftrack.server): the resource identifier is the component id.
- :class:`OriginStructure` (ftrack.origin, ftrack.unmanaged, ftrack.review): the path the data
  already has, passed through unchanged.
- :class:`StandardStructure` (disk locations): a studio folder laid out as
  ``project/<context names>/<asset>/v003/<name>.<ext>``; a sequence is
  ``<name>.%04d.<ext>`` with members ``<name>.1001.<ext>``.

No Qt; callable from any thread that owns the entities' session.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Mapping

from publisher.api.exceptions import LocationError

def _value(entity: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """``entity[key]``, or ``default`` when it is missing, None or not set."""
    from publisher.api.symbol import NOT_SET

    try:
        value = entity[key]
    except KeyError:
        return default
    if value is None or value is NOT_SET:
        return default
    return value


class Structure:
    """Base: turns a component (and its context) into a resource identifier."""

    separator = "/"

    def get_resource_identifier(self, component: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> str:
        raise NotImplementedError


class EntityIdStructure(Structure):
    """The resource identifier is the component's id (ftrack.server)."""

    def get_resource_identifier(self, component, context=None) -> str:
        return str(component["id"])


class OriginStructure(Structure):
    """Passes through the path the data has now, given as ``context['source_resource_identifier']``."""

    def get_resource_identifier(self, component, context=None) -> str:
        if not context or not context.get("source_resource_identifier"):
            raise LocationError(
                f"No source path known for component {component['id']}: it was not created from "
                "a path in this session, so it cannot be registered in an unmanaged location."
            )
        return str(context["source_resource_identifier"])


class StandardStructure(Structure):
    """Project hierarchy layout: ``project/seq/shot/asset/v003/name.ext``.

    ``link`` of the component's (committed) version gives the project and context names; the
    asset name and the version number follow. Names are made filesystem-safe: lower case,
    ASCII, anything but letters, digits, ``.``, ``-`` and ``_`` replaced by ``substitute``.
    """

    def __init__(self, project_versions_prefix: str | None = None, substitute: str = "_") -> None:
        self.project_versions_prefix = project_versions_prefix
        self.substitute = substitute

    def sanitise(self, value: str) -> str:
        """Return ``value`` safe to use as one path part."""
        if self.substitute is None:
            return value
        text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii")
        return re.sub(r"[^\w.-]", self.substitute, text).strip().lower()

    def version_parts(self, version: Mapping[str, Any]) -> list[str]:
        """Folders for a version: project, context names, asset, ``v###``."""
        link = _value(version, "link") or []
        if not link:
            raise LocationError(
                f"AssetVersion {version['id']} has no link (project path); commit the version "
                "before adding its components to a disk location."
            )
        parts = [link[0]["name"]]
        names = [item["name"] for item in link[1:-1]]
        asset = version["asset"]
        asset_name = asset["name"]
        # ftrack's link ends with the version; some servers end it with the asset instead.
        if names and names[-1] == asset_name:
            names = names[:-1]
        if names:
            parts.extend(names)
        elif self.project_versions_prefix:
            parts.append(self.project_versions_prefix)
        parts.append(asset_name)
        parts.append(f"v{int(version['version']):03d}")
        return [self.sanitise(part) for part in parts]

    def _version_of(self, component: Mapping[str, Any]) -> Mapping[str, Any]:
        version = _value(component, "version")
        if version is None:
            container = _value(component, "container")
            if container is not None:
                return self._version_of(container)
            raise LocationError(
                f"Component {component['id']} has no version; only components of a committed "
                "AssetVersion can go to a disk location with the standard structure."
            )
        return version

    def get_resource_identifier(self, component, context=None) -> str:
        kind = component.entity_type if hasattr(component, "entity_type") else component["__entity_type__"]
        name = str(_value(component, "name", "main"))
        file_type = str(_value(component, "file_type", ""))
        if kind == "FileComponent":
            container = _value(component, "container")
            if container is not None:
                container_path = self.get_resource_identifier(container)
                container_kind = getattr(container, "entity_type", None) or container["__entity_type__"]
                if container_kind == "SequenceComponent":
                    folder = container_path.rsplit(self.separator, 1)[0]
                    member = f"{_value(container, 'name', 'main')}.{name}{file_type}"
                    return self.separator.join([folder, self.sanitise(member)])
                return self.separator.join([container_path, self.sanitise(name + file_type)])
            parts = self.version_parts(self._version_of(component))
            parts.append(self.sanitise(name + file_type))
            return self.separator.join(parts)
        if kind == "SequenceComponent":
            parts = self.version_parts(self._version_of(component))
            padding = int(_value(component, "padding", 0) or 0)
            expression = f"%0{padding}d" if padding else "%d"
            parts.append(f"{self.sanitise(name)}.{expression}{self.sanitise(file_type)}")
            return self.separator.join(parts)
        if kind == "ContainerComponent":
            parts = self.version_parts(self._version_of(component))
            parts.append(self.sanitise(name))
            return self.separator.join(parts)
        raise LocationError(f"The standard structure cannot place a {kind}.")


__all__ = ["EntityIdStructure", "OriginStructure", "StandardStructure", "Structure"]
