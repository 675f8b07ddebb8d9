"""Errors: what the client raises when the server refuses, is down, answers garbage or is busy.

Faults a real server cannot show on demand (a 502 from a proxy, HTML instead of JSON, a dropped
connection, no answer) come from a small HTTP proxy on 127.0.0.1 in front of the real embedded
server: it forwards every request unless a fault is queued for it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

import publisher.api
from publisher.api import (
    AuthenticationError,
    ServerConnectionError,
    ServerError,
    ServerResponseError,
    Session,
    UnknownAttributeError,
    UnrecognisedEntityTypeError,
)
from publisher.api import exceptions
from publisher.api import transport as transport_module

from .conftest import make_asset_type


class FaultProxy:
    """Forwards POST /api to ``upstream``; a queued fault answers one request instead.

    A fault is ``("status", code, body, content_type)``, ``("drop",)`` (close the connection
    without answering) or ``("hang", seconds)`` (answer nothing for that long).
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults: list[tuple] = []
        self.received: list[list[dict]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                proxy.received.append(json.loads(body))
                fault = proxy.faults.pop(0) if proxy.faults else None
                if fault and fault[0] == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault and fault[0] == "hang":
                    time.sleep(fault[1])
                    self.close_connection = True
                    return
                if fault:
                    _, status, text, content_type = fault
                    payload = text.encode()
                else:
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower().startswith("ftrack-") or k.lower() in ("content-type", "accept")}
                    answer = requests.post(proxy.upstream + self.path, data=body, headers=headers, timeout=30)
                    status, payload = answer.status_code, answer.content
                    content_type = answer.headers.get("content-type", "application/json")
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def actions(self) -> list[list[str]]:
        return [[op.get("action") for op in ops] for ops in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(embedded_server):
    p = FaultProxy(embedded_server.url)
    yield p
    p.close()


@pytest.fixture
def fast_backoff(monkeypatch):
    """Keep retry pauses short in tests (the retry count is what is under test)."""
    original = transport_module.Transport.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.backoff = (0.01,)

    monkeypatch.setattr(transport_module.Transport, "__init__", init)


def proxied_session(proxy: FaultProxy, embedded_server, **kwargs) -> Session:
    return Session(proxy.url, embedded_server.api_user, embedded_server.api_key,
                   schema_cache_path=False, **kwargs)


# Authentication and configuration -----------------------------------------------------------------

def test_wrong_api_key_is_an_authentication_error(embedded_server):
    with pytest.raises(AuthenticationError) as caught:
        Session(embedded_server.url, embedded_server.api_user, "wrong-key", schema_cache_path=False)
    error = caught.value
    assert isinstance(error, ServerError)
    assert error.exception_name == "InvalidCredentialsError"
    assert "FTRACK_API_KEY" in str(error) and embedded_server.url.rstrip("/") in str(error)


def test_unknown_user_is_an_authentication_error(embedded_server):
    with pytest.raises(AuthenticationError, match="FTRACK_API_USER"):
        Session(embedded_server.url, "nobody-" + uuid.uuid4().hex, embedded_server.api_key,
                schema_cache_path=False)


# Server down, garbage, busy -----------------------------------------------------------------------

def test_server_down_names_the_server_and_what_to_do(server_factory, fast_backoff):
    server = server_factory()
    s = Session(server.url, server.api_user, server.api_key, schema_cache_path=False)
    asset_type = make_asset_type(s)
    server.stop()
    with pytest.raises(ServerConnectionError) as caught:
        s.query("Status").first()
    message = str(caught.value)
    assert server.url.rstrip("/") in message
    assert "running" in message and "VPN" in message
    assert caught.value.server_url == server.url.rstrip("/")
    with pytest.raises(ServerConnectionError, match="may or may not have been saved"):
        s.commit()
    assert s.pending_operations == 1 and asset_type.is_new  # nothing lost
    s.close()


def test_start_against_nothing_listening(fast_backoff):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(ServerConnectionError, match=f"{url} could not be reached \\(Connection refused\\)"):
        Session(url, "demo", "key", schema_cache_path=False)


def test_malformed_server_url_says_check_the_address():
    with pytest.raises(ServerConnectionError, match="could not be reached") as caught:
        Session("http://", "demo", "key", schema_cache_path=False)
    assert "Check the server address" in str(caught.value)
    assert "may or may not" not in str(caught.value)


def test_garbage_answer_is_a_response_error_naming_the_server(proxy, embedded_server):
    proxy.faults.append(("status", 200, "<html><body>Welcome to nginx</body></html>", "text/html"))
    with pytest.raises(ServerResponseError) as caught:
        proxied_session(proxy, embedded_server)
    assert proxy.url in str(caught.value) and "Welcome to nginx" in str(caught.value)
    assert caught.value.status_code == 200
    assert len(proxy.received) == 1  # garbage is not retried


def test_json_that_is_not_ftrack_is_a_response_error(proxy, embedded_server):
    proxy.faults.append(("status", 200, json.dumps([{"hello": "world"}]), "application/json"))
    with pytest.raises(ServerResponseError, match="ftrack version"):
        proxied_session(proxy, embedded_server)
    proxy.faults.append(("status", 200, json.dumps({"not": "a list"}), "application/json"))
    with pytest.raises(ServerResponseError, match="instead of a list"):
        proxied_session(proxy, embedded_server)


def test_read_is_retried_after_502_and_dropped_connection(proxy, embedded_server, fast_backoff):
    s = proxied_session(proxy, embedded_server)
    proxy.received.clear()
    proxy.faults += [("status", 502, "Bad Gateway", "text/html"), ("drop",)]
    status = s.query("Status").first()
    assert status is not None
    assert proxy.actions() == [["query"], ["query"], ["query"]]
    s.close()


def test_read_gives_up_after_three_tries(proxy, embedded_server, fast_backoff):
    s = proxied_session(proxy, embedded_server)
    proxy.received.clear()
    proxy.faults += [("status", 503, "Service Unavailable", "text/html")] * 3
    with pytest.raises(ServerConnectionError, match="unavailable \\(HTTP 503"):
        s.query("Status").first()
    assert len(proxy.received) == 3
    assert s.query("Status").first() is not None  # works again once the server does
    s.close()


def test_commit_is_never_resent_after_502(proxy, embedded_server, fast_backoff):
    s = proxied_session(proxy, embedded_server)
    asset_type = make_asset_type(s)
    proxy.received.clear()
    proxy.faults.append(("status", 502, "Bad Gateway", "text/html"))
    with pytest.raises(ServerConnectionError, match="may or may not have been saved"):
        s.commit()
    assert proxy.actions() == [["create"]]  # sent once
    assert s.pending_operations == 1 and asset_type.is_new
    s.commit()  # the caller decides to commit again: it goes through
    assert not asset_type.is_new
    with s.clone() as other:
        assert other.get("AssetType", asset_type["id"])["short"] == asset_type["short"]
    s.close()


def test_commit_connection_dropped_is_sent_once(proxy, embedded_server, fast_backoff):
    s = proxied_session(proxy, embedded_server)
    make_asset_type(s)
    proxy.received.clear()
    proxy.faults.append(("drop",))
    with pytest.raises(ServerConnectionError, match="may or may not have been saved"):
        s.commit()
    assert proxy.actions() == [["create"]]
    s.rollback()
    s.close()


def test_timeout_names_the_delay(proxy, embedded_server):
    s = proxied_session(proxy, embedded_server, timeout=0.3)
    make_asset_type(s)
    proxy.faults.append(("hang", 1.5))
    with pytest.raises(ServerConnectionError, match="did not answer within 0.3 s"):
        s.commit()
    assert len([a for a in proxy.actions() if a == ["create"]]) == 1
    s.rollback()
    s.close()


# Server-reported errors ---------------------------------------------------------------------------

def test_server_error_carries_exception_name_and_content(session):
    s = session
    with pytest.raises(ServerError) as caught:
        s.call([{"action": "no_such_action"}])
    error = caught.value
    assert not isinstance(error, AuthenticationError)
    assert error.exception_name and error.content
    assert str(error) == f"Server reported error: {error.exception_name}({error.content})"
    assert "no_such_action" in error.content


def test_server_error_with_http_error_status_is_decoded(proxy, embedded_server):
    s = proxied_session(proxy, embedded_server)
    proxy.faults.append(("status", 400, json.dumps(
        {"exception": "ValidationError", "content": "bad value", "error_code": 7}), "application/json"))
    with pytest.raises(ServerError) as caught:
        s.query("Status").first()
    assert (caught.value.exception_name, caught.value.content, caught.value.error_code) == (
        "ValidationError", "bad value", 7)
    s.close()


def test_half_a_batch_is_never_committed(session):
    s = session
    good = make_asset_type(s)
    bad = s.create("AssetVersion", {})
    bad["asset_id"] = str(uuid.uuid4())  # no such asset
    with pytest.raises(ServerError):
        s.commit()
    with s.clone() as other:
        assert other.get("AssetType", good["id"]) is None
    s.rollback()


# Client-side errors ---------------------------------------------------------------------------

def test_unknown_entity_type_suggests_the_right_one(session):
    s = session
    with pytest.raises(UnrecognisedEntityTypeError, match="Did you mean 'FileComponent'"):
        s.create("FileComponant", {})
    with pytest.raises(UnknownAttributeError, match="FileComponent has no attribute 'nmae'"):
        s.create("FileComponent", {"nmae": "x"})
    assert s.pending_operations == 0


def test_error_hierarchy():
    exported = {name: getattr(publisher.api, name) for name in publisher.api.__all__}
    errors = {name: value for name, value in exported.items()
              if isinstance(value, type) and issubclass(value, BaseException)}
    defined = {name for name, value in vars(exceptions).items()
               if isinstance(value, type) and value.__module__ == exceptions.__name__}
    assert len(defined) >= 18 and defined <= set(errors), "publisher.api exports every error class"
    for name, cls in errors.items():
        assert issubclass(cls, exceptions.FtrackError), name
    assert issubclass(AuthenticationError, ServerError)
    for cls in (exceptions.ComponentInLocationError, exceptions.ComponentNotInLocationError,
                exceptions.AccessorError):
        assert issubclass(cls, exceptions.LocationError)
    assert issubclass(exceptions.JobFailedError, exceptions.EncodeError)
    assert issubclass(UnknownAttributeError, KeyError)
    assert str(ServerError(exception_name="X", content="y")) == "Server reported error: X(y)"
