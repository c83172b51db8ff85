"""Closed bars the socket missed, from the venue's REST candles (ccxt `fetch_ohlcv` on the same
ccxt.pro instance, so the same base URL and keys).

Our own paging, as in `sources.ccxt_rest`: ask `[since, end)` with `until = end - 1`, keep rows
inside the window, move `since` past the last row; an empty page ends the window (a venue with
no trades in a minute has no candle for it). `end` is always the open time of a bar the venue
has shown as forming (or later), so every row inside the window is closed. Temporary failures
(drops, 5xx, 429, timeouts) are retried with back-off and jitter; a refusal is reported.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from barlake.sources.retry import RetryPolicy
from barlake.stream.exchange import retried
from barlake.stream.model import Bar
from barlake.timeframes import parse_timeframe


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
    where, params = f"{exchange.id} {symbol}: backfill", {"until": end - 1}
    bars: list[Bar] = []
    since = start
    while since < end:
        page = partial(exchange.fetch_ohlcv, symbol, timeframe, since, page_limit, params)
        rows = await retried(page, f"{where} from {since}", policy, attempts)
        inside = sorted((row for row in rows if since <= int(row[0]) < end), key=lambda r: r[0])
        if not inside:
            break
        bars.extend(Bar(symbol, timeframe, int(r[0]), *map(float, r[1:6])) for r in inside)
        since = int(inside[-1][0]) + step
    return bars
