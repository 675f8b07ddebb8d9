"""The connection check ("Test connection") against a real embedded server and against servers that are wrong in each way."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import socket
import ssl
import threading
from pathlib import Path

import pytest

from settings_http import canned_handler, serve
from publisher.api import connection_check as cc
from publisher.api.connection_check import check_connection


def test_ok_reports_the_server_version(embedded_server):
    import requests

    report = check_connection(embedded_server.url, embedded_server.api_user, embedded_server.api_key, timeout=30)
    expected = requests.post(f"{embedded_server.url}/api", json=[{"action": "query_server_information"}],
                             headers={"ftrack-user": embedded_server.api_user,
                                      "ftrack-api-key": embedded_server.api_key}, timeout=30).json()[0]["version"]
    assert report.ok and report.kind == cc.OK
    assert report.server_version == expected
    assert expected in report.message and embedded_server.api_key not in report.message


def test_wrong_key_and_unknown_user_are_told_apart_from_unreachable(embedded_server):
    wrong = "definitely-not-the-key-8d1c"
    report = check_connection(embedded_server.url, embedded_server.api_user, wrong, timeout=30)
    assert report.kind == cc.WRONG_KEY and not report.ok and not report.unreachable
    assert "refused the login" in report.message and "API user and key" in report.message
    assert wrong not in report.message
    assert check_connection(embedded_server.url, "nobody", embedded_server.api_key, timeout=30).kind == cc.WRONG_KEY


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_closed_port_is_unreachable():
    report = check_connection(f"http://127.0.0.1:{_closed_port()}", "ann", "k3y-value", timeout=5)
    assert report.kind == cc.REFUSED and report.unreachable
    assert "refused" in report.message and "server is running" in report.message


def test_unknown_host_is_a_dns_failure():
    report = check_connection("https://no-such-host.invalid", "ann", "k3y-value", timeout=5)
    assert report.kind == cc.DNS and report.unreachable
    assert "no-such-host.invalid" in report.message and "DNS" in report.message


def test_silent_server_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts connections (the kernel does) but never answers
    try:
        report = check_connection(f"http://127.0.0.1:{listener.getsockname()[1]}", "ann", "k3y-value", timeout=0.5)
    finally:
        listener.close()
    assert report.kind == cc.TIMEOUT and report.unreachable and "did not answer" in report.message


def test_a_web_page_is_not_an_ftrack_server(html_server):
    report = check_connection(html_server, "ann", "k3y-value", timeout=5)
    assert report.kind == cc.NOT_FTRACK and report.http_status == 200
    assert "not as an ftrack server" in report.message and "web page" in report.message


@pytest.mark.parametrize("body, content_type, why", [
    (b"\x00\x01garbage", "application/octet-stream", "not JSON"),
    (b"", "text/plain", "empty answer"),
    (b'{"hello": "world"}', "application/json", "another shape"),
    (b'[{"schema_hash": "x"}, {"data": []}]', "application/json", "which ftrack version"),
])
def test_garbage_or_no_version_is_not_an_ftrack_server(body, content_type, why):
    for url in serve(canned_handler(200, body, content_type)):
        report = check_connection(url, "ann", "k3y-value", timeout=5)
        assert report.kind == cc.NOT_FTRACK and why in report.message


def test_a_redirect_names_the_address_to_use():
    for url in serve(canned_handler(301, b"", headers={"location": "https://studio.example.com/api"})):
        report = check_connection(url, "ann", "k3y-value", timeout=5)
        assert report.kind == cc.REDIRECT and "https://studio.example.com/api" in report.message


def test_a_server_echoing_the_key_does_not_put_it_in_the_report():
    key = "echoed-secret-key-77aa"
    body = json.dumps({"exception": "ServerError", "content": f"bad header ftrack-api-key {key}"}).encode()
    for url in serve(canned_handler(200, body, "application/json")):
        report = check_connection(url, "ann", key, timeout=5)
        assert report.kind == cc.SERVER_ERROR and key not in report.message and "***" in report.message


def test_https_to_a_plain_http_server_is_a_tls_error(html_server):
    report = check_connection(html_server.replace("http://", "https://"), "ann", "k3y-value", timeout=5)
    assert report.kind == cc.TLS
    assert "secure connection" in report.message and "plain http://" in report.message


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    x509 = pytest.importorskip("cryptography.x509")  # the https-to-http test above covers TLS without it
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_a_self_signed_certificate_is_a_tls_error(tmp_path):
    cert, key = _self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), canned_handler(200, b"[]", "application/json"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        report = check_connection(f"https://127.0.0.1:{server.server_address[1]}", "ann", "k3y-value", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert report.kind == cc.TLS
    assert "self-signed" in report.message and "trusted on this machine" in report.message


@pytest.mark.parametrize("url, user, key, problem", [
    ("", "ann", "k", "not a server address"),
    ("ftp://studio.example.com", "ann", "k", "must start with https://"),
    ("https://studio.example.com:70000", "ann", "k", "not a valid address"),
    ("https://studio.example.com", " ", "k", "Enter the API user"),
    ("https://studio.example.com", "ann", "", "Enter the API key"),
])
def test_bad_input_says_what_to_enter(url, user, key, problem):
    report = check_connection(url, user, key)
    assert report.kind == cc.INVALID_INPUT and problem in report.message


def test_the_check_imports_nothing_else_of_the_client_and_no_qt():
    import ast

    tree = ast.parse(Path(cc.__file__).read_text())
    modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert modules == {"__future__", "json", "socket", "dataclasses", "urllib.parse", "requests"}
