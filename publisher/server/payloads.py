"""Entity payloads of query, create and update results: the concrete ``__entity_type__``, the
primary key and the projected attributes, with nested projections (``asset.parent.name``,
``component_locations.location_id``) loaded in one batched SQL query per relation and level.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from publisher.server.entities import (
    CUSTOM_ATTRIBUTE_VALUE_TYPES, POLYMORPHIC_TABLES, VARIABLE_JSON_SUFFIX, Model, TypeModel,
)
from publisher.server.errors import ValidationError
from publisher.server.storage import q
from publisher.server.values import from_column, load_variable

SERVER_LOCATION_ID = "3a372bde-05bc-11e4-8908-20c9d081909b"
_CHUNK = 500


@dataclass
class RequestContext:
    """What computed attributes need to know about the request being answered."""

    conn: sqlite3.Connection
    model: Model
    base_url: str
    username: str
    api_key: str
    user_id: str | None = None
    chains: dict[str, list[dict]] = field(default_factory=dict)

    def file_url(self, endpoint: str, component_id: str, **extra: Any) -> str:
        params = {"id": component_id, "username": self.username, "apiKey": self.api_key, **extra}
        return f"{self.base_url}/component/{endpoint}?{urlencode(params)}"


def projection_tree(paths: list[str]) -> dict[str, dict]:
    """``["a.b", "a.c", "d"]`` -> ``{"a": {"b": {}, "c": {}}, "d": {}}``."""
    tree: dict[str, dict] = {}
    for path in paths:
        node = tree
        for part in path.split("."):
            if not part:
                raise ValidationError(f"The projection '{path}' has an empty part.")
            node = node.setdefault(part, {})
    return tree


def validate_tree(model: Model, tm: TypeModel, tree: dict[str, dict], prefix: str = "") -> None:
    """Raise ValidationError for any projected attribute the type (or its subtypes) lacks."""
    for attr, sub in tree.items():
        found = model.union_attribute(tm, attr)
        if found is None:
            raise ValidationError(f"'{tm.name}' has no attribute '{attr}' (projection '{prefix}{attr}').")
        owner, _ = found
        if sub:
            rel = owner.relations.get(attr)
            if rel is None:
                raise ValidationError(f"'{prefix}{attr}' is not a relation, so it cannot be followed in a projection.")
            validate_tree(model, model.types[rel.target], sub, f"{prefix}{attr}.")


def fetch_in(conn: sqlite3.Connection, table: str, column: str, values: list[Any], extra: str = "") -> list[dict]:
    """Rows of ``table`` whose ``column`` is one of ``values`` (chunked, parameterised)."""
    out: list[dict] = []
    values = list(dict.fromkeys(v for v in values if v is not None))
    for i in range(0, len(values), _CHUNK):
        chunk = values[i:i + _CHUNK]
        sql = f"SELECT * FROM {q(table)} WHERE {q(column)} IN ({', '.join('?' * len(chunk))}) {extra}"
        out.extend(dict(r) for r in conn.execute(sql, chunk))
    return out


def context_chain(ctx: RequestContext, context_id: str | None) -> list[dict]:
    """Contexts from the project down to ``context_id`` (id, name, entity_type)."""
    if context_id is None:
        return []
    if context_id not in ctx.chains:
        rows = ctx.conn.execute(
            'WITH RECURSIVE c(id, name, entity_type, parent_id, depth) AS ('
            ' SELECT id, name, entity_type, parent_id, 0 FROM "context" WHERE id = ?'
            ' UNION ALL SELECT x.id, x.name, x.entity_type, x.parent_id, c.depth + 1'
            ' FROM "context" x JOIN c ON x.id = c.parent_id WHERE c.depth < 64)'
            ' SELECT id, name, entity_type FROM c ORDER BY depth DESC',
            (context_id,),
        ).fetchall()
        ctx.chains[context_id] = [dict(r) for r in rows]
    return ctx.chains[context_id]


def _link_entry(row: dict) -> dict:
    kind = "Project" if row["entity_type"] == "Project" else "TypedContext"
    return {"id": row["id"], "name": row["name"], "type": kind}


def build(ctx: RequestContext, tm: TypeModel, rows: list[dict], tree: dict[str, dict]) -> list[dict]:
    """Payloads for ``rows`` (stored rows read through type ``tm``) with ``tree`` projected."""
    model = ctx.model
    payloads = []
    types = []
    polymorphic = tm.table in POLYMORPHIC_TABLES
    for row in rows:
        concrete = model.types[row["entity_type"]] if polymorphic else tm
        types.append(concrete)
        payload = {"__entity_type__": concrete.name}
        for key in concrete.primary_key:
            payload[key] = row.get(key)
        payloads.append(payload)
    for attr, sub in tree.items():
        holders = [(i, t) for i, t in enumerate(types) if attr in t.attributes]
        if not holders:
            continue
        owner = holders[0][1]
        if attr in owner.scalars:
            for i, t in holders:
                kind = t.scalars[attr]
                if kind == "variable":
                    payloads[i][attr] = load_variable(rows[i], attr, VARIABLE_JSON_SUFFIX)
                else:
                    payloads[i][attr] = from_column(kind, rows[i].get(attr))
        elif attr in owner.relations:
            _relation(ctx, owner.relations[attr], [rows[i] for i, _ in holders], [payloads[i] for i, _ in holders], sub)
        else:
            _computed(ctx, attr, [rows[i] for i, _ in holders], [payloads[i] for i, _ in holders])
    return payloads


def _relation(ctx: RequestContext, rel, rows: list[dict], payloads: list[dict], sub: dict) -> None:
    model = ctx.model
    target = model.types[rel.target]
    if rel.kind == "ref":
        keys = [r.get(rel.local) for r in rows]
        found = fetch_in(ctx.conn, target.table, rel.remote, keys)
        built = dict(zip((r[rel.remote] for r in found), build(ctx, target, found, sub)))
        for key, payload in zip(keys, payloads):
            payload[rel.name] = built.get(key)
        return
    if rel.kind == "coll":
        if not sub and rel.target in CUSTOM_ATTRIBUTE_VALUE_TYPES:
            # As ftrack does: a custom attribute collection comes with each value's key and value.
            sub = {"key": {}, "value": {}} if "key" in target.attributes else {"value": {}}
        keys = [r.get(rel.local) for r in rows]
        extra = "ORDER BY rowid"
        if rel.member_filter is not None:
            # A constant of the type model, never client text.
            column, value = rel.member_filter
            extra = f"AND {q(column)} = '{value}' {extra}"
        if rel.name == "members":
            extra = "ORDER BY CAST(name AS INTEGER), name, rowid"
        found = fetch_in(ctx.conn, target.table, rel.remote, keys, extra)
        built_rows = build(ctx, target, found, sub)
        groups: dict[Any, list[dict]] = {}
        for row, built in zip(found, built_rows):
            groups.setdefault(row[rel.remote], []).append(built)
        for key, payload in zip(keys, payloads):
            payload[rel.name] = groups.get(key, [])
        return
    if rel.kind == "link":
        table, own, member = rel.via
        keys = [r.get(rel.local) for r in rows]
        links = fetch_in(ctx.conn, table, own, keys, "ORDER BY rowid")
        found = fetch_in(ctx.conn, target.table, "id", [link[member] for link in links])
        built = dict(zip((r["id"] for r in found), build(ctx, target, found, sub)))
        groups = {}
        for link in links:
            if link[member] in built:
                groups.setdefault(link[own], []).append(built[link[member]])
        for key, payload in zip(keys, payloads):
            payload[rel.name] = groups.get(key, [])
        return
    # Virtual relations, computed from stored rows.
    if rel.name == "latest_version":
        ids = [r["id"] for r in rows]
        found = fetch_in(
            ctx.conn, "asset_version", "asset_id", ids,
            'AND "version" = (SELECT MAX(v2."version") FROM "asset_version" v2 WHERE v2."asset_id" = "asset_version"."asset_id")',
        )
        built = dict(zip((r["asset_id"] for r in found), build(ctx, target, found, sub)))
        for row, payload in zip(rows, payloads):
            payload[rel.name] = built.get(row["id"])
        return
    if rel.name == "ancestors":
        per_row = []
        for row in rows:
            start = row.get("context_id") if "context_id" in row else row.get("parent_id")
            chain = [c for c in context_chain(ctx, start) if c["entity_type"] != "Project"]
            per_row.append([c["id"] for c in chain])
    else:  # descendants
        per_row = []
        for row in rows:
            found_ids = [r[0] for r in ctx.conn.execute(
                'WITH RECURSIVE d(id, depth) AS (SELECT id, 0 FROM "context" WHERE parent_id = ?'
                ' UNION ALL SELECT x.id, d.depth + 1 FROM "context" x JOIN d ON x.parent_id = d.id WHERE d.depth < 64)'
                ' SELECT id FROM d', (row["id"],))]
            per_row.append(found_ids)
    all_ids = [i for ids in per_row for i in ids]
    found = fetch_in(ctx.conn, "context", "id", all_ids)
    built = dict(zip((r["id"] for r in found), build(ctx, model.types["TypedContext"], found, sub)))
    for ids, payload in zip(per_row, payloads):
        payload[rel.name] = [built[i] for i in ids if i in built]


def _computed(ctx: RequestContext, attr: str, rows: list[dict], payloads: list[dict]) -> None:
    if attr == "link":
        asset_rows = {}
        if rows and "asset_id" in rows[0]:
            asset_rows = {r["id"]: r for r in fetch_in(ctx.conn, "asset", "id", [r["asset_id"] for r in rows])}
        for row, payload in zip(rows, payloads):
            if "asset_id" in row:  # an AssetVersion: its context's link, then itself
                asset = asset_rows.get(row["asset_id"]) or {}
                chain = context_chain(ctx, asset.get("context_id"))
                name = f"{asset.get('name', '')} v{row.get('version') or 0:03d}"
                payload["link"] = [_link_entry(c) for c in chain] + [
                    {"id": row["id"], "name": name, "type": "AssetVersion"}
                ]
            else:
                payload["link"] = [_link_entry(c) for c in context_chain(ctx, row["id"])]
    elif attr == "thumbnail_url":
        for row, payload in zip(rows, payloads):
            tid = row.get("thumbnail_id")
            payload[attr] = {"url": ctx.file_url("thumbnail", tid)} if tid else None
    elif attr == "url":
        for row, payload in zip(rows, payloads):
            comp = row.get("component_id")
            if "location_id" in row and row.get("location_id") != SERVER_LOCATION_ID:
                payload[attr] = None
            else:
                payload[attr] = {"value": ctx.file_url("get", comp), "url": ctx.file_url("get", comp)} if comp else None
    elif attr == "is_latest_version":
        latest = dict(ctx.conn.execute(
            'SELECT asset_id, MAX("version") FROM "asset_version" WHERE asset_id IN (%s) GROUP BY asset_id'
            % ", ".join("?" * len(rows)), [r.get("asset_id") for r in rows]).fetchall()) if rows else {}
        for row, payload in zip(rows, payloads):
            payload[attr] = row.get("version") is not None and latest.get(row.get("asset_id")) == row.get("version")


def full_tree(tm: TypeModel) -> dict[str, dict]:
    """Every stored scalar of the concrete type (create/update results)."""
    return {attr: {} for attr in tm.scalars}
