"""The event hub's pure logic: the expression grammar, socket.io packets, routing."""

from __future__ import annotations

import json

import pytest

from publisher.event_expression import ExpressionError, parse_expression
from publisher.server.hub_broker import (
    Broker, Handshakes, PacketError, SubscribeError, ack_packet, decode_event_packet, event_packet, parse_packet,
)

EVENT = {"topic": "ftrack.update", "data": {"entities": "x", "n": 5, "name": "comp_v003"},
         "source": {"user": {"username": "alice"}, "id": "hub-1"}, "target": "", "id": "e1"}


@pytest.mark.parametrize("expression, expected", [
    ("topic=ftrack.update", True),
    ("topic=ftrack.other", False),
    ("topic!=ftrack.other", True),
    ("topic=ftrack.*", True),
    ("data.name=v003*", True),            # containment, as ftrack's hub tests it
    ("topic=other.*", False),
    ("source.user.username=alice", True),
    ('source.user.username="alice"', True),
    ("source.user.username='bob'", False),
    ("topic=ftrack.update and source.user.username=alice", True),
    ("topic=ftrack.update AND source.user.username=bob", False),
    ("topic=nope or source.user.username=alice", True),
    ("not topic=nope", True),
    ("NOT (topic=ftrack.update or topic=x)", False),
    ("(topic=a or topic=ftrack.update) and not data.missing=1", True),
    ("data.missing.deeper=1", False),     # a missing key never matches
    ("data.n>=1", False),                 # a number compared with text: no match, no error
    ("data.entities.x=1", False),         # a path through text
    ("id=e1", True),
])
def test_expression_matches_as_ftrack_does(expression: str, expected: bool) -> None:
    assert parse_expression(expression).match(EVENT) is expected


@pytest.mark.parametrize("bad", ["", "   ", "invalid", "key=value nor other=value", "topic=", "(topic=a", "a=b)", "=b",
                                 "key==value", None, 5])
def test_expression_that_cannot_be_read_is_refused(bad) -> None:
    with pytest.raises(ExpressionError):
        parse_expression(bad)


def test_packets_parse_and_encode() -> None:
    assert parse_packet("2::").code == "2"
    assert parse_packet("2:::").code == "2"
    packet = parse_packet('5:7+::{"name":"ftrack.event","args":[{"topic":"a","inReplyToEvent":"e0"}]}')
    assert packet.wants_ack and packet.packet_id == "7+"
    event = decode_event_packet(packet)
    assert event["in_reply_to_event"] == "e0" and event["data"] == {} and event["target"] == ""
    assert ack_packet("7+", {"success": True}).encode() == '6:::7+[{"success": true}]'
    wire = json.loads(event_packet(event).encode().split(":", 3)[3])
    assert wire["name"] == "ftrack.event" and wire["args"][0]["inReplyToEvent"] == "e0"
    assert "in_reply_to_event" not in wire["args"][0]


@pytest.mark.parametrize("frame", ["", "hello", "9::", "5:1", 'x:::{}', None, b"2::"])
def test_malformed_frames_are_refused(frame) -> None:
    with pytest.raises(PacketError):
        parse_packet(frame)


@pytest.mark.parametrize("data", ["not json", '{"name":"other","args":[{}]}', '{"name":"ftrack.event","args":[]}',
                                  '{"name":"ftrack.event","args":[{"data":{}}]}',
                                  '{"name":"ftrack.event","args":[{"topic":"a","source":"me"}]}',
                                  '{"name":"ftrack.event","args":[{"topic":"a","target":5}]}'])
def test_event_packets_without_a_readable_event_are_refused(data: str) -> None:
    with pytest.raises(PacketError):
        decode_event_packet(parse_packet(f"5:1+::{data}"))


def _broker(*subscriptions: tuple[str, dict, str]) -> Broker:
    broker = Broker()
    for connection_id, metadata, expression in subscriptions:
        if connection_id not in broker.connections:
            broker.add_connection(connection_id, {"username": "alice"})
        broker.subscribe(connection_id, {"subscriber": metadata, "subscription": expression})
    return broker


def test_routing_delivers_once_per_interested_connection() -> None:
    broker = _broker(("c1", {"id": "s1"}, "topic=ftrack.update"), ("c1", {"id": "s2"}, "topic=ftrack.*"),
                     ("c2", {"id": "s3"}, "topic=other"), ("c3", {"id": "s4"}, "source.user.username=alice"))
    assert broker.route(EVENT) == ["c1", "c3"]


def test_target_is_matched_against_subscriber_metadata() -> None:
    broker = _broker(("c1", {"id": "hub-1"}, "topic=ftrack.meta.reply"), ("c2", {"id": "hub-2"}, "topic=ftrack.meta.reply"))
    reply = {"topic": "ftrack.meta.reply", "target": "id=hub-2", "data": "ok", "source": {}}
    assert broker.route(reply) == ["c2"]
    assert broker.route(dict(reply, target="id=(")) == []  # a target nobody can read


def test_subscribe_refusals_and_unsubscribe() -> None:
    broker = _broker(("c1", {"id": "s1"}, "topic=a"))
    with pytest.raises(SubscribeError, match="already exists"):
        broker.subscribe("c1", {"subscriber": {"id": "s1"}, "subscription": "topic=a"})
    with pytest.raises(SubscribeError, match="subscriber"):
        broker.subscribe("c1", {"subscription": "topic=a"})
    with pytest.raises(SubscribeError, match="parse|expression"):
        broker.subscribe("c1", {"subscriber": {"id": "s2"}, "subscription": "topic="})
    broker.unsubscribe("c1", {"subscriber": {"id": "s1"}})
    assert broker.route({"topic": "a", "target": ""}) == []
    with pytest.raises(SubscribeError):
        broker.unsubscribe("c1", {"subscriber": {"id": "s1"}})


def test_a_thousand_subscribers_route_correctly() -> None:
    broker = Broker()
    for i in range(1000):
        broker.add_connection(f"c{i}", {"username": "u"})
        broker.subscribe(f"c{i}", {"subscriber": {"id": f"s{i}"}, "subscription": f"topic=t and data.n={i % 10}"})
    found = broker.route({"topic": "t", "data": {"n": "3"}, "target": ""})
    assert found == [f"c{i}" for i in range(1000) if i % 10 == 3]


def test_handshake_ids_are_single_use_and_expire() -> None:
    now = [0.0]
    handshakes = Handshakes(ttl=10, clock=lambda: now[0])
    sid = handshakes.issue({"username": "alice"})
    assert handshakes.claim(sid) == {"username": "alice"}
    assert handshakes.claim(sid) is None
    late = handshakes.issue({"username": "bob"})
    now[0] = 11.0
    assert handshakes.claim(late) is None
    assert handshakes.claim("made-up") is None


def test_a_big_batch_is_announced_in_pieces() -> None:
    from publisher.server.update_events import ENTRIES_PER_EVENT, update_events

    entries = [{"entityId": str(i), "parents": [{"entityId": str(i)}]} for i in range(2 * ENTRIES_PER_EVENT + 1)]
    events = update_events(entries, {"id": "u", "username": "alice"})
    assert [len(e["data"]["entities"]) for e in events] == [ENTRIES_PER_EVENT, ENTRIES_PER_EVENT, 1]
    assert all(e["topic"] == "ftrack.update" and e["source"]["user"]["username"] == "alice" for e in events)
