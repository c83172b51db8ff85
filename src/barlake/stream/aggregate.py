"""Trades → closed bars, live (one trade at a time) or in one pass over a recorded list.

The rule (the whole contract of a live bar):

- A trade belongs to the bucket ``[t, t + tf)`` holding its exchange timestamp (buckets aligned
  like the lake's, ``timeframes.floor_ts``).
- The bar of bucket ``t`` is emitted at the first trade of a later bucket, or once the wall
  clock reaches ``t + tf + grace_ms`` (``tick``), whichever comes first.
- A trade stamped inside a bucket whose bar is not yet emitted is included, even when it
  arrives late or out of order: open/close follow the trades' timestamps, not their arrival.
- A trade for a bucket already closed is counted in ``late_dropped`` and never rewrites a bar.
  A bucket is closed once its bar was emitted, once a later bucket has started, or once the
  clock has passed its end plus the grace, even if it held no trade.
- Buckets without trades emit nothing. A repeated trade id (a replay after a reconnect) is
  ignored and counted in ``duplicates``; trades with an empty id are never taken as repeats.

After a reconnect the forming bar lacks the trades sent while the socket was down, so
``resume(now_ms)`` drops it and returns the range ``[start, end)`` a REST backfill must cover;
trades before ``end`` are ignored from then on (counted in ``skipped``), because the backfilled
bars own that range. The same holds for the first bucket of a stream: pass ``start_ms`` and
the bucket the subscription starts in is left to the backfill.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from barlake.errors import ConfigError
from barlake.stream.model import Bar, Trade
from barlake.timeframes import bucket_anchor, canonical, ceil_ts, floor_ts, parse_timeframe

_NEVER = -(2**62)  # a watermark below any timestamp: every trade is still open to take


@dataclass
class AggregatorStats:
    """What an aggregator did with the trades it was handed."""

    trades: int = 0
    bars: int = 0
    late_dropped: int = 0
    duplicates: int = 0
    skipped: int = 0


class TradeAggregator:
    """Closed bars of one symbol at one timeframe from its trades (the rule is in the module doc).

    ``start_ms`` (the moment the subscription started) makes the aggregator own only buckets
    from the next boundary on, since the bucket in progress was partly missed.
    """

    def __init__(
        self,
        symbol: str,
        timeframe: str,
        *,
        grace_ms: int = 1500,
        offset_ms: int = 0,
        start_ms: int | None = None,
    ) -> None:
        if grace_ms < 0:
            raise ConfigError(f"bad grace of {grace_ms} ms: use 0 or more")
        self.symbol = symbol
        self.timeframe = canonical(timeframe)
        self.tf_ms = parse_timeframe(timeframe)
        self.grace_ms = int(grace_ms)
        self.offset_ms = int(offset_ms)
        self.stats = AggregatorStats()
        self._owned_from = _NEVER
        self._last_arrival: int | None = None
        self._last_ids: set[str] = set()
        self._last_start = _NEVER
        self._clear(_NEVER)
        if start_ms is not None:
            self.reset_after(start_ms)

    # --- state ------------------------------------------------------------------------------
    def _clear(self, watermark: int) -> None:
        """No bucket open; trades stamped before `watermark` are late."""
        self._open = False
        self._start = self._end = watermark
        self._ids: set[str] = set()
        self._o = self._h = self._l = self._c = self._v = 0.0
        self._o_ts = self._c_ts = 0
        self._next_clock = watermark + self.tf_ms + self.grace_ms if watermark > _NEVER else _NEVER

    def _floor(self, ts: int) -> int:
        return floor_ts(ts, self.tf_ms, self.offset_ms)

    def _emit(self) -> Bar:
        bar = Bar(
            self.symbol, self.timeframe, self._start, self._o, self._h, self._l, self._c, self._v
        )
        self.stats.bars += 1
        self._last_ids, self._last_start = self._ids, self._start
        self._clear(self._end)
        return bar

    # --- feeding ----------------------------------------------------------------------------
    def add(self, trade: Trade, now_ms: int) -> list[Bar]:
        """Take one trade received at clock time `now_ms`; return the bar it closed, if any."""
        out = self.tick(now_ms) if now_ms >= self._next_clock else []
        self._last_arrival = now_ms
        ts = trade.timestamp_ms
        if ts >= self._end:
            if self._open:
                out.append(self._emit())
            self._start = self._floor(ts)
            self._end = self._start + self.tf_ms
            self._open = True
            self._o = self._h = self._l = self._c = trade.price
            self._o_ts = self._c_ts = ts
            self._v = trade.amount
            self._next_clock = self._end + self.grace_ms
        elif ts >= self._start and self._open:
            if trade.id and trade.id in self._ids:
                self.stats.duplicates += 1
                return out
            price = trade.price
            self._h = price if price > self._h else self._h
            self._l = price if price < self._l else self._l
            if ts < self._o_ts:
                self._o, self._o_ts = price, ts
            if ts >= self._c_ts:
                self._c, self._c_ts = price, ts
            self._v += trade.amount
        else:
            self._refuse(trade)
            return out
        if trade.id:
            self._ids.add(trade.id)
        self.stats.trades += 1
        return out

    def _refuse(self, trade: Trade) -> None:
        """A trade for a closed bucket: a repeat of the last bar's, before the owned range, or late."""
        if trade.id and trade.timestamp_ms >= self._last_start and trade.id in self._last_ids:
            self.stats.duplicates += 1
        elif trade.timestamp_ms < self._owned_from:
            self.stats.skipped += 1
        else:
            self.stats.late_dropped += 1

    def tick(self, now_ms: int) -> list[Bar]:
        """Close by the wall clock: every bucket ending at or before ``now_ms - grace_ms``."""
        edge = self._floor(now_ms - self.grace_ms)
        out = [self._emit()] if self._open and self._end <= edge else []
        if not self._open and edge > self._start:
            self._clear(edge)
        return out

    # --- gaps -------------------------------------------------------------------------------
    def discard_partial(self) -> int | None:
        """Drop the forming bar (its trades are incomplete); return its open time, if any."""
        start = self._start if self._open else None
        if self._open:
            self._clear(self._start)
        return start

    def reset_after(self, ts_ms: int) -> int:
        """Own only buckets from the first boundary at or after `ts_ms`; return that boundary.

        Trades stamped earlier are ignored (``skipped``): a REST backfill provides those bars.
        """
        owned = ceil_ts(int(ts_ms), self.tf_ms, self.offset_ms)
        self._owned_from = owned
        self._clear(owned)
        return owned

    def resume(self, now_ms: int) -> tuple[int, int]:
        """After a reconnect at `now_ms`: drop the partial bar, own buckets from the next
        boundary, and return ``[start, end)``: the bars to fetch by REST once ``end`` has passed.

        ``start`` is the bucket of the last trade heard before the drop (or of the dropped bar,
        if earlier): a bar emitted by the clock while the socket was silently dead may be short,
        and the backfill overwrites it (sinks keep one row per key).
        """
        dropped = self.discard_partial()
        if self._last_arrival is not None:
            start = self._floor(self._last_arrival)
        elif self._owned_from > _NEVER:
            start = self._owned_from
        else:
            start = self._floor(now_ms)
        if dropped is not None:
            start = min(start, dropped)
        end = self.reset_after(now_ms)
        return min(start, end), end


class TradeAggregators:
    """One `TradeAggregator` per symbol at one timeframe, created on a symbol's first trade."""

    def __init__(
        self,
        timeframe: str,
        *,
        grace_ms: int = 1500,
        offset_ms: int = 0,
        start_ms: int | None = None,
    ) -> None:
        parse_timeframe(timeframe)  # a bad timeframe fails here, not at the first trade
        self._settings = (timeframe, grace_ms, offset_ms, start_ms)
        self.by_symbol: dict[str, TradeAggregator] = {}

    def get(self, symbol: str) -> TradeAggregator:
        found = self.by_symbol.get(symbol)
        if found is None:
            timeframe, grace_ms, offset_ms, start_ms = self._settings
            found = TradeAggregator(
                symbol, timeframe, grace_ms=grace_ms, offset_ms=offset_ms, start_ms=start_ms
            )
            self.by_symbol[symbol] = found
        return found

    def add_many(self, trades: Iterable[Trade], now_ms: int) -> list[Bar]:
        """Take a batch (what one ccxt.pro `watch_trades` call returns), received at `now_ms`."""
        out: list[Bar] = []
        for trade in trades:
            out.extend(self.get(trade.symbol).add(trade, now_ms))
        return out

    def tick(self, now_ms: int) -> list[Bar]:
        return [bar for agg in self.by_symbol.values() for bar in agg.tick(now_ms)]

    def stats(self) -> AggregatorStats:
        """The counters of every symbol, summed."""
        total = AggregatorStats()
        for agg in self.by_symbol.values():
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(agg.stats, name))
        return total


# --- batch ----------------------------------------------------------------------------------
@njit(cache=True)
def trades_to_bars_nb(ts, price, amount, tf_ms, anchor=0):
    """Trades sorted by time (ties keep arrival order) → OHLCV of each non-empty bucket.

    pandas: ``DataFrame({'price': price, 'amount': amount}, index=ts).resample(tf, closed='left',
    label='left', origin=anchor).agg({'price': ['first', 'max', 'min', 'last'], 'amount':
    'sum'})`` with empty buckets dropped. Two passes (count, then fill) so a day of trades
    allocates only the bars. Returns ``(open_time, o, h, l, c, v, bad)``; ``bad`` is -1, or the
    first row whose timestamp goes back in time (then the arrays are empty).
    """
    n = ts.size
    buckets, end = 0, 0
    for i in range(n):
        if i and ts[i] < ts[i - 1]:
            empty = np.empty(0, np.float64)
            return np.empty(0, np.int64), empty, empty, empty, empty, empty, i
        if i == 0 or ts[i] >= end:
            end = ts[i] - (ts[i] - anchor) % tf_ms + tf_ms
            buckets += 1
    out_ts = np.empty(buckets, np.int64)
    o, h = np.empty(buckets, np.float64), np.empty(buckets, np.float64)
    lo, c = np.empty(buckets, np.float64), np.empty(buckets, np.float64)
    v = np.empty(buckets, np.float64)
    k, i = 0, 0
    while i < n:
        start = ts[i] - (ts[i] - anchor) % tf_ms
        end = start + tf_ms
        hi, low, vol = price[i], price[i], amount[i]
        j = i + 1
        while j < n and ts[j] < end:
            hi = max(hi, price[j])
            low = min(low, price[j])
            vol += amount[j]
            j += 1
        out_ts[k], o[k], h[k], lo[k], c[k], v[k] = start, price[i], hi, low, price[j - 1], vol
        i, k = j, k + 1
    return out_ts, o, h, lo, c, v, -1


def trades_to_bars(
    ts: np.ndarray, price: np.ndarray, amount: np.ndarray, timeframe: str, offset_ms: int = 0
) -> dict[str, np.ndarray]:
    """Arrays of one symbol's trades → ``timestamp_ms, open, high, low, close, volume`` arrays.

    Unsorted input is sorted first (stable, so equal stamps keep their order).
    """
    tf_ms = parse_timeframe(timeframe)
    anchor = bucket_anchor(tf_ms, offset_ms) % tf_ms
    stamps = np.ascontiguousarray(ts, dtype=np.int64)
    prices = np.ascontiguousarray(price, dtype=np.float64)
    amounts = np.ascontiguousarray(amount, dtype=np.float64)
    *arrays, bad = trades_to_bars_nb(stamps, prices, amounts, tf_ms, anchor)
    if bad != -1:
        order = np.argsort(stamps, kind="stable")
        *arrays, bad = trades_to_bars_nb(
            stamps[order], prices[order], amounts[order], tf_ms, anchor
        )
    names = ("timestamp_ms", "open", "high", "low", "close", "volume")
    return dict(zip(names, arrays, strict=True))


def bars_from_trades(trades: Sequence[Trade], timeframe: str, offset_ms: int = 0) -> list[Bar]:
    """Replay a recorded trades list (any symbols) into bars, all buckets closed, repeats dropped."""
    timeframe = canonical(timeframe)
    by_symbol: dict[str, list[Trade]] = {}
    seen: set[tuple[str, str]] = set()
    for trade in trades:
        if trade.id:
            if (trade.symbol, trade.id) in seen:
                continue
            seen.add((trade.symbol, trade.id))
        by_symbol.setdefault(trade.symbol, []).append(trade)
    out: list[Bar] = []
    for symbol, rows in sorted(by_symbol.items()):
        ts = np.fromiter((t.timestamp_ms for t in rows), np.int64, len(rows))
        price = np.fromiter((t.price for t in rows), np.float64, len(rows))
        amount = np.fromiter((t.amount for t in rows), np.float64, len(rows))
        arrays = trades_to_bars(ts, price, amount, timeframe, offset_ms)
        columns = [arrays[name].tolist() for name in arrays]
        out.extend(Bar(symbol, timeframe, *values) for values in zip(*columns, strict=True))
    return out
