"""Query results that fetch pages lazily, as the server hands them out (``metadata.next.offset``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Iterator

from . import exceptions

if TYPE_CHECKING:  # pragma: no cover
    from .entity import Entity
    from .session import Session

_SELECT_RE = re.compile(r"^\s*select\s+.+?\s+from\s+(?P<type>\w+)", re.IGNORECASE | re.DOTALL)
_BARE_RE = re.compile(r"^\s*(?P<type>\w+)")
_TAIL_RE = re.compile(r"\s+(?P<word>offset|limit)\s+(?P<value>\d+)\s*$", re.IGNORECASE)


def entity_type_of(expression: str) -> str:
    """The entity type an expression selects from (``select a from T ...`` or ``T where ...``)."""
    match = _SELECT_RE.match(expression) or _BARE_RE.match(expression)
    if not match:
        raise ValueError(f"Not a query expression (expected 'select ... from Type ...' or 'Type ...'): {expression!r}")
    return match["type"]


def split_paging(expression: str) -> tuple[str, int | None, int | None]:
    """``(expression without a trailing offset/limit, offset, limit)``."""
    offset = limit = None
    while True:
        match = _TAIL_RE.search(expression)
        if not match:
            break
        if match["word"].lower() == "offset" and offset is None:
            offset = int(match["value"])
        elif match["word"].lower() == "limit" and limit is None:
            limit = int(match["value"])
        else:
            break
        expression = expression[: match.start()]
    return expression.rstrip(), offset, limit


class QueryResult(Sequence):
    """The entities matching a query; pages are fetched when iteration or indexing reaches them.

    Create through :meth:`Session.query`. ``first()`` and ``one()`` make one small request of
    their own; ``all()``, ``len()`` and indexing fetch every page.
    """

    def __init__(self, session: "Session", expression: str, page_size: int = 500) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, not {page_size}")
        self.session = session
        self.entity_type = entity_type_of(expression)
        entity_class = session.entity_class(self.entity_type)
        if not _SELECT_RE.match(expression):
            expression = (f"select {', '.join(entity_class.default_projections)} from "
                          + expression.lstrip())
        self.expression, self._offset, self._limit = split_paging(expression)
        self.page_size = page_size
        self._results: list["Entity"] = []
        self._next_offset: int | None = self._offset or 0
        self._done = self._limit == 0

    def __repr__(self) -> str:
        state = "all fetched" if self._done else f"{len(self._results)} fetched"
        return f"<QueryResult({self.expression!r}, {state})>"

    def _fetch_page(self) -> None:
        size = self.page_size
        if self._limit is not None:
            remaining = self._limit - len(self._results)
            if remaining <= 0:
                self._done = True
                return
            size = min(size, remaining)
        entities, next_offset = self.session._query(
            f"{self.expression} offset {self._next_offset} limit {size}")
        self._results.extend(entities)
        if next_offset is None or (self._limit is not None and len(self._results) >= self._limit):
            self._done = True
        else:
            self._next_offset = int(next_offset)

    def _fetch_all(self) -> None:
        while not self._done:
            self._fetch_page()

    def __iter__(self) -> Iterator["Entity"]:
        index = 0
        while True:
            while index < len(self._results):
                yield self._results[index]
                index += 1
            if self._done:
                return
            self._fetch_page()

    def __len__(self) -> int:
        self._fetch_all()
        return len(self._results)

    def __getitem__(self, index):
        self._fetch_all()
        return self._results[index]

    def all(self) -> list["Entity"]:
        """Every matching entity (fetches all pages)."""
        self._fetch_all()
        return list(self._results)

    def first(self) -> "Entity | None":
        """The first matching entity or ``None`` (one request, ``limit 1``)."""
        if self._limit == 0:
            return None
        expression = self.expression
        if self._offset:
            expression += f" offset {self._offset}"
        entities, _ = self.session._query(expression + " limit 1")
        return entities[0] if entities else None

    def one(self) -> "Entity":
        """The only matching entity (one request, ``limit 2``).

        Raises :class:`NotFoundError` for none, :class:`MultipleResultsFoundError` for several,
        and ``ValueError`` when the expression has its own offset or limit.
        """
        if self._offset is not None or self._limit is not None:
            raise ValueError("one() cannot be used with an expression that has an offset or limit: "
                             f"{self.expression!r}")
        entities, _ = self.session._query(self.expression + " limit 2")
        if not entities:
            raise exceptions.NotFoundError(f"No {self.entity_type} found for: {self.expression}")
        if len(entities) > 1:
            raise exceptions.MultipleResultsFoundError(
                f"More than one {self.entity_type} found for: {self.expression}")
        return entities[0]
