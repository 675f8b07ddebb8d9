"""publisher.connection: the one place the window, the dock and the publish command get a session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from publisher.api.exceptions import AuthenticationError, ConfigurationError, ServerConnectionError
from publisher.connection import (
    ConnectionFailure,
    FailureKind,
    ServerChoice,
    open_session,
    start_demo_server,
)
from publisher.embedded import EmbeddedServerError


def test_the_demo_server_starts_and_closes_with_its_connection(tmp_path: Path) -> None:
    connection = start_demo_server(tmp_path / "server", python=sys.executable)
    try:
        assert connection.label.startswith("embedded demo server http://127.0.0.1:")
        assert connection.session.query("Project").first() is not None
        process = connection.server.process
        assert process.poll() is None
    finally:
        connection.close()
    assert connection.closed and process.poll() is not None
    connection.close()  # a second close does nothing


def test_a_python_that_does_not_exist_is_a_failure_saying_the_server_did_not_start(tmp_path: Path) -> None:
    with pytest.raises(ConnectionFailure) as info:
        start_demo_server(tmp_path / "server", python=str(tmp_path / "no-such-python"))
    assert info.value.kind is FailureKind.SERVER_DID_NOT_START
    assert isinstance(info.value.cause, OSError)


def test_a_server_that_exits_at_once_is_a_failure_with_its_exit_status(tmp_path: Path) -> None:
    # A Python that runs but cannot serve (it exits with status 3 before the ready line).
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'no publisher here'\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(ConnectionFailure) as info:
        start_demo_server(tmp_path / "server", python=str(fake))
    assert info.value.kind is FailureKind.SERVER_DID_NOT_START
    assert isinstance(info.value.cause, EmbeddedServerError)
    assert "exit status 3" in str(info.value.cause) and "no publisher here" in str(info.value.cause)


def test_a_profile_without_a_stored_key_says_what_to_do() -> None:
    problem = "No API key is stored for ann on https://studio.example. Enter it in Settings…, or set FTRACK_API_KEY."
    choice = ServerChoice("https://studio.example", "ann", None, False, source="profile", label="Studio",
                          problem=problem)
    with pytest.raises(ConfigurationError) as info:
        open_session(choice)
    assert str(info.value) == problem


def test_a_wrong_key_and_a_server_that_is_down_are_the_clients_errors(embedded_server) -> None:
    wrong = ServerChoice(embedded_server.url, embedded_server.api_user, "not-the-key", False, source="environment")
    with pytest.raises(AuthenticationError):
        open_session(wrong)
    down = ServerChoice("http://127.0.0.1:9", "demo", "k", False, source="environment")
    with pytest.raises(ServerConnectionError, match="127.0.0.1:9"):
        open_session(down)


def test_the_status_bar_names_the_server_by_where_it_came_from() -> None:
    assert ServerChoice("https://a.example", "ann", "k", False, source="profile", label="Studio").status_label \
        == "Studio · https://a.example"
    assert ServerChoice("https://a.example", "ann", "k", False, source="environment").status_label \
        == "https://a.example (FTRACK_SERVER)"
    assert ServerChoice("https://a.example", "ann", None, False, source="legacy").status_label == "https://a.example"
