"""The event hub on the embedded server's port: :class:`publisher.server.event_hub.EventHub`
added to the application, authenticating with the API's users and keys, and made the place
where committed changes are announced (``Api.events``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from publisher.server.event_hub import EventHub

if TYPE_CHECKING:
    from publisher.server.app import ServerContext


def routes(app: web.Application, context: "ServerContext") -> None:
    """Serve ``/socket.io/1/`` and its websocket; every commit of ``context.api`` and its
    encode jobs publishes through this hub from then on."""
    hub = EventHub(context.authenticate, run_blocking=context.run)
    hub.add_routes(app)
    context.api.events = hub.publish
