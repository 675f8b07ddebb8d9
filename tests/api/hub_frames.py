"""A hub that records the frames its clients send (the server's own hub on a loopback aiohttp
app in a thread), the scenario both clients play on it, and the normalising of frames that
differ only by random ids. Used to check that our client speaks as the stock client does."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from typing import Any

from aiohttp import web

from publisher.server.event_hub import EventHub

USER, KEY = "recorder", "recorder-key"

#: What a client does on the recording hub (the same steps for the stock client and ours).
SCENARIO = """
hub.connect()
hub.subscribe("topic=demo.ping", lambda event: "pong", subscriber={"id": "sub-1"})
replies = []
hub.publish(EVENT("demo.ping", data={"n": 1}, id="event-1"), on_reply=lambda event: replies.append(event["data"]))
hub.wait(1.5)
assert replies == ["pong"], replies
hub.disconnect()
"""
STOCK_PRELUDE = """
import ftrack_api.event.hub
from ftrack_api.event.base import Event as EVENT
hub = ftrack_api.event.hub.EventHub(URL, USER, KEY)
"""
OURS_PRELUDE = """
from publisher.api.event_hub import EventHub, make_event as EVENT
hub = EventHub(URL, USER, KEY)
"""


class _Recording(EventHub):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frames: list[str] = []

    def _receive(self, connection: Any, text: str) -> bool:
        self.frames.append(text)
        return super()._receive(connection, text)


class RecordingHub:
    """The server's hub alone on ``127.0.0.1:<port>``, recording every text frame received."""

    def __init__(self) -> None:
        def authenticate(user: Any, key: Any) -> dict:
            if user != USER or key != KEY:
                raise ValueError("wrong key")
            return {"id": "user-1", "username": USER}

        self.hub = _Recording(authenticate)
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        self.hub.add_routes(app)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> "RecordingHub":
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


_HEX = re.compile(r"^[0-9a-f]{32}$")


def normalise(frames: list[str]) -> list[Any]:
    """The frames with what is random per run (hub ids, event ids, host) replaced by names
    given in order of appearance, heartbeats left out."""
    names: dict[str, str] = {}

    def name(value: str) -> str:
        return names.setdefault(value, f"<id{len(names)}>")

    def clean(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: clean(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, str):
            if key == "host":
                return "<host>"
            if _HEX.match(value):
                return name(value)
            if value.startswith("id=") and _HEX.match(value[3:]):
                return "id=" + name(value[3:])
        return value

    found = []
    for frame in frames:
        code, packet_id, _endpoint, data = (frame.split(":", 3) + ["", "", ""])[:4]
        if code == "2":
            continue
        payload = clean(json.loads(data)) if data else None
        keys = list(payload["args"][0]) if payload and "args" in payload else None
        found.append([code, packet_id, payload, keys])
    return found
