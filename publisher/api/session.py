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

from . import components, exceptions
from .accessor import AccessorRegistry
from .entity import Collection, Entity, MappedCollection
from .entity_factory import TypeRegistry, build_registry
from .identity_map import IdentityMap
from .operation import CreateEntityOperation, DeleteEntityOperation, Operations
from .query import QueryResult
from .quoting import quote, quote_list
from .schema import COLLECTION, MAPPED, REFERENCE, Attribute, default_cache_dir, read_cache, schema_hash, write_cache
from .symbol import NOT_SET
from .transport import Transport

log = logging.getLogger(__name__)

#: Actions that read only and may be re-sent after a connection failure or a busy server.
READ_ACTIONS = frozenset({"query", "query_server_information", "query_schemas"})

#: Entities per ``populate`` query (keeps expressions a sensible size).
POPULATE_BATCH = 250


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
        _shared: tuple[dict[str, Any], TypeRegistry, AccessorRegistry] | None = None,
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
        self._identity_map = IdentityMap()
        self._operations = Operations()
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
            #: Per-session bookkeeping of components: origin paths, cached Location rows.
            self.component_state = components.SessionState()
            if _shared is not None:
                self.server_information, self._registry, self.accessors = _shared
            else:
                #: Location name -> accessor configured in this session (shared with clones).
                self.accessors = AccessorRegistry()
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
    def types(self) -> dict[str, type[Entity]]:
        """Entity type name -> entity class."""
        return self._registry.classes

    def types_names(self) -> list[str]:
        return list(self._registry.classes)

    @property
    def closed(self) -> bool:
        return self._closed

    def entity_class(self, entity_type: str) -> type[Entity]:
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
            reference[name] = entity.state.value(name)
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
            entity.merge_remote(values)
        return entity

    # Requests ----------------------------------------------------------------------------
    def call(self, operations: list[dict[str, Any]]) -> list[Any]:
        """Send raw operations in one request; entity payloads in the answer become entities.

        Read-only batches (only query/query_server_information/query_schemas) are retried on a
        connection failure or a busy server; anything else is sent once.
        """
        self.check_open()
        retry = all(op.get("action") in READ_ACTIONS for op in operations)
        return [self._from_wire(result) for result in self.transport.call(operations, retry=retry)]

    def check_open(self) -> None:
        """Raise :class:`FtrackError` when the session is closed."""
        if self._closed:
            raise exceptions.FtrackError("This session is closed; make a new one (or clone another).")

    def _query(self, expression: str) -> tuple[list[Entity], int | None]:
        self.check_open()
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
        criteria = " and ".join(f"{name} is {quote(value)}" for name, value in zip(names, values))
        return self.query(f"select {', '.join(cls.default_projections)} from {entity_type} "
                          f"where {criteria}").first()

    def create(self, entity_type: str, data: dict[str, Any] | None = None) -> Entity:
        """A new entity, sent to the server by the next :meth:`commit`.

        Schema defaults are applied (``"{uid}"`` ids become new uuids) and ``data`` set.
        """
        self.check_open()
        cls = self.entity_class(entity_type)
        return cls(self, data or {})

    def delete(self, entity: Entity) -> None:
        """Delete ``entity`` on the next :meth:`commit`."""
        self._operations.push(DeleteEntityOperation(entity))

    def populate(self, entities: Entity | Iterable[Entity], projections: str | Iterable[str]) -> None:
        """Fetch ``projections`` (e.g. ``'name, asset.name'``) for many entities at once.

        One query per entity type (and per ``POPULATE_BATCH`` entities), never one per entity.
        Entities not committed yet are skipped.
        """
        if not isinstance(projections, str):
            projections = ", ".join(projections)
        listed: Iterable[Entity] = [entities] if isinstance(entities, Entity) else entities
        groups: dict[str, list[Entity]] = {}
        for entity in listed:
            if not entity.is_new:
                groups.setdefault(entity.entity_type, []).append(entity)
        for entity_type, group in groups.items():
            cls = self.entity_class(entity_type)
            names = cls.primary_key_attributes
            for start in range(0, len(group), POPULATE_BATCH):
                batch = group[start:start + POPULATE_BATCH]
                if len(names) == 1 and len(batch) == 1:
                    criteria = f"{names[0]} is {quote(batch[0].state.value(names[0]))}"
                elif len(names) == 1:
                    ids = quote_list(e.state.value(names[0]) for e in batch)
                    criteria = f"{names[0]} in ({ids})"
                else:
                    criteria = " or ".join(
                        "(" + " and ".join(f"{n} is {quote(e.state.value(n))}" for n in names) + ")"
                        for e in batch)
                result = self.query(f"select {projections} from {entity_type} where {criteria}",
                                    page_size=max(len(batch), 1))
                result.all()

    def projection(self, attribute: Attribute) -> str:
        """What to select to fetch ``attribute``: a reference brings its default projections."""
        if attribute.kind == REFERENCE and attribute.entity_type in self._registry.classes:
            target = self._registry.classes[attribute.entity_type]
            return ", ".join(f"{attribute.name}.{p}" for p in target.default_projections)
        return attribute.name

    # Recording and committing ------------------------------------------------------------
    @property
    def recorded_operations(self) -> Operations:
        """The creates, updates and deletes waiting for :meth:`commit`, in order."""
        return self._operations

    @property
    def identity_map(self) -> IdentityMap:
        """The entities this session holds, one object per (type, primary key)."""
        return self._identity_map

    @property
    def pending_operations(self) -> int:
        """How many create/update/delete records wait for :meth:`commit`."""
        return len(self._operations)

    def commit(self, *, before: list[dict[str, Any]] | None = None) -> list[Any]:
        """Send every pending create, update and delete in one request, in order.

        ``before``: raw operations sent first in the same request (``complete_multipart_upload``
        must succeed or fail with the ComponentLocation it goes with); their results are dropped.

        Redundant updates are dropped (only the last value of an attribute is sent; an entity
        created and deleted in the same batch is not sent at all). On failure nothing is
        changed locally and the edits stay pending: fix the cause and commit again, or
        :meth:`rollback`. A commit is never re-sent automatically.
        """
        self.check_open()
        if not self._operations:
            return []
        payloads = self._operations.payloads()
        before = list(before or [])
        results = self.transport.call(before + payloads, retry=False)[len(before):] if payloads else []
        self.mark_committed()
        decoded = []
        for result in results:
            if isinstance(result, dict) and isinstance(result.get("data"), dict):
                result = dict(result, data=self._from_wire(result["data"]))
            decoded.append(result)
        return decoded

    def mark_committed(self) -> None:
        """Take the pending edits as committed without sending them.

        For a commit whose answer was lost (:class:`~publisher.api.exceptions.CommitUnconfirmedError`)
        once the server is known to have applied it: the session then holds what the server
        holds. Use only after checking; a wrong call leaves the session believing in rows that
        do not exist.
        """
        touched: dict[int, Entity] = {}
        removed: dict[int, Entity] = {}
        for op in self._operations.take():
            touched[id(op.entity)] = op.entity
            if isinstance(op, DeleteEntityOperation):
                removed[id(op.entity)] = op.entity
        for entity in touched.values():
            if id(entity) not in removed:
                entity.state.committed()
        for entity in removed.values():
            self._identity_map.discard(entity)
            entity.state.discard_local()

    def rollback(self) -> None:
        """Forget every pending edit: new entities leave the session, edits are reverted."""
        operations = self._operations.take()
        for op in operations:
            if isinstance(op, CreateEntityOperation):
                self._identity_map.discard(op.entity)
        for op in operations:
            op.entity.state.discard_local()

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
                existing = cls(self, {n: value.state.value(n) for n in value.primary_key_attributes},
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
                       _shared=(self.server_information, self._registry, self.accessors))

    def close(self) -> None:
        """Close the connections. Pending edits are dropped. Safe to call more than once."""
        if not self._closed:
            self._closed = True
            self.transport.close()
            hub = self.__dict__.get("_event_hub")
            if hub is not None:
                hub.disconnect()

    @property
    def event_hub(self):
        """This session's :class:`publisher.api.event_hub.EventHub` (made on first use, not
        connected until its ``connect()``)."""
        hub = self.__dict__.get("_event_hub")
        if hub is None:
            from publisher.api.event_hub import EventHub

            hub = self.__dict__["_event_hub"] = EventHub(self.server_url, self.api_user, self.api_key)
        return hub

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Components, locations, encoding (implemented in publisher.api.components) -------------
    def create_component(self, path: str, data: dict[str, Any] | None = None, location: Any = "auto", *,
                         progress=None, cancel=None) -> Entity:
        """A component from a file path or a sequence string, optionally added to ``location``."""
        return components.create_component(self, path, data, location, progress=progress, cancel=cancel)

    def encode_media(self, media: Any, version_id: str | None = None, keep_original: Any = "auto") -> Entity:
        """Ask the server to encode ``media`` (a path or a FileComponent); returns the Job."""
        return components.encode_media(self, media, version_id, keep_original)

    def pick_location(self, component: Entity | None = None) -> Entity | None:
        """The location ``create_component(location='auto')`` uses."""
        return components.pick_location(self, component)

    def get_component_availability(self, component: Entity, locations: list[Entity] | None = None) -> dict[str, float]:
        """Location id -> percentage of ``component`` present there."""
        return components.get_component_availability(self, component, locations)

    def get_component_availabilities(self, components_: list[Entity], locations: list[Entity] | None = None) -> list[dict[str, float]]:
        """:meth:`get_component_availability` for many components at once."""
        return components.get_component_availabilities(self, components_, locations)

    def get_location(self, name: str) -> Entity | None:
        """The Location called ``name`` (for example ``'ftrack.server'``)."""
        return components.get_location(self, name)

    def get_upload_metadata(self, component_id: str, file_name: str, file_size: int, checksum: str) -> dict[str, Any]:
        """Where and how to PUT a file's data for ``component_id`` (``url`` and ``headers``)."""
        return components.get_upload_metadata(self, component_id, file_name, file_size, checksum)
