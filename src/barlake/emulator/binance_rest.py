"""Binance spot REST (`/api/v3`) and USD-M (`/fapi/v1`) market data, as real ccxt expects it.

One real answer, for reference (GET /api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1):

    [[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",
      1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]

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

KLINE_PARAMS = frozenset({"symbol", "interval", "startTime", "endTime", "limit", "timeZone"})
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
    candles = window(
        book.get(symbol), interval, book.clock(), start_ms=start, end_ms=end, limit=limit
    )
    if start is not None and end is not None:
        candles = candles.take(candles.open_ms <= end)
    micro = request.headers.get("X-MBX-TIME-UNIT", "").upper() == "MICROSECOND"
    body = json_rows(kline_columns(candles, interval, quoted=True, micro=micro))
    return web.Response(body=body, content_type="application/json")


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
    if path == "/api/v3/ticker/24hr":
        return binance_meta.ticker_weight(request.query)
    if path == "/fapi/v1/ticker/24hr":
        return 1 if "symbol" in request.query else 40
    return 1


def build(books: Books, venue: Venue) -> web.Application:
    venue.weight_header = WEIGHT_HEADER
    venue.answer = answer
    venue.weigh = weigh
    app = web.Application(middlewares=[guard(venue)])
    app[BOOKS] = books
    app[VENUE] = venue
    for prefix in ("/api/v3", "/fapi/v1"):
        app.router.add_get(f"{prefix}/ping", ping)
        app.router.add_get(f"{prefix}/time", server_time)
        app.router.add_get(f"{prefix}/klines", klines)
    app.router.add_get("/api/v3/exchangeInfo", binance_meta.spot_exchange_info)
    app.router.add_get("/fapi/v1/exchangeInfo", binance_meta.usdm_exchange_info)
    app.router.add_get("/api/v3/ticker/24hr", binance_meta.ticker_24hr)
    app.router.add_get("/fapi/v1/ticker/24hr", binance_meta.usdm_ticker_24hr)
    return app
