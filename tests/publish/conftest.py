"""Fixtures for the publish engine's integration tests: sessions on the embedded server and a
private corner of the demo project (each test module gets its own shot, so tests do not see
each other's versions)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from publisher.api.session import Session


def open_session(server) -> Session:
    return Session(server_url=server.url, api_user=server.api_user, api_key=server.api_key)


@pytest.fixture
def session(embedded_server):
    s = open_session(embedded_server)
    yield s
    s.close()


@pytest.fixture(scope="session")
def fresh_session(embedded_server):
    """Opens another session, for checking what really reached the server (no shared cache)."""
    def make() -> Session:
        return open_session(embedded_server)
    return make


@dataclass
class Sandbox:
    project_id: str
    shot_id: str
    task_id: str
    asset_type_id: str
    asset_type_name: str


def make_sandbox(s: Session) -> Sandbox:
    """A new Sequence/Shot/Task under the demo project ``lighthouse``, named uniquely."""
    project = s.query('select id, name from Project where name is "lighthouse"').one()
    suffix = uuid.uuid4().hex[:6]
    sequence = s.create("Sequence", {"name": f"zz_test_{suffix}", "parent": project})
    shot = s.create("Shot", {"name": "sh010", "parent": sequence})
    task_type = s.query('select id, name from Type where name is "Compositing"').first()
    task_data = {"name": "comp", "parent": shot}
    if task_type is not None:
        task_data["type"] = task_type
    task = s.create("Task", task_data)
    s.commit()
    asset_type = s.query("select id, name from AssetType").first()
    assert asset_type is not None, "the demo server has no asset types"
    return Sandbox(project["id"], shot["id"], task["id"], asset_type["id"], asset_type["name"])


@pytest.fixture(scope="module")
def sandbox(fresh_session) -> Sandbox:
    """A private shot and task in the shared embedded server's demo project, for one test module."""
    s = fresh_session()
    try:
        return make_sandbox(s)
    finally:
        s.close()


@pytest.fixture(scope="session")
def sandbox_maker():
    """``make_sandbox`` for tests that start their own server (``server_factory``)."""
    return make_sandbox


@pytest.fixture(scope="session")
def session_on():
    """Opens a session on a given server (for tests with their own server)."""
    return open_session
