"""The server's event hub on the wire, with bad input: handshakes without a key, unknown
session ids, malformed frames, a subscriber that never reads, a thousand subscribers."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import aiohttp
import pytest
import requests
import websocket


def _event(topic: str, data=None, target: str = "") -> dict:
    return {"id": uuid.uuid4().hex, "topic": topic, "data": data or {}, "source": {}, "target": target,
            "sent": None, "inReplyToEvent": None}


def _packet(number: int, event: dict) -> str:
    return f"5:{number}+::" + json.dumps({"name": "ftrack.event", "args": [event]})


def _subscribe(number: int, expression: str, subscriber_id: str | None = None) -> str:
    return _packet(number, _event("ftrack.meta.subscribe", {
        "subscriber": {"id": subscriber_id or uuid.uuid4().hex}, "subscription": expression}))


def _headers(server) -> dict:
    return {"ftrack-user": server.api_user, "ftrack-api-key": server.api_key}


def _handshake(server) -> str:
    response = requests.get(f"{server.url}/socket.io/1/", headers=_headers(server), timeout=10)
    assert response.status_code == 200, response.text
    return response.text.split(":")[0]


def _ws_url(server, sid: str) -> str:
    return server.url.replace("http://", "ws://") + f"/socket.io/1/websocket/{sid}"


class Raw:
    """A websocket-client connection speaking raw frames."""

    def __init__(self, server) -> None:
        self.ws = websocket.create_connection(_ws_url(server, _handshake(server)), timeout=10)
        assert self.ws.recv() == "1::"

    def ask(self, frame: str) -> str:
        """Send ``frame`` and return the next frame that is not a heartbeat."""
        self.ws.send(frame)
        return self.next()

    def next(self) -> str:
        while True:
            frame = self.ws.recv()
            if not frame.startswith("2:"):
                return frame

    def close(self) -> None:
        self.ws.close()


def test_handshake_answers_a_session_for_the_websocket(embedded_server) -> None:
    response = requests.get(f"{embedded_server.url}/socket.io/1/", headers=_headers(embedded_server), timeout=10)
    sid, heartbeat, close, transports = response.text.split(":")
    assert len(sid) >= 16 and int(heartbeat) > 0 and int(close) > 0 and "websocket" in transports.split(",")
    by_query = requests.get(f"{embedded_server.url}/socket.io/1/", timeout=10, params={
        "api_user": embedded_server.api_user, "api_key": embedded_server.api_key})
    assert by_query.status_code == 200


@pytest.mark.parametrize("headers", [{}, {"ftrack-user": "demo", "ftrack-api-key": "wrong"},
                                     {"ftrack-user": "nobody", "ftrack-api-key": "x"}])
def test_unauthenticated_handshake_is_refused(embedded_server, headers) -> None:
    if headers.get("ftrack-user") == "demo":
        headers = {"ftrack-user": embedded_server.api_user, "ftrack-api-key": "wrong"}
    response = requests.get(f"{embedded_server.url}/socket.io/1/", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json()["exception"] == "InvalidCredentialsError"
    assert "key" in response.json()["content"].lower()


def test_websocket_needs_a_fresh_session_id(embedded_server) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(_ws_url(embedded_server, "made-up"), timeout=10)
    sid = _handshake(embedded_server)
    first = websocket.create_connection(_ws_url(embedded_server, sid), timeout=10)
    try:
        with pytest.raises(websocket.WebSocketBadStatusException):
            websocket.create_connection(_ws_url(embedded_server, sid), timeout=10)
    finally:
        first.close()


def test_malformed_frames_get_an_error_and_the_connection_goes_on(embedded_server) -> None:
    raw = Raw(embedded_server)
    try:
        assert raw.ask("this is not a packet").startswith("7:::")
        answer = raw.ask("5:1+::{not json")
        assert answer.startswith("6:::1+") and json.loads(answer.split("+", 1)[1])[0]["success"] is False
        answer = raw.ask(_packet(2, {"data": {}}))  # no topic
        assert json.loads(answer.split("+", 1)[1])[0]["success"] is False
        answer = raw.ask(_subscribe(3, "topic="))  # an expression that cannot be read
        assert json.loads(answer.split("+", 1)[1])[0]["success"] is False
        raw.ws.send_binary(b"\x00\x01")
        assert raw.next().startswith("7:::")
        # Still served: subscribe, publish, receive.
        assert json.loads(raw.ask(_subscribe(4, "topic=raw.ok")).split("+", 1)[1])[0]["success"] is True
        raw.ws.send(_packet(5, _event("raw.ok", {"n": 1})))
        frames = [raw.next(), raw.next()]
        delivered = next(f for f in frames if f.startswith("5:"))
        event = json.loads(delivered.split(":", 3)[3])["args"][0]
        assert event["data"] == {"n": 1} and event["source"]["user"]["username"] == embedded_server.api_user
        assert "inReplyToEvent" in event
    finally:
        raw.close()


def test_source_user_is_the_authenticated_user_not_a_claim(embedded_server) -> None:
    raw = Raw(embedded_server)
    try:
        raw.ask(_subscribe(1, "topic=raw.claim and source.user.username=someone_else"))
        raw.ask(_subscribe(2, f"topic=raw.claim and source.user.username={embedded_server.api_user}", "mine"))
        claim = _event("raw.claim")
        claim["source"] = {"user": {"username": "someone_else"}}
        raw.ws.send(_packet(3, claim))
        frames = [raw.next(), raw.next()]
        delivered = [json.loads(f.split(":", 3)[3])["args"][0] for f in frames if f.startswith("5:")]
        assert [e["source"]["user"]["username"] for e in delivered] == [embedded_server.api_user]
    finally:
        raw.close()


def test_a_subscriber_that_never_reads_is_dropped_without_stalling_others(embedded_server) -> None:
    stalled, healthy, sender = Raw(embedded_server), Raw(embedded_server), Raw(embedded_server)
    try:
        stalled.ask(_subscribe(1, "topic=raw.flood"))
        healthy.ask(_subscribe(1, "topic=raw.flood"))
        blob = "x" * 64 * 1024
        count = 300  # ~19 MB: more than the kernel's buffers and the hub's bound per connection
        received = 0
        for n in range(count):
            sender.ws.send(_packet(n + 10, _event("raw.flood", {"n": n, "blob": blob})))
            # The healthy subscriber reads as it goes.
            while True:
                frame = healthy.next()
                if frame.startswith("5:"):
                    received += 1
                    break
        assert received == count
        # The stalled one was cut off: reading it now ends in an error or a close, never all events.
        stalled.ws.settimeout(5)
        got = 0
        with pytest.raises((websocket.WebSocketException, ConnectionError, OSError)):
            while True:
                frame = stalled.ws.recv()
                if not frame:
                    raise websocket.WebSocketConnectionClosedException("closed")
                if frame.startswith("5:"):
                    got += 1
        assert got < count
    finally:
        for raw in (stalled, healthy, sender):
            try:
                raw.close()
            except Exception:
                pass


def test_a_thousand_subscribers_each_get_the_event(embedded_server) -> None:
    async def main() -> tuple[int, float]:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector, headers=_headers(embedded_server)) as http:
            async def join(i: int):
                async with http.get(f"{embedded_server.url}/socket.io/1/") as response:
                    sid = (await response.text()).split(":")[0]
                ws = await http.ws_connect(_ws_url(embedded_server, sid))
                assert (await ws.receive_str()) == "1::"
                await ws.send_str(_subscribe(1, f"topic=raw.many and data.group={i % 2}"))
                answer = await ws.receive_str()
                while answer.startswith("2:"):  # the hub's heartbeat may come first
                    answer = await ws.receive_str()
                assert answer.startswith("6:::1+")
                return ws

            sockets = []
            for start in range(0, 1000, 100):
                sockets += await asyncio.gather(*(join(i) for i in range(start, start + 100)))
            began = time.monotonic()
            await sockets[0].send_str(_packet(2, _event("raw.many", {"group": "0"})))

            async def hears(ws) -> bool:
                try:
                    while True:
                        frame = await asyncio.wait_for(ws.receive_str(), timeout=2.0)
                        if frame.startswith("5:"):
                            return True
                except asyncio.TimeoutError:
                    return False

            heard = await asyncio.gather(*(hears(ws) for ws in sockets))
            elapsed = time.monotonic() - began
            await asyncio.gather(*(ws.close() for ws in sockets))
            assert heard == [i % 2 == 0 for i in range(1000)]
            return sum(heard), elapsed

    count, _elapsed = asyncio.run(main())
    assert count == 500
