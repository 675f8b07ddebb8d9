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
_INNERMOST = re.compile(rb"[\[{][\]}]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def loads_bounded(raw: bytes | bytearray, max_depth: int = MAX_DEPTH, max_items: int = MAX_ITEMS) -> Any:
    """``json.loads(raw)`` once the body is known to stay within ``max_depth`` and ``max_items``;
    a ValidationError naming the limit otherwise, or saying that the body is not JSON.

    Every step runs in C (counts, one substitution, a few passes over the brackets): the
    checks cost a small fraction of the parse they guard.
    """
    openings = raw.count(b"[") + raw.count(b"{")
    if openings <= max_depth and openings + raw.count(b",") <= max_items:
        structure = raw  # cannot break a limit, whatever the strings hold
    else:
        # Strings may hold any bracket or comma: look at the structure of the rest.
        structure = _STRING.sub(b"", raw)
    if structure.count(b"[") + structure.count(b"{") + structure.count(b",") > max_items:
        raise ValidationError(f"The request body holds more than {max_items:,} values, the limit of one request; "
                              "send the operations in several batches.")
    brackets = structure.translate(None, _NOT_BRACKETS)
    level = 0
    while brackets:
        # Each pass takes away the innermost pairs: as many passes as the nesting is deep.
        reduced = _INNERMOST.sub(b"", brackets)
        if len(reduced) == len(brackets):
            break  # unbalanced: json.loads says where
        level += 1
        if level > max_depth:
            raise ValidationError(f"The request body nests lists and objects more than {max_depth} deep, the limit.")
        brackets = reduced
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ValidationError(f"The request body is not valid JSON: {exc}. Send a JSON list of operations.") from None
