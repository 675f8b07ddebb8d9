"""The subscription expression grammar of ftrack's event hub, shared by the embedded server's
hub (routing) and the client's hub (handing an event to its matching callbacks).

``topic=ftrack.update and data.entities.x=1``: conditions ``key<op>value`` (``=``, ``!=``,
``>=``, ``<=``, ``>``, ``<``) on a dotted path into the candidate mapping, ``and``, ``or``,
``not`` (case-insensitive), parentheses and quoted values. With ``=``, a value ending in ``*``
matches any value that contains the text before it (ftrack tests containment). A missing key
never matches; neither does a comparison between a number and text. Pure Python, no I/O;
callable from any thread (parsed expressions are immutable).
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any, Callable


class ExpressionError(ValueError):
    """A subscription or target expression that the grammar does not accept."""


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lpar>\() | (?P<rpar>\)) |
        (?P<op>!=|>=|<=|=|>|<) |
        (?P<quoted>"(?:[^"\n\r\\]|""|\\.)*"|'(?:[^'\n\r\\]|''|\\.)*') |
        (?P<word>[A-Za-z0-9\-_,./*@+]+)
    )""",
    re.VERBOSE,
)
_FIELD = re.compile(r"^[A-Za-z0-9_.]+$")


class Expression:
    """A parsed expression; :meth:`match` tests a candidate mapping (an event or metadata)."""

    def match(self, candidate: Any) -> bool:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError


@dataclass(frozen=True)
class Condition(Expression):
    """``key <op> value``: ``key`` a dotted path into the candidate. A missing key never
    matches. With ``=``, a value ending in ``*`` matches any value containing the text before
    the ``*`` (ftrack's hub tests containment, not only a prefix)."""

    key: str
    op: str
    value: str

    def match(self, candidate: Any) -> bool:
        found = candidate
        try:
            for part in self.key.split("."):
                found = found[part]
        except (KeyError, TypeError, IndexError):
            return False
        try:
            if self.op == "=" and self.value.endswith("*"):
                return self.value[:-1] in found
            return bool(_OPERATORS[self.op](found, self.value))
        except TypeError:  # a number compared with text: no match rather than an error
            return False


@dataclass(frozen=True)
class All(Expression):
    """Every part matches."""

    parts: tuple[Expression, ...]

    def match(self, candidate: Any) -> bool:
        return all(p.match(candidate) for p in self.parts)


@dataclass(frozen=True)
class AnyOf(Expression):
    """At least one part matches."""

    parts: tuple[Expression, ...]

    def match(self, candidate: Any) -> bool:
        return any(p.match(candidate) for p in self.parts)


@dataclass(frozen=True)
class Not(Expression):
    """The part does not match."""

    part: Expression

    def match(self, candidate: Any) -> bool:
        return not self.part.match(candidate)


def _unquote(text: str) -> str:
    # ftrack's parser only strips the quotes (escapes stay as written), and so does this.
    return text[1:-1]


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos, text = [], 0, text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ExpressionError(f"Cannot read the expression '{text}' at character {pos + 1}.")
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "word" and value.lower() in ("and", "or", "not"):
            kind = value.lower()
        tokens.append((kind, value))
        pos = m.end()
    return tokens


class _Parser:
    """Recursive descent over the grammar: or > and > not > (parenthesis | condition)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self, kind: str) -> str:
        if self.peek() != kind:
            found = self.tokens[self.pos][1] if self.pos < len(self.tokens) else "the end"
            raise ExpressionError(f"Failed to parse '{self.text}': expected {kind}, found '{found}'.")
        value = self.tokens[self.pos][1]
        self.pos += 1
        return value

    def parse(self) -> Expression:
        result = self.either()
        if self.pos != len(self.tokens):
            raise ExpressionError(f"Failed to parse '{self.text}': unexpected '{self.tokens[self.pos][1]}'.")
        return result

    def either(self) -> Expression:
        parts = [self.both()]
        while self.peek() == "or":
            self.pos += 1
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def both(self) -> Expression:
        parts = [self.negated()]
        while self.peek() == "and":
            self.pos += 1
            parts.append(self.negated())
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def negated(self) -> Expression:
        if self.peek() == "not":
            self.pos += 1
            return Not(self.negated())
        return self.atom()

    def atom(self) -> Expression:
        if self.peek() == "lpar":
            self.pos += 1
            inner = self.either()
            self.take("rpar")
            return inner
        key = self.take("word")
        if not _FIELD.match(key):
            raise ExpressionError(f"Failed to parse '{self.text}': '{key}' is not a field name.")
        op = self.take("op")
        kind = self.peek()
        if kind == "quoted":
            value = _unquote(self.take("quoted"))
        elif kind in ("word", "and", "or", "not"):
            value = self.tokens[self.pos][1]
            self.pos += 1
        else:
            raise ExpressionError(f"Failed to parse '{self.text}': '{key}{op}' has no value.")
        return Condition(key, op, value)


def parse_expression(text: object) -> Expression:
    """The expression ``text`` states (``topic=ftrack.update and data.x=1``, ``or``, ``not``,
    parentheses, quoted values, a trailing ``*`` wildcard); raises :class:`ExpressionError`."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("An expression must be non-empty text such as 'topic=ftrack.update'.")
    return _Parser(text.strip()).parse()
