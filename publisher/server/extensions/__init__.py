"""Routes added to the embedded server by modules other than the core (:mod:`publisher.server.app`).

How to add routes (the event hub's websocket, multipart uploads...): put a module in this
package, ``publisher/server/extensions/<name>.py``, that defines::

    def routes(app: aiohttp.web.Application, context: ServerContext) -> None:
        app.router.add_get("/socket.io/1/", handshake)       # plain routes,
        app.add_subapp("/multipart/", multipart_app)          # or a whole sub-application
        app.on_shutdown.append(close_websockets)              # and clean-up, when needed

:func:`publisher.server.app.make_app` calls every such ``routes`` once, in module-name order,
after the core routes; no file of the core needs editing, and two extensions never touch the
same file. ``context`` (:class:`publisher.server.app.ServerContext`) gives the API, the
storage, the content store and the worker pool. Handlers run on the event loop: anything that
blocks (SQLite, files, images) goes through ``await context.run(fn, *args)``; errors raised as
:class:`publisher.server.errors.ServerError` become the usual JSON error answers.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Callable

from aiohttp import web

RouteHook = Callable[[web.Application, object], None]


def route_hooks() -> list[RouteHook]:
    """The ``routes`` function of every module of this package, in module-name order."""
    hooks = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        hook = getattr(module, "routes", None)
        if callable(hook):
            hooks.append(hook)
    return hooks
