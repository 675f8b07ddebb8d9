"""The session: a connection to one ftrack server, its entity classes and the entities fetched.

A :class:`Session` asks the server for its information and schemas when it starts (schemas come
from an on-disk cache when the server's ``schema_hash`` matches), builds one entity class per
schema, and keeps one entity object per (type, primary key). Edits are recorded and sent in one
request by :meth:`Session.commit`.

A session is used from one thread at a time; :meth:`Session.clone` makes another for a worker
thread without asking the server again.
"""

from __future__ import annotations

import getpass
import logging
import os
from pathlib import Path
from typing import Any, Iterable

from . import exceptions
from .entity import Collection, Entity, MappedCollection
from .query import QueryResult
from .schema import COLLECTION, MAPPED, REFERENCE, TypeRegistry, build_registry, default_cache_dir, read_cache, schema_hash, write_cache
from .symbol import NOT_SET
from .transport import Transport

log = logging.getLogger(__name__)

#: Actions that read only and may be re-sent after a connection failure or a busy server.
READ_ACTIONS = frozenset({"query", "query_server_information", "query_schemas"})

#: Marks a recorded update whose value was replaced by a later one and will not be sent.
_SUPERSEDED = object()

#: Entities per ``populate`` query (keeps expressions a sensible size).
POPULATE_BATCH = 250


def _quote(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


class Session:
    """A connection to an ftrack server (or the embedded one).

    ``server_url``, ``api_user`` and ``api_key`` default to ``FTRACK_SERVER``,
    ``FTRACK_API_USER`` (else the login name) and ``FTRACK_API_KEY``. ``timeout`` bounds every
    request in seconds. ``schema_cache_path`` is a folder for the schema cache (default: the
    publisher's cache folder; ``False`` disables the cache).
    """

    def __init__(
        self,
        server_url: str | None = None,
        api_user: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60,
        schema_cache_path: str | os.PathLike[str] | bool | None = None,
        _shared: tuple[dict[str, Any], TypeRegistry] | None = None,
    ) -> None:
        server_url = server_url or os.environ.get("FTRACK_SERVER")
        if not server_url:
            raise exceptions.ConfigurationError(
                "No ftrack server given: pass server_url or set FTRACK_SERVER "
                "(for example https://yourstudio.ftrackapp.com), or choose one in the settings.")
        api_user = api_user or os.environ.get("FTRACK_API_USER") or getpass.getuser()
        api_key = api_key or os.environ.get("FTRACK_API_KEY") or os.environ.get("FTRACK_APIKEY")
        if not api_key:
            raise exceptions.ConfigurationError(
                f"No API key for {server_url}: pass api_key or set FTRACK_API_KEY, "
                "or enter it in the settings.")
        if "://" not in server_url:
            raise exceptions.ConfigurationError(
                f"The ftrack server address {server_url!r} needs a scheme, "
                "for example https://yourstudio.ftrackapp.com or http://127.0.0.1:8080.")
        self.server_url = server_url.rstrip("/")
        self.api_user = api_user
        self.api_key = api_key
        self.timeout = timeout
        self.transport = Transport(self.server_url, api_user, api_key, timeout=timeout,
                                   encode_entity=self._encode_value)
        self._identity_map: dict[tuple[str, tuple[str, ...]], Entity] = {}
        self._operations: list[tuple] = []
        self._last_update: dict[tuple[int, str], int] = {}
        #: When False, reading a value that is not known gives NOT_SET instead of a request
        #: (for code that must never block, e.g. painting a cached view).
        self.auto_populate = True
        self._closed = False
        if schema_cache_path is None:
            self.schema_cache_path: Path | None = default_cache_dir()
        elif schema_cache_path is False:
            self.schema_cache_path = None
        else:
            self.schema_cache_path = Path(schema_cache_path)  # type: ignore[arg-type]
        try:
            if _shared is not None:
                self.server_information, self._registry = _shared
            else:
                self.server_information = self._query_server_information()
                self._registry = self._load_schemas()
        except BaseException:
            self.transport.close()
            raise

    # Public attributes -------------------------------------------------------------------
    @property
    def http(self):
        """The ``requests.Session`` used for every request (uploads and downloads too).

        It carries no ftrack credentials: requests to ``/api`` add them per request.
        """
        return self.transport.http

    @property
    def request_count(self) -> int:
        """HTTP requests made through :attr:`http` so far."""
        return self.transport.request_count

    def count_request(self, n: int = 1) -> None:
        """Count ``n`` requests made without :attr:`http`."""
        self.transport.count_request(n)

    @property
    def schemas(self) -> list[dict[str, Any]]:
        """The server's schemas (shared with clones; do not modify)."""
        return self._registry.schemas

    @property
    def types(self) -> dict[str, type]:
        """Entity type name -> entity class."""
        return self._registry.classes

    def types_names(self) -> list[str]:
        return list(self._registry.classes)

    @property
    def closed(self) -> bool:
        return self._closed

    def entity_class(self, entity_type: str) -> type:
        """The class of ``entity_type``; raises :class:`UnrecognisedEntityTypeError`."""
        cls = self._registry.classes.get(entity_type)
        if cls is None:
            raise exceptions.UnrecognisedEntityTypeError(entity_type, self.types_names())
        return cls

    def __repr__(self) -> str:
        return f"<Session {self.api_user}@{self.server_url}>"

    # Start-up ----------------------------------------------------------------------------
    def _query_server_information(self) -> dict[str, Any]:
        result = self.transport.call([{"action": "query_server_information"}], retry=True)[0]
        if not isinstance(result, dict) or "version" not in result:
            raise exceptions.ServerResponseError(
                f"The server at {self.server_url} did not say which ftrack version it runs: "
                "it may not be an ftrack server. Check FTRACK_SERVER.", server_url=self.server_url)
        return result

    def _load_schemas(self) -> TypeRegistry:
        cache = self.schema_cache_path
        hash_ = self.server_information.get("schema_hash")
        schemas = read_cache(cache, hash_) if cache is not None and hash_ else None
        if schemas is None:
            schemas = self.transport.call([{"action": "query_schemas"}], retry=True)[0]
            if not isinstance(schemas, list) or not all(isinstance(s, dict) and "id" in s for s in schemas):
                raise exceptions.ServerResponseError(
                    f"The server at {self.server_url} answered query_schemas with something that is "
                    "not a list of schemas. Check FTRACK_SERVER.", server_url=self.server_url)
            if cache is not None:
                write_cache(cache, schemas)
        return build_registry(schemas, schema_hash(schemas))

    # Wire encoding -----------------------------------------------------------------------
    def entity_reference(self, entity: Entity) -> dict[str, Any]:
        """``{"__entity_type__": T, <pk>: value, ...}``: how an entity is referred to on the wire."""
        reference: dict[str, Any] = {"__entity_type__": entity.entity_type}
        for name in entity.primary_key_attributes:
            reference[name] = entity._raw(name)
        return reference

    def _encode_value(self, value: Any) -> Any:
        if isinstance(value, Entity):
            return self.entity_reference(value)
        if isinstance(value, (Collection, MappedCollection)):
            return [self.entity_reference(item) for item in value._items()]
        return None

    def _from_wire(self, value: Any) -> Any:
        """Turn decoded JSON into session values: entity payloads become (merged) entities."""
        if isinstance(value, dict):
            if "__entity_type__" in value:
                return self._merge_payload(value)
            return {k: self._from_wire(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._from_wire(v) for v in value]
        return value

    def _merge_payload(self, payload: dict[str, Any]) -> Entity:
        cls = self.entity_class(payload["__entity_type__"])
        values: dict[str, Any] = {}
        for name, raw in payload.items():
            attribute = cls.attributes.get(name)
            if attribute is None:
                continue
            value = self._from_wire(raw)
            if attribute.kind in (COLLECTION, MAPPED) and value is None:
                value = []
            values[name] = value
        key = (cls.entity_type, tuple(str(values.get(name)) for name in cls.primary_key_attributes))
        entity = self._identity_map.get(key)
        if entity is None:
            entity = cls(self, values, reconstructing=True)
            self._identity_map[key] = entity
        else:
            entity._merge_remote(values)
        return entity

    # Requests ----------------------------------------------------------------------------
    def call(self, operations: list[dict[str, Any]]) -> list[Any]:
        """Send raw operations in one request; entity payloads in the answer become entities.

        Read-only batches (only query/query_server_information/query_schemas) are retried on a
        connection failure or a busy server; anything else is sent once.
        """
        self._check_open()
        retry = all(op.get("action") in READ_ACTIONS for op in operations)
        return [self._from_wire(result) for result in self.transport.call(operations, retry=retry)]

    def _check_open(self) -> None:
        if self._closed:
            raise exceptions.FtrackError("This session is closed; make a new one (or clone another).")

    def _query(self, expression: str) -> tuple[list[Entity], int | None]:
        self._check_open()
        result = self.transport.call([{"action": "query", "expression": expression}], retry=True)[0]
        if not isinstance(result, dict) or not isinstance(result.get("data"), list):
            raise exceptions.ServerResponseError(
                f"The server at {self.server_url} answered a query without a data list.",
                server_url=self.server_url)
        entities = [self._from_wire(item) for item in result["data"]]
        next_offset = ((result.get("metadata") or {}).get("next") or {}).get("offset")
        return entities, next_offset

    def query(self, expression: str, page_size: int = 500) -> QueryResult:
        """Entities matching ``expression``; nothing is fetched until the result is used."""
        return QueryResult(self, expression, page_size=page_size)

    def get(self, entity_type: str, entity_key: Any) -> Entity | None:
        """The entity of ``entity_type`` with primary key ``entity_key``, or ``None``.

        ``entity_key`` is the id, or for a composite key a list (in primary-key order) or a
        dict. An entity this session already holds is returned without a request.
        """
        cls = self.entity_class(entity_type)
        names = cls.primary_key_attributes
        if isinstance(entity_key, dict):
            values = [entity_key[name] for name in names]
        elif isinstance(entity_key, (list, tuple)):
            values = list(entity_key)
        else:
            values = [entity_key]
        if len(values) != len(names):
            raise ValueError(f"{entity_type} has primary key {names}; got {entity_key!r}")
        entity = self._identity_map.get((entity_type, tuple(str(v) for v in values)))
        if entity is not None:
            return entity
        criteria = " and ".join(f"{name} is {_quote(value)}" for name, value in zip(names, values))
        return self.query(f"select {', '.join(cls.default_projections)} from {entity_type} "
                          f"where {criteria}").first()

    def create(self, entity_type: str, data: dict[str, Any] | None = None) -> Entity:
        """A new entity, sent to the server by the next :meth:`commit`.

        Schema defaults are applied (``"{uid}"`` ids become new uuids) and ``data`` set.
        """
        self._check_open()
        cls = self.entity_class(entity_type)
        return cls(self, data or {})

    def delete(self, entity: Entity) -> None:
        """Delete ``entity`` on the next :meth:`commit`."""
        self._operations.append(("delete", entity))

    def populate(self, entities: Entity | Iterable[Entity], projections: str | Iterable[str]) -> None:
        """Fetch ``projections`` (e.g. ``'name, asset.name'``) for many entities at once.

        One query per entity type (and per ``POPULATE_BATCH`` entities), never one per entity.
        Entities not committed yet are skipped.
        """
        if not isinstance(projections, str):
            projections = ", ".join(projections)
        if isinstance(entities, Entity):
            entities = [entities]
        groups: dict[str, list[Entity]] = {}
        for entity in entities:
            if not entity._created:
                groups.setdefault(entity.entity_type, []).append(entity)
        for entity_type, group in groups.items():
            cls = self.entity_class(entity_type)
            names = cls.primary_key_attributes
            for start in range(0, len(group), POPULATE_BATCH):
                batch = group[start:start + POPULATE_BATCH]
                if len(names) == 1 and len(batch) == 1:
                    criteria = f"{names[0]} is {_quote(batch[0]._raw(names[0]))}"
                elif len(names) == 1:
                    ids = ", ".join(_quote(e._raw(names[0])) for e in batch)
                    criteria = f"{names[0]} in ({ids})"
                else:
                    criteria = " or ".join(
                        "(" + " and ".join(f"{n} is {_quote(e._raw(n))}" for n in names) + ")"
                        for e in batch)
                result = self.query(f"select {projections} from {entity_type} where {criteria}",
                                    page_size=max(len(batch), 1))
                result.all()

    def _projection(self, attribute) -> str:
        """What to select to fetch ``attribute``: a reference brings its default projections."""
        if attribute.kind == REFERENCE and attribute.entity_type in self._registry.classes:
            target = self._registry.classes[attribute.entity_type]
            return ", ".join(f"{attribute.name}.{p}" for p in target.default_projections)
        return attribute.name

    def _fetch_attribute(self, entity: Entity, attribute) -> None:
        self.populate([entity], self._projection(attribute))

    # Recording and committing ------------------------------------------------------------
    def _record_create(self, entity: Entity, values: dict[str, Any]) -> None:
        self._check_open()
        identity = entity.identity
        existing = self._identity_map.get(identity)
        if existing is not None and existing is not entity:
            raise exceptions.FtrackError(
                f"This session already has {existing!r}; a new entity needs another primary key.")
        self._identity_map[identity] = entity
        self._operations.append(("create", entity, dict(values)))

    def _check_free_identity(self, entity: Entity, identity: tuple) -> None:
        existing = self._identity_map.get(identity)
        if existing is not None and existing is not entity:
            raise exceptions.FtrackError(
                f"This session already has {existing!r}; choose another primary key.")

    def _rekey(self, entity: Entity, old_identity: tuple) -> None:
        """Keep the identity map right when a new entity's primary key is changed."""
        if self._identity_map.get(old_identity) is entity:
            del self._identity_map[old_identity]
            self._identity_map[entity.identity] = entity

    def _record_update(self, entity: Entity, name: str, value: Any) -> None:
        operations = self._operations
        key = (id(entity), name)
        previous = self._last_update.get(key)
        if previous is not None:
            # The earlier value of this attribute will not be sent unless it directly follows a
            # create/update of the same entity (then it is folded in there). Forget the others
            # now, so that N appends to a collection hold one list, not N growing copies.
            before = operations[previous - 1] if previous > 0 else None
            if not (before is not None and before[1] is entity and before[0] in ("create", "update")):
                operations[previous] = ("update", entity, name, _SUPERSEDED)
        self._last_update[key] = len(operations)
        operations.append(("update", entity, name, value))

    def _take_operations(self) -> list[tuple]:
        operations, self._operations = self._operations, []
        self._last_update = {}
        return operations

    @property
    def pending_operations(self) -> int:
        """How many create/update/delete records wait for :meth:`commit`."""
        return len(self._operations)

    def _payloads(self) -> tuple[list[dict[str, Any]], list[tuple]]:
        operations = self._operations
        created = {id(op[1]) for op in operations if op[0] == "create"}
        deleted = {id(op[1]) for op in operations if op[0] == "delete"}
        dropped = created & deleted
        last_update: dict[tuple[int, str], int] = {}
        for index, op in enumerate(operations):
            if op[0] == "update":
                last_update[(id(op[1]), op[2])] = index
        built: list[list] = []  # [action, entity, data]
        for index, op in enumerate(operations):
            action, entity = op[0], op[1]
            if id(entity) in dropped:
                continue
            if action == "create":
                data = {k: v for k, v in op[2].items() if v is not NOT_SET}
                data.update(entity.primary_key)
                built.append(["create", entity, data])
            elif action == "update":
                name, value = op[2], op[3]
                if id(entity) in deleted:
                    continue  # deleted later in this batch: its edits do not matter
                follows = bool(built) and built[-1][1] is entity and built[-1][0] in ("create", "update")
                if last_update[(id(entity), name)] != index:
                    # Superseded; kept only inside the payload it directly follows, so that a
                    # create still carries every value it was given (the last one comes later).
                    if follows and value is not NOT_SET and value is not _SUPERSEDED:
                        built[-1][2][name] = value
                    continue
                if value is NOT_SET:
                    # The edit was undone: nothing to send, and a pending create forgets it too.
                    for item in built:
                        if item[1] is entity and item[0] == "create" and name not in entity.primary_key_attributes:
                            item[2].pop(name, None)
                    continue
                if follows:
                    built[-1][2][name] = value
                else:
                    built.append(["update", entity, {name: value}])
            elif action == "delete":
                built.append(["delete", entity, None])
        payloads = []
        for action, entity, data in built:
            key = [str(entity._raw(n)) for n in entity.primary_key_attributes]
            if action == "delete":
                payloads.append({"action": "delete", "entity_type": entity.entity_type, "entity_key": key})
                continue
            if action == "update" and not data:
                continue
            payloads.append({"action": action, "entity_type": entity.entity_type, "entity_key": key,
                             "entity_data": {"__entity_type__": entity.entity_type, **data}})
        return payloads, [op for op in operations if id(op[1]) in dropped]

    def commit(self, *, before: list[dict[str, Any]] | None = None) -> list[Any]:
        """Send every pending create, update and delete in one request, in order.

        ``before``: raw operations sent first in the same request (``complete_multipart_upload``
        must succeed or fail with the ComponentLocation it goes with); their results are dropped.

        Redundant updates are dropped (only the last value of an attribute is sent; an entity
        created and deleted in the same batch is not sent at all). On failure nothing is
        changed locally and the edits stay pending: fix the cause and commit again, or
        :meth:`rollback`. A commit is never re-sent automatically.
        """
        self._check_open()
        if not self._operations:
            return []
        payloads, dropped_ops = self._payloads()
        before = list(before or [])
        results = self.transport.call(before + payloads, retry=False)[len(before):] if payloads else []
        operations = self._take_operations()
        touched: dict[int, Entity] = {}
        removed: dict[int, Entity] = {}
        for op in operations:
            touched[id(op[1])] = op[1]
            if op[0] == "delete":
                removed[id(op[1])] = op[1]
        for op in dropped_ops:
            removed[id(op[1])] = op[1]
        for entity in touched.values():
            if id(entity) in removed:
                continue
            entity._remote.update(entity._local)
            entity._local.clear()
            entity._created = False
        for entity in removed.values():
            if self._identity_map.get(entity.identity) is entity:
                del self._identity_map[entity.identity]
            entity._local.clear()
        decoded = []
        for result in results:
            if isinstance(result, dict) and isinstance(result.get("data"), dict):
                result = dict(result, data=self._from_wire(result["data"]))
            decoded.append(result)
        return decoded

    def rollback(self) -> None:
        """Forget every pending edit: new entities leave the session, edits are reverted."""
        operations = self._take_operations()
        for op in operations:
            entity = op[1]
            if op[0] == "create" and self._identity_map.get(entity.identity) is entity:
                del self._identity_map[entity.identity]
        for op in operations:
            op[1]._local.clear()

    def reset(self) -> None:
        """Forget pending edits and every entity held; later reads fetch fresh values.

        Entity objects obtained before stay usable but are no longer the session's own: get
        them again to have one object per entity.
        """
        self.rollback()
        self._identity_map.clear()

    def merge(self, value: Any, merged: dict | None = None) -> Any:
        """``value`` with entities (possibly from another session) mapped to this session's."""
        return self._merge_value(value, {} if merged is None else merged)

    def _merge_value(self, value: Any, merged: dict) -> Any:
        if isinstance(value, Entity):
            if value.session is self:
                return value
            if id(value) in merged:
                return merged[id(value)]
            existing = self._identity_map.get(value.identity)
            if existing is None:
                cls = self.entity_class(value.entity_type)
                existing = cls(self, {n: value._raw(n) for n in value.primary_key_attributes},
                               reconstructing=True)
                self._identity_map[existing.identity] = existing
            merged[id(value)] = existing
            existing.merge(value, merged)
            return existing
        if isinstance(value, (Collection, MappedCollection)):
            value = value._items()
        if isinstance(value, (list, tuple)):
            return [self._merge_value(v, merged) for v in value]
        return value

    # Threads and lifetime ----------------------------------------------------------------
    def clone(self) -> "Session":
        """A new session on the same server and schemas, for another thread (no request)."""
        return Session(self.server_url, self.api_user, self.api_key, timeout=self.timeout,
                       schema_cache_path=self.schema_cache_path or False,
                       _shared=(self.server_information, self._registry))

    def close(self) -> None:
        """Close the connections. Pending edits are dropped. Safe to call more than once."""
        if not self._closed:
            self._closed = True
            self.transport.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Components, locations, encoding (implemented in publisher.api.components) -------------
    def create_component(self, path: str, data: dict[str, Any] | None = None, location: Any = "auto", *,
                         progress=None, cancel=None) -> Entity:
        """A component from a file path or a sequence string, optionally added to ``location``."""
        from publisher.api import components
        return components.create_component(self, path, data, location, progress=progress, cancel=cancel)

    def encode_media(self, media: Any, version_id: str | None = None, keep_original: Any = "auto") -> Entity:
        """Ask the server to encode ``media`` (a path or a FileComponent); returns the Job."""
        from publisher.api import components
        return components.encode_media(self, media, version_id, keep_original)

    def pick_location(self, component: Entity | None = None) -> Entity | None:
        """The location ``create_component(location='auto')`` uses."""
        from publisher.api import components
        return components.pick_location(self, component)

    def get_component_availability(self, component: Entity, locations: list[Entity] | None = None) -> dict[str, float]:
        """Location id -> percentage of ``component`` present there."""
        from publisher.api import components
        return components.get_component_availability(self, component, locations)

    def get_component_availabilities(self, components_: list[Entity], locations: list[Entity] | None = None) -> list[dict[str, float]]:
        """:meth:`get_component_availability` for many components at once."""
        from publisher.api import components
        return components.get_component_availabilities(self, components_, locations)

    def get_location(self, name: str) -> Entity | None:
        """The Location called ``name`` (for example ``'ftrack.server'``)."""
        from publisher.api import components
        return components.get_location(self, name)

    def get_upload_metadata(self, component_id: str, file_name: str, file_size: int, checksum: str) -> dict[str, Any]:
        """Where and how to PUT a file's data for ``component_id`` (``url`` and ``headers``)."""
        from publisher.api import components
        return components.get_upload_metadata(self, component_id, file_name, file_size, checksum)
