"""ftrack's browser sign-in page on the embedded server: ``/user/api_credentials``.

A desktop tool (ftrack Connect, the publisher's "Sign in…") opens
``{server}/user/api_credentials?identifier=<who asks>&redirect_url=http://localhost:<port>`` in
the browser; the page asks the signed-in user to grant that tool an API key, then sends the
browser to ``redirect_url?api_user=<user>&api_key=<key>``, where the tool listens once. Here the
page is a form offering the server's active users (the demo user first) and each grant makes the
user a new key. ``redirect_url`` must be a loopback address: the key never leaves the machine.
"""

from __future__ import annotations

import html
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from publisher.server import auth, demo

PATH = "/user/api_credentials"
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            "<body style='font-family: sans-serif; max-width: 36em; margin: 3em auto'>"
            f"<h1>{html.escape(title)}</h1>{body}</body></html>")
    return web.Response(text=text, status=status, content_type="text/html")


def check_redirect(url: str) -> str | None:
    """Why ``url`` may not receive a key (None when it may): only ``http://`` on loopback with a port."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"{url!r} is not an address."
    if parts.scheme != "http" or (parts.hostname or "") not in _LOOPBACK or port is None:
        return ("redirect_url must be http://localhost:<port> (or 127.0.0.1): the API key is only "
                "handed to a program on this machine.")
    return None


def _users(connection) -> list[tuple[str, str]]:
    rows = connection.execute('SELECT "username", "first_name", "last_name" FROM "users" '
                              'WHERE "is_active" IS NULL OR "is_active" = 1 ORDER BY "username"').fetchall()
    users = [(r[0], f"{r[1] or ''} {r[2] or ''}".strip() or r[0]) for r in rows]
    users.sort(key=lambda u: u[0] != demo.DEMO_USERNAME)  # the demo user first
    return users


def _grant_key(storage, username: str) -> str | None:
    """A new API key of ``username`` for the application that asked (its other keys stay
    valid, as each of ftrack's personal keys does); None when there is no such active user."""
    with storage.transaction() as connection:
        user = connection.execute('SELECT "id" FROM "users" WHERE "username" = ? AND '
                                  '("is_active" IS NULL OR "is_active" = 1)', (username,)).fetchone()
        if user is None:
            return None
        key = auth.new_api_key()
        # Stored the way this server stores keys (hashed where it hashes them).
        hash_key = getattr(auth, "hash_key", None)
        stored = hash_key(key) if callable(hash_key) else key
        connection.execute('INSERT INTO "api_key" ("key", "user_id") VALUES (?, ?)', (stored, user[0]))
        return key


def routes(app: web.Application, context) -> None:
    """Serve the sign-in page (GET) and the grant (POST) at :data:`PATH`."""

    async def form(request: web.Request) -> web.Response:
        identifier = request.query.get("identifier", "").strip()
        redirect = request.query.get("redirect_url", "").strip()
        problem = check_redirect(redirect) if redirect else "The address has no redirect_url: start the sign-in from the application again."
        if not identifier:
            problem = problem or "The address has no identifier: start the sign-in from the application again."
        if problem:
            return _page("Cannot sign in", f"<p>{html.escape(problem)}</p>", 400)
        users = await context.run(lambda: _users(context.storage.connection()))
        options = "".join(f"<option value='{html.escape(name)}'>{html.escape(label)} ({html.escape(name)})</option>"
                          for name, label in users)
        body = (f"<p><b>{html.escape(identifier)}</b> asks for an API key to work on this server as you.</p>"
                f"<form method='post' action='{PATH}'>"
                f"<input type='hidden' name='identifier' value='{html.escape(identifier)}'>"
                f"<input type='hidden' name='redirect_url' value='{html.escape(redirect)}'>"
                f"<p><label>Sign in as <select name='username'>{options}</select></label></p>"
                "<p><button type='submit'>Grant access</button></p></form>")
        return _page("Sign in to the ftrack publisher demo server", body)

    async def grant(request: web.Request) -> web.StreamResponse:
        data = await request.post()
        redirect = str(data.get("redirect_url", "")).strip()
        problem = check_redirect(redirect)
        if problem:
            return _page("Cannot sign in", f"<p>{html.escape(problem)}</p>", 400)
        username = str(data.get("username", "")).strip()
        key = await context.run(_grant_key, context.storage, username)
        if key is None:
            return _page("Cannot sign in", f"<p>There is no active user {html.escape(username)!s} here.</p>", 400)
        separator = "&" if urlsplit(redirect).query else "?"
        raise web.HTTPFound(redirect + separator + urlencode({"api_user": username, "api_key": key}))

    app.router.add_get(PATH, form)
    app.router.add_post(PATH, grant)
