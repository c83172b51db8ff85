"""Binance spot market streams: payload builders and the Binance-only subscriptions
(PROTOCOLS §3.3-3.4) over the shared kline and trade streams of `ws_streams`.

Klines push the forming candle every 2000 ms of market time (Binance's rate), then the
final `x: true` bar at its close. Depth, bookTicker and tickers follow the synthetic book
(`ws_book`) and the rolling 24 h of the tape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import partial
from typing import Any

from barlake.emulator.candles import INTERVALS
from barlake.emulator.decimals import text
from barlake.emulator.trades import Trades
from barlake.emulator.ws_book import Book
from barlake.emulator.ws_candles import Candle, rolling_day
from barlake.emulator.ws_connection import Out
from barlake.emulator.ws_streams import Feed, KlineStream, Stream, TradeStream

NAME = re.compile(
    r"^(?P<symbol>[a-z0-9]+)@(?P<kind>kline|trade|aggTrade|depth|bookTicker|ticker|miniTicker)"
    r"(?:_(?P<interval>[0-9]+[smhdwM]))?(?P<levels>5|10|20)?(?:@(?P<rate>100|1000)ms)?$"
)
KLINE_PUSH_MS = 2000.0  # market ms between forming-kline updates


def price(value: int, decimals: int) -> str:
    """Binance prints prices and sizes with 8 decimals: 4210050 (2 dp) → '42100.50000000'."""
    return text(value, decimals, max(8, decimals))


def kline_event(symbol: str, interval: str, c: Candle, now_ms: int) -> dict[str, Any]:
    """A kline event, e.g. {"e":"kline","E":1700000061234,"s":"BTCUSDT","k":{"t":1700000040000,
    "T":1700000099999,"s":"BTCUSDT","i":"1m","f":1,"L":16,"o":"0.01913200","c":"0.01913500",
    "h":"0.01913700","l":"0.01913200","v":"5.08400000","n":16,"x":false,"q":"0.09728060",
    "V":"3.30200000","Q":"0.06318500","B":"0"}}"""
    pd, qd = c.bars.price_decimals, c.bars.qty_decimals
    return {
        "e": "kline", "E": now_ms, "s": symbol,
        "k": {
            "t": c.value("open_ms"), "T": c.close_ms, "s": symbol, "i": interval,
            "f": c.first_id, "L": c.last_id,
            "o": price(c.value("open"), pd), "c": price(c.value("close"), pd),
            "h": price(c.value("high"), pd), "l": price(c.value("low"), pd),
            "v": price(c.value("volume"), qd), "n": c.value("trades"), "x": c.closed,
            "q": price(c.value("quote_volume"), pd + qd),
            "V": price(c.value("taker_volume"), qd),
            "Q": price(c.value("taker_quote_volume"), pd + qd), "B": "0",
        },
    }  # fmt: skip


def trade_rows(trades: Trades, agg: bool) -> list[dict[str, Any]]:
    """REST `aggTrades` rows, e.g. {"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,
    "l":27781,"T":1498793709153,"m":true,"M":true} (one tape trade per aggregate), or with
    `agg` false the body of a `trade` event: "t" instead of "a", "f", "l"."""
    pd, qd = trades.price_decimals, trades.qty_decimals
    rows = []
    for i, t, p, q, m in trades.rows():
        pq = {"p": price(p, pd), "q": price(q, qd)}
        head = {"a": i, **pq, "f": i, "l": i} if agg else {"t": i, **pq}
        rows.append({**head, "T": t, "m": m, "M": True})
    return rows


def trade_events(symbol: str, trades: Trades, now_ms: int, agg: bool) -> list[dict[str, Any]]:
    """Trade or aggTrade events, e.g. {"e":"trade","E":1700000061234,"s":"BTCUSDT",
    "t":12345,"p":"0.00100000","q":"100.00000000","T":1700000061230,"m":true,"M":true}."""
    kind = "aggTrade" if agg else "trade"
    return [{"e": kind, "E": now_ms, "s": symbol, **row} for row in trade_rows(trades, agg)]


def levels(pairs: Iterable[tuple[int, int]], book: Book) -> list[list[str]]:
    """(price ticks, size lots) pairs as Binance's [["4.00000000","431.00000000"], …]."""
    return [[price(p, book.price_decimals), price(q, book.qty_decimals)] for p, q in pairs]


def snapshot(book: Book, top: int | None = None) -> dict[str, Any]:
    """A partial book, REST `depth` and `@depth<N>` alike, e.g. {"lastUpdateId":160,
    "bids":[["0.00240000","10.00000000"]],"asks":[["0.00260000","100.00000000"]]}."""
    bids, asks = levels(book.bids(top), book), levels(book.asks(top), book)
    return {"lastUpdateId": book.update_id, "bids": bids, "asks": asks}


class DepthStream(Stream):
    """Diff depth (`@depth`, `@depth@100ms`), e.g. {"e":"depthUpdate","E":1672515782136,
    "s":"BNBBTC","U":157,"u":160,"b":[["0.00240000","10.00000000"]],"a":[["0.00260000",
    "0.00000000"]]} (size 0 removes a level), or a partial book (`@depth5/10/20[@100ms]`),
    e.g. {"lastUpdateId":160,"bids":[["0.00240000","10.00000000"]],"asks":[["0.00260000",
    "100.00000000"]]}."""

    def __init__(self, feed: Feed, symbol: str, now_ms: int, top: int | None, rate: int) -> None:
        super().__init__(feed, symbol)
        self.top, self.rate = top, rate
        self.since = feed.depth.update_id(now_ms)

    def poll(self, now_ms: int, now_s: float) -> list[Out]:
        model = self.feed.depth
        update = model.update_id(now_ms)
        self.since = min(self.since, update)  # the clock was set back: continue from there
        if update == self.since or not self.due(now_s, self.feed.period_s(self.rate)):
            return []
        since, self.since = self.since, update
        book = model.book(self.symbol, update)
        if self.top is not None:
            return [Out(snapshot(book, self.top))]
        diff = model.diff(self.symbol, since, update)
        return [Out({
            "e": "depthUpdate", "E": now_ms, "s": self.symbol, "U": diff.first, "u": diff.last,
            "b": levels(diff.bids, book), "a": levels(diff.asks, book),
        })]  # fmt: skip


class BookTickerStream(Stream):
    """Best bid/ask whenever it changes, e.g. {"u":400900217,"s":"BNBUSDT","b":"25.35190000",
    "B":"31.21000000","a":"25.36520000","A":"40.66000000"}."""

    last: tuple[str, ...] = ()

    def poll(self, now_ms: int, now_s: float) -> list[Out]:
        if not self.due(now_s, self.feed.period_s(0.0)):
            return []
        update = self.feed.depth.update_id(now_ms)
        book = self.feed.depth.book(self.symbol, update)
        top = (*levels(book.bids(1), book)[0], *levels(book.asks(1), book)[0])
        if top == self.last:
            return []
        self.last = top
        return [Out({"u": update, "s": self.symbol, **dict(zip("bBaA", top, strict=True))})]


class TickerStream(Stream):
    """24 h rolling ticker once a second of market time (`@ticker`, or `@miniTicker`)."""

    def __init__(self, feed: Feed, symbol: str, mini: bool) -> None:
        super().__init__(feed, symbol)
        self.mini = mini

    def poll(self, now_ms: int, now_s: float) -> list[Out]:
        if not self.due(now_s, self.feed.period_s(1000.0)):
            return []
        payload = ticker(self.feed, self.symbol, now_ms, self.mini)
        return [Out(payload)] if payload is not None else []


def ticker(feed: Feed, symbol: str, now_ms: int, mini: bool) -> dict[str, Any] | None:
    """A 24hrTicker, e.g. {"e":"24hrTicker","E":1672515782136,"s":"BNBBTC","p":"0.0015",
    "P":"250.00","w":"0.0018","x":"0.0009","c":"0.0025","Q":"10","b":"0.0024","B":"10",
    "a":"0.0026","A":"100","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18",
    "O":0,"C":86400000,"F":0,"L":18150,"n":18151} (a miniTicker keeps e,E,s,c,o,h,l,v,q)."""
    day = rolling_day(feed.tape, symbol, now_ms)
    if not len(day):
        return None
    pd, qd = day.price_decimals, day.qty_decimals
    o, c = int(day.open[0]), int(day.close[-1])
    volume, quote = int(day.volume.sum()), int(day.quote_volume.sum())
    body = {
        "e": "24hrMiniTicker" if mini else "24hrTicker", "E": now_ms, "s": symbol,
        "c": price(c, pd), "o": price(o, pd), "h": price(int(day.high.max()), pd),
        "l": price(int(day.low.min()), pd), "v": price(volume, qd), "q": price(quote, pd + qd),
    }  # fmt: skip
    if mini:
        return body
    book = feed.depth.book(symbol, feed.depth.update_id(now_ms))
    last = feed.tape.happened(symbol, now_ms - 60_000, now_ms + 1)
    change = c - o
    sign = "-" if change < 0 else ""
    first_ids = feed.tape.between(symbol, int(day.open_ms[0]), int(day.open_ms[0]) + 60_000)
    first = int(first_ids.ids[0]) if len(first_ids) else -1
    last_id = int(last.ids[-1]) if len(last) else first
    return {
        **body, "p": sign + price(abs(change), pd), "P": f"{100.0 * change / o:.3f}",
        "w": price(quote // volume if volume else c, pd), "x": price(o, pd),
        "Q": price(int(last.qtys[-1]) if len(last) else 0, qd),
        "b": price(int(book.bid_prices[0]), pd), "B": price(int(book.bid_sizes[0]), qd),
        "a": price(int(book.ask_prices[0]), pd), "A": price(int(book.ask_sizes[0]), qd),
        "O": now_ms - 86_400_000, "C": now_ms, "F": first, "L": last_id,
        "n": last_id - first + 1 if first >= 0 else 0,
    }  # fmt: skip


def open_stream(feed: Feed, name: str, now_ms: int) -> Stream | None:
    """The stream for a subscription name, or None when it names nothing we serve (Binance
    accepts such names and simply sends nothing)."""
    match = NAME.match(name)
    if match is None or match["symbol"].upper() not in feed.book:
        return None
    symbol, kind = match["symbol"].upper(), match["kind"]
    interval, top, rate = match["interval"], match["levels"], match["rate"]
    if kind == "kline":
        if interval not in INTERVALS:
            return None
        return KlineStream(feed, symbol, now_ms, interval, kline_event, KLINE_PUSH_MS)
    if interval is not None:
        return None
    if kind in ("trade", "aggTrade"):
        render = partial(trade_events, agg=kind == "aggTrade")
        return TradeStream(feed, symbol, now_ms, render) if not rate else None
    if kind == "depth":
        return DepthStream(feed, symbol, now_ms, int(top) if top else None, int(rate or 1000))
    if top or rate:
        return None
    if kind == "bookTicker":
        return BookTickerStream(feed, symbol)
    return TickerStream(feed, symbol, kind == "miniTicker")
