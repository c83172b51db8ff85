"""Coarser candles from the 1m truth, and the window rules venues apply when serving them.

Buckets are aligned to the UTC epoch, weeks open Monday 00:00 UTC and `1M` is the calendar
month — the Binance conventions. A bucket is served if at least one 1m bar falls in it, so
a maintenance hole or the days before listing produce no candle rather than an empty one.
"""

from __future__ import annotations

import numpy as np

from barlake.emulator.market import Bars, Forming, Market
from barlake.timeframes import DAY_MS, MINUTE_MS, WEEK_MS, floor_ts

MONTH = -1  # size sentinel: calendar months have no fixed length

INTERVALS = {
    "1m": MINUTE_MS, "3m": 3 * MINUTE_MS, "5m": 5 * MINUTE_MS, "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS, "1h": 60 * MINUTE_MS, "2h": 120 * MINUTE_MS, "4h": 240 * MINUTE_MS,
    "6h": 360 * MINUTE_MS, "8h": 480 * MINUTE_MS, "12h": 720 * MINUTE_MS, "1d": DAY_MS,
    "3d": 3 * DAY_MS, "1w": WEEK_MS, "1M": MONTH,
}  # fmt: skip


def floor_open(ts: int, interval: str) -> int:
    """Open time of the bucket holding `ts` (`timeframes.floor_ts`, or the calendar month)."""
    size = INTERVALS[interval]
    if size == MONTH:
        month = np.datetime64(ts, "ms").astype("datetime64[M]")
        return int(month.astype("datetime64[ms]").astype(np.int64))
    return floor_ts(ts, size)


def shift_open(open_ms: int, interval: str, buckets: int) -> int:
    """The bucket `buckets` places after (or before, if negative) an aligned open time."""
    size = INTERVALS[interval]
    if size != MONTH:
        return open_ms + buckets * size
    month = np.datetime64(open_ms, "ms").astype("datetime64[M]") + buckets
    return int(month.astype("datetime64[ms]").astype(np.int64))


def ceil_open(ts: int, interval: str) -> int:
    """The first bucket opening at or after `ts`."""
    first = floor_open(ts, interval)
    return first if first == ts else shift_open(first, interval, 1)


def close_times(open_ms: np.ndarray, interval: str) -> np.ndarray:
    """Close time = next bucket's open − 1 ms, e.g. …59999 for minute buckets."""
    size = INTERVALS[interval]
    if size != MONTH:
        return open_ms + (size - 1)
    months = open_ms.astype("datetime64[ms]").astype("datetime64[M]") + 1
    return months.astype("datetime64[ms]").astype(np.int64) - 1


def aggregate(bars: Bars, interval: str) -> Bars:
    """1m bars → `interval` candles: first open, max high, min low, last close, sums."""
    size = INTERVALS[interval]
    if size == MINUTE_MS or not len(bars):
        return bars
    t = bars.open_ms
    if size == MONTH:
        months = t.astype("datetime64[ms]").astype("datetime64[M]")
        buckets = months.astype("datetime64[ms]").astype(np.int64)
    else:
        buckets = floor_ts(t, size)
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    ends = np.r_[starts[1:], len(t)] - 1
    opens = buckets[starts]
    sums = {
        name: np.add.reduceat(getattr(bars, name), starts)
        for name in ("volume", "quote_volume", "trades", "taker_volume", "taker_quote_volume")
    }
    return Bars(
        open_ms=opens,
        open=bars.open[starts],
        high=np.maximum.reduceat(bars.high, starts),
        low=np.minimum.reduceat(bars.low, starts),
        close=bars.close[ends],
        **sums,
        price_decimals=bars.price_decimals,
        qty_decimals=bars.qty_decimals,
    )


def opened_between(
    market: Market,
    interval: str,
    lo_ms: int,
    hi_ms: int,
    now_ms: int,
    forming: Forming | None = None,
) -> Bars:
    """Candles whose open time is in [lo_ms, hi_ms), each built over its whole bucket (the
    forming minute from `forming`, see `Market.live`)."""
    first = ceil_open(lo_ms, interval)
    if first >= hi_ms:
        return aggregate(market.minutes(0, 0), interval)
    end = shift_open(floor_open(hi_ms - 1, interval), interval, 1)
    candles = aggregate(market.live(first, end, now_ms, forming), interval)
    return candles.take(candles.open_ms < hi_ms)


def window(
    market: Market,
    interval: str,
    now_ms: int,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    limit: int = 500,
    forming: Forming | None = None,
) -> Bars:
    """Binance window rules, up to and including the forming candle (its last minute from
    `forming`, see `Market.live`).

    startTime only → the oldest `limit` candles opening at/after it; endTime only → the newest
    `limit` opening at/before it; both → like startTime, never past endTime; neither → the
    newest `limit`. Both bounds are inclusive and apply to open times.
    """
    last = floor_open(now_ms if end_ms is None else min(end_ms, now_ms), interval)
    stop = shift_open(last, interval, 1)
    listing = floor_open(market.spec.listing_ms, interval)
    span = limit
    while True:
        if start_ms is not None:  # grow forward past holes until `limit` candles or the stop
            start = max(ceil_open(max(start_ms, 0), interval), listing)
            end = min(stop, shift_open(start, interval, span))
            candles = opened_between(market, interval, start, end, now_ms, forming)
            if len(candles) >= limit or end >= stop:
                return candles.take(slice(0, limit))
        else:  # grow backward from the stop until `limit` candles or the listing
            start = shift_open(stop, interval, -span)
            candles = opened_between(market, interval, start, stop, now_ms, forming)
            if len(candles) >= limit or start <= listing:
                return candles.take(slice(max(len(candles) - limit, 0), None))
        span *= 2
