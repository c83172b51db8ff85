"""One emulated WebSocket client connection: its outgoing queue and writer, its liveness
state, and the seam (`WsProtocol`) through which a venue fills it.

Messages go through one queue drained by one writer task per connection, so a client that
stops reading never holds up the push loop, and a close (with an optional last notice) is
queued behind everything already due — the notice is the last thing the client reads.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web


@dataclass(frozen=True)
class Out:
    """One outgoing message. `mark` keys the server's `sent_closed` with the real time it was
    written; `close` = (code, reason) ends the connection after `payload` (if any)."""

    payload: Any
    mark: tuple[str, str, int] | None = None
    close: tuple[int, str] | None = None


class Connection:
    """One client socket and its venue state (`streams`, `combined`)."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, serial: int) -> None:
        self.ws = ws
        self.request = request
        self.serial = serial
        self.opened = self.last_alive = self.last_ping = time.monotonic()
        self.stalled = False
        self.closing = False
        self.inbound: deque[float] = deque()
        self.streams: dict[str, Any] = {}
        self.combined = False
        self.queue: asyncio.Queue[Out] = asyncio.Queue()
        self.gone = asyncio.Event()  # set once the server has let go of the socket

    def put(self, message: Out) -> None:
        """Queue a message unless the socket is stalled or on its way out."""
        if not self.stalled and not self.closing:
            self.queue.put_nowait(message)

    def end(self, code: int, reason: str, notice: Out | None = None) -> None:
        """Queue the close (after `notice`); later `put`s are dropped."""
        self.closing = True
        payload = notice.payload if notice is not None else None
        self.queue.put_nowait(Out(payload, close=(code, reason)))

    @property
    def backlog(self) -> int:
        return self.queue.qsize()

    @property
    def age_s(self) -> float:
        return time.monotonic() - self.opened

    async def write(self, on_sent: Callable[[Out], None]) -> tuple[int, str] | None:
        """The writer task: send queued messages, calling `on_sent` after each, until a close
        is due (returned as (code, reason)) or the client is gone (None). A stalled socket
        sends nothing."""
        while True:
            out = await self.queue.get()
            if out.close is None and (self.stalled or self.ws.closed):
                continue
            if out.payload is not None and not self.ws.closed:
                try:
                    await self.ws.send_str(dumps(out.payload))
                except ConnectionError:  # the client went away; the reader ends the connection
                    return None
                on_sent(out)
            if out.close is not None:
                return out.close


class WsProtocol(Protocol):
    """A venue's half: greeting/path streams, control replies, market payloads, notices."""

    alive_on_message: bool

    def opened(self, conn: Connection, now_ms: int) -> list[Out]: ...

    def control(self, conn: Connection, text: str, now_ms: int) -> list[Out]: ...

    def poll(self, conn: Connection, now_ms: int) -> list[Out]: ...

    def notice(self, conn: Connection, now_ms: int) -> Out | None: ...


def dumps(payload: Any) -> str:
    """Compact JSON as the venues send it; text (Hyperliquid's greeting) goes as is."""
    return payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
