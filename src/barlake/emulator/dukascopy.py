"""Dukascopy's bi5 datafeed and JSON API on one loopback server (PROTOCOLS §4.9).

    GET /datafeed/EURUSD/2024/00/15/BID_candles_min_1.bi5   15 January (month 00)
    GET /datafeed/EURUSD/2024/00/15/13h_ticks.bi5
    GET /datafeed/EURUSD/2024/00/ASK_candles_hour_1.bi5     GET /datafeed/EURUSD/2024/BID_candles_day_1.bi5
    GET /v1/candles/minute/EUR-USD/BID/2024/1/15            15 January (month 1)
    GET /v1/candles/hour/EUR-USD/BID/2024/1                 GET /v1/candles/day/EUR-USD/BID/2024
    GET /v1/ticks/EUR-USD/2024/1/15/13                      GET /v1/ticks/EUR-USD?from=<hour start ms>

A bi5 file exists once its period is over and no earlier than the instrument's first day;
anything else is "no data" — a 0-byte 200 or a 404 (`rules.no_data`). Minute/hour/day
files are dense (flats for periods without quotes), tick files hold the hour's quotes.
The JSON API answers completed periods by date and the running one with `?from=`; a day
without quotes is the nulls-and-empty-arrays document; unknown paths are 404. Months are
0-based and 2-digit in bi5, 1-based and unpadded in JSON, and month 00 ≠ month 01, so a
client off by one month reads the wrong data (or a 404 for "12").

Faults the handlers apply (picked by the pipeline like its 503, slow/hang, truncate, drop;
read with `request_fault`): `empty` answers "no data" once for a path that has data
(dukascopy-node#130), `badlength` sends a bi5 body whose records are not a multiple of the
record size (JSON: arrays of unequal length). A rule picked for a request answered "no
data" or 404 anyway (a period not over yet, a closed hour) is spent without effect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
from aiohttp import web

from barlake.emulator import dukascopy_wire as wire
from barlake.emulator.dukascopy_market import Dense, FxBook, FxMarket
from barlake.emulator.faults import Fault
from barlake.emulator.pipeline import Venue, guard, request_fault
from barlake.timeframes import DAY_MS, HOUR_MS, MINUTE_MS, floor_ts

BI5_NAME = re.compile(
    r"^(?:(?P<hour>\d{2})h_ticks|(?P<side>BID|ASK)_candles_(?P<tf>min_1|hour_1|day_1))\.bi5$"
)
BI5_SIZE = {"min_1": MINUTE_MS, "hour_1": HOUR_MS, "day_1": DAY_MS, None: HOUR_MS}
BI5_PARTS = {"min_1": 3, "hour_1": 2, "day_1": 1, None: 3}  # year, month, day given
JSON_SIZE = {"minute": MINUTE_MS, "hour": HOUR_MS, "day": DAY_MS}
JSON_PARTS = {MINUTE_MS: 3, HOUR_MS: 2, DAY_MS: 1}
PLAIN = re.compile(r"0|[1-9][0-9]*")
NOT_FOUND = "Not Found"


@dataclass
class DukascopyRules:
    """Serving knobs; tests may flip them while the server runs."""

    no_data: str = "empty"  # bi5 "no data" answer: "empty" (200, 0 bytes) or "404"


@dataclass(frozen=True)
class Period:
    start: int
    end: int


BOOK = web.AppKey("book", FxBook)
RULES = web.AppKey("rules", DukascopyRules)


def _utc(year: int, month: int = 1, day: int = 1, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp() * 1000)


def _period(size: int, numbers: list[int], hour: int | None = None) -> Period | None:
    """What a file covers: an hour of ticks (`hour` given), a day of minutes, a month of
    hours or a year of days; `numbers` are year, 1-based month, day as far as given."""
    year, month, day = ([*numbers, 1, 1])[:3]
    try:
        if hour is not None:
            start = _utc(year, month, day, hour)
            return Period(start, start + HOUR_MS)
        if size == MINUTE_MS:
            return Period(_utc(year, month, day), _utc(year, month, day) + DAY_MS)
        if size == HOUR_MS:
            return Period(_utc(year, month), _utc(year + month // 12, month % 12 + 1))
        return Period(_utc(year), _utc(year + 1))
    except ValueError:
        return None


def _not_found() -> web.Response:
    return web.Response(status=404, text=NOT_FOUND)


def _no_data(request: web.Request) -> web.Response:
    return _not_found() if request.app[RULES].no_data == "404" else _octets(b"")


def _octets(body: bytes) -> web.Response:
    headers = {"Cache-Control": "public", "Accept-Ranges": "bytes"}
    return web.Response(body=body, content_type="application/octet-stream", headers=headers)


def _bi5_target(request: web.Request) -> tuple[FxMarket, Period, re.Match[str]] | None:
    """The market, period and parsed file name a bi5 path names (None: a 404)."""
    info = request.match_info
    market = request.app[BOOK].markets.get(info["code"])
    name = BI5_NAME.match(info["name"])
    given = [info[k] for k in ("year", "month", "day") if k in info]
    if market is None or name is None or len(given) != BI5_PARTS[name["tf"]]:
        return None
    if any(
        len(text) != width or not text.isdigit()
        for text, width in zip(given, (4, 2, 2), strict=False)
    ):
        return None
    numbers = [int(text) for text in given]
    if len(numbers) > 1:
        numbers[1] += 1  # the path's month counts from 00
    hour = int(name["hour"]) if name["hour"] else None
    period = _period(BI5_SIZE[name["tf"]], numbers, hour)
    return None if period is None else (market, period, name)


class Files:
    """Bodies of completed periods, built once — they never change, like a CDN's copies."""

    def __init__(self, book: FxBook) -> None:
        self.book = book
        self.bi5 = lru_cache(maxsize=4096)(self.build_bi5)
        self.json_candles = lru_cache(maxsize=4096)(self.build_json_candles)

    def bi5_raw(self, code: str, side: str | None, period: Period, size: int) -> bytes:
        market = self.book.markets[code]
        if side is None:
            return wire.tick_records(market.quotes(period.start, period.end), period.start)
        candles = market.candles(side, period.start, period.end, size)
        return wire.candle_records(candles, period.start)

    def build_bi5(self, code: str, side: str | None, period: Period, size: int) -> bytes:
        return wire.lzma_alone(self.bi5_raw(code, side, period, size))

    def build_json_candles(
        self, code: str, side: str, period: Period, size: int, now: int
    ) -> bytes:
        market = self.book.markets[code]
        real = market.candles(side, period.start, period.end, size)
        real = real.take((real.units > 0) & (real.ts + size <= now))
        return wire.json_candles(real, period.start, size, market.spec.factor)


FILES = web.AppKey("files", Files)


async def bi5_file(request: web.Request) -> web.Response:
    target = _bi5_target(request)
    if target is None:
        return _not_found()
    market, period, name = target
    now = request.app[BOOK].clock()
    if not (market.spec.first_ms < period.end <= now):  # not over yet, or before the history
        return _no_data(request)
    fault = request_fault(request)
    if fault is not None and fault.kind == "empty":
        return _no_data(request)
    files, code = request.app[FILES], market.spec.code
    side = name["side"].lower() if name["side"] else None
    args = (code, side, period, BI5_SIZE[name["tf"]])
    body = files.bi5(*args)
    if not body:  # a closed hour's tick file: "no data" like a missing file
        return _no_data(request)
    if fault is not None and fault.kind == "badlength":
        body = wire.lzma_alone(files.bi5_raw(*args) + b"\x00\x01\x02")
    return _octets(body)


async def json_candles(request: web.Request) -> web.Response:
    book, info = request.app[BOOK], request.match_info
    market = book.by_json.get(info["code"])
    size = JSON_SIZE.get(info["tf"], 0)
    if market is None or not size or info["side"] not in ("BID", "ASK"):
        return _not_found()
    now = book.clock()
    period = _json_period(request, size, now)
    if period is None:
        return _not_found()
    fault = request_fault(request)
    side, code = info["side"].lower(), market.spec.code
    if fault is not None and fault.kind == "empty":
        body = wire.json_candles(_no_candles(), period.start, size, market.spec.factor)
    elif "from" in request.query:  # the running period changes with the clock
        body = request.app[FILES].build_json_candles(code, side, period, size, now)
    else:
        body = request.app[FILES].json_candles(code, side, period, size, period.end)
    return _json(body, "volumes", fault)


def _no_candles() -> Dense:
    empty = np.empty(0, np.int64)
    return Dense(empty, empty, empty, empty, empty, empty)


async def json_ticks(request: web.Request) -> web.Response:
    book = request.app[BOOK]
    market = book.by_json.get(request.match_info["code"])
    now = book.clock()
    period = None if market is None else _json_period(request, HOUR_MS, now, ticks=True)
    if market is None or period is None:
        return _not_found()
    fault = request_fault(request)
    quotes = market.quotes(period.start, min(period.end, now))
    if fault is not None and fault.kind == "empty":
        quotes = quotes.take(slice(0, 0))
    return _json(wire.json_ticks(quotes, period.start, market.spec.factor), "bidVolumes", fault)


def _json_period(request: web.Request, size: int, now: int, ticks: bool = False) -> Period | None:
    """The completed period a dated path names, or the running one `?from=` starts."""
    info = request.match_info
    given = [info[k] for k in ("year", "month", "day", "hour") if k in info]
    if "from" in request.query:
        start = request.query["from"]
        running = _running(now, size, ticks)
        ok = not given and start.isdigit() and int(start) == running
        return Period(running, now) if ok else None
    wanted = 4 if ticks else JSON_PARTS[size]
    if len(given) != wanted or not all(PLAIN.fullmatch(text) for text in given):
        return None
    numbers = [int(text) for text in given]
    period = _period(size, numbers[:3], numbers[3] if ticks else None)
    return period if period is not None and period.end <= now else None


def _running(now: int, size: int, ticks: bool) -> int:
    if ticks or size == MINUTE_MS:
        return floor_ts(now, HOUR_MS if ticks else DAY_MS)
    moment = datetime.fromtimestamp(now / 1000, tz=UTC)
    return _utc(moment.year, moment.month) if size == HOUR_MS else _utc(moment.year)


def _json(body: bytes, array: str, fault: Fault | None) -> web.Response:
    if fault is not None and fault.kind == "badlength":
        body = body.replace(f'"{array}":['.encode(), f'"{array}":[0,'.encode(), 1)
    return web.Response(body=body, content_type="application/json")


async def missing(request: web.Request) -> web.Response:
    return _not_found()


def build(book: FxBook, venue: Venue, rules: DukascopyRules) -> web.Application:
    app = web.Application(middlewares=[guard(venue)])
    app[BOOK], app[RULES] = book, rules
    app[FILES] = Files(book)
    bi5 = "/datafeed/{code}"
    app.router.add_get(bi5 + "/{year}/{month}/{day}/{name}", bi5_file)
    app.router.add_get(bi5 + "/{year}/{month}/{name}", bi5_file)
    app.router.add_get(bi5 + "/{year}/{name}", bi5_file)
    candles = "/v1/candles/{tf}/{code}/{side}"
    for tail in ("", "/{year}", "/{year}/{month}", "/{year}/{month}/{day}"):
        app.router.add_get(candles + tail, json_candles)
    for tail in ("", "/{year}/{month}/{day}/{hour}"):
        app.router.add_get("/v1/ticks/{code}" + tail, json_ticks)
    app.router.add_get("/{tail:.*}", missing)
    return app
