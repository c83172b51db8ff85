"""Binance spot REST (`/api/v3`) and USD-M (`/fapi/v1`) market data, as real ccxt expects it.

One real answer, for reference (GET /api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1):

    [[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",
      1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]

Spot trades come from the tape (`trades.py`): `aggTrades` (one tape trade per aggregate,
bounds inclusive, ccxt's `endTime = since + 1 h` honoured), `trades` (the most recent) and
`depth` (the synthetic book the WebSocket diffs update) — only what the clock has reached.
The spot forming candle is the tape so far, as on the WebSocket.

Validation order is the real one: unknown parameters (-1104), missing ones (-1102),
unknown symbol (-1121), then bad interval (-1120). `1s` klines are not served (-1120):
the truth has no sub-minute data. `timeZone` is accepted and ignored.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from barlake.emulator import binance_meta
from barlake.emulator.binance_wire import (
    BOOKS,
    VENUE,
    WEIGHT_HEADER,
    Books,
    answer,
    error,
    integer,
    kline_columns,
    mandatory,
    params,
    timestamp,
)
from barlake.emulator.candles import INTERVALS, window
from barlake.emulator.decimals import json_rows
from barlake.emulator.pipeline import Venue, guard
from barlake.emulator.ws_binance_streams import price, snapshot, trade_rows
from barlake.emulator.ws_server import bypass
from barlake.emulator.ws_streams import Feed

KLINE_PARAMS = frozenset({"symbol", "interval", "startTime", "endTime", "limit", "timeZone"})
AGG_PARAMS = frozenset({"symbol", "fromId", "startTime", "endTime", "limit"})
DEPTH_WEIGHTS = ((100, 5), (500, 25), (1000, 50))  # limit up to bound → weight; else 250
LOOKBACK_MS = 7 * 86_400_000  # how far back "most recent trades" look for a quiet symbol
FEED = web.AppKey("feed", Feed)
FAPI_KLINE_WEIGHTS = ((100, 1), (500, 2), (1001, 5))  # limit below bound → weight; else 10


async def klines(request: web.Request) -> web.Response:
    books = request.app[BOOKS]
    futures = request.path.startswith("/fapi")
    book = books.usdm if futures else books.spot
    query = params(request, KLINE_PARAMS)
    symbol = mandatory(query, "symbol")
    interval = mandatory(query, "interval")
    if symbol not in book:
        raise error(-1121, "Invalid symbol.")
    if interval not in INTERVALS:
        raise error(-1120, "Invalid interval.")
    limit = min(integer(query, "limit") or 500, 1500 if futures else 1000)
    start, end = timestamp(query, "startTime"), timestamp(query, "endTime")
    feed = None if futures else request.app.get(FEED)
    forming = feed.tape.forming(symbol) if feed is not None else None
    market, now = book.get(symbol), book.clock()
    candles = window(
        market, interval, now, start_ms=start, end_ms=end, limit=limit, forming=forming
    )
    if start is not None and end is not None:
        candles = candles.take(candles.open_ms <= end)
    micro = request.headers.get("X-MBX-TIME-UNIT", "").upper() == "MICROSECOND"
    body = json_rows(kline_columns(candles, interval, quoted=True, micro=micro))
    return web.Response(body=body, content_type="application/json")


def _market(request: web.Request, allowed: frozenset[str]) -> tuple[dict[str, str], str, Feed]:
    feed = request.app[FEED]
    query = params(request, allowed)
    symbol = mandatory(query, "symbol")
    if symbol not in feed.book:
        raise error(-1121, "Invalid symbol.")
    return query, symbol, feed


async def agg_trades(request: web.Request) -> web.Response:
    """[{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,
    "m":true,"M":true}] — fromId, startTime, endTime (inclusive) combine as filters."""
    query, symbol, feed = _market(request, AGG_PARAMS)
    limit = min(integer(query, "limit") or 500, 1000)
    from_id = integer(query, "fromId")
    start, end = timestamp(query, "startTime"), timestamp(query, "endTime")
    stop = min(end if end is not None else 2**62, feed.book.clock()) + 1
    tape = feed.tape
    if from_id is not None:
        trades = tape.from_id(symbol, from_id, limit, stop)
        trades = trades.take(trades.times >= (start or 0))
    elif start is not None:
        trades = tape.forward(symbol, start, stop, limit)
    else:
        trades = tape.backward(symbol, stop, limit, stop - LOOKBACK_MS)
    return web.json_response(trade_rows(trades, agg=True))


async def recent_trades(request: web.Request) -> web.Response:
    """[{"id":28457,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012",
    "time":1499865549590,"isBuyerMaker":true,"isBestMatch":true}], oldest first."""
    query, symbol, feed = _market(request, frozenset({"symbol", "limit"}))
    limit = min(integer(query, "limit") or 500, 1000)
    stop = feed.book.clock() + 1
    trades = feed.tape.backward(symbol, stop, limit, stop - LOOKBACK_MS)
    pd, qd = trades.price_decimals, trades.qty_decimals
    return web.json_response([
        {"id": i, "price": price(p, pd), "qty": price(q, qd), "quoteQty": price(p * q, pd + qd),
         "time": t, "isBuyerMaker": m, "isBestMatch": True}
        for i, t, p, q, m in trades.rows()
    ])  # fmt: skip


async def depth(request: web.Request) -> web.Response:
    """{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200",
    "12.00000000"]]} — the book the WebSocket diffs continue (same update ids)."""
    query, symbol, feed = _market(request, frozenset({"symbol", "limit"}))
    limit = min(integer(query, "limit") or 100, 5000)
    book = feed.depth.book(symbol, feed.depth.update_id(feed.book.clock()))
    return web.json_response(snapshot(book, limit))


async def ping(request: web.Request) -> web.Response:
    return web.json_response({})


async def server_time(request: web.Request) -> web.Response:
    return web.json_response({"serverTime": request.app[BOOKS].spot.clock()})


def weigh(request: web.Request, body: Any) -> int:
    """Request weight of the endpoints served (§1.3 / §1.8 of PROTOCOLS.md)."""
    path = request.path
    if path == "/fapi/v1/klines":
        text = request.query.get("limit", "500")
        limit = int(text) if text.isdigit() else 500
        return next((w for bound, w in FAPI_KLINE_WEIGHTS if limit < bound), 10)
    if path.endswith("/klines"):
        return 2
    if path == "/api/v3/exchangeInfo":
        return 20
    if path == "/api/v3/aggTrades":
        return 4
    if path == "/api/v3/trades":
        return 25
    if path == "/api/v3/depth":
        text = request.query.get("limit", "100")
        limit = int(text) if text.isdigit() else 100
        return next((w for bound, w in DEPTH_WEIGHTS if limit <= bound), 250)
    if path == "/api/v3/ticker/24hr":
        return binance_meta.ticker_weight(request.query)
    if path == "/fapi/v1/ticker/24hr":
        return 1 if "symbol" in request.query else 40
    return 1


def build(books: Books, venue: Venue, feed: Feed | None = None) -> web.Application:
    """The REST app; with the spot `feed` also the trade and depth endpoints, and forming
    spot candles from its tape (the WebSocket streams are mounted on it by the server)."""
    venue.weight_header = WEIGHT_HEADER
    venue.answer = answer
    venue.weigh = weigh
    app = web.Application(middlewares=[bypass(guard(venue))])
    app[BOOKS] = books
    app[VENUE] = venue
    if feed is not None:
        app[FEED] = feed
        app.router.add_get("/api/v3/aggTrades", agg_trades)
        app.router.add_get("/api/v3/trades", recent_trades)
        app.router.add_get("/api/v3/depth", depth)
    for prefix in ("/api/v3", "/fapi/v1"):
        app.router.add_get(f"{prefix}/ping", ping)
        app.router.add_get(f"{prefix}/time", server_time)
        app.router.add_get(f"{prefix}/klines", klines)
    app.router.add_get("/api/v3/exchangeInfo", binance_meta.spot_exchange_info)
    app.router.add_get("/fapi/v1/exchangeInfo", binance_meta.usdm_exchange_info)
    app.router.add_get("/api/v3/ticker/24hr", binance_meta.ticker_24hr)
    app.router.add_get("/fapi/v1/ticker/24hr", binance_meta.usdm_ticker_24hr)
    return app
