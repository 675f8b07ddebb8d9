"""The ``POST /api`` actions: a batch of operations applied in order in one transaction.

A batch either succeeds as a whole (one result per operation, in order) or fails at its first
bad operation and changes nothing. Work that must wait for the commit (starting an encode,
removing stored files) is queued as ``after_commit`` callbacks.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from publisher.server import auth, custom_attributes, widgets
from publisher.server.entities import (
    OBJECT_TYPE_IDS, SYSTEM_TYPES, VARIABLE_JSON_SUFFIX, Model, TypeModel, load_schemas,
)
from publisher.server.errors import AuthenticationError, IntegrityError, InvalidAction, NotFoundError, ValidationError
from publisher.server.files import ContentStore, check_component_id, check_file_name, parse_checksum
from publisher.server.multipart import MultipartUploads
from publisher.server.payloads import RequestContext, build, full_tree, projection_tree, validate_tree
from publisher.server.query_compiler import compile_expression
from publisher.server.storage import Storage, utcnow
from publisher.server.update_events import component_added_event, entry as update_entry, update_events
from publisher.server.values import store_variable, to_column

SERVER_VERSION = "4.13.8"
SERVER_LOCATION_ID = "3a372bde-05bc-11e4-8908-20c9d081909b"
DEFAULT_PRIORITY_ID = "9661b320-3a0c-11e2-81c1-0800200c9a66"
#: Version and task status a new entity gets when the client names none ("Not started").
DEFAULT_STATUS_ID = "44dd9fb2-4164-11df-9218-0019bb4983d8"
BUILTIN_LOCATION_IDS = {
    "ce9b348f-8809-11e3-821c-20c9d081909b", "cb268ecc-8809-11e3-a7e2-20c9d081909b",
    "cd41be70-8809-11e3-b98a-20c9d081909b", SERVER_LOCATION_ID,
}
JOB_STATUSES = ("queued", "running", "done", "failed")
#: Hours an upload URL stays valid (a restart ends it sooner; an upload uses it up).
UPLOAD_GRANT_HOURS = 24
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Matches from which a sorted page is read along the sort index instead of sorting them all.
MANY_MATCHES = 2000
#: server_meta key naming the user the server was started for (it prints that user's key); it
#: administers the server's users, as an ftrack administrator does.
OWNER_META_KEY = "owner_user_id"
READ_ONLY_ACTIONS = {"query_server_information", "query_schemas", "query", "get_widget_url"}

_VALUES = ("custom_attribute_value", "entity_id")
#: Rows that go with a deleted row: table -> [(child table, column pointing at the parent id)].
CASCADE = {
    "component": [("component", "container_id"), ("component_location", "component_id"),
                  ("job_component", "component_id"), ("metadata", "parent_id")],
    "asset_version": [("component", "version_id"), ("metadata", "parent_id"), ("note", "parent_id"), _VALUES],
    "asset": [("asset_version", "asset_id"), ("metadata", "parent_id"), _VALUES],
    "context": [("context", "parent_id"), ("asset", "context_id"), ("metadata", "parent_id"), ("note", "parent_id"),
                ("timer", "context_id"), ("timelog", "context_id"), ("appointment", "context_id"),
                ("context_scope", "context_id"), ("list", "project_id"), _VALUES],
    "job": [("job_component", "job_id")],
    "note": [("note", "in_reply_to_id"), ("metadata", "parent_id"), ("recipient", "note_id")],
    "users": [("metadata", "parent_id"), ("api_key", "user_id"), ("timer", "user_id"), ("timelog", "user_id"),
              ("appointment", "resource_id"), ("recipient", "resource_id"), _VALUES],
    "custom_attribute_configuration": [("custom_attribute_value", "configuration_id")],
    "scope": [("context_scope", "scope_id")],
    "list": [_VALUES],
}
#: Tables whose rows have no ``id`` of their own (deleted by their parent's id, never recursed into).
_NO_ID_TABLES = {"metadata", "custom_attribute_value", "context_scope", "recipient"}


def schema_hash(schemas: list[dict]) -> str:
    """The hash the stock client compares with its schema cache (its own recipe)."""
    return hashlib.md5(json.dumps(schemas, sort_keys=True).encode()).hexdigest()


@dataclass
class Batch:
    """State of one batch being applied."""

    ctx: RequestContext
    user: dict
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    #: ``ftrack.update`` entries of this batch's changes (built only when a hub listens).
    updates: list[dict] = field(default_factory=list)
    #: Parent rows read for those entries (a sequence's frames share theirs).
    parent_rows: dict = field(default_factory=dict)
    #: Undo of what an action did outside the database (a completed upload's file moved into
    #: the store) when the batch fails after it.
    after_rollback: list[Callable[[], None]] = field(default_factory=list)


class Api:
    """Applies operation batches to one data folder."""

    def __init__(self, storage: Storage, store: ContentStore, jobs=None) -> None:
        self.storage = storage
        self.model: Model = storage.model
        self.store = store
        self.jobs = jobs
        self.schemas = load_schemas()
        self.schema_hash = schema_hash(self.schemas)
        self.sorted_columns = storage.leading_index_columns()
        self.uploads = MultipartUploads(store.root / "uploads", storage.connection())
        #: False: answer every upload with the single-part shape, as servers without multipart do.
        self.multipart = True
        #: Told ``(user id, key)`` when a user's key is reset (the server keeps the demo key).
        self.on_key_set: Callable[[str, str], None] | None = None
        #: Where committed changes are announced (the event hub's thread-safe ``publish``);
        #: None: no hub, no entries are built.
        self.events: Callable[[dict], None] | None = None

    # Batch -------------------------------------------------------------------------------
    def handle(self, operations: Any, headers_user: Any, headers_key: Any, base_url: str,
               user: dict | None = None) -> list:
        """Authenticate (unless ``user``, already authenticated, is given), apply ``operations``
        in one transaction and return their results."""
        if not isinstance(operations, list):
            raise ValidationError("The request body must be a JSON list of operations.")
        for i, op in enumerate(operations):
            if not isinstance(op, dict) or not isinstance(op.get("action"), str):
                raise ValidationError(f"Operation {i + 1} must be an object with an 'action' name.")
        conn = self.storage.connection()
        user = user or auth.authenticate(conn, headers_user, headers_key)
        write = any(op["action"] not in READ_ONLY_ACTIONS for op in operations)
        ctx = RequestContext(conn, self.model, base_url, user["username"], headers_key, user["id"])
        batch = Batch(ctx, user)
        results = []
        try:
            with self.storage.transaction(write=write):
                for i, op in enumerate(operations):
                    handler = getattr(self, "do_" + op["action"], None)
                    if handler is None:
                        raise InvalidAction(op["action"])
                    try:
                        results.append(handler(batch, op))
                    except sqlite3.IntegrityError as exc:
                        raise IntegrityError(f"Operation {i + 1} ({op['action']}) breaks a rule of the database: {exc}.") from None
                    except (ValidationError, NotFoundError, IntegrityError) as exc:
                        if len(operations) > 1:
                            exc.content = f"Operation {i + 1} ({op['action']}) failed, nothing was changed: {exc.content}"
                        raise
        except BaseException:
            for undo in reversed(batch.after_rollback):
                undo()
            raise
        if batch.updates and self.events is not None:
            for event in update_events(batch.updates, user):
                self.events(event)
        for callback in batch.after_commit:
            callback()
        return results

    def _announce(self, batch: Batch, table: str, action: str, before: dict | None, after: dict | None) -> None:
        """Record the ``ftrack.update`` entry of one change, when a hub listens."""
        if self.events is None:
            return
        item = update_entry(batch.ctx.conn, table, action, before, after, batch.parent_rows)
        if item is not None:
            batch.updates.append(item)

    # Read actions ------------------------------------------------------------------------
    def do_query_server_information(self, batch: Batch, op: dict) -> dict:
        return {
            "version": SERVER_VERSION,
            "schema_hash": self.schema_hash,
            "storage_scenario": {"scenario": "ftrack.automatic", "data": {}},
            "is_timezone_support_enabled": True,
        }

    def do_query_schemas(self, batch: Batch, op: dict) -> list:
        return self.schemas

    def do_query(self, batch: Batch, op: dict) -> dict:
        expression = op.get("expression")
        compiled, query = compile_expression(self.model, expression)
        tm = compiled.type_model
        tree = projection_tree(query.projections or list(tm.schema.get("default_projections", ["id"])))
        validate_tree(self.model, tm, tree)
        if self._many_matches(batch, compiled, query):
            compiled, query = compile_expression(self.model, expression, ordered_scan=True)
        sql, params = compiled.sql()
        rows = [dict(r) for r in batch.ctx.conn.execute(sql, params)]
        next_offset = None
        if compiled.limit is not None and len(rows) > compiled.limit:
            rows = rows[: compiled.limit]
            next_offset = compiled.offset + compiled.limit
        return {"action": "query", "data": build(batch.ctx, tm, rows, tree), "metadata": {"next": {"offset": next_offset}}}

    def _many_matches(self, batch: Batch, compiled, query) -> bool:
        """Whether a page is better read along the order it is sorted by, stopping at its end.

        SQLite guesses that an indexed condition matches few rows, so it collects every match
        and sorts them; for a page of the newest of 100,000 versions (or a deep ``offset``) it is
        far faster to walk the sort index (or the table, for the default order) and stop at the
        end of the page. A capped count of the matches tells which case this is: the walk wins
        when at least one row in fifty of the table matches.
        """
        if compiled.limit is None or query.where is None:
            return False
        if query.order_by:
            first = query.order_by[0][0]
            if "." in first or (compiled.type_model.table, first) not in self.sorted_columns:
                return False
        table = compiled.type_model.table
        (approx_rows,) = batch.ctx.conn.execute(f'SELECT COALESCE(MAX(rowid), 0) FROM "{table}"').fetchone()
        threshold = max(MANY_MATCHES, approx_rows // 50)
        sql, params = compiled.probe(threshold)
        return batch.ctx.conn.execute(sql, params).fetchone()[0] >= threshold

    # Write actions -----------------------------------------------------------------------
    def _type(self, op: dict) -> TypeModel:
        tm = self.model.get(op.get("entity_type"))
        if tm is None:
            raise ValidationError(f"Unknown entity type '{op.get('entity_type')}'. Check the spelling against query_schemas.")
        return tm

    def _key(self, tm: TypeModel, op: dict) -> dict:
        key = op.get("entity_key")
        if isinstance(key, (str, int)):
            key = [key]
        if not isinstance(key, list) or len(key) != len(tm.primary_key):
            raise ValidationError(f"entity_key must list the {len(tm.primary_key)} primary key value(s) of {tm.name}: {', '.join(tm.primary_key)}.")
        return {k: str(v) for k, v in zip(tm.primary_key, key)}

    def _find(self, conn: sqlite3.Connection, tm: TypeModel, key: dict) -> dict:
        where = " AND ".join(f'"{k}" = ?' for k in key)
        row = conn.execute(f'SELECT * FROM "{tm.table}" WHERE {where}', list(key.values())).fetchone()
        if row is None or self.model.concrete_type(tm, dict(row)) not in tm.concrete:
            shown = ", ".join(key.values())
            raise NotFoundError(f"There is no {tm.name} with key {shown}.")
        return dict(row)

    def _ref_value(self, conn: sqlite3.Connection, target_name: str, value: Any, attr: str) -> str | None:
        """The id a reference attribute points at, checked to exist."""
        if value is None:
            return None
        if isinstance(value, dict):
            value = value.get("id")
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ValidationError(f"'{attr}' must be a reference with an id or an id string.")
        value = str(value)
        target = self.model.types[target_name]
        row = conn.execute(f'SELECT * FROM "{target.table}" WHERE "id" = ?', (value,)).fetchone()
        if row is None or self.model.concrete_type(target, dict(row)) not in target.concrete:
            raise NotFoundError(f"'{attr}' refers to {target_name} {value}, which does not exist.")
        return value

    def _apply(self, batch: Batch, tm: TypeModel, data: Any, row: dict, creating: bool) -> dict[str, Any]:
        """Copy ``data`` (entity_data) onto ``row``; returns collection updates to make after."""
        conn = batch.ctx.conn
        if not isinstance(data, dict):
            raise ValidationError("entity_data must be an object of attribute values.")
        declared = data.get("__entity_type__")
        if declared is not None and declared != tm.name and declared not in tm.concrete:
            raise ValidationError(f"entity_data says {declared} but the operation is for {tm.name}.")
        fk_relations = {rel.local: rel for rel in tm.relations.values() if rel.kind == "ref"}
        collections: dict[str, Any] = {}
        for attr, value in data.items():
            if attr == "__entity_type__":
                continue
            if attr not in tm.attributes:
                raise ValidationError(f"'{tm.name}' has no attribute '{attr}'.")
            if attr in tm.primary_key and not creating:
                if str(value) != str(row.get(attr)):
                    raise ValidationError(f"'{attr}' of {tm.name} cannot be changed.")
                continue
            if attr in tm.scalars and tm.scalars[attr] == "variable":
                store_variable(row, attr, value, VARIABLE_JSON_SUFFIX)
            elif attr in tm.scalars:
                stored = to_column(tm.scalars[attr], value, attr)
                if attr in fk_relations and stored is not None:
                    stored = self._ref_value(conn, fk_relations[attr].target, stored, attr)
                row[attr] = stored
            elif attr in tm.relations:
                rel = tm.relations[attr]
                if rel.kind == "ref":
                    row[rel.local] = self._ref_value(conn, rel.target, value, attr)
                elif rel.kind in ("coll", "link"):
                    if not isinstance(value, list):
                        raise ValidationError(f"'{attr}' is a collection and takes a list of references.")
                    collections[attr] = value
                else:
                    raise ValidationError(f"'{attr}' of {tm.name} is computed by the server and cannot be set.")
            else:
                raise ValidationError(f"'{attr}' of {tm.name} is computed by the server and cannot be set.")
        return collections

    def _set_collection(self, batch: Batch, tm: TypeModel, row: dict, attr: str, refs: list) -> None:
        """Make the listed entities members of the collection (set membership)."""
        conn = batch.ctx.conn
        rel = tm.relations[attr]
        target = self.model.types[rel.target]
        if rel.kind == "link":
            self._set_links(conn, rel, target, row, attr, refs)
            return
        ids = []
        for ref in refs:
            if not isinstance(ref, dict):
                raise ValidationError(f"'{attr}' must be a list of entity references.")
            key = {k: ref.get(k) for k in target.primary_key}
            if any(v is None for v in key.values()):
                raise ValidationError(f"A reference in '{attr}' lacks its key {', '.join(target.primary_key)}.")
            found = self._find(conn, target, {k: str(v) for k, v in key.items()})
            if found.get(rel.remote) != row[rel.local]:
                where = " AND ".join(f'"{k}" = ?' for k in key)
                conn.execute(f'UPDATE "{target.table}" SET "{rel.remote}" = ? WHERE {where}',
                             [row[rel.local], *[str(v) for v in key.values()]])
            if "id" in key:
                ids.append(str(key["id"]))
        if attr in ("members", "children"):
            # Members left out of the new list leave the container.
            marks = ", ".join("?" * len(ids))
            sql = f'UPDATE "{target.table}" SET "{rel.remote}" = NULL WHERE "{rel.remote}" = ?'
            if ids:
                sql += f' AND "id" NOT IN ({marks})'
            conn.execute(sql, [row[rel.local], *ids])

    def _set_links(self, conn: sqlite3.Connection, rel: Any, target: TypeModel, row: dict, attr: str,
                   refs: list) -> None:
        """A many-to-many collection becomes exactly the listed entities."""
        table, own, member = rel.via
        ids = []
        for ref in refs:
            if not isinstance(ref, dict) or ref.get("id") is None:
                raise ValidationError(f"'{attr}' must be a list of entity references with ids.")
            ids.append(str(self._find(conn, target, {"id": str(ref["id"])})["id"]))
        conn.execute(f'DELETE FROM "{table}" WHERE "{own}" = ?', (row[rel.local],))
        conn.executemany(f'INSERT OR IGNORE INTO "{table}" ("{own}", "{member}") VALUES (?, ?)',
                         [(row[rel.local], i) for i in ids])

    def _result(self, batch: Batch, action: str, tm: TypeModel, key: dict, data: Any = None) -> dict:
        row = self._find(batch.ctx.conn, tm, key)
        concrete = self.model.types[self.model.concrete_type(tm, row)]
        tree = full_tree(concrete)
        # References and collections the operation set come back too, so that a client holding
        # their old value (from an earlier answer) takes the new one.
        for attr in data if isinstance(data, dict) else ():
            rel = concrete.relations.get(attr)
            if rel is not None and rel.kind in ("ref", "coll", "link"):
                tree[attr] = {}
        payload = build(batch.ctx, concrete, [row], tree)[0]
        # As ftrack does, attributes without a value are left out: a client keeps them unset
        # and fetches them when asked (the stock client's populate relies on that).
        keep = set(concrete.primary_key) | {"__entity_type__"}
        payload = {k: v for k, v in payload.items() if v is not None or k in keep}
        return {"action": action, "data": payload}

    def do_create(self, batch: Batch, op: dict) -> dict:
        tm = self._type(op)
        if tm.is_abstract and tm.name not in ("ContainerComponent", "Component"):
            raise ValidationError(f"{tm.name} is abstract; create one of {', '.join(tm.concrete)}.")
        data = op.get("entity_data")
        if data is None:
            data = {}
        row: dict[str, Any] = {}
        collections = self._apply(batch, tm, data, row, creating=True)
        key = op.get("entity_key")
        if tm.primary_key == ["id"]:
            if row.get("id") is None:
                row["id"] = str(key[0]) if isinstance(key, list) and len(key) == 1 else str(uuid.uuid4())
            if not ID_RE.match(row["id"]):
                raise ValidationError(f"The id '{row['id'][:80]}' is not valid: use a UUID.")
            if batch.ctx.conn.execute(f'SELECT 1 FROM "{tm.table}" WHERE "id" = ?', (row["id"],)).fetchone():
                raise IntegrityError(f"A {tm.name} with id {row['id']} already exists.")
        self._defaults(batch, tm, row)
        for name in tm.primary_key:
            if row.get(name) in (None, ""):
                raise ValidationError(f"A new {tm.name} needs '{name}'.")
        if tm.name == "Metadata":
            batch.ctx.conn.execute('DELETE FROM "metadata" WHERE "parent_id" = ? AND "key" = ?', (row["parent_id"], row["key"]))
        if tm.name == "Recipient":
            batch.ctx.conn.execute('DELETE FROM "recipient" WHERE "note_id" = ? AND "resource_id" = ?',
                                   (row["note_id"], row["resource_id"]))
        if tm.table == "custom_attribute_value":
            # Every entity already holds a (default) value per configuration: a create sets it.
            custom_attributes.on_value_written(batch.ctx.conn, row)
            batch.ctx.conn.execute('DELETE FROM "custom_attribute_value" WHERE "configuration_id" = ? AND "entity_id" = ?',
                                   (row["configuration_id"], row["entity_id"]))
        self.storage.insert(batch.ctx.conn, tm.table, row)
        if tm.name == "Note":
            # As ftrack does, the author of a note is one of its recipients.
            batch.ctx.conn.execute('INSERT OR IGNORE INTO "recipient" ("note_id", "resource_id") VALUES (?, ?)',
                                   (row["id"], row.get("user_id") or batch.user["id"]))
        if tm.name == "CustomAttributeConfiguration":
            custom_attributes.on_configuration_created(batch.ctx.conn, row)
        else:
            custom_attributes.on_entity_created(batch.ctx.conn, tm.table, row)
        for attr, refs in collections.items():
            self._set_collection(batch, tm, row, attr, refs)
        self._announce(batch, tm.table, "add", None, row)
        return self._result(batch, "create", tm, {k: row[k] for k in tm.primary_key}, data)

    def do_update(self, batch: Batch, op: dict) -> dict:
        tm = self._type(op)
        key = self._key(tm, op)
        row = self._find(batch.ctx.conn, tm, key)
        concrete = self.model.types[self.model.concrete_type(tm, row)]
        before = dict(row)
        collections = self._apply(batch, concrete, op.get("entity_data") or {}, row, creating=False)
        self._validate(concrete, row)
        if concrete.name == "User":
            _check_user_update(batch, before, row)
        changed = [c for c in row if row[c] != before.get(c)]
        if changed:
            where = " AND ".join(f'"{k}" = ?' for k in key)
            sets = ", ".join(f'"{c}" = ?' for c in changed)
            batch.ctx.conn.execute(f'UPDATE "{tm.table}" SET {sets} WHERE {where}', [row[c] for c in changed] + list(key.values()))
        for attr, refs in collections.items():
            self._set_collection(batch, concrete, row, attr, refs)
        if changed:
            self._announce(batch, tm.table, "update", before, row)
        return self._result(batch, "update", tm, key, op.get("entity_data"))

    def do_delete(self, batch: Batch, op: dict) -> dict:
        tm = self._type(op)
        key = self._key(tm, op)
        doomed = self._find(batch.ctx.conn, tm, key)
        self._announce(batch, tm.table, "remove", doomed, None)
        if tm.name == "Location" and key["id"] in BUILTIN_LOCATION_IDS:
            raise ValidationError(f"Location {key['id']} is built in and cannot be deleted.")
        if tm.name == "User" and key["id"] == batch.user["id"]:
            raise ValidationError("You cannot delete the user you are logged in as.")
        removed: list[str] = []
        if tm.primary_key == ["id"]:
            self._delete_tree(batch.ctx.conn, tm.table, key["id"], removed)
        aborted = [u for c in removed if _is_uuid(c) for u in self.uploads.abort_component(batch.ctx.conn, c)]
        if aborted:
            batch.after_commit.append(lambda: self.uploads.delete_data(aborted))
        else:
            where = " AND ".join(f'"{k}" = ?' for k in key)
            batch.ctx.conn.execute(f'DELETE FROM "{tm.table}" WHERE {where}', list(key.values()))
        if removed:
            batch.after_commit.append(lambda: [self.store.remove(c) for c in removed if _is_uuid(c)])
        return {"action": "delete", "data": True}

    def _delete_tree(self, conn: sqlite3.Connection, table: str, row_id: str, removed: list[str]) -> None:
        for child_table, column in CASCADE.get(table, []):
            if child_table in CASCADE and child_table not in _NO_ID_TABLES:
                for (child_id,) in conn.execute(f'SELECT "id" FROM "{child_table}" WHERE "{column}" = ?', (row_id,)).fetchall():
                    self._delete_tree(conn, child_table, child_id, removed)
            else:
                conn.execute(f'DELETE FROM "{child_table}" WHERE "{column}" = ?', (row_id,))
        conn.execute(f'DELETE FROM "{table}" WHERE "id" = ?', (row_id,))
        if table == "component":
            removed.append(row_id)
            conn.execute('DELETE FROM "upload" WHERE "component_id" = ?', (row_id,))

    # Defaults ----------------------------------------------------------------------------
    def _defaults(self, batch: Batch, tm: TypeModel, row: dict) -> None:
        conn = batch.ctx.conn
        now = utcnow()
        for attr, prop in tm.schema["properties"].items():
            if attr in tm.scalars and row.get(attr) is None and "default" in prop and prop["default"] != "{uid}":
                if tm.scalars[attr] == "variable":
                    store_variable(row, attr, prop["default"], VARIABLE_JSON_SUFFIX)
                else:
                    row[attr] = to_column(tm.scalars[attr], prop["default"], attr)
        name = tm.name
        if tm.table == "context":
            row["entity_type"] = name
            row.setdefault("created_at", now)
            row.setdefault("created_by_id", batch.user["id"])
            if name == "Project":
                row["context_type"] = "show"
                row["project_id"] = row["id"]
                row.setdefault("full_name", row.get("name"))
                if row.get("status") is None:
                    row["status"] = "active"
                if row.get("project_schema_id") is None:
                    first = conn.execute('SELECT "id" FROM "project_schema" ORDER BY rowid LIMIT 1').fetchone()
                    row["project_schema_id"] = first[0] if first else None
            else:
                row["context_type"] = "task"
                row["object_type_id"] = row.get("object_type_id") or OBJECT_TYPE_IDS[name]
                row["priority_id"] = row.get("priority_id") or DEFAULT_PRIORITY_ID
                if row.get("parent_id") is None:
                    raise ValidationError(f"A new {name} needs a parent (a project or another context).")
                parent = conn.execute('SELECT "project_id" FROM "context" WHERE "id" = ?', (row["parent_id"],)).fetchone()
                row["project_id"] = parent[0] if parent else None
                if row.get("status_id") is None:
                    row["status_id"] = DEFAULT_STATUS_ID
        elif tm.table == "component":
            row["entity_type"] = name
            row["system_type"] = SYSTEM_TYPES[name]
        elif tm.table == "list":
            row["entity_type"] = name
            _fill_missing(row, date=now, user_id=batch.user["id"], is_open=1)
            if row.get("project_id") is None:
                raise ValidationError(f"A new {name} needs a project (project_id).")
        elif name == "AssetVersion":
            if row.get("asset_id") is None:
                raise ValidationError("A new AssetVersion needs an asset.")
            if row.get("version") is None:
                (top,) = conn.execute('SELECT MAX("version") FROM "asset_version" WHERE "asset_id" = ?', (row["asset_id"],)).fetchone()
                row["version"] = (top or 0) + 1
            _fill_missing(row, date=now, user_id=batch.user["id"], status_id=DEFAULT_STATUS_ID)
            asset = conn.execute('SELECT "project_id" FROM "asset" WHERE "id" = ?', (row["asset_id"],)).fetchone()
            row["project_id"] = asset[0] if asset else None
        elif name == "Asset":
            if row.get("context_id") is None:
                raise ValidationError("A new Asset needs a parent context.")
            ctx_row = conn.execute('SELECT "project_id" FROM "context" WHERE "id" = ?', (row["context_id"],)).fetchone()
            row["project_id"] = ctx_row[0] if ctx_row else None
        elif name == "Job":
            _fill_missing(row, created_at=now, user_id=batch.user["id"])
        elif name == "Note":
            _fill_missing(row, date=now, user_id=batch.user["id"])
        elif name == "ComponentLocation":
            if row.get("component_id") is None or row.get("location_id") is None:
                raise ValidationError("A new ComponentLocation needs a component and a location.")
            if conn.execute('SELECT 1 FROM "component_location" WHERE "component_id" = ? AND "location_id" = ?',
                            (row["component_id"], row["location_id"])).fetchone():
                raise IntegrityError(f"Component {row['component_id']} is already in location {row['location_id']}.")
        elif name == "User":
            # As ftrack does, a user created without a name gets one (it can be renamed later).
            _fill_missing(row, username=f"user-{row['id']}", is_active=1, resource_type="user")
        elif name == "Timer":
            _fill_missing(row, start=now, user_id=batch.user["id"], comment="")
            if conn.execute('SELECT 1 FROM "timer" WHERE "user_id" = ?', (row["user_id"],)).fetchone():
                # The exception name is what ftrack answers with and what the stock client looks for.
                raise IntegrityError(
                    f"DuplicateEntryError: user {row['user_id']} already has a running timer; stop it first.")
        elif name == "Timelog":
            _fill_missing(row, start=now, user_id=batch.user["id"], comment="", duration=0)
        elif name == "CustomAttributeConfiguration":
            for attr in ("key", "entity_type"):
                if not row.get(attr):
                    raise ValidationError(f"A new CustomAttributeConfiguration needs '{attr}'.")
            _fill_missing(row, label=row["key"], config="{}")
        self._validate(tm, row)

    def _validate(self, tm: TypeModel, row: dict) -> None:
        """Rules a row must keep after every create and update."""
        if tm.table == "component":
            for attr in ("name", "file_type"):
                value = row.get(attr)
                if isinstance(value, str) and ("/" in value or "\\" in value or ".." in value or "\x00" in value):
                    raise ValidationError(
                        f"The component {attr} '{value[:80]}' must not contain folders or '..'; use a plain name such as 'main'."
                    )
        if tm.name == "Job" and row.get("status") not in JOB_STATUSES:
            raise ValidationError(f"Job status must be one of {', '.join(JOB_STATUSES)}, not '{row.get('status')}'.")

    # Files, encoding, keys --------------------------------------------------------------
    def do_get_upload_metadata(self, batch: Batch, op: dict) -> dict:
        """Where to PUT a file: one URL and its headers (``parts`` null or absent), or, for
        ``parts`` n, an ``upload_id`` and n signed part URLs (ftrack's multipart protocol). An
        ``upload_id`` of an open upload of the same component gives fresh URLs for it."""
        component_id = check_component_id(op.get("component_id"))
        file_name = check_file_name(op.get("file_name"))
        size = op.get("file_size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValidationError("file_size must be the file's size in bytes (a whole number, 0 or more).")
        conn = batch.ctx.conn
        if self.stored_in_server(conn, component_id):
            raise IntegrityError(f"Component {component_id} already has its data in ftrack.server; its data cannot "
                                 "be replaced. Publish the file as a new component.")
        expired = self.uploads.expire(conn)
        if expired:
            batch.after_commit.append(lambda: self.uploads.delete_data(expired))
        parts = op.get("parts")
        if parts is not None and self.multipart:
            upload_id = op.get("upload_id")
            upload = self.uploads.open(conn, component_id, size, parts, upload_id)
            if upload_id is None:  # a new data file: gone again if this batch fails
                batch.after_rollback.append(lambda: self.uploads.delete_data([upload.upload_id]))
            return {"component_id": component_id, "upload_id": upload.upload_id,
                    "urls": self.uploads.urls(batch.ctx.base_url, upload), "part_size": upload.part_size}
        checksum = op.get("checksum")
        if checksum is not None:
            parse_checksum(checksum)
        token = secrets.token_urlsafe(24)
        conn.execute('DELETE FROM "upload" WHERE "created_at" < ?', (_grant_cutoff(),))
        # Only the token's hash is kept: the database never holds a usable upload URL.
        conn.execute(
            'INSERT OR REPLACE INTO "upload" ("component_id", "size", "checksum", "token", "created_at") VALUES (?, ?, ?, ?, ?)',
            (component_id, size, checksum or "", _token_hash(token), utcnow()),
        )
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        if checksum:
            headers["Content-MD5"] = checksum
        return {
            "url": f"{batch.ctx.base_url}/file/{component_id}?token={token}",
            "headers": headers,
            "component_id": component_id,
            "file_name": file_name,
        }

    def do_complete_multipart_upload(self, batch: Batch, op: dict) -> dict:
        """Check a multipart upload's parts and put its file in the store (no copy)."""
        component_id = check_component_id(op.get("component_id"))
        conn = batch.ctx.conn
        if self.stored_in_server(conn, component_id):
            raise IntegrityError(f"Component {component_id} already has its data in ftrack.server.")
        upload_id = op.get("upload_id")
        target = self.store.path(component_id)
        size = self.uploads.complete(conn, upload_id, component_id, op.get("parts"), target)
        batch.after_rollback.append(lambda: self.uploads.uncomplete(str(upload_id), target))
        conn.execute('DELETE FROM "upload" WHERE "component_id" = ?', (component_id,))
        if self.events is not None:  # the event hub announces the stored file, as ftrack's does
            events = self.events
            batch.after_commit.append(
                lambda: events(component_added_event(component_id, SERVER_LOCATION_ID)))
        return {"component_id": component_id, "upload_id": upload_id, "size": size}

    @staticmethod
    def stored_in_server(conn: sqlite3.Connection, component_id: str) -> bool:
        """Whether ``component_id`` has its data in ftrack.server (a committed location row)."""
        return conn.execute('SELECT 1 FROM "component_location" WHERE "component_id" = ? AND "location_id" = ?',
                            (component_id, SERVER_LOCATION_ID)).fetchone() is not None

    def remove_component_data(self, component_id: str) -> bool:
        """``/component/remove``: the component's ftrack.server location row and open uploads go
        in one transaction, then its stored file; whether a file was removed."""
        with self.storage.transaction() as conn:
            conn.execute('DELETE FROM "component_location" WHERE "component_id" = ? AND "location_id" = ?',
                         (component_id, SERVER_LOCATION_ID))
            conn.execute('DELETE FROM "upload" WHERE "component_id" = ?', (component_id,))
            aborted = self.uploads.abort_component(conn, component_id)
        self.uploads.delete_data(aborted)
        return self.store.remove(component_id)

    def upload_grant(self, component_id: str, token: str) -> dict:
        """The upload grant ``token`` opens for ``component_id`` (its announced size and checksum);
        AuthenticationError when there is none, it is spent, expired or for another component."""
        conn = self.storage.connection()
        row = conn.execute('SELECT * FROM "upload" WHERE "component_id" = ?', (component_id,)).fetchone()
        if row is None or not hmac.compare_digest(row["token"], _token_hash(token)) or row["created_at"] < _grant_cutoff():
            raise AuthenticationError("This upload URL is not valid (used, expired, or from before the server restarted); "
                                      "ask get_upload_metadata for a new one.")
        return dict(row)

    def use_upload_grant(self, component_id: str) -> None:
        """Spend the grant of an upload that was stored: its URL cannot be replayed."""
        with self.storage.transaction(write=True) as conn:
            conn.execute('DELETE FROM "upload" WHERE "component_id" = ?', (component_id,))

    def forget_upload_grants(self) -> None:
        """End every upload grant (at start: URLs handed out before a restart die with it)."""
        with self.storage.transaction(write=True) as conn:
            conn.execute('DELETE FROM "upload"')

    def do_encode_media(self, batch: Batch, op: dict) -> dict:
        if self.jobs is None:
            raise ValidationError("This server cannot encode media.")
        component_id = check_component_id(op.get("component_id"))
        version_id = op.get("version_id")
        keep = op.get("keep_original", False)
        if not isinstance(keep, bool):
            raise ValidationError("keep_original must be true or false.")
        return {"job_id": self.jobs.create(batch, component_id, version_id, keep)}

    def do_get_widget_url(self, batch: Batch, op: dict) -> dict:
        url = widgets.widget_url(batch.ctx.base_url, op.get("name"), op.get("theme"), op.get("entity_type"),
                                 op.get("entity_key"))
        return {"widget_url": url}

    def do_reset_remote(self, batch: Batch, op: dict) -> dict:
        if op.get("reset_type") != "api_key":
            raise ValidationError(f"reset_type '{op.get('reset_type')}' is not supported; this server resets 'api_key'.")
        key = op.get("entity_key", batch.user["id"])
        if isinstance(key, list):
            key = key[0] if key else None
        if op.get("entity_type", "User") != "User":
            raise ValidationError("reset_remote api_key works on a User.")
        user = batch.ctx.conn.execute('SELECT "id" FROM "users" WHERE "id" = ?', (str(key),)).fetchone()
        if user is None:
            raise NotFoundError(f"There is no User with id {key}.")
        if user[0] != batch.user["id"] and batch.user["id"] != self.storage.get_meta(OWNER_META_KEY):
            raise ValidationError("You can only reset your own API key (the server's own user can reset anyone's).")
        key = auth.set_api_key(batch.ctx.conn, user[0])
        if self.on_key_set is not None:
            self.on_key_set(user[0], key)
        # ftrack answers with an object (the stock client's User.reset_api_key reads "api_key").
        return {"action": "reset_remote", "data": {"api_key": key}}


def _check_user_update(batch: Batch, before: dict, row: dict) -> None:
    """Refuse user edits that would lock the caller out: nobody could undo them."""
    if not row.get("username"):
        raise ValidationError("A User needs a username.")
    if row["id"] == batch.user["id"] and before.get("is_active") and not row.get("is_active"):
        raise ValidationError(
            "You cannot deactivate the user you are logged in as: you would be locked out, and "
            "only another active user could turn it back on. Log in as another user to do it.")


def _fill_missing(row: dict, **values: Any) -> None:
    """Give ``row`` each of ``values`` it has no value for (absent or None)."""
    for key, value in values.items():
        if row.get(key) is None:
            row[key] = value


def _is_uuid(value: str) -> bool:
    try:
        check_component_id(value)
        return True
    except ValidationError:
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _grant_cutoff() -> str:
    """The creation time before which an upload grant has expired (stored-datetime text)."""
    cutoff = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None) - _dt.timedelta(hours=UPLOAD_GRANT_HOURS)
    return cutoff.strftime("%Y-%m-%dT%H:%M:%S")


def md5_base64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()
