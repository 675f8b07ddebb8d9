"""Routes added from outside the core: ``make_app`` calls each extension's ``routes(app, context)``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from publisher.server.actions import Api
from publisher.server.app import ServerContext, make_app
from publisher.server.errors import ValidationError
from publisher.server.extensions import route_hooks
from publisher.server.files import ContentStore
from publisher.server.storage import Storage


def test_an_extension_adds_routes_beside_the_core(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "ftrack.sqlite")
    context = ServerContext(Api(storage, ContentStore(tmp_path / "files")))

    def routes(app: web.Application, ctx: ServerContext) -> None:
        async def hello(request: web.Request) -> web.Response:
            count = await ctx.run(lambda: len(ctx.api.schemas))  # blocking work on the pool
            return web.json_response({"schemas": count})

        async def refuse(request: web.Request) -> web.Response:
            raise ValidationError("no")

        app.router.add_get("/socket.io/1/", hello)
        app.router.add_post("/socket.io/1/refuse", refuse)

    async def scenario() -> tuple:
        server = TestServer(make_app(context, extensions=[routes]))
        await server.start_server()
        try:
            async with ClientSession() as http:
                async with http.get(server.make_url("/socket.io/1/")) as added:
                    added_json = await added.json()
                async with http.post(server.make_url("/socket.io/1/refuse")) as refused:
                    refused_json = (refused.status, await refused.json())
                async with http.get(server.make_url("/")) as core:
                    core_json = await core.json()
            return added_json, refused_json, core_json
        finally:
            await server.close()

    try:
        added, refused, core = asyncio.run(scenario())
    finally:
        storage.close()
    assert added["schemas"] > 10
    assert refused == (400, {"exception": "ValidationError", "content": "no", "error_code": None})
    assert core["api"] == "/api"


def test_a_module_dropped_into_the_package_is_picked_up(tmp_path: Path, monkeypatch) -> None:
    from publisher.server import extensions

    (tmp_path / "probe_routes.py").write_text(
        "async def probe(request):\n    return None\n\n"
        "def routes(app, context):\n    app.router.add_get('/probe/' + context, probe)\n")
    (tmp_path / "_private.py").write_text("def routes(app, context):\n    raise AssertionError\n")
    monkeypatch.setattr(extensions, "__path__", [*extensions.__path__, str(tmp_path)])
    hooks = route_hooks()
    assert [hook.__module__ for hook in hooks][-1] == "publisher.server.extensions.probe_routes"
    app = web.Application()
    hooks[-1](app, "context")
    assert [route.resource.canonical for route in app.router.routes()] == ["/probe/context", "/probe/context"]
