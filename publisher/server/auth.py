"""Users and API keys: who is calling, checked on every API call and file endpoint.

Keys are stored as salted PBKDF2 hashes (``pbkdf2_sha256$iterations$salt$hash``), compared in
constant time; a database holding plain keys (older servers) is migrated when it is opened.
The ready line still needs the demo user's key after a restart, so the server keeps that one
key in :class:`KeyFile` (mode 0600, in the 0700 data folder), never in the database.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
from pathlib import Path

from publisher.server.errors import AuthenticationError

#: PBKDF2 rounds per stored key: a few milliseconds per check (successful checks are cached).
ITERATIONS = 20_000
#: Shortest key ``--api-key`` and friends accept.
MIN_KEY_LENGTH = 8
_SCHEME = "pbkdf2_sha256"

# (username, sha256 of the key) -> user id, for keys that checked out: PBKDF2 runs once per
# key and process, not once per request. Emptied whenever a key is set.
_verified: dict[tuple[str, bytes], str] = {}
_verified_lock = threading.Lock()


def new_api_key() -> str:
    """A fresh random API key."""
    return secrets.token_hex(24)


def check_key_strength(key: str) -> str:
    """``key`` if it is long enough to be a key; a ValueError saying what is needed otherwise."""
    key = key.strip()
    if len(key) < MIN_KEY_LENGTH or any(c.isspace() for c in key):
        raise ValueError(f"An API key needs at least {MIN_KEY_LENGTH} characters and no spaces; "
                         "leave it out to get a random one.")
    return key


def hash_key(key: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The stored form of ``key``: salted PBKDF2-SHA256."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", key.encode(), salt, iterations)
    return f"{_SCHEME}${iterations}${salt.hex()}${digest.hex()}"


def is_hashed(stored: str) -> bool:
    return stored.startswith(_SCHEME + "$")


def key_matches(stored: str, key: str) -> bool:
    """Whether ``key`` is the key ``stored`` was made from (constant time in the key)."""
    try:
        scheme, iterations, salt, digest = stored.split("$")
        expected = bytes.fromhex(digest)
        candidate = hashlib.pbkdf2_hmac("sha256", key.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return scheme == _SCHEME and hmac.compare_digest(candidate, expected)


def authenticate(conn: sqlite3.Connection, username: object, api_key: object) -> dict:
    """The user row for ``username`` holding ``api_key``; raises AuthenticationError otherwise."""
    if not isinstance(username, str) or not username or not isinstance(api_key, str) or not api_key:
        raise AuthenticationError(
            "The request has no user name or API key. Send the ftrack-user and ftrack-api-key headers "
            "(username and apiKey parameters for file URLs)."
        )
    user = conn.execute('SELECT * FROM "users" WHERE "username" = ?', (username,)).fetchone()
    if user is None or not _holds_key(conn, user["id"], username, api_key):
        raise AuthenticationError(
            "The supplied API key is not valid for this user. Check FTRACK_API_USER and FTRACK_API_KEY or the "
            "publisher's settings: this embedded server prints its user and key in its ready line when it starts."
        )
    if user["is_active"] is not None and not user["is_active"]:
        raise AuthenticationError(f"The user {username} is not active.")
    return dict(user)


def _holds_key(conn: sqlite3.Connection, user_id: str, username: str, api_key: str) -> bool:
    cache_key = (username, hashlib.sha256(api_key.encode()).digest())
    with _verified_lock:
        if _verified.get(cache_key) == user_id:
            return True
    stored = [r[0] for r in conn.execute('SELECT "key" FROM "api_key" WHERE "user_id" = ?', (user_id,))]
    if any(key_matches(s, api_key) for s in stored):
        with _verified_lock:
            _verified[cache_key] = user_id
        return True
    return False


def user_holds_key(conn: sqlite3.Connection, user_id: str, key: str) -> bool:
    """Whether ``key`` is one of the user's keys."""
    rows = conn.execute('SELECT "key" FROM "api_key" WHERE "user_id" = ?', (user_id,)).fetchall()
    return any(key_matches(r[0], key) for r in rows)


def set_api_key(conn: sqlite3.Connection, user_id: str, key: str | None = None) -> str:
    """Replace the user's API keys with ``key`` (a new random one by default) and return it."""
    key = key or new_api_key()
    conn.execute('DELETE FROM "api_key" WHERE "user_id" = ?', (user_id,))
    conn.execute('INSERT INTO "api_key" ("key", "user_id") VALUES (?, ?)', (hash_key(key), user_id))
    with _verified_lock:
        _verified.clear()
    return key


def migrate_plain_keys(conn: sqlite3.Connection) -> dict[str, str]:
    """Hash every key still stored in plain text; returns ``{user id: plain key}`` of those."""
    plain: dict[str, str] = {}
    rows = conn.execute('SELECT rowid, "key", "user_id" FROM "api_key"').fetchall()
    for rowid, key, user_id in rows:
        if not is_hashed(key):
            plain[user_id] = key
            conn.execute('UPDATE "api_key" SET "key" = ? WHERE rowid = ?', (hash_key(key), rowid))
    return plain


class KeyFile:
    """The demo user's key, for the ready line: one line in a 0600 file in the data folder."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def read(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8").strip() or None
        except (OSError, UnicodeDecodeError):
            return None

    def write(self, key: str) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8") as fh:
            fh.write(key + "\n")
        os.replace(tmp, self.path)
