"""Binance wire conventions shared by the REST and archive servers: errors, params, kline rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from aiohttp import web

from barlake.emulator.candles import close_times
from barlake.emulator.decimals import Column
from barlake.emulator.market import Bars, MarketBook
from barlake.emulator.pipeline import ApiError, Venue

WEIGHT_HEADER = "X-MBX-USED-WEIGHT"  # + "-1M" (the window: intervalNum + letter)


@dataclass(frozen=True)
class Books:
    spot: MarketBook
    usdm: MarketBook


BOOKS = web.AppKey("books", Books)
VENUE = web.AppKey("venue", Venue)


def error(code: int, msg: str, status: int = 400) -> ApiError:
    return ApiError(status, {"code": code, "msg": msg})


def answer(status: int, verdict: Any) -> web.Response:
    """Canned Binance answers for fault and limit statuses (bodies from errors.md)."""
    headers = {"Retry-After": str(verdict.retry_after)} if verdict else {}
    if status == 429:
        msg = "Too much request weight used; current limit is 6000 request weight per 1 MINUTE."
        body: dict[str, Any] | None = {"code": -1003, "msg": msg}
    elif status == 418:
        until = verdict.until_ms if verdict else 0
        body = {"code": -1003, "msg": f"Way too much request weight used; IP banned until {until}."}
    elif status == 500:
        body = {"code": -1000, "msg": "An unknown error occurred while processing the request."}
    elif status == 503:
        body = {"code": -1008, "msg": "Server is currently overloaded with other requests."}
    else:
        page = (
            f"<html><body><h1>{status} ERROR</h1>The request could not be satisfied.</body></html>"
        )
        return web.Response(status=status, text=page, content_type="text/html", headers=headers)
    return web.json_response(body, status=status, headers=headers)


def kline_columns(bars: Bars, interval: str, *, quoted: bool, micro: bool = False) -> list[Column]:
    """The 12 kline fields (REST row / archive CSV line), prices printed with 8 decimals."""
    pd, qd = bars.price_decimals, bars.qty_decimals
    opens, closes = bars.open_ms, close_times(bars.open_ms, interval)
    if micro:
        opens, closes = opens * 1000, closes * 1000 + 999

    def dec(values: np.ndarray, decimals: int) -> Column:
        return Column(values, decimals, max(8, decimals), quoted)

    return [
        Column(opens),
        dec(bars.open, pd), dec(bars.high, pd), dec(bars.low, pd), dec(bars.close, pd),
        dec(bars.volume, qd),
        Column(closes),
        dec(bars.quote_volume, pd + qd),
        Column(bars.trades),
        dec(bars.taker_volume, qd), dec(bars.taker_quote_volume, pd + qd),
        Column(np.zeros(len(bars), np.int64), quoted=quoted),
    ]  # fmt: skip


def params(request: web.Request, allowed: frozenset[str]) -> dict[str, str]:
    query = dict(request.query)
    if len(query) != len(request.query):
        raise error(-1101, "Duplicate values for a parameter detected.")
    read = [k for k in query if k in allowed]
    if len(read) != len(query):
        msg = f"Not all sent parameters were read; read '{len(read)}' parameter(s) but was sent '{len(query)}'."
        raise error(-1104, msg)
    return query


def mandatory(query: dict[str, str], name: str) -> str:
    value = query.get(name, "")
    if not value:
        raise error(
            -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
        )
    return value


def integer(query: dict[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 20:
        raise error(
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.",
        )
    return int(value)


def timestamp(query: dict[str, str], name: str) -> int | None:
    """ms, or µs (16+ digits) since 2024-12-17."""
    value = integer(query, name)
    return value // 1000 if value is not None and value >= 10**14 else value
