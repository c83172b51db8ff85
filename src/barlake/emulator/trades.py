"""The trade tape: deterministic public trades that add up to the 1m truth exactly.

Every minute with volume gets `n` trades: the first at the bar's open, the high and the low
both traded, the last at the close; quantities are integer lots summing to the bar's
volume; times are strictly increasing inside the minute. So bars aggregated from the tape
equal `Market.minutes` (and `emu.bars`) with float `==`. Minutes without volume have no
trades; their bar is flat at the previous close (fill it that way when aggregating).

`n` is the bar's trade count, raised to the number of anchor prices it must hit and capped
at `cap` (60 a minute by default), so a kline's `n` equals `L - f + 1` unless capped.

Trade ids increase by one per trade within a UTC month and jump at each month start
(`month_index · 10^8 + 1 …`): any trade's id is found without replaying history.
`m` (buyer is maker) follows the tick rule: a downtick is a sell taking a resting bid.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from barlake.emulator.candles import floor_open, shift_open
from barlake.emulator.market import Bars, Forming, MarketBook, stable_seed
from barlake.timeframes import DAY_MS, MINUTE_MS, floor_ts

ID_MONTH = 10**8  # ids of one month: month_index · ID_MONTH + 1 …
MAX_CAP = 2000  # 44 640 minutes · 2000 < ID_MONTH
CACHED_MINUTES = 4096
SCAN_MS = 3_600_000  # REST scans the tape an hour at a time
SHORT_MS = 3 * MINUTE_MS  # spans read minute by minute from the cache


@dataclass(frozen=True)
class Trades:
    """Trades as integers: prices in ticks, quantities in lots; oldest first."""

    ids: np.ndarray
    times: np.ndarray
    prices: np.ndarray
    qtys: np.ndarray
    buyer_maker: np.ndarray
    price_decimals: int
    qty_decimals: int

    ARRAYS = ("ids", "times", "prices", "qtys", "buyer_maker")

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: slice | np.ndarray) -> Trades:
        return replace(self, **{name: getattr(self, name)[index] for name in self.ARRAYS})

    def rows(self) -> Iterator[tuple[int, int, int, int, bool]]:
        """(id, time, price, qty, buyer_maker) per trade as Python values, for the wire."""
        columns = (self.ids, self.times, self.prices, self.qtys, self.buyer_maker)
        return zip(*(column.tolist() for column in columns), strict=True)

    @classmethod
    def concat(cls, parts: list[Trades], price_decimals: int, qty_decimals: int) -> Trades:
        arrays = {
            name: np.concatenate([getattr(p, name) for p in parts])
            if parts
            else np.empty(0, bool if name == "buyer_maker" else np.int64)
            for name in cls.ARRAYS
        }
        return cls(**arrays, price_decimals=price_decimals, qty_decimals=qty_decimals)

    def to_table(self) -> pa.Table:
        """id, timestamp_ms, price, amount (floats equal to the wire text), side of the taker."""
        return pa.table(
            {
                "id": pa.array(self.ids, pa.int64()),
                "timestamp_ms": pa.array(self.times, pa.int64()),
                "price": pa.array(self.prices / 10.0**self.price_decimals),
                "amount": pa.array(self.qtys / 10.0**self.qty_decimals),
                "side": pa.array(np.where(self.buyer_maker, "sell", "buy")),
            }
        )


def anchors(o: int, h: int, lo: int, c: int) -> list[int]:
    """Prices a minute must trade, in order: open, the nearer-looking extreme, the other,
    close (an up bar dips first, a down bar spikes first); repeats next to each other merge."""
    path = [o, lo, h, c] if c >= o else [o, h, lo, c]
    return [p for i, p in enumerate(path) if i == 0 or p != path[i - 1]]


def trade_counts(bars: Bars, cap: int) -> np.ndarray:
    """Trades per minute: the bar's count, at least its anchors, at most `cap` and the lots."""
    up = bars.close >= bars.open
    first = np.where(up, bars.low, bars.high)
    second = np.where(up, bars.high, bars.low)
    need = 1 + (first != bars.open) + (second != first) + (bars.close != second)
    n = np.maximum(np.minimum(bars.trades, cap), need)
    return np.where(bars.volume > 0, np.minimum(n, bars.volume), 0).astype(np.int64)


def minute_trades(bar: Bars, n: int, first_id: int, seed: int) -> Trades:
    """The `n` trades of a one-row `bar` (see the module docstring for the rules)."""
    rng = np.random.default_rng([seed, int(bar.open_ms[0]) // MINUTE_MS, 11])
    points = anchors(int(bar.open[0]), int(bar.high[0]), int(bar.low[0]), int(bar.close[0]))
    if n < len(points):  # fewer lots than anchors: keep the open and the close
        points = points[: max(n - 1, 1)] + ([points[-1]] if n > 1 else [])
    k = len(points)
    inner = rng.choice(np.arange(1, n - 1), k - 2, replace=False) if k > 2 else np.empty(0, int)
    at = np.concatenate(([0], np.sort(inner), [n - 1])) if k > 1 else np.zeros(1, int)
    segment = np.clip(np.searchsorted(at, np.arange(n), side="right") - 1, 0, len(points) - 1)
    start = np.array(points)[segment]
    end = np.array(points)[np.minimum(segment + 1, len(points) - 1)]
    low, high = np.minimum(start, end), np.maximum(start, end)
    prices = low + (rng.random(n) * (high - low + 1)).astype(np.int64)
    prices[at] = points
    offsets = np.sort(rng.choice(MINUTE_MS, n, replace=False)).astype(np.int64)
    step = np.diff(prices, prepend=prices[0])
    maker = np.where(step == 0, rng.random(n) < 0.5, step < 0)
    return Trades(
        ids=first_id + np.arange(n, dtype=np.int64),
        times=bar.open_ms[0] + offsets,
        prices=prices.astype(np.int64),
        qtys=split_lots(int(bar.volume[0]), n, rng),
        buyer_maker=maker,
        price_decimals=bar.price_decimals,
        qty_decimals=bar.qty_decimals,
    )


def split_lots(total: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` positive integers summing to `total` (≥ n), sizes drawn from an exponential."""
    weights = rng.exponential(1.0, n)
    share = (total - n) * weights / weights.sum()
    lots = np.floor(share).astype(np.int64)
    short = (total - n) - int(lots.sum())
    lots[np.argsort(lots - share)[:short]] += 1  # largest remainders first
    return lots + 1


class Tape:
    """The trades of every market of one venue; minutes are built on demand and cached."""

    def __init__(self, book: MarketBook, cap: int = 60) -> None:
        if not 1 <= cap <= MAX_CAP:
            raise ValueError(f"trade cap must be in 1..{MAX_CAP}, got {cap}")
        self.book = book
        self.cap = cap
        self._minutes: OrderedDict[tuple[str, int], Trades] = OrderedDict()
        self._months: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()

    def minute(self, symbol: str, minute_ms: int) -> Trades:
        """All trades of the minute opening at `minute_ms`, whatever the clock says."""
        key = (symbol, minute_ms)
        with self._lock:
            cached = self._minutes.get(key)
            if cached is not None:
                self._minutes.move_to_end(key)
                return cached
        trades = self._build(symbol, minute_ms)
        with self._lock:
            self._minutes[key] = trades
            if len(self._minutes) > CACHED_MINUTES:
                self._minutes.popitem(last=False)
        return trades

    def between(self, symbol: str, start_ms: int, end_ms: int) -> Trades:
        """Trades with time in [start_ms, end_ms), oldest first, ignoring the clock."""
        first = floor_ts(start_ms, MINUTE_MS)
        if end_ms - first <= SHORT_MS:  # the push loops' case: straight from the cache
            minutes = range(first, end_ms, MINUTE_MS)
        else:
            bars = self.book.get(symbol).minutes(first, end_ms)
            minutes = bars.open_ms[bars.volume > 0].tolist()
        joined = self._join(symbol, [self.minute(symbol, m) for m in minutes])
        return joined.take((joined.times >= start_ms) & (joined.times < end_ms))

    def happened(self, symbol: str, start_ms: int, end_ms: int) -> Trades:
        """Trades in [start_ms, end_ms) that the clock has reached (time ≤ now)."""
        return self.between(symbol, start_ms, min(end_ms, self.book.clock() + 1))

    def forward(
        self, symbol: str, start_ms: int, end_ms: int, limit: int, first_id: int = 0
    ) -> Trades:
        """The oldest `limit` trades with time in [start_ms, end_ms) and id ≥ first_id."""
        found: list[Trades] = []
        count, cursor = 0, start_ms
        while count < limit and cursor < end_ms:
            chunk = self.between(symbol, cursor, min(cursor + SCAN_MS, end_ms))
            chunk = chunk.take(chunk.ids >= first_id).take(slice(0, limit - count))
            found.append(chunk)
            count += len(chunk)
            cursor += SCAN_MS
        return self._join(symbol, found)

    def backward(self, symbol: str, end_ms: int, limit: int, start_ms: int) -> Trades:
        """The newest `limit` trades with time in [start_ms, end_ms), oldest first."""
        found: list[Trades] = []
        count, cursor = 0, end_ms
        while count < limit and cursor > start_ms:
            chunk = self.between(symbol, max(cursor - SCAN_MS, start_ms), cursor)
            chunk = chunk.take(slice(max(len(chunk) - (limit - count), 0), None))
            found.insert(0, chunk)
            count += len(chunk)
            cursor -= SCAN_MS
        return self._join(symbol, found)

    def from_id(self, symbol: str, first_id: int, limit: int, end_ms: int) -> Trades:
        """Up to `limit` trades with id ≥ `first_id` and time < end_ms, oldest first."""
        month = (max(first_id, 1) - 1) // ID_MONTH
        start = shift_open(0, "1M", month)
        opens, before = self._month_counts(symbol, start)
        offset = first_id - month * ID_MONTH - 1
        index = int(np.searchsorted(before, offset, side="right")) - 1
        cursor = int(opens[index]) if 0 <= index < len(opens) else start
        return self.forward(symbol, cursor, end_ms, limit, first_id)

    def partial(self, symbol: str, now_ms: int) -> Bars:
        """The minute holding `now_ms` as traded so far: OHLCV from the tape up to now; trade
        count, quote and taker volumes scaled from the bar so they end at the bar's values."""
        minute = floor_ts(now_ms, MINUTE_MS)
        bar = self.book.get(symbol).minutes(minute, minute + MINUTE_MS)
        if not len(bar) or bar.volume[0] == 0:
            return bar
        trades = self.minute(symbol, minute)
        done = trades.take(trades.times <= now_ms)
        o = int(bar.open[0])
        prices = np.concatenate(([o], done.prices))
        volume = int(done.qtys.sum())
        total = int(bar.volume[0])

        def scaled(column: np.ndarray) -> np.ndarray:
            return column * volume // total

        return replace(
            bar, high=np.array([prices.max()]), low=np.array([prices.min()]),
            close=np.array([prices[-1]]), volume=np.array([volume], np.int64),
            trades=bar.trades * len(done) // len(trades), quote_volume=scaled(bar.quote_volume),
            taker_volume=scaled(bar.taker_volume),
            taker_quote_volume=scaled(bar.taker_quote_volume),
        )  # fmt: skip

    def forming(self, symbol: str) -> Forming:
        """`partial` of one symbol: the forming-minute source `Market.live` and `window` take."""
        return lambda now_ms: self.partial(symbol, now_ms)

    def last_price(self, symbol: str, now_ms: int) -> int | None:
        """Ticks of the last trade at or before now (within a day), None if nothing traded."""
        recent = self.between(symbol, now_ms - SHORT_MS + MINUTE_MS, now_ms + 1)
        if len(recent):
            return int(recent.prices[-1])
        bars = self.book.get(symbol).minutes(now_ms - DAY_MS, floor_ts(now_ms, MINUTE_MS))
        return int(bars.close[-1]) if len(bars) else None

    def _join(self, symbol: str, parts: list[Trades]) -> Trades:
        spec = self.book.get(symbol).spec
        return Trades.concat(parts, spec.price_decimals, spec.qty_decimals)

    def _build(self, symbol: str, minute_ms: int) -> Trades:
        market = self.book.get(symbol)
        spec = market.spec
        bar = market.minutes(minute_ms, minute_ms + MINUTE_MS)
        n = int(trade_counts(bar, self.cap)[0]) if len(bar) else 0
        if n == 0:
            return Trades.concat([], spec.price_decimals, spec.qty_decimals)
        month = floor_open(minute_ms, "1M")
        opens, before = self._month_counts(symbol, month)
        index = int(np.searchsorted(opens, minute_ms))
        first_id = _month_index(month) * ID_MONTH + int(before[index]) + 1
        return minute_trades(bar, n, first_id, stable_seed("tape", market.venue, symbol))

    def _month_counts(self, symbol: str, month_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """Open times of the month's minutes and the trades before each (exclusive sums)."""
        key = (symbol, month_ms)
        with self._lock:
            cached = self._months.get(key)
        if cached is None:
            bars = self.book.get(symbol).minutes(month_ms, shift_open(month_ms, "1M", 1))
            counts = trade_counts(bars, self.cap)
            cached = (bars.open_ms, np.cumsum(counts) - counts)
            with self._lock:
                self._months[key] = cached
        return cached


def _month_index(month_ms: int) -> int:
    return int(np.datetime64(month_ms, "ms").astype("datetime64[M]").astype(np.int64))
