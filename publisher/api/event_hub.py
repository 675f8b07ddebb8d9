"""The client's event hub: ftrack's socket.io 0.9 protocol over websocket-client, as the
stock ``ftrack_api`` 3.1.0 ``EventHub`` speaks it, with events as plain mappings.

``session.event_hub`` gives one per session. :meth:`EventHub.connect` does the handshake and
starts a receiver thread; events the server delivers wait in a queue until :meth:`EventHub.wait`
hands them to the matching callbacks in the calling thread (as the stock client does, so a
callback never runs on the receiver thread). When the connection drops the receiver reconnects
with backoff and subscribes again; events published meanwhile are sent once it is back.

``subscribe``, ``unsubscribe``, ``publish`` and ``publish_reply`` may be called from any
thread; ``wait`` from one thread at a time. No Qt.
"""

from __future__ import annotations

import collections
import itertools
import json
import logging
import platform
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping, MutableMapping
from urllib.parse import urlparse

import requests
import websocket

from publisher.api.exceptions import FtrackError
from publisher.event_expression import Expression, ExpressionError, parse_expression

log = logging.getLogger(__name__)

Event = MutableMapping[str, Any]
Callback = Callable[[Event], Any]

#: Longest wait between two reconnection attempts (seconds); the first waits ``0.5``.
MAX_BACKOFF = 30.0
#: Events kept while disconnected, sent once the connection is back.
PENDING_LIMIT = 1000
#: ``on_reply`` callbacks kept (the oldest go first: replies come soon or never).
REPLY_CALLBACK_LIMIT = 1000
#: How often the receiver looks up from a silent socket (to notice a stop or a dead server).
_POLL = 0.5


class EventHubConnectionError(FtrackError):
    """The hub cannot be reached, or refused the connection; the message says why."""


class EventHubUnavailable(EventHubConnectionError):
    """The server has no event hub (it answered 404 on ``/socket.io/1/``): not a failure, the
    server is older or restricted, and live updates are simply off."""


class EventHubAuthenticationError(EventHubConnectionError):
    """The hub refused the user name and API key."""


def make_event(topic: str, data: Any = None, *, target: str = "", source: Mapping[str, Any] | None = None,
               in_reply_to_event: str | None = None, id: str | None = None) -> dict:
    """A new event mapping with every key the hub expects."""
    # The stock client's key order, so that frames read the same on the wire.
    return {"id": id or uuid.uuid4().hex, "data": {} if data is None else data, "topic": topic, "sent": None,
            "source": dict(source or {}), "target": target, "in_reply_to_event": in_reply_to_event}


@dataclass
class _Subscriber:
    metadata: dict
    subscription: str
    expression: Expression
    callback: Callback | None
    priority: int


class EventHub:
    """A connection to the event hub of ``server_url`` (see the module docstring)."""

    def __init__(self, server_url: str, api_user: str, api_key: str, *, headers: Mapping[str, str] | None = None,
                 timeout: float = 10.0, auto_reconnect: bool = True, max_backoff: float = MAX_BACKOFF) -> None:
        parsed = urlparse(server_url)
        if not parsed.scheme or not parsed.hostname:
            raise EventHubConnectionError(f"The server address {server_url!r} needs a scheme and a host name.")
        self.id = uuid.uuid4().hex
        self.server_url = server_url.rstrip("/")
        self.api_user = api_user
        self._api_key = api_key
        self._headers = dict(headers or {})
        self.timeout = timeout
        self.auto_reconnect = auto_reconnect
        self.max_backoff = max_backoff
        self._ws: websocket.WebSocket | None = None
        self._send_lock = threading.Lock()
        self._state = threading.Condition()
        self._subscribers: list[_Subscriber] = []
        self._reply_callbacks: dict[str, Callback] = {}
        self._ack_callbacks: dict[int, Callable[[Any], None]] = {}
        self._packet_ids = itertools.count(1)
        self._events: queue.Queue[Event] = queue.Queue()
        self._pending: collections.deque = collections.deque(maxlen=PENDING_LIMIT)
        self._receiver: threading.Thread | None = None
        self._stop = threading.Event()
        self._was_connected = False
        self._close_timeout = 60.0
        #: Times a dropped connection was made again (for the status shown to the user).
        self.reconnections = 0
        self._add_subscriber("topic=ftrack.meta.reply", self._handle_reply, {"id": self.id}, 0)

    # Connection ----------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """Whether the websocket is open now."""
        ws = self._ws
        return ws is not None and bool(ws.connected)

    def connect(self) -> None:
        """Do the handshake, open the websocket and start receiving.

        Raises :class:`EventHubUnavailable` when the server has no hub (404),
        :class:`EventHubAuthenticationError` for a wrong user or key, and
        :class:`EventHubConnectionError` for anything else (or when already connected).
        """
        if self.connected:
            raise EventHubConnectionError("Already connected to the event hub.")
        self._stop.clear()
        self._open()
        self._receiver = threading.Thread(target=self._receive_loop, name="ftrack-event-hub", daemon=True)
        self._receiver.start()

    def disconnect(self, unsubscribe: bool = True) -> None:
        """Close the connection (telling the server first) and stop reconnecting."""
        self._stop.set()
        if unsubscribe and self.connected:
            # Every subscriber, the reply one too, as the stock client tells the server.
            for subscriber in list(self._subscribers):
                self._send_meta("ftrack.meta.unsubscribe", {"subscriber": subscriber.metadata})
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.close(timeout=1)
            except Exception:
                pass
        receiver = self._receiver
        if receiver is not None and receiver is not threading.current_thread():
            receiver.join(timeout=2 * _POLL + 1)
        self._was_connected = False

    def _handshake(self) -> str:
        url = f"{self.server_url}/socket.io/1/"
        headers = {"ftrack-user": self.api_user, "ftrack-api-key": self._api_key, **self._headers}
        try:
            response = requests.get(url, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise EventHubConnectionError(f"Cannot reach the event hub of {self.server_url}: {exc}") from None
        if response.status_code == 404:
            raise EventHubUnavailable(f"The server at {self.server_url} has no event hub; live updates are off.")
        if response.status_code in (401, 403):
            raise EventHubAuthenticationError(
                f"The event hub of {self.server_url} refused user {self.api_user}: check the API key in the settings.")
        if response.status_code != 200:
            raise EventHubConnectionError(
                f"The event hub of {self.server_url} answered HTTP {response.status_code} to the handshake.")
        parts = response.text.strip().split(":")
        if len(parts) < 4 or "websocket" not in parts[3].split(","):
            raise EventHubConnectionError(
                f"The event hub of {self.server_url} does not offer a websocket (answer {response.text[:80]!r}).")
        try:
            self._close_timeout = float(parts[2]) or 60.0
        except ValueError:
            self._close_timeout = 60.0
        return parts[0]

    def _open(self) -> None:
        sid = self._handshake()
        parsed = urlparse(self.server_url)
        scheme = "wss" if parsed.scheme == "https" else "ws"
        url = f"{scheme}://{parsed.netloc}/socket.io/1/websocket/{sid}"
        try:
            ws = websocket.create_connection(url, timeout=self.timeout,
                                             header=[f"{k}: {v}" for k, v in self._headers.items()])
        except Exception as exc:
            raise EventHubConnectionError(f"Cannot open the event hub's websocket at {url}: {exc}") from None
        ws.settimeout(_POLL)
        self._ws = ws
        self._was_connected = True
        for subscriber in list(self._subscribers):
            self._notify_subscribe(subscriber)
        while self._pending:
            self._send_event(*self._pending.popleft())

    # Receiving -----------------------------------------------------------------------------
    def _receive_loop(self) -> None:
        last_heard = time.monotonic()
        while not self._stop.is_set():
            ws = self._ws
            if ws is None:
                if not self._reconnect():
                    break
                last_heard = time.monotonic()
                continue
            try:
                frame = ws.recv()
            except websocket.WebSocketTimeoutException:
                if time.monotonic() - last_heard > self._close_timeout:
                    log.info("event hub: no word from %s for %.0f s, reconnecting", self.server_url, self._close_timeout)
                    self._lose(ws)
                continue
            except Exception as exc:  # closed, reset: the server went away
                if not self._stop.is_set():
                    log.info("event hub: connection to %s lost (%s)", self.server_url, exc)
                self._lose(ws)
                continue
            last_heard = time.monotonic()
            if not frame:  # a close frame reads as empty text
                self._lose(ws)
                continue
            try:
                self._handle_frame(frame)
            except Exception:  # a frame we cannot read must not end the connection
                log.warning("event hub: ignoring a frame that cannot be read: %.120r", frame, exc_info=True)
        self._put_meta("ftrack.meta.disconnected")

    def _lose(self, ws: websocket.WebSocket) -> None:
        if self._ws is ws:
            self._ws = None
        try:
            ws.close(timeout=0.2)
        except Exception:
            pass
        if not self.auto_reconnect:
            self._stop.set()

    def _reconnect(self) -> bool:
        """Connect again with growing waits; False when stopped meanwhile."""
        delay = 0.5
        while not self._stop.is_set():
            try:
                self._open()
            except EventHubConnectionError as exc:
                log.debug("event hub: reconnect to %s failed: %s", self.server_url, exc)
                if self._stop.wait(delay):
                    return False
                delay = min(delay * 2, self.max_backoff)
                continue
            self.reconnections += 1
            self._put_meta("ftrack.meta.reconnected")
            return True
        return False

    def _handle_frame(self, frame: str) -> None:
        code, _, rest = frame.partition(":")
        packet_id, _, rest = rest.partition(":")
        _endpoint, _, data = rest.partition(":")
        if code == "1":
            self._put_meta("ftrack.meta.connected")
        elif code == "2":
            with self._send_lock:
                if self._ws is not None:
                    self._ws.send("2:::")
        elif code == "0":
            ws = self._ws
            if ws is not None:
                self._lose(ws)
        elif code == "5":
            payload = json.loads(data)
            args = payload.get("args") if isinstance(payload, dict) else None
            if isinstance(args, list) and len(args) == 1 and isinstance(args[0], dict):
                self._events.put(_from_wire(args[0]))
        elif code == "6":
            number, _, args = data.partition("+")
            callback = self._ack_callbacks.pop(int(number), None)
            if callback is not None:
                values = json.loads(args) if args else []
                callback(values[0] if values else None)
        elif code == "7":
            log.warning("event hub: the server reported an error: %s", data[:200])

    def _put_meta(self, topic: str) -> None:
        event = make_event(topic)
        self._prepare(event)
        self._events.put(event)

    def wait(self, duration: float | None = None) -> None:
        """Hand received events to their callbacks in this thread, for ``duration`` seconds
        (forever when None); returns early after a ``ftrack.meta.disconnected``."""
        deadline = None if duration is None else time.monotonic() + duration
        while True:
            timeout = 0.1 if deadline is None else max(0.0, min(0.1, deadline - time.monotonic()))
            try:
                event = self._events.get(timeout=timeout)
            except queue.Empty:
                event = None
            if event is not None:
                self._dispatch(event)
                if event["topic"] == "ftrack.meta.disconnected":
                    return
            if deadline is not None and time.monotonic() >= deadline:
                return

    def _dispatch(self, event: Event, synchronous: bool = False) -> list:
        target = event.get("target") or ""
        target_expression = None
        if target:
            try:
                target_expression = parse_expression(target)
            except ExpressionError:
                log.warning("event hub: dropping event %s with a target that cannot be read: %r", event.get("id"), target)
                return []
        results = []
        for subscriber in sorted(self._subscribers, key=lambda s: s.priority):
            if target_expression is not None and not target_expression.match(subscriber.metadata):
                continue
            if subscriber.callback is None or not subscriber.expression.match(event):
                continue
            try:
                result = subscriber.callback(event)
            except Exception:
                log.exception("event hub: callback of subscriber %s failed on %s", subscriber.metadata["id"], event.get("topic"))
                continue
            results.append(result)
            if result is not None and not synchronous and subscriber.metadata["id"] != self.id:
                try:
                    self.publish_reply(event, result, source=subscriber.metadata)
                except EventHubConnectionError:
                    log.info("event hub: could not reply to %s: not connected", event.get("id"))
        return results

    def _handle_reply(self, event: Event) -> None:
        callback = self._reply_callbacks.get(event.get("in_reply_to_event"))
        if callback is not None:
            callback(event)

    # Subscribing ---------------------------------------------------------------------------
    def _add_subscriber(self, subscription: str, callback: Callback | None, subscriber: Mapping[str, Any] | None,
                        priority: int) -> _Subscriber:
        metadata = dict(subscriber or {})
        metadata.setdefault("id", uuid.uuid4().hex)
        if any(s.metadata["id"] == metadata["id"] for s in self._subscribers):
            raise ValueError(f"Subscriber with identifier {metadata['id']} already exists.")
        found = _Subscriber(metadata, subscription, parse_expression(subscription), callback, priority)
        self._subscribers.append(found)
        return found

    def subscribe(self, subscription: str, callback: Callback, subscriber: Mapping[str, Any] | None = None,
                  priority: int = 100) -> str:
        """Call ``callback(event)`` (from :meth:`wait`) for events matching ``subscription``;
        returns the subscriber id. A callback's non-None result is sent back as a reply.

        Raises :class:`publisher.event_expression.ExpressionError` for an expression that
        cannot be read, ValueError for a subscriber id already used.
        """
        found = self._add_subscriber(subscription, callback, subscriber, priority)
        if self.connected:
            self._notify_subscribe(found)
        return found.metadata["id"]

    def unsubscribe(self, subscriber_id: str) -> None:
        """Stop the subscriber ``subscriber_id``; raises KeyError when there is none."""
        found = next((s for s in self._subscribers if s.metadata["id"] == subscriber_id), None)
        if found is None:
            raise KeyError(f"No subscriber with identifier {subscriber_id}.")
        self._subscribers.remove(found)
        if self.connected:
            self._send_meta("ftrack.meta.unsubscribe", {"subscriber": found.metadata})

    def _notify_subscribe(self, subscriber: _Subscriber) -> None:
        self._send_meta("ftrack.meta.subscribe",
                        {"subscriber": subscriber.metadata, "subscription": subscriber.subscription})

    def _send_meta(self, topic: str, data: dict) -> None:
        event = make_event(topic, data)
        self._prepare(event)

        def answered(result: Any) -> None:
            if isinstance(result, dict) and result.get("success") is False:
                log.warning("event hub: %s refused: %s", topic, result.get("message"))

        try:
            self._send_event(event, answered)
        except EventHubConnectionError:
            pass  # sent again with every subscriber when the connection is back

    # Publishing ----------------------------------------------------------------------------
    def _prepare(self, event: Event) -> None:
        event.setdefault("id", uuid.uuid4().hex)
        event.setdefault("data", {})
        event.setdefault("target", "")
        event.setdefault("in_reply_to_event", None)
        event.setdefault("sent", None)
        source = event.get("source")
        if source is None:
            source = event["source"] = {}
        source.setdefault("id", self.id)
        source.setdefault("user", {"username": self.api_user})
        source.setdefault("host", platform.node())

    def publish(self, event: Event, on_reply: Callback | None = None, synchronous: bool = False) -> list | None:
        """Send ``event`` to the hub; ``on_reply(reply)`` is called (from :meth:`wait`) for
        each reply. With ``synchronous``, hand it to this hub's own callbacks only and return
        their results. While the connection is being made again, the event waits and is sent
        when it is back; raises :class:`EventHubConnectionError` when never connected.
        """
        self._prepare(event)
        if synchronous:
            return self._dispatch(event, synchronous=True)
        if on_reply is not None:
            self._reply_callbacks[event["id"]] = on_reply
            while len(self._reply_callbacks) > REPLY_CALLBACK_LIMIT:
                self._reply_callbacks.pop(next(iter(self._reply_callbacks)), None)
        if not self.connected:
            if self._was_connected and not self._stop.is_set():
                self._pending.append((event, None))
                return None
            raise EventHubConnectionError("Not connected to the event hub: call connect() first.")
        try:
            self._send_event(event, None)
        except EventHubConnectionError:
            self._pending.append((event, None))
        return None

    def publish_reply(self, source_event: Mapping[str, Any], data: Any, source: Mapping[str, Any] | None = None) -> None:
        """Reply ``data`` to ``source_event`` (its sender's ``on_reply`` gets it)."""
        reply = make_event("ftrack.meta.reply", data, target=f"id={source_event['source']['id']}",
                           in_reply_to_event=source_event["id"])
        if source is not None:
            # The mapping itself, as the stock client does: preparing the reply gives a
            # subscriber's metadata its user and host, and it says so when it unsubscribes.
            reply["source"] = source
        self.publish(reply)

    def _send_event(self, event: Event, on_ack: Callable[[Any], None] | None) -> None:
        number = next(self._packet_ids)
        if on_ack is not None:
            self._ack_callbacks[number] = on_ack
        body = json.dumps({"name": "ftrack.event", "args": [_to_wire(event)]}, ensure_ascii=False)
        frame = f"5:{number}+::{body}"
        ws = self._ws
        if ws is None:
            self._ack_callbacks.pop(number, None)
            raise EventHubConnectionError("Not connected to the event hub.")
        try:
            with self._send_lock:
                ws.send(frame)
        except Exception as exc:
            self._ack_callbacks.pop(number, None)
            raise EventHubConnectionError(f"Sending to the event hub failed: {exc}") from None


def _to_wire(event: Mapping[str, Any]) -> dict:
    wire = dict(event)
    wire["inReplyToEvent"] = wire.pop("in_reply_to_event", None)
    return wire


def _from_wire(event: Mapping[str, Any]) -> dict:
    found = dict(event)
    if "inReplyToEvent" in found:
        found["in_reply_to_event"] = found.pop("inReplyToEvent")
    found.setdefault("in_reply_to_event", None)
    found.setdefault("data", {})
    found.setdefault("source", {})
    found.setdefault("target", "")
    return found
