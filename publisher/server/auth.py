"""Users and API keys: who is calling, checked on every API call and file endpoint."""

from __future__ import annotations

import hmac
import secrets
import sqlite3

from publisher.server.errors import AuthenticationError


def new_api_key() -> str:
    """A fresh random API key."""
    return secrets.token_hex(24)


def authenticate(conn: sqlite3.Connection, username: object, api_key: object) -> dict:
    """The user row for ``username`` holding ``api_key``; raises AuthenticationError otherwise."""
    if not isinstance(username, str) or not username or not isinstance(api_key, str) or not api_key:
        raise AuthenticationError(
            "The request has no user name or API key. Send the ftrack-user and ftrack-api-key headers "
            "(username and apiKey parameters for file URLs)."
        )
    user = conn.execute('SELECT * FROM "users" WHERE "username" = ?', (username,)).fetchone()
    keys = [] if user is None else [r[0] for r in conn.execute('SELECT "key" FROM "api_key" WHERE "user_id" = ?', (user["id"],))]
    if user is None or not any(hmac.compare_digest(k.encode(), api_key.encode()) for k in keys):
        raise AuthenticationError(
            "The supplied API key is not valid for this user. Check FTRACK_API_USER and FTRACK_API_KEY or the "
            "publisher's settings: this embedded server prints its user and key in its ready line when it starts."
        )
    if user["is_active"] is not None and not user["is_active"]:
        raise AuthenticationError(f"The user {username} is not active.")
    return dict(user)


def set_api_key(conn: sqlite3.Connection, user_id: str, key: str | None = None) -> str:
    """Replace the user's API keys with ``key`` (a new random one by default) and return it."""
    key = key or new_api_key()
    conn.execute('DELETE FROM "api_key" WHERE "user_id" = ?', (user_id,))
    conn.execute('INSERT INTO "api_key" ("key", "user_id") VALUES (?, ?)', (key, user_id))
    return key
