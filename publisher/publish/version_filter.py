"""The versions filter: one rule, applied by the server query and by the window's loaded rows.

The window filters the rows it has loaded at once, then asks the server for the matching rows
of the whole context; both answers must agree, or a match would vanish when the server's
answer arrives. So the rule is written once here, as data: the fields a word is looked for in,
and how a word matches (ftrack's ``like``: case-insensitive, ``%`` and ``_`` wildcards). A word
such as ``v002`` or ``2`` also matches that version number. Every word of the filter must match.
No Qt; any thread.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from publisher.api.quoting import quote

#: The attribute paths of an AssetVersion a word is looked for in (the server side).
SEARCHED_PATHS: tuple[str, ...] = (
    "asset.name", "asset.type.name", "status.name", "comment",
    "user.username", "user.first_name", "user.last_name",
)

_VERSION_WORD = re.compile(r"v?0*(\d{1,9})")


@dataclass(frozen=True)
class SearchedValues:
    """The values of one version that a word is looked for in, in ``SEARCHED_PATHS`` order."""

    texts: tuple[str, ...]
    version: int


def words(text: str) -> list[str]:
    """The filter's words: split on white space, lower case."""
    return (text or "").lower().split()


def version_number(word: str) -> int | None:
    """The version number a word names (``v002``, ``V2``, ``2``), or ``None``."""
    m = _VERSION_WORD.fullmatch(word.lower())
    return int(m.group(1)) if m else None


def where_clause(text: str) -> str:
    """The query condition for ``text`` ("" when it has no words)."""
    clauses = []
    for word in words(text):
        pattern = quote(f"%{word}%")
        terms = [f"{path} like {pattern}" for path in SEARCHED_PATHS]
        number = version_number(word)
        if number is not None:
            terms.append(f"version is {number}")
        clauses.append("(" + " or ".join(terms) + ")")
    return " and ".join(clauses)


@lru_cache(maxsize=256)
def _like(word: str) -> re.Pattern[str]:
    # ftrack's like: % any run of characters, _ any one character, case-insensitive.
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in word)
    return re.compile(f".*{body}.*", re.IGNORECASE | re.DOTALL)


def matches(values: SearchedValues, filter_words: Sequence[str]) -> bool:
    """Whether a version with ``values`` passes every word (as ``where_clause`` would)."""
    for word in filter_words:
        if version_number(word) == values.version:
            continue
        like = _like(word).fullmatch
        if not any(like(text) for text in values.texts if text):
            return False
    return True
