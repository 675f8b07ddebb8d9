"""``entity['custom_attributes']`` as ftrack's stock client has it.

A server sends a persisted entity's custom attributes whole: one value entity
(``ContextCustomAttributeValue``, ``AssetVersionCustomAttributeValue``...) per configuration that
applies to it, keyed by the configuration's ``key``. Reading and writing a key then goes through
the generic mapped collection (a write is an ``update`` of that value entity). What differs from
other mapped collections (``metadata``) is a key the entity does not hold yet:

- on an entity the server already has, it is not a custom attribute of that entity: ``KeyError``,
  as the stock client raises (ftrack refuses to create such values);
- on a new entity, the value entity is made from its configuration (found with the stock
  client's rule) as an entity the server already holds, so that setting its value is sent as an
  ``update`` after the entity's ``create``, exactly as the stock client sends it.
"""

from __future__ import annotations

import weakref
from typing import Any

from .symbol import NOT_SET

VALUE_TYPE_SUFFIX = "CustomAttributeValue"

_configurations: "weakref.WeakKeyDictionary[Any, list[dict[str, Any]]]" = weakref.WeakKeyDictionary()


def is_custom_attributes(attribute: Any) -> bool:
    """Whether a mapped attribute holds custom attribute values."""
    return bool(attribute.entity_type) and str(attribute.entity_type).endswith(VALUE_TYPE_SUFFIX)


def configurations(session: Any) -> list[dict[str, Any]]:
    """The server's custom attribute configurations (asked once per session)."""
    found = _configurations.get(session)
    if found is None:
        rows = session.query("select key, project_id, id, object_type_id, entity_type, is_hierarchical from "
                             "CustomAttributeConfiguration").all()
        found = [{name: row[name] for name in ("id", "key", "project_id", "object_type_id", "entity_type",
                                               "is_hierarchical")}
                 for row in rows]
        _configurations[session] = found
    return found


def _raw(entity: Any, name: str) -> Any:
    """The entity's value for ``name`` if known (never fetched), else None."""
    value = entity._raw(name)
    return None if value is NOT_SET else value


def _entity_kind(entity: Any) -> tuple[str | None, str | None]:
    """(configuration entity_type, object type id) of ``entity``, by the stock client's rule."""
    if entity.entity_type == "Project":
        return "show", None
    if "object_type_id" in entity.attributes:
        return "task", _raw(entity, "object_type_id")
    return {"AssetVersion": "assetversion", "Asset": "asset", "User": "user", "AssetVersionList": "list",
            "TypedContextList": "list"}.get(entity.entity_type), None


def configuration_for(entity: Any, key: str) -> dict[str, Any]:
    """The configuration named ``key`` that applies to ``entity`` (project-specific first)."""
    kind, object_type_id = _entity_kind(entity)
    project_id = _raw(entity, "id") if kind == "show" else _raw(entity, "project_id")
    hierarchical_kinds = ("asset", "assetversion", "show", "task")
    matches = [c for c in configurations(entity.session)
               if c["key"] == key
               and ((c["entity_type"] == kind and c["object_type_id"] == object_type_id)
                    or (kind in hierarchical_kinds and c["is_hierarchical"]))
               and (c["project_id"] is None or project_id is None or c["project_id"] == project_id)]
    if not matches:
        raise KeyError(f"{key!r} is not a custom attribute of {entity.entity_type}: the server has no such "
                       "configuration for it (check the key in the server's custom attribute settings).")
    return sorted(matches, key=lambda c: c["project_id"] is None)[0]


def add_value(entity: Any, attribute: Any, key: str, value: Any) -> None:
    """Set custom attribute ``key``, which ``entity`` does not hold yet, to ``value``."""
    if not entity.is_new:
        raise KeyError(f"{key!r} is not a custom attribute of this {entity.entity_type}: it has "
                       f"{', '.join(sorted(entity[attribute.name])) or 'none'}.")
    configuration = configuration_for(entity, key)
    session = entity.session
    item = session._merge_payload({
        "__entity_type__": attribute.entity_type, "configuration_id": configuration["id"],
        "entity_id": _raw(entity, "id"), attribute.key_attribute: key,
    })
    item[attribute.value_attribute] = value
    entity[attribute.name] = entity._current_list(attribute.name) + [item]
