"""A test client playing the browser in ftrack's sign-in: it reads the page's form, submits it as
a browser would, and follows the redirect to the application's loopback listener."""

from __future__ import annotations

import threading
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.method = "get"
        self.fields: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "form":
            self.action, self.method = a.get("action", ""), a.get("method", "get").lower()
        elif tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and self._select not in self.fields:
            self.fields[self._select] = a.get("value", "")  # the first option, as a browser selects

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def sign_in(url: str, choose: dict[str, str] | None = None) -> requests.Response:
    """Open ``url``, submit its form (with ``choose`` overriding fields), follow the redirect;
    returns the listener's answer page."""
    page = requests.get(url, timeout=30)
    page.raise_for_status()
    form = _Form()
    form.feed(page.text)
    assert form.method == "post", page.text
    fields = dict(form.fields, **(choose or {}))
    granted = requests.post(urljoin(url, form.action), data=fields, allow_redirects=False, timeout=30)
    assert granted.status_code == 302, granted.text
    return requests.get(granted.headers["Location"], timeout=30)


def sign_in_later(url: str, results: list) -> threading.Thread:
    """:func:`sign_in` on a thread of its own (the listener waits on the caller's); the answer
    page (or the exception) goes into ``results``."""
    def run() -> None:
        try:
            results.append(sign_in(url))
        except Exception as exc:  # handed to the test
            results.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread
