"""Server schemas: the attributes they declare and an on-disk cache keyed by ``schema_hash``.

The entity classes built from them come from :mod:`publisher.api.entity_factory`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .symbol import NOT_SET

log = logging.getLogger(__name__)

SCALAR = "scalar"
REFERENCE = "reference"
COLLECTION = "collection"
MAPPED = "mapped"


@dataclass(frozen=True)
class Attribute:
    """One attribute of an entity type, as its schema describes it."""

    name: str
    kind: str  # SCALAR, REFERENCE, COLLECTION or MAPPED
    entity_type: str | None = None  # referenced / item type
    default: Any = NOT_SET
    mutable: bool = True
    computed: bool = False
    data_type: str | None = None  # json type of a scalar ("string", "integer", ...)
    is_datetime: bool = False
    key_attribute: str = "key"  # mapped collections: attribute of the item holding the key
    value_attribute: str = "value"

    def default_value(self) -> Any:
        """The value a newly created entity gets (``"{uid}"`` becomes a fresh uuid4)."""
        if self.default == "{uid}":
            return str(uuid.uuid4())
        if isinstance(self.default, (list, dict)):
            return json.loads(json.dumps(self.default))
        return self.default


class Attributes:
    """The attributes of an entity type, in schema order; iterating yields :class:`Attribute`."""

    def __init__(self, attributes: list[Attribute]) -> None:
        self._by_name = {a.name: a for a in attributes}

    def get(self, name: str) -> Attribute | None:
        return self._by_name.get(name)

    def keys(self) -> list[str]:
        return list(self._by_name)

    def names(self) -> list[str]:
        return list(self._by_name)

    def __iter__(self) -> Iterator[Attribute]:
        return iter(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self._by_name)

    def __repr__(self) -> str:
        return f"Attributes({', '.join(self._by_name)})"


def parse_attributes(schema: dict[str, Any]) -> Attributes:
    """Attributes from one schema; properties without a usable type are skipped."""
    immutable = set(schema.get("immutable") or [])
    computed = set(schema.get("computed") or [])
    result: list[Attribute] = []
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("restricted_projection"):
            continue
        common = dict(default=prop.get("default", NOT_SET), mutable=name not in immutable,
                      computed=name in computed)
        kind = prop.get("type")
        if kind == "array":
            items = prop.get("items") or {}
            result.append(Attribute(name, COLLECTION, items.get("$ref"), **common))
        elif kind == "mapped_array":
            items = prop.get("items") or {}
            kv = prop.get("key_value_attributes") or {}
            result.append(Attribute(name, MAPPED, items.get("$ref"), key_attribute=kv.get("key", "key"),
                                    value_attribute=kv.get("value", "value"), **common))
        elif kind is not None:
            result.append(Attribute(name, SCALAR, None, data_type=kind,
                                    is_datetime=prop.get("format") == "date-time", **common))
        elif "$ref" in prop:
            result.append(Attribute(name, REFERENCE, prop["$ref"], **common))
    return Attributes(result)


def schema_hash(schemas: list[dict[str, Any]]) -> str:
    """The hash an ftrack server reports for ``schemas`` (md5 of the sorted-keys JSON)."""
    return hashlib.md5(json.dumps(schemas, sort_keys=True).encode("utf-8")).hexdigest()


# Schema cache --------------------------------------------------------------------------------

def default_cache_dir() -> Path:
    """Where schemas are cached unless the session is told otherwise."""
    env = os.environ.get("FTRACK_API_SCHEMA_CACHE_PATH")
    if env:
        return Path(env)
    from publisher import paths

    return paths.cache_dir() / "schemas"


def cache_file(directory: Path, hash_: str) -> Path:
    return Path(directory) / f"ftrack-schemas-{hash_}.json"


def read_cache(directory: Path, hash_: str) -> list[dict[str, Any]] | None:
    """The cached schemas with ``hash_``, or ``None`` if absent, unreadable or not matching."""
    path = cache_file(directory, hash_)
    try:
        schemas = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(schemas, list) or schema_hash(schemas) != hash_:
        log.warning("Ignoring schema cache %s: its content does not match its hash", path)
        return None
    return schemas


def write_cache(directory: Path, schemas: list[dict[str, Any]]) -> Path | None:
    """Store ``schemas`` under their hash (atomically); a failure is only logged."""
    hash_ = schema_hash(schemas)
    path = cache_file(directory, hash_)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".schemas-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(schemas, handle)
        os.replace(tmp, path)
    except OSError as error:
        log.warning("Could not write the schema cache %s: %s", path, error)
        return None
    return path
