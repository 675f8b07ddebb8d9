"""Compile a parsed query (:mod:`publisher.server.query_language`) into parameterised SQL.

Identifiers in the SQL come only from the type model; every value from the client is a bound
parameter. Dotted paths through references become LEFT JOINs, paths through collections and
``has``/``any`` become ``EXISTS`` subqueries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from publisher.server import query_language as ql
from publisher.server import query_limits
from publisher.server.entities import POLYMORPHIC_TABLES, Model, TypeModel
from publisher.server.errors import QueryError, ValidationError
from publisher.server.storage import q
from publisher.server.values import to_column

_SQL_OPS = {"<": "<", ">": ">", "<=": "<=", ">=": ">="}


@dataclass
class CompiledQuery:
    """The parts of the SQL selecting every column (``t0.*``) of the matching rows."""

    type_model: TypeModel
    from_sql: str
    where_sql: str
    params: list[Any]
    order_sql: str
    offset: int
    limit: int | None

    def sql(self) -> tuple[str, list[Any]]:
        """The page query; it asks for one row more than the page to tell if there is a next one."""
        sql = f"SELECT t0.* FROM {self.from_sql}{self.where_sql} ORDER BY {self.order_sql} LIMIT ? OFFSET ?"
        return sql, [*self.params, -1 if self.limit is None else self.limit + 1, self.offset]

    def probe(self, at_most: int) -> tuple[str, list[Any]]:
        """A count of the matching rows that stops at ``at_most`` (cheap either way)."""
        sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {self.from_sql}{self.where_sql} LIMIT ?)"
        return sql, [*self.params, at_most]


@dataclass
class _Joins:
    """LEFT JOINs of one FROM clause, one per distinct reference path."""

    compiler: "Compiler"
    clauses: list[str] = field(default_factory=list)
    by_key: dict[tuple[str, str], str] = field(default_factory=dict)

    def ref(self, alias: str, tm: TypeModel, rel_name: str, rel_local: str, target: TypeModel) -> str:
        key = (alias, rel_name)
        if key not in self.by_key:
            new = self.compiler.alias()
            self.clauses.append(f"LEFT JOIN {q(target.table)} {new} ON {new}.\"id\" = {alias}.{q(rel_local)}")
            self.by_key[key] = new
        return self.by_key[key]


def type_filter(tm: TypeModel, alias: str, params: list[Any]) -> str | None:
    """SQL restricting a polymorphic table to the concrete types ``tm`` names (None: all)."""
    if tm.table not in POLYMORPHIC_TABLES:
        return None
    all_types = {t for t, m in tm_table_types(tm).items()}
    if set(tm.concrete) >= all_types:
        return None
    params.extend(tm.concrete)
    return f"{alias}.\"entity_type\" IN ({', '.join('?' * len(tm.concrete))})"


def tm_table_types(tm: TypeModel) -> dict[str, None]:
    from publisher.server.entities import COMPONENT_TYPES, CONTEXT_TYPES

    return dict.fromkeys(CONTEXT_TYPES if tm.table == "context" else COMPONENT_TYPES)


class Compiler:
    """Turns a :class:`query_language.Query` into a :class:`CompiledQuery` for one model."""

    def __init__(self, model: Model, *, ordered_scan: bool = False) -> None:
        """``ordered_scan`` keeps the where clause off the indexes of the queried table, so
        SQLite walks the index of the ORDER BY and stops at the page end (many matches)."""
        self.model = model
        self.ordered_scan = ordered_scan
        self._n = 0

    def alias(self) -> str:
        self._n += 1
        return f"t{self._n}"

    # Entry point -----------------------------------------------------------------------
    def compile(self, query: ql.Query) -> CompiledQuery:
        tm = self.model.get(query.entity_type)
        if tm is None:
            raise ValidationError(f"Unknown entity type '{query.entity_type}'. Check the spelling against query_schemas.")
        self._n = 0
        base = "t0"
        joins = _Joins(self)
        conditions: list[str] = []
        where_params: list[Any] = []
        flt = type_filter(tm, base, where_params)
        if flt:
            conditions.append(flt)
        if query.where is not None:
            conditions.append(self._expr(query.where, tm, base, joins, where_params))
        order_sql = []
        for path, descending in query.order_by:
            column, _kind = self._order_column(path, tm, base, joins)
            order_sql.append(f"{column} {'DESC' if descending else 'ASC'}")
        if not order_sql:
            order_sql.append(f"{base}.rowid ASC")
        offset = query.offset or 0
        limit = query.limit
        if offset < 0 or (limit is not None and limit < 0):
            raise QueryError("offset and limit must not be negative.")
        from_sql = f"{q(tm.table)} {base} {' '.join(joins.clauses)}"
        where_sql = (" WHERE " + " AND ".join(f"({c})" for c in conditions)) if conditions else ""
        return CompiledQuery(tm, from_sql, where_sql, where_params, ", ".join(order_sql), offset, limit)

    # Paths -----------------------------------------------------------------------------
    def _attribute(self, tm: TypeModel, name: str, path: str):
        found = self.model.union_attribute(tm, name)
        if found is None:
            raise ValidationError(f"'{tm.name}' has no attribute '{name}' (in '{path}').")
        owner, _ = found
        if name in owner.relations:
            return "rel", owner.relations[name]
        if name in owner.scalars:
            return "scalar", owner.scalars[name]
        return "computed", name

    def _follow_refs(self, path: str, parts: list[str], tm: TypeModel, alias: str, joins: _Joins,
                     not_a_ref: str) -> tuple[TypeModel, str]:
        """Join along ``parts`` (each a reference to one entity) from ``tm`` as ``alias``; the type
        and alias reached. ``not_a_ref`` (formatted with ``path`` and ``part``) is the error for
        a part that is not such a reference."""
        for part in parts:
            kind, rel = self._attribute(tm, part, path)
            if kind != "rel" or rel.kind != "ref":
                raise QueryError(not_a_ref.format(path=path, part=part))
            target = self.model.types[rel.target]
            alias = joins.ref(alias, tm, part, rel.local, target)
            tm = target
        return tm, alias

    def _order_column(self, path: str, tm: TypeModel, alias: str, joins: _Joins) -> tuple[str, str]:
        parts = path.split(".")
        tm, alias = self._follow_refs(path, parts[:-1], tm, alias, joins,
                                      "Cannot order by '{path}': '{part}' is not a reference to one entity.")
        kind, info = self._attribute(tm, parts[-1], path)
        if kind == "scalar":
            return f"{alias}.{q(parts[-1])}", info
        if kind == "rel" and info.kind == "ref":
            return f"{alias}.{q(info.local)}", "string"
        raise QueryError(f"Cannot order by '{path}': it is not a stored value.")

    # Expressions -----------------------------------------------------------------------
    def _expr(self, expr: ql.Expr, tm: TypeModel, alias: str, joins: _Joins, params: list[Any]) -> str:
        if isinstance(expr, ql.And):
            return " AND ".join(f"({self._expr(e, tm, alias, joins, params)})" for e in expr.items) or "1"
        if isinstance(expr, ql.Or):
            return " OR ".join(f"({self._expr(e, tm, alias, joins, params)})" for e in expr.items) or "0"
        if isinstance(expr, ql.Not):
            return f"NOT ({self._expr(expr.item, tm, alias, joins, params)})"
        if isinstance(expr, (ql.Has, ql.Any)):
            return self._related(expr.path, expr.criteria, tm, alias, joins, params)
        if isinstance(expr, ql.Comparison):
            return self._comparison(expr, expr.path.split("."), tm, alias, joins, params)
        raise QueryError(f"Unsupported expression {type(expr).__name__}.")

    def _related(self, path: str, criteria, tm: TypeModel, alias: str, joins: _Joins, params: list[Any]) -> str:
        """``path has (...)`` / ``path any (...)``: an EXISTS over the related rows."""
        parts = path.split(".")
        tm, alias = self._follow_refs(path, parts[:-1], tm, alias, joins,
                                      "In '{path}', '{part}' must be a reference to one entity.")
        kind, rel = self._attribute(tm, parts[-1], path)
        if kind != "rel" or rel.kind == "virtual":
            raise QueryError(f"'{path}' is not a relation, so has/any cannot be used on it.")
        return self._exists(rel, criteria, alias, params)

    def _exists(self, rel, criteria, alias: str, params: list[Any], inner=None) -> str:
        target = self.model.types[rel.target]
        sub = self.alias()
        sub_joins = _Joins(self)
        conds = [f"{sub}.{q(rel.remote)} = {alias}.{q(rel.local)}"]
        sub_params: list[Any] = []
        flt = type_filter(target, sub, sub_params)
        if flt:
            conds.append(flt)
        if criteria is not None:
            conds.append(self._expr(criteria, target, sub, sub_joins, sub_params))
        if inner is not None:
            conds.append(inner(target, sub, sub_joins, sub_params))
        params.extend(sub_params)
        return (
            f"EXISTS (SELECT 1 FROM {q(target.table)} {sub} {' '.join(sub_joins.clauses)} "
            f"WHERE {' AND '.join(f'({c})' for c in conds)})"
        )

    def _comparison(self, cmp: ql.Comparison, parts: list[str], tm: TypeModel, alias: str, joins: _Joins,
                    params: list[Any]) -> str:
        path = cmp.path
        for i, part in enumerate(parts[:-1]):
            kind, rel = self._attribute(tm, part, path)
            if kind != "rel" or rel.kind == "virtual":
                raise QueryError(f"In '{path}', '{part}' is not a relation that can be followed.")
            rest = parts[i + 1:]
            if rel.kind == "ref":
                if rest == ["id"]:
                    return self._condition(f"{alias}.{q(rel.local)}", "string", cmp, params)
                target = self.model.types[rel.target]
                if _positive(cmp):
                    # fk IN (SELECT id ... WHERE ...) lets SQLite use the indexes of both tables.
                    sub = self.alias()
                    sub_joins = _Joins(self)
                    sub_params: list[Any] = []
                    conds = [self._comparison(cmp, rest, target, sub, sub_joins, sub_params)]
                    flt = type_filter(target, sub, sub_params)
                    if flt:
                        # After the comparison: its parameters were bound first.
                        conds.append(flt)
                    params.extend(sub_params)
                    column = self._indexed(f"{alias}.{q(rel.local)}")
                    return (f"{column} IN (SELECT {sub}.\"id\" FROM {q(target.table)} {sub} "
                            f"{' '.join(sub_joins.clauses)} WHERE {' AND '.join(conds)})")
                alias = joins.ref(alias, tm, part, rel.local, target)
                tm = target
                continue
            # A collection: true when some member matches the rest of the path.
            return self._exists(
                rel, None, alias, params,
                inner=lambda t, a, j, p, rest=rest: self._comparison(cmp, rest, t, a, j, p),
            )
        name = parts[-1]
        kind, info = self._attribute(tm, name, path)
        if kind == "scalar":
            return self._condition(f"{alias}.{q(name)}", info, cmp, params)
        if kind == "rel" and info.kind == "ref":
            return self._condition(f"{alias}.{q(info.local)}", "string", cmp, params)
        if kind == "computed" and name == "is_latest_version":
            latest = (f"{alias}.\"version\" = (SELECT MAX(lv.\"version\") FROM \"asset_version\" lv "
                      f"WHERE lv.\"asset_id\" = {alias}.\"asset_id\")")
            return self._condition(f"({latest})", "boolean", cmp, params)
        if kind == "rel":
            raise QueryError(f"'{path}' is a collection: use '{path} any (...)' to filter on its members.")
        raise QueryError(f"'{path}' is computed by the server and cannot be used in a where clause.")

    def _indexed(self, column: str) -> str:
        """``column`` as written in a condition: ``+t0.x`` when the ordered scan is wanted."""
        return f"+{column}" if self.ordered_scan and column.startswith("t0.") else column

    def _condition(self, column: str, kind: str, cmp: ql.Comparison, params: list[Any]) -> str:
        op, value = cmp.op, cmp.value
        column = self._indexed(column)
        attr = cmp.path

        def coerce(v: Any) -> Any:
            try:
                return to_column(kind, v, attr)
            except ValidationError as exc:
                raise QueryError(f"In the condition on '{attr}': {exc.content}") from None

        if op in ("in", "not_in"):
            if not isinstance(value, list):
                raise QueryError(f"'{op}' on '{attr}' needs a list of values in parentheses.")
            values = [coerce(v) for v in value if v is not None]
            has_null = any(v is None for v in value)
            parts = []
            if values:
                params.extend(values)
                parts.append(f"{column} IN ({', '.join('?' * len(values))})")
            if has_null:
                parts.append(f"{column} IS NULL")
            inside = " OR ".join(parts) or "0"
            if op == "in":
                return inside
            return f"NOT ({inside})" if not parts or has_null else f"({column} IS NULL OR NOT ({inside}))"
        if isinstance(value, list):
            raise QueryError(f"'{op}' on '{attr}' takes one value, not a list.")
        if op in ("is", "is_not"):
            if value is None:
                return f"{column} IS {'NOT ' if op == 'is_not' else ''}NULL"
            params.append(coerce(value))
            return f"{column} = ?" if op == "is" else f"{column} IS NOT ?"
        if op in _SQL_OPS:
            if value is None:
                raise QueryError(f"'{op}' on '{attr}' cannot compare with none.")
            params.append(coerce(value))
            return f"{column} {_SQL_OPS[op]} ?"
        if op in ("like", "not_like"):
            if not isinstance(value, str):
                value = "" if value is None else str(value)
            params.append(value)
            return f"{column} LIKE ?" if op == "like" else f"({column} IS NULL OR {column} NOT LIKE ?)"
        raise QueryError(f"Unknown operator '{op}' in the condition on '{attr}'.")


def _positive(cmp: ql.Comparison) -> bool:
    """True when a row without the related entity can never match (so a semi-join is exact)."""
    if cmp.op in ("is", "like", "<", ">", "<=", ">="):
        return cmp.value is not None
    if cmp.op == "in":
        return isinstance(cmp.value, list) and None not in cmp.value
    return False


def compile_expression(model: Model, expression: object, *, ordered_scan: bool = False) -> tuple[CompiledQuery, ql.Query]:
    """Parse and compile one query expression; raises QueryError / ValidationError."""
    if not isinstance(expression, str) or not expression.strip():
        raise QueryError("The query expression is missing or empty.")
    query_limits.check_length(expression)
    try:
        query = ql.parse(expression)
    except ql.QuerySyntaxError as exc:
        raise QueryError(str(exc)) from None
    query_limits.check_query(query)
    return Compiler(model, ordered_scan=ordered_scan).compile(query), query
