"""What every emulated WebSocket server shares: handshake faults, liveness, the push loop.

One `WsServer` per venue holds the knobs (settable from any thread while it serves), the
counters and the open connections; the venue's `WsProtocol` turns control messages into
replies and the market clock into payloads. One task polls every `tick_s` real seconds:
housekeeping (server pings, pong timeouts, lifetime, faults), then each connection's
`poll(now_ms)`. Each connection has its own writer task, so a client that stops reading
never holds up the others.

Faults: `refuse(k)` answers the next k upgrades with HTTP 503; `drop_all()` (or
`knobs.drop_every_s`) aborts every socket without a close frame; `stall()` (or
`knobs.stall_after_s`) keeps the TCP connection open but sends nothing and answers no
ping; `shutdown()` sends the venue's shutdown notice, then closes; `knobs.lifetime_s` is
the 24 h rule; a client that does not pong within `pong_timeout_s`, or sends more than
`max_inbound_per_s` frames a second, is disconnected.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from barlake.emulator.ws_connection import Connection, Out, WsProtocol

log = logging.getLogger(__name__)
WS_PREFIXES = ("/ws", "/stream")
QUEUE_LIMIT = 50_000  # queued messages before a client counts as too slow and is cut


@dataclass
class WsKnobs:
    """Liveness rules and fault schedules of one WS server (real seconds unless noted)."""

    ping_interval_s: float | None = 20.0
    pong_timeout_s: float = 60.0
    max_inbound_per_s: int | None = 5
    lifetime_s: float | None = 24 * 3600.0
    drop_every_s: float | None = None
    shutdown_every_s: float | None = None
    stall_after_s: float | None = None
    retry_after_s: int | None = None
    tick_s: float = 0.01
    kline_push_ms: float | None = None  # real ms between forming-candle updates
    min_push_ms: float = 50.0  # floor for every periodic push, in real ms


@dataclass
class WsCounters:
    """What happened, for tests and benchmarks; `closes` counts server-side closes by reason."""

    accepted: int = 0
    refused: int = 0
    subscriptions: int = 0
    unsubscriptions: int = 0
    messages_in: int = 0
    messages_out: int = 0
    closed_by_client: int = 0
    closes: Counter[str] = field(default_factory=Counter)

    @property
    def dropped(self) -> int:
        """Connections the server ended (faults, lifetime, liveness, rate)."""
        return sum(self.closes.values())


class WsServer:
    """The knobs, counters and connections of one venue's WebSocket endpoint."""

    def __init__(self, name: str, clock: Callable[[], int], knobs: WsKnobs | None = None) -> None:
        self.name = name
        self.clock = clock
        self.knobs = knobs or WsKnobs()
        self.counters = WsCounters()
        self.connections: set[Connection] = set()
        self.sent_closed: dict[tuple[str, str, int], float] = {}
        self._lock = threading.Lock()
        self._refuse = 0
        self._actions: list[str] = []
        self._serial = 0
        self._next: dict[str, float] = {}

    # -- knobs, from any thread -------------------------------------------------------------

    def refuse(self, count: int = 1, retry_after_s: int | None = None) -> None:
        """Answer the next `count` handshakes with HTTP 503 (and `Retry-After` if given)."""
        with self._lock:
            self._refuse += count
            self.knobs.retry_after_s = retry_after_s

    def drop_all(self) -> None:
        """Abort every open socket at the next tick, without a close frame."""
        self._act("drop")

    def stall(self) -> None:
        """Every open socket goes silent (no data, no pong, no ping) but stays open."""
        self._act("stall")

    def shutdown(self) -> None:
        """Send the venue's shutdown notice on every socket, then close them."""
        self._act("shutdown")

    def reset(self) -> None:
        """Clear pending faults and schedules (the knobs' liveness values stay)."""
        with self._lock:
            self._refuse, self._actions = 0, []
        knobs = self.knobs
        knobs.drop_every_s = knobs.shutdown_every_s = knobs.stall_after_s = None
        knobs.retry_after_s = None

    def configure(self, kind: str, value: float | None, times: int | None) -> None:
        """Apply one `faults` spec item for this server (see `barlake.emulator.faults`)."""
        if kind == "refuse":
            self.refuse(times or 1, int(value) if value is not None else None)
        elif kind == "drop":
            self.knobs.drop_every_s = value or 1.0
        elif kind == "shutdown":
            self.knobs.shutdown_every_s = value or 1.0
        elif kind == "stall":
            self.knobs.stall_after_s = value or 0.0
        elif kind == "lifetime":
            self.knobs.lifetime_s = value or 1.0
        else:
            raise ValueError(f"unknown WebSocket fault {kind!r}")

    @property
    def open_connections(self) -> int:
        return len(self.connections)

    def _act(self, action: str) -> None:
        with self._lock:
            self._actions.append(action)

    # -- serving, on the loop ---------------------------------------------------------------

    async def accept(self, request: web.Request, protocol: WsProtocol) -> web.StreamResponse:
        """The upgrade handler: refuse (fault) or serve until either side closes."""
        with self._lock:
            refused = self._refuse > 0
            self._refuse -= 1 if refused else 0
        if refused:
            self.counters.refused += 1
            retry = self.knobs.retry_after_s
            headers = {"Retry-After": str(retry)} if retry is not None else None
            return web.Response(status=503, text="503 Service Unavailable", headers=headers)
        ws = web.WebSocketResponse(autoping=False, timeout=2.0, max_msg_size=1 << 20)
        await ws.prepare(request)
        self._serial += 1
        conn = Connection(ws, request, self._serial)
        self.connections.add(conn)
        self.counters.accepted += 1
        try:
            for out in protocol.opened(conn, self.clock()):
                conn.put(out)
            await self._serve(conn, protocol)
        finally:
            self.connections.discard(conn)
            conn.gone.set()
        return ws

    async def _serve(self, conn: Connection, protocol: WsProtocol) -> None:
        """Read and write until one side ends. A server-side close is done here, with the
        reader stopped first, so aiohttp waits for the client's close frame (closing with
        unread input would reset the TCP connection and lose what was already sent)."""
        reader = asyncio.create_task(self._read(conn, protocol))
        writer = asyncio.create_task(conn.write(self._sent))
        await asyncio.wait([reader, writer], return_when=asyncio.FIRST_COMPLETED)
        if not writer.done():  # the client went away first
            writer.cancel()
            reader.result()  # a reader bug surfaces in aiohttp's request log
            return
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        close = writer.result()
        if close is not None and not conn.ws.closed:
            code, reason = close
            await conn.ws.close(code=code, message=reason.encode())

    async def run(self, protocol: WsProtocol) -> None:
        """The push loop: each tick, every connection's upkeep, then its new payloads."""
        while True:
            actions = self._due_actions()
            now = self.clock()
            for conn in list(self.connections):
                try:
                    await self._keep(conn, actions, protocol)
                    if not (conn.stalled or conn.closing):
                        for out in protocol.poll(conn, now):
                            conn.put(out)
                except Exception:  # a bug in one stream must not stop every push: log, cut it
                    log.exception("%s: connection %d failed; closing it", self.name, conn.serial)
                    self._close(conn, "error", WSCloseCode.INTERNAL_ERROR)
                if conn.backlog > QUEUE_LIMIT:  # the client stopped reading: cut it
                    self._abort(conn, "slow")
            await asyncio.sleep(self.knobs.tick_s)

    async def close_all(self) -> None:
        """On server stop: close every socket with 1001 (going away), briefly waiting."""
        conns = list(self.connections)
        for conn in conns:
            self._close(conn, "stop", WSCloseCode.GOING_AWAY)
        waits = [asyncio.create_task(conn.gone.wait()) for conn in conns]
        if waits:
            _, late = await asyncio.wait(waits, timeout=1.0)
            for task in late:
                task.cancel()

    async def _read(self, conn: Connection, protocol: WsProtocol) -> None:
        ws = conn.ws
        async for msg in ws:  # ends when the client closes or the connection is lost
            self.counters.messages_in += 1
            if conn.closing:
                continue
            if not self._admit(conn):
                self._close(conn, "rate", WSCloseCode.POLICY_VIOLATION)
                continue
            if msg.type == WSMsgType.PING:
                if not conn.stalled:
                    await ws.pong(msg.data)
            elif msg.type == WSMsgType.PONG:
                conn.last_alive = time.monotonic()
            elif msg.type == WSMsgType.TEXT:
                if protocol.alive_on_message:
                    conn.last_alive = time.monotonic()
                if not conn.stalled:
                    for out in protocol.control(conn, msg.data, self.clock()):
                        conn.put(out)
        if not conn.closing:
            self.counters.closed_by_client += 1

    def _admit(self, conn: Connection) -> bool:
        """False once the client sent more than `max_inbound_per_s` frames in one second."""
        limit = self.knobs.max_inbound_per_s
        now = time.monotonic()
        conn.inbound.append(now)
        while conn.inbound and conn.inbound[0] <= now - 1.0:
            conn.inbound.popleft()
        return limit is None or len(conn.inbound) <= limit

    def _sent(self, out: Out) -> None:
        self.counters.messages_out += 1
        if out.mark is not None:
            self.sent_closed.setdefault(out.mark, time.time())

    def _due_actions(self) -> list[str]:
        """The actions asked for since the last tick, plus the scheduled ones now due."""
        with self._lock:
            actions, self._actions = self._actions, []
        schedules = {"drop": self.knobs.drop_every_s, "shutdown": self.knobs.shutdown_every_s}
        now = time.monotonic()
        for action, every in schedules.items():
            due = self._next.get(action)
            if every is None:
                self._next.pop(action, None)
            elif due is None:
                self._next[action] = now + every
            elif now >= due:
                actions.append(action)
                self._next[action] = now + every
        return actions

    async def _keep(self, conn: Connection, actions: list[str], protocol: WsProtocol) -> None:
        """Apply the pending actions and the liveness rules to one connection."""
        knobs, now = self.knobs, time.monotonic()
        if "drop" in actions:
            self._abort(conn, "drop")
            return
        aged = knobs.stall_after_s is not None and conn.age_s >= knobs.stall_after_s
        if "stall" in actions or aged:
            conn.stalled = True
        if conn.stalled or conn.closing:
            return
        if "shutdown" in actions:
            notice = protocol.notice(conn, self.clock())
            self._close(conn, "shutdown", WSCloseCode.GOING_AWAY, notice)
        elif knobs.lifetime_s is not None and conn.age_s >= knobs.lifetime_s:
            self._close(conn, "lifetime", WSCloseCode.OK)
        elif now - conn.last_alive > knobs.pong_timeout_s:
            self._close(conn, "pong", WSCloseCode.POLICY_VIOLATION)
        elif knobs.ping_interval_s is not None and now - conn.last_ping >= knobs.ping_interval_s:
            conn.last_ping = now
            if not conn.ws.closed:
                await conn.ws.ping(b"")

    def _abort(self, conn: Connection, reason: str) -> None:
        """Cut the TCP connection without a close frame (a network drop)."""
        conn.closing = True
        self.counters.closes[reason] += 1
        transport = conn.request.transport
        if transport is not None:
            transport.abort()

    def _close(self, conn: Connection, reason: str, code: int, notice: Out | None = None) -> None:
        """A clean close (after `notice`), queued behind what the client is already owed."""
        if conn.closing:
            return
        self.counters.closes[reason] += 1
        conn.end(code, reason, notice)


def bypass(middleware: Any) -> Any:
    """Wrap a REST middleware (faults, weight, journal) so WebSocket paths skip it."""

    @web.middleware
    async def wrapped(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith(WS_PREFIXES):
            return await handler(request)
        response: web.StreamResponse = await middleware(request, handler)
        return response

    return wrapped


def mount(app: web.Application, server: WsServer, protocol: WsProtocol, paths: list[str]) -> None:
    """Serve `protocol` on `paths` of `app`, with the push loop living as long as the app."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return await server.accept(request, protocol)

    for path in paths:
        app.router.add_get(path, handler)

    async def lifetime(app: web.Application) -> Any:
        task = asyncio.create_task(server.run(protocol))
        yield
        task.cancel()

    async def going_away(app: web.Application) -> None:
        await server.close_all()

    app.cleanup_ctx.append(lifetime)
    app.on_shutdown.append(going_away)
