"""Values written into query expressions: the one place that quotes and escapes them.

Callable from any thread.
"""

from __future__ import annotations

from typing import Any, Iterable


def quote(value: Any) -> str:
    """``value`` as a double-quoted query string, its backslashes and double quotes escaped."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def quote_list(values: Iterable[Any]) -> str:
    """``values`` quoted and comma-separated, for ``in (...)`` (without the parentheses)."""
    return ", ".join(quote(value) for value in values)


__all__ = ["quote", "quote_list"]
