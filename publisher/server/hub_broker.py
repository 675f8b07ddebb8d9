"""The event hub's pure logic, with no I/O: socket.io 0.9 packets, handshake sessions and the
routing of one event to the connections whose subscribers want it.

:mod:`publisher.server.event_hub` puts this on the network (aiohttp); everything here is plain
Python, called from the event loop's thread only (nothing here locks).

Wire facts (as the stock ``ftrack_api`` 3.1.0 ``EventHub`` speaks them):

- the expression grammar lives in :mod:`publisher.event_expression` (the client uses it too);
- handshake ``GET /socket.io/1/`` answers ``<sid>:<heartbeat>:<close>:websocket``;
- a packet is ``<code>:<id>:<endpoint>[:<data>]``; codes 0 disconnect, 1 connect, 2 heartbeat,
  5 event (``{"name": "ftrack.event", "args": [event]}``), 6 acknowledge (``<id>+[args]``),
  7 error; an id ending in ``+`` asks for an acknowledgement carrying data;
- an event on the wire names the event it answers ``inReplyToEvent``; the clients call it
  ``in_reply_to_event``, and subscriptions and targets are matched against that form;
- ``ftrack.meta.subscribe`` carries ``data.subscriber`` (metadata with an ``id``) and
  ``data.subscription`` (an expression); ``ftrack.meta.unsubscribe`` carries
  ``data.subscriber``; both are acknowledged with ``{"success": bool, "message": str}``;
- ``target`` is an expression matched against a subscriber's metadata, not the event.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from publisher.event_expression import Expression, ExpressionError, parse_expression

EVENT_NAMESPACE = "ftrack.event"
SUBSCRIBE_TOPIC = "ftrack.meta.subscribe"
UNSUBSCRIBE_TOPIC = "ftrack.meta.unsubscribe"

#: socket.io 0.9 packet codes.
DISCONNECT, CONNECT, HEARTBEAT, MESSAGE, JSON, EVENT, ACK, ERROR = "0", "1", "2", "3", "4", "5", "6", "7"
_CODES = {DISCONNECT, CONNECT, HEARTBEAT, MESSAGE, JSON, EVENT, ACK, ERROR, "8"}


class PacketError(ValueError):
    """A frame that is not a socket.io 0.9 packet (or not an event the hub understands)."""


class SubscribeError(ValueError):
    """A subscribe or unsubscribe request the hub refuses (its message goes back in the ack)."""


# Packets ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Packet:
    """One socket.io 0.9 packet: ``code``, message ``packet_id`` (``"3+"`` asks for an ack with
    data), ``endpoint`` and the ``data`` text after the third colon."""

    code: str
    packet_id: str = ""
    endpoint: str = ""
    data: str = ""

    def encode(self) -> str:
        """The packet as its text frame."""
        return f"{self.code}:{self.packet_id}:{self.endpoint}:{self.data}" if self.data else \
            f"{self.code}:{self.packet_id}:{self.endpoint}"

    @property
    def wants_ack(self) -> bool:
        """Whether the sender asked for an acknowledgement carrying data."""
        return self.packet_id.endswith("+") and self.packet_id[:-1].isdigit()


def parse_packet(text: object) -> Packet:
    """The packet a text frame holds; raises :class:`PacketError` for anything else."""
    if not isinstance(text, str) or not text:
        raise PacketError("A hub frame must be non-empty text.")
    parts = text.split(":", 3)
    if parts[0] not in _CODES or len(parts) == 2:
        raise PacketError(f"'{text[:60]}' is not a socket.io packet (code:id:endpoint:data).")
    while len(parts) < 4:
        parts.append("")
    return Packet(*parts)


def event_packet(event: Mapping[str, Any]) -> Packet:
    """The event packet that delivers ``event`` (client form) to a connection."""
    return Packet(EVENT, data=json.dumps({"name": EVENT_NAMESPACE, "args": [to_wire(event)]}, ensure_ascii=False))


def ack_packet(packet_id: str, *args: Any) -> Packet:
    """The acknowledgement of the packet ``packet_id`` (``"3+"`` or ``"3"``), carrying ``args``."""
    number = packet_id.rstrip("+")
    data = f"{number}+{json.dumps(list(args), ensure_ascii=False)}" if args else number
    return Packet(ACK, data=data)


def decode_event_packet(packet: Packet) -> dict:
    """The event (client form) an event packet carries; raises PacketError when it has none."""
    try:
        payload = json.loads(packet.data)
    except ValueError as exc:
        raise PacketError(f"The event packet's data is not JSON: {exc}.") from None
    if not isinstance(payload, dict) or payload.get("name") != EVENT_NAMESPACE:
        raise PacketError(f"The hub only takes '{EVENT_NAMESPACE}' events.")
    args = payload.get("args")
    if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
        raise PacketError("An event packet must carry exactly one event object in 'args'.")
    return from_wire(args[0])


def from_wire(event: Mapping[str, Any]) -> dict:
    """An event as received (``inReplyToEvent``) in the clients' form, with every key present."""
    event = dict(event)
    if "inReplyToEvent" in event:
        event["in_reply_to_event"] = event.pop("inReplyToEvent")
    topic = event.get("topic")
    if not isinstance(topic, str) or not topic:
        raise PacketError("An event needs a 'topic' (text).")
    if event.get("data") is None:
        event["data"] = {}  # any JSON value otherwise: a reply's data is often a bare string
    if event.get("source") is None:
        event["source"] = {}
    if not isinstance(event["source"], dict):
        raise PacketError("An event's 'source' must be an object.")
    target = event.get("target") or ""
    if not isinstance(target, str):
        raise PacketError("An event's 'target' must be an expression (text).")
    event["target"] = target
    event.setdefault("id", secrets.token_hex(16))
    event.setdefault("sent", None)
    event.setdefault("in_reply_to_event", None)
    return event


def to_wire(event: Mapping[str, Any]) -> dict:
    """An event in the form sent on the wire (``inReplyToEvent``)."""
    wire = dict(event)
    wire["inReplyToEvent"] = wire.pop("in_reply_to_event", None)
    return wire


# Subscribers and routing ----------------------------------------------------------------------
@dataclass
class Subscriber:
    """One subscriber of a connection: its metadata (with an ``id``) and expression."""

    metadata: dict
    subscription: str
    expression: Expression


@dataclass
class Connection:
    """What the broker knows of one hub connection."""

    connection_id: str
    user: dict
    subscribers: dict[str, Subscriber] = field(default_factory=dict)


class Broker:
    """Subscribers per connection, and which connections an event goes to.

    An event is delivered once to each connection that has at least one subscriber whose
    metadata matches the event's ``target`` (when it has one) and whose subscription matches
    the event; the client then hands it to its own matching callbacks. The publisher's own
    connection is included (ftrack's hub echoes events to their sender's subscribers).
    """

    def __init__(self) -> None:
        self.connections: dict[str, Connection] = {}
        self._target_cache: dict[str, Expression | None] = {}

    def add_connection(self, connection_id: str, user: dict) -> Connection:
        connection = Connection(connection_id, user)
        self.connections[connection_id] = connection
        return connection

    def remove_connection(self, connection_id: str) -> None:
        self.connections.pop(connection_id, None)

    def subscribe(self, connection_id: str, data: Mapping[str, Any]) -> Subscriber:
        """Add the subscriber an ``ftrack.meta.subscribe`` event's ``data`` describes."""
        metadata = data.get("subscriber")
        if not isinstance(metadata, dict) or not isinstance(metadata.get("id"), str) or not metadata["id"]:
            raise SubscribeError("The subscribe event needs data.subscriber with an 'id'.")
        text = data.get("subscription")
        try:
            expression = parse_expression(text)
        except ExpressionError as exc:
            raise SubscribeError(str(exc)) from None
        connection = self.connections[connection_id]
        if metadata["id"] in connection.subscribers:
            raise SubscribeError(f"Subscriber with identifier {metadata['id']} already exists.")
        subscriber = Subscriber(dict(metadata), text, expression)
        connection.subscribers[metadata["id"]] = subscriber
        return subscriber

    def unsubscribe(self, connection_id: str, data: Mapping[str, Any]) -> None:
        """Remove the subscriber an ``ftrack.meta.unsubscribe`` event's ``data`` names."""
        metadata = data.get("subscriber")
        identifier = metadata.get("id") if isinstance(metadata, dict) else None
        connection = self.connections[connection_id]
        if identifier not in connection.subscribers:
            raise SubscribeError(f"No subscriber with identifier {identifier} on this connection.")
        del connection.subscribers[identifier]

    def _target(self, text: str) -> Expression | None:
        if text not in self._target_cache:
            if len(self._target_cache) > 4096:
                self._target_cache.clear()
            try:
                self._target_cache[text] = parse_expression(text)
            except ExpressionError:
                self._target_cache[text] = None
        return self._target_cache[text]

    def route(self, event: Mapping[str, Any]) -> list[str]:
        """The ids of the connections ``event`` (client form) is delivered to."""
        target_text = event.get("target") or ""
        target = self._target(target_text) if target_text else None
        if target_text and target is None:
            return []  # a target nobody can match: ftrack's clients drop such events too
        found = []
        for connection in self.connections.values():
            if _wants(connection.subscribers.values(), event, target):
                found.append(connection.connection_id)
        return found


def _wants(subscribers: Iterable[Subscriber], event: Mapping[str, Any], target: Expression | None) -> bool:
    for subscriber in subscribers:
        if target is not None and not target.match(subscriber.metadata):
            continue
        if subscriber.expression.match(event):
            return True
    return False


# Handshake sessions ---------------------------------------------------------------------------
class Handshakes:
    """Session ids given out by the handshake, each good for one websocket within ``ttl`` s."""

    def __init__(self, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._pending: dict[str, tuple[float, dict]] = {}

    def issue(self, user: dict) -> str:
        """A new session id for ``user`` (the row the handshake authenticated)."""
        self._expire()
        sid = secrets.token_hex(16)
        self._pending[sid] = (self._clock() + self.ttl, user)
        return sid

    def claim(self, sid: str) -> dict | None:
        """The user of ``sid``, once; None for an unknown, used or expired id."""
        self._expire()
        entry = self._pending.pop(sid, None)
        return entry[1] if entry else None

    def _expire(self) -> None:
        now = self._clock()
        for sid in [s for s, (until, _u) in self._pending.items() if until < now]:
            del self._pending[sid]
