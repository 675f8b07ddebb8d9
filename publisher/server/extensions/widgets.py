"""``GET /widget/<name>``: the pages of ``get_widget_url`` (see :mod:`publisher.server.widgets`).

A route extension for the aiohttp server (``publisher.server.extensions``, another branch): once
that server is merged it serves the widget pages and the WSGI application's own ``/widget/``
branch goes with it. Until then nothing imports this module.
"""

from __future__ import annotations

from aiohttp import web

from publisher.server import widgets


def routes(app: web.Application, context: object) -> None:
    """Add ``GET /widget/<name>`` (answers HEAD too); an unknown widget is a 404."""
    async def page(request: web.Request) -> web.Response:
        body = widgets.widget_page(request.match_info["name"], dict(request.query))
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    app.router.add_get(widgets.PATH_PREFIX + "{name}", page)
