"""A commit whose answer is lost (a proxy drops it after the server applied it) is settled by
asking the server, never by undoing blindly: the files it committed stay, the component is
returned as created. A commit that truly did not happen is rolled back as before."""

from __future__ import annotations

import hashlib

import pytest
import requests

from publisher.api import CommitUnconfirmedError, Session

from .answer_dropping_proxy import AnswerDroppingProxy
from .conftest import make_version


def _is_location_commit(method: str, path: str, body: bytes) -> bool:
    return method == "POST" and path.startswith("/api") and b'"ComponentLocation"' in body


def test_lost_answer_of_an_applied_commit_keeps_the_uploaded_file(embedded_server, tmp_path):
    data = b"plate bytes " * 5000
    source = tmp_path / "plate.exr"
    source.write_bytes(data)
    with AnswerDroppingProxy(embedded_server.url, _is_location_commit) as proxy, \
            Session(proxy.url, embedded_server.api_user, embedded_server.api_key,
                    schema_cache_path=False) as session:
        version = make_version(session)
        component = version.create_component(str(source), {"name": "plate"}, location="ftrack.server")
        assert proxy.dropped == 1, "the commit's answer was dropped"
        component_id = component["id"]

    with Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key,
                 schema_cache_path=False) as check:
        row = check.query(f'select id, size, component_locations.location.name from FileComponent '
                          f'where id is "{component_id}"').one()
        assert row["size"] == len(data)
        assert [cl["location"]["name"] for cl in row["component_locations"]] == ["ftrack.server"]
        url = check.query('Location where name is "ftrack.server"').one().get_url(row)
    body = requests.get(url, timeout=30)
    assert body.status_code == 200, "the committed component's file must still be on the server"
    assert hashlib.md5(body.content).digest() == hashlib.md5(data).digest()


def _server_session(embedded_server) -> Session:
    return Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key,
                   schema_cache_path=False)


def test_lost_commit_that_never_reached_the_server_is_rolled_back(embedded_server, tmp_path):
    source = tmp_path / "plate.exr"
    source.write_bytes(b"x" * 40000)
    with AnswerDroppingProxy(embedded_server.url, _is_location_commit, apply=False) as proxy, \
            Session(proxy.url, embedded_server.api_user, embedded_server.api_key,
                    schema_cache_path=False) as session:
        version = make_version(session)
        with pytest.raises(CommitUnconfirmedError):
            version.create_component(str(source), {"name": "plate"}, location="ftrack.server")
        assert proxy.dropped == 1
        assert not session.recorded_operations, "nothing stays pending after the roll-back"
    with _server_session(embedded_server) as check:
        assert check.query(f'select id from FileComponent where version_id is "{version["id"]}"').all() == []


def test_when_the_server_cannot_be_asked_nothing_is_removed(embedded_server, tmp_path):
    data = b"y" * 40000
    source = tmp_path / "plate.exr"
    source.write_bytes(data)

    def commit_and_every_check(method: str, path: str, body: bytes) -> bool:
        return method == "POST" and b"ComponentLocation" in body

    with AnswerDroppingProxy(embedded_server.url, commit_and_every_check) as proxy, \
            Session(proxy.url, embedded_server.api_user, embedded_server.api_key,
                    schema_cache_path=False) as session:
        version = make_version(session)
        with pytest.raises(CommitUnconfirmedError, match="nothing was removed"):
            version.create_component(str(source), {"name": "plate"}, location="ftrack.server")
    with _server_session(embedded_server) as check:
        [row] = check.query(f'select id from FileComponent where version_id is "{version["id"]}"').all()
        url = check.query('Location where name is "ftrack.server"').one().get_url(row)
    assert requests.get(url, timeout=30).content == data, "the committed file was kept"
