"""The embedded server's own user: edits that would lock its only user out are refused, and a
renamed user still starts its data folder."""

from __future__ import annotations

from server_http import Raw, update

from publisher.embedded import EmbeddedServer
from publisher.server import demo


def test_self_rename_survives_a_restart_and_self_deactivate_is_refused(tmp_path):
    server = EmbeddedServer(tmp_path / "data")
    server.start()
    try:
        raw = Raw(server.url, server.api_user, server.api_key)
        me = raw.one(f'select id, username, is_active from User where username is "{server.api_user}"')
        refused = raw.call([update("User", [me["id"]], {"is_active": False})])
        assert isinstance(refused, dict) and refused["exception"] == "ValidationError"
        assert "logged in as" in refused["content"]
        assert raw.one(f'select is_active from User where id is "{me["id"]}"')["is_active"] is True
        raw.ok([update("User", [me["id"]], {"username": "artist_renamed"})])
    finally:
        server.stop()

    again = EmbeddedServer(tmp_path / "data")
    again.start()  # failed with a TypeError before: the start-up looked the user up by name
    try:
        assert again.api_user == "artist_renamed"
        raw = Raw(again.url, again.api_user, again.api_key)
        assert raw.one(f'select id from User where username is "artist_renamed"')["id"] == \
            demo.uid("user", demo.DEMO_USERNAME)
    finally:
        again.stop()
