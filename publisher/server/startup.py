"""What :func:`publisher.server.run` settles before it serves: the data folder's permissions,
the demo user's key, and whether (and how) the address may be bound."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from publisher.server import auth

#: The environment variable a key may come from (not FTRACK_API_KEY: that one names the key of
#: the studio server the app talks to, and the app's environment reaches the child server).
KEY_ENV = "FTRACK_PUBLISHER_SERVER_API_KEY"


class StartupError(Exception):
    """The server cannot start as asked; the message says what to do."""


def secure_data_dir(data_dir: Path) -> None:
    """Make every file the server writes from now on 0600 in 0700 folders, and close up what an
    older server left open (the data folder, the database and its journals, the key file)."""
    os.umask(0o077)
    with contextlib.suppress(OSError):
        data_dir.chmod(0o700)
    for child in data_dir.iterdir() if data_dir.is_dir() else ():
        with contextlib.suppress(OSError):
            child.chmod(0o700 if child.is_dir() else 0o600)


def read_key_option(api_key: str | None, api_key_file: str | Path | None) -> str | None:
    """The key asked for: ``--api-key``, else the first line of ``--api-key-file``, else
    :data:`KEY_ENV`; None when none is given. StartupError when it is too short or unreadable."""
    source = "--api-key"
    if api_key is None and api_key_file is not None:
        source = "--api-key-file"
        try:
            api_key = Path(api_key_file).read_text(encoding="utf-8").strip().splitlines()[0]
        except (OSError, UnicodeDecodeError, IndexError) as exc:
            reason = "it is empty" if isinstance(exc, IndexError) else type(exc).__name__
            raise StartupError(f"cannot read the API key from --api-key-file {api_key_file}: {reason}.") from None
    if api_key is None and os.environ.get(KEY_ENV):
        source, api_key = KEY_ENV, os.environ[KEY_ENV]
    if api_key is None:
        return None
    try:
        return auth.check_key_strength(api_key)
    except ValueError as exc:
        raise StartupError(f"the key given by {source} is refused: {exc}") from None


def demo_key(conn, user_id: str, asked: str | None, key_file: auth.KeyFile) -> str:
    """The demo user's key for the ready line: the one asked for, else the one kept, else a new
    one. Plain keys of older data folders are hashed on the way."""
    plain = auth.migrate_plain_keys(conn)
    if asked:
        key = auth.set_api_key(conn, user_id, asked)
    elif user_id in plain:
        key = plain[user_id]
    else:
        kept = key_file.read()
        key = kept if kept and auth.user_holds_key(conn, user_id, kept) else auth.set_api_key(conn, user_id)
    key_file.write(key)
    return key


@dataclass(frozen=True)
class Binding:
    """How the server listens: the TLS context (None: plain HTTP) and the URL to print."""

    ssl_context: ssl.SSLContext | None
    public: bool

    def url(self, host: str, port: int) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{_url_host(reachable_address(host))}:{port}"


def binding(host: str, cert: str | Path | None, key: str | Path | None, insecure_public: bool) -> Binding:
    """Check that ``host`` may be bound as asked: a public address needs TLS (``--cert`` and
    ``--key``) or ``--insecure-public``. StartupError otherwise."""
    if (cert is None) != (key is None):
        raise StartupError("TLS needs both --cert (the certificate chain, PEM) and --key (its private key, PEM).")
    context = None
    if cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(str(cert), str(key))
        except (OSError, ssl.SSLError) as exc:
            raise StartupError(f"cannot load the TLS certificate {cert} and key {key}: {exc}.") from None
    public = not is_loopback(host)
    if public and context is None and not insecure_public:
        raise StartupError(
            f"--host {host or '0.0.0.0'} is reachable from other machines, and without TLS anyone on the network "
            "can read the API key and the files. Give --cert and --key, or --insecure-public on a network you trust, "
            "or leave --host out (127.0.0.1, this machine only)."
        )
    return Binding(context, public)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only reaches this machine (127.0.0.0/8, ::1, or a name for them)."""
    if host in ("", "0.0.0.0", "::"):
        return False
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return False
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


def reachable_address(host: str) -> str:
    """The address other machines reach a server bound to ``host`` at: for the wildcard
    addresses, this machine's address on its default route (loopback when it has none)."""
    if host not in ("", "0.0.0.0", "::"):
        return host
    v6 = host == "::"
    family, probe, fallback = ((socket.AF_INET6, "2001:db8::1", "::1") if v6 else
                               (socket.AF_INET, "192.0.2.1", "127.0.0.1"))
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((probe, 9))  # a UDP "connect" sends nothing; it picks the route
            return sock.getsockname()[0]
    except OSError:
        return fallback


def _url_host(host: str) -> str:
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]"
    except ValueError:
        pass
    return host
