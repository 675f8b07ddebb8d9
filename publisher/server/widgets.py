"""ftrack's embeddable widgets (``Session.get_widget_url``): 'info', 'tasks', 'tasks_browser'.

The embedded server has no web interface, so a widget URL opens a small static page that names
the widget and the entity it was asked for and says so; it reads no data, so it needs no login
(ftrack's own widget URLs carry a short-lived token instead).
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

from publisher.server.errors import ValidationError

WIDGETS = ("info", "tasks", "tasks_browser")
#: Where the pages are served (``GET /widget/<name>``).
PATH_PREFIX = "/widget/"


def widget_url(base_url: str, name: object, theme: object, entity_type: object, entity_key: object) -> str:
    """The URL ``get_widget_url`` answers with; raises ValidationError for an unknown widget."""
    if name not in WIDGETS:
        raise ValidationError(f"Unknown widget {name!r}: use one of {', '.join(WIDGETS)}.")
    params: dict[str, str] = {"theme": theme if theme in ("light", "dark") else "dark"}
    if isinstance(entity_type, str):
        params["entityType"] = entity_type
    if isinstance(entity_key, list) and entity_key:
        params["entityId"] = ",".join(str(k) for k in entity_key)
    return f"{base_url}{PATH_PREFIX}{name}?{urlencode(params)}"


def widget_page(name: str, params: dict[str, str]) -> bytes | None:
    """The page at ``/widget/<name>``, or ``None`` for an unknown widget (a 404)."""
    if name not in WIDGETS:
        return None
    dark = params.get("theme", "dark") != "light"
    subject = " ".join(params[k] for k in ("entityType", "entityId") if params.get(k))
    colours = "background:#2b2b2b;color:#ddd" if dark else "background:#fff;color:#222"
    text = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(name)} widget</title></head>"
            f"<body style='font-family:sans-serif;{colours}'><h1>{html.escape(name)}</h1>"
            f"<p>{html.escape(subject) or 'No entity'}: this embedded ftrack-compatible server has no web "
            "interface, so its widgets show no data.</p></body></html>")
    return text.encode()
