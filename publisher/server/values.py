"""Converting attribute values between the wire (JSON), query literals and SQLite columns."""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from publisher.server.errors import ValidationError


def parse_datetime(value: Any, attr: str) -> str | None:
    """Naive-UTC ``YYYY-MM-DDTHH:MM:SS`` from an encoded datetime/date dict or ISO text."""
    if value is None:
        return None
    if isinstance(value, dict):
        if value.get("__type__") not in ("datetime", "date"):
            raise ValidationError(f"The value of '{attr}' must be a datetime, not an object without __type__ datetime.")
        value = value.get("value")
    if not isinstance(value, str):
        raise ValidationError(f"The value of '{attr}' must be a datetime, not {type(value).__name__}.")
    text = value.strip()
    try:
        if len(text) == 10:
            parsed = _dt.datetime.combine(_dt.date.fromisoformat(text), _dt.time())
        else:
            parsed = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"'{text}' is not a valid datetime for '{attr}'; use YYYY-MM-DDTHH:MM:SS.") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    # Fractions of a second are kept when given (ftrack keeps them); text order stays time order.
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.%f" if parsed.microsecond else "%Y-%m-%dT%H:%M:%S")


def to_column(kind: str, value: Any, attr: str) -> Any:
    """A wire value for an attribute of storage ``kind`` as stored in SQLite; raises ValidationError."""
    if value is None:
        return None
    if kind == "datetime":
        return parse_datetime(value, attr)
    if kind == "variable":
        return variable_column(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return int(value.lower() == "true")
        if isinstance(value, int) and value in (0, 1):
            return value
        raise ValidationError(f"The value of '{attr}' must be true or false, not {value!r}.")
    if kind == "integer":
        if isinstance(value, bool):
            raise ValidationError(f"The value of '{attr}' must be a whole number, not {value!r}.")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ValidationError(f"The value of '{attr}' must be a whole number, not {value!r}.")
    if kind == "number":
        if isinstance(value, bool):
            raise ValidationError(f"The value of '{attr}' must be a number, not {value!r}.")
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise ValidationError(f"The value of '{attr}' must be a number, not {value!r}.")
    # string
    if isinstance(value, (dict, list)):
        if attr == "data":
            return json.dumps(value)
        raise ValidationError(f"The value of '{attr}' must be text, not a JSON {type(value).__name__}.")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def from_column(kind: str, value: Any) -> Any:
    """A stored SQLite value as it goes on the wire."""
    if value is None:
        return None
    if kind == "datetime":
        return {"__type__": "datetime", "value": value}
    if kind == "boolean":
        return bool(value)
    return value


def variable_column(value: Any) -> Any:
    """A ``variable`` value (a custom attribute's) as stored for queries: numbers and text as
    they are, booleans as 1/0, datetimes as naive-UTC text, lists and objects as JSON text."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float, str)) or value is None:
        return value
    if isinstance(value, dict) and value.get("__type__") in ("datetime", "date"):
        return parse_datetime(value, "value")
    return json.dumps(value, sort_keys=True)


def store_variable(row: dict[str, Any], attr: str, value: Any, suffix: str) -> None:
    """Put a ``variable`` attribute's value on ``row``: its query column and its exact JSON."""
    row[attr] = variable_column(value)
    row[attr + suffix] = json.dumps(value)


def load_variable(row: dict[str, Any], attr: str, suffix: str) -> Any:
    """A ``variable`` attribute's value as it goes on the wire (as it was written)."""
    text = row.get(attr + suffix)
    if text is None:
        return row.get(attr)
    return json.loads(text)
