"""Entities: mutable mappings over the attributes a server schema declares.

Every value of an entity is either set locally (an edit waiting for ``commit``), known from the
server (remote), or :data:`NOT_SET`; :class:`~publisher.api.entity_state.EntityState` holds them.
Reading a value that is neither fetches it from the server (for an entity the server already
has). Collections and mapped collections (metadata) are proxies that read the entity's current
list and record a full new list on every change.

An entity reaches its session only through :class:`EntitySession`: it pushes typed operations
onto ``recorded_operations`` and keeps ``identity_map`` right; the session moves the entity's
state on commit and rollback. Entities belong to one session and, like it, are used from one
thread at a time.
"""

from __future__ import annotations

from collections.abc import MutableMapping, MutableSequence
from typing import Any, Iterable, Iterator, Protocol

from . import custom_attributes, exceptions
from .entity_state import EntityState
from .identity_map import Identity, IdentityMap
from .operation import CreateEntityOperation, Operations, UpdateEntityOperation
from .schema import COLLECTION, MAPPED, REFERENCE, SCALAR, Attribute, Attributes
from .symbol import NOT_SET


class EntitySession(Protocol):
    """What an entity needs from the session it belongs to (``Session`` provides it)."""

    auto_populate: bool

    @property
    def recorded_operations(self) -> Operations: ...

    @property
    def identity_map(self) -> IdentityMap: ...

    @property
    def types(self) -> dict[str, type["Entity"]]: ...

    def types_names(self) -> list[str]: ...

    def check_open(self) -> None: ...

    def create(self, entity_type: str, data: dict[str, Any] | None = None) -> "Entity": ...

    def delete(self, entity: "Entity") -> None: ...

    def populate(self, entities: "Entity | Iterable[Entity]", projections: str | Iterable[str]) -> None: ...

    def projection(self, attribute: Attribute) -> str: ...

    def merge(self, value: Any, merged: dict | None = None) -> Any: ...


class Entity(MutableMapping):
    """Base of every entity class; the session builds one subclass per schema.

    ``data`` gives initial values. ``reconstructing=True`` means the values come from the server
    (no defaults applied, nothing recorded); otherwise the entity is new: schema defaults are
    applied and its creation is recorded in the session for the next ``commit()``.
    """

    entity_type: str = "Entity"
    attributes: Attributes = Attributes([])
    primary_key_attributes: list[str] = []
    default_projections: list[str] = []
    schema: dict[str, Any] = {}

    def __init__(self, session: EntitySession, data: dict[str, Any] | None = None,
                 reconstructing: bool = False) -> None:
        self.session = session
        #: The local and remote values and whether the server has the entity yet.
        self.state = EntityState(is_new=not reconstructing)
        self._identity: Identity | None = None
        # Collection name -> (the stored list, ids of its items): O(1) duplicate checks on append.
        self._member_ids: dict[str, tuple[list, set]] = {}
        data = dict(data or {})
        for name in data:
            self._attribute(name)
        if reconstructing:
            self.state.remote.update(data)
        else:
            values: dict[str, Any] = {}
            for attribute in self.attributes:
                if attribute.default is not NOT_SET:
                    values[attribute.name] = attribute.default_value()
            # Key/value dicts for mapped collections become item entities once this one exists.
            mapped = {name: data.pop(name) for name in list(data)
                      if self._attribute(name).kind == MAPPED and isinstance(data[name], dict)}
            for name, value in data.items():
                values[name] = self._coerce(self._attribute(name), value)
            self.state.local.update(values)
            missing = [n for n in self.primary_key_attributes if self.state.local.get(n, NOT_SET) in (NOT_SET, None)]
            if missing:
                raise exceptions.FtrackError(
                    f"Cannot create {self.entity_type} without {', '.join(missing)}: "
                    "give the primary key in the data.")
            session.check_open()
            session.identity_map.add_new(self)
            session.recorded_operations.push(CreateEntityOperation(self, dict(values)))
            for name, items in mapped.items():
                self[name].replace(items)
        post_init = getattr(self, "_post_init", None)
        if callable(post_init):
            post_init()

    # Identity ---------------------------------------------------------------------------
    @property
    def primary_key(self) -> dict[str, Any]:
        """Primary key attribute -> value (from local or remote values, never fetched)."""
        return {name: self._raw(name) for name in self.primary_key_attributes}

    @property
    def identity(self) -> Identity:
        """``(entity_type, (str(pk), ...))``: one entity object per identity in a session."""
        # Cached: it is read for every hash and comparison, and primary keys rarely change
        # (only on a new entity, where setting one clears the cache).
        if self._identity is None:
            self._identity = (self.entity_type,
                              tuple(str(self._raw(name)) for name in self.primary_key_attributes))
        return self._identity

    def __repr__(self) -> str:
        pk = ", ".join(f"{k}={v!r}" for k, v in self.primary_key.items())
        return f"<{self.entity_type}({pk})>"

    def __str__(self) -> str:
        return repr(self)

    def __hash__(self) -> int:
        return hash(self.identity)

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        if not isinstance(other, Entity):
            return NotImplemented
        return other.identity == self.identity

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    # Raw storage ------------------------------------------------------------------------
    def _attribute(self, name: str) -> Attribute:
        attribute = self.attributes.get(name)
        if attribute is None:
            raise exceptions.UnknownAttributeError(self.entity_type, name)
        return attribute

    def _raw(self, name: str) -> Any:
        """The local value, else the remote value, else NOT_SET (never fetches)."""
        return self.state.value(name)

    # The older spelling of ``state.local`` / ``state.remote``, still read by tests.
    @property
    def _local(self) -> dict[str, Any]:
        return self.state.local

    @property
    def _remote(self) -> dict[str, Any]:
        return self.state.remote

    def _members(self, name: str) -> tuple[list, set]:
        """The stored list of collection ``name`` (not a copy) and the ids of its items."""
        current = self._raw(name)
        if current is NOT_SET or current is None:
            current = []
        cached = self._member_ids.get(name)
        if cached is not None and cached[0] is current:
            return cached
        cached = (current, {id(item) for item in current})
        self._member_ids[name] = cached
        return cached

    def _current_list(self, name: str) -> list[Any]:
        value = self._raw(name)
        if value is NOT_SET or value is None:
            return []
        return list(value)

    def _coerce(self, attribute: Attribute, value: Any) -> Any:
        if value is NOT_SET:
            return value
        if attribute.kind == COLLECTION:
            items = list(value or [])
            for item in items:
                if not isinstance(item, Entity):
                    raise TypeError(f"{self.entity_type}[{attribute.name!r}] holds entities, not {item!r}")
            return _unique(items)
        if attribute.kind == MAPPED:
            if isinstance(value, MappedCollection):
                return list(value._items())
            if isinstance(value, (list, tuple)):
                return list(value)
            raise TypeError(f"{self.entity_type}[{attribute.name!r}] takes a dict of key -> value "
                            f"(or set keys one by one: entity[{attribute.name!r}][key] = value), not {value!r}.")
        if attribute.kind == REFERENCE and value is not None and not isinstance(value, Entity):
            raise TypeError(f"{self.entity_type}[{attribute.name!r}] references an entity, not {value!r}")
        return value

    # Mapping interface ------------------------------------------------------------------
    def __getitem__(self, name: str) -> Any:
        attribute = self._attribute(name)
        value = self._raw(name)
        if value is NOT_SET and not self.state.is_new and self.session.auto_populate:
            self.session.populate([self], self.session.projection(attribute))
            value = self._raw(name)
        if attribute.kind == COLLECTION:
            return Collection(self, attribute)
        if attribute.kind == MAPPED:
            return MappedCollection(self, attribute)
        return value

    def __setitem__(self, name: str, value: Any) -> None:
        attribute = self._attribute(name)
        if attribute.kind == MAPPED and isinstance(value, dict):
            self[name].replace(value)
            return
        value = self._coerce(attribute, value)
        if not attribute.mutable and not self.state.is_new and value is not NOT_SET:
            current = self._raw(name)
            if current is not NOT_SET and current != value:
                raise exceptions.ImmutableAttributeError(self.entity_type, name)
        old_identity = None
        if name in self.primary_key_attributes:
            old_identity = self.identity
            if value is not NOT_SET:
                self.session.identity_map.check_free(self, (self.entity_type, tuple(
                    str(value) if n == name else str(self._raw(n)) for n in self.primary_key_attributes)))
        if value is NOT_SET:
            self.state.local.pop(name, None)
        else:
            self.state.local[name] = value
        if old_identity is not None:
            self._identity = None
            self.session.identity_map.rekey(self, old_identity)
        self._record_update(name, value)

    def _record_update(self, name: str, value: Any) -> None:
        self.session.recorded_operations.push(UpdateEntityOperation(self, name, value))

    def _set_checked(self, name: str, value: Any) -> None:
        """Set a collection's new list without re-validating it (see :class:`Collection`)."""
        attribute = self._attribute(name)
        if not attribute.mutable and not self.state.is_new and self._raw(name) is not NOT_SET:
            raise exceptions.ImmutableAttributeError(self.entity_type, name)
        self.state.local[name] = value
        self._record_update(name, value)

    def __delitem__(self, name: str) -> None:
        """Drop the local edit of ``name``: its value goes back to the last known server value."""
        self._attribute(name)
        if name in self.state.local:
            old_identity = self.identity if name in self.primary_key_attributes else None
            del self.state.local[name]
            if old_identity is not None:
                self._identity = None
                self.session.identity_map.rekey(self, old_identity)
            self._record_update(name, NOT_SET)

    def __iter__(self) -> Iterator[str]:
        return iter(self.attributes.names())

    def __len__(self) -> int:
        return len(self.attributes)

    def __contains__(self, name: object) -> bool:
        return name in self.attributes

    def keys(self):
        """The attribute names (a set-like view)."""
        return super().keys()

    def values(self) -> list[Any]:  # type: ignore[override]
        """Every attribute value; values not fetched yet are fetched in one request."""
        self._populate_unset()
        return [self[name] for name in self]

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        """``(name, value)`` for every attribute; missing values are fetched in one request."""
        self._populate_unset()
        return [(name, self[name]) for name in self]

    def setdefault(self, name: str, default: Any = None) -> Any:
        """The value of ``name``; if it is ``NOT_SET`` (neither set nor on the server), set it
        to ``default`` first. Unknown names raise ``KeyError`` (entities have fixed keys)."""
        value = self[name]
        if value is NOT_SET:
            self[name] = default
            return default
        return value

    def clear(self) -> None:
        """Reset all locally modified attribute values (nothing is sent to the server)."""
        for name in list(self.state.local):
            del self[name]

    def _populate_unset(self) -> None:
        """Fetch every attribute that is neither set nor known, in one request."""
        if self.state.is_new or not self.session.auto_populate:
            return
        missing = [a for a in self.attributes if self._raw(a.name) is NOT_SET]
        if missing:
            self.session.populate([self], ", ".join(self.session.projection(a) for a in missing))

    # Modification state -----------------------------------------------------------------
    def local_values(self) -> dict[str, Any]:
        """The values set locally and not yet committed."""
        return dict(self.state.local)

    def remote_values(self) -> dict[str, Any]:
        """The values last known from the server."""
        return dict(self.state.remote)

    @property
    def is_new(self) -> bool:
        """True until the entity has been committed to the server."""
        return self.state.is_new

    def merge(self, entity: "Entity", merged: dict | None = None) -> list[dict[str, Any]]:
        """Apply ``entity``'s values that are not ``NOT_SET`` to this entity.

        Returns the changes, each ``{"type": "local_attribute" | "remote_attribute",
        "name", "old_value", "new_value"}``. Entities inside values are mapped to this
        session's objects; ``merged`` (identity -> entity) stops cycles.
        """
        if merged is None:
            merged = {}
        merged.setdefault(id(entity), self)
        changes: list[dict[str, Any]] = []
        session = self.session
        # Scalars first so that identities are complete before references are merged.
        ordered = sorted(entity.attributes, key=lambda a: a.kind != SCALAR)
        for other_attribute in ordered:
            name = other_attribute.name
            attribute = self.attributes.get(name)
            if attribute is None:
                continue
            other_local = entity.state.local.get(name, NOT_SET)
            if other_local is not NOT_SET:
                local = self.state.local.get(name, NOT_SET)
                if local != other_local:
                    new = session.merge(other_local, merged) if session else other_local
                    self.state.local[name] = new
                    self._identity = None
                    if session is not None:
                        self._record_update(name, new)
                    changes.append({"type": "local_attribute", "name": name,
                                    "old_value": local, "new_value": new})
            other_remote = entity.state.remote.get(name, NOT_SET)
            if other_remote is not NOT_SET:
                remote = self.state.remote.get(name, NOT_SET)
                if remote != other_remote:
                    new = session.merge(other_remote, merged) if session else other_remote
                    self.state.remote[name] = new
                    self._identity = None
                    changes.append({"type": "remote_attribute", "name": name,
                                    "old_value": remote, "new_value": new})
        return changes

    def merge_remote(self, values: dict[str, Any]) -> None:
        """Take ``values`` (already session entities) as the server's current values."""
        for name, value in values.items():
            if name in self.attributes:
                self.state.remote[name] = value


def _unique(items: Iterable[Any]) -> list[Any]:
    seen: set = set()
    result = []
    for item in items:
        key = item.identity if isinstance(item, Entity) else id(item)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


class Collection(MutableSequence):
    """A list-like view of an entity's collection attribute (``version['components']``).

    Every change stores the whole new list as the entity's local value; ``commit()`` sends it as
    the new membership. An entity appears at most once (appending it again does nothing).
    """

    def __init__(self, entity: Entity, attribute: Attribute) -> None:
        self.entity = entity
        self.attribute = attribute

    def _items(self) -> list[Entity]:
        return self.entity._current_list(self.attribute.name)

    def _store(self, items: list[Entity]) -> None:
        # Items were checked one by one on the way in; skip re-checking the whole list (a
        # sequence of thousands of frames appends its members one at a time).
        self.entity._set_checked(self.attribute.name, items)

    def _check(self, value: object) -> None:
        if not isinstance(value, Entity):
            raise TypeError(f"{self.entity.entity_type}[{self.attribute.name!r}] holds entities, not {value!r}")

    def __getitem__(self, index):
        return self._items()[index]

    def __setitem__(self, index, value) -> None:
        items = self._items()
        if isinstance(index, slice):
            value = list(value)
            for item in value:
                self._check(item)
            items[index] = value
            items = _unique(items)
        else:
            self._check(value)
            items[index] = value
            items = _unique(items)
        self._store(items)

    def __delitem__(self, index) -> None:
        items = self._items()
        del items[index]
        self._store(items)

    def __len__(self) -> int:
        return len(self._items())

    def insert(self, index: int, value: Entity) -> None:
        self._check(value)
        current, ids = self.entity._members(self.attribute.name)
        # One object per identity in a session, so the ids of the items are an exact test.
        if value.session is self.entity.session:
            present = id(value) in ids
        else:
            present = value in current
        if present:
            return
        items = list(current)
        items.insert(index, value)
        self._store(items)
        ids.add(id(value))
        self.entity._member_ids[self.attribute.name] = (items, ids)

    def __contains__(self, value: object) -> bool:
        return value in self._items()

    def __iter__(self) -> Iterator[Entity]:
        return iter(self._items())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Collection):
            return self._items() == other._items()
        if isinstance(other, (list, tuple)):
            return self._items() == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Collection({self._items()!r})"


class MappedCollection(MutableMapping):
    """A dict-like view of a mapped collection (``entity['metadata']``): key -> value.

    Setting a new key creates the item entity (for example a ``Metadata`` with ``parent_id``,
    ``parent_type``, ``key``, ``value``) and adds it to the collection; setting an existing key
    updates the item; deleting a key deletes the item. All of it is sent by ``commit()``.
    """

    def __init__(self, entity: Entity, attribute: Attribute) -> None:
        self.entity = entity
        self.attribute = attribute

    def _items(self) -> list[Entity]:
        return self.entity._current_list(self.attribute.name)

    def _find(self, key: str) -> Entity | None:
        for item in self._items():
            if item[self.attribute.key_attribute] == key:
                return item
        return None

    def __getitem__(self, key: str) -> Any:
        item = self._find(key)
        if item is None:
            raise KeyError(key)
        return item[self.attribute.value_attribute]

    def __setitem__(self, key: str, value: Any) -> None:
        item = self._find(key)
        if item is not None:
            item[self.attribute.value_attribute] = value
            return
        if custom_attributes.is_custom_attributes(self.attribute):
            custom_attributes.add_value(self.entity, self.attribute, key, value)
            return
        session = self.entity.session
        item_class = session.types.get(self.attribute.entity_type or "Metadata")
        if item_class is None:
            raise exceptions.UnrecognisedEntityTypeError(self.attribute.entity_type or "Metadata", session.types_names())
        data: dict[str, Any] = {self.attribute.key_attribute: key, self.attribute.value_attribute: value}
        if "parent_id" in item_class.attributes:
            data["parent_id"] = self.entity._raw(self.entity.primary_key_attributes[0])
        if "parent_type" in item_class.attributes:
            data["parent_type"] = self.entity.entity_type
        item = session.create(item_class.entity_type, data)
        self.entity[self.attribute.name] = self._items() + [item]

    def __delitem__(self, key: str) -> None:
        item = self._find(key)
        if item is None:
            raise KeyError(key)
        self.entity.session.delete(item)
        self.entity[self.attribute.name] = [i for i in self._items() if i is not item]

    def replace(self, values: dict[str, Any]) -> None:
        """Make the keys exactly ``values``: set each, delete the keys not in it."""
        for key in [k for k in self if k not in values]:
            del self[key]
        for key, value in values.items():
            if key not in self or self[key] != value:
                self[key] = value

    def __iter__(self) -> Iterator[str]:
        return iter([item[self.attribute.key_attribute] for item in self._items()])

    def __len__(self) -> int:
        return len(self._items())

    def __repr__(self) -> str:
        return f"MappedCollection({dict(self)!r})"
