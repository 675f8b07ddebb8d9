"""Parser for the ftrack query language, as sent by ftrack clients to the embedded server.

``parse(expression)`` turns a query such as
``select id, version from AssetVersion where asset.parent.id is "sh1" order by version descending``
into a :class:`Query` tree that the server compiles to SQL. It accepts the shapes the stock
ftrack-python-api client emits, including its quirks (unquoted uuids and bare words,
``"x"and`` with no space, ``in (a,b)``, ``select  from T`` when a schema has no default
projections). Anything else raises :class:`QuerySyntaxError` saying what is wrong and where.

The tokenizer is one compiled regular expression applied left to right and the parser is a
recursive descent over the token list, so parsing is linear in the length of the query.
Pure stdlib; safe to call from any thread (no shared mutable state).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Union

__all__ = [
    "QuerySyntaxError",
    "Query",
    "Expr",
    "Comparison",
    "And",
    "Or",
    "Not",
    "Has",
    "Any",
    "OPERATORS",
    "MAX_NESTING",
    "parse",
]


class QuerySyntaxError(ValueError):
    """A query expression that cannot be parsed.

    The message says what is wrong, at which (1-based) character position and near which
    word; it never contains ``{`` or ``}`` because ftrack clients ``str.format`` server
    messages. ``offset`` is the 0-based index into the expression (its length at the end).
    """

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass
class Comparison:
    """``path op value``; ``value`` is a list for ``in``/``not_in``."""

    path: str
    op: str
    value: object


@dataclass
class And:
    """All of ``items`` hold (two or more items)."""

    items: list[Expr]


@dataclass
class Or:
    """At least one of ``items`` holds (two or more items)."""

    items: list[Expr]


@dataclass
class Not:
    """``item`` does not hold."""

    item: Expr


@dataclass
class Has:
    """``path has (criteria)``: the scalar relation at ``path`` matches ``criteria``."""

    path: str
    criteria: Expr


@dataclass
class Any:
    """``path any (criteria)``: some member of the collection at ``path`` matches ``criteria``.

    ``criteria`` is None for the documented ``path any ()`` form, which means "the collection
    is not empty" (``not timelogs any ()`` finds entities without timelogs).
    """

    path: str
    criteria: Expr | None


Expr = Union[Comparison, And, Or, Not, Has, Any]


@dataclass
class Query:
    """A parsed query: what to select from which entity type, filtered, ordered and paged."""

    entity_type: str
    projections: list[str] = field(default_factory=list)
    where: Expr | None = None
    order_by: list[tuple[str, bool]] = field(default_factory=list)
    offset: int | None = None
    limit: int | None = None


#: Operator word or symbol (lower case) -> canonical operator in :class:`Comparison`.
OPERATORS: dict[str, str] = {
    "is": "is",
    "=": "is",
    "is_not": "is_not",
    "!=": "is_not",
    "<": "<",
    "before": "<",
    "less_than": "<",
    ">": ">",
    "after": ">",
    "greater_than": ">",
    "<=": "<=",
    ">=": ">=",
    "in": "in",
    "not_in": "not_in",
    "like": "like",
    "not_like": "not_like",
}

#: Deepest nesting of parentheses (including `has (...)` and `any (...)`) and `not`s that parses;
#: deeper queries raise QuerySyntaxError instead of exhausting the interpreter stack.
MAX_NESTING = 100

_DIRECTIONS = {"ascending": False, "asc": False, "descending": True, "desc": True}

# Words that end a criteria expression or a clause; never read as paths or bare values.
# 'from' is missing on purpose: AssetVersionLink and TypedContextLink have an attribute named
# `from`, so it is a path wherever the keyword cannot be meant.
_RESERVED = frozenset(
    ["select", "where", "order", "offset", "limit", "and", "or", "not", "has", "any"]
)

# Token kinds.
_WORD, _STRING, _OP, _LPAREN, _RPAREN, _COMMA, _END = range(7)

# A quote, paren, comma, comparison symbol or whitespace ends a bare word, which is why
# `"x"and` and `in (a,b)` tokenize as the stock client means them. A lone '!' stays in a word.
_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<string>"[^"\\]*(?:\\.[^"\\]*)*"|'[^'\\]*(?:\\.[^'\\]*)*')
    | (?P<op><=|>=|!=|=|<|>)
    | (?P<punct>[(),])
    | (?P<word>(?:[^\s(),"'=<>!]|!(?!=))+)
    | (?P<quote>["'])
    )
    """,
    re.VERBOSE | re.DOTALL,
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_INTEGER = re.compile(r"-?[0-9]+\Z")
_DECIMAL = re.compile(r"-?(?:[0-9]+\.[0-9]*|\.[0-9]+)\Z")
_UNSIGNED = re.compile(r"[0-9]+\Z")
# Only quotes and backslashes are escapes; any other backslash is kept so Windows paths and
# LIKE patterns such as "50\%" survive unchanged.
_ESCAPE = re.compile(r"\\([\"'\\])")
_BRACES = str.maketrans("{}", "[]")


class _Token:
    __slots__ = ("kind", "text", "low", "pos")

    def __init__(self, kind: int, text: str, pos: int) -> None:
        self.kind = kind
        self.text = text
        self.low = text.lower() if kind == _WORD else text
        self.pos = pos


def _error(expression: str, message: str, pos: int, near: str | None = None) -> QuerySyntaxError:
    if pos >= len(expression) and near is None:
        where = "at the end of the query"
    else:
        if near is None:
            near = expression[pos:pos + 30].split(None, 1)[0] if expression[pos:].strip() else ""
        if len(near) > 30:
            near = near[:27] + "..."
        where = "at position %d near %r" % (pos + 1, near)
    text = ("Malformed query: %s %s" % (message, where)).translate(_BRACES)
    return QuerySyntaxError(text, pos)


def _tokenize(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    append = tokens.append
    match = _TOKEN.match
    pos = 0
    end = len(expression)
    while True:
        m = match(expression, pos)
        if m is None or m.lastgroup is None:
            # Only trailing whitespace is left (the pattern matches everything else).
            break
        kind = m.lastgroup
        start = m.start(kind)
        text = m.group(kind)
        if kind == "word":
            append(_Token(_WORD, text, start))
        elif kind == "string":
            append(_Token(_STRING, _ESCAPE.sub(r"\1", text[1:-1]), start))
        elif kind == "op":
            append(_Token(_OP, text, start))
        elif kind == "punct":
            punct_kind = _LPAREN if text == "(" else _RPAREN if text == ")" else _COMMA
            append(_Token(punct_kind, text, start))
        else:
            raise _error(
                expression,
                "unterminated string: the %s that opens it is never closed" % text,
                start,
                expression[start:start + 20],
            )
        pos = m.end()
        if pos >= end:
            break
    tokens.append(_Token(_END, "", end))
    return tokens


class _Parser:
    """Recursive descent over the token list; one instance per ``parse`` call."""

    __slots__ = ("expression", "tokens", "index", "depth")

    def __init__(self, expression: str, tokens: list[_Token]) -> None:
        self.expression = expression
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    # -- helpers -----------------------------------------------------------------------------

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != _END:
            self.index += 1
        return token

    def is_word(self, *words: str) -> bool:
        token = self.tokens[self.index]
        return token.kind == _WORD and token.low in words

    def fail(self, message: str, token: _Token | None = None) -> QuerySyntaxError:
        token = token or self.peek()
        if token.kind == _END:
            return _error(self.expression, message, len(self.expression))
        # A string token's text is unescaped; quote the query as written instead.
        near = token.text if token.kind != _STRING else self.expression[token.pos:token.pos + 30]
        return _error(self.expression, message, token.pos, near)

    def unclosed(self, opening: _Token) -> QuerySyntaxError:
        """The error for the query ending before the ')' that closes ``opening``."""
        return _error(
            self.expression,
            "unbalanced parentheses: the '(' at position %d is never closed" % (opening.pos + 1),
            len(self.expression),
        )

    def identifier(self, what: str, after: str, pattern: re.Pattern[str]) -> str:
        token = self.peek()
        if token.kind != _WORD or token.low in _RESERVED or not pattern.match(token.text):
            raise self.fail("expected %s after %s" % (what, after))
        self.index += 1
        return token.text

    def entity_type(self, where: str) -> str:
        token = self.peek()
        if (
            token.kind != _WORD
            or token.low in _RESERVED
            or token.low == "from"
            or not _IDENTIFIER.match(token.text)
        ):
            raise self.fail("expected an entity type name such as 'Task' %s" % where)
        self.index += 1
        return token.text

    def projection_named_from(self) -> bool:
        """Whether the current word `from` is the attribute of that name, not the keyword."""
        following = self.tokens[self.index + 1]
        return following.kind == _COMMA or (following.kind == _WORD and following.low == "from")

    def projection(self, after: str) -> str:
        if self.is_word("from") and not self.projection_named_from():
            raise self.fail("expected a projection (a dotted attribute path) after %s" % after)
        return self.identifier("a projection (a dotted attribute path)", after, _PATH)

    def whole_number(self, keyword: str) -> int:
        token = self.peek()
        if token.kind != _WORD or not _UNSIGNED.match(token.text):
            raise self.fail("expected a whole number (0 or more) after '%s'" % keyword)
        self.index += 1
        return int(token.text)

    # -- query -------------------------------------------------------------------------------

    def query(self) -> Query:
        if self.peek().kind == _END:
            raise _error(
                self.expression,
                "the query is empty; expected e.g. 'Task' or 'select id from Task'",
                len(self.expression),
            )
        projections: list[str] = []
        if self.is_word("select"):
            self.index += 1
            # `select  from T` is what the stock client sends for a type without default
            # projections, so an empty list is allowed.
            if not self.is_word("from") or self.projection_named_from():
                projections.append(self.projection("'select'"))
                while self.peek().kind == _COMMA:
                    self.index += 1
                    projections.append(self.projection("','"))
            if not self.is_word("from"):
                raise self.fail("expected 'from' after the projections")
            self.index += 1
            entity_type = self.entity_type("after 'from'")
        else:
            entity_type = self.entity_type("at the start")

        result = Query(entity_type=entity_type, projections=projections)
        if self.is_word("where"):
            where_token = self.advance()
            if self.peek().kind == _END or self.is_word("order", "offset", "limit"):
                raise self.fail(
                    "empty 'where': expected criteria such as 'name is \"x\"'", where_token
                )
            result.where = self.or_expr()
            after = "the criteria"
            expected = "'and', 'or', 'order by', 'offset', 'limit' or the end"
        else:
            after = "the entity type"
            expected = "'where', 'order by', 'offset', 'limit' or the end"

        while True:
            token = self.peek()
            if token.kind == _END:
                return result
            if token.kind == _WORD and token.low == "order" and not result.order_by:
                self.index += 1
                if not self.is_word("by"):
                    raise self.fail("expected 'by' after 'order'")
                self.index += 1
                result.order_by = self.order_terms()
            elif token.kind == _WORD and token.low == "offset" and result.offset is None:
                self.index += 1
                result.offset = self.whole_number("offset")
            elif token.kind == _WORD and token.low == "limit" and result.limit is None:
                self.index += 1
                result.limit = self.whole_number("limit")
            elif token.kind == _WORD and token.low in ("order", "offset", "limit"):
                raise self.fail("'%s' given twice" % token.low)
            elif token.kind == _RPAREN:
                raise self.fail("unmatched ')'")
            else:
                raise self.fail("expected %s after %s" % (expected, after))
            after = "'%s'" % ("order by" if token.low == "order" else token.low)
            expected = "'order by', 'offset', 'limit' or the end"

    def order_terms(self) -> list[tuple[str, bool]]:
        terms: list[tuple[str, bool]] = []
        after = "'order by'"
        while True:
            path = self.identifier("an attribute path to order by", after, _PATH)
            descending = False
            token = self.peek()
            if token.kind == _WORD and token.low in _DIRECTIONS:
                descending = _DIRECTIONS[token.low]
                self.index += 1
            terms.append((path, descending))
            if self.peek().kind != _COMMA:
                return terms
            self.index += 1
            after = "',' in 'order by'"

    # -- criteria ----------------------------------------------------------------------------

    def or_expr(self) -> Expr:
        return self._joined("or", self.and_expr, Or)

    def and_expr(self) -> Expr:
        return self._joined("and", self.not_expr, And)

    def _joined(self, word: str, operand: Callable[[], Expr], node: Callable[[list[Expr]], Expr]) -> Expr:
        """One ``operand``, or several joined by the keyword ``word`` as one ``node`` (flat, so a
        long chain of ``and``s stays one level deep)."""
        first = operand()
        if not self.is_word(word):
            return first
        items = [first]
        while self.is_word(word):
            self.index += 1
            items.append(operand())
        return node(items)

    def not_expr(self) -> Expr:
        # A loop, not recursion, so a long run of `not`s cannot exhaust the stack; each `not`
        # still counts as a level so the tree handed to the compiler stays shallow.
        negations = 0
        while self.is_word("not"):
            negations += 1
            if self.depth + negations > MAX_NESTING:
                raise self.fail(
                    "criteria nested more than %d levels deep: simplify the query" % MAX_NESTING
                )
            self.index += 1
        self.depth += negations
        expr = self.primary()
        self.depth -= negations
        for _ in range(negations):
            expr = Not(expr)
        return expr

    def group(self, after: str) -> Expr:
        """``( criteria )``, checking both parentheses."""
        opening = self.peek()
        if opening.kind != _LPAREN:
            raise self.fail("expected '(' after %s" % after)
        self.index += 1
        if self.peek().kind == _RPAREN:
            raise self.fail("empty parentheses: expected criteria inside '(...)'")
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(
                "criteria nested more than %d levels deep: simplify the query" % MAX_NESTING, opening
            )
        inner = self.or_expr()
        self.depth -= 1
        token = self.peek()
        if token.kind != _RPAREN:
            if token.kind == _END:
                raise self.unclosed(opening)
            raise self.fail("expected 'and', 'or' or ')'")
        self.index += 1
        return inner

    def primary(self) -> Expr:
        token = self.peek()
        if token.kind == _LPAREN:
            return self.group("'where'")
        if token.kind == _END:
            raise self.fail("expected criteria")
        if token.kind != _WORD or token.low in _RESERVED or not _PATH.match(token.text):
            raise self.fail("expected an attribute path such as 'name' or 'asset.parent.id'")
        path = token.text
        self.index += 1

        op_token = self.peek()
        if op_token.kind == _WORD and op_token.low == "has":
            self.index += 1
            return Has(path, self.group("'has'"))
        if op_token.kind == _WORD and op_token.low == "any":
            self.index += 1
            tokens = self.tokens
            if tokens[self.index].kind == _LPAREN and tokens[self.index + 1].kind == _RPAREN:
                self.index += 2
                return Any(path, None)
            return Any(path, self.group("'any'"))
        op = OPERATORS.get(op_token.low) if op_token.kind in (_WORD, _OP) else None
        if op is None:
            raise self.fail(
                "unknown operator after %r: expected one of is, is_not, =, !=, <, >, <=, >=, "
                "after, before, greater_than, less_than, in, not_in, like, not_like, has, any"
                % path,
                op_token,
            )
        self.index += 1
        if op in ("in", "not_in"):
            return Comparison(path, op, self.value_list(op_token.text))
        return Comparison(path, op, self.value(op_token.text, op in ("like", "not_like")))

    def value(self, after: str, raw: bool = False) -> object:
        token = self.peek()
        if token.kind == _STRING:
            self.index += 1
            return token.text
        if token.kind != _WORD or token.low in ("and", "or"):
            raise self.fail("expected a value after '%s'" % after)
        if token.low == "not":
            raise self.fail(
                "expected a value after '%s' (write 'is_not', 'not_in' or 'not_like' to negate)"
                % after
            )
        self.index += 1
        text = token.text
        if raw:
            return text
        low = token.low
        if low in ("none", "null"):
            return None
        if low == "true":
            return True
        if low == "false":
            return False
        if _INTEGER.match(text):
            return int(text)
        if _DECIMAL.match(text):
            return float(text)
        return text

    def value_list(self, op: str) -> list[object]:
        opening = self.peek()
        if opening.kind != _LPAREN:
            raise self.fail("expected '(' with a list of values after '%s'" % op)
        self.index += 1
        values: list[object] = []
        if self.peek().kind == _RPAREN:
            self.index += 1
            return values
        while True:
            if self.is_word("select"):
                raise self.fail("subqueries are not supported in '%s (...)': list the values" % op)
            values.append(self.value("%s (" % op if not values else ","))
            token = self.peek()
            if token.kind == _COMMA:
                self.index += 1
                continue
            if token.kind == _RPAREN:
                self.index += 1
                return values
            if token.kind == _END:
                raise self.unclosed(opening)
            raise self.fail("expected ',' or ')' in the value list of '%s'" % op)


def parse(expression: str) -> Query:
    """Parse an ftrack query *expression* into a :class:`Query`.

    Raises :class:`QuerySyntaxError` (a ValueError) saying what is wrong and where.
    """
    if not isinstance(expression, str):
        raise QuerySyntaxError(
            "Malformed query: expected the query as text, got %s" % type(expression).__name__, 0
        )
    return _Parser(expression, _tokenize(expression)).query()
