"""Bounded JSON parsing for request bodies: the nesting depth and the number of values are
checked on the raw bytes before ``json.loads`` builds anything, so a small body cannot expand
into gigabytes of Python objects (``[{},{},...]``: one dict per three bytes).
"""

from __future__ import annotations

import json
import re
from typing import Any

from publisher.server.errors import ValidationError

#: Nesting of lists and objects in one ``/api`` body (a batch needs about six).
MAX_DEPTH = 64
#: Values (containers, and items separated by commas) in one ``/api`` body: a batch creating
#: a 10,000-frame sequence's components holds about 300,000.
MAX_ITEMS = 1_000_000

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def loads_bounded(raw: bytes, max_depth: int = MAX_DEPTH, max_items: int = MAX_ITEMS) -> Any:
    """``json.loads(raw)`` once the body is known to stay within ``max_depth`` and ``max_items``;
    a ValidationError naming the limit otherwise, or saying that the body is not JSON."""
    openings = raw.count(b"[") + raw.count(b"{")
    structure = raw
    if openings > max_depth or openings + raw.count(b",") > max_items:
        # Strings may hold any bracket or comma: look at the structure of the rest only (a copy,
        # made only for bodies big enough to need it).
        structure = _STRING.sub(b'""', raw)
        openings = structure.count(b"[") + structure.count(b"{")
    items = openings + structure.count(b",")
    if items > max_items:
        raise ValidationError(f"The request body holds more than {max_items:,} values, the limit of one request; "
                              "send the operations in several batches.")
    if openings > max_depth:
        depth = deepest = 0
        for match in _BRACKETS.finditer(structure):
            depth += 1 if match.group() in (b"[", b"{") else -1
            deepest = max(deepest, depth)
        if deepest > max_depth:
            raise ValidationError(f"The request body nests lists and objects {deepest} deep; the limit is {max_depth}.")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ValidationError(f"The request body is not valid JSON: {exc}. Send a JSON list of operations.") from None
