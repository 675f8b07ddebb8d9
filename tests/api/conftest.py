"""What the client tests share: a session on the embedded server, and builders for the
project / shot / asset / version a test hangs its data on (each with fresh, unique names).

``make_*`` builders create entities in the session without committing, except
``make_version``, which commits so the version exists on the server.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from publisher.api import Entity, Session


@pytest.fixture
def schema_cache_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path | bool:
    """Where the ``session`` fixture caches the server's schemas: nowhere, or a folder of the
    test's own when its module sets ``CACHE_SCHEMAS = True``."""
    return tmp_path / "schemas" if getattr(request.module, "CACHE_SCHEMAS", False) else False


@pytest.fixture
def session(embedded_server, schema_cache_path):
    """A session on the shared embedded server, closed after the test."""
    with Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key,
                 schema_cache_path=schema_cache_path) as s:
        yield s


def unique(prefix: str = "p") -> str:
    """``prefix`` and 8 random hex digits: names that no other test uses."""
    return prefix + uuid.uuid4().hex[:8]


def make_project(session: Session, name: str | None = None) -> Entity:
    """A new active project (not committed) on the server's first project schema."""
    name = name or unique()
    return session.create("Project", {"name": name, "full_name": name.upper(), "status": "active",
                                      "project_schema": session.query("ProjectSchema").first()})


def make_shot(session: Session, project: Entity | None = None, name: str = "sh010") -> Entity:
    """A new shot (not committed) directly under ``project`` (a new project when left out)."""
    project = project or make_project(session)
    return session.create("Shot", {"name": name, "parent": project, "project": project})


def make_asset_type(session: Session) -> Entity:
    """A new asset type (not committed) with a unique short name."""
    return session.create("AssetType", {"name": "Upload", "short": unique("up")})


def make_asset(session: Session, parent: Entity | None = None, name: str = "plate") -> Entity:
    """A new asset of a new asset type (not committed) under ``parent`` (a new project when left out)."""
    parent = parent or make_project(session)
    return session.create("Asset", {"name": name, "parent": parent, "type": make_asset_type(session)})


def make_version(session: Session, asset: Entity | None = None, **data) -> Entity:
    """A committed AssetVersion of ``asset`` (a new asset in a new project when left out)."""
    version = session.create("AssetVersion", {"asset": asset or make_asset(session), **data})
    session.commit()
    return version


@pytest.fixture
def version(session: Session) -> Entity:
    """A committed AssetVersion in a project of its own."""
    return make_version(session)
