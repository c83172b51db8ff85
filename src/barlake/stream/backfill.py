"""Closed bars the socket missed, from the venue's REST candles (ccxt `fetch_ohlcv` on the same
ccxt.pro instance, so the same base URL and keys).

Our own paging, as in `sources.ccxt_rest`: ask `[since, end)` with `until = end - 1`, keep rows
inside the window, move `since` past the last row; an empty page ends the window (a venue with
no trades in a minute has no candle for it). `end` is always the open time of a bar the venue
has shown as forming (or later), so every row inside the window is closed. Temporary failures
(drops, 5xx, 429, timeouts) are retried with back-off and jitter; a refusal is reported.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import ccxt

from barlake.errors import BadResponseError, UnavailableError
from barlake.sources.retry import RetryPolicy
from barlake.stream.model import Bar
from barlake.timeframes import parse_timeframe

log = logging.getLogger(__name__)

TEMPORARY = (ccxt.NetworkError, ccxt.OperationFailed)


async def fetch_closed(
    exchange: Any,
    symbol: str,
    timeframe: str,
    start: int,
    end: int,
    *,
    policy: RetryPolicy,
    attempts: int = 8,
    page_limit: int = 1000,
) -> list[Bar]:
    """Bars with open time in [start, end), oldest first."""
    step = parse_timeframe(timeframe)
    bars: list[Bar] = []
    since = start
    while since < end:
        rows = await _page(exchange, symbol, timeframe, since, end, policy, attempts, page_limit)
        inside = sorted((row for row in rows if since <= int(row[0]) < end), key=lambda r: r[0])
        if not inside:
            break
        bars.extend(Bar(symbol, timeframe, int(r[0]), *map(float, r[1:6])) for r in inside)
        since = int(inside[-1][0]) + step
    return bars


async def _page(
    exchange: Any,
    symbol: str,
    timeframe: str,
    since: int,
    end: int,
    policy: RetryPolicy,
    attempts: int,
    limit: int,
) -> list[list[Any]]:
    for attempt in range(1, attempts + 1):
        try:
            return list(
                await exchange.fetch_ohlcv(
                    symbol, timeframe, since=since, limit=limit, params={"until": end - 1}
                )
            )
        except TEMPORARY as error:
            if attempt == attempts:
                raise UnavailableError(
                    f"{exchange.id} {symbol}: backfill from {since} failed {attempts} times: "
                    f"{type(error).__name__}: {error}"
                ) from error
            delay = policy.backoff(attempt)
            log.info("%s %s: backfill: %s; retry in %.2f s", exchange.id, symbol, error, delay)
            await asyncio.sleep(delay)
        except ccxt.BaseError as error:
            raise BadResponseError(f"{exchange.id} {symbol}: backfill refused: {error}") from error
    raise AssertionError("unreachable")
