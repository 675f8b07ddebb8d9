"""Tests for publisher.server.query_language: the ftrack query language as clients send it."""

from __future__ import annotations

import random
import re
import uuid

import pytest

from publisher.server.query_language import (
    MAX_NESTING,
    And,
    Any,
    Comparison,
    Has,
    Not,
    Or,
    Query,
    QuerySyntaxError,
    parse,
)

SERVER = "3a372bde-05bc-11e4-8908-20c9d081909b"
ORIGIN = "ce9b348f-8809-11e3-821c-20c9d081909b"
UNMANAGED = "cb268ecc-8809-11e3-a7e2-20c9d081909b"


def C(path: str, op: str, value: object) -> Comparison:
    return Comparison(path, op, value)


def Q(entity_type: str, projections=(), where=None, order_by=(), offset=None, limit=None) -> Query:
    return Query(entity_type, list(projections), where, list(order_by), offset, limit)


# -- quirks and accepted shapes ---------------------------------------------------------------

ACCEPTED = [
    # Unquoted uuids, as populate and lazy loading send them.
    (
        f"select id from Location where id is {SERVER}",
        Q("Location", ["id"], C("id", "is", SERVER)),
    ),
    (
        f"select component_id, resource_identifier from ComponentLocation "
        f"where location_id is {SERVER} and component_id in ({ORIGIN}, {UNMANAGED})",
        Q(
            "ComponentLocation",
            ["component_id", "resource_identifier"],
            And([C("location_id", "is", SERVER), C("component_id", "in", [ORIGIN, UNMANAGED])]),
        ),
    ),
    # `in` lists without spaces, quoted, single-quoted, mixed, empty.
    ("Task where id in (a,b)", Q("Task", where=C("id", "in", ["a", "b"]))),
    ('Task where id in ("a", "b")', Q("Task", where=C("id", "in", ["a", "b"]))),
    ("Task where id in ('a','b')", Q("Task", where=C("id", "in", ["a", "b"]))),
    ('Task where x in (1, "2", none, 2.5)', Q("Task", where=C("x", "in", [1, "2", None, 2.5]))),
    ("Task where id in ()", Q("Task", where=C("id", "in", []))),
    ("Task where id not_in ( a )", Q("Task", where=C("id", "not_in", ["a"]))),
    # Unquoted bare words.
    ("User where username is jenkins", Q("User", where=C("username", "is", "jenkins"))),
    ("AssetVersion where asset is_not None", Q("AssetVersion", where=C("asset", "is_not", None))),
    (
        "CustomAttributeValue where configuration.key is customNumber",
        Q("CustomAttributeValue", where=C("configuration.key", "is", "customNumber")),
    ),
    ("Project where status is active", Q("Project", where=C("status", "is", "active"))),
    ("Task where name is v1.2.3", Q("Task", where=C("name", "is", "v1.2.3"))),
    ("Task where name is a!b", Q("Task", where=C("name", "is", "a!b"))),
    # `=` with a quoted uuid (User.start_timer).
    (
        f'Timer where user_id = "{SERVER}"',
        Q("Timer", where=C("user_id", "is", SERVER)),
    ),
    ("Task limit 0", Q("Task", limit=0)),
    # Composite-key populate: no space between the closing quote and `and`.
    (
        'select component.id, component.system_type from JobComponent '
        'where (component_id is "x"and job_id is "y")',
        Q(
            "JobComponent",
            ["component.id", "component.system_type"],
            And([C("component_id", "is", "x"), C("job_id", "is", "y")]),
        ),
    ),
    (
        'JobComponent where (component_id is "a"and job_id is "b") or (component_id is "c"and job_id is "d")',
        Q(
            "JobComponent",
            where=Or(
                [
                    And([C("component_id", "is", "a"), C("job_id", "is", "b")]),
                    And([C("component_id", "is", "c"), C("job_id", "is", "d")]),
                ]
            ),
        ),
    ),
    # session.get after paging appended offset and limit.
    (
        'select id, name from Task where (id is "abc") offset 0 limit 500',
        Q("Task", ["id", "name"], C("id", "is", "abc"), offset=0, limit=500),
    ),
    ('Task where (id is "abc") offset 0 limit 500', Q("Task", where=C("id", "is", "abc"), offset=0, limit=500)),
    ("select id from Location", Q("Location", ["id"])),
    # No select.
    (
        'AssetVersion where asset.parent.id is "sh1" order by version descending',
        Q("AssetVersion", where=C("asset.parent.id", "is", "sh1"), order_by=[("version", True)]),
    ),
    (
        f"select members, component_locations.location_id from SequenceComponent where id is {SERVER}",
        Q("SequenceComponent", ["members", "component_locations.location_id"], C("id", "is", SERVER)),
    ),
    # Dates stay text; the compiler decides how to compare them.
    (
        'Task where created_at > "2024-01-01T10:00:00"',
        Q("Task", where=C("created_at", ">", "2024-01-01T10:00:00")),
    ),
    (
        'Task where timelogs.start >= "2015-06-01T00:00:00+01:00"',
        Q("Task", where=C("timelogs.start", ">=", "2015-06-01T00:00:00+01:00")),
    ),
    # Numbers.
    ("AssetVersion where version > -1", Q("AssetVersion", where=C("version", ">", -1))),
    ("Shot where fstart is -2.5", Q("Shot", where=C("fstart", "is", -2.5))),
    ("Shot where fstart is .5", Q("Shot", where=C("fstart", "is", 0.5))),
    ("Shot where fstart is 007", Q("Shot", where=C("fstart", "is", 7))),
    ("Shot where fstart is 1e5", Q("Shot", where=C("fstart", "is", "1e5"))),
    ('Shot where fstart is "12"', Q("Shot", where=C("fstart", "is", "12"))),
    # Booleans and nulls in any case.
    ("Task where a is true", Q("Task", where=C("a", "is", True))),
    ("Task where a is FALSE", Q("Task", where=C("a", "is", False))),
    ("Task where a is True", Q("Task", where=C("a", "is", True))),
    ("Task where a is null", Q("Task", where=C("a", "is", None))),
    ("Task where a is NONE", Q("Task", where=C("a", "is", None))),
    ('Task where a is "None"', Q("Task", where=C("a", "is", "None"))),
    # like keeps bare words as their text.
    ('Component where name like "%comp%"', Q("Component", where=C("name", "like", "%comp%"))),
    ("Component where name like 12", Q("Component", where=C("name", "like", "12"))),
    ("Component where name not_like %main", Q("Component", where=C("name", "not_like", "%main"))),
    # Word boundaries: and/or inside words and strings do not split them.
    ('Task where name is "rock and roll"', Q("Task", where=C("name", "is", "rock and roll"))),
    ("Task where name is android", Q("Task", where=C("name", "is", "android"))),
    ("Task where name is orange or name is sandor", Q("Task", where=Or([C("name", "is", "orange"), C("name", "is", "sandor")]))),
    ("Task where name is 'x or y'", Q("Task", where=C("name", "is", "x or y"))),
    ("Task where order_index is 1", Q("Task", where=C("order_index", "is", 1))),
    # Strings: escapes and quotes.
    (r'Task where name is "say \"hi\""', Q("Task", where=C("name", "is", 'say "hi"'))),
    (r"Task where name is 'it\'s'", Q("Task", where=C("name", "is", "it's"))),
    ('Task where name is "it\'s"', Q("Task", where=C("name", "is", "it's"))),
    (r'Task where name is "a\\b"', Q("Task", where=C("name", "is", "a\\b"))),
    (r'Task where path is "C:\temp\new"', Q("Task", where=C("path", "is", r"C:\temp\new"))),
    (r'Task where name like "50\%"', Q("Task", where=C("name", "like", r"50\%"))),
    ('Task where name is ""', Q("Task", where=C("name", "is", ""))),
    ('Task where name is "a, (b) where limit 5"', Q("Task", where=C("name", "is", "a, (b) where limit 5"))),
    ('Task where name is "{x}"', Q("Task", where=C("name", "is", "{x}"))),
    ('Task where name is "multi\nline"', Q("Task", where=C("name", "is", "multi\nline"))),
    # Tokens glued together.
    ('Task where name="x"and(id!=1 or id<=2)', Q("Task", where=And([C("name", "is", "x"), Or([C("id", "is_not", 1), C("id", "<=", 2)])]))),
    ("Task where a>=-1", Q("Task", where=C("a", ">=", -1))),
    ("select id,name from Task", Q("Task", ["id", "name"])),
    # Keywords in any case, entity type as written.
    (
        'SELECT id FROM Task WHERE name IS "x" AND NOT id IN (1) ORDER BY name DESC OFFSET 2 LIMIT 1',
        Q("Task", ["id"], And([C("name", "is", "x"), Not(C("id", "in", [1]))]), [("name", True)], 2, 1),
    ),
    ("task", Q("task")),
    # offset and limit in either order.
    ("Task limit 5 offset 10", Q("Task", offset=10, limit=5)),
    ("Task offset 10 limit 5", Q("Task", offset=10, limit=5)),
    ("Task offset 3", Q("Task", offset=3)),
    # Whitespace of any kind.
    ("  select\tid,\n name  from\nTask\twhere id is 1  ", Q("Task", ["id", "name"], C("id", "is", 1))),
    # A schema without default projections makes the client send `select  from T`.
    ("select  from Location", Q("Location")),
    # `from` is an attribute of AssetVersionLink.
    ("select from from AssetVersionLink", Q("AssetVersionLink", ["from"])),
    ("select from, to from AssetVersionLink", Q("AssetVersionLink", ["from", "to"])),
    ("select from.id from AssetVersionLink where from.id is 1", Q("AssetVersionLink", ["from.id"], C("from.id", "is", 1))),
    ("AssetVersionLink where from has (version is 2) order by from", Q("AssetVersionLink", where=Has("from", C("version", "is", 2)), order_by=[("from", False)])),
    # has / any, including the documented `any ()`.
    (
        'Note where author has (first_name is "Jane" and last_name is "Doe")',
        Q("Note", where=Has("author", And([C("first_name", "is", "Jane"), C("last_name", "is", "Doe")]))),
    ),
    (
        "Project where metadata any (key=some_key and value=some_value)",
        Q("Project", where=Any("metadata", And([C("key", "is", "some_key"), C("value", "is", "some_value")]))),
    ),
    ("User where not timelogs any ()", Q("User", where=Not(Any("timelogs", None)))),
    ("User where timelogs any()", Q("User", where=Any("timelogs", None))),
    (
        'AssetVersion where components any (name is "main" and component_locations any (location_id is x))',
        Q(
            "AssetVersion",
            where=Any(
                "components",
                And([C("name", "is", "main"), Any("component_locations", C("location_id", "is", "x"))]),
            ),
        ),
    ),
    # Values that look like keywords elsewhere are plain values.
    ("Task where name is order limit 1", Q("Task", where=C("name", "is", "order"), limit=1)),
    ("Setting where group is STORAGE", Q("Setting", where=C("group", "is", "STORAGE"))),
]


@pytest.mark.parametrize(("expression", "expected"), ACCEPTED, ids=[e for e, _ in ACCEPTED])
def test_accepted_shapes(expression: str, expected: Query) -> None:
    assert parse(expression) == expected


# -- operators ---------------------------------------------------------------------------------

OPERATOR_SPELLINGS = [
    ("is", "is"),
    ("IS", "is"),
    ("=", "is"),
    ("is_not", "is_not"),
    ("!=", "is_not"),
    ("<", "<"),
    ("before", "<"),
    ("less_than", "<"),
    (">", ">"),
    ("after", ">"),
    ("AFTER", ">"),
    ("greater_than", ">"),
    ("<=", "<="),
    (">=", ">="),
    ("like", "like"),
    ("not_like", "not_like"),
]


# Word operators need spaces around them; symbols also work glued to path and value.
OPERATOR_TEXTS = [(f"bid {spelling} 10", op) for spelling, op in OPERATOR_SPELLINGS] + [
    (f"bid{spelling}10", op) for spelling, op in OPERATOR_SPELLINGS if not spelling[0].isalpha()
]


@pytest.mark.parametrize(("criteria", "op"), OPERATOR_TEXTS, ids=[c for c, _ in OPERATOR_TEXTS])
def test_operator_spellings(criteria: str, op: str) -> None:
    expected = "10" if op in ("like", "not_like") else 10
    assert parse("Task where " + criteria).where == C("bid", op, expected)


@pytest.mark.parametrize(("spelling", "op"), [("in", "in"), ("IN", "in"), ("not_in", "not_in"), ("NOT_IN", "not_in")])
def test_list_operators(spelling: str, op: str) -> None:
    assert parse(f'Task where status.name {spelling} ("Omitted", On_Hold,3)').where == C(
        "status.name", op, ["Omitted", "On_Hold", 3]
    )


# -- nesting and precedence --------------------------------------------------------------------

A, B, Cc, D = C("a", "is", 1), C("b", "is", 2), C("c", "is", 3), C("d", "is", 4)

PRECEDENCE = [
    ("a is 1 or b is 2 and c is 3", Or([A, And([B, Cc])])),
    ("a is 1 and b is 2 or c is 3", Or([And([A, B]), Cc])),
    ("(a is 1 or b is 2) and c is 3", And([Or([A, B]), Cc])),
    ("a is 1 and (b is 2 or c is 3) and d is 4", And([A, Or([B, Cc]), D])),
    ("a is 1 and b is 2 and c is 3", And([A, B, Cc])),
    ("a is 1 or b is 2 or c is 3 or d is 4", Or([A, B, Cc, D])),
    ("not a is 1 and b is 2", And([Not(A), B])),
    ("not (a is 1 or b is 2)", Not(Or([A, B]))),
    ("not not a is 1", Not(Not(A))),
    ("NOT(a is 1)", Not(A)),
    ("((a is 1))", A),
    ("(a is 1) or ((b is 2) and not (c is 3))", Or([A, And([B, Not(Cc)])])),
    ("x has (a is 1 or b is 2) and y any (not c is 3)", And([Has("x", Or([A, B])), Any("y", Not(Cc))])),
    ("not x.y has (z any (a is 1))", Not(Has("x.y", Any("z", A)))),
    ("a is 1 or b is 2 and not c is 3 or d is 4", Or([A, And([B, Not(Cc)]), D])),
]


@pytest.mark.parametrize(("criteria", "expected"), PRECEDENCE, ids=[c for c, _ in PRECEDENCE])
def test_nesting_and_precedence(criteria: str, expected: object) -> None:
    assert parse("Task where " + criteria).where == expected


def test_nesting_up_to_the_limit_parses_and_beyond_raises() -> None:
    deepest = "Task where " + "(" * MAX_NESTING + "a is 1" + ")" * MAX_NESTING
    assert parse(deepest).where == A
    with pytest.raises(QuerySyntaxError, match="nested more than"):
        parse("Task where " + "(" * 5000 + "a is 1" + ")" * 5000)
    with pytest.raises(QuerySyntaxError, match="nested more than"):
        parse("Task where " + "x has (" * (MAX_NESTING + 1) + "a is 1" + ")" * (MAX_NESTING + 1))
    with pytest.raises(QuerySyntaxError, match="nested more than"):
        parse("Task where " + "not " * 100_000 + "a is 1")


def test_nesting_depth_counts_only_enclosing_levels() -> None:
    siblings = " and ".join(["not (x has (a is 1))"] * (3 * MAX_NESTING))
    where = parse("Task where " + siblings).where
    assert where == And([Not(Has("x", A))] * (3 * MAX_NESTING))


def test_long_flat_chains_do_not_recurse() -> None:
    criteria = " or ".join(f'(id is "{i}" and n in (1,2))' for i in range(5000))
    where = parse("Task where " + criteria).where
    assert isinstance(where, Or) and len(where.items) == 5000
    assert where.items[4999] == And([C("id", "is", "4999"), C("n", "in", [1, 2])])


# -- order by ----------------------------------------------------------------------------------

ORDER_BY = [
    ("order by name", [("name", False)]),
    ("order by name asc", [("name", False)]),
    ("order by name ascending", [("name", False)]),
    ("order by name desc", [("name", True)]),
    ("ORDER BY name DESCENDING", [("name", True)]),
    ("order by version descending, name", [("version", True), ("name", False)]),
    ("order by asset.parent.name asc,version desc", [("asset.parent.name", False), ("version", True)]),
    ("order by version desc offset 0 limit 500", [("version", True)]),
]


@pytest.mark.parametrize(("clause", "expected"), ORDER_BY, ids=[c for c, _ in ORDER_BY])
def test_order_by(clause: str, expected: list[tuple[str, bool]]) -> None:
    assert parse("AssetVersion " + clause).order_by == expected
    with_where = parse('select id from AssetVersion where asset_id is "a" ' + clause)
    assert with_where.order_by == expected
    assert with_where.where == C("asset_id", "is", "a")


def test_order_by_keeps_offset_and_limit() -> None:
    query = parse("AssetVersion order by version desc offset 0 limit 500")
    assert (query.offset, query.limit) == (0, 500)


# -- malformed input ---------------------------------------------------------------------------

MALFORMED = [
    ("", "the query is empty"),
    ("   \n", "the query is empty"),
    ("select id Task", "expected 'from' after the projections at position 11 near 'Task'"),
    ("select id, name form Task", "expected 'from' after the projections at position 17 near 'form'"),
    ("select id", "expected 'from' after the projections at the end of the query"),
    ("select", "expected a projection"),
    ("select id, from Task", "expected a projection"),
    ("select id,, name from Task", "expected a projection"),
    ("select from", "expected an entity type name"),
    ("select id from", "expected an entity type name such as 'Task' after 'from' at the end"),
    ("select id from Task.name", "expected an entity type name"),
    ("select asset..name from Task", "expected a projection"),
    ("123", "expected an entity type name such as 'Task' at the start"),
    ("where id is 1", "expected an entity type name"),
    ('Task where (name is "x"', "the '(' at position 12 is never closed"),
    ("Task where ((a is 1) and (b is 2)", "never closed"),
    ('Task where name is "x")', "unmatched ')' at position 23"),
    ("Task where name in (1, 2", "never closed"),
    ('Task where name equals "x"', "unknown operator after 'name'"),
    ("Task where name", "unknown operator after 'name'"),
    ("Task where name == 1", "expected a value after '='"),
    ('Task where name is "x', 'unterminated string: the " that opens it is never closed at position 20'),
    ("Task where name is 'x", "unterminated string"),
    (r'Task where name is "x\"', "unterminated string"),
    ("Task where", "empty 'where'"),
    ("Task where   ", "empty 'where'"),
    ("Task where limit 1", "empty 'where'"),
    ("Task where order by name", "empty 'where'"),
    ("Task limit x", "expected a whole number (0 or more) after 'limit' at position 12 near 'x'"),
    ("Task limit -1", "expected a whole number"),
    ("Task limit 1.5", "expected a whole number"),
    ("Task limit", "expected a whole number (0 or more) after 'limit' at the end"),
    ("Task offset ten", "expected a whole number (0 or more) after 'offset'"),
    ("Task limit 1 limit 2", "'limit' given twice"),
    ("Task offset 1 offset 2", "'offset' given twice"),
    ("Task order by a order by b", "'order' given twice"),
    ('Task where name is "x" junk', "expected 'and', 'or', 'order by', 'offset', 'limit' or the end after the criteria at position 24 near 'junk'"),
    ("Task junk", "expected 'where', 'order by', 'offset', 'limit' or the end after the entity type"),
    ("Task limit 1 junk", "after 'limit'"),
    ("Task limit 1 2", "after 'limit'"),
    ("select id from Task Shot", "after the entity type"),
    ("Task where name is", "expected a value after 'is' at the end"),
    ('Task where name is "a" and', "expected criteria at the end"),
    ('Task where and name is "a"', "expected an attribute path"),
    ('Task where name is "a" or or name is "b"', "expected an attribute path"),
    ("Task where name is and", "expected a value after 'is'"),
    ('Task where name is not "x"', "write 'is_not'"),
    ("Task where (a is 1) (b is 2)", "expected 'and', 'or'"),
    ('Task where name in ("a" "b")', "expected ',' or ')' in the value list of 'in'"),
    ('Task where name in ("a",)', "expected a value after ','"),
    ('Task where name in "a"', "expected '(' with a list of values after 'in'"),
    ("Task where id in (select id from Shot)", "subqueries are not supported"),
    ('Task where asset has name is "x"', "expected '(' after 'has'"),
    ("Task where asset has ()", "empty parentheses"),
    ("Task where asset any", "expected '(' after 'any'"),
    ("Task where ()", "empty parentheses"),
    ("Task where ) or a is 1", "expected an attribute path"),
    ("Task where a is (1)", "expected a value after 'is'"),
    ("Task where 1 is 1", "expected an attribute path"),
    ('Task where "name" is 1', "expected an attribute path"),
    ("Task order name", "expected 'by' after 'order'"),
    ("Task order by", "expected an attribute path to order by after 'order by' at the end"),
    ("Task order by name,", "expected an attribute path to order by after ','"),
    ("Task order by name sideways", "after 'order by'"),
    ("Task where {name} is 1", "expected an attribute path"),
]


@pytest.mark.parametrize(("expression", "message"), MALFORMED, ids=[e or "<empty>" for e, _ in MALFORMED])
def test_malformed_queries_raise_helpful_errors(expression: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(expression)
    text = str(caught.value)
    assert text.startswith("Malformed query: ")
    assert message in text
    assert re.search(r"at position \d+ near ['\"]|at the end of the query", text)
    assert "{" not in text and "}" not in text
    assert 0 <= caught.value.offset <= len(expression)
    assert isinstance(caught.value, ValueError)


def test_error_position_points_at_the_offending_word() -> None:
    expression = 'select id from Task where name is "x" and id frobs 3'
    with pytest.raises(QuerySyntaxError) as caught:
        parse(expression)
    assert expression[caught.value.offset:].startswith("frobs")
    assert f"at position {caught.value.offset + 1} near 'frobs'" in str(caught.value)


def test_braces_from_the_query_never_reach_the_message() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse("Task where a is 1 {oops}")
    assert "'[oops]'" in str(caught.value)


def test_long_words_are_shortened_in_messages() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse("Task where a is 1 " + "x" * 500)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize("value", [None, b"Task", 42])
def test_non_text_input_raises(value: object) -> None:
    with pytest.raises(QuerySyntaxError, match="expected the query as text"):
        parse(value)  # type: ignore[arg-type]


# -- every query shape in the protocol notes and the stock client ------------------------------

# From /work/shared/reference/ftrack-protocol.md section 5-7, with the placeholders filled in,
# and from the stock client's source (location.py, project_schema.py, user.py, collection.py).
PROTOCOL_QUERIES = [
    ('AssetVersion where asset.parent.id is "sh1" order by version descending', "AssetVersion", []),
    ('select id from AssetVersion where asset.parent.id is "sh1" order by version descending', "AssetVersion", ["id"]),
    (f"select version from AssetVersion where id is {SERVER} offset 0 limit 500", "AssetVersion", ["version"]),
    (f"select version from AssetVersion where id is {SERVER}", "AssetVersion", ["version"]),
    (f'select id, name, label from Location where (id is "{SERVER}") offset 0 limit 500', "Location", ["id", "name", "label"]),
    (f"select asset.id, asset.name from AssetVersion where id is {SERVER}", "AssetVersion", ["asset.id", "asset.name"]),
    (f"select id from AssetVersion where id in ({SERVER},{ORIGIN},{UNMANAGED})", "AssetVersion", ["id"]),
    (
        f"select component_id, resource_identifier from ComponentLocation where location_id is {SERVER} "
        f"and component_id in ({ORIGIN}, {UNMANAGED})",
        "ComponentLocation",
        ["component_id", "resource_identifier"],
    ),
    (f"select members, component_locations.location_id from SequenceComponent where id is {SERVER}", "SequenceComponent", ["members", "component_locations.location_id"]),
    ("select id, version from AssetVersion where asset_id is a1 offset 0 limit 1", "AssetVersion", ["id", "version"]),
    ("select id, version from AssetVersion where asset_id is a1 offset 1 limit 1", "AssetVersion", ["id", "version"]),
    (f'select id from Job where (id is "{SERVER}") offset 0 limit 500', "Job", ["id"]),
    (f'select status, data from Job where id is "{SERVER}" limit 2', "Job", ["status", "data"]),
    (f"select status from Job where id is {SERVER} offset 0 limit 500", "Job", ["status"]),
    (f"select data from Job where id is {SERVER} offset 0 limit 500", "Job", ["data"]),
    (f"select job_components from Job where id is {SERVER} offset 0 limit 500", "Job", ["job_components"]),
    ('select component.id, component.system_type from JobComponent where (component_id is "x"and job_id is "y")', "JobComponent", ["component.id", "component.system_type"]),
    ("select id from Location", "Location", ["id"]),
    ("select id, name from Location offset 0 limit 500", "Location", ["id", "name"]),
    (f"select id from ComponentLocation where component_id is {ORIGIN} and location_id is {SERVER}", "ComponentLocation", ["id"]),
    (f"select task_status from SchemaStatus where schema_id is {SERVER}", "SchemaStatus", ["task_status"]),
    (f"select task_type from SchemaType where schema_id is {SERVER}", "SchemaType", ["task_type"]),
    (f'select id from Timer where user_id = "{SERVER}"', "Timer", ["id"]),
    ("select key, project_id, id, object_type_id, entity_type from CustomAttributeConfiguration", "CustomAttributeConfiguration", ["key", "project_id", "id", "object_type_id", "entity_type"]),
    ("select key, project_id, id, object_type_id, entity_type, is_hierarchical from CustomAttributeConfiguration offset 0 limit 500", "CustomAttributeConfiguration", ["key", "project_id", "id", "object_type_id", "entity_type", "is_hierarchical"]),
    ('select value from Setting where name is "storage_scenario" and group is "STORAGE"', "Setting", ["value"]),
    # The javascript fixtures' recorded queries.
    ("select name, created_at from Task limit 1", "Task", ["name", "created_at"]),
    ("select status.state.short from Task where status.state.short is NOT_STARTED limit 2", "Task", ["status.state.short"]),
    ("select version, asset.versions.version from AssetVersion where asset_id is_not none limit 1", "AssetVersion", ["version", "asset.versions.version"]),
]


@pytest.mark.parametrize(("expression", "entity_type", "projections"), PROTOCOL_QUERIES, ids=[e for e, _, _ in PROTOCOL_QUERIES])
def test_protocol_queries_parse(expression: str, entity_type: str, projections: list[str]) -> None:
    query = parse(expression)
    assert query.entity_type == entity_type
    assert query.projections == projections
    # Every comparison value that appears in the text comes out as a value, and every uuid in
    # the expression ends up in the tree exactly as written.
    uuids = re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", expression)
    assert sorted(uuids) == sorted(v for v in _values(query.where) if isinstance(v, str) and len(v) == 36)


def _values(expr: object) -> list[object]:
    if expr is None:
        return []
    if isinstance(expr, Comparison):
        return list(expr.value) if isinstance(expr.value, list) else [expr.value]
    if isinstance(expr, (And, Or)):
        return [v for item in expr.items for v in _values(item)]
    if isinstance(expr, Not):
        return _values(expr.item)
    return _values(expr.criteria)  # Has / Any


def _stock_populate(entity_type: str, projections: str, keys: list[str], rows: list[list[str]]) -> str:
    """The expression the stock client's populate builds (session.py, composite and single keys)."""
    query = f"select {projections} from {entity_type}"
    if len(keys) > 1:
        conditions = ["(" + "and ".join(f'{k} is "{v}"' for k, v in zip(keys, row)) + ")" for row in rows]
        return f"{query} where {' or '.join(conditions)}"
    if len(rows) > 1:
        return f"{query} where {keys[0]} in ({','.join(row[0] for row in rows)})"
    return f"{query} where {keys[0]} is {rows[0][0]}"


@pytest.mark.parametrize("seed", range(25))
def test_stock_client_shapes_with_random_keys(seed: int) -> None:
    rng = random.Random(seed)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=1)) for _ in range(rng.randint(1, 6))]
    projections = rng.choice(["id", "id, name", "component.id, component.system_type", "members, component_locations.location_id"])
    page = f" offset {rng.randint(0, 10_000)} limit {rng.choice([1, 2, 500])}"

    single = parse(_stock_populate("Component", projections, ["id"], [[i] for i in ids]) + page)
    assert single.projections == [p.strip() for p in projections.split(",")]
    expected = C("id", "is", ids[0]) if len(ids) == 1 else C("id", "in", ids)
    assert single.where == expected
    assert (single.offset, single.limit) == tuple(int(n) for n in page.split()[1::2])

    composite = parse(_stock_populate("JobComponent", projections, ["component_id", "job_id"], [[i, i[::-1]] for i in ids]))
    conditions = [And([C("component_id", "is", i), C("job_id", "is", i[::-1])]) for i in ids]
    assert composite.where == (conditions[0] if len(ids) == 1 else Or(conditions))

    # session.get: `T where (id is "x")` with default projections prepended.
    got = parse(f'select id, name from Location where (id is "{ids[0]}")' + page)
    assert got.where == C("id", "is", ids[0])


# -- round trip: formatting a random tree and parsing it gives the tree back --------------------


def _format_value(value: object, rng: random.Random) -> str:
    """Write *value* as a query literal, varying the spellings the parser must accept."""
    if value is None:
        return rng.choice(["None", "null", "NONE"])
    if isinstance(value, bool):
        return rng.choice([str(value), str(value).lower(), str(value).upper()])
    if isinstance(value, (int, float)):
        return repr(value)
    assert isinstance(value, str)
    if rng.random() < 0.5 and "'" not in value:
        return "'" + value.replace("\\", "\\\\") + "'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format(expr: object, rng: random.Random) -> str:
    """Write a criteria tree as query text (a test-side inverse of the parser)."""
    if isinstance(expr, Comparison):
        op = expr.op
        if op in ("in", "not_in"):
            values = ", ".join(_format_value(v, rng) for v in expr.value)  # type: ignore[union-attr]
            return f"{expr.path} {op} ({values})"
        return f"{expr.path} {op} {_format_value(expr.value, rng)}"
    if isinstance(expr, Not):
        return "not (" + _format(expr.item, rng) + ")"
    if isinstance(expr, Has):
        return f"{expr.path} has ({_format(expr.criteria, rng)})"
    if isinstance(expr, Any):
        inner = "" if expr.criteria is None else _format(expr.criteria, rng)
        return f"{expr.path} any ({inner})"
    joiner = " and " if isinstance(expr, And) else " or "
    return "(" + joiner.join(_format(item, rng) for item in expr.items) + ")"  # type: ignore[union-attr]


WORDS = ["rock and roll", 'say "hi"', "back\\slash", "50\\%", "", "or", "(x)", "a, b", "élan", "limit 5", "{braces}"]
PATHS = ["name", "asset.parent.id", "from.id", "component_locations.location_id", "x_1"]


def _random_value(rng: random.Random) -> object:
    kind = rng.randrange(5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.randint(-10**6, 10**6)
    if kind == 3:
        return round(rng.uniform(-1000, 1000), 3)
    return rng.choice(WORDS + [str(uuid.UUID(int=rng.getrandbits(128)))])


def _random_expr(rng: random.Random, depth: int) -> object:
    kind = rng.randrange(6) if depth < 4 else 0
    path = rng.choice(PATHS)
    if kind == 0:
        op = rng.choice(["is", "is_not", "<", ">", "<=", ">=", "in", "not_in", "like", "not_like"])
        if op in ("in", "not_in"):
            return C(path, op, [_random_value(rng) for _ in range(rng.randrange(4))])
        if op in ("like", "not_like"):
            return C(path, op, rng.choice(WORDS) + "%")
        return C(path, op, _random_value(rng))
    if kind == 1:
        return And([_random_expr(rng, depth + 1) for _ in range(rng.randint(2, 3))])
    if kind == 2:
        return Or([_random_expr(rng, depth + 1) for _ in range(rng.randint(2, 3))])
    if kind == 3:
        return Not(_random_expr(rng, depth + 1))
    if kind == 4:
        return Has(path, _random_expr(rng, depth + 1))
    return Any(path, None if rng.random() < 0.2 else _random_expr(rng, depth + 1))


@pytest.mark.parametrize("seed", range(40))
def test_round_trip_of_random_queries(seed: int) -> None:
    rng = random.Random(seed)
    where = _random_expr(rng, 0)
    projections = rng.sample(PATHS, rng.randrange(len(PATHS)))
    order_by = [(p, rng.choice([True, False])) for p in rng.sample(PATHS, rng.randrange(3))]
    offset = rng.choice([None, 0, 7])
    limit = rng.choice([None, 0, 500])
    text = (f"select {', '.join(projections)} from " if projections or rng.random() < 0.5 else "")
    text += f"Shot where {_format(where, rng)}"
    if order_by:
        text += " order by " + ", ".join(f"{p} {'desc' if d else 'asc'}" for p, d in order_by)
    tail = [f"offset {offset}"] * (offset is not None) + [f"limit {limit}"] * (limit is not None)
    rng.shuffle(tail)
    text = " ".join([text, *tail])
    assert parse(text) == Q("Shot", projections, where, order_by, offset, limit), text
