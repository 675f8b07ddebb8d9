"""Fixtures of the server tests: a server of their own and a raw HTTP client on it."""

from __future__ import annotations

import uuid

import pytest
from server_http import Raw, create, ref

from publisher.embedded import EmbeddedServer
from publisher.server import demo


@pytest.fixture(scope="package")
def embedded_server(tmp_path_factory: pytest.TempPathFactory):
    """A server of the server tests' own (also behind ``server_env``): they check the demo
    project as it is seeded, while other test packages publish to and encode on the
    session-wide server (new versions, thumbnails, removed components)."""
    server = EmbeddedServer(tmp_path_factory.mktemp("server-tests"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def raw(embedded_server) -> Raw:
    return Raw(embedded_server.url, embedded_server.api_user, embedded_server.api_key)


@pytest.fixture
def fresh_asset(raw: Raw) -> dict:
    """A new Asset (own name) under shot sh020 of the demo project, with its ids."""
    # The demo's own rows (stable ids): other tests may add contexts with the same names.
    shot = raw.one(f'select id from Shot where id is "{demo.uid("Shot", "sh020")}"')
    task = raw.one(f'select id from Task where id is "{demo.uid("Task", "sh020/Compositing")}"')
    asset_id = str(uuid.uuid4())
    raw.ok([create("Asset", {"id": asset_id, "name": f"test_{asset_id[:8]}", "parent": ref("Shot", shot["id"])})])
    return {"asset": asset_id, "shot": shot["id"], "task": task["id"]}
