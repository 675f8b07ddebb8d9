"""Entity classes built from server schemas: one class per schema, shared per schema hash.

An entity class is ``type(<schema id>, (<mixins>..., Entity), {...})``. Behaviour mixins are
looked up by type name in modules that other parts of the client provide (see ``MIXINS``); a
module or class that does not exist is skipped, so this file never needs editing to add one.
Callable from any thread.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from typing import Any

from .entity import Entity
from .schema import parse_attributes, schema_hash

#: Entity type name -> (module, class) of the behaviour mixed into its class.
MIXINS: dict[str, tuple[str, str]] = {
    "AssetVersion": ("publisher.api.asset_version", "AssetVersionMixin"),
    "Location": ("publisher.api.location", "LocationMixin"),
    "Job": ("publisher.api.job", "JobMixin"),
}
#: Every type whose name ends in ``Component`` gets this mixin.
COMPONENT_MIXIN = ("publisher.api.component", "ComponentMixin")


def _import_mixin(module_name: str, class_name: str) -> type | None:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            return None
        raise
    return getattr(module, class_name, None)


def mixins_for(type_name: str) -> list[type]:
    """Behaviour classes for entity type ``type_name`` that exist in this installation."""
    found: list[type] = []
    spec = MIXINS.get(type_name)
    if spec:
        mixin = _import_mixin(*spec)
        if mixin is not None:
            found.append(mixin)
    if type_name.endswith("Component"):
        mixin = _import_mixin(*COMPONENT_MIXIN)
        if mixin is not None:
            found.append(mixin)
    return found


@dataclass
class TypeRegistry:
    """The parsed schemas and entity classes of one server; shared by a session and its clones."""

    schemas: list[dict[str, Any]]
    hash: str
    classes: dict[str, type[Entity]] = field(default_factory=dict)

    def names(self) -> list[str]:
        return list(self.classes)


_registry_lock = threading.Lock()
_registries: dict[str, TypeRegistry] = {}


def build_registry(schemas: list[dict[str, Any]], hash_: str | None = None) -> TypeRegistry:
    """Entity classes for ``schemas``; built once per schema hash and process."""
    hash_ = hash_ or schema_hash(schemas)
    with _registry_lock:
        registry = _registries.get(hash_)
        if registry is not None:
            return registry
        registry = TypeRegistry(schemas, hash_)
        for schema in schemas:
            name = schema["id"]
            bases = (*mixins_for(name), Entity)
            namespace = {
                "entity_type": name,
                "attributes": parse_attributes(schema),
                "primary_key_attributes": list(schema.get("primary_key") or ["id"]),
                "default_projections": list(schema.get("default_projections") or schema.get("primary_key") or ["id"]),
                "schema": schema,
                "__module__": "publisher.api.entity",
                "__doc__": f"An ftrack {name} (class built from the server's schema).",
            }
            registry.classes[name] = type(str(name), bases, namespace)
        _registries[hash_] = registry
        return registry


__all__ = ["COMPONENT_MIXIN", "MIXINS", "TypeRegistry", "build_registry", "mixins_for"]
