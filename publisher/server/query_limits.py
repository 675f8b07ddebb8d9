"""Limits on what one query may ask of the server, checked before it is compiled to SQL.

The parser takes any query it can read; these limits keep a query it accepts from costing
seconds of CPU or failing inside SQLite (expression depth, join count, 64-bit integers). Each
breach is a :class:`~publisher.server.errors.ValidationError` that names the limit.
"""

from __future__ import annotations

from publisher.server import query_language as ql
from publisher.server.errors import ValidationError

#: Characters in one query expression (``id in (...)`` of a few thousand ids fits).
MAX_EXPRESSION = 1024 * 1024
#: Characters in one string literal of a query.
MAX_LITERAL = 64 * 1024
#: Nesting of parentheses, ``has``/``any`` and ``not`` in the criteria.
MAX_DEPTH = 32
#: Conditions (comparisons, ``has``, ``any``) in the criteria; a populate of 250 entities with
#: two-part keys needs 500.
MAX_TERMS = 600
#: Values in all the ``in (...)`` lists of a query.
MAX_VALUES = 10_000
#: Steps of one attribute path (``parent.parent.name`` has three); each is a join.
MAX_PATH_STEPS = 12
#: Integers are SQLite's: signed 64-bit.
INT_MIN, INT_MAX = -(2 ** 63), 2 ** 63 - 1


def check_length(expression: str) -> None:
    """Refuse an expression too long to parse cheaply (before it is parsed)."""
    if len(expression) > MAX_EXPRESSION:
        raise ValidationError(f"The query is {len(expression):,} characters long; the limit is {MAX_EXPRESSION:,}.")


def check_query(query: ql.Query) -> None:
    """Refuse a parsed query that breaks one of the limits of this module."""
    for path in query.projections:
        _check_path(path)
    for path, _descending in query.order_by:
        _check_path(path)
    for number, what in ((query.offset, "offset"), (query.limit, "limit")):
        if number is not None and number > INT_MAX:
            raise ValidationError(f"The {what} {number} is out of range: the limit is {INT_MAX}.")
    if query.where is not None:
        counts = {"terms": 0, "values": 0}
        _check_expr(query.where, 0, counts)


def _check_expr(expr: ql.Expr, depth: int, counts: dict[str, int]) -> None:
    # Iterative over flat chains, recursive over nesting (bounded by MAX_DEPTH).
    if depth > MAX_DEPTH:
        raise ValidationError(f"The query's criteria are nested more than {MAX_DEPTH} levels deep "
                              "(parentheses, has, any and not), the limit; simplify the query.")
    if isinstance(expr, (ql.And, ql.Or)):
        for item in expr.items:
            _check_expr(item, depth, counts)
        return
    if isinstance(expr, ql.Not):
        _check_expr(expr.item, depth + 1, counts)
        return
    counts["terms"] += 1
    if counts["terms"] > MAX_TERMS:
        raise ValidationError(f"The query has more than {MAX_TERMS} conditions, the limit; "
                              "use 'in (...)' for a list of values or split the query.")
    _check_path(expr.path)
    if isinstance(expr, (ql.Has, ql.Any)):
        if expr.criteria is not None:
            _check_expr(expr.criteria, depth + 1, counts)
        return
    values = expr.value if isinstance(expr.value, list) else [expr.value]
    counts["values"] += len(values)
    if counts["values"] > MAX_VALUES:
        raise ValidationError(f"The query lists more than {MAX_VALUES:,} values, the limit; split the query.")
    for value in values:
        _check_value(value)


def _check_path(path: str) -> None:
    steps = path.count(".") + 1
    if steps > MAX_PATH_STEPS:
        raise ValidationError(f"The attribute path '{path[:60]}...' has {steps} steps; the limit is {MAX_PATH_STEPS}.")


def _check_value(value: object) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        raise ValidationError(f"The integer {str(value)[:30]} is out of range: integers are limited to {INT_MIN} .. {INT_MAX}.")
    if isinstance(value, str) and len(value) > MAX_LITERAL:
        raise ValidationError(f"A value of the query is {len(value):,} characters long; the limit is {MAX_LITERAL:,}.")
