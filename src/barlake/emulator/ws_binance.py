"""Binance spot WebSocket market streams on the Binance REST port (PROTOCOLS §3).

Paths: `/ws` and `/ws/<n>` (raw payloads, subscribe later), `/ws/<stream>[/<stream>…]`
(raw, subscribed from the path), `/stream`, `/stream/<n>` and `/stream?streams=a/b`
(combined: every payload wrapped as {"stream": name, "data": …}). ccxt.pro connects to
`<urls.api.ws.spot>/<n>`, so the URL the emulator hands out ends in `/stream`.

Control messages, e.g. {"method":"SUBSCRIBE","params":["btcusdt@kline_1m"],"id":1} →
{"result":null,"id":1}; LIST_SUBSCRIPTIONS → {"result":["btcusdt@kline_1m"],"id":2};
errors as {"code":2,"msg":"Invalid request: …","id":3}. Names we do not serve (another
symbol, `@+08:00` klines) are accepted and stay silent, as on Binance.
"""

from __future__ import annotations

import json
from typing import Any

from barlake.emulator.ws_binance_streams import open_stream
from barlake.emulator.ws_connection import Connection, Out
from barlake.emulator.ws_server import WsCounters
from barlake.emulator.ws_streams import Feed, pushes

MAX_STREAMS = 1024
METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
PATHS = ["/ws", "/ws/{tail:.+}", "/stream", "/stream/{tail:.+}"]


class BadRequest(Exception):
    """A control message Binance refuses: `code` 0 property, 1 value type, 2 request, 3 JSON."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code, self.msg = code, msg


class BinanceWs:
    """The Binance half of a `WsServer`: subscriptions per connection, pushes per tick."""

    alive_on_message = False  # only pong frames keep a Binance socket alive

    def __init__(self, feed: Feed, counters: WsCounters) -> None:
        self.feed = feed
        self.counters = counters

    def opened(self, conn: Connection, now_ms: int) -> list[Out]:
        """Combined mode from the path; streams named in the path or `?streams=`."""
        path = conn.request.path
        conn.combined = path.startswith("/stream")
        names = conn.request.query.get("streams", "").split("/") if conn.combined else []
        tail = path.split("/", 2)[2] if path.count("/") >= 2 else ""
        names += [n for n in tail.split("/") if "@" in n]
        try:
            self._subscribe(conn, [n for n in names if n], now_ms)
        except BadRequest as error:
            return [Out({"code": error.code, "msg": error.msg, "id": None})]
        return []

    def control(self, conn: Connection, text: str, now_ms: int) -> list[Out]:
        request_id: Any = None
        try:
            request = json.loads(text)
            if not isinstance(request, dict):
                raise BadRequest(2, "Invalid request: expected an object")
            request_id = request.get("id")
            _check_id(request_id)
            result = self._answer(conn, request, now_ms)
        except json.JSONDecodeError as error:
            reply = {"code": 3, "msg": f"Invalid JSON: {error.msg} at line {error.lineno} "
                     f"column {error.colno}", "id": None}  # fmt: skip
            return [Out(reply)]
        except BadRequest as error:
            return [Out({"code": error.code, "msg": error.msg, "id": request_id})]
        return [Out({"result": result, "id": request_id})]

    def poll(self, conn: Connection, now_ms: int) -> list[Out]:
        if not conn.combined:
            return [out for _, out in pushes(conn.streams, now_ms)]
        return [
            Out({"stream": name, "data": out.payload}, out.mark)
            for name, out in pushes(conn.streams, now_ms)
        ]

    def notice(self, conn: Connection, now_ms: int) -> Out | None:
        """{"e":"serverShutdown","E":…} — combined: {"stream":"!serverShutdown","data":…}."""
        event = {"e": "serverShutdown", "E": now_ms}
        return Out({"stream": "!serverShutdown", "data": event} if conn.combined else event)

    def _answer(self, conn: Connection, request: dict[str, Any], now_ms: int) -> Any:
        method, params = request.get("method"), request.get("params", [])
        if method is None:
            raise BadRequest(2, "Invalid request: missing field `method`")
        if method not in METHODS:
            expected = ", ".join(f"`{m}`" for m in METHODS)
            raise BadRequest(
                2, f"Invalid request: unknown variant `{method}`, expected one of {expected}"
            )
        if method == "LIST_SUBSCRIPTIONS":
            return list(conn.streams)
        if not isinstance(params, list):
            raise BadRequest(2, "Invalid request: params must be an array")
        if method == "SUBSCRIBE":
            self._subscribe(conn, _names(params), now_ms)
        elif method == "UNSUBSCRIBE":
            for name in _names(params):
                if name in conn.streams:
                    del conn.streams[name]
                    self.counters.unsubscriptions += 1
        elif method == "SET_PROPERTY":
            conn.combined = _combined(params, value=True)
        else:
            _combined(params, value=False)
            return conn.combined
        return None

    def _subscribe(self, conn: Connection, names: list[str], now_ms: int) -> None:
        fresh = [n for n in dict.fromkeys(names) if n not in conn.streams]
        if len(conn.streams) + len(fresh) > MAX_STREAMS:
            raise BadRequest(2, f"Invalid request: too many streams (at most {MAX_STREAMS})")
        for name in fresh:
            conn.streams[name] = open_stream(self.feed, name, now_ms)
        self.counters.subscriptions += len(fresh)


def _names(params: list[Any]) -> list[str]:
    if not all(isinstance(p, str) for p in params):
        raise BadRequest(2, "Invalid request: stream names must be strings")
    return params


def _combined(params: list[Any], *, value: bool) -> bool:
    """SET_PROPERTY ["combined", true] / GET_PROPERTY ["combined"]; returns the value set."""
    if not params or params[0] != "combined":
        raise BadRequest(0, "Unknown property")
    if not value:
        if len(params) != 1:
            raise BadRequest(2, "Invalid request: too many parameters")
        return False
    if len(params) != 2 or not isinstance(params[1], bool):
        raise BadRequest(1, "Invalid value type: expected Boolean")
    return params[1]


def _check_id(request_id: Any) -> None:
    """ids are a signed 64-bit integer, an alphanumeric string of ≤ 36 characters, or null."""
    if request_id is None:
        return
    if isinstance(request_id, bool) or not isinstance(request_id, int | str):
        raise BadRequest(2, "Invalid request: request ID must be an unsigned integer")
    if isinstance(request_id, int) and not -(2**63) <= request_id < 2**63:
        raise BadRequest(2, "Invalid request: request ID must be an unsigned integer")
    if isinstance(request_id, str) and (len(request_id) > 36 or not request_id.isalnum()):
        raise BadRequest(2, "Invalid request: request ID must be an unsigned integer")
