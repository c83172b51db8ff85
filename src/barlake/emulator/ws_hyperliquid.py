"""Hyperliquid's `/ws` on the Hyperliquid port (PROTOCOLS §5.4): candles and trades.

On connect the server sends the text `Websocket connection established.`; then
{"method":"subscribe","subscription":{"type":"candle","coin":"BTC","interval":"1m"}} is
acked with {"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":…}}
and {"method":"ping"} answered {"channel":"pong"}. Candle pushes carry the forming candle
as one object with no closed flag; when the clock passes its close one last update with the
complete bar goes out before the next candle's first. Trades come as lists of WsTrade. The
server sends no pings of its own: a socket that sends nothing for `pong_timeout_s` is cut.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from barlake.emulator.decimals import trimmed
from barlake.emulator.hyperliquid import INTERVALS
from barlake.emulator.trades import Trades
from barlake.emulator.ws_candles import Candle
from barlake.emulator.ws_connection import Connection, Out
from barlake.emulator.ws_server import WsCounters
from barlake.emulator.ws_streams import Feed, KlineStream, Stream, TradeStream, pushes

GREETING = "Websocket connection established."
PATHS = ["/ws"]
CANDLE_PUSH_MS = 1000.0  # market ms between forming-candle updates


def candle_message(coin: str, interval: str, c: Candle, now_ms: int) -> dict[str, Any]:
    """{"channel":"candle","data":{"t":1681923600000,"T":1681924499999,"s":"BTC","i":"15m",
    "o":"29295.0","c":"29258.0","h":"29309.0","l":"29250.0","v":"0.98639","n":189}}"""
    pd, qd = c.bars.price_decimals, c.bars.qty_decimals
    return {
        "channel": "candle",
        "data": {
            "t": c.value("open_ms"), "T": c.close_ms, "s": coin, "i": interval,
            "o": trimmed(c.value("open"), pd), "c": trimmed(c.value("close"), pd),
            "h": trimmed(c.value("high"), pd), "l": trimmed(c.value("low"), pd),
            "v": trimmed(c.value("volume"), qd), "n": c.value("trades"),
        },
    }  # fmt: skip


class TradeRenderer:
    """Tape trades as WsTrade lists; `tid` = tape id · 16 + the coin's index (unique across
    coins), `hash` and `users` derived from it."""

    def __init__(self, coins: list[str]) -> None:
        self.index = {coin: i for i, coin in enumerate(coins)}

    def __call__(self, coin: str, trades: Trades, now_ms: int) -> list[dict[str, Any]]:
        """[{"channel":"trades","data":[{"coin":"BTC","side":"A","px":"42000.0","sz":"0.01",
        "hash":"0x…","time":1700000000123,"tid":1091186133456,"users":["0x…","0x…"]}]}]"""
        pd, qd = trades.price_decimals, trades.qty_decimals
        rows = []
        for i, t, p, q, m in trades.rows():
            tid = i * 16 + self.index[coin]
            digest = hashlib.sha256(f"{coin}:{tid}".encode()).hexdigest()
            rows.append({
                "coin": coin, "side": "A" if m else "B", "px": trimmed(p, pd),
                "sz": trimmed(q, qd), "hash": "0x" + digest, "time": t, "tid": tid,
                "users": ["0x" + digest[:40], "0x" + digest[24:64]],
            })  # fmt: skip
        return [{"channel": "trades", "data": rows}]


class HyperliquidWs:
    """The Hyperliquid half of a `WsServer`."""

    alive_on_message = True  # any message (the SDK's JSON ping) keeps the socket alive

    def __init__(self, feed: Feed, counters: WsCounters) -> None:
        self.feed = feed
        self.counters = counters
        self.render = TradeRenderer(feed.book.symbols())

    def opened(self, conn: Connection, now_ms: int) -> list[Out]:
        return [Out(GREETING)]

    def control(self, conn: Connection, text: str, now_ms: int) -> list[Out]:
        try:
            request = json.loads(text)
        except json.JSONDecodeError:
            return [_error(f"Error parsing JSON into valid websocket request: {text}")]
        method = request.get("method") if isinstance(request, dict) else None
        if method == "ping":
            return [Out({"channel": "pong"})]
        subscription = request.get("subscription") if isinstance(request, dict) else None
        if method not in ("subscribe", "unsubscribe") or not isinstance(subscription, dict):
            return [_error(f"Error parsing JSON into valid websocket request: {text}")]
        key = json.dumps(subscription, sort_keys=True)
        if method == "unsubscribe":
            if conn.streams.pop(key, None) is None:
                return [_error(f"Already unsubscribed: {text}")]
            self.counters.unsubscriptions += 1
        else:
            if key in conn.streams:
                return [_error(f"Already subscribed: {text}")]
            stream = self._stream(subscription, now_ms)
            if stream is None:
                return [_error(f"Invalid subscription {text}")]
            conn.streams[key] = stream
            self.counters.subscriptions += 1
        ack = {"method": method, "subscription": subscription}
        return [Out({"channel": "subscriptionResponse", "data": ack})]

    def poll(self, conn: Connection, now_ms: int) -> list[Out]:
        return [out for _, out in pushes(conn.streams, now_ms)]

    def notice(self, conn: Connection, now_ms: int) -> Out | None:
        return None  # Hyperliquid announces nothing before closing

    def _stream(self, subscription: dict[str, Any], now_ms: int) -> Stream | None:
        kind, coin = subscription.get("type"), subscription.get("coin")
        if not isinstance(coin, str) or coin not in self.feed.book:
            return None
        if kind == "candle" and subscription.get("interval") in INTERVALS:
            interval = str(subscription["interval"])
            return KlineStream(self.feed, coin, now_ms, interval, candle_message, CANDLE_PUSH_MS)
        if kind == "trades":
            return TradeStream(self.feed, coin, now_ms, self.render)
        return None


def _error(message: str) -> Out:
    """{"channel":"error","data":"Error parsing JSON into valid websocket request: …"}"""
    return Out({"channel": "error", "data": message})
