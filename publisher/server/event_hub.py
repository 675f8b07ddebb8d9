"""The embedded server's event hub on aiohttp: the socket.io 0.9 handshake under
``/socket.io/1/``, the websocket transport, heartbeats and the delivery of events to the
connections whose subscribers want them (the logic is in :mod:`publisher.server.hub_broker`).

Runs on the server's event loop. :meth:`EventHub.publish` is the one method other threads call
(the request handlers' thread pool after a commit, the encode workers): it hands the event to
the loop with ``loop.call_soon_threadsafe``. Each connection has a bounded queue of frames to
send; a connection whose queue is full (a subscriber that does not read) is dropped, so it
never holds up the others.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, Awaitable, Callable, Mapping

from aiohttp import WSMsgType, web

from publisher.server.errors import ServerError
from publisher.server.hub_broker import (
    CONNECT, DISCONNECT, ERROR, EVENT, HEARTBEAT, SUBSCRIBE_TOPIC, UNSUBSCRIBE_TOPIC, Broker,
    Handshakes, Packet, PacketError, SubscribeError, ack_packet, decode_event_packet, event_packet, parse_packet,
)

log = logging.getLogger(__name__)

#: Seconds between the hub's heartbeats; announced in the handshake with the close timeout.
HEARTBEAT_INTERVAL = 20.0
#: Seconds of silence from a client after which its connection is closed.
CLOSE_TIMEOUT = 60.0
#: Frames, and bytes, waiting to be sent to one connection before it is dropped as not reading.
QUEUE_LIMIT = 1000
QUEUE_BYTES = 4 * 1024 * 1024
#: Largest frame a client may send (an event with its data).
MAX_FRAME = 4 * 1024 * 1024

#: ``authenticate(username, api_key)`` returns the user row or raises (any exception refuses).
Authenticate = Callable[[Any, Any], Mapping[str, Any]]


class _Connection:
    """One websocket: its queue of frames to send and the task that sends them."""

    def __init__(self, connection_id: str, user: Mapping[str, Any], ws: web.WebSocketResponse,
                 request: web.Request, limit: int) -> None:
        self.id = connection_id
        self.user = dict(user)
        self.ws = ws
        self.request = request
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=limit)
        self.queued_bytes = 0
        self.last_heard = asyncio.get_running_loop().time()
        self.dropped = False
        self.sender: asyncio.Task | None = None

    def offer(self, frame: str) -> bool:
        """Queue ``frame``; False when the queue is full (in frames or in bytes)."""
        if self.queued_bytes + len(frame) > QUEUE_BYTES and self.queued_bytes:
            return False
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            return False
        self.queued_bytes += len(frame)
        return True

    async def send_loop(self) -> None:
        while True:
            frame = await self.queue.get()
            # Counted until sent: a frame the socket will not take stays in the bound.
            await self.ws.send_str(frame)
            self.queued_bytes -= len(frame)


class EventHub:
    """The hub: add its routes with :meth:`add_routes`; :meth:`publish` from any thread."""

    def __init__(self, authenticate: Authenticate, *, heartbeat_interval: float = HEARTBEAT_INTERVAL,
                 close_timeout: float = CLOSE_TIMEOUT, queue_limit: int = QUEUE_LIMIT,
                 run_blocking: Callable[..., Awaitable[Any]] | None = None) -> None:
        """``authenticate`` blocks (SQLite): it runs through ``run_blocking(fn, *args)`` (the
        server's worker pool), or the loop's default executor when none is given."""
        self._authenticate = authenticate
        self._run_blocking = run_blocking
        self.heartbeat_interval = heartbeat_interval
        self.close_timeout = close_timeout
        self.queue_limit = queue_limit
        self.broker = Broker()
        self.handshakes = Handshakes(ttl=max(close_timeout, 30.0))
        self._connections: dict[str, _Connection] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._heartbeat_task: asyncio.Task | None = None
        self.dropped_slow = 0

    # Set-up ---------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        """Serve the handshake and the websocket on ``app``; start and stop with it."""
        app.router.add_get("/socket.io/1/", self._handshake)
        app.router.add_get("/socket.io/1/websocket/{sid}", self._websocket)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)

    async def _on_startup(self, app: web.Application) -> None:
        self._loop = asyncio.get_running_loop()
        self._heartbeat_task = self._loop.create_task(self._heartbeats())

    async def _on_shutdown(self, app: web.Application) -> None:
        """Tell every client the hub goes away (``0::``), so it reconnects to the next one."""
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
        for connection in list(self._connections.values()):
            connection.offer(Packet(DISCONNECT).encode())
        await asyncio.sleep(0.05)
        await asyncio.gather(*(self._drop(c, close_code=1001) for c in list(self._connections.values())))
        self._loop = None

    # Any thread ------------------------------------------------------------------------------
    def publish(self, event: Mapping[str, Any]) -> None:
        """Deliver ``event`` (client form: ``in_reply_to_event``) to its subscribers.

        Safe to call from any thread; returns at once. Dropped when the hub is not running.
        """
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self._deliver, dict(event))
        except RuntimeError:  # the loop closed meanwhile: the server is stopping
            pass

    # Loop thread -----------------------------------------------------------------------------
    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def _deliver(self, event: dict) -> None:
        targets = self.broker.route(event)
        if not targets:
            return
        frame = event_packet(event).encode()
        for connection_id in targets:
            connection = self._connections.get(connection_id)
            if connection is not None and not connection.offer(frame):
                self.dropped_slow += 1
                log.warning("event hub: dropping connection %s of %s: it has not read its last %d events",
                            connection.id, connection.user.get("username"), self.queue_limit)
                asyncio.get_running_loop().create_task(self._drop(connection, abort=True))

    async def _handshake(self, request: web.Request) -> web.Response:
        user_name = request.headers.get("ftrack-user") or request.query.get("api_user") or request.query.get("username")
        api_key = request.headers.get("ftrack-api-key") or request.query.get("api_key") or request.query.get("apiKey")
        try:
            if self._run_blocking is not None:
                user = await self._run_blocking(self._authenticate, user_name, api_key)
            else:
                user = await asyncio.get_running_loop().run_in_executor(None, self._authenticate, user_name, api_key)
        except ServerError:
            raise  # the server's own error answer, which also counts the failure for its login throttle
        except Exception as exc:
            message = getattr(exc, "content", None) or str(exc) or "The user name or API key is not valid."
            return web.json_response({"exception": "InvalidCredentialsError", "content": message, "error_code": None},
                                     status=401)
        sid = self.handshakes.issue(dict(user))
        text = f"{sid}:{int(self.close_timeout)}:{int(self.close_timeout)}:websocket"
        return web.Response(text=text, content_type="text/plain")

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        user = self.handshakes.claim(request.match_info["sid"])
        if user is None:
            return web.json_response({"exception": "InvalidCredentialsError", "error_code": None,
                                      "content": "Unknown or used hub session id: do the /socket.io/1/ handshake first."},
                                     status=401)
        ws = web.WebSocketResponse(max_msg_size=MAX_FRAME, autoping=True)
        await ws.prepare(request)
        connection = _Connection(uuid.uuid4().hex, user, ws, request, self.queue_limit)
        self._connections[connection.id] = connection
        self.broker.add_connection(connection.id, connection.user)
        connection.offer(Packet(CONNECT).encode())
        connection.sender = asyncio.get_running_loop().create_task(self._send(connection))
        try:
            async for message in ws:
                connection.last_heard = asyncio.get_running_loop().time()
                if message.type == WSMsgType.TEXT:
                    if not self._receive(connection, message.data):
                        break
                elif message.type == WSMsgType.BINARY:
                    connection.offer(Packet(ERROR, data="The hub takes text frames only.").encode())
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            await self._drop(connection)
        return ws

    async def _send(self, connection: _Connection) -> None:
        try:
            await connection.send_loop()
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass
        except Exception:  # never let one connection's failure go unseen
            log.exception("event hub: sending to %s failed", connection.id)

    def _receive(self, connection: _Connection, text: str) -> bool:
        """Handle one frame; False when the client said it disconnects."""
        try:
            packet = parse_packet(text)
        except PacketError as exc:
            connection.offer(Packet(ERROR, data=str(exc)).encode())
            return True
        if packet.code == DISCONNECT:
            return False
        if packet.code != EVENT:
            return True  # heartbeat answers, connects and acks from the client need nothing
        try:
            event = decode_event_packet(packet)
        except PacketError as exc:
            self._answer(connection, packet, {"success": False, "message": str(exc)}, error=str(exc))
            return True
        topic = event["topic"]
        if topic in (SUBSCRIBE_TOPIC, UNSUBSCRIBE_TOPIC):
            try:
                if topic == SUBSCRIBE_TOPIC:
                    self.broker.subscribe(connection.id, event["data"])
                else:
                    self.broker.unsubscribe(connection.id, event["data"])
            except SubscribeError as exc:
                self._answer(connection, packet, {"success": False, "message": str(exc)})
                return True
            self._answer(connection, packet, {"success": True, "message": ""})
            return True
        source = event["source"]
        # Subscribers filter on source.user.username: it is the authenticated user, not a claim.
        source["user"] = dict(source.get("user") or {}, username=connection.user.get("username"))
        self._answer(connection, packet, {"success": True, "message": ""})
        self._deliver(event)
        return True

    def _answer(self, connection: _Connection, packet: Packet, result: dict, error: str | None = None) -> None:
        if packet.packet_id:
            connection.offer(ack_packet(packet.packet_id, result).encode())
        elif error:
            connection.offer(Packet(ERROR, data=error).encode())

    async def _drop(self, connection: _Connection, *, abort: bool = False, close_code: int = 1000) -> None:
        if connection.dropped:
            return
        connection.dropped = True
        self._connections.pop(connection.id, None)
        self.broker.remove_connection(connection.id)
        if connection.sender is not None:
            connection.sender.cancel()
        if abort:
            # A client that does not read would hold a polite close for its whole timeout.
            transport = connection.request.transport
            if transport is not None:
                transport.abort()
            return
        if not connection.ws.closed:
            try:
                await asyncio.wait_for(connection.ws.close(code=close_code), timeout=2.0)
            except (asyncio.TimeoutError, ConnectionError, RuntimeError):
                transport = connection.request.transport
                if transport is not None:
                    transport.abort()

    async def _heartbeats(self) -> None:
        frame = Packet(HEARTBEAT).encode()
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            now = loop.time()
            for connection in list(self._connections.values()):
                if now - connection.last_heard > self.close_timeout:
                    log.info("event hub: closing %s, silent for %.0f s", connection.id, now - connection.last_heard)
                    loop.create_task(self._drop(connection, abort=True))
                elif not connection.offer(frame):
                    self.dropped_slow += 1
                    loop.create_task(self._drop(connection, abort=True))
